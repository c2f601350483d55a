"""The internet:N generator: tier sizes, relationship invariants, determinism, bad specs."""

from __future__ import annotations

import pytest

from testbed.checkfile import TOPOLOGY, check_file
from testbed.errors import InputError
from testbed.topology.internet import (
    ASN_BASE,
    LINK_BUDGET,
    STUB,
    TIER1,
    TIER2,
    InternetSpec,
    internet,
    internet_data,
    internet_graph,
    parse_arg,
    tier_sizes,
    with_seed,
)
from testbed.topology.load import list_topologies, load_topology
from testbed.topology.model import SITE_NAME_MAX, is_name
from testbed.topology.plan import checked_plan
from testbed.topology.relationships import as_relationships, uses_relationships


@pytest.mark.parametrize(
    "n,sizes",
    [
        (20, (3, 4, 13)),
        (50, (3, 8, 39)),
        (100, (4, 15, 81)),
        (500, (9, 75, 416)),
        (1000, (12, 150, 838)),
    ],
)
def test_tier_sizes(n, sizes):
    assert tier_sizes(n) == sizes
    graph, tiers = internet_graph(n)
    assert len(graph.names) == n
    counted = tuple(sum(1 for t in tiers.values() if t == tier) for tier in (TIER1, TIER2, STUB))
    assert counted == sizes


@pytest.mark.parametrize("n,seed", [(20, 0), (20, 9), (57, 1), (200, 3), (1000, 0), (1000, 42)])
def test_relationship_invariants(n, seed):
    graph, tiers = internet_graph(n, seed)
    tier = tiers.__getitem__
    providers, customers, peers = graph.providers(), graph.customers(), graph.peers()
    tier1 = [a for a in graph.names if tier(a) == TIER1]
    # the tier-1s form a clique of peers, and buy transit from nobody
    for i, a in enumerate(tier1):
        assert not providers[a]
        assert set(tier1[i + 1 :]) <= set(peers[a])
    for asn in graph.names:
        if tier(asn) == TIER2:
            assert 1 <= len(providers[asn]) <= 3
            assert all(tier(p) == TIER1 for p in providers[asn])
            assert all(tier(p) == TIER2 for p in peers[asn])
        if tier(asn) == STUB:
            assert 1 <= len(providers[asn]) <= 2
            assert all(tier(p) == TIER2 for p in providers[asn])
            assert not peers[asn] and not customers[asn]
    # every pair related once, no provider cycle, one connected graph
    pairs = [frozenset(p) for p in graph.p2c + graph.p2p]
    assert len(pairs) == len(set(pairs))
    assert graph.provider_cycle() is None
    assert len(graph.connected_components()) == 1
    degree = {a: len(n) for a, n in graph.neighbours().items()}
    assert max(degree.values()) <= LINK_BUDGET
    # 16-bit private AS numbers (a standard community can name each)
    assert min(graph.names) == ASN_BASE and max(graph.names) <= 65534


