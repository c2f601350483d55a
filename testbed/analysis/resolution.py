"""Anycast versus DNS-based GSLB on the same failures: the ``resolve`` probe's ticks (pure).

Every tick the ``resolve`` probe asks the client's recursive resolver for
each published name (a *method*: ``anycast`` answers the one anycast
address, ``gslb`` a site's own unicast address, chosen by PowerDNS by the
resolver's location and health checks), then sends one DNS query with NSID
to the address it got; the answer names the site (docs/records.md,
*resolve-CLIENT.jsonl*).  A tick's ``t`` is when its resolution left; its
site's answer arrives at ``t + resolve_rtt + rtt``.

**Totals.**  Per method: ticks (``queries``), those answered by a site,
those lost (not ``ok``: timed out at the site, or not resolved), and of
them ``resolve_failed``.

**Steady state.**  From t0 (the probes ran ``settle`` seconds before it) to
the first event (without events: to the end of the timeline): each client's
site is the one that answered most of its ticks (a tie: the later one);
``nearest_share`` is the share of clients served by their nearest site by
the topology's link delays (``meta.json`` ``nearest_site``), of those with a
site and a known nearest one.  Resolvers whose clients were served by
different sites are listed (``split_resolvers``): GSLB answers per resolver,
anycast per client route.

**Failovers.**  An event *takes a site out* when some client, under some
method, was served by the event's target just before it and not after it:
its site before is the last one that answered it before the event, its site
after the last one that answered it in the event's window (to the next
event, or the end of the timeline), as the summary finds moved clients
(:func:`testbed.analysis.catchment.site_before`, :func:`~testbed.analysis.catchment.site_after`);
no answer at all in the window is not the site.  For such an event, per
method, the *affected* clients are the method's clients served by the site
just before and not after it; a method's clients the event left on the
site (a withdrawal of the anycast prefix leaves GSLB's unicast addresses
alone) are not affected.  For each affected client:

- ``failover_s``: from the event to the arrival of its first answer from
  another site (null if none came in the window);
- ``lost``: its ticks in the window that got no answer;
- *failing* at ``x`` seconds: its latest tick sent from the event to
  ``event + x`` got no answer from a site other than the failed one (no
  tick yet is failing); the share of the affected failing at 1, 10 and 60 s
  (null when the window is shorter), and at every change over the window
  for the plot (``series``, exact steps);
- GSLB only: whether its latest resolution by ``event + x`` (one before the
  event included: the resolver's cache) still gave the failed site's
  address (``meta.json`` ``service.addresses``, else the address the site
  answered on before the event), and the last tick that was given it
  (``dead_address_s``); whether its resolver is a TTL-violating one
  (``meta.json`` ``resolvers``), for the long tail.

Medians count the clients that never failed over as the slowest; a median
or worst that falls on one is null.  Every event's figures are also pooled
per method (client-events).  Times are seconds from t0, rounded to the
millisecond; shares to four decimals.

**Connections.**  The probe's long streams (records with ``stream`` and
``event``: each resolves the name before every connection, and again after a
break) give the connections lost.  For the same events, per method, a
stream is *on the site* when its last record before the event is a
``connected`` answered by the event's target (no ``broken``, ``closed`` or
``unrecovered`` after it); such a stream is *broken by the failure* if it
has a ``broken`` record in the window, and *back* at its first
``connected`` after that break answered by another site.  Per client with a
broken stream: ``back_s``, from the event to the last of its broken streams
being back (null if one never was), its failed connections in between
(GSLB: ``dead_connects``, those to the failed site's own address, which
the resolver still gave) and failed lookups; pooled per event and over the
events like the failovers (:class:`~testbed.analysis.model.StreamFigures`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import median
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from testbed.analysis import catchment
from testbed.analysis.load import RunRecords
from testbed.analysis.model import (
    EventSummary,
    FailoverClient,
    FailoverFigures,
    MethodFailover,
    MethodStreams,
    MethodSummary,
    ResolutionSummary,
    ResolverSettings,
    ServedClient,
    SteadyState,
    StreamClient,
    StreamFigures,
    StreamTotals,
)

Record = Dict[str, Any]

#: Seconds after an event at which the share of affected clients still failing is given.
CHECKPOINTS: Tuple[int, ...] = (1, 10, 60)
#: Methods in the order the summary, the report and the plot give them (others after, sorted).
METHOD_ORDER: Tuple[str, ...] = ("anycast", "gslb")
#: The method whose answers are each site's own address.
GSLB = "gslb"


def _num(x: Any) -> Optional[float]:
    """A finite number as float, else None."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return None
    return float(x)


