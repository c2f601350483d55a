"""Relationships resolved from a topology, and the community value type."""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

from testbed.topology.load import load_topology, parse_topology
from testbed.topology.model import ActionCommunity, Community, Link, LinkParams, Site
from testbed.topology.plan import make_plan, uses_policy
from testbed.topology.relationships import (
    as_relationships,
    implied,
    provider_cycle,
    tag_community,
    uses_relationships,
    valley_free_reach,
)
from testbed.topology.validate import topology_warnings

from .test_policy_validation import DATA, PLAIN

POLICY = parse_topology(copy.deepcopy(DATA), "policy.yaml")


def test_the_policy_topology_resolves_every_pair_both_ways():
    rel = as_relationships(POLICY)
    assert rel[("t1", "t2")] == rel[("t2", "t1")] == "peer"  # a link's rel
    assert rel[("t1", "t5")] == rel[("t5", "t1")] == "peer"  # t1's peers list
    assert rel[("t2", "t5")] == "peer"  # t5's peers list, a link to router t2a
    assert (rel[("t3", "t1")], rel[("t1", "t3")]) == ("provider", "customer")
    assert (rel[("t4", "t3")], rel[("t3", "t4")]) == ("provider", "customer")
    # implied: sites buy transit from their upstreams' ASes, eyeballs from their transits
    assert rel[("anycast", "t2")] == rel[("anycast", "t4")] == "provider"
    assert rel[("t2", "anycast")] == rel[("t4", "anycast")] == "customer"
    assert rel[("isp1", "t1")] == rel[("isp2", "t2")] == rel[("isp5", "t5")] == "provider"
    assert rel[("t5", "isp5")] == "customer"
    assert len(rel) == 20  # 10 neighbouring pairs, both ways; none inside t2


def test_no_declaration_means_no_relationships_at_all():
    plain = parse_topology(copy.deepcopy(PLAIN), "t.yaml")
    assert not uses_relationships(plain)
    assert as_relationships(plain) == {}
    assert not uses_relationships(load_topology("world"))
    assert as_relationships(load_topology("world")) == {}
    assert uses_relationships(load_topology("world-policy"))


def test_declarations_win_over_what_is_implied():
    data = copy.deepcopy(DATA)
    # isp1 peers with t1 instead of buying transit; the anycast AS peers with t2
    next(a for a in data["ases"] if a["name"] == "isp1")["peers"] = ["t1"]
    next(a for a in data["ases"] if a["name"] == "t2")["peers"] = ["anycast"]
    rel = as_relationships(parse_topology(data, "t.yaml"))
    assert rel[("isp1", "t1")] == rel[("t1", "isp1")] == "peer"
    assert rel[("anycast", "t2")] == rel[("t2", "anycast")] == "peer"
    assert rel[("anycast", "t4")] == "provider"  # still implied


def test_implied_relationships_name_their_origin():
    fields = {(d.me, d.them): d.field for d in implied(POLICY)}
    assert fields[("anycast", "t2")] == "sites[0].upstream"
    assert fields[("isp1", "t1")] == "ases[6]"


def test_world_policy_relationships():
    rel = as_relationships(load_topology("world-policy"))
    transits = ["na", "eu", "asia", "sa"]
    for a in transits:
        for b in transits:
            if a != b:
                assert rel[(a, b)] == "peer"
    assert rel[("anycast", "eu")] == "provider" and rel[("eu", "anycast")] == "customer"
    assert rel[("ispsyd", "asia")] == "provider"
    assert len(rel) == 2 * (6 + 4 + 8)


def test_world_policy_is_world_with_relationships():
    """Same ASes, links, sites and clients as world: only relationships and actions added."""
    world = load_topology("world").model_dump(exclude={"name", "description"})
    policy = load_topology("world-policy").model_dump(exclude={"name", "description"})
    for asys in policy["ases"]:
        asys["actions"] = []
    for link in policy["links"]:
        link["rel"] = None
    assert policy == world


