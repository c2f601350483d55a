"""What an experiment is: the runs it needs, and how it judges their figures.

An experiment plans its runs as :class:`Planned` entries (a scenario, its
``--set`` overrides, and label columns such as ``n`` or ``mrai``); the sweep
runner runs them into ``sweep.csv``; the experiment then reads the rows and
gives :class:`Finding` lines -- what the literature or the standard says,
what was measured, and whether they agree -- and plots.  Judging is a pure
function of the rows, so it is tested on synthetic figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any, Dict, Iterable, List, Optional, Sequence

Row = Dict[str, Any]


@dataclass
class Planned:
    """One run an experiment needs.

    Attributes:
        labels: columns that identify the run in the CSV (e.g. ``{"n": 5, "mrai": 15}``).
        scenario: the scenario reference.
        sets: its ``--set`` overrides.
        repeat: the repetition, from 1.
    """

    labels: Dict[str, Any]
    scenario: str
    sets: List[str]
    repeat: int = 1


@dataclass
class Finding:
    """One line of a verdict.

    Attributes:
        case: what was run (``hold 3 s, keepalive 1 s``).
        expected: what the literature or standard says, with numbers.
        measured: what the testbed measured.
        passed: True agrees, False disagrees, None: shown, not judged.
        tolerance: how far outside ``expected`` still agrees, and why (the
            measured granularity only: timer ticks, log timestamps, the time
            an event took to apply); empty for a finding not judged.
        extra: more columns of the table (the experiment's ``Verdict.columns``).
    """

    case: str
    expected: str
    measured: str
    passed: Optional[bool] = None
    tolerance: str = ""
    extra: Dict[str, str] = field(default_factory=dict)


@dataclass
class Verdict:
    """An experiment's findings and notes (plain statements about this FRR)."""

    findings: List[Finding] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    #: Columns after ``measured`` (each finding's ``extra``), e.g. ``outage``.
    columns: List[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every judged finding agrees (and there is at least one)."""
        judged = [f.passed for f in self.findings if f.passed is not None]
        return bool(judged) and all(judged)


class Experiment:
    """Base class: name, claim and source; subclasses plan, judge and plot."""

    name = ""
    title = ""
    #: What the literature or the standard says, in two or three sentences.
    claim = ""
    #: Where it says it.
    source = ""
    #: Label columns of the CSV, in order.
    labels: Sequence[str] = ()

    def plan(self, quick: bool, repeat: Optional[int] = None) -> List[Planned]:
        """The runs, in order (``repeat`` None: the experiment's default)."""
        raise NotImplementedError

    def judge(self, rows: Sequence[Row], quick: bool) -> Verdict:
        """Compare the completed rows with the claim."""
        raise NotImplementedError

    def plots(self, rows: Sequence[Row], folder: Path, quick: bool) -> List[Path]:
        """Write the experiment's PNGs into ``folder``; return them."""
        return []


# ------------------------------------------------------------------ helpers
#: Log and netlink timestamps are kept to the millisecond.
TIMESTAMP_S = 0.001
#: The largest tolerance a verdict may take, as a share of the expected value.
MAX_SHARE = 0.10


@dataclass(frozen=True)
class Bounds:
    """An expected interval and how far outside it still agrees.

    Attributes:
        low: the reference's lower bound (s).
        high: its upper bound (s).
        below: tolerance under ``low`` (s).
        above: tolerance over ``high`` (s).
        why: where the tolerance comes from, in words.
    """

    low: float
    high: float
    below: float
    above: float
    why: str

    def holds(self, x: float) -> bool:
        """True when ``x`` lies in ``[low - below, high + above]``."""
        return self.low - self.below <= x <= self.high + self.above

    def expected(self) -> str:
        """``0.20-0.30 s`` or ``6.00 s``."""
        if abs(self.high - self.low) < 1e-9:
            return f"{self.low:.2f} s"
        return f"{self.low:.2f}-{self.high:.2f} s"

    def text(self) -> str:
        """``-0.001/+0.012 s (why)`` or ``±0.100 s (why)``."""
        if abs(self.below - self.above) < 1e-9:
            return f"±{self.above:.3f} s ({self.why})"
        return f"-{self.below:.3f}/+{self.above:.3f} s ({self.why})"

    def share(self) -> Optional[float]:
        """The widest side of the tolerance as a share of the expected value (None for 0)."""
        ref = max(abs(self.low), abs(self.high))
        return max(self.below, self.above) / ref if ref > 0 else None

    def limit_note(self, case: str) -> Optional[str]:
        """A note when the tolerance exceeds :data:`MAX_SHARE` of the expected value."""
        share = self.share()
        if share is None:
            return f"{case}: the expected value is 0, so the tolerance is absolute ({self.why})"
        if share > MAX_SHARE:
            return (
                f"{case}: the tolerance is {share:.0%} of the expected value, more than "
                f"{MAX_SHARE:.0%}: the testbed cannot judge this case more closely ({self.why})"
            )
        return None


#: bgpd's work queue holds route processing for 50 ms (FRR's fixed ``bgp_process``
#: hold), once at each end of a timed wait.
WORK_QUEUE_S = 0.05


def mrai_bounds(wait: float, calibration: Sequence[float]) -> Bounds:
    """Bounds of a convergence time less the same run at MRAI 0, against ``wait`` (s).

    The run at MRAI 0 (same topology) measures everything but the MRAI waits
    (bgpd's processing, the FIB, the recorder), so the difference is the waits.
    FRR counts MRAI on a whole-second clock (``bgp_adjust_routeadv``: the time
    since the last update in whole seconds), so a wait can end up to 1 s early;
    add bgpd's work queue at both ends of the wait, the spread of the MRAI-0
    runs, and the millisecond of the timestamps.
    """
    spread_s = (max(calibration) - min(calibration)) if len(calibration) > 1 else 0.0
    grain = 2 * WORK_QUEUE_S + spread_s + TIMESTAMP_S
    why = "bgpd's work queue 2 x 50 ms, the MRAI-0 runs' spread, 1 ms timestamps"
    if wait > 0:
        why = "FRR's whole-second MRAI clock (up to 1 s early), " + why
        return Bounds(wait, wait, 1.0 + grain, grain, why)
    return Bounds(0.0, 0.0, grain, grain, why)


def judge_all(bounds: Bounds, xs: Sequence[float]) -> Optional[bool]:
    """Every run inside the bounds (None without runs): each run is judged, not the median."""
    if not xs:
        return None
    return all(bounds.holds(x) for x in xs)


def complete(rows: Iterable[Row]) -> List[Row]:
    """Rows of runs that finished (status ok or failed expectations)."""
    return [r for r in rows if r.get("status") in ("ok", "failed")]


def values(rows: Iterable[Row], column: str, **match: Any) -> List[float]:
    """A column's numbers over the rows whose labels match (None left out)."""
    out = []
    for r in rows:
        if all(r.get(k) == v for k, v in match.items()) and r.get(column) is not None:
            out.append(float(r[column]))
    return out


def mid(xs: Sequence[float]) -> Optional[float]:
    """The median, None for no values."""
    return median(xs) if xs else None


def spread(xs: Sequence[float]) -> str:
    """``2.71 s`` or ``2.71 s (2.55-2.90, 3 runs)``; ``no data`` for none."""
    if not xs:
        return "no data"
    if len(xs) == 1:
        return f"{xs[0]:.2f} s"
    return f"{median(xs):.2f} s ({min(xs):.2f}-{max(xs):.2f}, {len(xs)} runs)"


def timeline(settle: float, events: Sequence[float], tail: float) -> List[str]:
    """``--set`` items for a timeline: settle, each event's ``at``, duration.

    Args:
        settle: seconds before the timeline.
        events: each event's time, in order.
        tail: seconds after the last event.

    Returns:
        ``settle=...``, ``timeline.I.at=...``, ``duration=...``.
    """
    sets = [f"settle={settle:g}"]
    sets += [f"timeline.{i}.at={at:g}" for i, at in enumerate(events)]
    sets.append(f"duration={events[-1] + tail:g}")
    return sets
