"""Lab 7, load steering: its variants (over 1,000 IDs), its network as rendered, its grading."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from typing import Dict, List, Tuple

import pytest
import yaml

from testbed.attack import limits
from testbed.labs import lab7, steering
from testbed.labs.items import SKIPPED
from testbed.labs.registry import get_lab
from testbed.labs.variant import LAB7_MAX_SOURCES, LAB7_RATES, Variant, make_variant
from testbed.labs.workcopy import render_text
from testbed.topology.load import parse_topology
from tests.unit.labs.fake import FakeRun
from tests.unit.labs.helpers import check, failed, workcopy

IDS = [f"s{n:04d}" for n in range(1000)]


@cache
def variant(student: str) -> Variant:
    """A lab 7 variant (made once per test session)."""
    return make_variant(7, student)


@cache
def answer(student: str) -> Dict:
    """A lab 7 variant's answer (computed once per test session)."""
    return variant(student).load_answer()


def shape(student: str) -> Tuple[str, str, int, int, Tuple[str, ...]]:
    """(attacked role, its action, the attacked site's transit, sources, cascade roles)."""
    v = variant(student)
    net = v.load_net()
    outcomes = steering.every_outcome(net)
    (target,) = steering.attacked(net)
    (best,) = steering.best_actions(outcomes, target)  # one answer, at the attacked site
    assert best[0] == target
    after = steering.find(outcomes, *best)
    role = {s.name: r for r, s in v.site.items()}
    cascade = tuple(sorted(role[s] for s in steering.cascade(after, target)))
    pos = next(s.pos for s in v.site.values() if s.name == target)
    return role[target], best[1], pos, len(v.params["attackers"]), cascade


def test_the_answer_takes_every_shape_over_1000_ids():
    """Issue 20's rule for the new labs: variants differ in structure, so do the answers."""
    shapes = [shape(sid) for sid in IDS]
    actions = Counter(s[1] for s in shapes)
    assert set(actions) == set(steering.ACTIONS)
    assert min(actions.values()) >= 150, actions  # each of the four in at least 15%
    cascades = Counter(bool(s[4]) for s in shapes)
    assert min(cascades.values()) >= 350, cascades  # with and without a cascade
    assert len({(s[1], bool(s[4])) for s in shapes}) == 8  # every action both ways
    assert set(Counter(s[0] for s in shapes)) == {"a", "b", "c"}
    assert len(set(s[2] for s in shapes)) >= 6  # the attacked site behind most transits
    assert set(s[3] for s in shapes) == {1, 2, 3}
    assert len(set(shapes)) >= 100


def test_every_variant_keeps_half_a_source_between_load_and_capacity():
    """The arithmetic is exact: no site is ever within half a source's rate of its capacity."""
    for sid in IDS[:300]:
        v = variant(sid)
        rate = v.params["rate"]
        assert rate in LAB7_RATES and len(v.params["attackers"]) <= LAB7_MAX_SOURCES
        total = rate * len(v.params["attackers"])
        assert not limits.problems(rate, len(v.params["attackers"])) and total <= 4500
        net = v.load_net()
        for o in steering.every_outcome(net):
            for site, pps in o.attack.items():
                assert abs(pps - net.capacity[site]) >= rate / 2, (sid, o.label, site)
        assert set(v.params) == {"second_home", "chords", "weights", "rate", "capacity",
                                 "attackers"}, "nothing in .lab.json is an answer"  # fmt: skip


def test_the_shortcut_is_what_best_routes_finds():
    """steering.as_sites (Dijkstra) against the reference, every action of many variants."""
    for sid in IDS[:150]:
        net = variant(sid).load_net()
        for site in [None, *net.sites]:
            for action in [None] if site is None else steering.ACTIONS:
                routing = steering.routing(net, site, action)
                assert not routing.ties
                ref = {a: r.site for a, r in routing.routes.items() if r is not None}
                assert steering.as_sites(net, site, action) == ref, (sid, site, action)


def test_the_rendered_topology_is_the_network_reasoned_on():
    """Router IDs in the plan's order, links, capacities, weights and the attack, as rendered."""
    item = get_lab(7)
    for sid in IDS[:60]:
        v = variant(sid)
        text = render_text(item, v, item.handout / "topology.yaml.j2")
        topo = parse_topology(yaml.safe_load(text), "rendered")
        assert steering.net_of(topo) == v.load_net(), sid


