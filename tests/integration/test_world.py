"""world over real FRR in Mininet: sessions, catchment, configs."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from testbed.net import frr
from tests.world import WORLD_CATCHMENT

ANYCAST = IPv4Network("192.0.2.0/24")


def test_world_catchment(world):
    assert {c: world.site_of(c) for c in WORLD_CATCHMENT} == WORLD_CATCHMENT


def test_world_sessions(world):
    total = 0
    for router in world.plan.routers:
        states = world.bgp_sessions(router)
        assert set(states.values()) == {"Established"}, (router, states)
        total += len(states)
    assert total == 36  # 18 sessions, seen from both ends


@pytest.mark.parametrize("client", ["paris", "sydney"])
def test_world_clients_reach_the_service(world, client):
    out = world.cmd(client, "ping -c 2 -i 0.2 -W 1 192.0.2.53")
    assert " 0% packet loss" in out, out


def test_world_configs_and_timers_are_explicit(world):
    conf = (world.run_dir / "routers" / "eu" / "frr.conf").read_text()
    assert len(world.plan.routers["eu"].neighbors) == 6  # na asia sa, isppar ispfra, lon
    assert conf.count("advertisement-interval 0") == 6
    running = frr.vtysh("eu", "show running-config")
    assert "timers bgp 1 3" in running
