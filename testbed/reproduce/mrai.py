"""``mrai-multiples``: a failover that needs path exploration lands on multiples of MRAI.

RFC 4271 (section 9.2.1.1): a speaker waits at least MinRouteAdvertisement
Interval (MRAI) between two advertisements of the same destination to the
same peer.  When a failover needs a second advertisement soon after a first
one -- the first announcing a path that turns out dead too -- the second
waits for the timer, so convergence lands near a whole multiple of MRAI
(Griffin and Premore, "An Experimental Analysis of BGP Convergence Time",
ICNP 2001).  With MRAI 0 nothing waits: the failover takes a fraction of a
second.

The runs: scenario ``backup-failover`` on ``backup-path``: primary (behind
t1) fails; t2 and t3 first switch to each other's dead path through t1;
t3's advertisement of the prepended backup then waits for its MRAI timer.
Judged: the convergence less the same failover at MRAI 0 (bgpd's processing,
measured) against one MRAI, within FRR's whole-second MRAI clock and the
measured granularity (:func:`testbed.reproduce.base.mrai_bounds`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

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

SCENARIO = "backup-failover"
FULL_MRAI = (0, 5, 15, 30)
QUICK_MRAI = (0, 3)
#: With MRAI 0 the failover counts as sub-second below this.
SUB_SECOND = 1.0


#: MRAI rounds the failover waits on backup-path: t3's advertisement of the backup.
ROUNDS = 1


def nearest_multiple(seconds: float, mrai: float) -> int:
    """The whole multiple of MRAI nearest to ``seconds`` (0 for MRAI 0)."""
    return round(seconds / mrai) if mrai > 0 else 0


def judge_mrai(mrai: int, conv: Sequence[float], calibration: Sequence[float] = ()) -> Finding:
    """Judge the failover convergence of one MRAI.

    Args:
        mrai: the MRAI (s).
        conv: the network convergence after the failure in each run (s).
        calibration: the same at MRAI 0 (bgpd's processing without waits).

    Returns:
        MRAI 0: every run under one second (the claim's bound).  MRAI > 0:
        every run's convergence less the MRAI-0 median is ``ROUNDS`` x MRAI
        within :func:`mrai_bounds`; not judged without an MRAI-0 run.
    """
    if mrai == 0:
        passed = None if not conv else all(c < SUB_SECOND for c in conv)
        return Finding(
            "MRAI 0",
            f"sub-second (< {SUB_SECOND:g} s)",
            spread(conv),
            passed,
            tolerance="none (a bound)",
        )
    bounds = mrai_bounds(ROUNDS * mrai, calibration)
    expected = f"conv - conv(MRAI 0) = {ROUNDS} x MRAI = {bounds.expected()}"
    base = mid(calibration)
    if base is None or not conv:
        return Finding(f"MRAI {mrai} s", expected, f"{spread(conv)}, no MRAI-0 run", None)
    diffs = [c - base for c in conv]
    m = mid(diffs) or 0.0
    measured = f"{spread(diffs)} = {m / mrai:.2f} x MRAI (conv {spread(conv)})"
    return Finding(
        f"MRAI {mrai} s", expected, measured, judge_all(bounds, diffs), tolerance=bounds.text()
    )


class MraiMultiples(Experiment):
    """Failover convergence against MRAI on backup-path."""

    name = "mrai-multiples"
    title = "Failover convergence in whole multiples of MRAI"
    claim = (
        "MRAI spaces two advertisements of a destination to a peer by at least MRAI. A "
        "failover that first explores a dead path needs a second advertisement, which "
        "waits: convergence lands near a whole multiple of MRAI. With MRAI 0 it is "
        "sub-second."
    )
    source = (
        "RFC 4271, section 9.2.1.1 (MinRouteAdvertisementIntervalTimer); Griffin and "
        'Premore, "An Experimental Analysis of BGP Convergence Time", ICNP 2001'
    )
    labels = ("mrai",)

    def mrais(self, quick: bool) -> Sequence[int]:
        """The MRAI values run."""
        return QUICK_MRAI if quick else FULL_MRAI

    def plan(self, quick: bool, repeat: Optional[int] = None) -> List[Planned]:
        """Each MRAI once per repeat (default: 1 quick, 3 full)."""
        out = []
        for r in range(1, (repeat or (1 if quick else 3)) + 1):
            for mrai in self.mrais(quick):
                sets = [f"bgp.mrai={mrai}"]
                sets += timeline(2 * mrai + 3, [2, 2 + 3 * mrai + 5], mrai + 4)
                out.append(Planned({"mrai": mrai}, SCENARIO, sets, r))
        return out

    def judge(self, rows: Sequence[Row], quick: bool) -> Verdict:
        """One finding per MRAI; the client's outage as a note."""
        rows = complete(rows)
        verdict = Verdict()
        calibration = values(rows, "convergence_e0_s", mrai=0)
        for mrai in self.mrais(quick):
            conv = values(rows, "convergence_e0_s", mrai=mrai)
            verdict.findings.append(judge_mrai(mrai, conv, calibration))
            if mrai:
                note = mrai_bounds(ROUNDS * mrai, calibration).limit_note(f"MRAI {mrai} s")
                if note:
                    verdict.notes.append(note)
            outage = values(rows, "max_outage_s", mrai=mrai)
            if outage:
                verdict.notes.append(f"MRAI {mrai} s: the client's DNS outage was {spread(outage)}")
        return verdict

    def plots(self, rows: Sequence[Row], folder: Path, quick: bool) -> List[Path]:
        """``failover.png``: convergence against MRAI, with y = k x MRAI guides."""
        from testbed.reproduce.plots import series_plot

        rows = complete(rows)
        mrais = self.mrais(quick)
        series: Dict[str, List[Tuple[float, Sequence[float]]]] = {
            "failover convergence": [
                (float(m), values(rows, "convergence_e0_s", mrai=m)) for m in mrais
            ],
            "client DNS outage": [(float(m), values(rows, "max_outage_s", mrai=m)) for m in mrais],
        }
        refs = sorted({k * m for m in mrais if m for k in (1, 2)})
        png = series_plot(
            [("seconds after the failure", series)],
            folder / "failover.png",
            "MRAI (s)",
            "dotted: 1 and 2 x each MRAI",
            refs,
        )
        return [png] if png else []