def test_multi_homing_and_extra_links_vary():
    seen = Counter()
    for sid in IDS[:300]:
        v = variant(sid)
        seen["chord"] += bool(v.params["chords"])
        seen["multi"] += bool(v.params["second_home"])
        seen[f"transits{len(v.transits)}"] += 1
        per_transit = Counter(c.pos for c in v.clients)
        seen["crowded"] += max(per_transit.values()) > 1
        seen["empty"] += len(per_transit) < len(v.transits)
    assert all(seen[k] >= 60 for k in ("chord", "multi", "crowded", "empty")), seen
    assert seen["transits6"] >= 60 and seen["transits7"] >= 60


def test_copied_answers_fail_for_other_ids():
    """Another student's right answers are right here in fewer than 1% of 1,000 pairs."""
    passed = 0
    for mine, theirs in zip(IDS, IDS[1:] + IDS[:1], strict=True):
        copied = answer(theirs)
        names = {s.name for s in variant(mine).site.values()}
        if {copied["site"], *copied["overloaded_after"]} <= names and copied == answer(mine):
            passed += 1
    assert passed <= 10


def test_the_handout_scenario_is_the_checks_run_without_the_action(tmp_path):
    from testbed.labs.workcopy import render
    from testbed.scenario.load import load_scenario

    v = make_variant(7, "s7")
    render(get_lab(7), v, tmp_path / "w")
    loaded = load_scenario(str(tmp_path / "w" / "scenario.yaml"))
    handed = [(e.at, e.event) for e in loaded.scenario.timeline]
    ran = [(e["at"], e["event"]) for e in lab7.timeline("x", "withdraw")]
    assert handed == [ran[0], ran[2]]
    assert loaded.scenario.timeline[0].ramp == lab7.RAMP_S


# ------------------------------------------------------------------ grading
def answers_of(dest) -> Dict:
    return yaml.safe_load((dest / "answers.yaml").read_text())


def write(dest, **changes) -> None:
    data = answers_of(dest)
    data.update(changes)
    (dest / "answers.yaml").write_text(yaml.safe_dump(data))


def items_by_id(items) -> Dict:
    return {i.id: i for i in items}


def sid_where(test) -> Tuple[str, Variant]:
    """The first ID whose variant passes ``test``."""
    for sid in IDS:
        v = variant(sid)
        if test(v):
            return sid, v
    raise AssertionError("no such variant")


def test_the_check_runs_the_students_action_during_the_attack(tmp_path):
    dest, v = workcopy(tmp_path, 7, "s1001", solution=True)
    answer = answers_of(dest)
    items, fake = check(dest, v)
    assert not failed(items)
    (scenario,) = fake.calls
    events = scenario["timeline"]
    assert [e["event"] for e in events] == ["attack_start", answer["action"].rstrip("123"),
                                            "attack_stop"]  # fmt: skip
    assert events[1]["site"] == answer["site"] and events[1]["at"] == lab7.ACTION_AT_S
    if answer["action"] != "withdraw":
        assert events[1]["count"] == int(answer["action"][-1])
    assert scenario["duration"] <= 40


def test_a_stronger_action_relieves_but_is_not_the_answer(tmp_path):
    sid, v = sid_where(lambda v: v.load_answer()["action"] != "withdraw")
    dest, _ = workcopy(tmp_path, 7, sid, solution=True)
    site = answers_of(dest)["site"]
    outcome = steering.find(v.load_outcomes(), site, "withdraw")
    write(dest, action="withdraw", overloaded_after=sorted(steering.cascade(outcome, site)))
    items = items_by_id(check(dest, v)[0])
    assert failed(list(items.values())) == ["answer-action"]
    assert items["answer-action"].detail == "not the action asked for"
    assert items["relieved"].passed and items["match-cascade"].passed


def test_a_weak_action_fails_on_the_run(tmp_path):
    sid, v = sid_where(lambda v: v.load_answer()["action"] != "prepend1")
    dest, _ = workcopy(tmp_path, 7, sid, solution=True)
    site = answers_of(dest)["site"]
    outcome = steering.find(v.load_outcomes(), site, "prepend1")
    write(dest, action="prepend1", overloaded_after=sorted(steering.cascade(outcome, site)))
    items = items_by_id(check(dest, v)[0])
    assert failed(list(items.values())) == ["answer-action", "relieved"]
    assert items["relieved"].detail == "no: still overloaded"
    assert items["match-cascade"].passed  # predicted for the action taken