def _kept(x: Any) -> Any:
    """A finite number as it is (an int stays an int), else None."""
    return x if _num(x) is not None else None


def _ms(x: Optional[float]) -> Optional[float]:
    return None if x is None else round(float(x), 3)


def _share(x: float) -> float:
    return round(x, 4)


@dataclass(frozen=True)
class Tick:
    """One tick of one method: resolved (or not), then answered by a site (or not).

    Attributes:
        t: wall-clock send of the resolution.
        status: ``ok``, ``timeout`` (resolved, the site did not answer) or ``resolve_failed``.
        site: the site that answered (NSID); None if none.
        addr: the address the resolver gave; None if it gave none.
        answer: wall-clock arrival of the site's answer (``ok`` only).
    """

    t: float
    status: str
    site: Optional[str] = None
    addr: Optional[str] = None
    answer: Optional[float] = None

    @property
    def ok(self) -> bool:
        """Answered by a site."""
        return self.status == "ok"

    def served_by(self, site: Optional[str]) -> bool:
        """Answered, by ``site``."""
        return self.ok and self.site is not None and self.site == site

    def healthy(self, failed: str) -> bool:
        """Answered by a site other than ``failed``."""
        return self.ok and self.site is not None and self.site != failed


def is_tick(record: Mapping[str, Any]) -> bool:
    """A tick record (not the ``start`` record, not a stream's), with a method and a time."""
    return (
        record.get("type") is None
        and record.get("event") is None
        and isinstance(record.get("method"), str)
        and _num(record.get("t")) is not None
    )


def is_stream_record(record: Mapping[str, Any]) -> bool:
    """A stream's record: a method, a stream number, an event and a time."""
    stream = record.get("stream")
    return (
        record.get("type") is None
        and isinstance(record.get("event"), str)
        and isinstance(record.get("method"), str)
        and isinstance(stream, int)
        and not isinstance(stream, bool)
        and _num(record.get("t")) is not None
    )


def tick(record: Mapping[str, Any]) -> Tick:
    """One tick from its record."""
    t = float(record["t"])
    status = str(record.get("status") or "")
    site = record.get("site") if isinstance(record.get("site"), str) else None
    addr = record.get("addr") if isinstance(record.get("addr"), str) else None
    answer = None
    if status == "ok":
        answer = t + (_num(record.get("resolve_rtt")) or 0.0) + (_num(record.get("rtt")) or 0.0)
    return Tick(t, status, site, addr, answer)


def by_method(records: Iterable[Mapping[str, Any]]) -> Dict[str, List[Record]]:
    """One client's tick records per method, sorted by ``t`` then ``seq``."""
    out: Dict[str, List[Record]] = {}
    for r in records:
        if is_tick(r):
            out.setdefault(str(r["method"]), []).append(dict(r))
    for rs in out.values():
        rs.sort(key=lambda r: (float(r["t"]), r.get("seq", 0)))
    return out


def method_order(methods: Iterable[str]) -> List[str]:
    """``anycast``, ``gslb``, then any other method, sorted."""
    names = set(methods)
    return [m for m in METHOD_ORDER if m in names] + sorted(names - set(METHOD_ORDER))


def _start_records(records: Mapping[str, Sequence[Mapping[str, Any]]]) -> Dict[str, Record]:
    """Client -> its probe's first ``start`` record."""
    out: Dict[str, Record] = {}
    for client, rs in records.items():
        for r in rs:
            if r.get("type") == "start":
                out[client] = dict(r)
                break
    return out


def resolver_settings(
    meta: Mapping[str, Any], starts: Mapping[str, Mapping[str, Any]], clients: Iterable[str]
) -> Dict[str, ResolverSettings]:
    """Client -> its resolver's settings (``meta.json`` ``resolvers``; the name from
    its ``start`` record without them)."""
    block = meta.get("resolvers")
    block = block if isinstance(block, Mapping) else {}
    out: Dict[str, ResolverSettings] = {}
    for client in sorted(set(clients) | {str(c) for c in block}):
        given = block.get(client)
        data: Dict[str, Any] = {}
        if isinstance(given, Mapping):
            data = {k: given[k] for k in ResolverSettings.model_fields if k in given}
        start = starts.get(client) or {}
        if data.get("resolver") is None:
            name = start.get("resolver") or start.get("resolver_addr")
            if isinstance(name, str) and name:
                data["resolver"] = name
        try:
            out[client] = ResolverSettings.model_validate(data)
        except ValueError:  # a value of the wrong type in meta.json: the name alone
            out[client] = ResolverSettings(resolver=data.get("resolver"))
    return out


