"""Mixed FRR/BIRD topologies: every BIRD router's filters decide as its route-maps would.

For each router of an AS with ``daemon: bird``, each neighbour and each
route of a table (communities: none, each one its policy knows, the
well-known ones, other ASes' tags, pairs of them; AS paths), three answers
must agree: what the plan's :class:`~testbed.topology.plan.NeighborPolicy`
means (:func:`routepolicy.intended`), what the rendered frr.conf's
route-map does, and what the rendered bird.conf's filter does (both read
back from their text, :mod:`routepolicy`).  Pure: no daemon runs.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any, Dict, List, Tuple

import pytest

from testbed.net import bird, frr
from testbed.topology.load import load_topology, parse_topology
from testbed.topology.model import WELL_KNOWN_COMMUNITIES
from testbed.topology.plan import Plan, RouterPlan, make_plan
from testbed.topology.relationships import TAG_NUMBER, tag_community

from ..topology.test_policy_validation import DATA
from .routepolicy import Route, bird_decides, frr_decides, intended


def with_daemons(data: Dict[str, Any], names: List[str]) -> Dict[str, Any]:
    """The topology data with ``daemon: bird`` on the ASes named."""
    data = copy.deepcopy(data)
    for asys in data["ases"]:
        if asys["name"] in names:
            asys["daemon"] = "bird"
    return data


def world_policy_mixed() -> Plan:
    """world-policy with two of its four transits and three eyeballs on BIRD."""
    data = load_topology("world-policy").model_dump(mode="json", by_alias=True)
    names = ["eu", "asia", "ispny", "isppar", "isptyo"]
    return make_plan(parse_topology(with_daemons(data, names), "world-policy"))


def policy_mixed() -> Plan:
    """tests/topologies/policy.yaml with t1 (actions), t2 (iBGP), t4 and isp2 on BIRD, and
    session overrides from a BIRD router (prepend, MED, local preference, communities)."""
    data = with_daemons(DATA, ["t1", "t2", "t4", "isp2"])
    data["sessions"] += [
        {"a": "t1", "b": "t5", "prepend": 2, "med": 30, "communities": ["no-export", "65001:9:9"]},
        {"a": "t1", "b": "t3", "local_pref": 170, "communities": ["no-peer"]},
        {"a": "t2b", "b": "isp2", "med": 5},
    ]
    return make_plan(parse_topology(data, "policy.yaml"))


PLANS = {"world-policy": world_policy_mixed, "policy": policy_mixed}


def route_table(router: RouterPlan, plan: Plan) -> List[Route]:
    """Routes to try on the router's sessions: every community its lists hold, the
    well-known ones, its own and a neighbour's tags, an unrelated one, and pairs."""
    values: List[str] = []
    for cl in router.community_lists:
        values += cl.values
    values += list(WELL_KNOWN_COMMUNITIES)
    neighbour = plan.routers[router.neighbors[0].peer].asn
    for asn in (router.asn, neighbour):
        values += [tag_community(asn, rel) for rel in TAG_NUMBER]
    values += ["65099:1", "65099:1:1"]
    values = list(dict.fromkeys(values))
    paths: List[Tuple[int, ...]] = [(), (neighbour,), (65099, 65098)]
    routes = [Route(path=p) for p in paths]
    routes += [Route(path=p).add(v) for v in values for p in paths[1:]]
    routes += [Route(path=(neighbour,)).add(a).add(b) for a, b in itertools.combinations(values, 2)]
    return routes


def disagreements(plan: Plan, bird_text_of=None) -> List[str]:
    """Every (router, session, direction, route) where FRR's or BIRD's answer is not the plan's."""
    out: List[str] = []
    for name in plan.bird_routers():
        router = plan.routers[name]
        frr_text = frr.render_config(router, plan)
        bird_text = (bird_text_of or bird.render_config)(router, plan)
        for n in router.neighbors:
            sym = bird.symbol(n.peer)
            for route in route_table(router, plan):
                for direction in ("in", "out"):
                    want = intended(router, n, direction, route)
                    got_frr = frr_decides(frr_text, f"{n.peer}-{direction}", route)
                    got_bird = bird_decides(bird_text, f"{direction}_{sym}", route)
                    for who, got in (("frr", got_frr), ("bird", got_bird)):
                        if got != want:
                            where = f"{name} {direction} {n.peer} {who}"
                            out.append(f"{where}: {route} -> {got} != {want}")
    return out


@pytest.mark.parametrize("which", sorted(PLANS))
def test_bird_filters_decide_as_the_route_maps(which):
    plan = PLANS[which]()
    assert plan.bird_routers(), "the mixed topology has BIRD routers"
    bad = disagreements(plan)
    assert not bad, f"{len(bad)} disagreements, e.g.\n" + "\n".join(bad[:10])


def test_the_table_exercises_every_kind_of_decision():
    """Rejections, graceful shutdown, action prepends, session prepends, MED, tags and
    session communities all occur, so agreement is not agreement on nothing."""
    plan = policy_mixed()
    seen = set()
    for name in plan.bird_routers():
        router = plan.routers[name]
        for n in router.neighbors:
            for route in route_table(router, plan):
                for direction in ("in", "out"):
                    got = intended(router, n, direction, route)
                    if got is None:
                        seen.add("reject")
                        continue
                    if got.local_pref == 0:
                        seen.add("graceful shutdown")
                    if len(got.path) >= len(route.path) + 3:
                        seen.add("prepend 3")
                    if got.med is not None:
                        seen.add("med")
                    if got.large - route.large:
                        seen.add("tag or large community")
                    if "65535:65281" in got.communities - route.communities:
                        seen.add("no-export added")
                    if got.local_pref == 170:
                        seen.add("session local_pref")
    assert seen == {
        "reject",
        "graceful shutdown",
        "prepend 3",
        "med",
        "tag or large community",
        "no-export added",
        "session local_pref",
    }


def test_a_wrong_filter_is_caught():
    """Drop the no-peer rule from t1's BIRD filters: the comparison finds it."""
    plan = policy_mixed()

    def broken(router, plan_):
        text = bird.render_config(router, plan_)
        return text.replace("if bgp_community ~ NO_PEER then reject;", "")

    bad = disagreements(plan, broken)
    assert bad and all(" bird: " in line for line in bad)
    assert any(line.startswith("t1 out t5 bird") for line in bad)


def test_the_mixed_plans_carry_the_daemon():
    plan = policy_mixed()
    assert plan.bird_routers() == ["t1", "t2a", "t2b", "t4", "isp2"]
    assert plan.routers["t3"].daemon == "frr" and plan.routers["a"].daemon == "frr"
    # a BIRD router runs a daemon, not FRR
    assert plan.routers["t1"].routed and plan.routers["t1"].bird and not plan.routers["t1"].frr
    assert "t1" in plan.start_order() and "t1" not in plan.frr_routers()
    assert "t1" in plan.routed_routers() and "t3" in plan.frr_routers()
