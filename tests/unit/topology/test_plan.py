"""Address allocation: deterministic, non-overlapping, within the documented pools."""

from ipaddress import IPv4Address, IPv4Network

from testbed.topology.load import load_topology
from testbed.topology.plan import CLIENT_POOL, INFRA_POOL, SERVER_POOL, make_plan


def test_same_topology_same_addresses():
    a, b = make_plan(load_topology("world")), make_plan(load_topology("world"))
    dump = lambda p: [(l.a.name, str(l.a.address), l.b.name, str(l.b.address)) for l in p.links]  # noqa: E731,E741
    assert dump(a) == dump(b)


def test_two_sites_addresses_pinned():
    plan = make_plan(load_topology("two-sites"))
    ends = {(l.a.name, str(l.a.address), l.b.name, str(l.b.address)) for l in plan.links}  # noqa: E741
    assert ends == {
        ("ta-e0", "100.64.0.1/30", "tb-e0", "100.64.0.2/30"),
        ("ispa-e0", "100.64.0.5/30", "ta-e1", "100.64.0.6/30"),
        ("ispb-e0", "100.64.0.9/30", "tb-e1", "100.64.0.10/30"),
        ("east-e0", "100.64.0.13/30", "ta-e2", "100.64.0.14/30"),
        ("west-e0", "100.64.0.17/30", "tb-e2", "100.64.0.18/30"),
        ("east-e1", "100.65.0.1/30", "east-1-e0", "100.65.0.2/30"),
        ("west-e1", "100.65.0.5/30", "west-1-e0", "100.65.0.6/30"),
        ("ispa-e1", "198.18.0.1/30", "ca-e0", "198.18.0.2/30"),
        ("ispb-e1", "198.18.1.1/30", "cb-e0", "198.18.1.2/30"),
    }
    assert [str(r.router_id) for r in plan.routers.values()] == [
        "100.127.0.1",
        "100.127.0.2",
        "100.127.0.3",
        "100.127.0.4",
        "100.127.0.5",
        "100.127.0.6",
    ]


def test_world_pools_interfaces_and_sessions():
    plan = make_plan(load_topology("world"))
    seen = set()
    for link in plan.links:
        pool = {
            "infra": INFRA_POOL,
            "uplink": INFRA_POOL,
            "server": SERVER_POOL,
            "client": CLIENT_POOL,
        }[link.kind]
        for end in (link.a, link.b):
            assert end.address.ip in pool
            assert len(end.name) <= 15
            assert end.address.ip not in seen
            seen.add(end.address.ip)
    # every session's address is the peer's own interface address, both ways
    for router in plan.routers.values():
        for n in router.neighbors:
            assert plan.owner_of(n.address) == n.peer
            assert any(m.peer == router.name for m in plan.routers[n.peer].neighbors)
    assert sum(len(r.neighbors) for r in plan.routers.values()) == 2 * (6 + 8 + 4)


def test_announcements_and_servers():
    plan = make_plan(load_topology("world"))
    assert plan.routers["lon"].networks == [IPv4Network("192.0.2.0/24")]
    assert plan.routers["isppar"].networks == [IPv4Network("198.18.2.0/24")]
    assert plan.routers["eu"].networks == []
    server = plan.hosts["lon-1"]
    assert [str(x) for x in server.loopbacks] == ["192.0.2.53/32"]
    assert plan.routers["lon"].statics == [
        (IPv4Network("192.0.2.53/32"), server.interface.address.ip)
    ]
    assert plan.hosts["paris"].gateway == IPv4Address("198.18.2.1")
    assert set(plan.expected_prefixes()) == {IPv4Network("192.0.2.0/24")} | {
        IPv4Network(f"198.18.{k}.0/24") for k in range(8)
    }
    assert plan.site_routers() == {"nyc": "nyc", "lon": "lon", "tyo": "tyo", "gru": "gru"}


def test_start_order_goes_from_the_originating_routers_inwards():
    plan = make_plan(load_topology("chain:6"))
    order = plan.start_order()
    # origin (the site) and observer (the eyeball) announce; the chain fills in from both ends
    assert order[:2] == ["observer", "origin"]
    assert sorted(order) == sorted(plan.frr_routers())
    hops = {"observer": 0, "origin": 0, "t1": 1, "t6": 1, "t2": 2, "t5": 2, "t3": 3, "t4": 3}
    assert [hops[name] for name in order] == sorted(hops.values())


def test_start_order_leaves_out_ryu_site_nodes_but_starts_from_them():
    topo = load_topology("chain:6")
    data = topo.model_dump(by_alias=True, exclude_none=True)
    data["sites"][0]["speaker"] = "ryu"
    plan = make_plan(type(topo).model_validate(data))
    order = plan.start_order()
    assert "origin" not in order
    # t1 is next to the Ryu origin: one hop from an originator, not five
    assert order[:3] in (["observer", "t1", "t6"], ["observer", "t6", "t1"])
