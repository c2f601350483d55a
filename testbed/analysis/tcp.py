"""TCP stream fates: which long-lived streams survived an event, were reset or timed out.

Per client and stream (records in docs/records.md and :mod:`testbed.probes.tcp`):
each ``reset``, ``timeout`` or ``eof`` (the server closed the connection) of
a connection that had answered is a :class:`Break`, tied to the nearest
event at or before it (time from the event to the break) and to the next
``connected`` of the same stream (time to reconnect: its ``gap``).  The end
of a connection that never answered is a failed attempt, like
``connect_failed``.  A stream's fate is ``survived`` if it never broke
during the run, else the kind of its first break.  All times here are
wall-clock.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence

Record = Dict[str, Any]
#: Events that end a connection, other than the probe closing it.
BREAKS = ("reset", "timeout", "eof")


@dataclass
class Break:
    """A stream's connection ended by a reset or a timeout.

    Attributes:
        t: wall-clock time of the break.
        kind: ``reset``, ``timeout`` or ``eof``.
        site: the last site seen on the connection.
        error: the probe's error text (``ECONNRESET``, ...), if any.
        event_t: time of the nearest event at or before the break, None if none.
        after_event_s: ``t - event_t``, None if no event came before.
        reconnect_t: time of the next ``connected`` of the stream, None if none.
        reconnect_s: time without service: the ``gap`` of that connection
            (``reconnect_t - t`` if the record has no gap), None if none.
        site_after: the site of that next connection, None if none.
    """

    t: float
    kind: str
    site: Optional[str]
    error: Optional[str] = None
    event_t: Optional[float] = None
    after_event_s: Optional[float] = None
    reconnect_t: Optional[float] = None
    reconnect_s: Optional[float] = None
    site_after: Optional[str] = None


@dataclass
class Lifeline:
    """A stretch of one connection with one site: from ``connected`` to its end.

    ``ended`` is ``reset``, ``timeout``, ``eof``, ``closed``, ``site_changed``
    (another site answered on the same connection: a new lifeline starts) or
    ``end`` (still up at the end of the run).
    """

    t_from: float
    t_to: float
    site: Optional[str]
    ended: str


@dataclass
class StreamFate:
    """What happened to one stream of one client.

    Attributes:
        stream: the stream number.
        fate: ``survived``, or the first break's kind (``reset``, ``timeout``, ``eof``).
        breaks: every break, in time order.
        lifelines: every connection (split where the site changed), in time order.
        connect_failed: how many connection attempts failed (``connect_failed``,
            or a connection that ended before its first answer).
    """

    stream: int
    fate: str = "survived"
    breaks: List[Break] = field(default_factory=list)
    lifelines: List[Lifeline] = field(default_factory=list)
    connect_failed: int = 0

    @property
    def site_before(self) -> Optional[str]:
        """The site of the stream's first connection, None if it never connected."""
        return self.lifelines[0].site if self.lifelines else None

    @property
    def site_after(self) -> Optional[str]:
        """The site of the stream's last connection, None if it never connected."""
        return self.lifelines[-1].site if self.lifelines else None


def nearest_event(event_times: Sequence[float], t: float) -> Optional[float]:
    """The latest event time at or before ``t``.

    Args:
        event_times: event times, sorted.
        t: wall-clock time.

    Returns:
        The event time, or None if no event came at or before ``t``.
    """
    i = bisect_right(event_times, t)
    return event_times[i - 1] if i else None


def stream_fates(
    tcp: Iterable[Record],
    event_times: Sequence[float] = (),
    end: Optional[float] = None,
    until: Optional[float] = None,
) -> List[StreamFate]:
    """The fate of each stream of one client.

    Args:
        tcp: the client's TCP records, any order.
        event_times: times of the scenario's events, sorted.
        end: wall-clock end of the run (where open connections end; default
            the last record's time).
        until: breaks after this time (e.g. at teardown, after the timeline)
            are not counted; None counts every break.

    Returns:
        One :class:`StreamFate` per stream, sorted by stream number.
    """
    records = sorted((r for r in tcp if isinstance(r.get("t"), (int, float))), key=lambda r: r["t"])
    if end is None:
        end = records[-1]["t"] if records else 0.0
    fates: Dict[int, StreamFate] = {}
    open_line: Dict[int, Lifeline] = {}
    pending: Dict[int, Break] = {}  # a break waiting for the next connection
    for r in records:
        stream = int(r.get("stream", 0))
        fate = fates.setdefault(stream, StreamFate(stream))
        event = r.get("event")
        t = r["t"]
        if event == "connected":
            if stream in open_line:  # a new connection without a recorded end
                open_line.pop(stream).t_to = t
            line = Lifeline(t, t, r.get("site"), "end")
            fate.lifelines.append(line)
            open_line[stream] = line
            brk = pending.pop(stream, None)
            if brk is not None:
                gap = r.get("gap")
                brk.reconnect_t = t
                brk.reconnect_s = float(gap) if isinstance(gap, (int, float)) else t - brk.t
                brk.site_after = r.get("site")
        elif event in BREAKS or event == "closed":
            ending = open_line.pop(stream, None)
            if ending is not None:
                ending.t_to = t
                ending.ended = event
            if event == "closed" or (until is not None and t > until):
                continue
            if ending is None:  # the connection never answered: a failed attempt
                fate.connect_failed += 1
                continue
            site = r.get("site") or ending.site
            event_t = nearest_event(event_times, t)
            brk = Break(
                t=t,
                kind=event,
                site=site,
                error=r.get("error"),
                event_t=event_t,
                after_event_s=None if event_t is None else t - event_t,
            )
            fate.breaks.append(brk)
            if fate.fate == "survived":
                fate.fate = event
            pending[stream] = brk
        elif event == "connect_failed":
            fate.connect_failed += 1
        elif event == "site_changed" and stream in open_line:
            line = open_line[stream]
            line.t_to, line.ended = t, "site_changed"
            open_line[stream] = Lifeline(t, t, r.get("site"), "end")
            fate.lifelines.append(open_line[stream])
        elif event == "rtt" and stream in open_line and r.get("site"):
            open_line[stream].site = open_line[stream].site or r.get("site")
    for line in open_line.values():
        line.t_to = max(line.t_from, end)
    return [fates[s] for s in sorted(fates)]
