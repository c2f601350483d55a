"""Lab 9's reasoning: GSLB settings that meet a failover target within budgets; which method wins.

The lab's service is published both ways (docs/gslb.md): ``svc.anycast.test``
answers the anycast address, ``svc.gslb.test`` the nearest healthy site's
own unicast address (PowerDNS at every site, health-checking every site).
A site fails; the student sets the name's TTL and the health-check interval.

**The worst GSLB failover** (:func:`worst_gslb_s`).  A GSLB client whose
site failed is answered by a healthy site, at the latest, after

- *detection*: up to one ``interval`` until the next round of checks, plus
  the check's connect timeout (:data:`CONNECT_TIMEOUT_S`: a silent site's
  connect times out; on a link-down it fails at once, but the bound is the
  same);
- *the cache*: the resolver may have fetched the dead site's address just
  before the authority noticed, and keeps it for the ``ttl``;
- *asking again* (:data:`RESOLVER_S`): the resolver's new query and the
  client's next lookup, about half a second; on a silent failure up to
  3 s, because the authority's anycast address and the failed site's own
  authority address still lead to the dead site until BGP notices, and the
  resolver waits for each to time out before it asks another.

**The cost.**  Every resolver asks the authority once per TTL
(:data:`RESOLVERS` resolvers: ``60 * RESOLVERS / ttl`` queries a minute) and
every site's PowerDNS checks every site, itself too, once per interval
(``60 * SITES**2 / interval`` checks a minute).  A variant gives a budget
for each, a target for the worst GSLB failover, and which load to keep
lowest among the settings that meet everything: the answer is unique
(:meth:`Design.best`).

**Anycast** needs no cache to expire: a link-down ends the site's BGP
session at once and the routers move its clients in well under a second,
so anycast wins; a silent site is noticed only when its upstream's hold
timer expires, between ``hold - keepalive`` and ``hold`` after the failure,
and with the variant's long timers (keepalive a third of the hold) GSLB
settings that meet the target win (:func:`draw` keeps the target at least
:data:`MARGIN_S` below ``hold - keepalive``).

Measured runs are compared with this reasoning; a disagreement is the
testbed's problem, not the student's.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

#: Sites of the lab's network, and its resolvers (one per eyeball AS with clients).
SITES, RESOLVERS = 3, 5
#: The health check's connect timeout (s): PowerDNS's ``timeout``, as the testbed sets it.
CONNECT_TIMEOUT_S = 1.0
#: The failures a variant draws: the site's uplink goes down, or the site goes silent.
HOWS = ("link-down", "silent")
#: Per failure, the resolver asking again after the cache ran out and the client's next lookup (s).
RESOLVER_S = {"link-down": 0.5, "silent": 3.0}
#: The methods a student chooses from for ``faster``.
METHODS = ("anycast", "gslb")
#: The load a variant asks to keep lowest: ``queries`` to the authority, or health ``checks``.
LEAST = ("queries", "checks")
#: What TASK.md says about each load to keep lowest.
LEAST_TEXT = {
    "queries": (
        "Your DNS provider bills every query to the authority: of the settings that meet "
        "the target within both budgets, choose the one that causes the fewest queries"
    ),
    "checks": (
        "Your sites' servers are small and every health check is a connection they must "
        "accept: of the settings that meet the target within both budgets, choose the one "
        "that causes the fewest health checks"
    ),
}
#: Hold times (s) of the silent variants; the keepalive is a third of the hold.
HOLDS = (15, 18, 21, 24, 27)
#: A silent variant's target stays this far (s) below anycast's earliest failover.
MARGIN_S = 1.5
#: The fewest seconds of TTL plus interval a target leaves (silent, link-down), and the
#: most a link-down variant's leaves (a silent one's is bounded by its hold).
LEAST_TIME = {"silent": 4, "link-down": 3}
LINK_DOWN_MOST = 16
#: The most seconds the target leaves beyond the two budgets' least TTL and interval.
MAX_SLACK = 3
#: The largest least-interval the check budget forces.
MAX_MIN_INTERVAL = 6
#: Seconds the lab's run watches the failure after the target, and after a silent variant's hold.
AFTER_TARGET_S, AFTER_HOLD_S = 5, 6
#: A predicted worst case is right within this many seconds of the reasoning's.
PREDICTION_TOLERANCE_S = 1.0
#: A measured figure above the worst case by more than this (s) disagrees with the reasoning.
MEASURED_SLACK_S = 0.25


def worst_gslb_s(ttl: int, interval: int, how: str) -> float:
    """The worst time (s) a GSLB client waits for a healthy site (see the module docstring)."""
    return interval + CONNECT_TIMEOUT_S + ttl + RESOLVER_S[how]


def queries_per_min(ttl: int) -> float:
    """Queries a minute the authority gets for the name: every resolver once per TTL."""
    return 60.0 * RESOLVERS / ttl


def checks_per_min(interval: int) -> float:
    """Health checks a minute of all sites: every site's PowerDNS checks every site per interval."""
    return 60.0 * SITES * SITES / interval


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Design:
    """One variant's design problem (``params["design"]``)."""

    how: str
    """How the site fails: ``link-down`` or ``silent``."""
    target_s: int
    """The worst GSLB failover allowed (s)."""
    queries_per_min: int
    """The authority's budget: queries a minute for the name, from all resolvers."""
    checks_per_min: int
    """The health-check budget: checks a minute, all sites together."""
    least: str
    """Which load to keep lowest among the settings that meet everything (:data:`LEAST`)."""
    hold: Optional[int] = None
    """Silent variants: every BGP session's hold time (s); None: the network's (3 s)."""

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Design:
        """A design from plain data (a variant's ``params["design"]``)."""
        hold = data.get("hold")
        return cls(
            how=str(data["how"]),
            target_s=int(data["target_s"]),
            queries_per_min=int(data["queries_per_min"]),
            checks_per_min=int(data["checks_per_min"]),
            least=str(data["least"]),
            hold=None if hold is None else int(hold),
        )

    def as_dict(self) -> Dict[str, Any]:
        """Plain data (``Design.of(d.as_dict()) == d``)."""
        return asdict(self)

    @property
    def keepalive(self) -> Optional[int]:
        """Silent variants: the keepalive (s), a third of the hold; None otherwise."""
        return None if self.hold is None else self.hold // 3

    def min_ttl(self) -> int:
        """The shortest TTL the query budget allows."""
        return _ceil_div(60 * RESOLVERS, self.queries_per_min)

    def min_interval(self) -> int:
        """The shortest health-check interval the check budget allows."""
        return _ceil_div(60 * SITES * SITES, self.checks_per_min)

    def budgets_met(self, ttl: int, interval: int) -> int:
        """How many of the two budgets the settings stay within (0-2)."""
        return int(queries_per_min(ttl) <= self.queries_per_min) + int(
            checks_per_min(interval) <= self.checks_per_min
        )

    def meets(self, ttl: int, interval: int) -> bool:
        """Whether the settings' worst GSLB failover is within the target."""
        return worst_gslb_s(ttl, interval, self.how) <= self.target_s

    def fits(self, ttl: int, interval: int) -> bool:
        """Within both budgets and the target."""
        return self.budgets_met(ttl, interval) == 2 and self.meets(ttl, interval)

    def most_time(self) -> int:
        """The most seconds of TTL plus interval the target allows."""
        return math.floor(self.target_s - CONNECT_TIMEOUT_S - RESOLVER_S[self.how])

    def best(self) -> Tuple[int, int]:
        """(ttl, interval): of the settings that fit, the one with the least load asked for.

        The fewest queries is the longest TTL (at the shortest interval the
        check budget allows); the fewest checks the longest interval (at the
        shortest TTL the query budget allows).
        """
        if self.least == "queries":
            interval = self.min_interval()
            return self.most_time() - interval, interval
        ttl = self.min_ttl()
        return ttl, self.most_time() - ttl

    def feasible(self) -> List[Tuple[int, int]]:
        """Every (ttl, interval) that fits, by TTL then interval."""
        most = self.most_time()
        return [(t, i) for t in range(1, most) for i in range(1, most - t + 1) if self.fits(t, i)]

    def least_text(self) -> str:
        """What TASK.md says about the load to keep lowest (one sentence, no full stop)."""
        return LEAST_TEXT[self.least]

    def watch_s(self) -> int:
        """Seconds the lab's run watches the failure: past the target, and past a silent hold."""
        watch = self.target_s + AFTER_TARGET_S
        return watch if self.hold is None else max(watch, self.hold + AFTER_HOLD_S)

    def anycast_earliest_s(self) -> float:
        """The earliest an anycast client can be back: at once on a link-down; hold - keepalive."""
        if self.how == "silent" and self.hold is not None and self.keepalive is not None:
            return float(self.hold - self.keepalive)
        return 0.0

    def faster(self) -> str:
        """Which method's clients are back sooner, with settings that meet the target."""
        return "anycast" if self.how == "link-down" else "gslb"


