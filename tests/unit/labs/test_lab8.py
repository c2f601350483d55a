"""Lab 8, TCP remedies: the reasoning, its variants over 1,000 IDs, the hand-out, the grading."""

from __future__ import annotations

import math
from collections import Counter
from functools import cache

import pytest
import yaml

from testbed.analysis.model import Summary
from testbed.labs import lab8, remedies
from testbed.labs.registry import get_lab
from testbed.labs.variant import Variant, make_variant
from testbed.labs.workcopy import render_text
from testbed.scenario.load import parse_scenario
from tests.unit.labs.fake import FakeRun
from tests.unit.labs.helpers import check, failed, workcopy

IDS = [f"s{n:04d}" for n in range(1000)]
Needs = remedies.Needs


@cache
def variant(student: str) -> Variant:
    """A lab 8 variant (made once per test session)."""
    return make_variant(8, student)


# ------------------------------------------------------------------ reasoning
@pytest.mark.parametrize(
    "needs, fit",
    [
        (Needs(), list(remedies.REMEDIES)),
        (Needs(push=True), ["tcp-retry", "hybrid", "quic", "quic-shared"]),
        (Needs(tcp_only=True, anycast_only=True), ["tcp-retry", "http-short"]),
        (Needs(own_keys=True, budget_s=1.0), ["tcp-retry", "http-short"]),
        (Needs(push=True, budget_s=2.0), ["tcp-retry", "quic-shared"]),
        (Needs(push=True, budget_s=10.0), ["tcp-retry", "hybrid", "quic", "quic-shared"]),
        (Needs(push=True, steady=True), ["hybrid"]),
        (Needs(steady=True, budget_s=1.0), ["http-short"]),
        (Needs(push=True, steady=True, anycast_only=True), []),
        (Needs(push=True, steady=True, budget_s=2.0), []),
    ],
)
def test_which_remedies_fit_which_needs(needs, fit):
    assert remedies.fitting(needs) == fit


def test_a_measured_behaviour_is_judged_on_the_measured_needs_only():
    needs = Needs(push=True, tcp_only=True, budget_s=2.0)
    slow = remedies.Behaviour(worst_s=4.1, shift_breaks=True)
    assert remedies.unmet(needs, "tcp-retry", slow) == ["budget_s"]
    assert not remedies.measured_needs(needs, "tcp-retry", slow)  # expected 0.1 s
    assert remedies.measured_needs(needs, "quic", slow)  # tcp_only rules it out anyway
    never = remedies.Behaviour(worst_s=math.inf, shift_breaks=False)
    assert remedies.unmet(Needs(budget_s=10.0), "hybrid", never) == ["budget_s"]


@pytest.mark.parametrize(
    "given, measured, close",
    [(0.1, 0.08, True), (0.0, 0.41, True), (3.3, 2.9, True), (3.3, 6.0, False),
     (0.1, 3.3, False), (1.0, 0.0, False), (0.0, math.inf, False)],
)  # fmt: skip
def test_figures_from_two_runs_are_close_within_half_a_second_or_half(given, measured, close):
    assert remedies.figure_close(given, measured) is close


def test_needs_read_back_from_the_variant_data():
    data = {"push": True, "tcp_only": False, "own_keys": True, "anycast_only": False,
            "budget_s": 2, "steady": False}  # fmt: skip
    needs = Needs.of(data)
    assert needs == Needs(push=True, own_keys=True, budget_s=2.0)
    assert needs.lines()[-1] == "its users may go at most 2 s without service when their site fails"


# ------------------------------------------------------------------ variants
def test_the_answers_take_many_shapes_over_1000_ids():
    """Issue 20's rule: variants differ in structure, so do the answers (sets of remedies)."""
    shapes = {s: Counter() for s in remedies.SERVICES}
    whole = Counter()
    for sid in IDS:
        v = variant(sid)
        key = tuple(tuple(remedies.fitting(n)) for n in v.needs().values())
        for service, fit in zip(remedies.SERVICES, key, strict=True):
            assert fit, (sid, service)
            shapes[service][fit] += 1
        whole[key] += 1
    assert all(len(c) >= 6 for c in shapes.values()), shapes
    for counts in shapes.values():  # no single answer for most students (under half)
        assert max(counts.values()) < len(IDS) / 2, counts
    assert Counter(r for c in shapes.values() for fit in c.elements() for r in fit).keys() == set(
        remedies.REMEDIES
    )
    assert len(whole) >= 150 and max(whole.values()) <= 80, whole.most_common(3)
    pairs = sum(
        tuple(remedies.fitting(n) for n in variant(a).needs().values())
        == tuple(remedies.fitting(n) for n in variant(b).needs().values())
        for a, b in zip(IDS, IDS[1:], strict=False)
    )
    assert pairs <= 25  # a neighbour's lists are right for another ID in under 2.5% of pairs


def test_both_events_move_clients_and_the_sites_differ():
    for sid in IDS[:200]:
        v = variant(sid)
        fails, shifts = v.params["fails"], v.params["shifts"]
        assert fails != shifts and v.params["count"] in (1, 2, 3)
        base = v.catchment()
        down = v.catchment(*[r for r in v.site if r != fails])
        shifted = v.catchment(prepend={shifts: v.params["count"]})
        assert any(base[c] != down[c] for c in base), sid
        assert any(base[c] != shifted[c] for c in base), sid


