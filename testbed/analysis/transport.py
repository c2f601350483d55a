"""Transport remedies side by side: how each probe kind's flows fared in each event (pure).

For every event that moved clients, the flows of those clients in the
event's window (from the event to the next one, or the run's end), per
probe kind (:mod:`testbed.probes.kinds`), added up over the clients:
survived, reset, timed out, failed, recovered and how fast, what was lost.
A long-lived kind (streams, connections) counts the flows that were up when
the window began plus those opened in it; a short kind (queries, requests)
only those sent in it.  This is the measured remedy table the report puts
next to the primer's claims.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from testbed.analysis.load import RunRecords
from testbed.analysis.model import EventSummary, TransportOutcome
from testbed.probes.kinds import kind_class

Record = Dict[str, Any]


def _before(records: Sequence[Record], t: float) -> List[Record]:
    return [r for r in records if float(r.get("t", 0.0)) < t]


def _between(records: Sequence[Record], start: float, end: float) -> List[Record]:
    return [r for r in records if start <= float(r.get("t", 0.0)) < end]


def _diff(a: Dict[str, int], b: Dict[str, int]) -> Dict[str, int]:
    return {k: b.get(k, 0) - a.get(k, 0) for k in b if b.get(k, 0) - a.get(k, 0)}


def window_outcome(kind: str, records: Sequence[Record], start: float, end: float) -> Any:
    """One client's outcome of one kind in ``[start, end)`` (None if the kind has no analysis)."""
    cls = kind_class(kind)
    inside = cls.outcome(_between(records, start, end))
    if inside is None or not cls.long_lived:
        return inside
    a, b = cls.outcome(_before(records, start)), cls.outcome(_before(records, end))
    out = TransportOutcome(kind=kind, lost_unit=b.lost_unit)
    out.reset = b.reset - a.reset
    out.timed_out = b.timed_out - a.timed_out
    out.failed = b.failed - a.failed
    out.recovered = b.recovered - a.recovered
    out.recover_s = list(b.recover_s[len(a.recover_s) :])
    out.longest_gap_s = inside.longest_gap_s
    if a.lost is not None and b.lost is not None:
        out.lost = b.lost - a.lost
    # the flows the event found up (those opened later, when none was: a run's
    # first event may come before any connected); a break ends one of them, and
    # what a break's reconnection opens is counted as recovered, not as a flow
    out.flows = a.survived if a.survived else b.flows - a.flows
    out.survived = max(out.flows - out.reset - out.timed_out - _other_breaks(a, b), 0)
    ends = _diff({k: v for k, v in a.ends.items() if k != "survived"}, b.ends)
    ends.pop("survived", None)
    ends["survived"] = out.survived
    out.ends = ends
    return out


#: ``ends`` names that are not breaks (how connections were made, or the count of survivors).
NOT_BREAKS = ("survived", "resumed", "full_handshake", "early_data", "re_resolved", "answered")


def _other_breaks(a: TransportOutcome, b: TransportOutcome) -> int:
    """Breaks in the window other than resets and timeouts (e.g. ``eof``)."""
    known = ("reset", "timeout", "timed_out", "stateless_reset", "idle_timeout", *NOT_BREAKS)
    return sum(
        b.ends.get(k, 0) - a.ends.get(k, 0) for k in b.ends if k not in known and k != "closed"
    )


def add(total: Optional[TransportOutcome], one: TransportOutcome) -> TransportOutcome:
    """Two outcomes of one kind added up (clients pooled)."""
    if total is None:
        return one.model_copy(deep=True)
    out = total.model_copy(deep=True)
    for name in ("flows", "survived", "reset", "timed_out", "failed", "recovered"):
        setattr(out, name, getattr(total, name) + getattr(one, name))
    out.recover_s = [*total.recover_s, *one.recover_s]
    gaps = [g for g in (total.longest_gap_s, one.longest_gap_s) if g is not None]
    out.longest_gap_s = max(gaps) if gaps else None
    if one.lost is not None:
        out.lost = (total.lost or 0) + one.lost
    ends = dict(total.ends)
    for key, value in one.ends.items():
        ends[key] = ends.get(key, 0) + value
    out.ends = ends
    return out


def records_of(run: RunRecords, kind: str) -> Dict[str, List[Record]]:
    """Client -> records of one kind."""
    if kind == "dns":
        return run.dns
    if kind == "tcp-stream":
        return run.tcp
    return run.transport.get(kind, {})


def run_kinds(run: RunRecords) -> List[str]:
    """The kinds the run recorded, in ``traffic.kinds`` order when meta.json has it."""
    present = [k for k in ("dns", "tcp-stream") if records_of(run, k)] + sorted(run.transport)
    order = list((run.meta.get("traffic") or {}).get("kinds") or [])
    return sorted(present, key=lambda k: order.index(k) if k in order else len(order))


def windows(events: Sequence[EventSummary], end: float) -> List[Tuple[float, float]]:
    """Each event's window, wall-clock: from it to the next event (the last: to ``end``)."""
    starts = [float(e.t) for e in events]
    return [(s, starts[i + 1] if i + 1 < len(starts) else end) for i, s in enumerate(starts)]


def event_transport(
    run: RunRecords, events: Sequence[EventSummary], end: float
) -> List[Dict[str, TransportOutcome]]:
    """Per event: kind -> the outcome of its moved clients' flows in its window (pooled).

    Args:
        run: the run's records.
        events: the summary's events (``t`` relative to t0, ``moved``).
        end: the run's end (relative to t0).
    """
    kinds = run_kinds(run)
    out: List[Dict[str, TransportOutcome]] = []
    for event, (start, stop) in zip(events, windows(events, end), strict=True):
        table: Dict[str, TransportOutcome] = {}
        for kind in kinds:
            per_client = records_of(run, kind)
            total: Optional[TransportOutcome] = None
            for client in event.moved:
                records = per_client.get(client)
                if not records:
                    continue
                one = window_outcome(kind, records, run.t0 + start, run.t0 + stop)
                if one is not None:
                    total = add(total, one)
            if total is not None:
                table[kind] = total
        out.append(table)
    return out
