"""two-sites over real FRR in Mininet: routes, sessions, catchment."""

from __future__ import annotations

import json
from ipaddress import IPv4Network

from testbed.net import frr

ANYCAST = IPv4Network("192.0.2.0/24")


def test_two_sites_every_router_has_every_prefix(two_sites):
    tables = two_sites.routes()
    for router, table in tables.items():
        assert ANYCAST in table, f"{router} has no route to {ANYCAST}"
        for prefix in two_sites.plan.expected_prefixes():
            assert prefix in table, f"{router} has no route to {prefix}"


def test_two_sites_sessions_established(two_sites):
    for router in two_sites.plan.routers:
        summary = json.loads(frr.vtysh(router, "show bgp ipv4 unicast summary json"))
        states = {p: info["state"] for p, info in summary["peers"].items()}
        assert states and set(states.values()) == {"Established"}, (router, states)
        assert len(states) == len(two_sites.plan.routers[router].neighbors)


def test_two_sites_catchment_and_reachability(two_sites):
    assert two_sites.site_of("ca") == "east"
    assert two_sites.site_of("cb") == "west"
    for client in ("ca", "cb"):
        out = two_sites.cmd(client, "ping -c 3 -i 0.2 -W 1 192.0.2.53")
        assert " 0% packet loss" in out, out


def test_two_sites_site_routes_origin_and_bgp_paths(two_sites):
    # ta learns the anycast prefix straight from its own site, AS path "64500"
    out = json.loads(frr.vtysh("ta", "show bgp ipv4 unicast 192.0.2.0/24 json"))
    best = [p for p in out["paths"] if p.get("bestpath", {}).get("overall")]
    assert best and best[0]["aspath"]["string"] == "64500"
    assert len(out["paths"]) == 2  # and the longer one through tb
