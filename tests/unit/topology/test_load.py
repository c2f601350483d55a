"""Loading topology files: every error is one line naming the file and the field."""

import textwrap

import pytest

from testbed.errors import InputError
from testbed.topology.load import list_topologies, load_topology

BASE = """
name: t
ases:
  - {name: ta, asn: 65001, role: transit}
  - {name: tb, asn: 65002, role: transit}
  - {name: anycast, asn: 64500, role: anycast}
  - {name: isp, asn: 64512, role: eyeball}
links:
  - {a: ta, b: tb}
  - {a: isp, b: ta}
sites:
  - {name: s1, upstream: ta}
clients:
  - {name: c1, as: isp}
"""


def write(tmp_path, text):
    path = tmp_path / "topo.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_base_loads(tmp_path):
    topo = load_topology(write(tmp_path, BASE))
    assert [a.name for a in topo.ases] == ["ta", "tb", "anycast", "isp"]


@pytest.mark.parametrize(
    "old,new,field,message",
    [
        ("{a: ta, b: tb}", "{a: ta, b: tx}", "links[0].b", "no router or AS called 'tx'"),
        ("{a: ta, b: tb}", "{a: ta, b: tb, delay: soon}", "links[0].delay", "must be a duration"),
        ("{a: ta, b: tb}", "{a: ta, b: tb, colour: red}", "links[0].colour", "unknown field"),
        ("{a: ta, b: tb}", "{a: ta, b: ta}", "links[0]", "two different routers"),
        ("{name: tb, asn: 65002", "{name: tb, asn: 65001", "ases[1].asn", "also used by 'ta'"),
        ("{name: tb, asn: 65002", "{name: ta, asn: 65009", "ases[1].name", "used twice"),
        (
            "{name: tb, asn: 65002, role: transit}",
            "{name: tb, role: transit}",
            "ases[1].asn",
            "required field is missing",
        ),
        (
            "role: transit}\n  - {name: anycast",
            "role: core}\n  - {name: anycast",
            "ases[1].role",
            "'transit', 'eyeball' or 'anycast'",
        ),
        ("{name: c1, as: isp}", "{name: c1, as: ta}", "clients[0].as", "not 'eyeball'"),
        ("{name: c1, as: isp}", "{name: ta, as: isp}", "clients[0].name", "already used"),
        (
            "{name: s1, upstream: ta}",
            "{name: s1, upstream: nowhere}",
            "sites[0].upstream",
            "'nowhere'",
        ),
        (
            "{name: s1, upstream: ta}",
            "{name: s1, upstream: ta, service: 198.51.100.1}",
            "sites[0].service",
            "not inside prefix 192.0.2.0/24",
        ),
        (
            "{name: s1, upstream: ta}",
            "{name: longsite1, upstream: ta}",
            "sites[0].name",
            "at most 8 characters",
        ),
        ("{name: c1, as: isp}", "{name: Paris, as: isp}", "clients[0].name", "should match"),
        (
            "{name: s1, upstream: ta}",
            "{name: s1, upstream: ta}\n  - {name: s2, upstream: tb, service: 192.0.2.54}",
            "sites[1].service",
            "192.0.2.54 differs from sites[0].service 192.0.2.53",
        ),
        (
            "{name: s1, upstream: ta}",
            "{name: s1, upstream: ta}\n"
            "  - {name: s2, upstream: tb, prefix: 198.51.100.0/24, service: 198.51.100.53}",
            "sites[1].prefix",
            "198.51.100.0/24 differs from sites[0].prefix 192.0.2.0/24",
        ),
        ("name: t\n", "name: t\nbgp: {keepalive: 5, hold: 6}\n", "bgp", "at least 3 x keepalive"),
    ],
)
def test_errors_name_file_field_and_problem(tmp_path, old, new, field, message):
    assert old in BASE, old
    path = write(tmp_path, BASE.replace(old, new, 1))
    with pytest.raises(InputError) as info:
        load_topology(path)
    text = str(info.value)
    assert text.startswith(f"{path}: {field}: "), text
    assert message in text
    assert "\n" not in text


def test_session_without_a_link(tmp_path):
    path = write(tmp_path, BASE + "sessions:\n  - {a: isp, b: tb, prepend: 2}\n")
    with pytest.raises(InputError, match=r"sessions\[0\]: there is no link between 'isp' and 'tb'"):
        load_topology(path)


