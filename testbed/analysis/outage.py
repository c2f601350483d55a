"""Outage windows: when a client's DNS queries went unanswered.

Each query (one ``seq``) is either answered (an ``ok`` record) or lost (a
``timeout`` record, whether or not a ``late`` answer followed: see
docs/records.md).  Queries are taken in send order (``t``, then ``seq``),
whatever the order of the file: timeouts are written when they expire and
late answers later still.  A run of losses is a stretch of consecutive lost
queries in send order.

An outage window runs from the last answer before a run of losses to the
first answer after it, in **answer times**: when the answer reached the
client (``t + rtt`` of an ``ok`` record), since that is when the client had
(and again has) service.  "The last answer before" is the latest answer to
any query sent before the run, "the first answer after" the earliest answer
to any query sent after it: answers can arrive out of send order (a slow
answer to an earlier query after a quick one to a later query), so these are
a maximum and a minimum, not simply the neighbouring queries.  When answers
overlap the losses that way (the first answer after the run arrived before
the last one before it) the client was never without answers: the window
has duration 0 and ``end == start``, and still counts its lost queries.  A
``late`` answer ends nothing: for the client that query was lost.

A window that never recovers ends at the end of the run and is flagged
``recovered = False``; a run of losses at the very start of the records
begins at the send time of the first lost query (no answer came before it).
All times here are wall-clock, as in the records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

Record = Dict[str, Any]


@dataclass(frozen=True)
class Query:
    """One DNS query's fate.

    Attributes:
        seq: the query's sequence number.
        t: wall-clock send time.
        answered: an ``ok`` answer arrived within the timeout.
        answered_at: when that answer arrived (``t + rtt``; ``t`` if the record
            has no rtt), None if not answered.
        late: the query timed out, and an answer came after all.
        site: the site that answered (``ok`` or ``late``), None if none or unknown.
    """

    seq: int
    t: float
    answered: bool
    late: bool
    site: Optional[str]
    answered_at: Optional[float] = None


@dataclass(frozen=True)
class OutageWindow:
    """A time without DNS service for one client.

    Attributes:
        start: arrival time of the last answer before the losses (or the send
            time of the first lost query if nothing was answered before).
        end: arrival time of the first answer after the losses (never before
            ``start``); None if the client never recovered.
        duration: ``end - start``, or up to the end of the run if not recovered.
        lost: how many queries were lost in the window.
        recovered: False if no query was answered after the losses.
    """

    start: float
    end: Optional[float]
    duration: float
    lost: int
    recovered: bool


@dataclass(frozen=True)
class DnsCounts:
    """Query counts of one client: ``sent == answered + lost``; ``late`` is part of ``lost``."""

    sent: int
    answered: int
    lost: int
    late: int


def queries(dns: Iterable[Record]) -> List[Query]:
    """One :class:`Query` per query, in send order.

    Args:
        dns: one client's DNS records, in any order (a query may have a
            ``timeout`` and a ``late`` record).

    Returns:
        Queries sorted by send time, then ``seq``.  A query with an ``ok``
        record is answered; any other is lost.
    """
    by_key: Dict[Any, Dict[str, Any]] = {}
    for r in dns:
        if not isinstance(r.get("t"), (int, float)):
            continue
        key = r.get("seq", r["t"])
        q = by_key.setdefault(
            key, {"t": r["t"], "statuses": set(), "site": None, "ok_site": None, "rtt": None}
        )
        q["t"] = min(q["t"], r["t"])
        status = r.get("status")
        q["statuses"].add(status)
        if status == "ok":
            q["ok_site"] = r.get("site")
            rtt = r.get("rtt")
            q["rtt"] = float(rtt) if isinstance(rtt, (int, float)) and rtt >= 0 else 0.0
        elif status == "late" and r.get("site"):
            q["site"] = r.get("site")
    out = []
    for key, q in by_key.items():
        answered = "ok" in q["statuses"]
        seq = key if isinstance(key, int) else -1
        out.append(
            Query(
                seq=seq,
                t=q["t"],
                answered=answered,
                late=not answered and "late" in q["statuses"],
                site=q["ok_site"] if answered else q["site"],
                answered_at=q["t"] + q["rtt"] if answered else None,
            )
        )
    out.sort(key=lambda q: (q.t, q.seq))
    return out


def dns_counts(dns: Iterable[Record]) -> DnsCounts:
    """Count a client's queries.

    Args:
        dns: one client's DNS records, any order.

    Returns:
        Sent, answered, lost (timed out, late or not) and late.
    """
    qs = queries(dns)
    answered = sum(1 for q in qs if q.answered)
    return DnsCounts(
        sent=len(qs),
        answered=answered,
        lost=len(qs) - answered,
        late=sum(1 for q in qs if q.late),
    )


def outage_windows(dns: Iterable[Record], end: float, min_lost: int = 1) -> List[OutageWindow]:
    """A client's outage windows, in answer times (see the module docstring).

    Args:
        dns: one client's DNS records, any order.
        end: wall-clock end of the run (where a window that never recovers ends).
        min_lost: keep only windows with at least this many lost queries
            (default 1: a single lost query is a window).

    Returns:
        Windows in time order.
    """
    qs = queries(dns)
    # first_after[i]: the earliest answer to a query sent at or after qs[i]
    first_after: List[Optional[float]] = [None] * (len(qs) + 1)
    for i in range(len(qs) - 1, -1, -1):
        here, later = qs[i].answered_at, first_after[i + 1]
        first_after[i] = here if later is None else (later if here is None else min(here, later))
    windows: List[OutageWindow] = []
    last_answer: Optional[float] = None  # the latest answer to a query sent so far
    start: Optional[float] = None
    lost = 0
    for i, q in enumerate(qs):
        if q.answered:
            if lost:
                assert start is not None
                back = max(start, first_after[i] or q.t)
                windows.append(OutageWindow(start, back, back - start, lost, True))
            assert q.answered_at is not None
            last_answer = q.answered_at if last_answer is None else max(last_answer, q.answered_at)
            start, lost = None, 0
        else:
            if not lost:
                start = last_answer if last_answer is not None else q.t
            lost += 1
    if lost:
        assert start is not None
        windows.append(OutageWindow(start, None, max(0.0, end - start), lost, False))
    return [w for w in windows if w.lost >= min_lost]
