"""Experiments: every planned run is valid input, and verdicts on synthetic figures."""

import pytest

from testbed.reproduce import EXPERIMENTS
from testbed.reproduce.base import Verdict, spread
from testbed.reproduce.failure import FULL, QUICK, Detector, judge_detector
from testbed.reproduce.labovitz import withdrawal_note
from testbed.reproduce.mrai import judge_mrai, nearest_multiple
from testbed.reproduce.report import headline, render_markdown
from testbed.scenario.prepare import prepare_run


@pytest.mark.parametrize("quick", [True, False])
@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_planned_run_validates(name, quick):
    exp = EXPERIMENTS[name]
    planned = exp.plan(quick)
    assert planned
    for p in planned:
        assert set(p.labels) <= set(exp.labels)
        prepare_run(p.scenario, p.sets)  # raises InputError on a bad override


def test_quick_is_small():
    runs = sum(len(e.plan(True)) for e in EXPERIMENTS.values())
    seconds = 0.0
    for e in EXPERIMENTS.values():
        for p in e.plan(True):
            sc = prepare_run(p.scenario, p.sets).scenario
            seconds += sc.settle + sc.duration
    assert runs <= 10 and seconds < 360, (runs, seconds)


# ---------------------------------------------------------- failure-detection
def test_detection_windows():
    assert Detector(1, 3).window() == (2.0, 3.0)
    assert Detector(10, 30).window() == (20.0, 30.0)
    assert Detector(3, 9, (100, 3)).window() == pytest.approx((0.2, 0.3))


@pytest.mark.parametrize(
    ("det", "outages", "passed"),
    [
        (Detector(1, 3), [2.7], True),
        (Detector(1, 3), [2.2, 3.4, 2.9], True),  # median 2.9
        (Detector(1, 3), [1.5], False),  # faster than the hold timer allows
        (Detector(1, 3), [4.0], False),
        (Detector(3, 9, (100, 3)), [0.35], True),
        (Detector(3, 9, (100, 3)), [1.0], False),
        (Detector(3, 9, (100, 3)), [8.7], False),  # BFD did not work: the hold timer did
        (Detector(1, 3), [], None),
    ],
)
def test_judge_detector(det, outages, passed):
    finding = judge_detector(det, outages)
    assert finding.passed is passed
    assert ("RFC 5880" in finding.expected) == bool(det.bfd)


def test_failure_detection_verdict_from_rows():
    exp = EXPERIMENTS["failure-detection"]
    rows = []
    for det, outage in zip(QUICK, (2.6, 0.32), strict=True):
        rows.append(
            {
                **det.labels(),
                "status": "ok",
                "max_outage_s": outage,
                "convergence_e0_s": outage - 0.04,
            }
        )
    rows.append({**QUICK[0].labels(), "status": "error", "max_outage_s": 50.0})
    verdict = exp.judge(rows, quick=True)
    assert verdict.passed and len(verdict.findings) == 2
    assert len(FULL) > len(QUICK)


# -------------------------------------------------------- delayed-convergence
def clique_row(n, mrai, tdown, tup, updates=10):
    return {
        "kind": "clique",
        "n": n,
        "mrai": mrai,
        "status": "ok",
        "convergence_e0_s": tdown,
        "convergence_e1_s": tup,
        "updates_e0": updates,
    }


def test_delayed_convergence_agrees_on_the_expected_shape():
    exp = EXPERIMENTS["delayed-convergence"]
    rows = [
        clique_row(3, 0, 0.3, 0.2),
        clique_row(5, 0, 0.4, 0.2),
        clique_row(3, 3, 3.2, 0.2),
        clique_row(5, 3, 6.4, 0.3, updates=60),
        {
            "kind": "probe",
            "n": 3,
            "mrai": 3,
            "status": "ok",
            "convergence_e2_s": 0.1,
            "frr_version": "8.4.4",
        },
    ]
    verdict = exp.judge(rows, quick=True)
    assert verdict.passed, verdict.findings
    assert any("BYPASS" in n and "8.4.4" in n for n in verdict.notes)
    # clique:3 has nothing to explore: (3 - 3) x MRAI; Tdown ~ Tup is shown, not judged
    rows[2] = clique_row(3, 3, 0.2, 0.3)
    rows[3] = clique_row(5, 3, 6.4, 0.3)
    verdict = exp.judge(rows, quick=True)
    assert verdict.passed
    assert [f.passed for f in verdict.findings if f.case == "clique:3, MRAI 3 s"] == [None]


