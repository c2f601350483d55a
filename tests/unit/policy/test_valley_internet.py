"""The valley-free checker on whole generated internets: Gao–Rexford routing passes, shortest-path
routing with everything exported does not.

The routing here is a small pure simulation of BGP's outcome per destination
(no FRR): each AS's table holds every path its neighbours export to it,
built as FRR prints it, and the checker reads those tables.
"""

from __future__ import annotations

from collections import deque
from typing import Dict, List, Tuple

import pytest

from testbed.policy.valley import check_tables, relationships_from_topology
from testbed.topology.asgraph import AsGraph
from testbed.topology.generate import two_sites
from testbed.topology.internet import STUB, internet, internet_graph


def rel_map(graph: AsGraph) -> Dict[Tuple[int, int], str]:
    rels: Dict[Tuple[int, int], str] = {}
    for provider, customer in graph.p2c:
        rels[(customer, provider)] = "provider"
    for a, b in graph.p2p:
        rels[(a, b)] = "peer"
    return rels


def gao_rexford_paths(graph: AsGraph, origin: int) -> Dict[int, List[int]]:
    """Each AS's best path to ``origin`` (next AS first, origin last) under Gao–Rexford."""
    up, peers = graph.providers(), graph.peers()
    best: Dict[int, List[int]] = {origin: []}
    kind: Dict[int, str] = {origin: "own"}
    # customer routes: up the provider edges, shortest first
    todo = deque([origin])
    while todo:
        asn = todo.popleft()
        for provider in sorted(up[asn]):
            if provider not in best:
                best[provider], kind[provider] = [asn, *best[asn]], "customer"
                todo.append(provider)
    # peer routes: from a peer holding a customer route (or the origin)
    for asn in sorted(graph.names):
        if asn in best:
            continue
        offers = [[p, *best[p]] for p in sorted(peers[asn]) if kind.get(p) in ("own", "customer")]
        if offers:
            best[asn], kind[asn] = min(offers, key=len), "peer"
    # provider routes: down the hierarchy, every provider before its customers
    for asn in top_down(graph):
        offers = [[p, *best[p]] for p in sorted(up[asn]) if p in best]
        if asn not in best and offers:
            best[asn], kind[asn] = min(offers, key=len), "provider"
    return best


def top_down(graph: AsGraph) -> List[int]:
    """The ASes with every provider before its customers (the hierarchy has no cycle)."""
    up, down = graph.providers(), graph.customers()
    waiting = {asn: len(up[asn]) for asn in graph.names}
    todo = deque(sorted(asn for asn, n in waiting.items() if n == 0))
    order = []
    while todo:
        asn = todo.popleft()
        order.append(asn)
        for customer in sorted(down[asn]):
            waiting[customer] -= 1
            if waiting[customer] == 0:
                todo.append(customer)
    return order


def exports(graph: AsGraph, best: Dict[int, List[int]], origin: int) -> Dict[int, List[List[int]]]:
    """Every path each AS receives: a neighbour sends its best path if Gao–Rexford lets it."""
    up, down, peers = graph.providers(), graph.customers(), graph.peers()
    learned_from_customer = {
        asn for asn, path in best.items() if asn == origin or path and path[0] in down[asn]
    }
    received: Dict[int, List[List[int]]] = {asn: [] for asn in graph.names}
    for sender, path in best.items():
        everyone = sender in learned_from_customer
        for receiver in sorted(set(up[sender]) | set(peers[sender]) | set(down[sender])):
            if (everyone or receiver in down[sender]) and receiver not in path:
                received[receiver].append([sender, *path])
    return received


def shortest_paths(graph: AsGraph, origin: int) -> Dict[int, List[int]]:
    """Each AS's shortest path to ``origin`` when every AS exports everything (no policy)."""
    near = graph.neighbours()
    best: Dict[int, List[int]] = {origin: []}
    todo = deque([origin])
    while todo:
        asn = todo.popleft()
        for other in sorted(near[asn]):
            if other not in best:
                best[other] = [asn, *best[asn]]
                todo.append(other)
    return best


def tables(received: Dict[int, List[List[int]]], best: Dict[int, List[int]], prefix: str) -> dict:
    out = {}
    for asn, paths in received.items():
        entries = [
            {"valid": True, "pathFrom": "external", "path": " ".join(map(str, p))}
            | ({"bestpath": True} if asn in best and p == [*best[asn]] else {})
            for p in paths
        ]
        out[f"r{asn}"] = {"localAS": asn, "routes": {prefix: entries}}
    return out


@pytest.mark.parametrize("n,seed", [(50, 0), (200, 4)])
def test_gao_rexford_routing_is_valley_free(n, seed):
    graph, tiers = internet_graph(n, seed)
    rels = rel_map(graph)
    origins = [asn for asn, tier in tiers.items() if tier == STUB][:3]
    for i, origin in enumerate(origins):
        best = gao_rexford_paths(graph, origin)
        assert len(best) == n  # every AS has a route: the tier-1 clique joins them all
        check = check_tables(tables(exports(graph, best, origin), best, f"198.18.{i}.0/24"), rels)
        assert check.passed, check.violations[:3]
        assert check.paths > n and check.unknown == 0 and check.ok == check.paths


def test_shortest_path_routing_has_valleys():
    graph, tiers = internet_graph(200, 4)
    rels = rel_map(graph)
    origin = next(asn for asn, tier in tiers.items() if tier == STUB)
    best = shortest_paths(graph, origin)
    received = {asn: [path] for asn, path in best.items() if asn != origin}
    check = check_tables(tables(received, best, "198.18.0.0/24"), rels, best_only=True)
    assert not check.passed
    kinds = {v.offence.kind for v in check.violations}
    assert kinds & {"valley", "peer-peer", "provider-to-peer", "peer-to-provider"}
    assert check.line().startswith(f"policy check: {len(check.violations)} violation")


def test_relationships_from_a_generated_topology():
    topo = internet(20)
    rels = relationships_from_topology(topo)
    graph, _ = internet_graph(20)
    anycast = next(a.asn for a in topo.ases if a.role == "anycast")
    asn = {a.name: a.asn for a in topo.ases}
    for provider, customer in graph.p2c:
        assert rels[(customer, provider)] == "provider" and rels[(provider, customer)] == "customer"
    for a, b in graph.p2p:
        assert rels[(a, b)] == rels[(b, a)] == "peer"
    for site in topo.sites:
        assert rels[(anycast, asn[site.upstreams()[0]])] == "provider"
    # a topology without relationships: an empty map, nothing judged
    assert relationships_from_topology(two_sites()) == {}
