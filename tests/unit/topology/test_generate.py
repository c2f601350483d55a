"""Generated topologies and the builder API."""

import pytest

from testbed.errors import InputError
from testbed.topology.generate import TopologyBuilder, chain, clique, two_sites
from testbed.topology.load import load_topology
from testbed.topology.model import ActionCommunity
from testbed.topology.plan import make_plan
from testbed.topology.relationships import as_relationships


def test_two_sites_builder_equals_the_shipped_file():
    assert two_sites() == load_topology("two-sites")


def test_chain_shape():
    plan = make_plan(load_topology("chain:50"))
    assert len(plan.routers) == 52  # 50 transit + site router + eyeball router
    assert len(plan.hosts) == 2
    t1 = plan.routers["t1"]
    assert {n.peer for n in t1.neighbors} == {"t2", "origin"}


def test_clique_is_a_full_mesh_with_origin_and_observer():
    topo = clique(5)
    assert len(topo.links) == 5 * 4 // 2 + 1
    plan = make_plan(topo)
    assert len(plan.routers["t3"].neighbors) == 4
    assert plan.routers["origin"].role == "site"
    assert [c.name for c in plan.clients()] == ["client"]


@pytest.mark.parametrize(
    "spec,msg",
    [
        ("chain:x", "whole number"),
        ("chain:0", "between 1"),
        ("clique:99", "between 2 and 40"),
        ("ring:4", "no generator"),
    ],
)
def test_bad_specs(spec, msg):
    with pytest.raises(InputError, match=msg):
        load_topology(spec)


def test_builder_validates_like_a_file():
    b = TopologyBuilder("bad")
    b.transit("t1", 65001).anycast().site("s1", upstream="t9")
    with pytest.raises(InputError, match=r"builder bad: sites\[0\].upstream"):
        b.build()


def test_chain_of_one():
    assert len(chain(1).ases) == 3


def _policy_builder() -> TopologyBuilder:
    """Two transits that peer, a customer chain t3 -> t1, a site at each end."""
    b = TopologyBuilder("rels", "relationships through the builder")
    b.transit(
        "t1",
        65001,
        customers=["t3"],
        actions=[
            {"community": "65001:6000", "no_export_to": "peers"},
            ActionCommunity(community="65001:6001", prepend=1, description="once towards peers"),
        ],
    )
    b.transit("t2", 65002, peers=["t1"]).transit("t3", 65003)
    b.link("t1", "t2", rel="peer", delay="5ms").link("t3", "t1")
    b.anycast(peers=["isp"]).site("a", upstream=["t2", "isp1"]).site("b", upstream="t3")
    b.eyeball("isp", 64512, routers=["isp1"], peers=["t3"])
    b.link("isp1", "t1", rel="customer-provider").link("isp1", "t3")
    return b.client("c1", "isp")


def test_builder_declares_relationships_and_actions():
    topo = _policy_builder().build()
    t1 = topo.as_by_name("t1")
    assert t1 is not None and t1.customers == ["t3"] and not t1.peers
    assert [(a.community, a.prepend, a.no_export_to) for a in t1.actions] == [
        ("65001:6000", None, "peers"),
        ("65001:6001", 1, None),
    ]
    assert t1.actions[1].description == "once towards peers"
    assert [(link.rel, link.delay) for link in topo.links[:2]] == [("peer", "5ms"), (None, None)]
    rel = as_relationships(topo)
    assert rel[("t1", "t2")] == "peer" and rel[("t1", "t3")] == "customer"
    assert rel[("isp", "t1")] == "provider"  # the link's rel
    assert rel[("isp", "t3")] == "peer"  # the AS's list, over the eyeball's implied provider
    assert rel[("anycast", "isp")] == "peer" and rel[("anycast", "t2")] == "provider"
    # nothing said, nothing written: the file data stays as small as before
    plain = TopologyBuilder("plain").transit("t", 1).link("t", "u").data
    assert plain["ases"] == [{"name": "t", "asn": 1, "role": "transit"}]
    assert plain["links"] == [{"a": "t", "b": "u"}]


@pytest.mark.parametrize(
    "change,field",
    [
        (lambda b: b.link("t1", "t3", rel="sideways"), r"links\[4\]\.rel"),
        (
            lambda b: b.transit("t9", 65009, actions=[{"community": "no-export", "prepend": 1}]),
            r"ases\[5\]\.actions\[0\]\.community",
        ),
        (lambda b: b.eyeball("isp9", 64519, customers=["nobody"]), r"ases\[5\]\.customers\[0\]"),
    ],
)
def test_builder_relationships_are_validated_like_a_file(change, field):
    with pytest.raises(InputError, match=rf"builder rels: {field}"):
        change(_policy_builder()).build()