@pytest.mark.parametrize(
    ("change", "case"),
    [
        ({"convergence_e1_s": 7.0}, "clique:5, MRAI 3 s"),  # Tup above Tdown
        ({"convergence_e0_s": 0.2}, "clique:5, MRAI 0 -> 3 s"),  # no growth with MRAI
        ({"convergence_e0_s": 3.0}, "MRAI 3 s, clique:3 -> clique:5"),  # no growth with N
    ],
)
def test_delayed_convergence_disagrees(change, case):
    exp = EXPERIMENTS["delayed-convergence"]
    rows = [clique_row(3, 0, 0.3, 0.2), clique_row(5, 0, 0.4, 0.2), clique_row(3, 3, 3.2, 0.2)]
    rows.append({**clique_row(5, 3, 6.4, 0.3), **change})
    verdict = exp.judge(rows, quick=True)
    assert not verdict.passed
    failed = [f.case for f in verdict.findings if f.passed is False]
    assert case in failed, verdict.findings


def test_withdrawal_note_says_it_plainly():
    assert "withdrawals BYPASS MRAI" in withdrawal_note(0.12, 15, "8.4.4")
    assert "withdrawals WAIT for MRAI" in withdrawal_note(13.9, 15, "8.4.4")
    assert "measured nothing" in withdrawal_note(None, 15, None)


# ------------------------------------------------------------- mrai-multiples
@pytest.mark.parametrize(
    ("mrai", "conv", "passed"),
    [
        (0, [0.2], True),
        (0, [1.4], False),
        (30, [30.3], True),
        (30, [29.1, 30.2, 60.5], True),  # median 30.2
        (30, [61.0], True),  # two rounds
        (30, [15.0], False),  # half-way
        (30, [0.3], False),  # MRAI did not apply: k = 0
        (3, [3.3], True),
        (3, [4.2], False),
        (30, [], None),
    ],
)
def test_judge_mrai(mrai, conv, passed):
    assert judge_mrai(mrai, conv).passed is passed


def test_nearest_multiple():
    assert nearest_multiple(31.0, 30) == 1 and nearest_multiple(58, 30) == 2
    assert nearest_multiple(0.4, 0) == 0


# --------------------------------------------------------------------- report
def test_report_and_headline():
    exp = EXPERIMENTS["mrai-multiples"]
    rows = [
        {"mrai": 0, "status": "ok", "convergence_e0_s": 0.2, "max_outage_s": 0.2},
        {"mrai": 3, "status": "ok", "convergence_e0_s": 3.2, "max_outage_s": 3.3},
    ]
    verdict = exp.judge(rows, quick=True)
    assert headline(verdict) == "AGREES"
    info = {"mode": "quick", "runs": 2, "done": 2, "frr_version": "8.4.4"}
    text = render_markdown(exp, verdict, info, [])
    assert "# Failover convergence in whole multiples of MRAI" in text
    assert "RFC 4271" in text and "FRR 8.4.4" in text and "**Verdict: AGREES**" in text
    assert "| MRAI 3 s | near k x 3 s" in text
    assert headline(Verdict()) == "INCOMPLETE"
    assert spread([]) == "no data" and spread([1.0]) == "1.00 s"
    assert spread([1.0, 2.0, 3.0]) == "2.00 s (1.00-3.00, 3 runs)"