def _str_map(value: Any) -> Dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in sorted(value.items()) if isinstance(v, str)}


# ----------------------------------------------------------------- steady state
def served_site(ticks: Sequence[Tick]) -> Optional[str]:
    """The site that answered most of ``ticks`` (a tie: the one that answered last)."""
    counts: Dict[str, int] = {}
    last: Dict[str, int] = {}
    for i, tk in enumerate(ticks):
        if tk.ok and tk.site:
            counts[tk.site] = counts.get(tk.site, 0) + 1
            last[tk.site] = i
    if not counts:
        return None
    return max(counts, key=lambda s: (counts[s], last[s]))


def steady_state(
    ticks: Mapping[str, Sequence[Tick]],
    start: float,
    stop: float,
    nearest: Mapping[str, str],
    resolvers: Mapping[str, ResolverSettings],
    t0: float,
) -> SteadyState:
    """One method's steady state in ``[start, stop)`` (wall-clock).

    Args:
        ticks: client -> the method's ticks.
        start: the window's start (t0).
        stop: its end (the first event, or the end of the timeline).
        nearest: client -> its nearest site.
        resolvers: client -> its resolver.
        t0: the timeline's start (for the times written).
    """
    clients: Dict[str, ServedClient] = {}
    for client in sorted(ticks):
        inside = [tk for tk in ticks[client] if start <= tk.t < stop]
        clients[client] = ServedClient(
            site=served_site(inside),
            nearest=nearest.get(client),
            ticks=len(inside),
            answered=sum(1 for tk in inside if tk.ok),
        )
    sites: Dict[str, int] = {}
    for c in clients.values():
        if c.site is not None:
            sites[c.site] = sites.get(c.site, 0) + 1
    judged = [c for c in clients.values() if c.site is not None and c.nearest is not None]
    share = _share(sum(1 for c in judged if c.site == c.nearest) / len(judged)) if judged else None
    groups: Dict[str, set] = {}
    for client, c in clients.items():
        name = resolvers[client].resolver if client in resolvers else None
        if name is not None and c.site is not None:
            groups.setdefault(name, set()).add(c.site)
    named = {resolvers[c].resolver for c in clients if c in resolvers} - {None}
    return SteadyState(
        start=_ms(start - t0) or 0.0,
        stop=_ms(stop - t0) or 0.0,
        clients=clients,
        sites=dict(sorted(sites.items())),
        nearest_share=share,
        resolvers=len(named),
        split_resolvers=sorted(name for name, s in groups.items() if len(s) > 1),
    )


# -------------------------------------------------------------------- failovers
@dataclass
class ClientWindow:
    """One affected client after one event, under one method (wall-clock inside).

    Attributes:
        client: its name.
        failover: seconds from the event to its first answer from another site (None: never).
        site_to: that answer's site.
        lost: its ticks in the window not answered.
        failing: checkpoint -> failing then (None: the window is shorter).
        dead: checkpoint -> still given the failed site's address (None: not known).
        dead_last: seconds from the event to the last tick given that address.
        resolver: its resolver.
        violating: whether that resolver is a TTL-violating one.
        ticks: its ticks in the window (for the series).
    """

    client: str
    failover: Optional[float]
    site_to: Optional[str]
    lost: int
    failing: Dict[int, Optional[bool]]
    dead: Dict[int, Optional[bool]]
    dead_last: Optional[float]
    resolver: Optional[str] = None
    violating: bool = False
    ticks: List[Tick] = field(default_factory=list)


def failing_at(ticks: Sequence[Tick], start: float, at: float, failed: str) -> bool:
    """Whether the latest tick sent in ``[start, at]`` got no answer from a healthy site."""
    latest = None
    for tk in ticks:
        if tk.t > at:
            break
        if tk.t >= start:
            latest = tk
    return latest is None or not latest.healthy(failed)


