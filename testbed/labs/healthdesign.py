"""Lab 4's reasoning: a health agent that rides out a service restart and still withdraws in time.

A site's health agent (docs/topology.md, "Health agents") runs one round of
checks every ``interval`` seconds, on a fixed schedule: a round that waits
does not delay the next.  A DNS check against a dead NSD waits the whole
``timeout`` (the agent's unconnected UDP socket ignores the ICMP "port
unreachable"), and ``fall`` failed rounds in a row withdraw the route.

**A blip** (the DNS service restarts, away for ``b`` seconds) fails every
round that starts while it is away: at most ``floor(b / interval) + 1``
rounds in a row (:func:`rounds_failed`).  The agent rides it out when
``fall`` is more than that, that is when ``(fall - 1) * interval > b``
(:func:`rides_out`); the smallest such ``fall`` is :func:`min_fall`.

**A real death.**  The first round that fails starts within one
``interval`` of the servers' death and the ``fall``-th ends at most
``timeout`` after it starts: the agent withdraws at most
``fall * interval + timeout`` after the death (:func:`worst_withdraw_s`);
then BGP converges (a few hundred milliseconds in the testbed).

A variant draws a blip (:data:`BLIPS`), an outage budget for the real death
(``target``: the blip plus one of :data:`SLACKS`) and an agent for the
reasoning questions (``ask``).  Every variant has a design among
:data:`INTERVALS` and :data:`FALLS`, with a :data:`TIMEOUT_S` check timeout,
that rides out the blip with a margin (:data:`BLIP_MARGIN_S`) and withdraws
within the budget less BGP's convergence (:data:`CONVERGENCE_S`):
:meth:`Design.best` is the quickest of them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

#: How long the DNS service restarts for (s): a config reload, say.
BLIPS = (1.0, 1.5, 2.0, 2.5)
#: The outage budget of the real death is the blip plus one of these (s).
SLACKS = (2.0, 2.5, 3.0)
#: The ``ask`` agent's settings are drawn from these (its timeout below its interval).
ASK_INTERVALS = (0.5, 1.0, 1.5, 2.0)
ASK_TIMEOUTS = (0.2, 0.3, 0.5)
ASK_FALLS = (2, 3, 4, 5)
#: The designs :meth:`Design.best` chooses from: intervals (s), falls, and the check timeout (s).
INTERVALS = (0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0)
FALLS = tuple(range(2, 11))
TIMEOUT_S = 0.2
#: A design rides out a blip this much longer than the drawn one (s): a measured one varies.
BLIP_MARGIN_S = 0.25
#: What a design leaves of the budget for BGP's convergence after the withdrawal (s).
CONVERGENCE_S = 0.8
#: A timing answer may be this much (s) above the worst case (rounding).
TIMING_SLACK_S = 0.01
#: Floating-point slack in comparisons of seconds.
EPS = 1e-9


def rounds_failed(blip: float, interval: float) -> int:
    """The most rounds in a row that a blip of ``blip`` seconds fails at ``interval``."""
    return math.floor(blip / interval + EPS) + 1


def rides_out(blip: float, interval: float, fall: int) -> bool:
    """True when an agent with ``interval`` and ``fall`` never withdraws for a blip this long."""
    return fall > rounds_failed(blip, interval)


def min_fall(blip: float, interval: float) -> int:
    """The smallest ``fall`` that rides out a blip of ``blip`` seconds at ``interval``."""
    return rounds_failed(blip, interval) + 1


def worst_withdraw_s(interval: float, fall: int, timeout: float) -> float:
    """The longest time (s) from the servers' death to the agent's withdrawal."""
    return round(fall * interval + timeout, 6)


def timing_right(answer: float, interval: float, fall: int, timeout: float) -> bool:
    """A worst-case withdrawal answer is right within [fall * interval, the worst case]."""
    low = fall * interval - EPS
    return low <= answer <= worst_withdraw_s(interval, fall, timeout) + TIMING_SLACK_S + EPS


@dataclass(frozen=True)
class Agent:
    """An agent's timing settings (the variant's ``ask`` agent, or a design)."""

    interval: float
    timeout: float
    fall: int

    def worst_s(self) -> float:
        """The longest time (s) from the servers' death to its withdrawal."""
        return worst_withdraw_s(self.interval, self.fall, self.timeout)

    def as_dict(self) -> Dict[str, Any]:
        """Plain data (a variant's ``params["ask"]``)."""
        return {"interval": self.interval, "timeout": self.timeout, "fall": self.fall}


@dataclass(frozen=True)
class Design:
    """One variant's design problem: the blip, the budget, the agent asked about."""

    blip: float
    """Seconds the DNS service is away when it restarts."""
    target: float
    """The outage budget (s) of the failing site's clients when its servers die."""
    ask: Agent
    """The agent of the reasoning questions."""

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> Design:
        """The design of a lab 4 variant (its ``params``)."""
        ask = params["ask"]
        return cls(
            blip=float(params["blip"]),
            target=float(params["target"]),
            ask=Agent(float(ask["interval"]), float(ask["timeout"]), int(ask["fall"])),
        )

    def fits(self, interval: float, fall: int, timeout: float = TIMEOUT_S) -> bool:
        """True when the settings ride out the blip with the margin and meet the budget."""
        rides = (fall - 1) * interval >= self.blip + BLIP_MARGIN_S - EPS
        quick = worst_withdraw_s(interval, fall, timeout) + CONVERGENCE_S <= self.target + EPS
        return rides and quick

    def feasible(self) -> List[Tuple[float, int]]:
        """Every (interval, fall) of :data:`INTERVALS` and :data:`FALLS` that fits."""
        return [(i, f) for i in INTERVALS for f in FALLS if self.fits(i, f)]

    def best(self) -> Optional[Tuple[float, int]]:
        """The quickest design that fits: smallest ``fall * interval``, then the longer interval.

        Returns:
            (interval, fall), or None when nothing fits (no drawn variant).
        """
        designs = self.feasible()
        if not designs:
            return None
        return min(designs, key=lambda d: (round(d[0] * d[1], 6), -d[0]))

    def ask_worst_s(self) -> float:
        """The ``ask`` agent's longest time (s) from the servers' death to its withdrawal."""
        return self.ask.worst_s()

    def ask_min_fall(self) -> int:
        """The smallest fall that rides out the blip at the ``ask`` agent's interval."""
        return min_fall(self.blip, self.ask.interval)


def draw(rng: random.Random) -> Dict[str, Any]:
    """A variant's blip, target and ``ask`` agent, as ``params`` hold them."""
    blip = rng.choice(BLIPS)
    target = blip + rng.choice(SLACKS)
    interval = rng.choice(ASK_INTERVALS)
    timeout = rng.choice([t for t in ASK_TIMEOUTS if t < interval])
    fall = rng.choice(ASK_FALLS)
    return {"blip": blip, "target": target, "ask": Agent(interval, timeout, fall).as_dict()}
