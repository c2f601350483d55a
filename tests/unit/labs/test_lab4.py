"""Lab 4, health checks: the rules, variants over 1,000 IDs, the hand-out, the grading."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from functools import cache

import pytest
import yaml

from testbed.labs import healthdesign, lab4
from testbed.labs.healthdesign import Agent, Design
from testbed.labs.registry import get_lab
from testbed.labs.variant import GENERATION, Variant, make_variant
from testbed.labs.workcopy import render_text
from testbed.scenario.load import parse_scenario
from tests.unit.labs.fake import FakeRun
from tests.unit.labs.helpers import check, edit, failed, workcopy

IDS = [f"s{n:04d}" for n in range(1000)]
#: The README's example agent: fall 2 at interval 1 s withdraws for any restart of 1 s or more.
README_EXAMPLE = {"interval": 1.0, "timeout": 0.5, "rise": 2, "fall": 2,
                  "checks": ["dns", "tcp"], "action": "withdraw"}  # fmt: skip


@cache
def variant(student: str) -> Variant:
    """A lab 4 variant (made once per test session)."""
    return make_variant(4, student)


def set_health(dest, **health):
    """Every site of the working copy's topology gets this health block."""

    def change(data):
        for site in data["sites"]:
            site["health"] = dict(health)

    edit(dest / "topology.yaml", change)


def item_of(items, id_):
    return next(i for i in items if i.id == id_)


# ------------------------------------------------------------------ the rules
@pytest.mark.parametrize(
    ("blip", "interval", "rounds"),
    [(1.0, 1.0, 2), (0.9, 1.0, 1), (2.5, 0.5, 6), (1.5, 0.5, 4), (1.0, 1.5, 1), (2.0, 0.25, 9)],
)
def test_a_blip_fails_at_most_floor_b_over_interval_plus_one_rounds(blip, interval, rounds):
    assert healthdesign.rounds_failed(blip, interval) == rounds
    fall = healthdesign.min_fall(blip, interval)
    assert fall == rounds + 1
    assert healthdesign.rides_out(blip, interval, fall)
    assert not healthdesign.rides_out(blip, interval, fall - 1)
    assert (fall - 1) * interval > blip >= (fall - 2) * interval


def test_the_readme_example_withdraws_for_every_blip_drawn():
    ex = README_EXAMPLE
    for blip in healthdesign.BLIPS:
        assert not healthdesign.rides_out(blip, ex["interval"], ex["fall"])


def test_the_worst_withdrawal_and_its_answer_window():
    assert healthdesign.worst_withdraw_s(0.5, 3, 0.3) == 1.8
    assert Agent(1.5, 0.2, 4).worst_s() == 6.2
    right = healthdesign.timing_right
    assert right(1.5, 0.5, 3, 0.3) and right(1.8, 0.5, 3, 0.3) and right(1.81, 0.5, 3, 0.3)
    assert not right(1.4, 0.5, 3, 0.3) and not right(1.85, 0.5, 3, 0.3)
    assert not right(1.0, 0.5, 3, 0.3)  # (fall - 1) * interval: the earliest, not the most


def test_the_best_design_is_the_quickest_that_fits():
    d = Design(2.5, 4.5, Agent(1.0, 0.2, 2))
    assert d.feasible() == [(0.4, 8), (0.5, 7)]  # the tightest variant: two designs
    assert d.best() == (0.4, 8)
    assert Design(1.0, 3.0, Agent(1.0, 0.2, 2)).best() == (0.25, 6)
    # equal fall * interval: the longer interval (fewer checks)
    assert Design(1.0, 4.0, Agent(1.0, 0.2, 2)).fits(0.5, 4)
    assert not Design(1.0, 2.0, Agent(1.0, 0.2, 2)).feasible()
    assert Design(1.0, 2.0, Agent(1.0, 0.2, 2)).best() is None


def test_a_design_reads_back_from_a_variants_params():
    v = variant("s0001")
    d = v.health_design()
    assert Design.of({**v.params}) == d
    assert d.ask.as_dict() == v.params["ask"]
    assert d.ask_min_fall() == healthdesign.min_fall(d.blip, d.ask.interval)


