"""Loading scenario files: shipped ones validate, every error is one line naming file and field."""

import textwrap

import pytest

from testbed.errors import InputError
from testbed.scenario.effective import effective_topology
from testbed.scenario.load import (
    DEFAULT_SCENARIO,
    list_scenarios,
    load_scenario,
    scenario_topology,
)
from testbed.scenario.model import FailSite, MaxOutage, Restore, TcpReset
from testbed.scenario.overrides import parse_overrides
from testbed.topology.load import load_topology, parse_topology

SHIPPED = [
    "site-failure",
    "silent-failure",
    "blackhole",
    "maintenance",
    "te-shift",
    "flap",
    "two-sites-failover",
]

BASE = """
name: x
description: a test scenario
duration: 60
timeline:
  - {at: 15, event: fail_site, site: lon, how: link-down}
  - {at: 40, event: restore, site: lon}
expect:
  - {check: max_outage, clients: moved, below: 3}
"""


def write(tmp_path, text):
    path = tmp_path / "scen.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def error(tmp_path, text, sets=()):
    """The one-line message of loading ``text`` (and its topology)."""
    with pytest.raises(InputError) as info:
        loaded = load_scenario(write(tmp_path, text), sets)
        scenario_topology(loaded)
    message = str(info.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------ shipped
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_load_and_validate_against_their_topology(name):
    loaded = load_scenario(name)
    sc = loaded.scenario
    assert sc.name == name
    assert sc.description and "\n" not in sc.description
    assert loaded.source == f"scenarios/{name}.yaml"
    topo = scenario_topology(loaded)
    assert topo.name == load_topology(sc.topology).name
    assert (topo.bgp.keepalive, topo.bgp.hold) == (1, 3)
    assert sc.timeline and sc.expect
    assert sc.duration <= 60


def test_shipped_scenarios_are_listed_with_descriptions():
    listed = dict(list_scenarios())
    assert set(SHIPPED) <= set(listed)
    assert all(listed[name] for name in SHIPPED)
    assert DEFAULT_SCENARIO == "site-failure"


def test_default_scenario_fails_the_busiest_site():
    sc = load_scenario().scenario
    assert sc.topology == "world" and sc.duration == 60
    fail, restore = sc.timeline
    assert isinstance(fail, FailSite) and (fail.at, fail.site, fail.how) == (
        15,
        "busiest",
        "link-down",
    )
    assert isinstance(restore, Restore) and restore.at == 40
    kinds = [type(c) for c in sc.expect]
    assert kinds == [MaxOutage, TcpReset, TcpReset]


def test_two_sites_failover_runs_on_two_sites():
    loaded = load_scenario("two-sites-failover")
    assert loaded.topology_ref == "two-sites"
    assert [s.name for s in scenario_topology(loaded).sites] == ["east", "west"]


def test_defaults(tmp_path):
    sc = load_scenario(write(tmp_path, BASE)).scenario
    t = sc.traffic
    assert (t.dns_rate, t.dns_timeout, t.tcp_streams) == (20, 1.0, 2)
    assert (t.tcp_interval, t.tcp_timeout, t.tcp_port) == (0.2, 3.0, 8053)
    assert sc.settle == 5 and sc.topology == "world"
    assert sc.bgp.given() == {}


# ------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "old,new,expected",
    [
        (
            "event: fail_site",
            "event: explode",
            "timeline[0].event: unknown event 'explode' (one of fail_site, kill_service, "
            "withdraw, restore, prepend, med, set_communities, link, backend, attack_start, "
            "attack_stop)",
        ),
        (
            "how: link-down",
            "how: crash",
            "timeline[0].how: must be one of link-down, silent, router-crash (got 'crash')",
        ),
        ("at: 40", "at: 75", "timeline[1].at: must be less than duration (60 s) (got 75)"),
        (
            "at: 40",
            "at: 10",
            "timeline[1].at: events must be in time order: 10 s comes after 15 s (timeline[0])",
        ),
        (
            "lon",
            "ams",
            "timeline[0].site: no site 'ams' in topology 'world' (sites: nyc, lon, tyo, gru, "
            "or busiest)",
        ),
        (
            "restore, site: lon",
            "restore, site: nyc",
            "timeline[1].site: nothing to restore: no earlier event on site 'nyc'",
        ),
        ("description:", "colour: red\ndescription:", "colour: unknown field"),
        (
            "clients: moved",
            "clients: moovd",
            "expect[0].clients: must be one of moved, unmoved, affected, unaffected, all "
            "or a list of client names (got 'moovd')",
        ),
        (
            "clients: moved",
            "clients: [paris, gotham]",
            "expect[0].clients[1]: no client 'gotham' in topology 'world' (clients: newyork, "
            "losangeles, paris, frankfurt, tokyo, singapore, sydney, saopaulo)",
        ),
        (
            "{check: max_outage",
            "{check: min_outage",
            "expect[0].check: unknown check 'min_outage' (one of moves, stays, max_outage, "
            "tcp_reset, dns_loss, convergence, valley_free, legit_loss, cascade, failover, "
            "still_failing, nearest_share)",
        ),
        ("below: 3", "below: soon", "expect[0].below: Input should be a valid number"),
        ("duration: 60", "duration: 0", "duration: Input should be greater than 0 (got 0)"),
        ("duration: 60\n", "", "duration: required field is missing"),
    ],
)
def test_errors_name_file_field_and_problem(tmp_path, old, new, expected):
    assert old in BASE, old
    path = tmp_path / "scen.yaml"
    message = error(tmp_path, BASE.replace(old, new))
    assert message.startswith(f"{path}: {expected}"), message