def test_provider_cycle():
    assert provider_cycle({}) is None
    rel = {("a", "b"): "provider", ("b", "c"): "provider", ("c", "a"): "provider"}
    assert provider_cycle(rel) == ["a", "b", "c", "a"]
    rel = {("a", "b"): "provider", ("b", "c"): "provider", ("a", "c"): "provider"}
    assert provider_cycle(rel) is None
    assert provider_cycle({("a", "b"): "peer", ("b", "a"): "peer"}) is None
    assert provider_cycle(as_relationships(POLICY)) is None


def test_tags_are_large_communities_of_the_own_as():
    assert tag_community(65001, "customer") == "65001:0:1"
    assert tag_community(4200000000, "peer") == "4200000000:0:2"
    assert tag_community(64500, "provider") == "64500:0:3"


def test_uses_policy():
    assert uses_policy(POLICY)
    assert not uses_policy(load_topology("two-sites"))
    data = copy.deepcopy(PLAIN)
    data["sites"][0]["communities"] = ["no-export"]
    assert uses_policy(parse_topology(data, "t.yaml"))
    data = copy.deepcopy(PLAIN)
    data["sessions"] = [{"a": "t1", "b": "t2", "communities": ["1:1"]}]
    assert uses_policy(parse_topology(data, "t.yaml"))
    data = copy.deepcopy(PLAIN)
    data["ases"][0]["actions"] = [{"community": "65001:6602", "no_export_to": "t2"}]
    assert uses_policy(parse_topology(data, "t.yaml"))


def test_plan_policies_of_the_policy_topology():
    plan = make_plan(POLICY)
    t1 = {n.peer: n for n in plan.routers["t1"].neighbors}
    assert {p: n.policy.rel for p, n in t1.items()} == {
        "t2a": "peer",
        "t5": "peer",
        "t3": "customer",
        "isp1": "customer",
    }
    assert t1["t3"].policy.tag == "65001:0:1" and t1["t3"].local_pref == 200
    assert t1["t2a"].local_pref == 150
    assert t1["t3"].policy.exports == []  # everything to a customer
    t2a = {n.peer: n for n in plan.routers["t2a"].neighbors}
    assert t2a["t1"].local_pref == 120  # the session's own local_pref wins over the class
    assert t2a["t2b"].policy.rel is None and t2a["t2b"].policy.imports == []  # iBGP
    assert t2a["t2b"].local_pref is None
    t3 = {n.peer: n for n in plan.routers["t3"].neighbors}
    assert t3["t1"].policy.communities == ["65003:100"]  # the session's
    b = plan.routers["b"].neighbors[0]
    assert (b.policy.rel, b.policy.communities) == ("provider", ["65001:6001"])
    a = plan.routers["a"].neighbors[0]
    assert (a.policy.communities, a.policy.large_communities) == (["64500:100"], ["64500:1:2"])
    # t1's action towards t5 alone: 65001:6605 (no export to t5)
    t5_whys = [e.why for e in t1["t5"].policy.exports]
    assert "action 65001:6605: not to AS t5" in t5_whys
    assert "action 65001:6605: not to AS t5" not in [e.why for e in t1["t2a"].policy.exports]
    assert [e.seq for e in t1["t5"].policy.exports] == [20, 30, 40, 50, 60, 70, 80, 90]
    assert t1["t5"].policy.exports[-1].match is None and t1["t5"].policy.exports[-1].permit


def test_no_policy_without_relationships_or_communities():
    plan = make_plan(load_topology("world"))
    assert all(n.policy is None for r in plan.routers.values() for n in r.neighbors)
    assert all(not r.community_lists for r in plan.routers.values())