# ------------------------------------------------------------------ variants
def test_every_variant_has_a_design_that_rides_out_the_blip_and_meets_the_target():
    for sid in IDS:
        d = variant(sid).health_design()
        best = d.best()
        assert best is not None, sid
        interval, fall = best
        assert interval in healthdesign.INTERVALS and fall in healthdesign.FALLS
        assert (fall - 1) * interval >= d.blip + 0.25 - 1e-9, sid
        assert fall * interval + healthdesign.TIMEOUT_S + 0.8 <= d.target + 1e-9, sid
        assert healthdesign.rides_out(d.blip + 0.2, interval, fall), sid


def test_blips_and_targets_are_drawn_evenly():
    designs = [variant(sid).health_design() for sid in IDS]
    pairs = Counter((d.blip, d.target - d.blip) for d in designs)
    assert set(pairs) == {(b, s) for b in healthdesign.BLIPS for s in healthdesign.SLACKS}
    assert min(pairs.values()) >= 55 and max(pairs.values()) <= 115, pairs  # about 83 each
    blips = Counter(d.blip for d in designs)
    assert min(blips.values()) >= 200, blips  # about 250 each


def test_the_ask_agent_is_drawn_from_its_ranges():
    asks = [variant(sid).health_design().ask for sid in IDS]
    assert {a.interval for a in asks} == set(healthdesign.ASK_INTERVALS)
    assert {a.timeout for a in asks} == set(healthdesign.ASK_TIMEOUTS)
    assert {a.fall for a in asks} == set(healthdesign.ASK_FALLS)
    assert all(a.timeout < a.interval for a in asks)
    answers = Counter(
        (a.worst_s(), healthdesign.min_fall(variant(sid).params["blip"], a.interval))
        for sid, a in zip(IDS, asks, strict=True)
    )
    assert len(answers) >= 60 and max(answers.values()) <= 60, answers.most_common(3)


def test_the_design_is_drawn_last_so_the_network_and_names_stay(monkeypatch):
    """Generation 3 adds the design to what generation 2 drew, and changes nothing of it."""
    assert GENERATION[4] == 3
    mine = {sid: variant(sid) for sid in IDS[:50]}
    monkeypatch.setattr("testbed.labs.variant.LAST", {})
    for sid, v in mine.items():
        before = make_variant(4, sid)
        params = {k: x for k, x in v.params.items() if k not in ("blip", "target", "ask")}
        assert dataclasses.replace(v, params=params) == before, sid


def test_the_checks_run_is_short_and_in_order():
    for sid in IDS[:200]:
        v = variant(sid)
        d = v.health_design()
        data = lab4.scenario(v)
        at = [e["at"] for e in data["timeline"]]
        assert [e["event"] for e in data["timeline"]] == [
            "kill_service", "restore", "kill_service", "restore"]  # fmt: skip
        assert [e.get("service") for e in data["timeline"][::2]] == ["dns", "all"]
        assert at[1] - at[0] == pytest.approx(d.blip - lab4.BLIP_EARLY)
        assert at[2] - at[1] >= 3.0 and at[3] - at[2] >= d.target + 1.0
        assert data["duration"] <= 18, sid  # bring-up, settle and analysis: well under 2 min
        parse_scenario(data, "lab 4 check")


# ------------------------------------------------------------------ the hand-out
def test_the_handout_scenario_shows_the_restart_then_the_death():
    v = variant("s1001")
    d = v.health_design()
    text = render_text(get_lab(4), v, get_lab(4).handout / "scenario.yaml.j2")
    data = yaml.safe_load(text)
    events = data["timeline"]
    assert [(e["at"], e["event"], e.get("service")) for e in events] == [
        (5, "kill_service", "dns"), (pytest.approx(5 + d.blip - 0.3), "restore", None),
        (12, "kill_service", "all"), (20, "restore", None)]  # fmt: skip
    assert data["duration"] == 24
    assert {"check": "max_outage", "clients": "affected", "below": d.target} in data["expect"]


def test_task_states_the_blip_the_target_and_the_agent_asked_about():
    v = variant("s1001")
    d = v.health_design()
    text = render_text(get_lab(4), v, get_lab(4).handout / "TASK.md.j2")
    for figure in (d.blip, d.target, d.ask.interval, d.ask.timeout):
        assert f"{figure} s" in text
    assert f"fall {d.ask.fall}" in text