@pytest.mark.parametrize(
    "extra,expected",
    [
        ("  - {check: moves, client: paris, after: 2}", "expect[1].after: no event 2"),
        ("  - {check: moves, client: paris, to: ams}", "expect[1].to: no site 'ams'"),
        ("  - {check: stays, client: gotham}", "expect[1].client: no client 'gotham'"),
        ("  - {check: tcp_reset, clients: all, min: 2, max: 1}", "expect[1]: min (2) is above"),
        ("  - {check: dns_loss, clients: all}", "expect[1]: give max_fraction, min_fraction"),
        ("  - {check: convergence, event: 5, below: 1}", "expect[1].event: no event 5"),
        ("  - {event: stays}", "expect[1].check: required field is missing"),
    ],
)
def test_check_errors(tmp_path, extra, expected):
    message = error(tmp_path, BASE + extra + "\n")
    assert message.startswith(f"{tmp_path / 'scen.yaml'}: {expected}"), message


@pytest.mark.parametrize(
    "event,expected",
    [
        ("{at: 1, event: link, a: na, b: eu, state: down}", None),
        ("{at: 1, event: link, a: lon, b: eu, state: blackhole}", None),
        ("{at: 1, event: link, a: paris, b: isppar, state: up}", None),
        ("{at: 1, event: link, a: na, b: isppar, state: down}", "timeline[0]: 'na' and "),
        ("{at: 1, event: link, a: na, b: mars, state: down}", "timeline[0].b: no node or AS"),
        ("{at: 1, event: link, a: na, b: eu, state: sideways}", "timeline[0].state: must be one"),
        ("{at: 1, event: prepend, site: lon, count: 11}", "timeline[0].count: Input should be"),
        ("{at: 1, event: med, site: lon}", "timeline[0].value: required field is missing"),
        ("{at: 1, event: kill_service, site: busiest, service: ftp}", "timeline[0].service"),
    ],
)
def test_link_and_other_events(tmp_path, event, expected):
    text = BASE.replace("timeline:\n", f"timeline:\n  - {event}\n")
    if expected is None:
        scenario_topology(load_scenario(write(tmp_path, text)))
    else:
        assert f"scen.yaml: {expected}" in error(tmp_path, text)


def test_busiest_is_reserved_as_a_site_name():
    topo = load_topology("two-sites")
    data = topo.model_dump(by_alias=True, exclude_unset=True, mode="json")
    data["sites"][0]["name"] = "busiest"
    with pytest.raises(InputError, match=r"^odd: sites\[0\].name: 'busiest' is a reserved word"):
        parse_topology(data, "odd")