def test_the_handout_scenario_is_the_checks_run():
    v = variant("s1001")
    lab = get_lab(8)
    handout = yaml.safe_load(render_text(lab, v, lab.handout / "scenario.yaml.j2"))
    mine = parse_scenario(handout, "scenario.yaml")
    theirs = parse_scenario(lab8.scenario(v), "check")
    assert mine.timeline == theirs.timeline and mine.duration == theirs.duration
    assert mine.traffic == theirs.traffic
    assert set(theirs.traffic.kinds) >= set(remedies.REMEDIES)
    task = render_text(lab, v, lab.handout / "TASK.md.j2")
    for needs in v.needs().values():
        assert all(line in task for line in needs.lines())


# ------------------------------------------------------------------ grading
def summary_with(worst: dict, shift_breaks: dict) -> Summary:
    """A summary of the lab's timeline with each remedy's failure and te-shift figures."""
    events = [{"t": 3.0, "moved": ["a"]}, {"t": 8.0}, {"t": 13.0, "moved": ["a"]}]
    for r in remedies.REMEDIES:
        events[0].setdefault("transport", {})[r] = {
            "kind": r, "flows": 2, "survived": 0 if shift_breaks[r] else 2,
            "reset": 2 if shift_breaks[r] else 0,
        }  # fmt: skip
        broke = worst[r] > 0
        events[2].setdefault("transport", {})[r] = {
            "kind": r, "flows": 2, "survived": 0 if broke else 2, "timed_out": 2 if broke else 0,
            "recovered": 2 if broke and not math.isinf(worst[r]) else 0,
            "recover_s": [worst[r]] if broke and not math.isinf(worst[r]) else [],
        }  # fmt: skip
    return Summary.model_validate({"events": events})


def test_behaviour_reads_the_failure_and_the_te_shift():
    worst = {r: remedies.EXPECTED[r][0] for r in remedies.REMEDIES}
    breaks = {r: remedies.EXPECTED[r][1] for r in remedies.REMEDIES}
    worst["quic"] = math.inf
    summary = summary_with(worst, breaks)
    assert lab8.behaviour(summary, "tcp-retry") == remedies.Behaviour(0.1, True)
    assert lab8.behaviour(summary, "http-short") == remedies.Behaviour(0.2, False)
    assert lab8.behaviour(summary, "quic").worst_s == math.inf
    assert lab8.behaviour(Summary(), "quic") is None


def answer(v: Variant) -> dict:
    a = v.remedy_answer()
    return {k: (set(x) if isinstance(x, list) else x) for k, x in a.items()}


def test_right_lists_pass_and_a_disagreeing_run_says_so():
    def tight(v):  # the video may be off for less than the 5 s below, and tcp-retry fits it
        need = v.needs()["video"]
        return (
            need.budget_s is not None
            and need.budget_s < 5
            and "tcp-retry" in remedies.fitting(need)
        )

    v = next(v for v in map(variant, IDS) if tight(v))
    worst = {r: remedies.EXPECTED[r][0] for r in remedies.REMEDIES}
    breaks = {r: remedies.EXPECTED[r][1] for r in remedies.REMEDIES}
    items = lab8.graded(v, answer(v), summary_with(worst, breaks))
    assert all(i.passed for i in items) and not any("disagrees" in i.detail for i in items)
    worst["tcp-retry"] = 5.0  # a slow machine: the reconnect took 5 s
    items = {i.id: i for i in lab8.graded(v, answer(v), summary_with(worst, breaks))}
    assert items["answer-video"].passed and "disagrees" in items["answer-video"].detail
    assert not items["answer-video-recovery"].passed


def test_a_wrong_list_fails_and_names_nothing(tmp_path):
    dest, v = workcopy(tmp_path, 8, "s1001", solution=True)
    data = yaml.safe_load((dest / "answers.yaml").read_text())
    right = set(data["video"])
    data["video"] = sorted(set(remedies.REMEDIES) - right)
    (dest / "answers.yaml").write_text(yaml.safe_dump(data))
    items, fake = check(dest, v, FakeRun(v))
    assert len(fake.calls) == 1 and "answer-video" in failed(items)
    bad = next(i for i in items if i.id == "answer-video")
    assert bad.detail == "not the remedies asked for"
    assert not any(r in bad.detail + bad.hint.split("(")[0] for r in right - {"tcp-retry"})


def test_an_answer_that_is_not_a_remedy_is_one_line_before_any_run(tmp_path):
    dest, v = workcopy(tmp_path, 8, "s1001", solution=True)
    data = yaml.safe_load((dest / "answers.yaml").read_text())
    data["chat"] = ["websocket"]
    (dest / "answers.yaml").write_text(yaml.safe_dump(data))
    items, fake = check(dest, v, FakeRun(v))
    assert not fake.calls
    assert items[0].id == "answers-complete" and not items[0].passed
    assert "chat" in items[0].detail and "websocket" in items[0].detail