def test_some_tier_twos_peer_and_cones_are_skewed():
    graph, tiers = internet_graph(500, 0)
    tier2_peerings = [p for p in graph.p2p if tiers[p[0]] == TIER2]
    assert len(tier2_peerings) > 20
    cones = sorted(
        (size for asn, size in graph.customer_cones().items() if tiers[asn] == TIER2), reverse=True
    )
    assert cones[0] > 3 * cones[len(cones) // 2]


def test_deterministic_for_a_seed():
    spec = InternetSpec(120, seed=5)
    assert internet_data(spec) == internet_data(spec)
    assert internet_data(spec) != internet_data(InternetSpec(120, seed=6))
    a, _ = internet_graph(300, 11)
    b, _ = internet_graph(300, 11)
    assert (a.p2c, a.p2p) == (b.p2c, b.p2p)


def test_generated_topology_validates_with_relationships():
    topo = load_topology("internet:60:seed=2,sites=4,clients=10")
    assert topo.name == "internet60-seed2"
    assert topo.description.startswith("internet:60:seed=2,sites=4,clients=10: 3 tier-1,")
    assert len([a for a in topo.ases if a.role != "anycast"]) == 60
    assert len(topo.sites) == 4 and len(topo.clients) == 10
    assert all(link.rel in ("customer-provider", "peer") for link in topo.links)
    assert uses_relationships(topo)
    names = [a.name for a in topo.ases] + [s.name for s in topo.sites]
    names += [c.name for c in topo.clients]
    assert all(is_name(n) for n in names) and len(names) == len(set(names))
    assert all(len(s.name) <= SITE_NAME_MAX for s in topo.sites)
    rel = as_relationships(topo)
    roles = {a.name: a.role for a in topo.ases}
    # every AS has relationships; every one but the tier-1s has a provider
    for asys in topo.ases:
        mine = {them: r for (me, them), r in rel.items() if me == asys.name}
        assert mine, asys.name
        if not asys.name.startswith("t"):
            assert "provider" in mine.values(), asys.name
    # sites sit behind tier-2s, of which the anycast AS is a customer; clients in stubs
    ups = {s.upstreams()[0] for s in topo.sites}
    assert all(u.startswith("r") for u in ups)
    assert {them for (me, them), r in rel.items() if me == "anycast"} == ups
    assert all(rel[("anycast", u)] == "provider" for u in ups)
    assert all(roles[c.as_] == "eyeball" and c.as_.startswith("e") for c in topo.clients)
    plan = checked_plan(topo, "internet:60")
    assert len(plan.clients()) == 10


@pytest.mark.timeout(60)  # a hang guard only: it takes well under a second
def test_internet_1000_validates_and_plans():
    """The largest size goes through everything ``validate`` does (load, plan, warnings)."""
    check = check_file("internet:1000")
    assert check.kind == TOPOLOGY and check.topology is not None and check.plan is not None
    topo, plan = check.topology, check.plan
    assert len([a for a in topo.ases if a.role != "anycast"]) == 1000
    assert len(plan.routers) == 1003 and len(plan.clients()) == 8
    assert check.line() == (
        "ok internet:1000: topology internet1000: 1003 routers, 3 sites, 8 clients, 1759 sessions"
    )


@pytest.mark.timeout(120)  # a hang guard only: it takes a few seconds
def test_past_1000_ases_take_private_32_bit_numbers():
    """internet:2000 (the cluster's size, docs/cluster.md): RFC 6996's 32-bit private range,
    which FRR and BIRD both take; up to 1000 the 16-bit numbers stay as they were."""
    check = check_file("internet:2000")
    assert check.topology is not None and check.plan is not None
    numbers = [a.asn for a in check.topology.ases if a.role != "anycast"]
    assert len(numbers) == len(set(numbers)) == 2000
    assert min(numbers) == 4200000000 and max(numbers) == 4200001999
    assert len(check.plan.routers) == 2003
    small = [a.asn for a in load_topology("internet:1000").ases if a.role != "anycast"]
    assert (min(small), max(small)) == (64512, 65511)


def test_defaults_and_listing():
    topo = internet(20)
    assert topo.name == "internet20" and len(topo.sites) == 3 and len(topo.clients) == 8
    assert "internet:N" in [name for name, _ in list_topologies()]
    assert topo == load_topology("internet:20")


@pytest.mark.parametrize(
    "spec,line",
    [
        ("internet:10", "internet:10: N must be between 20 and 4000, got 10"),
        ("internet:5000", "internet:5000: N must be between 20 and 4000, got 5000"),
        ("internet:x", "internet:x: N must be a whole number, got 'x'"),
        ("internet:", "internet:: N must be a whole number, got ''"),
        ("internet:20:sites=5", "internet:20:sites=5: sites must be between 1 and 4, got 5"),
        ("internet:50:clients=0", "internet:50:clients=0: clients must be between 1 and 20, got 0"),
        (
            "internet:50:seed=-1",
            "internet:50:seed=-1: seed must be between 0 and 4294967295, got -1",
        ),
        ("internet:50:colour=red", "internet:50:colour=red: unknown option 'colour=red': "),
        ("internet:50:seed=1,seed=2", "internet:50:seed=1,seed=2: option 'seed' is given twice"),
        ("internet:50:sites=two", "internet:50:sites=two: sites must be a whole number, got 'two'"),
    ],
)
def test_bad_specs_are_one_line(spec, line):
    with pytest.raises(InputError) as info:
        load_topology(spec)
    assert str(info.value).startswith(line)
    assert "\n" not in str(info.value)


def test_spec_text_and_seed():
    assert parse_arg("200:sites=5,seed=7") == InternetSpec(200, seed=7, sites=5)
    assert InternetSpec(200, seed=7, sites=5).spec() == "internet:200:seed=7,sites=5"
    assert InternetSpec(20).spec() == "internet:20"
    assert with_seed("internet:50", 7) == "internet:50:seed=7"
    assert with_seed("internet:50:seed=7,clients=3", 7) == "internet:50:seed=7,clients=3"
    with pytest.raises(InputError, match="--seed 8 differs from the spec's seed=7"):
        with_seed("internet:50:seed=7", 8)