def given_dead(ticks: Sequence[Tick], at: float, dead: Sequence[str]) -> bool:
    """Whether the latest resolution sent at or before ``at`` gave one of ``dead``."""
    latest = None
    for tk in ticks:
        if tk.t > at:
            break
        if tk.addr is not None:
            latest = tk.addr
    return latest is not None and latest in dead


def client_window(
    client: str,
    ticks: Sequence[Tick],
    failed: str,
    start: float,
    stop: float,
    dead: Optional[Sequence[str]],
) -> ClientWindow:
    """One affected client's failover in the window ``[start, stop)`` (wall-clock).

    Args:
        client: its name.
        ticks: all its ticks of the method, in time order.
        failed: the site the event took out.
        start: the event.
        stop: the next event, or the end of the timeline.
        dead: the failed site's addresses (GSLB), None for other methods.
    """
    inside = [tk for tk in ticks if start <= tk.t < stop]
    first = next((tk for tk in inside if tk.healthy(failed)), None)
    window = stop - start
    failing: Dict[int, Optional[bool]] = {}
    given: Dict[int, Optional[bool]] = {}
    for x in CHECKPOINTS:
        if window < x:
            failing[x] = given[x] = None
            continue
        failing[x] = failing_at(ticks, start, start + x, failed)
        given[x] = given_dead(ticks, start + x, dead) if dead is not None else None
    last = None
    if dead is not None:
        last = max((tk.t - start for tk in inside if tk.addr in dead), default=None)
    return ClientWindow(
        client=client,
        failover=None if first is None or first.answer is None else first.answer - start,
        site_to=first.site if first is not None else None,
        lost=sum(1 for tk in inside if not tk.ok),
        failing=failing,
        dead=given,
        dead_last=last,
        ticks=inside,
    )


def series(
    windows: Sequence[ClientWindow], start: float, stop: float, failed: str
) -> List[List[float]]:
    """``[s, share failing]`` at the event and at every change after it, to the window's end.

    Exact, not sampled: the share changes only when an affected client's tick
    changes its state (:func:`failing_at`: its latest tick since the event
    got no answer from a healthy site; before its first tick it is failing),
    so the points are the event, those ticks (seconds after the event) and
    the window's end.
    """
    if not windows:
        return []
    changes: List[Tuple[float, bool]] = []
    for window in windows:
        was = True
        for tick in window.ticks:
            now = not tick.healthy(failed)
            if now != was:
                changes.append((tick.t - start, now))
                was = now
    changes.sort(key=lambda change: change[0])
    count, total = len(windows), len(windows)
    out: List[List[float]] = [[0.0, _share(1.0)]]
    for at, now in changes:
        count += 1 if now else -1
        point = [round(max(at, 0.0), 3), _share(count / total)]
        if out[-1][0] == point[0]:
            out[-1] = point
        else:
            out.append(point)
    end = round(stop - start, 3)
    if out[-1][0] < end:
        out.append([end, out[-1][1]])
    return out


def _median(values: Sequence[float]) -> Optional[float]:
    if not values:
        return None
    m = median(values)
    return None if math.isinf(m) else m


def figures(windows: Sequence[ClientWindow], gslb: bool) -> Dict[str, Any]:
    """The :class:`FailoverFigures` fields of some affected clients (pooled as given)."""
    times = [w.failover if w.failover is not None else math.inf for w in windows]
    out: Dict[str, Any] = {
        "clients": len(windows),
        "recovered": sum(1 for w in windows if w.failover is not None),
        "failover_median_s": _ms(_median(times)),
        "failover_worst_s": _ms(max(times)) if times and not math.isinf(max(times)) else None,
        "lost": sum(w.lost for w in windows),
    }
    for x in CHECKPOINTS:
        known = [w.failing[x] for w in windows if w.failing[x] is not None]
        out[f"failing_{x}s"] = _share(sum(1 for v in known if v) / len(known)) if known else None
        dead = [w.dead[x] for w in windows if w.dead[x] is not None]
        out[f"dead_address_{x}s"] = sum(1 for v in dead if v) if gslb and dead else None
    return out


def dead_addresses(
    site: str, addresses: Mapping[str, str], ticks: Mapping[str, Sequence[Tick]], before: float
) -> List[str]:
    """The failed site's own address(es): ``service.addresses``, else those it answered on."""
    if site in addresses:
        return [addresses[site]]
    seen = {
        tk.addr
        for rs in ticks.values()
        for tk in rs
        if tk.t < before and tk.served_by(site) and tk.addr is not None
    }
    return sorted(seen)


