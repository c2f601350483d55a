"""frr.conf of a topology whose sites have unicast prefixes: golden files pin the output.

two-sites with ``unicast: true``: each site router announces (``network``)
and blackholes its own /24 of 100.66.0.0/16 beside the anycast prefix and
routes its unicast address to its server; the transits are unchanged but for
nothing (they learn the prefixes).  Refresh after an intended change with
``UPDATE_GOLDEN=1 pytest tests/unit/net/test_unicast_render.py``.
"""

import os
from pathlib import Path

import pytest

from testbed.net.build import _host_setup, _router_setup
from testbed.net.frr import render_config
from testbed.scenario.effective import effective_topology
from testbed.topology.load import load_topology
from testbed.topology.plan import make_plan

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "frr" / "two-sites-unicast"
PLAN = make_plan(
    effective_topology(load_topology("two-sites"), topology_overrides={"unicast": True})
)
PLAIN = make_plan(load_topology("two-sites"))


@pytest.mark.parametrize("router", ["east", "west", "ta"])
def test_two_sites_unicast_golden(router):
    text = render_config(PLAN.routers[router], PLAN)
    path = GOLDEN / f"{router}.conf"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_the_site_announces_its_unicast_prefix_beside_the_anycast_one():
    east = render_config(PLAN.routers["east"], PLAN)
    assert "  network 192.0.2.0/24\n  network 100.66.0.0/24\n" in east
    assert "! kernel route (set by the testbed): blackhole 100.66.0.0/24\n" in east
    assert "! kernel route (set by the testbed): 100.66.0.53/32 via 100.65.0.2\n" in east
    assert "100.66.1.0/24" not in east  # west's is west's alone


def test_transit_configs_do_not_change():
    """Nothing to configure away from the sites: the transits just learn the prefixes."""
    assert render_config(PLAN.routers["ta"], PLAN) == render_config(PLAIN.routers["ta"], PLAIN)


def test_kernel_routes_and_loopbacks():
    router = _router_setup(PLAN.routers["east"])
    assert "'route add blackhole 100.66.0.0/24'" in router
    assert "'route add 100.66.0.53/32 nexthop via 100.65.0.2'" in router
    host = _host_setup(PLAN.hosts["east-1"])
    assert "'addr add 192.0.2.53/32 dev lo' 'addr add 100.66.0.53/32 dev lo'" in host