@pytest.mark.parametrize(
    "text,value,large,well_known",
    [
        ("64500:100", "64500:100", False, False),
        ("0:0", "0:0", False, False),
        ("65535:65535", "65535:65535", False, False),
        ("064500:0100", "64500:100", False, False),
        ("4294967295:4294967295:4294967295", "4294967295:4294967295:4294967295", True, False),
        ("no-export", "no-export", False, True),
        ("65535:65281", "no-export", False, True),
        ("65535:65282", "no-advertise", False, True),
        ("65535:65284", "no-peer", False, True),
        ("65535:0", "graceful-shutdown", False, True),
        ("graceful-shutdown", "graceful-shutdown", False, True),
    ],
)
def test_community_values(text, value, large, well_known):
    c = Community.parse(text)
    assert (c, c.large, c.well_known) == (value, large, well_known)
    assert isinstance(c, str) and Community.parse(c) is c


@pytest.mark.parametrize(
    "bad",
    ["", "1", "1:", ":1", "1:2:3:4", "a:b", "-1:2", "1.5:2", " 1:2", "NO-EXPORT", "blackhole",
     "65536:0", "1:65536", "4294967296:0:0", "1:" + "9" * 5000, "１:２"],
)  # fmt: skip
def test_bad_communities(bad):
    with pytest.raises(ValueError):
        Community.parse(bad)


def test_communities_in_models_dump_as_text():
    site = Site(name="s", upstream="t", communities=["65535:0", "64500:1:02"])
    assert site.model_dump(mode="json")["communities"] == ["graceful-shutdown", "64500:1:2"]
    assert site.model_dump()["communities"] == ["graceful-shutdown", "64500:1:2"]
    with pytest.raises(ValidationError):
        ActionCommunity(community="1:1", prepend=1, no_export_to="peers")


def test_link_params_leave_out_the_relationship():
    link = Link(a="x", b="y", delay="5ms", rel="peer")
    assert link.params() == LinkParams(delay="5ms")


def test_valley_free_reach():
    rel = as_relationships(POLICY)
    assert valley_free_reach(rel, ["anycast"]) == {a.name for a in POLICY.ases}
    # isp5's prefix: up to t5, sideways to t1 and t2, down to their customers; t1 does
    # not pass its peer route to its other peer, but every tier-1 here peers with t5
    assert valley_free_reach(rel, ["isp5"]) == {a.name for a in POLICY.ases}
    line = {  # a - b peers, b - c peers, d buys from c
        ("a", "b"): "peer", ("b", "a"): "peer", ("b", "c"): "peer", ("c", "b"): "peer",
        ("d", "c"): "provider", ("c", "d"): "customer",
    }  # fmt: skip
    assert valley_free_reach(line, ["a"]) == {"a", "b"}  # b does not pass a's route to c
    assert valley_free_reach(line, ["d"]) == {"d", "c", "b"}
    assert valley_free_reach({}, ["x"]) == {"x"}


def test_a_client_that_valley_free_export_leaves_without_the_service_is_warned_about():
    data = copy.deepcopy(PLAIN)
    data["links"][0]["rel"] = "peer"  # t1 - t2
    data["links"][2]["rel"] = "peer"  # t2 - t3: t3 never learns the site behind t1
    data["ases"][4]["customers"] = ["isq"]
    assert topology_warnings(parse_topology(data, "t.yaml")) == [
        "client 'c1' gets no route to the anycast service: valley-free export under the "
        "declared relationships passes none to AS 'isp'"
    ]
    data["links"][2]["rel"] = "customer-provider"  # t2 buys from t3: t3 gets t2's customers'
    assert topology_warnings(parse_topology(data, "t.yaml")) == [
        "client 'c1' gets no route to the anycast service: valley-free export under the "
        "declared relationships passes none to AS 'isp'"
    ]  # t2's route to the site is a peer route: not passed up to t3
    data["links"][0]["rel"] = "customer-provider"  # t1 buys from t2, t2 from t3
    assert topology_warnings(parse_topology(data, "t.yaml")) == []
