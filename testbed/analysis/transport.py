"""Transport remedies side by side: how each probe kind's flows fared in each event (pure).

For every event that moved clients, the flows of those clients in the
event's window (from the event to the next one, or the run's end), per
probe kind (:mod:`testbed.probes.kinds`), added up over the clients:
survived, reset, timed out, failed, recovered and how fast, what was lost.
A long-lived kind (streams, connections) counts the flows that were up when
the window began plus those opened in it; a short kind (queries, requests)
only those sent in it.  This is the measured remedy table the report puts
next to the primer's claims.

Each client's records of a kind are cut at the event times once
(:class:`Cuts`: a bisection on their times), and an outcome over the
records before a time is computed once per cut, however many windows share
it (an event's end is the next one's start).
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, Dict, List, Optional, Sequence, Tuple

from testbed.analysis.load import RunRecords
from testbed.analysis.model import EventSummary, TransportOutcome
from testbed.probes.kinds import kind_class

Record = Dict[str, Any]


class Cuts:
    """One client's records of one kind, cut at times; the outcomes before a cut kept.

    Records in time order (as the loader gives them) are cut by bisection;
    others are filtered, in their own order, as a whole pass each.
    """

    def __init__(self, kind: str, records: Sequence[Record]) -> None:
        self.kind = kind
        self.cls = kind_class(kind)
        self.records = list(records)
        self.times = [float(r.get("t", 0.0)) for r in self.records]
        self.ordered = all(a <= b for a, b in zip(self.times, self.times[1:], strict=False))
        self._before: Dict[float, Any] = {}

    def between(self, start: float, end: float) -> List[Record]:
        """The records with ``start <= t < end``, in their order."""
        if self.ordered:
            return self.records[bisect_left(self.times, start) : bisect_left(self.times, end)]
        return [r for r, t in zip(self.records, self.times, strict=True) if start <= t < end]

    def before(self, t: float) -> Any:
        """The kind's outcome over the records with a time before ``t`` (computed once)."""
        if t not in self._before:
            self._before[t] = self.cls.outcome(self.between(float("-inf"), t))
        return self._before[t]

    def window(self, start: float, end: float) -> Any:
        """The outcome in ``[start, end)`` (None if the kind has no analysis)."""
        cls = self.cls
        inside = cls.outcome(self.between(start, end))
        if inside is None or not cls.long_lived:
            return inside
        a, b = self.before(start), self.before(end)
        out = TransportOutcome(kind=self.kind, lost_unit=b.lost_unit)
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


def _diff(a: Dict[str, int], b: Dict[str, int]) -> Dict[str, int]:
    return {k: b.get(k, 0) - a.get(k, 0) for k in b if b.get(k, 0) - a.get(k, 0)}


def window_outcome(kind: str, records: Sequence[Record], start: float, end: float) -> Any:
    """One client's outcome of one kind in ``[start, end)`` (None if the kind has no analysis)."""
    return Cuts(kind, records).window(start, end)


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
    spans = [(run.t0 + start, run.t0 + stop) for start, stop in windows(events, end)]
    moved_in: Dict[str, List[int]] = {}  # client -> the events that moved it
    for i, event in enumerate(events):
        for client in dict.fromkeys(event.moved):
            moved_in.setdefault(client, []).append(i)
    out: List[Dict[str, TransportOutcome]] = [{} for _ in events]
    for kind in run_kinds(run):
        per_client = records_of(run, kind)
        outcomes: Dict[Tuple[int, str], Any] = {}  # (event, client) -> its outcome
        for client, indices in moved_in.items():
            records = per_client.get(client)
            if not records:
                continue
            cuts = Cuts(kind, records)
            for i in indices:
                outcomes[i, client] = cuts.window(*spans[i])
        for i, event in enumerate(events):
            total: Optional[TransportOutcome] = None
            for client in event.moved:
                one = outcomes.get((i, client))
                if one is not None:
                    total = add(total, one)
            if total is not None:
                out[i][kind] = total
    return out