def affected_clients(
    records: Mapping[str, Sequence[Record]], site: Optional[str], start: float, stop: float
) -> List[str]:
    """Clients served by ``site`` just before ``start`` and not by it in ``[start, stop)``.

    Args:
        records: client -> the method's tick records.
        site: the event's target.
        start: the event (wall-clock).
        stop: the next event or the end (wall-clock).
    """
    if not site:
        return []
    out = []
    for client, rs in sorted(records.items()):
        segs = catchment.segments(rs)
        before = catchment.site_before(segs, start)
        if before == site and catchment.site_after(segs, start, stop) != site:
            out.append(client)
    return out


# ------------------------------------------------------------------ connections
#: The stream events that end a connection that was up.
DOWN_EVENTS = ("broken", "closed", "unrecovered")


@dataclass(frozen=True)
class StreamEvent:
    """One record of one stream (wall-clock ``t``)."""

    t: float
    event: str
    site: Optional[str] = None
    addr: Optional[str] = None


def stream_event(record: Mapping[str, Any]) -> StreamEvent:
    """One stream event from its record."""
    site, addr = record.get("site"), record.get("addr")
    return StreamEvent(
        float(record["t"]),
        str(record["event"]),
        site if isinstance(site, str) else None,
        addr if isinstance(addr, str) else None,
    )


def streams_by_method(
    records: Mapping[str, Sequence[Mapping[str, Any]]],
) -> Dict[str, Dict[str, Dict[int, List[StreamEvent]]]]:
    """Method -> client -> stream -> its events in time order (the file's order on a tie)."""
    out: Dict[str, Dict[str, Dict[int, List[StreamEvent]]]] = {}
    for client, rs in sorted(records.items()):
        for r in rs:
            if is_stream_record(r):
                by = out.setdefault(str(r["method"]), {}).setdefault(client, {})
                by.setdefault(int(r["stream"]), []).append(stream_event(r))
    for clients in out.values():
        for streams in clients.values():
            for events in streams.values():
                events.sort(key=lambda e: e.t)
    return out


def site_up(events: Sequence[StreamEvent], at: float) -> Optional[str]:
    """The site the stream's connection was up on just before ``at`` (None: it was not up)."""
    site = None
    for e in events:
        if e.t >= at:
            break
        if e.event == "connected":
            site = e.site
        elif e.event in DOWN_EVENTS:
            site = None
    return site


@dataclass
class StreamWindow:
    """One stream up on the failed site when the event hit (wall-clock inside).

    Attributes:
        broken: whether it broke in the window.
        back: seconds from the event to its first answer from a healthy site after the
            break (None: not broken, or never back in the window).
        site_to: that answer's site.
        connect_failed: its failed connections from the break to its return (or the end).
        dead_connects: of them, to one of the failed site's addresses (GSLB).
        resolve_failed: its failed lookups in that time.
    """

    broken: bool = False
    back: Optional[float] = None
    site_to: Optional[str] = None
    connect_failed: int = 0
    dead_connects: int = 0
    resolve_failed: int = 0


def stream_window(
    events: Sequence[StreamEvent],
    failed: str,
    start: float,
    stop: float,
    dead: Sequence[str] = (),
) -> Optional[StreamWindow]:
    """How one stream fared in the window ``[start, stop)`` (None: not up on ``failed``
    when it began).

    Args:
        events: the stream's events, in time order.
        failed: the site the event took out.
        start: the event.
        stop: the next event, or the end of the timeline.
        dead: the failed site's own addresses (GSLB), for ``dead_connects``.
    """
    if site_up(events, start) != failed:
        return None
    inside = [e for e in events if start <= e.t < stop]
    k = next((i for i, e in enumerate(inside) if e.event == "broken"), None)
    if k is None:
        return StreamWindow()
    out = StreamWindow(broken=True)
    for e in inside[k + 1 :]:
        if e.event == "connected" and e.site is not None and e.site != failed:
            out.back, out.site_to = e.t - start, e.site
            break
        if e.event == "connect_failed":
            out.connect_failed += 1
            out.dead_connects += e.addr is not None and e.addr in dead
        elif e.event == "resolve_failed":
            out.resolve_failed += 1
    return out


