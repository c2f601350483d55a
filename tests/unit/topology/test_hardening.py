"""Issue 13's classes of bad input, each refused at its root in one line (no root needed).

YAML's own traps, files that are not files, non-finite and absurd numbers,
names with a trailing newline, ambiguous names, topologies that validate but
could not be built, and messages that blame the wrong field.  The CLI tests
at the end check that ``up`` and ``run`` stop there: one line, exit 2,
nothing started (the ``no_start`` fixture fails a test that reaches root).
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from testbed.errors import InputError
from testbed.inputfile import MAX_BYTES, parse_yaml, read_yaml
from testbed.scenario.load import parse_scenario
from testbed.topology.load import parse_topology
from testbed.topology.model import LinkParams, parse_ms
from testbed.topology.plan import make_plan
from testbed.topology.validate import topology_warnings

from .test_load import BASE as LOAD_BASE

#: test_load's small topology with a second site behind tb.
BASE = LOAD_BASE.replace(
    "  - {name: s1, upstream: ta}\n", "  - {name: s1, upstream: ta}\n  - {name: s2, upstream: tb}\n"
)


def topo_error(text: str) -> str:
    """The one-line error of a topology given as YAML text."""
    with pytest.raises(InputError) as info:
        parse_topology(parse_yaml(textwrap.dedent(text), "t.yaml"), "t.yaml")
    line = str(info.value)
    assert "\n" not in line
    return line


def base(**changes: str) -> str:
    """BASE with some lines replaced (old -> new)."""
    text = BASE
    for old, new in changes.items():
        assert old.replace("_", " ") in text or old in text
        text = text.replace(old.replace("_", " ") if old.replace("_", " ") in text else old, new)
    return text


# -------------------------------------------------------------- YAML's traps
@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "n", "Yes", "ON"])
def test_yaml_1_1_booleans_stay_text(word):
    assert parse_yaml(f"a: {word}", "x") == {"a": word}


def test_true_and_false_are_the_only_booleans_and_refused_as_numbers():
    assert parse_yaml("a: true\nb: False", "x") == {"a": True, "b": False}
    assert "ases[0].asn: Input should be a valid integer (got 'yes')" in topo_error(
        BASE.replace("asn: 65001", "asn: yes")
    )
    assert "ases[0].asn: Input should be a valid integer (got True)" in topo_error(
        BASE.replace("asn: 65001", "asn: true")
    )
    with pytest.raises(InputError, match=r"timeline\[0\]\.at: Input should be a valid number"):
        parse_scenario(
            parse_yaml(
                "name: x\nduration: 9\ntimeline: [{at: yes, event: withdraw, site: s1}]", "s"
            ),
            "s",
        )


def test_sexagesimal_octal_and_dates_are_not_numbers():
    data = parse_yaml("a: 1:30\nb: 010\nc: 0o10\nd: 0x10\ne: 2026-12-04\nf: 1e3", "x")
    assert data == {"a": "1:30", "b": 10, "c": 8, "d": 16, "e": "2026-12-04", "f": 1000.0}


def test_duplicate_keys_are_refused_with_both_lines():
    text = BASE + "links:\n  - {a: tb, b: isp}\n"
    line = topo_error(text)
    assert line == "t.yaml: line 16: duplicate key 'links' (lines 8 and 16)"
    with pytest.raises(InputError, match=r"duplicate key 'a' \(twice on line 1\)"):
        parse_yaml("x: {a: 1, a: 2}", "f")


def test_deep_nesting_and_alias_floods_are_refused():
    with pytest.raises(InputError, match="nested deeper than 32 levels"):
        parse_yaml("[" * 5000 + "]" * 5000, "f")
    with pytest.raises(InputError, match="nested deeper than 32 levels"):
        parse_yaml("a:\n" + "".join("  " * i + "- \n" for i in range(1, 60)), "f")
    laughs = "a: &a [x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(24)
    )
    with pytest.raises(InputError, match="more than 64 aliases"):
        parse_yaml(laughs, "f")


def test_keys_must_be_text_and_huge_numbers_are_one_line():
    with pytest.raises(InputError, match=r"line 2: key 1 is not text"):
        parse_yaml("a: 1\n1: x", "f")
    with pytest.raises(InputError, match="YAML value cannot be read: Exceeds the limit"):
        parse_yaml("a: " + "9" * 5000, "f")


# ---------------------------------------------------- files that are not files
def test_devices_fifos_and_folders_are_refused_without_reading(tmp_path):
    with pytest.raises(InputError, match=r"^/dev/zero: not a regular file \(a device\)$"):
        read_yaml("/dev/zero")
    fifo = tmp_path / "t.yaml"
    os.mkfifo(fifo)  # nobody writes to it: opening it blocking would hang
    with pytest.raises(InputError, match=r"not a regular file \(a FIFO\)$"):
        read_yaml(fifo)
    with pytest.raises(InputError, match="is a directory, not a file"):
        read_yaml(tmp_path)


def test_files_larger_than_the_cap_are_refused(tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(MAX_BYTES + 1)  # sparse: no disk used
    with pytest.raises(
        InputError, match=rf"too large: {MAX_BYTES + 1} bytes \(at most {MAX_BYTES}\)"
    ):
        read_yaml(big)


# ---------------------------------------------------------------- numbers
@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("delay", ".inf", "must be a finite duration"),
        ("delay", ".nan", "must be a finite duration"),
        ("delay", "11s", "must be at most 10 s"),
        ("delay", "99999999999999999999s", "must be a duration"),
        ("delay", "10001", "must be at most 10 s"),
        ("jitter", "-1", "must not be negative"),
        ("delay", "true", "must be a duration"),
        ("bandwidth", ".inf", "Input should be a finite number"),
        ("bandwidth", "1e12", "Input should be less than or equal to 100000"),
        ("loss", ".nan", "Input should be a finite number"),
    ],
)
def test_link_numbers_are_finite_and_bounded(field, value, problem):
    line = topo_error(BASE.replace("{a: ta, b: tb}", f"{{a: ta, b: tb, {field}: {value}}}"))
    assert line.startswith(f"t.yaml: links[0].{field}: {problem}"), line


def test_the_largest_accepted_values_still_plan():
    topo = parse_topology(
        parse_yaml(
            BASE.replace("{a: ta, b: tb}", "{a: ta, b: tb, delay: 10s, bandwidth: 100000}"), "t"
        ),
        "t",
    )
    assert topo.links[0].delay_ms() == 10_000
    assert make_plan(topo).links[0].params.bandwidth == 100_000
    assert parse_ms("0.5s") == 500 and parse_ms(20) == 20
    assert LinkParams(delay="2ms").shaped()


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("duration: .inf", "duration"),
        ("duration: 9\ntimeline: [{at: 1e308, event: withdraw, site: s1}]", "timeline[0].at"),
        (
            "duration: 9\nexpect: [{check: max_outage, clients: all, below: .nan}]",
            "expect[0].below",
        ),
        ("duration: 9\ntraffic: {dns_rate: .inf}", "traffic.dns_rate"),
        (
            "duration: 9\nexpect: [{check: tcp_reset, clients: all, max: 99999999999}]",
            "expect[0].max",
        ),
    ],
)
def test_scenario_numbers_are_finite_and_bounded(text, field):
    with pytest.raises(InputError) as info:
        parse_scenario(parse_yaml("name: x\n" + text, "s.yaml"), "s.yaml")
    assert str(info.value).startswith(f"s.yaml: {field}: "), str(info.value)


# ---------------------------------------------------- names and their anchors
@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (
            "{name: ta, asn: 65001, role: transit}",
            '{name: "ta\\n", asn: 65001, role: transit}',
            "ases[0].name",
        ),
        (
            "{name: ta, asn: 65001, role: transit}",
            '{name: ta, asn: 65001, role: transit, routers: ["ta\\n"]}',
            "ases[0].routers",
        ),
        ("{name: s1, upstream: ta}", '{name: "s1\\n", upstream: ta}', "sites[0].name"),
        ("{name: c1, as: isp}", '{name: "c1\\n", as: isp}', "clients[0].name"),
    ],
)
def test_a_trailing_newline_never_passes_the_name_rule(old, new, field):
    line = topo_error(BASE.replace(old, new))
    assert line.startswith(f"t.yaml: {field}: "), line


def test_a_client_selector_with_a_newline_is_refused():
    with pytest.raises(InputError, match=r"expect\[0\]\.clients: .*is not a client name"):
        parse_scenario(
            {
                "name": "x",
                "duration": 9,
                "expect": [{"check": "max_outage", "clients": ["c1\n"], "below": 1}],
            },
            "s",
        )


# ------------------------------------------------------------ ambiguous names
def test_an_as_named_like_another_as_router_is_refused():
    text = BASE.replace(
        "{name: ta, asn: 65001, role: transit}",
        "{name: ta, asn: 65001, role: transit, routers: [tb1]}",
    ).replace(
        "{name: tb, asn: 65002, role: transit}",
        "{name: tb, asn: 65002, role: transit, routers: [ta]}",
    )
    line = topo_error(text)
    assert line.startswith("t.yaml: ases[0].name: 'ta' is also the name of ases[1].routers"), line


def test_an_as_may_share_its_name_with_its_own_router():
    text = BASE.replace(
        "{name: ta, asn: 65001, role: transit}",
        "{name: ta, asn: 65001, role: transit, routers: [ta, ta2]}",
    ).replace("links:\n", "links:\n  - {a: ta, b: ta2}\n")
    assert parse_topology(parse_yaml(text, "t"), "t").as_by_name("ta").routers == ["ta", "ta2"]


def test_a_site_or_client_named_like_an_as_is_refused():
    assert "is already used by" in topo_error(
        BASE.replace("{name: s1, upstream: ta}", "{name: ta, upstream: tb}")
    )
    line = topo_error(BASE.replace("{name: c1, as: isp}", "{name: tb, as: isp}"))
    assert "'tb'" in line and ("already used" in line or "also the name" in line), line


@pytest.mark.parametrize("word", ["busiest", "all", "moved", "unmoved", "affected", "unaffected"])
def test_reserved_words_are_no_names(word):
    if len(word) <= 8:  # site names have at most 8 characters
        line = topo_error(
            BASE.replace("{name: s1, upstream: ta}", f"{{name: {word}, upstream: ta}}")
        )
        assert f"sites[0].name: '{word}' is a reserved word" in line, line
    line = topo_error(BASE.replace("{name: c1, as: isp}", f"{{name: {word}, as: isp}}"))
    assert f"clients[0].name: '{word}' is a reserved word" in line, line


# ------------------------------------------- valid in shape, not buildable
def test_too_many_access_routers_for_the_client_pool():
    ases = "".join(f"  - {{name: e{i}, asn: {70000 + i}, role: eyeball}}\n" for i in range(513))
    links = "".join(f"  - {{a: e{i}, b: ta}}\n" for i in range(513))
    clients = "".join(f"  - {{name: c{i}, as: e{i}}}\n" for i in range(513))
    text = (
        "name: big\nases:\n  - {name: ta, asn: 65001, role: transit}\n"
        "  - {name: anycast, asn: 64500, role: anycast}\n"
        + ases
        + "links:\n"
        + links
        + "sites:\n  - {name: s1, upstream: ta}\nclients:\n"
        + clients
    )
    line = topo_error(text)
    assert line == (
        "t.yaml: clients: clients on 513 access routers: the client pool 198.18.0.0/15 "
        "holds one /24 each, at most 512"
    )


def test_too_many_clients_on_one_access_router():
    clients = "".join(f"  - {{name: c{i}, as: isp}}\n" for i in range(65))
    line = topo_error(BASE.replace("  - {name: c1, as: isp}\n", clients))
    assert line.startswith("t.yaml: clients[64]: router 'isp' has more than 64 clients"), line


@pytest.mark.parametrize(
    ("prefix", "what"),
    [
        ("127.0.0.0/24", "loopback 127.0.0.0/8"),
        ("100.64.5.0/24", "the testbed's link pool 100.64.0.0/16"),
        ("198.18.0.0/24", "the testbed's client pool 198.18.0.0/15"),
        ("100.127.0.0/24", "the testbed's router-ID pool 100.127.0.0/16"),
        ("224.0.0.0/24", "multicast 224.0.0.0/4"),
        ("0.0.0.0/0", "the testbed's link pool 100.64.0.0/16"),
    ],
)
def test_a_prefix_inside_the_testbeds_pools_or_special_ranges(prefix, what):
    service = str(__import__("ipaddress").IPv4Network(prefix).network_address + 53)
    line = topo_error(
        BASE.replace(
            "{name: s1, upstream: ta}",
            f"{{name: s1, upstream: ta, prefix: {prefix}, service: {service}}}",
        )
    )
    assert line.startswith(f"t.yaml: sites[0].prefix: {prefix} overlaps {what}"), line


def test_a_duplicate_upstream_is_refused():
    line = topo_error(
        BASE.replace("{name: s1, upstream: ta}", "{name: s1, upstream: [ta, tb, ta]}")
    )
    assert (
        line == "t.yaml: sites[0].upstream[2]: 'ta' is listed twice: one uplink per upstream router"
    )


def test_no_sites_is_refused():
    text = BASE.split("sites:")[0] + "clients:\n  - {name: c1, as: isp}\n"
    assert topo_error(text) == "t.yaml: sites: no sites: a topology needs at least one anycast site"


def test_a_client_that_can_reach_no_site_is_a_warning_not_an_error():
    text = (
        BASE.replace(
            "  - {name: isp, asn: 64512, role: eyeball}\n",
            "  - {name: isp, asn: 64512, role: eyeball}\n"
            "  - {name: lone, asn: 64513, role: eyeball}\n",
        )
        + "  - {name: c2, as: lone}\n"
    )
    topo = parse_topology(parse_yaml(text, "t"), "t")
    assert make_plan(topo).hosts["c2"]
    assert topology_warnings(topo) == [
        "client 'c2' can reach no site: no chain of links joins its router 'lone' to one"
    ]


def test_no_clients_is_a_warning_for_up_and_an_error_for_a_run():
    text = BASE.split("clients:")[0]
    topo = parse_topology(parse_yaml(text, "t"), "t")
    assert topology_warnings(topo) == ["no clients: nothing will probe the anycast service"]
    from testbed.scenario.validate import validate_against

    scenario = parse_scenario({"name": "x", "duration": 9}, "s.yaml")
    with pytest.raises(InputError, match="s.yaml: topology: topology 't' has no clients"):
        validate_against(scenario, topo, "s.yaml")


# ------------------------------------------------------- blame the right field
def test_a_prefix_without_the_default_service_blames_the_prefix():
    line = topo_error(
        BASE.replace(
            "{name: s1, upstream: ta}", "{name: s1, upstream: ta, prefix: 198.51.100.0/24}"
        )
    )
    assert line.startswith(
        "t.yaml: sites[0].prefix: 198.51.100.0/24 does not hold the default service"
    ), line
    line = topo_error(
        BASE.replace("{name: s1, upstream: ta}", "{name: s1, upstream: ta, service: 198.51.100.1}")
    )
    assert line == "t.yaml: sites[0].service: 198.51.100.1 is not inside prefix 192.0.2.0/24"


def test_a_service_on_the_network_address_is_refused():
    line = topo_error(
        BASE.replace("{name: s1, upstream: ta}", "{name: s1, upstream: ta, service: 192.0.2.0}")
    )
    assert line.startswith(
        "t.yaml: sites[0].service: 192.0.2.0 is the network or broadcast address"
    ), line


def test_shipped_topologies_still_load():
    root = Path(__file__).resolve().parents[3]
    for path in sorted((root / "topologies").glob("*.yaml")):
        parse_topology(read_yaml(path), str(path))
