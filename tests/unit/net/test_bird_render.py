"""BIRD config rendering: golden files pin the exact output, BIRD's own parser checks it.

The goldens are every non-site router of ``two-sites``, ``world``,
``world-policy`` and ``tests/topologies/policy.yaml`` (every relationship and
community case: customer, peer and provider sessions, iBGP, action
communities, site and session communities, graceful shutdown), each with
all its ASes on ``daemon: bird``.

Refresh the golden files after an intended change with
``UPDATE_GOLDEN=1 pytest tests/unit/net/test_bird_render.py``.
"""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path
from typing import Any, Dict

import pytest

from testbed.errors import TestbedError
from testbed.net import bird
from testbed.topology.generate import TopologyBuilder
from testbed.topology.load import load_topology, parse_topology
from testbed.topology.plan import Plan, make_plan

from ..topology.test_policy_validation import DATA

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "bird"
HAS_BIRD = shutil.which("bird") is not None or Path(bird.BIRD).exists()


def all_bird(data: Dict[str, Any], source: str) -> Plan:
    """The plan of ``data`` with every AS that has routers on ``daemon: bird``."""
    data = copy.deepcopy(data)
    for asys in data["ases"]:
        if asys["role"] != "anycast":
            asys["daemon"] = "bird"
    return make_plan(parse_topology(data, source))


def named(name: str) -> Plan:
    return all_bird(load_topology(name).model_dump(mode="json", by_alias=True), name)


PLANS: Dict[str, Plan] = {
    "two-sites": named("two-sites"),
    "world": named("world"),
    "world-policy": named("world-policy"),
    "policy": all_bird(DATA, "policy.yaml"),
}
CASES = [(t, r) for t, plan in PLANS.items() for r in plan.bird_routers()]


@pytest.mark.parametrize("topology,router", CASES, ids=[f"{t}/{r}" for t, r in CASES])
def test_golden(topology, router):
    plan = PLANS[topology]
    text = bird.render_config(plan.routers[router], plan)
    path = GOLDEN / topology / f"{router}.conf"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_every_golden_is_a_router_of_today():
    """No golden file is left over from a router that no longer exists."""
    files = {(p.parent.name, p.stem) for p in GOLDEN.glob("*/*.conf")}
    assert files == set(CASES)


@pytest.mark.skipif(not HAS_BIRD, reason="BIRD is not installed (apt-get install bird2)")
def test_bird_parses_every_golden():
    paths = {f"{p.parent.name}/{p.stem}": p for p in sorted(GOLDEN.glob("*/*.conf"))}
    assert len(paths) == len(CASES)
    bird.check_configs(paths)


@pytest.mark.skipif(not HAS_BIRD, reason="BIRD is not installed (apt-get install bird2)")
def test_bird_parses_timers_bfd_overrides_and_odd_names(tmp_path):
    paths = {}
    for plan in (knobs_plan(), names_plan()):
        for name in plan.bird_routers():
            paths[name] = tmp_path / f"{plan.topology.name}-{name}.conf"
            paths[name].write_text(bird.render_config(plan.routers[name], plan))
    bird.check_configs(paths)


@pytest.mark.skipif(not HAS_BIRD, reason="BIRD is not installed (apt-get install bird2)")
def test_a_config_bird_rejects_names_the_file_and_line(tmp_path):
    bad = tmp_path / "x.conf"
    bad.write_text("router id 100.127.0.1;\nprotocol device {\n  scan tim 10;\n}\n")
    with pytest.raises(TestbedError) as info:
        bird.check_configs({"x": bad})
    assert str(info.value).startswith(f"BIRD rejects {bad} line 3: ")