def test_the_readme_example_is_not_a_solution():
    text = (get_lab(4).handout / "README.md").read_text()
    assert "interval: 1.0" in text and "fall: 2" in text


# ------------------------------------------------------------------ the check
def test_the_solution_uses_the_best_design(tmp_path):
    dest, v = workcopy(tmp_path, 4, "s1001", solution=True)
    interval, fall = v.health_design().best()
    for site in yaml.safe_load((dest / "topology.yaml").read_text())["sites"]:
        h = site["health"]
        assert (h["interval"], h["fall"], h["timeout"]) == (interval, fall, 0.2)
        assert h["checks"] == ["dns", "tcp"] and h["action"] == "withdraw"
    items, fake = check(dest, v)
    assert not failed(items)
    ride = item_of(items, "rides-out")
    assert ride.detail.startswith("measured restart ") and "stayed" in ride.detail
    assert not {c.name for c in v.clients} & set(re.findall(r"[\w-]+", ride.detail))
    health = fake(yaml_topology(dest), fake.calls[0]).health
    assert [h.state for h in health] == ["down", "up"]  # the death only, and the return


def yaml_topology(dest):
    from testbed.topology.load import load_topology

    return load_topology(str(dest / "topology.yaml"))


@pytest.mark.parametrize("student", ["s1001", "s2042", "s0003", None])
def test_the_readme_example_withdraws_for_the_restart(tmp_path, student):
    dest, v = workcopy(tmp_path, 4, student, solution=True)
    set_health(dest, **README_EXAMPLE)
    items, _ = check(dest, v)
    assert failed(items) == ["rides-out"]
    bad = item_of(items, "rides-out")
    assert not bad.testbed and bad.hint == lab4.HINT_BLIP
    assert "the agent went down" in bad.detail and "measured restart" in bad.detail
    words = {c.name for c in v.clients} | {s.name for s in v.site.values()}
    assert not words & set(re.findall(r"[\w-]+", bad.detail)), bad.detail


def test_a_too_slow_agent_fails_the_outage(tmp_path):
    dest, v = workcopy(tmp_path, 4, "s1001", solution=True)
    set_health(dest, interval=2.0, timeout=0.5, fall=5, checks=["dns", "tcp"], action="withdraw")
    items, _ = check(dest, v)
    assert "outage" in failed(items) and "rides-out" not in failed(items)
    assert item_of(items, "outage").hint == lab4.HINT_OUTAGE


def test_just_too_slow_fails_only_the_outage(tmp_path):
    """It rides out the restart and withdraws, but after the budget."""
    dest, v = workcopy(tmp_path, 4, "s1001", solution=True)
    d = v.health_design()
    fall = healthdesign.min_fall(d.blip, 1.0)
    while (fall - 1) * 1.0 + 0.5 + 0.3 <= d.target:  # the fake's earliest, BGP 0.3 s
        fall += 1
    set_health(dest, interval=1.0, timeout=0.5, fall=fall, checks=["dns"], action="withdraw")
    items, _ = check(dest, v)
    assert failed(items) == ["outage"]


def test_an_agent_that_checks_only_tcp_cannot_see_dns(tmp_path):
    dest, v = workcopy(tmp_path, 4, "s1001", solution=True)
    set_health(dest, interval=0.25, timeout=0.2, fall=10, checks=["tcp"], action="withdraw")
    items, fake = check(dest, v)
    bad = item_of(items, "health")
    assert failed(items)[0] == "health" and bad.detail == "checks: tcp"
    assert bad.hint == lab4.HINT_DNS and not fake.calls


def test_demoting_is_not_withdrawing(tmp_path):
    dest, v = workcopy(tmp_path, 4, "s1001", solution=True)
    edit(dest / "topology.yaml", lambda d: [s["health"].update(action="med") for s in d["sites"]])
    items, fake = check(dest, v)
    assert failed(items)[0] == "health" and not fake.calls
    assert item_of(items, "health").hint == lab4.HINT_DEMOTE


def test_the_health_block_in_the_scenario_counts(tmp_path):
    dest, v = workcopy(tmp_path, 4, "s1001", solution=True)
    interval, fall = v.health_design().best()
    edit(dest / "topology.yaml", lambda d: [s.pop("health") for s in d["sites"]])
    fails = v.site[v.params["fails"]].name
    edit(dest / "scenario.yaml", lambda d: d.update(health={
        "sites": [fails], "interval": interval, "fall": fall, "timeout": 0.2}))  # fmt: skip
    items, _ = check(dest, v)
    assert not failed(items), [i.line() for i in items if not i.passed]


