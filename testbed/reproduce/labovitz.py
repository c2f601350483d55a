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
of any router); UPDATEs are counted from every session's counters.

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
    mid,
    spread,
    timeline,
    values,
)

SCENARIO = "delayed-convergence"
FULL_N = (4, 6, 8, 10, 12)
FULL_MRAI = (0, 5, 15, 30)
QUICK_N = (3, 5)
QUICK_MRAI = (0, 3)
#: Quick runs (N, MRAI): growth with MRAI at N = 5, growth with N at MRAI 3.
QUICK_POINTS = ((5, 0), (3, 3), (5, 3))
#: Tup counts as short below this many seconds.
TUP_SHORT_S = 2.0
#: Below this, a withdrawal sent while MRAI runs arrived at once.
BYPASS_S = 1.0


def clique_sets(n: int, mrai: int) -> List[str]:
    """``--set`` items of one clique run: topology, MRAI, and a timeline long enough.

    Settle covers the path exploration of the bring-up (two MRAI rounds).
    Tdown measured here is about (N - 3) x MRAI, so the withdrawal's window
    of (N - 1) x MRAI + 10 s leaves two MRAI rounds of quiet: the
    announcement finds every MRAI timer expired.
    """
    down = mrai * (n - 1) + 10
    up = 2 * mrai + 8
    sets = [f"topology=clique:{n}", f"bgp.mrai={mrai}", "expect=[]"]
    return sets + timeline(2 * mrai + 5, [2, 2 + down], up)


def probe_sets(mrai: int) -> List[str]:
    """The withdrawal probe on ``chain:3``: withdraw, announce, withdraw 1 s later."""
    w1, a, w2 = 2, 2 + mrai + 4, 2 + mrai + 5
    events = ", ".join(
        f"{{at: {at}, event: {kind}, site: origin}}"
        for at, kind in ((w1, "withdraw"), (a, "restore"), (w2, "withdraw"))
    )
    sets = ["topology=chain:3", f"bgp.mrai={mrai}", "expect=[]", f"timeline=[{events}]"]
    return sets + [f"settle={2 * mrai + 5}", f"duration={w2 + mrai + 6}"]


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
    n: int, mrai: int, down: Optional[float], up: Optional[float], updates: Optional[float]
) -> Finding:
    """Tdown against Tup for one clique run.

    Judged (Tdown > Tup) only where the model predicts a wait, (N - 3) x MRAI > 0;
    elsewhere shown.
    """
    bound = max(0, n - 3) * mrai
    measured = (
        f"Tdown {_s(down)}, Tup {_s(up)}, "
        f"{'?' if updates is None else int(updates)} UPDATEs after the withdrawal"
    )
    if mrai == 0:
        return Finding(f"clique:{n}, MRAI 0", "no MRAI: both short", measured, None)
    if not bound:
        return Finding(f"clique:{n}, MRAI {mrai} s", "model: Tdown >= 0 s", measured, None)
    passed = None if down is None or up is None else down > up
    expected = f"Tdown > Tup (model: Tdown >= {bound} s)"
    return Finding(f"clique:{n}, MRAI {mrai} s", expected, measured, passed)


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
        """Tdown > Tup at MRAI > 0; Tdown grows with MRAI and with N; Tup short."""
        rows = complete(rows)
        ns, mrais = self.grid(quick)
        verdict = Verdict()

        def t(col: str, n: int, mrai: int) -> Optional[float]:
            return mid(values(rows, col, kind="clique", n=n, mrai=mrai))

        for n, mrai in self.points(quick):
            down, up = t("convergence_e0_s", n, mrai), t("convergence_e1_s", n, mrai)
            updates = mid(values(rows, "updates_e0", kind="clique", n=n, mrai=mrai))
            verdict.findings.append(tdown_finding(n, mrai, down, up, updates))
        top = max(mrais)
        for n in (n for n in ns if n > 3):  # clique:3 has nothing to explore
            low, high = t("convergence_e0_s", n, 0), t("convergence_e0_s", n, top)
            passed = None if low is None or high is None else high > low
            verdict.findings.append(
                Finding(
                    f"clique:{n}, MRAI 0 -> {top} s",
                    "Tdown grows with MRAI",
                    f"Tdown {_s(low)} -> {_s(high)}",
                    passed,
                )
            )
        for mrai in (m for m in mrais if m > 0):
            first, last = t("convergence_e0_s", ns[0], mrai), t("convergence_e0_s", ns[-1], mrai)
            passed = None if first is None or last is None else last > first
            verdict.findings.append(
                Finding(
                    f"MRAI {mrai} s, clique:{ns[0]} -> clique:{ns[-1]}",
                    "Tdown grows with N",
                    f"Tdown {_s(first)} -> {_s(last)}",
                    passed,
                )
            )
        ups = values(rows, "convergence_e1_s", kind="clique")
        verdict.findings.append(
            Finding(
                "every clique run",
                f"Tup stays short (< {TUP_SHORT_S:g} s)",
                f"Tup {spread(ups)}, at most {max(ups):.2f} s" if ups else "no data",
                (max(ups) < TUP_SHORT_S) if ups else None,
            )
        )
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
