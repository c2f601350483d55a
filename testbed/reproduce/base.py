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
    """

    case: str
    expected: str
    measured: str
    passed: Optional[bool] = None


@dataclass
class Verdict:
    """An experiment's findings and notes (plain statements about this FRR)."""

    findings: List[Finding] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

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
