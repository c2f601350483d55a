"""BGP UPDATE messages exchanged after each event, from the counters in ``bgp.jsonl``.

The BGP recorder snapshots every session's ``updates_out`` counter when it
starts, every few seconds, and when it stops.  The updates an event caused
are the growth of the counters over its window ``[t, t_next)``: the last
snapshot before the next event (or the final one) minus the last snapshot
before the event, summed over every router and peer.  Each message is
counted once, by its sender.  A counter that went down (the session was
reset) counts from zero.
"""

from __future__ import annotations

import bisect
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

Record = Dict[str, Any]


def _series(bgp: Iterable[Record]) -> Dict[Tuple[str, str], List[Tuple[float, int]]]:
    """(router, peer) -> [(t, updates_out)] sorted by time."""
    out: Dict[Tuple[str, str], List[Tuple[float, int]]] = {}
    for r in bgp:
        if r.get("event") != "counters" or not isinstance(r.get("updates_out"), int):
            continue
        out.setdefault((str(r.get("router")), str(r.get("peer"))), []).append(
            (float(r["t"]), int(r["updates_out"]))
        )
    for points in out.values():
        points.sort()
    return out


def _at(points: List[Tuple[float, int]], t: Optional[float]) -> Optional[int]:
    """The counter at the last snapshot at or before ``t`` (None: no snapshot yet)."""
    if t is None:
        return points[-1][1]
    i = bisect.bisect_right([p[0] for p in points], t)
    return points[i - 1][1] if i else None


def updates_per_event(bgp: Iterable[Record], event_times: Sequence[float]) -> List[Optional[int]]:
    """UPDATE messages sent in each event's window.

    Args:
        bgp: the run's ``bgp.jsonl`` records.
        event_times: wall-clock event times, sorted.

    Returns:
        One count per event; None when no counter snapshot came before the event.
    """
    series = _series(bgp)
    out: List[Optional[int]] = []
    for i, t in enumerate(event_times):
        t_next = event_times[i + 1] if i + 1 < len(event_times) else None
        total: Optional[int] = None
        for points in series.values():
            before = _at(points, t)
            after = _at(points, t_next)
            if before is None or after is None:
                continue
            total = (total or 0) + (after - before if after >= before else after)
        out.append(total)
    return out