@dataclass
class ClientStreams:
    """One client's streams on the failed site after one event."""

    client: str
    windows: List[StreamWindow]
    violating: bool = False

    @property
    def broken(self) -> List[StreamWindow]:
        """Its streams that broke."""
        return [w for w in self.windows if w.broken]

    @property
    def back(self) -> Optional[float]:
        """Seconds until the last of its broken streams was back (None: one never was)."""
        times = [w.back for w in self.broken]
        if not times or any(t is None for t in times):
            return None
        return max(t for t in times if t is not None)

    def stream_client(self, gslb: bool) -> StreamClient:
        """Its :class:`StreamClient`."""
        broken = self.broken
        last = max(broken, key=lambda w: w.back or 0.0) if self.back is not None else None
        return StreamClient(
            streams=len(self.windows),
            broken=len(broken),
            back_s=_ms(self.back),
            site_to=last.site_to if last is not None else None,
            connect_failed=sum(w.connect_failed for w in broken),
            dead_connects=sum(w.dead_connects for w in broken) if gslb else None,
            violating=self.violating,
        )


def stream_figures(clients: Sequence[ClientStreams], gslb: bool) -> Dict[str, Any]:
    """The :class:`StreamFigures` fields of some clients' streams (pooled as given)."""
    hit = [c for c in clients if c.broken]
    times = [c.back if c.back is not None else math.inf for c in hit]
    broken = [w for c in hit for w in c.broken]
    return {
        "streams": sum(len(c.windows) for c in clients),
        "broken": len(broken),
        "clients": len(hit),
        "back": sum(1 for c in hit if c.back is not None),
        "back_median_s": _ms(_median(times)),
        "back_worst_s": _ms(max(times)) if times and not math.isinf(max(times)) else None,
        "connect_failed": sum(w.connect_failed for w in broken),
        "dead_connects": sum(w.dead_connects for w in broken) if gslb else None,
        "resolve_failed": sum(w.resolve_failed for w in broken),
    }


def event_streams(
    streams: Mapping[str, Mapping[int, Sequence[StreamEvent]]],
    failed: str,
    start: float,
    stop: float,
    dead: Sequence[str],
    resolvers: Mapping[str, ResolverSettings],
) -> List[ClientStreams]:
    """Each client's streams up on ``failed`` when the event hit (clients without one left out)."""
    out = []
    for client, by in sorted(streams.items()):
        windows = [
            stream_window(events, failed, start, stop, dead) for _, events in sorted(by.items())
        ]
        kept = [w for w in windows if w is not None]
        if kept:
            settings = resolvers.get(client)
            out.append(ClientStreams(client, kept, bool(settings and settings.violating)))
    return out


def stream_totals(streams: Mapping[str, Mapping[int, Sequence[StreamEvent]]]) -> StreamTotals:
    """One method's streams over the whole run."""
    events = [e for by in streams.values() for es in by.values() for e in es]

    def count(name: str) -> int:
        return sum(1 for e in events if e.event == name)

    return StreamTotals(
        streams=sum(len(by) for by in streams.values()),
        connections=count("connected"),
        broken=count("broken"),
        connect_failed=count("connect_failed"),
        resolve_failed=count("resolve_failed"),
        unrecovered=count("unrecovered"),
    )