def test_not_a_mapping_missing_and_unknown(tmp_path):
    assert "must hold a mapping" in error(tmp_path, "- a list\n")
    assert "scen.yaml: line 3: YAML syntax error" in error(tmp_path, "name: x\nduration: [\n")
    with pytest.raises(
        InputError, match=r"^nosuch: no scenario 'nosuch' \(known: [a-z, -]*blackhole"
    ):
        load_scenario("nosuch")
    with pytest.raises(InputError, match="no such file"):
        load_scenario(str(tmp_path / "absent.yaml"))


# ----------------------------------------------------------------- overrides
def test_overrides_apply_to_the_scenario(tmp_path):
    loaded = load_scenario(
        write(tmp_path, BASE),
        [
            "duration=45",
            "traffic.dns_rate=50",
            "bgp.hold=9",
            "timeline.0.at=12",
            "timeline.0.how=silent",
            "expect.0.clients=[paris, tokyo]",
        ],
    )
    sc = loaded.scenario
    assert sc.duration == 45 and sc.traffic.dns_rate == 50
    assert sc.timeline[0].at == 12 and sc.timeline[0].how == "silent"
    assert sc.expect[0].clients == ["paris", "tokyo"]
    assert sc.bgp.given() == {"hold": 9}
    assert loaded.topology_overrides == {}
    assert loaded.overrides["timeline.0.at"] == 12
    assert scenario_topology(loaded).bgp.hold == 9


def test_topology_overrides_are_returned_apart(tmp_path):
    loaded = load_scenario(
        write(tmp_path, BASE), ["speaker=frr", "topology.bfd.enabled=true", "duration=50"]
    )
    assert loaded.topology_overrides == {"speaker": "frr", "bfd.enabled": True}
    assert loaded.overrides == {"duration": 50}
    topo = scenario_topology(loaded)
    assert topo.bfd.enabled is True
    assert {s.speaker for s in topo.sites} == {"frr"}


def test_topology_name_override(tmp_path):
    text = BASE.replace("site: lon", "site: east")
    text = text.replace("clients: moved", "clients: [ca]")
    loaded = load_scenario(write(tmp_path, text), ["topology=two-sites"])
    assert scenario_topology(loaded).name == "two-sites"


@pytest.mark.parametrize(
    "item,expected",
    [
        (
            "colour=red",
            "--set: colour: unknown key (scenario keys: name, description, topology, duration, "
            "settle, traffic, bgp, bfd, health, attackers, topology_set, timeline, expect; "
            "topology keys: speaker, daemon, topology.FIELD)",
        ),
        ("traffic.dns_rat=5", "--set: traffic.dns_rat: unknown field"),
        (
            "duration=fast",
            "--set: duration: Input should be a valid number (got 'fast')",
        ),
        (
            "traffic.tcp_streams=many",
            "--set: traffic.tcp_streams: Input should be a valid integer (got 'many')",
        ),
        (
            "timeline.5.at=3",
            "--set: timeline.5.at: no timeline[5]: timeline has 2 entries, numbered from 0",
        ),
        (
            "timeline.0.how=crash",
            "--set: timeline.0.how: must be one of link-down, silent, router-crash (got 'crash')",
        ),
        ("duration.x=3", "--set: duration.x: duration is a single value, not a mapping"),
        ("noequals", "--set: expected KEY=VALUE, got 'noequals'"),
        ("bgp.keepalive=2", "--set: bgp.keepalive: hold (3) must be at least 3 x keepalive (2)"),
        ("topology.bgp.hold=2", "--set: topology.bgp.hold: Input should be greater than or equal"),
        ("topology.colour=2", "--set: topology.colour: unknown topology key"),
        ("speaker=bird", "--set: speaker: Input should be"),
        (
            "traffic.tcp_interval=5",
            "--set: traffic.tcp_interval: tcp_timeout (3) must be longer than tcp_interval (5)",
        ),
        ("expect.0.clients=[a, b", "--set: expect.0.clients: value '[a, b' is not valid YAML"),
    ],
)
def test_bad_overrides(tmp_path, item, expected):
    message = error(tmp_path, BASE, [item])
    assert message.startswith(expected), message


def test_cross_field_errors_say_which_override_was_in_force(tmp_path):
    message = error(tmp_path, BASE, ["duration=30"])
    assert message == (
        f"{tmp_path / 'scen.yaml'}: timeline[1].at: must be less than duration (30 s) (got 40) "
        "(with --set duration=30)"
    )


