"""Business relationships and communities on real FRR (tests/topologies/policy.yaml).

t1, t2 and t5 are tier-1s that peer; t3 buys transit from t1 and t4 from t3;
site a sits behind t2, site b at the end of the customer chain t1 <- t3 <- t4
and tags its announcement with t1's action community 65001:6001 (prepend once
towards peers).  Shortest-path reasoning sends c1 (behind t1) to a through
the peer t2; Gao-Rexford sends it to b: t1 prefers its customer's route.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any, Dict, List

import pytest

from testbed.net import frr
from testbed.net.build import Testbed
from testbed.policy.live import check_testbed
from testbed.topology.load import load_topology

TOPOLOGY = Path(__file__).resolve().parents[1] / "topologies" / "policy.yaml"
ANYCAST = "192.0.2.0/24"


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    """The policy topology, up and converged, for the module's tests."""
    with Testbed(load_topology(str(TOPOLOGY)), tmp_path_factory.mktemp("run")) as tb:
        conv = tb.wait_converged(timeout=90)
        assert conv.converged, conv.missing
        tb.converged = conv  # type: ignore[attr-defined]
        yield tb


def paths(router: str, prefix: str) -> List[Dict[str, Any]]:
    """The router's BGP paths to ``prefix`` (FRR's detail JSON)."""
    out = json.loads(frr.vtysh(router, f"show bgp ipv4 unicast {prefix} json") or "{}")
    return out.get("paths", [])


def as_paths(router: str, prefix: str) -> List[str]:
    return sorted(p["aspath"]["string"] for p in paths(router, prefix))


def test_a_customer_route_beats_a_shorter_peer_route(policy):
    assert policy.site_of("c1") == "b"  # shortest path would say a
    assert policy.site_of("c2") == "a"
    assert policy.site_of("c5") == "a"
    by_path = {p["aspath"]["string"]: p for p in paths("t1", ANYCAST)}
    customer, peer = by_path["65003 65004 64500"], by_path["65002 64500"]
    assert customer["bestpath"]["overall"] is True
    assert (customer["locPrf"], peer["locPrf"]) == (200, 150)
    # the class tags travel with the routes (large communities, added, not replacing)
    assert "65001:0:1" in customer["largeCommunity"]["string"]
    assert "65001:0:2" in peer["largeCommunity"]["string"]


def test_a_peer_route_is_not_exported_to_another_peer(policy):
    # isp2's prefix reaches t5 from its peer t2 only: t1 learnt it from a peer too
    assert as_paths("t5", "198.18.1.0/24") == ["65002 64513"]
    # and isp5's reaches t2 only from t5, not through t1
    assert as_paths("t2a", "198.18.2.0/24") == ["65005 64515"]


def test_an_action_community_prepends_towards_peers_only(policy):
    towards_peer = [p for p in as_paths("t5", ANYCAST) if p.endswith("65003 65004 64500")]
    assert towards_peer == ["65001 65001 65003 65004 64500"]
    assert as_paths("isp1", ANYCAST)[0] == "65001 65003 65004 64500"  # a customer: no prepend


def test_every_router_has_the_routes_valley_free_export_brings(policy):
    conv = policy.converged
    assert not conv.no_route.get("missing")
    # the routers the policy leaves without a route are named, not waited for
    for router, prefixes in conv.no_route.get("policy", {}).items():
        table = policy.routes([IPv4Network(p) for p in prefixes])[router]
        assert not table, (router, prefixes)


def test_the_policy_check_finds_no_violation(policy):
    check = check_testbed(policy)
    assert check is not None and check.passed, [v.line() for v in check.violations]
    assert check.paths > 20 and check.ok == check.paths - check.unknown
    assert check.line().startswith("policy check passed:")


def wait_for(predicate, timeout: float = 15.0) -> bool:
    """Poll ``predicate`` every 0.2 s until it is true (a hang guard, not a timing)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_no_export_keeps_a_sites_route_inside_its_upstreams_as(policy):
    """Site b announces with no-export: t4 (its upstream's AS) keeps the route, no one
    beyond it hears of b, and c1 falls back to a.  Then b's own communities again."""
    speaker = policy.speaker("b")
    own = list(speaker.communities)
    try:
        speaker.set_policy(speaker.prepend, speaker.med, communities=["no-export"])
        assert wait_for(lambda: not any("65004" in p for p in as_paths("t3", ANYCAST)))
        assert not any("65004" in p for p in as_paths("t1", ANYCAST))
        assert "64500" in as_paths("t4", ANYCAST)  # inside the upstream's AS: kept
        assert wait_for(lambda: policy.site_of("c1") == "a")
    finally:
        speaker.set_policy(speaker.prepend, speaker.med, communities=own)
    assert wait_for(lambda: policy.site_of("c1") == "b")