# ------------------------------------------------------------------------ all
def summarise_methods(
    records: Mapping[str, Sequence[Mapping[str, Any]]],
    events: Sequence[EventSummary],
    meta: Mapping[str, Any],
    t0: float,
    end: float,
) -> Optional[ResolutionSummary]:
    """Anycast versus GSLB from the ``resolve`` records.

    Args:
        records: client -> its ``resolve`` records (any order; the ``start`` record included).
        events: the summary's events (``t`` from t0, ``target`` the site).
        meta: ``meta.json`` (``service``, ``resolvers``, ``nearest_site``).
        t0: the timeline's start (wall-clock).
        end: the timeline's end (wall-clock): the last event's window ends there.

    Returns:
        The summary's ``resolution``; None without any ``resolve`` record.
    """
    if not any(records.values()):
        return None
    block = meta.get("service")
    service: Mapping[str, Any] = block if isinstance(block, Mapping) else {}
    addresses = _str_map(service.get("addresses"))
    nearest = _str_map(meta.get("nearest_site"))
    starts = _start_records(records)
    per_client = {c: by_method(rs) for c, rs in records.items()}
    resolvers = resolver_settings(meta, starts, records)
    names: Dict[str, str] = {}
    for record in starts.values():
        for m, name in (record.get("methods") or {}).items():
            if isinstance(name, str):
                names.setdefault(str(m), name)
    methods = method_order(
        {m for by in per_client.values() for m in by}
        | set(names)
        | {str(r["method"]) for rs in records.values() for r in rs if is_stream_record(r)}
    )

    # method -> client -> its records / ticks
    recs: Dict[str, Dict[str, List[Record]]] = {
        m: {c: by[m] for c, by in sorted(per_client.items()) if by.get(m)} for m in methods
    }
    ticks = {m: {c: [tick(r) for r in rs] for c, rs in recs[m].items()} for m in methods}
    streams = streams_by_method(records)

    times = [t0 + float(e.t) for e in events]
    stops = [*times[1:], end] if times else []
    first = times[0] if times else end
    affected: Dict[int, Dict[str, List[str]]] = {}
    for i, (e, start, stop) in enumerate(zip(events, times, stops, strict=True)):
        hit = {m: affected_clients(recs[m], e.target, start, stop) for m in methods}
        if any(hit.values()):
            affected[i] = hit

    out: Dict[str, MethodSummary] = {}
    for m in methods:
        all_ticks = [tk for rs in ticks[m].values() for tk in rs]
        failovers: List[MethodFailover] = []
        pooled: List[ClientWindow] = []
        mine = streams.get(m)
        pooled_streams: List[ClientStreams] = []
        for i, hit in sorted(affected.items()):
            site = str(events[i].target)
            start, stop = times[i], stops[i]
            dead = dead_addresses(site, addresses, ticks[m], start) if m == GSLB else None
            windows = []
            for client in hit[m]:
                w = client_window(client, ticks[m][client], site, start, stop, dead)
                settings = resolvers.get(client)
                w.resolver = settings.resolver if settings else None
                w.violating = bool(settings and settings.violating)
                windows.append(w)
            pooled += windows
            connections = None
            if mine:
                on_site = event_streams(mine, site, start, stop, dead or (), resolvers)
                pooled_streams += on_site
                connections = MethodStreams(
                    affected={c.client: c.stream_client(m == GSLB) for c in on_site},
                    **stream_figures(on_site, m == GSLB),
                )
            failovers.append(
                MethodFailover(
                    event=i,
                    t=events[i].t,
                    kind=events[i].kind,
                    site=site,
                    window_s=_ms(stop - start) or 0.0,
                    affected={
                        w.client: FailoverClient(
                            failover_s=_ms(w.failover),
                            site_to=w.site_to,
                            lost=w.lost,
                            resolver=w.resolver,
                            violating=w.violating,
                            dead_address_s=_ms(w.dead_last),
                        )
                        for w in windows
                    },
                    violating=sorted(w.client for w in windows if w.violating),
                    series=series(windows, start, stop, site),
                    connections=connections,
                    **figures(windows, m == GSLB),
                )
            )
        out[m] = MethodSummary(
            name=names.get(m),
            clients=sorted(ticks[m]),
            queries=len(all_ticks),
            answered=sum(1 for tk in all_ticks if tk.ok),
            lost=sum(1 for tk in all_ticks if not tk.ok),
            resolve_failed=sum(1 for tk in all_ticks if tk.status == "resolve_failed"),
            steady=steady_state(ticks[m], t0, first, nearest, resolvers, t0),
            failovers=failovers,
            failover=FailoverFigures(**figures(pooled, m == GSLB)) if failovers else None,
            streams=stream_totals(mine) if mine else None,
            connections=(
                StreamFigures(**stream_figures(pooled_streams, m == GSLB))
                if mine and failovers
                else None
            ),
        )
    return ResolutionSummary(
        publish=service.get("publish") if isinstance(service.get("publish"), str) else None,
        ttl=_kept(service.get("ttl")),
        health_interval=_kept(service.get("health_interval")),
        addresses=addresses,
        nearest_site=nearest,
        resolvers=resolvers,
        methods=out,
    )


def summarise_resolution(
    run: RunRecords, events: Sequence[EventSummary], end: float
) -> Optional[ResolutionSummary]:
    """The summary's ``resolution`` for a run (None without ``resolve`` records).

    Args:
        run: the run's records (``resolve``, ``meta``, ``t0``).
        events: the summary's events.
        end: the timeline's end (wall-clock).
    """
    return summarise_methods(run.resolve, events, run.meta, run.t0, end)