def knobs_plan() -> Plan:
    """Two transits on BIRD (ta with two routers: iBGP) and an FRR site, with timers,
    BFD and per-session prepend, MED, local preference and communities."""
    b = TopologyBuilder(
        "knobs",
        bfd={"enabled": False, "interval": 50, "multiplier": 4},
        bgp={"keepalive": 2, "hold": 6, "mrai": 0, "connect_retry": 2},
    )
    b.transit("ta", 65001, ["ta1", "ta2"], daemon="bird").transit("tb", 65002, daemon="bird")
    b.link("ta1", "ta2").link("ta2", "tb")
    b.anycast().site("s1", upstream="ta1")
    b.eyeball("isp", 64512).link("isp", "tb").client("c1", "isp")
    b.session("ta2", "tb", local_pref=200, timers={"hold": 9, "keepalive": 3}, bfd=True)
    b.session("tb", "ta2", prepend=2, med=50, communities=["no-export", "65002:1:1"])
    b.session("tb", "isp", timers={"connect_retry": 7})
    return make_plan(b.build())


def block(text: str, head: str) -> str:
    """A protocol or filter of a config, from its first line to its closing brace."""
    start = text.index(head)
    return text[start : text.index("\n}\n", start) + 3]


def test_timers_bfd_and_session_policy():
    plan = knobs_plan()
    tb = bird.render_config(plan.routers["tb"], plan)
    peer = block(tb, "protocol bgp peer_ta2 {")
    for line in (
        "  local 100.64.0.6 as 65002;",
        "  neighbor 100.64.0.5 as 65001;",
        "  hold time 9;",
        "  keepalive time 3;",
        "  connect retry time 2;",
        "  connect delay time 1;",
        "  error wait time 1, 120;",
        "  graceful restart off;",
        "  bfd on;",
    ):
        assert line + "\n" in peer, line
    assert "next hop self" not in peer  # eBGP
    assert 'protocol bfd {\n  interface "*" {\n    interval 50 ms;\n    multiplier 4;\n' in tb
    assert block(tb, "filter out_ta2") == (
        "filter out_ta2\n{\n"
        "  bgp_path.prepend(65002);\n  bgp_path.prepend(65002);\n"
        "  bgp_med = 50;\n"
        "  bgp_community.add((65535, 65281));  # no-export\n"
        "  bgp_large_community.add((65002, 1, 1));\n"
        "  accept;\n}\n"
    )
    assert "  connect retry time 7;\n" in block(tb, "protocol bgp peer_isp {")
    assert "bfd on" not in block(tb, "protocol bgp peer_isp {")
    ta2 = bird.render_config(plan.routers["ta2"], plan)
    assert block(ta2, "filter in_tb") == (
        "filter in_tb\n{\n  bgp_local_pref = 200;\n"
        "  # graceful shutdown: least preferred\n"
        "  if bgp_community ~ GRACEFUL_SHUTDOWN then { bgp_local_pref = 0; accept; }\n"
        "  # everything else\n  accept;\n}\n"
    )
    ibgp = block(ta2, "protocol bgp peer_ta1 {")
    assert "  neighbor 100.64.0.1 as 65001;\n" in ibgp
    assert "    next hop self;\n    gateway direct;\n" in ibgp  # frr: next-hop-self on iBGP
    # no BFD anywhere near ta1: no bfd protocol
    assert "protocol bfd" not in bird.render_config(plan.routers["ta1"], plan)


def test_what_a_router_announces_and_sends_to_the_kernel():
    plan = PLANS["two-sites"]
    ispa = bird.render_config(plan.routers["ispa"], plan)
    assert "protocol static announced {\n  ipv4;\n  route 198.18.0.0/24 blackhole;\n}\n" in ispa
    assert "# kernel route (set by the testbed): blackhole 198.18.0.0/24\n" in ispa
    kernel = block(ispa, "protocol kernel {")
    assert "    export where source = RTS_BGP;\n" in kernel  # never the blackholes
    assert "    import none;\n" in kernel
    ta = bird.render_config(plan.routers["ta"], plan)
    assert "protocol static" not in ta  # a transit announces nothing of its own
    assert 'log "/run/bird/ta/bird.log" all;\n' in ta
    assert "router id 100.127.0.1;\n" in ta