def test_a_wrong_prediction_fails_alone(tmp_path):
    dest, v = workcopy(tmp_path, 7, "s2042", solution=True)
    right = set(answers_of(dest)["overloaded_after"])
    others = {s.name for s in v.site.values()} - {answers_of(dest)["site"]}
    write(dest, overloaded_after=sorted(others - right))
    items = check(dest, v)[0]
    assert failed(items) == ["match-cascade"]
    assert items_by_id(items)["match-cascade"].detail == "not what the run measured"


class Disagreeing(FakeRun):
    """A run in which another site, too, is overloaded after the action (a testbed problem)."""

    def data(self, topo, scenario):
        data = super().data(topo, scenario)
        acted = data["load"]["phases"][1]
        target = steering.attacked(steering.net_of(topo))[0]
        other = next(s.name for s in topo.sites if s.name != target)
        acted["overloaded"][other] = acted["stop"] - acted["start"]
        return data


def test_a_run_that_disagrees_with_the_reasoning_says_check_again(tmp_path):
    dest, v = workcopy(tmp_path, 7, "s1001", solution=True)
    items = items_by_id(check(dest, v, Disagreeing(v))[0])
    assert not items["match-cascade"].passed
    assert "check again" in items["match-cascade"].detail
    assert items["answer-action"].passed and items["relieved"].passed


class Unattacked(FakeRun):
    """A run in which the attack overloaded nothing (senders starved, say)."""

    def data(self, topo, scenario):
        data = super().data(topo, scenario)
        for phase in data["load"]["phases"]:
            phase["overloaded"] = {}
        return data


def test_an_attack_that_did_not_land_is_a_testbed_problem(tmp_path):
    dest, v = workcopy(tmp_path, 7, "s1001", solution=True)
    items = items_by_id(check(dest, v, Unattacked(v))[0])
    assert not items["attack-overloads"].passed
    assert "testbed problem" in items["attack-overloads"].hint
    assert items["answer-action"].passed and items["relieved"].passed


class Loadless(FakeRun):
    """A run whose summary has no load block."""

    def data(self, topo, scenario):
        data = super().data(topo, scenario)
        data.pop("load")
        return data


def test_a_run_without_load_figures_grades_nothing_measured(tmp_path):
    dest, v = workcopy(tmp_path, 7, "s1001", solution=True)
    items = items_by_id(check(dest, v, Loadless(v))[0])
    assert [i for i in ("attack-overloads", "relieved", "match-cascade") if items[i].passed] == []
    assert items["answer-action"].passed


def test_a_short_overload_while_bgp_settles_does_not_count():
    from testbed.analysis.model import Summary

    summary = Summary.model_validate(
        {
            "events": [{"t": 1, "kind": "attack_start"}, {"t": 6, "kind": "prepend"},
                       {"t": 16, "kind": "attack_stop"}],
            "load": {"phases": [
                {"start": 1, "stop": 6, "after": "attack start", "overloaded": {"x": 4.2}},
                {"start": 6, "stop": 16, "after": "prepend x", "event": 1,
                 "overloaded": {"x": 0.75, "y": 4.9, "z": 5.0}},
            ]},
        }
    )  # fmt: skip
    assert lab7.measured_overload(summary) == ({"x"}, {"z"})


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"action": "prepend4"}, "action: 'prepend4' is not a playbook action here"),
        ({"site": "nowhere"}, "site: 'nowhere' is not a site here"),
        ({"overloaded_after": "none"}, "overloaded_after: 'none' is not a site here"),
        ({"overloaded_after": None}, "overloaded_after: not answered yet"),
    ],
)
def test_bad_answers_are_one_line_and_run_nothing(tmp_path, change, problem):
    dest, v = workcopy(tmp_path, 7, "s1001", solution=True)
    write(dest, **change)
    items, fake = check(dest, v)
    assert items[0].id == "answers-complete" and problem in items[0].detail
    assert not fake.calls and all(i.detail == SKIPPED for i in items[1:])


def test_feedback_names_no_site_and_counts_nothing(tmp_path):
    """On every graded line, wrong answers or right: no site name, no number."""
    for n, sid in enumerate(IDS[:12]):
        v = variant(sid)
        names = {s.name for s in v.site.values()} | {c.name for c in v.clients}
        for action in steering.ACTIONS:
            dest, _ = workcopy(tmp_path / f"{n}-{action}", 7, sid, solution=True)
            write(dest, action=action, overloaded_after=[])
            items: List = check(dest, v)[0]
            for i in items[2:]:
                words = set(re.findall(r"[\w-]+", f"{i.title} {i.detail} {i.hint}"))
                assert not words & names, (sid, i.line())
                assert not re.search(r"\d", i.detail), (sid, i.line())
