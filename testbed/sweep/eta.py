"""An estimate of the time a sweep has left.

Each run costs its traffic time (``settle + duration``, known in advance)
plus an overhead (bring-up, convergence, teardown, analysis) learnt from
the runs done so far; before any run ends, a default overhead is assumed.
"""

from __future__ import annotations

from statistics import mean
from typing import List, Sequence

#: Seconds of bring-up, teardown and analysis assumed before any run ends.
DEFAULT_OVERHEAD = 15.0


class Eta:
    """Time left for a list of runs of known traffic time."""

    def __init__(self, planned: Sequence[float], overhead: float = DEFAULT_OVERHEAD):
        """Args:
        planned: traffic seconds of each run, in order.
        overhead: seconds assumed per run before one has ended.
        """
        self.planned = list(planned)
        self.default = overhead
        self._extra: List[float] = []

    @property
    def overhead(self) -> float:
        """Seconds per run beyond its traffic time (mean of the runs done so far)."""
        return mean(self._extra) if self._extra else self.default

    def done(self, index: int, seconds: float) -> None:
        """Record that run ``index`` (from 0) took ``seconds`` in all."""
        self._extra.append(max(0.0, seconds - self.planned[index]))

    def left(self, start: int) -> float:
        """Seconds left for runs ``start`` and later (from 0)."""
        rest = self.planned[start:]
        return sum(rest) + self.overhead * len(rest)


def human(seconds: float) -> str:
    """``45 s``, ``12 min``, ``1 h 05 min``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
