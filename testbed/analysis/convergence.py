"""Control-plane convergence: how long each router's route kept changing after an event.

Route records (``routes.jsonl``) hold every change of a router's route to
the anycast prefix; the first record per router (``change: initial``) is its
starting state, not a change.  Each event owns the window from its time to
the next event (or the end of the run).  In that window, a router's
convergence time is from the event to its last route change, and its number
of changes shows path exploration.  The network's convergence is the maximum
over routers; routers without a change are left out, and an event after
which nothing changed has no convergence time (None).  All times here are
wall-clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence

Record = Dict[str, Any]


def is_change(record: Record) -> bool:
    """True for a route record that is a change (not a router's ``initial`` state)."""
    return record.get("change") != "initial" and record.get("router") is not None


@dataclass
class RouterConvergence:
    """One router's route changes in one event's window.

    Attributes:
        router: the router's name.
        route_changes: how many changes.
        last_change: wall-clock time of the last change.
        convergence_s: from the event to the last change.
    """

    router: str
    route_changes: int
    last_change: float
    convergence_s: float


@dataclass
class EventConvergence:
    """Route changes in one event's window ``[t, t_next)``.

    Attributes:
        t: the event's wall-clock time.
        t_next: the next event's time, or the end of the run.
        routers: router -> its changes, only routers that changed.
    """

    t: float
    t_next: float
    routers: Dict[str, RouterConvergence] = field(default_factory=dict)

    @property
    def convergence_s(self) -> Optional[float]:
        """Network convergence: the slowest router's time, None if nothing changed."""
        if not self.routers:
            return None
        return max(r.convergence_s for r in self.routers.values())

    @property
    def route_changes(self) -> int:
        """Route changes of all routers in the window."""
        return sum(r.route_changes for r in self.routers.values())

    @property
    def routers_changed(self) -> List[str]:
        """The routers whose route changed, sorted."""
        return sorted(self.routers)


def event_convergence(
    routes: Iterable[Record], event_times: Sequence[float], end: float
) -> List[EventConvergence]:
    """Convergence per event.

    Args:
        routes: route records, any order.
        event_times: event times, sorted.
        end: wall-clock end of the timeline (the last event's window ends
            there; later changes, e.g. during teardown, are not counted).

    Returns:
        One :class:`EventConvergence` per event, in the same order.
    """
    changes = sorted((r for r in routes if is_change(r)), key=lambda r: r["t"])
    out: List[EventConvergence] = []
    for i, t in enumerate(event_times):
        t_next = end if i == len(event_times) - 1 else event_times[i + 1]
        ev = EventConvergence(t, max(t_next, t))
        for r in changes:
            if r["t"] < t or r["t"] >= t_next:
                continue
            name = str(r["router"])
            prev = ev.routers.get(name)
            count = prev.route_changes + 1 if prev else 1
            ev.routers[name] = RouterConvergence(name, count, r["t"], r["t"] - t)
        out.append(ev)
    return out


def changes_per_router(routes: Iterable[Record], since: Optional[float] = None) -> Dict[str, int]:
    """How many times each router's route changed.

    Args:
        routes: route records, any order.
        since: count only changes at or after this time (e.g. t0); None counts all.

    Returns:
        router -> number of changes, for every router with a record (0 if
        it only has its initial state).
    """
    out: Dict[str, int] = {}
    for r in routes:
        if r.get("router") is None:
            continue
        name = str(r["router"])
        out.setdefault(name, 0)
        if is_change(r) and (since is None or r["t"] >= since):
            out[name] += 1
    return out