def test_parse_overrides_reads_yaml_scalars():
    assert parse_overrides(["a=30", "b=0.5", "c=true", "d=ryu", "e=", "f=x=y"]) == [
        ("a", 30),
        ("b", 0.5),
        ("c", True),
        ("d", "ryu"),
        ("e", None),
        ("f", "x=y"),
    ]


def test_scenario_timers_replace_session_timers():
    topo = load_topology("two-sites")
    data = topo.model_dump(by_alias=True, exclude_unset=True, mode="json")
    data["sessions"] = [{"a": "ta", "b": "tb", "timers": {"hold": 30, "keepalive": 10}}]
    topo = parse_topology(data, "t")
    loaded = load_scenario("two-sites-failover", ["bgp.hold=6", "bgp.keepalive=2"])
    eff = effective_topology(topo, loaded.scenario)
    assert (eff.bgp.keepalive, eff.bgp.hold) == (2, 6)
    assert eff.sessions[0].timers.hold is None and eff.sessions[0].timers.keepalive is None
    assert effective_topology(topo) is topo


# ------------------------------------------------- per-session timers merged
SESSION_TOPOLOGY = """
name: t
bgp: {keepalive: 1, hold: 30}
ases:
  - {name: ta, asn: 65001, role: transit}
  - {name: tb, asn: 65002, role: transit}
  - {name: anycast, asn: 64500, role: anycast}
  - {name: isp, asn: 64512, role: eyeball}
links:
  - {a: ta, b: tb}
  - {a: isp, b: ta}
sessions:
  - {a: ta, b: tb, timers: {keepalive: 10}}
sites:
  - {name: s1, upstream: ta}
clients:
  - {name: c1, as: isp}
"""


@pytest.mark.parametrize(
    ("bgp", "sets", "where"),
    [("{hold: 9}", [], "scen.yaml: bgp"), ("{hold: 30}", ["bgp.hold=12"], "--set: bgp.hold")],
)
def test_scenario_timers_checked_against_session_overrides(tmp_path, bgp, sets, where):
    (tmp_path / "t.yaml").write_text(textwrap.dedent(SESSION_TOPOLOGY))
    text = f"name: s\ntopology: t.yaml\nduration: 30\nbgp: {bgp}\n"
    hold = 12 if sets else 9
    assert error(tmp_path, text, sets).endswith(
        f"{where}: hold ({hold}) must be at least 3 x keepalive (10) "
        "(keepalive from sessions[0].timers, hold from bgp) in topology 't'"
    )
    text = "name: s\ntopology: t.yaml\nduration: 30\nbgp: {keepalive: 10}\n"
    topo = scenario_topology(load_scenario(write(tmp_path, text)))  # hold 30 = 3 x 10
    assert (topo.bgp.keepalive, topo.bgp.hold) == (10, 30)


# ------------------------------------------------- restore and busiest
WORLD_TIMELINE = """
name: x
topology: world
duration: 60
timeline:
{events}
"""


@pytest.mark.parametrize(
    ("first", "restored"),
    [
        ("{at: 15, event: fail_site, site: busiest, how: silent}", "tyo"),
        ("{at: 15, event: kill_service, site: tyo}", "busiest"),
        ("{at: 15, event: withdraw, site: busiest}", "busiest"),
    ],
)
def test_restore_may_name_the_site_busiest_turns_out_to_be(tmp_path, first, restored):
    events = f"  - {first}\n  - {{at: 40, event: restore, site: {restored}}}"
    loaded = load_scenario(write(tmp_path, WORLD_TIMELINE.format(events=events)))
    assert scenario_topology(loaded).name == "world"
    assert loaded.scenario.timeline[1].site == restored


def test_restore_with_nothing_before_it_on_that_site_or_busiest(tmp_path):
    events = ["{at: 15, event: fail_site, site: lon}", "{at: 40, event: restore, site: tyo}"]
    text = WORLD_TIMELINE.format(events="\n".join(f"  - {e}" for e in events))
    assert error(tmp_path, text).endswith(
        "scen.yaml: timeline[1].site: nothing to restore: no earlier event on site 'tyo' "
        "or on 'busiest'"
    )