def test_policy_filters_follow_the_route_maps_order():
    plan = PLANS["policy"]
    t1 = bird.render_config(plan.routers["t1"], plan)
    assert "define FROM_PEER_OR_PROVIDER = [(65001, 0, 2), (65001, 0, 3)];\n" in t1
    assert "define GRACEFUL_SHUTDOWN = [(65535, 0)];  # graceful-shutdown\n" in t1
    assert "define ACTION_65001_6003_0 = [(65001, 6003, 0)];\n" in t1
    out = block(t1, "filter out_t5")
    order = [
        "FROM_PEER_OR_PROVIDER then reject;",
        "NO_PEER then reject;",
        "ACTION_65001_6000 then reject;",
        "ACTION_65001_6001 then bgp_path.prepend(65001);",
        "ACTION_65001_6002 then { bgp_path.prepend(65001); bgp_path.prepend(65001); }",
        "bgp_large_community ~ ACTION_65001_6003_0 then {",
        "ACTION_65001_6605 then reject;",
        "  accept;\n}",
    ]
    places = [out.index(s) for s in order]
    assert places == sorted(places)
    # towards a customer: no filter rule, everything goes
    assert block(t1, "filter out_t3") == "filter out_t3\n{\n  accept;\n}\n"
    # tags on import, by relationship
    assert "  bgp_large_community.add((65001, 0, 1));\n  bgp_local_pref = 200;\n" in block(
        t1, "filter in_t3"
    )


def names_plan() -> Plan:
    """ASes named like BIRD keywords (``to``, ``if``) and with a hyphen (``isp-a``)."""
    b = TopologyBuilder("names")
    b.transit("to", 65001, daemon="bird").transit("if", 65002, daemon="bird").link("to", "if")
    b.anycast().site("s1", upstream="to")
    b.eyeball("isp-a", 64512, daemon="bird").link("isp-a", "if").client("c1", "isp-a")
    return make_plan(b.build())


def test_filter_and_protocol_names_are_bird_symbols():
    assert bird.symbol("isp-a") == "isp_a"
    assert bird.symbol("ACTION-65001-6003-0") == "ACTION_65001_6003_0"
    assert bird.community("no-export") == "(65535, 65281)"
    assert bird.community("65001:0:2") == "(65001, 0, 2)"
    plan = names_plan()
    text = bird.render_config(plan.routers["if"], plan)
    assert "protocol bgp peer_isp_a {" in text and "filter in_isp_a" in text
    assert "protocol bgp peer_to {" in text  # a keyword as a name: prefixed


def test_a_site_is_not_rendered_for_bird():
    plan = PLANS["two-sites"]
    with pytest.raises(TestbedError, match="east is a site"):
        bird.render_config(plan.routers["east"], plan)


def test_rendering_is_deterministic():
    one = named("world-policy")
    two = named("world-policy")
    for name in one.bird_routers():
        assert bird.render_config(one.routers[name], one) == bird.render_config(
            two.routers[name], two
        )


def test_command_lines_and_the_control_socket_live_in_the_router_folder(tmp_path):
    argv = bird.daemon_argv("lon", user="bird")
    assert argv[1:7] == [
        "-c",
        "/run/bird/lon/bird.conf",
        "-s",
        "/run/bird/lon/bird.ctl",
        "-P",
        "/run/bird/lon/bird.pid",
    ]
    assert argv[-4:] == ["-u", "bird", "-g", "bird"]
    assert bird.control_socket("lon") == Path("/run/bird/lon/bird.ctl")
    assert bird.birdc_argv("lon", "show protocols")[1:] == [
        "-s",
        "/run/bird/lon/bird.ctl",
        "show",
        "protocols",
    ]
    assert "-u" not in bird.daemon_argv("lon", base=tmp_path, user="")
    path = bird.prepare_runtime_dir("lon", "router id 1.2.3.4;\n", base=tmp_path)
    assert path == tmp_path / "lon"
    assert (path / "bird.conf").read_text() == "router id 1.2.3.4;\n"
    assert (path / "bird.log").exists()
    assert bird.read_pid("lon", base=tmp_path) is None
    (path / "bird.pid").write_text("1234\n")
    assert bird.read_pid("lon", base=tmp_path) == 1234


@pytest.mark.skipif(not HAS_BIRD, reason="BIRD is not installed (apt-get install bird2)")
def test_the_installed_version_is_read():
    version = bird.bird_version()
    assert version is not None and version[0].isdigit()
