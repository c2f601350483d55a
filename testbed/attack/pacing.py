"""How many packets are due when: a rate with a linear ramp (pure, sans-I/O).

The rate grows linearly from 0 to ``rate`` over ``ramp`` seconds, then
stays there, so the number of packets due by ``t`` seconds after the start is

    rate * t**2 / (2 * ramp)     while t < ramp
    rate * (t - ramp / 2)        after

(capped at its value at ``duration``).  The sender's loop asks
:meth:`Pacer.to_send` how many packets it owes, sends them in batches of at
most :data:`BATCH`, and sleeps until :meth:`Pacer.next_wake`.  It never sends a
packet before it is due, so the count sent never exceeds the schedule; a
process that fell behind (CPU starved, stopped) catches up by at most
``max(BATCH, rate * max_lag)`` packets and forgets the rest (:attr:`Pacer.skipped`)
instead of bursting far above the rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

#: Packets per sendmmsg call at most.
BATCH = 64
#: Seconds of backlog a sender that fell behind may still catch up.
MAX_LAG = 0.05
#: Shortest sleep worth taking: wake when this long's packets are due (at least one).
MIN_INTERVAL = 0.001
_EPS = 1e-9


@dataclass
class Pacer:
    """The send schedule of one source; times are seconds since its start.

    Attributes:
        rate: packets/s once the ramp is over (> 0).
        ramp: seconds from 0 to ``rate`` (0: the full rate at once).
        duration: nothing is due after this (None: no end).
        batch: packets per send call at most.
        max_lag: seconds of backlog kept when behind.
        skipped: packets forgotten so far because the sender fell behind.
    """

    rate: float
    ramp: float = 0.0
    duration: Optional[float] = None
    batch: int = BATCH
    max_lag: float = MAX_LAG
    skipped: int = 0

    def scheduled(self, t: float) -> float:
        """Packets due by ``t`` along the curve (a real number, skipped ones included)."""
        if self.duration is not None:
            t = min(t, self.duration)
        if t <= 0:
            return 0.0
        if t < self.ramp:
            return self.rate * t * t / (2 * self.ramp)
        return self.rate * (t - self.ramp / 2)

    def total(self) -> Optional[int]:
        """Packets due over the whole duration (None without one)."""
        if self.duration is None:
            return None
        return math.floor(self.scheduled(self.duration) + _EPS)

    def due(self, t: float) -> int:
        """Packets that should have been sent by ``t`` (skipped ones left out)."""
        return math.floor(self.scheduled(t) + _EPS) - self.skipped

    def time_of(self, n: int) -> float:
        """When the ``n``-th packet (skipped ones left out) is due (inf: never)."""
        n += self.skipped
        end = self.total()
        if end is not None and n > end:
            return math.inf
        if n <= 0:
            return 0.0
        if self.ramp > 0 and n <= self.rate * self.ramp / 2:
            return math.sqrt(2 * self.ramp * n / self.rate)
        return n / self.rate + self.ramp / 2

    def to_send(self, t: float, sent: int) -> int:
        """How many packets to send now, having sent ``sent``; forgets an old backlog.

        Returns:
            The deficit, at most ``max(batch, rate * max_lag)`` (the rest is
            added to :attr:`skipped`); 0 when nothing is owed.
        """
        deficit = self.due(t) - sent
        cap = max(self.batch, math.ceil(self.rate * self.max_lag))
        if deficit > cap:
            self.skipped += deficit - cap
            deficit = cap
        return max(0, deficit)

    def next_wake(self, sent: int) -> float:
        """When to look again, having sent ``sent``: once a step's worth is due.

        A step is what :data:`MIN_INTERVAL` holds at the full rate, from one
        packet to a batch, so a slow source sleeps between single packets
        and a fast one between batches.
        """
        step = min(self.batch, max(1, math.ceil(self.rate * MIN_INTERVAL)))
        wake = self.time_of(sent + step)
        if math.isinf(wake):  # fewer than a step left: wake for the last one
            wake = self.time_of(sent + 1)
        return wake