def prediction_close(given: float, expected: float) -> bool:
    """Whether a prediction is within :data:`PREDICTION_TOLERANCE_S` of the worst case."""
    return abs(given - expected) <= PREDICTION_TOLERANCE_S


def measured_faster(anycast_s: Optional[float], gslb_s: Optional[float]) -> Optional[str]:
    """The method whose affected clients' worst failover was shorter (inf: one never came back).

    None when a method has no figures, or neither came back.
    """
    if anycast_s is None or gslb_s is None or anycast_s == gslb_s:
        return None
    return "anycast" if anycast_s < gslb_s else "gslb"


def _budget(rng: random.Random, work: int, least: int) -> int:
    """A per-minute budget whose work (``work / setting`` a minute) forces ``setting >= least``."""
    if least == 1:
        return rng.randint(work, work + work // 3)
    low, high = _ceil_div(work, least), _ceil_div(work, least - 1) - 1
    assert low <= high, (work, least)
    return rng.randint(low, high)


def most_time_silent(hold: int) -> int:
    """The most TTL plus interval a silent variant with this hold leaves (anycast stays slower)."""
    keepalive = hold // 3
    step = math.ceil(CONNECT_TIMEOUT_S + RESOLVER_S["silent"])
    return math.floor(hold - keepalive - MARGIN_S - step)


def draw(rng: random.Random) -> Dict[str, Any]:
    """One variant's design, as plain data (``Design.of(data)``).

    The failure and the load to keep lowest are drawn first, then the time
    the target leaves for TTL plus interval; a silent failure gets a hold
    time long enough to keep GSLB's worst case :data:`MARGIN_S` below
    anycast's earliest failover.  Then the least TTL and interval
    the budgets force, and the slack between them (0 to :data:`MAX_SLACK` s:
    with none, one setting fits); the target is the smallest whole second
    whose worst case leaves that time, and the budgets are drawn among those
    that force the least settings.
    """
    how = rng.choice(HOWS)
    least = rng.choice(LEAST)
    hold: Optional[int] = None
    if how == "silent":
        total = rng.randint(LEAST_TIME[how], most_time_silent(max(HOLDS)))
        hold = rng.choice([h for h in HOLDS if most_time_silent(h) >= total])
    else:
        total = rng.randint(LEAST_TIME[how], LINK_DOWN_MOST)
    slack = rng.randint(0, min(MAX_SLACK, total - 2))
    min_interval = rng.randint(1, min(MAX_MIN_INTERVAL, total - slack - 1))
    min_ttl = total - slack - min_interval
    target = total + math.ceil(CONNECT_TIMEOUT_S + RESOLVER_S[how])
    design = Design(
        how=how,
        target_s=target,
        queries_per_min=_budget(rng, 60 * RESOLVERS, min_ttl),
        checks_per_min=_budget(rng, 60 * SITES * SITES, min_interval),
        least=least,
        hold=hold,
    )
    assert (design.min_ttl(), design.min_interval(), design.most_time()) == (
        min_ttl,
        min_interval,
        total,
    )
    return design.as_dict()
