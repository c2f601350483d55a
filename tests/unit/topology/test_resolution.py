"""Name resolution in a topology: resolvers, nearness, GSLB views, checks (no root)."""

from __future__ import annotations

import copy
from ipaddress import IPv4Address, IPv4Network
from typing import Any, Dict

import pytest

from testbed.errors import InputError
from testbed.topology.load import load_topology, parse_topology
from testbed.topology.model import PUBLIC_RESOLVER
from testbed.topology.plan import make_plan
from testbed.topology.resolution import (
    client_resolver_address,
    client_resolvers,
    gslb_views,
    nearest_sites,
    resolution_meta,
    resolver_hosts,
    site_anycast_addresses,
)

WORLD: Dict[str, Any] = load_topology("world").model_dump(
    by_alias=True, exclude_unset=True, mode="json"
)


def world(**top: Any):
    """world with top-level keys replaced (``service``, ``resolvers``, ``unicast``...)."""
    data = copy.deepcopy(WORLD)
    data.update(top)
    return parse_topology(data, "w.yaml")


def error(**top: Any) -> str:
    with pytest.raises(InputError) as info:
        world(**top)
    line = str(info.value)
    assert "\n" not in line
    return line


GSLB = {"service": {"publish": "both", "ttl": 5}, "unicast": True}


def test_without_a_service_nothing_changes():
    topo = world()
    plan = make_plan(topo)
    assert resolver_hosts(topo) == [] and plan.resolvers() == []
    assert site_anycast_addresses(topo) == [] and resolution_meta(topo, plan) == {}
    assert all(len(h.loopbacks) == 1 for h in plan.servers())


def test_one_resolver_per_eyeball_as_with_clients_hanging_off_its_access_router():
    topo = world(**GSLB)
    plan = make_plan(topo)
    hosts = resolver_hosts(topo)
    assert [h.name for h in hosts] == [f"res{i}" for i in range(1, 9)]
    assert {h.as_name for h in hosts} == {c.as_ for c in topo.clients}
    by_client = client_resolvers(topo)
    paris = next(c for c in topo.clients if c.name == "paris")
    res = next(h for h in hosts if h.name == by_client["paris"])
    assert res.as_name == paris.as_
    address, name = client_resolver_address(topo, plan, "paris")
    assert name == res.name
    client = plan.hosts["paris"].interface.address.network
    assert IPv4Address(address) in IPv4Network(f"{client.network_address}/24")
    assert [h.name for h in plan.resolvers()] == [h.name for h in hosts]


def test_servers_hold_the_gslb_authority_and_the_public_resolver_only_when_used():
    plan = make_plan(world(**GSLB))
    assert all(IPv4Address("192.0.2.54") in [i.ip for i in h.loopbacks] for h in plan.servers())
    public = world(service={"publish": "anycast"}, resolvers={"placement": "public"}, unicast=False)
    plan = make_plan(public)
    held = {i.ip for h in plan.servers() for i in h.loopbacks}
    assert PUBLIC_RESOLVER in held and IPv4Address("192.0.2.54") not in held
    assert resolver_hosts(public) == [] and plan.resolvers() == []
    assert client_resolver_address(public, plan, "paris") == (str(PUBLIC_RESOLVER), "public")


@pytest.mark.parametrize("share, count", [(0.0, 0), (0.1, 1), (0.25, 2), (0.5, 4), (1.0, 8)])
def test_a_share_of_resolvers_violates_ttls_always_the_same_ones(share, count):
    spec = {"violating": {"share": share, "min_ttl": 120}, "min_ttl": 2}
    hosts = resolver_hosts(world(**GSLB, resolvers=spec))
    bad = [h for h in hosts if h.violating]
    assert len(bad) == count
    assert all(h.min_ttl == 120 for h in bad) and all(
        h.min_ttl == 2 for h in hosts if not h.violating
    )
    again = resolver_hosts(world(**GSLB, resolvers=spec))
    assert [h.name for h in again if h.violating] == [h.name for h in bad]


def test_named_ases_violate_ttls():
    spec = {"violating": {"ases": ["ispsyd", "isppar"], "min_ttl": 20}}
    bad = [h.as_name for h in resolver_hosts(world(**GSLB, resolvers=spec)) if h.violating]
    assert bad == ["isppar", "ispsyd"]