def test_routers_of_one_as_must_be_meshed(tmp_path):
    text = BASE.replace(
        "{name: ta, asn: 65001, role: transit}",
        "{name: ta, asn: 65001, role: transit, routers: [ta1, ta2]}",
    )
    text = text.replace("{a: ta, b: tb}", "{a: ta1, b: tb}")
    with pytest.raises(InputError, match=r"ases\[0\].routers: .*link between 'ta1' and 'ta2'"):
        load_topology(write(tmp_path, text))


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, "name: t\nases: [\n  {name: x\n")
    with pytest.raises(InputError, match=r"topo.yaml: line \d+: YAML syntax error"):
        load_topology(path)


def test_not_a_mapping(tmp_path):
    with pytest.raises(InputError, match="must hold a mapping"):
        load_topology(write(tmp_path, "- just\n- a list\n"))


def test_missing_file_and_unknown_name(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_topology(str(tmp_path / "absent.yaml"))
    with pytest.raises(InputError, match="no topology 'atlantis'"):
        load_topology("atlantis")


def test_shipped_topologies_load_and_are_listed():
    names = [n for n, _ in list_topologies()]
    assert {"world", "two-sites", "chain:N", "clique:N"} <= set(names)
    for name in ("world", "two-sites"):
        assert load_topology(name).name == name
    assert all(desc for _, desc in list_topologies())


def test_world_has_the_documented_names():
    topo = load_topology("world")
    transit = [a.name for a in topo.ases if a.role == "transit"]
    assert transit == ["na", "eu", "asia", "sa"]
    assert {s.name: s.upstream for s in topo.sites} == {
        "nyc": "na",
        "lon": "eu",
        "tyo": "asia",
        "gru": "sa",
    }
    assert [c.name for c in topo.clients] == [
        "newyork",
        "losangeles",
        "paris",
        "frankfurt",
        "tokyo",
        "singapore",
        "sydney",
        "saopaulo",
    ]
    assert {str(s.prefix) for s in topo.sites} == {"192.0.2.0/24"}
    assert {str(s.service) for s in topo.sites} == {"192.0.2.53"}
    pairs = {frozenset((link.a, link.b)) for link in topo.links}
    for i, a in enumerate(transit):
        for b in transit[i + 1 :]:
            assert frozenset((a, b)) in pairs, f"{a}-{b} missing from the transit mesh"


# ------------------------------------------------------- per-session timers
def with_sessions(sessions: str, bgp: str = "") -> str:
    """BASE with these ``sessions:`` entries (and a ``bgp:`` line)."""
    return textwrap.dedent(BASE) + "sessions:\n" + sessions + bgp


@pytest.mark.parametrize(
    ("bgp", "sessions", "message"),
    [
        (
            "",
            "  - {a: ta, b: tb, timers: {keepalive: 30}}\n",
            "sessions[0].timers: hold (3) must be at least 3 x keepalive (30) "
            "(keepalive from sessions[0].timers, hold from bgp)",
        ),
        (
            "bgp: {keepalive: 10, hold: 30}\n",
            "  - {a: ta, b: tb, timers: {hold: 20}}\n",
            "sessions[0].timers: hold (20) must be at least 3 x keepalive (10) "
            "(keepalive from bgp, hold from sessions[0].timers)",
        ),
        (
            "",
            "  - {a: ta, b: tb, timers: {keepalive: 5, hold: 9}}\n",
            "sessions[0].timers: hold (9) must be at least 3 x keepalive (5) "
            "(keepalive from sessions[0].timers, hold from sessions[0].timers)",
        ),
        (  # each fine alone; end ta takes tb -> ta's hold, then its own keepalive
            "",
            "  - {a: ta, b: tb, timers: {keepalive: 20, hold: 60}}\n"
            "  - {a: tb, b: ta, timers: {hold: 30}}\n",
            "sessions[0].timers: hold (30) must be at least 3 x keepalive (20) "
            "(keepalive from sessions[0].timers, hold from sessions[1].timers)",
        ),
    ],
)
def test_merged_session_timers_obey_the_hold_rule(tmp_path, bgp, sessions, message):
    text = with_sessions(sessions, bgp)
    with pytest.raises(InputError) as info:
        load_topology(write(tmp_path, text))
    assert str(info.value) == f"{tmp_path / 'topo.yaml'}: {message}"


def test_merged_session_timers_that_fit_load(tmp_path):
    from testbed.topology.plan import make_plan

    sessions = "  - {a: ta, b: tb, timers: {keepalive: 10, hold: 30}}\n"
    text = with_sessions(sessions)
    topo = load_topology(write(tmp_path, text))
    timers = {n.peer: n.timers for n in make_plan(topo).routers["ta"].neighbors}
    assert (timers["tb"].keepalive, timers["tb"].hold) == (10, 30)
    assert (timers["isp"].keepalive, timers["isp"].hold) == (1, 3)
