"""Generated topologies and the builder API."""

import pytest

from testbed.errors import InputError
from testbed.topology.generate import TopologyBuilder, chain, clique, two_sites
from testbed.topology.load import load_topology
from testbed.topology.plan import make_plan


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
