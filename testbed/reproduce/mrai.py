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

SCENARIO = "backup-failover"
FULL_MRAI = (0, 5, 15, 30)
QUICK_MRAI = (0, 3)
#: With MRAI 0 the failover counts as sub-second below this.
SUB_SECOND = 1.0


def tolerance(mrai: float) -> float:
    """How far from a whole multiple of MRAI still counts as near (s)."""
    return max(0.6, 0.1 * mrai)


def nearest_multiple(seconds: float, mrai: float) -> int:
    """The whole multiple of MRAI nearest to ``seconds`` (0 for MRAI 0)."""
    return round(seconds / mrai) if mrai > 0 else 0


def judge_mrai(mrai: int, conv: Sequence[float]) -> Finding:
    """Judge the failover convergence of one MRAI.

    Args:
        mrai: the MRAI (s).
        conv: the network convergence after the failure in each run (s).

    Returns:
        MRAI 0: passes below one second.  MRAI > 0: passes when the median
        is within :func:`tolerance` of k x MRAI for a whole k >= 1.
    """
    m = mid(conv)
    if mrai == 0:
        passed = None if m is None else m < SUB_SECOND
        return Finding("MRAI 0", f"sub-second (< {SUB_SECOND:g} s)", spread(conv), passed)
    expected = f"near k x {mrai} s (k >= 1, within {tolerance(mrai):.1f} s)"
    if m is None:
        return Finding(f"MRAI {mrai} s", expected, "no data", None)
    k = nearest_multiple(m, mrai)
    passed = k >= 1 and abs(m - k * mrai) <= tolerance(mrai)
    measured = f"{spread(conv)} = {m / mrai:.2f} x MRAI"
    return Finding(f"MRAI {mrai} s", expected, measured, passed)


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
                sets += timeline(2 * mrai + 5, [2, 2 + 3 * mrai + 8], mrai + 6)
                out.append(Planned({"mrai": mrai}, SCENARIO, sets, r))
        return out

    def judge(self, rows: Sequence[Row], quick: bool) -> Verdict:
        """One finding per MRAI; the client's outage as a note."""
        rows = complete(rows)
        verdict = Verdict()
        for mrai in self.mrais(quick):
            verdict.findings.append(judge_mrai(mrai, values(rows, "convergence_e0_s", mrai=mrai)))
            outage = values(rows, "max_outage_s", mrai=mrai)
            if outage:
                verdict.notes.append(f"MRAI {mrai} s: the client's DNS outage was {spread(outage)}")
        return verdict

    def plots(self, rows: Sequence[Row], folder: Path, quick: bool) -> List[Path]:
        """``failover.png``: convergence against MRAI, with y = k x MRAI guides."""
        from testbed.reproduce.plots import series_plot

        rows = complete(rows)
        mrais = self.mrais(quick)
        series = {
            "failover convergence": [(m, values(rows, "convergence_e0_s", mrai=m)) for m in mrais],
            "client DNS outage": [(m, values(rows, "max_outage_s", mrai=m)) for m in mrais],
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
