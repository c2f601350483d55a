"""Client prefixes: one /24 per access router, so clients on two routers of one AS get answers."""

from __future__ import annotations

from ipaddress import IPv4Network

from testbed.topology.generate import TopologyBuilder
from testbed.topology.plan import make_plan


def two_router_isp():
    b = TopologyBuilder("two-access")
    b.transit("ta", 65001)
    b.eyeball("isp", 64512, routers=["isp1", "isp2"]).link("isp1", "isp2")
    b.link("isp1", "ta").link("isp2", "ta")
    b.anycast(64500).site("east", upstream="ta")
    b.client("c1", "isp")  # on isp1, the AS's first router
    b.client("c2", "isp", router="isp2")
    b.client("c3", "isp", router="isp1")
    b.eyeball("solo", 64513).link("solo", "ta").client("s1", "solo").client("s2", "solo")
    return b.build()


def test_each_access_router_announces_and_blackholes_only_its_own_clients_prefix():
    plan = make_plan(two_router_isp())
    isp1, isp2 = plan.routers["isp1"], plan.routers["isp2"]
    assert isp1.networks == [IPv4Network("198.18.0.0/24")]
    assert isp2.networks == [IPv4Network("198.18.1.0/24")]
    assert isp1.blackholes == isp1.networks and isp2.blackholes == isp2.networks
    addr = {c.name: c.interface.address for c in plan.clients()}
    gateway = {c.name: c.gateway for c in plan.clients()}
    assert str(addr["c1"]) == "198.18.0.2/30" and str(gateway["c1"]) == "198.18.0.1"
    assert str(addr["c3"]) == "198.18.0.6/30" and plan.owner_of(gateway["c3"]) == "isp1"
    assert str(addr["c2"]) == "198.18.1.2/30" and plan.owner_of(gateway["c2"]) == "isp2"
    # no router blackholes a client it does not serve
    for client in plan.clients():
        for router in plan.routers.values():
            if any(client.interface.address.ip in net for net in router.blackholes):
                assert router.name == plan.owner_of(client.gateway)


def test_one_access_router_keeps_one_prefix_for_all_its_clients():
    plan = make_plan(two_router_isp())
    assert plan.routers["solo"].networks == [IPv4Network("198.18.2.0/24")]
    addr = {c.name: str(c.interface.address) for c in plan.clients()}
    assert (addr["s1"], addr["s2"]) == ("198.18.2.2/30", "198.18.2.6/30")
    # every announced client prefix is expected everywhere once BGP converged
    assert {str(p) for p in plan.expected_prefixes()} >= {
        "198.18.0.0/24",
        "198.18.1.0/24",
        "198.18.2.0/24",
    }
