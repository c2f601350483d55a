"""Which routers must have which prefix once converged, with and without relationships."""

from __future__ import annotations

from ipaddress import IPv4Network
from pathlib import Path

from testbed.policy.reach import limited, no_route, no_route_line, required_routes
from testbed.topology.load import load_topology
from testbed.topology.plan import make_plan

POLICY = Path(__file__).resolve().parents[2] / "topologies" / "policy.yaml"
ANYCAST = IPv4Network("192.0.2.0/24")
ISP1, ISP2, ISP5 = (IPv4Network(f"198.18.{i}.0/24") for i in (0, 1, 2))


def test_without_relationships_every_router_needs_every_prefix():
    topo = load_topology("two-sites")
    plan = make_plan(topo)
    required = required_routes(topo, plan)
    assert set(required) == set(plan.frr_routers())
    assert all(r == set(plan.expected_prefixes()) for r in required.values())


def test_valley_free_export_leaves_peers_of_peers_without_a_route():
    topo = load_topology(str(POLICY))
    required = required_routes(topo, make_plan(topo))
    # isp2's prefix: t2 (its provider) tells its peers t1 and t5 and its customers;
    # t1 learnt it from a peer, so t1's customers t3, t4 and isp1 get it; site b (a
    # customer of t4) too
    assert ISP2 in required["t1"] and ISP2 in required["t5"] and ISP2 in required["t4"]
    # isp5's prefix reaches t2 through t5 (peers), never through t1 (t1 learnt it from a peer)
    assert ISP5 in required["t2a"]
    # the anycast prefix carries an action community: its spread is not predicted
    assert limited(topo)
    assert all(ANYCAST not in prefixes for prefixes in required.values())


def test_no_route_tells_policy_from_missing():
    tables = {"t1": [ISP1, ISP2], "t5": [ISP5], "isp1": []}
    required = {"t1": {ISP1, ISP2}, "t5": {ISP5, ISP1}, "isp1": set()}
    out = no_route(tables, [ISP1, ISP2, ISP5], required)
    assert out == {
        "policy": {"isp1": [str(ISP1), str(ISP2), str(ISP5)], "t1": [str(ISP5)], "t5": [str(ISP2)]},
        "missing": {"t5": [str(ISP1)]},
    }
    line = no_route_line(out, limit=2)
    assert line.startswith("3 routers without a route by policy (valley-free export): isp1 (")
    assert line.endswith(", and 1 more")
    assert no_route_line({"policy": {}, "missing": {"t5": ["x"]}}) == ""


def test_each_site_needs_only_what_its_own_upstreams_pass_it():
    """Sites of one anycast AS share nothing (no iBGP): a site behind a tier-1 that does not
    peer with the client's tier-1 gets no route to the client, while another site does."""
    from testbed.policy.reach import per_site, site_node
    from testbed.topology.generate import TopologyBuilder
    from testbed.topology.relationships import as_relationships

    b = TopologyBuilder("dispute", "east and west do not peer; the hub peers with both")
    b.transit("hub", 65001, peers=["east", "west"]).transit("east", 65002).transit("west", 65003)
    b.link("hub", "east").link("hub", "west")
    b.anycast().site("near", upstream="east").site("far", upstream="hub")
    b.eyeball("iw", 64512).link("iw", "west").client("cw", "iw")
    topo = b.build()
    plan = make_plan(topo)
    (west_prefix,) = plan.routers["iw"].networks
    required = required_routes(topo, plan)
    assert west_prefix in required["far"] and west_prefix in required["hub"]
    assert west_prefix not in required["near"] and west_prefix not in required["east"]
    assert ANYCAST in required["west"] and ANYCAST in required["near"]
    rel = per_site(topo, as_relationships(topo))
    assert rel[(site_node("near"), "east")] == "provider" and rel[("hub", site_node("far"))] == (
        "customer"
    )
    assert not any("anycast" in pair for pair in rel)
