"""``delayed-convergence``: Labovitz et al., "Delayed Internet Routing Convergence".

Labovitz, Ahuja, Bose, Jahanian, SIGCOMM 2000: in a full mesh of N ASes,
when the origin withdraws its prefix, every AS tries the other paths it
still holds (each one just as dead) before giving up.  This path exploration
is paced by the MRAI timer, so the time to converge after a withdrawal
(Tdown) grows with N and with MRAI, as does the number of UPDATEs; after an
announcement (Tup) the direct path wins at once and convergence stays short.
Their model gives a lower bound of (N - 3) x MRAI for Tdown.

The runs: scenario ``delayed-convergence`` on ``clique:N`` (the origin site
behind t1 withdraws, then announces again) for each N and MRAI.  Tdown and
Tup are the network's convergence after each event (the last route change
of any router); UPDATEs are counted from every session's counters.  Judged:
Tdown less Tdown at MRAI 0 on the same clique (the calibration: everything
but the waits) against (N - 3) x MRAI, within FRR's whole-second MRAI clock
and the measured granularity (:func:`testbed.reproduce.base.mrai_bounds`);
and Tup under one MRAI (no round waits after an announcement).

FRR has changed how MRAI treats withdrawals across versions, so one more
run probes this FRR on ``chain:3``: the origin announces, and withdraws one
second later while every MRAI timer is still running.  If the withdrawal
arrives at once, withdrawals bypass MRAI here, and the report says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence

from testbed.reproduce.base import (
    Experiment,
    Finding,
    Planned,
    Row,
    Verdict,
    complete,
    judge_all,
    mid,
    mrai_bounds,
    spread,
    timeline,
    values,
)

SCENARIO = "delayed-convergence"
FULL_N = (4, 6, 8, 10, 12)
FULL_MRAI = (0, 5, 15, 30)
QUICK_N = (3, 5)
QUICK_MRAI = (0, 3)
#: Quick runs (N, MRAI): each N at MRAI 0 (the calibration) and at MRAI 3.
QUICK_POINTS = ((3, 0), (5, 0), (3, 3), (5, 3))
#: Below this, a withdrawal sent while MRAI runs arrived at once.
BYPASS_S = 1.0


def clique_sets(n: int, mrai: int) -> List[str]:
    """``--set`` items of one clique run: topology, MRAI, and a timeline long enough.

    Settle covers the path exploration of the bring-up (two MRAI rounds).
    Tdown measured here is about (N - 3) x MRAI, so the withdrawal's window
    of (N - 1) x MRAI + 5 s leaves two MRAI rounds of quiet: the
    announcement finds every MRAI timer expired.
    """
    down = mrai * (n - 1) + 5
    up = 2 * mrai + 4
    sets = [f"topology=clique:{n}", f"bgp.mrai={mrai}", "expect=[]"]
    return sets + timeline(2 * mrai + 3, [2, 2 + down], up)


def probe_sets(mrai: int) -> List[str]:
    """The withdrawal probe on ``chain:3``: withdraw, announce, withdraw 1 s later."""
    w1, a, w2 = 2, 2 + mrai + 4, 2 + mrai + 5
    events = ", ".join(
        f"{{at: {at}, event: {kind}, site: origin}}"
        for at, kind in ((w1, "withdraw"), (a, "restore"), (w2, "withdraw"))
    )
    sets = ["topology=chain:3", f"bgp.mrai={mrai}", "expect=[]", f"timeline=[{events}]"]
    return sets + [f"settle={2 * mrai + 3}", f"duration={w2 + mrai + 4}"]


def withdrawal_note(tdown: Optional[float], mrai: int, frr: Optional[str]) -> str:
    """Say plainly whether withdrawals wait for MRAI in this FRR.

    Args:
        tdown: convergence after the probe's second withdrawal (s), None if unmeasured.
        mrai: the probe's MRAI (s).
        frr: the FRR version.

    Returns:
        One sentence.
    """
    version = f"FRR {frr}" if frr else "this FRR"
    if tdown is None:
        return f"{version}: the withdrawal probe measured nothing (no route change)"
    if tdown < BYPASS_S:
        return (
            f"{version}: withdrawals BYPASS MRAI -- a withdrawal sent 1 s after an "
            f"announcement, with MRAI {mrai} s running, converged in {tdown:.2f} s. "
            "Path exploration is still paced by MRAI: only announcements wait."
        )
    return (
        f"{version}: withdrawals WAIT for MRAI -- a withdrawal sent 1 s after an "
        f"announcement, with MRAI {mrai} s, took {tdown:.2f} s to converge."
    )


def tdown_finding(
    n: int, mrai: int, downs: Sequence[float], calibration: Sequence[float]
) -> Finding:
    """Tdown less Tdown at MRAI 0 (same N) against the model's (N - 3) x MRAI.

    Args:
        n: the clique's size.
        mrai: the MRAI (s), above 0.
        downs: Tdown of each run at this MRAI.
        calibration: Tdown of each run at MRAI 0 (bgpd's processing without waits).

    Returns:
        Judged run by run (every run's difference within :func:`mrai_bounds`);
        not judged without a run at MRAI 0.
    """
    wait = max(0, n - 3) * mrai
    bounds = mrai_bounds(wait, calibration)
    case = f"clique:{n}, MRAI {mrai} s"
    expected = f"Tdown - Tdown(MRAI 0) = (N - 3) x MRAI = {bounds.expected()}"
    base = mid(calibration)
    if base is None or not downs:
        return Finding(case, expected, f"Tdown {spread(downs)}, no MRAI-0 run", None)
    diffs = [d - base for d in downs]
    measured = f"{spread(diffs)} (Tdown {spread(downs)}, at MRAI 0 {base:.2f} s)"
    return Finding(case, expected, measured, judge_all(bounds, diffs), tolerance=bounds.text())


def tup_finding(n: int, mrai: int, ups: Sequence[float]) -> Finding:
    """Tup against one MRAI: the announcement's direct path wins at once, no MRAI round.

    Every MRAI timer has expired when the origin announces again, so nothing
    waits: Tup must stay under one MRAI (a bound of the model, no tolerance).
    """
    case = f"clique:{n}, MRAI {mrai} s"
    passed = None if not ups else all(u < mrai for u in ups)
    return Finding(
        case,
        f"Tup < MRAI = {mrai:.2f} s (no MRAI round)",
        f"Tup {spread(ups)}",
        passed,
        tolerance="none (a bound)",
    )


class DelayedConvergence(Experiment):
    """Tdown against Tup on clique:N, for several N and MRAI."""

    name = "delayed-convergence"
    title = "Delayed Internet routing convergence (Tdown against Tup)"
    claim = (
        "In a full mesh of N ASes, after the origin withdraws, path exploration makes "
        "the convergence time Tdown grow with N and with MRAI (lower bound (N - 3) x MRAI "
        "in the authors' model), with more UPDATEs as N grows; after an announcement, "
        "Tup stays short."
    )
    source = (
        'Labovitz, Ahuja, Bose, Jahanian, "Delayed Internet Routing Convergence", ACM SIGCOMM 2000'
    )
    labels = ("kind", "n", "mrai")

    def grid(self, quick: bool):
        """(N values, MRAI values)."""
        return (QUICK_N, QUICK_MRAI) if quick else (FULL_N, FULL_MRAI)

    def points(self, quick: bool) -> List[tuple]:
        """The (N, MRAI) pairs run, MRAI by MRAI."""
        if quick:
            return list(QUICK_POINTS)
        return [(n, mrai) for mrai in FULL_MRAI for n in FULL_N]

    def probe_mrai(self, quick: bool) -> int:
        """The MRAI of the withdrawal probe."""
        return max(self.grid(quick)[1])

    def plan(self, quick: bool, repeat: Optional[int] = None) -> List[Planned]:
        """Every (N, MRAI) once per repeat (default 1), then the withdrawal probe."""
        out = []
        for r in range(1, (repeat or 1) + 1):
            for n, mrai in self.points(quick):
                labels = {"kind": "clique", "n": n, "mrai": mrai}
                out.append(Planned(labels, SCENARIO, clique_sets(n, mrai), r))
        mrai = self.probe_mrai(quick)
        labels = {"kind": "probe", "n": 3, "mrai": mrai}
        out.append(Planned(labels, SCENARIO, probe_sets(mrai), 1))
        return out

    def judge(self, rows: Sequence[Row], quick: bool) -> Verdict:
        """Per N and MRAI > 0: Tdown's MRAI waits against (N - 3) x MRAI, Tup under one MRAI."""
        rows = complete(rows)
        verdict = Verdict()

        def col(name: str, n: int, mrai: int) -> List[float]:
            return values(rows, name, kind="clique", n=n, mrai=mrai)

        for n, mrai in self.points(quick):
            if mrai == 0:
                downs, ups = col("convergence_e0_s", n, 0), col("convergence_e1_s", n, 0)
                verdict.findings.append(
                    Finding(
                        f"clique:{n}, MRAI 0",
                        "no wait: bgpd's processing only (the calibration)",
                        f"Tdown {spread(downs)}, Tup {spread(ups)}",
                        None,
                    )
                )
                continue
            calibration = col("convergence_e0_s", n, 0)
            finding = tdown_finding(n, mrai, col("convergence_e0_s", n, mrai), calibration)
            updates = mid(col("updates_e0", n, mrai))
            if updates is not None:
                finding.measured += f", {int(updates)} UPDATEs"
            verdict.findings.append(finding)
            note = mrai_bounds(max(0, n - 3) * mrai, calibration).limit_note(finding.case)
            if note:
                verdict.notes.append(note)
            verdict.findings.append(tup_finding(n, mrai, col("convergence_e1_s", n, mrai)))
        probe = [r for r in rows if r.get("kind") == "probe"]
        frr = next((r.get("frr_version") for r in rows if r.get("frr_version")), None)
        verdict.notes.append(f"FRR version: {frr or 'unknown'}")
        if probe:
            tdown = probe[0].get("convergence_e2_s")
            verdict.notes.append(withdrawal_note(tdown, int(probe[0]["mrai"]), frr))
        return verdict

    def plots(self, rows: Sequence[Row], folder: Path, quick: bool) -> List[Path]:
        """``tdown-tup.png``: Tdown, Tup and UPDATEs against N, one line per MRAI."""
        from testbed.reproduce.plots import series_plot

        rows = [r for r in complete(rows) if r.get("kind") == "clique"]
        ns, mrais = self.grid(quick)

        def series(col: str):
            return {f"MRAI {m} s": [(n, values(rows, col, n=n, mrai=m)) for n in ns] for m in mrais}

        panels = [
            ("Tdown: convergence after the withdrawal (s)", series("convergence_e0_s")),
            ("Tup: convergence after the announcement (s)", series("convergence_e1_s")),
            ("UPDATEs sent after the withdrawal", series("updates_e0")),
        ]
        png = series_plot(panels, folder / "tdown-tup.png", "N (ASes in the clique)")
        return [png] if png else []


def _s(x: Optional[float]) -> str:
    return "?" if x is None else f"{x:.2f} s"
