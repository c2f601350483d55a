"""FRR config rendering: golden files pin the exact output.

Refresh the golden files after an intended change with
``UPDATE_GOLDEN=1 pytest tests/unit/net/test_frr_render.py``.
"""

import os
from pathlib import Path

import pytest

from testbed.net.frr import daemon_argv, daemons_for, render_config, split_config
from testbed.topology.generate import TopologyBuilder
from testbed.topology.load import load_topology
from testbed.topology.plan import make_plan

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "frr"
TWO_SITES = make_plan(load_topology("two-sites"))


@pytest.mark.parametrize("router", list(TWO_SITES.routers))
def test_two_sites_golden(router):
    text = render_config(TWO_SITES.routers[router], TWO_SITES)
    path = GOLDEN / "two-sites" / f"{router}.conf"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_upstream_of_a_ryu_site_golden():
    """The Ryu work-arounds: soft-reconfiguration inbound, and no looped route sent back."""
    from testbed.scenario.effective import effective_topology

    plan = make_plan(
        effective_topology(load_topology("two-sites"), topology_overrides={"speaker": "ryu"})
    )
    text = render_config(plan.routers["ta"], plan)
    path = GOLDEN / "two-sites-ryu" / "ta.conf"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()
    assert "bgp as-path access-list east-own-as seq 5 permit _64500_" in text
    assert "route-map east-out deny 5\n match as-path east-own-as\n" in text
    assert "neighbor 100.64.0.13 soft-reconfiguration inbound" in text


def policy_plan():
    b = TopologyBuilder(
        "pol",
        bfd={"enabled": False, "interval": 50, "multiplier": 4},
        bgp={"keepalive": 2, "hold": 6, "mrai": 5, "connect_retry": 2},
    )
    b.transit("ta", 65001).transit("tb", 65002).link("ta", "tb")
    b.anycast().site("s1", upstream="ta", prepend=2, med=50)
    b.eyeball("isp", 64512).link("isp", "tb").client("c1", "isp")
    b.session("ta", "tb", local_pref=200, timers={"hold": 9, "keepalive": 3}, bfd=True)
    return make_plan(b.build())


def test_policy_timers_and_bfd_are_rendered():
    plan = policy_plan()
    ta = render_config(plan.routers["ta"], plan)
    tb_addr = next(n.address for n in plan.routers["ta"].neighbors if n.peer == "tb")
    assert f" neighbor {tb_addr} timers 3 9\n" in ta
    assert f" neighbor {tb_addr} advertisement-interval 5\n" in ta
    assert f" neighbor {tb_addr} timers connect 2\n" in ta
    assert f" neighbor {tb_addr} bfd\n" in ta
    assert "route-map tb-in permit 10\n set local-preference 200\n" in ta
    assert f" peer {tb_addr}\n  detect-multiplier 4\n  receive-interval 50\n" in ta
    s1 = render_config(plan.routers["s1"], plan)
    assert "route-map ta-out permit 10\n set as-path prepend 64500 64500\n set metric 50\n" in s1
    assert " timers bgp 2 6\n" in s1
    assert "bfdd" in daemons_for(plan.routers["ta"])
    assert "bfdd" not in daemons_for(plan.routers["s1"])
    # the other end gets the same timers and BFD, but not ta's import policy
    tb = render_config(plan.routers["tb"], plan)
    assert " timers 3 9\n" in tb and " bfd\n" in tb
    assert "set local-preference" not in tb


def test_route_maps_come_before_router_bgp():
    """bgpd treats a route-map referenced before it exists as deny-all for a while."""
    text = render_config(TWO_SITES.routers["ta"], TWO_SITES)
    assert text.index("route-map tb-out permit 10") < text.index("router bgp 65001")


def test_split_config_gives_each_daemon_its_own_blocks():
    plan = policy_plan()
    text = render_config(plan.routers["ta"], plan)
    parts = split_config(text, daemons_for(plan.routers["ta"]))
    assert set(parts) == {"zebra", "bfdd", "bgpd"}  # static routes are kernel routes
    assert "router bgp" in parts["bgpd"] and "router bgp" not in parts["zebra"]
    assert "\nbfd\n" in parts["bfdd"] and "router bgp" not in parts["bfdd"]
    assert all("hostname ta" in p for p in parts.values())
    assert "service integrated-vtysh-config" not in "".join(parts.values())
    text = "hostname x\nip route 192.0.2.0/24 blackhole\n"
    text += "route-map a permit 10\n set metric 1\nexit\n"
    split = split_config(text, ["zebra", "staticd", "bgpd"])
    assert split["staticd"] == "hostname x\nip route 192.0.2.0/24 blackhole\n"
    assert split["bgpd"] == "hostname x\nroute-map a permit 10\n set metric 1\nexit\n"


def test_daemon_command_line_has_its_own_pathspace():
    argv = daemon_argv("bfdd", "lon")
    assert argv[:4] == ["/usr/lib/frr/bfdd", "-d", "-N", "lon"]
    assert "--bfdctl" in argv and "/run/frr/lon/bfdd.sock" in argv
    assert argv[argv.index("-f") + 1] == "/run/frr/lon/bfdd.conf"


def test_daemons_get_an_fd_limit_that_grows_with_their_sessions():
    argv = daemon_argv("bgpd", "eu", neighbors=6)
    assert argv[argv.index("--limit-fds") + 1] == "152"  # 128 + 4 per session
    assert daemon_argv("zebra", "t1")[-1] == "128"