def test_nearest_sites_follow_delays_not_hops():
    assert nearest_sites(world(**GSLB)) == {
        "newyork": "nyc", "losangeles": "nyc", "paris": "lon", "frankfurt": "lon",
        "tokyo": "tyo", "singapore": "tyo", "sydney": "tyo", "saopaulo": "gru",
    }  # fmt: skip
    data = copy.deepcopy(WORLD)
    for link in data["links"]:  # asia's link to eu becomes faster than its uplink to tyo
        if {link["a"], link["b"]} == {"eu", "asia"}:
            link["delay"] = "1ms"
    for site in data["sites"]:
        if site["name"] == "tyo":
            site["link"] = {"delay": "40ms"}
    data.update(GSLB)
    near = nearest_sites(parse_topology(data, "w.yaml"))
    assert near["tokyo"] == "lon" and near["paris"] == "lon" and near["newyork"] == "nyc"


def test_gslb_views_rank_sites_from_each_access_router_and_each_site():
    topo = world(**GSLB)
    plan = make_plan(topo)
    views = gslb_views(topo, plan)
    paris = plan.hosts["paris"].interface.address.ip
    (order,) = [o for nets, o in views if any(paris in IPv4Network(n) for n in nets)]
    assert order[0] == "lon" and sorted(order) == sorted(s.name for s in topo.sites)
    for site in topo.sites:
        server = next(h for h in plan.servers(site.name))
        mine = [
            o
            for nets, o in views
            if any(server.interface.address.ip in IPv4Network(n) for n in nets)
        ]
        assert mine and mine[0][0] == site.name


def test_meta_says_who_asks_which_resolver_and_what_is_near():
    topo = world(**GSLB, resolvers={"violating": {"share": 1.0, "min_ttl": 60}})
    meta = resolution_meta(topo, make_plan(topo))
    assert meta["service"]["methods"] == ["anycast", "gslb"] and meta["service"]["ttl"] == 5
    assert set(meta["service"]["addresses"]) == {"nyc", "lon", "tyo", "gru"}
    assert meta["resolvers"]["paris"]["violating"] is True
    assert meta["resolvers"]["paris"]["min_ttl"] == 60
    assert meta["nearest_site"]["tokyo"] == "tyo"


@pytest.mark.parametrize(
    "top, words",
    [
        ({"resolvers": {}}, ["resolvers", "needs a 'service' block"]),
        ({"service": {"publish": "gslb"}}, ["service.publish", "unicast: true"]),
        ({"service": {"ttl": 0}}, ["service.ttl", "greater than or equal to 1"]),
        ({"service": {"ttl": 90000}}, ["service.ttl", "86400"]),
        ({"service": {"health": {"interval": 0}}}, ["service.health.interval"]),
        ({"service": {"publish": "dns"}}, ["service.publish"]),
        ({**GSLB, "resolvers": {"min_ttl": 100, "max_ttl": 10}}, ["min_ttl (100) is above"]),
        ({**GSLB, "resolvers": {"aggressive_nsec": True}}, ["resolvers.aggressive_nsec"]),
        ({**GSLB, "service": {"publish": "gslb", "authority": "192.0.2.53"}},
         ["service.authority", "service address"]),
        ({**GSLB, "service": {"publish": "gslb", "authority": "198.51.100.1"}},
         ["service.authority", "not inside"]),
        ({**GSLB, "resolvers": {"violating": {"share": 1.5}}}, ["resolvers.violating.share"]),
        ({**GSLB, "resolvers": {"violating": {"share": 0.5, "ases": ["ispny"]}}},
         ["resolvers.violating", "not both"]),
        ({**GSLB, "resolvers": {"violating": {"ases": ["nowhere"]}}},
         ["resolvers.violating.ases[0]", "no AS called"]),
        ({**GSLB, "resolvers": {"violating": {"ases": ["eu"]}}},
         ["resolvers.violating.ases[0]", "no clients"]),
        ({**GSLB, "resolvers": {"serve_stale": True, "ecs": True}},
         ["resolvers", "unbound 1.17"]),
    ],
)  # fmt: skip
def test_bad_settings_are_one_line_naming_the_field(top, words):
    line = error(**top)
    assert all(w in line for w in words), line


def test_a_missing_daemon_is_named_with_its_install_command(monkeypatch):
    import shutil

    from testbed.topology import resolution

    topo = world(**GSLB)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(resolution.Path, "exists", lambda self: False)
    problem = resolution.daemons_missing(topo)
    assert problem is not None
    assert "unbound, pdns_server not installed" in problem
    assert "apt-get install unbound pdns-server pdns-backend-bind" in problem
    anycast_only = world(service={"publish": "anycast"})
    assert "pdns" not in (resolution.daemons_missing(anycast_only) or "")
    assert resolution.daemons_missing(world()) is None