class LongRestart(FakeRun):
    """The DNS service stays away a second longer than planned, and the agent goes down."""

    def data(self, topo, scenario):
        out = super().data(topo, scenario)
        v = self.variant
        blip = v.health_design().blip
        fails = v.site[v.params["fails"]].name
        kill = out["events"][0]["t"]
        for c, s in v.catchment().items():
            if s == fails:
                out["clients"][c]["dns"]["outages"].append({"start": kill, "duration": blip + 1})
        out.setdefault("health", []).append(
            {"t": kill + blip, "site": fails, "event": "state", "state": "down",
             "previous": "up", "action": "withdraw", "reason": "checks"})  # fmt: skip
        return out


def test_a_restart_longer_than_planned_is_the_testbeds_fault(tmp_path):
    dest, v = workcopy(tmp_path, 4, "s1001", solution=True)
    items, _ = check(dest, v, LongRestart(v))
    bad = item_of(items, "rides-out")
    assert failed(items) == ["rides-out"] and bad.testbed
    assert "testbed" in bad.detail and bad.hint
    assert f"measured restart {v.health_design().blip + 1:.1f} s" in bad.detail


# ------------------------------------------------------------------ the answers
def answered(tmp_path, student="s1001", **answers):
    dest, v = workcopy(tmp_path, 4, student, solution=True)
    edit(dest / "answers.yaml", lambda d: d.update(answers))
    return check(dest, v)[0], v


def test_the_solution_answers_are_the_reasoning(tmp_path):
    dest, v = workcopy(tmp_path, 4, "s1001", solution=True)
    d = v.health_design()
    data = yaml.safe_load((dest / "answers.yaml").read_text())
    assert data["withdraw_after_s"] == d.ask_worst_s()
    assert data["min_fall"] == healthdesign.min_fall(d.blip, d.ask.interval)


def test_the_timing_answer_is_about_the_agent_asked_about(tmp_path):
    v = variant("s1001")
    ask = v.health_design().ask
    low = ask.fall * ask.interval
    for secs in (low, low + ask.timeout / 2, ask.worst_s()):
        items, _ = answered(tmp_path / str(secs), withdraw_after_s=secs)
        assert not failed(items), secs
    for secs in (low - 0.1, ask.worst_s() + 0.1, 30):
        items, _ = answered(tmp_path / f"x{secs}", withdraw_after_s=secs)
        assert failed(items) == ["answer-timing"], secs
        bad = item_of(items, "answer-timing")
        assert bad.hint == lab4.HINT_TIMING and f"{ask.worst_s():g}" not in bad.detail


def test_the_timing_answer_does_not_follow_the_students_own_agent(tmp_path):
    dest, v = workcopy(tmp_path, 4, "s1001", solution=True)
    d = v.health_design()
    set_health(dest, interval=d.best()[0], timeout=0.1, fall=d.best()[1], checks=["dns"])
    items, _ = check(dest, v)
    assert not failed(items)  # the answer still fits the agent of TASK.md


def test_the_smallest_fall_is_graded_by_the_rule(tmp_path):
    d = variant("s1001").health_design()
    want = healthdesign.min_fall(d.blip, d.ask.interval)
    for wrong in (want - 1, want + 1):
        items, _ = answered(tmp_path / str(wrong), min_fall=wrong)
        assert failed(items) == ["answer-fall"], wrong
        bad = item_of(items, "answer-fall")
        assert bad.hint == lab4.HINT_FALL and str(want) not in bad.detail.replace(str(wrong), "")
        assert bad.expected == want and bad.actual == wrong


def test_a_fraction_of_a_fall_is_refused(tmp_path):
    dest, v = workcopy(tmp_path, 4, "s1001", solution=True)
    edit(dest / "answers.yaml", lambda d: d.update(min_fall=2.5))
    items, fake = check(dest, v)
    bad = item_of(items, "answers-complete")
    assert not bad.passed and "min_fall: must be a whole number" in bad.detail and not fake.calls
