"""The run's summary: every figure of the analysis as one :class:`~testbed.analysis.model.Summary`.

:func:`summarise` turns a run's records (:class:`~testbed.analysis.load.RunRecords`)
into the model written as ``summary.json``; :func:`build_summary` does the same
from a run folder.  Times are seconds from the timeline's start ``t0`` and
durations seconds, all rounded to the millisecond.  The fields, and what each
means, are the models' (:mod:`testbed.analysis.model`, and the JSON Schema
generated from them: ``testbed/schema/summary.schema.json``).

``processes`` lists the processes of the run that died on their own (the
watchdog's ``process_died`` records, docs/records.md) and ``stopped`` why the
run stopped early (``run_stopped``); each becomes a caveat too, and a stop
sets ``interrupted`` (left out of the file otherwise).

``catchment`` gives each site's share of the clients, by count and by weight,
at the start, after each event and at the end; ``load`` the sites' load, the
attack and who suffered (:mod:`testbed.analysis.siteload`; null without
load or attack records); ``dampening`` the route-flap damping every FRR
router had (``meta.json``'s ``dampening``; null when it was off);
``resolution`` anycast against DNS-based GSLB from the ``resolve`` probe
(:mod:`testbed.analysis.resolution`; null without its records).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

from testbed.analysis import (
    catchment,
    convergence,
    detection,
    health,
    outage,
    parts,
    resolution,
    siteload,
    tcp,
    transport,
)
from testbed.analysis.load import RunRecords, load_run
from testbed.analysis.model import (
    CatchmentShares,
    ClientSummary,
    DampingSummary,
    Detection,
    DnsOutage,
    DnsSummary,
    EventRouter,
    EventSummary,
    Move,
    NetworkSummary,
    OutageParts,
    PolicyCheck,
    PolicyViolation,
    ProcessDeath,
    RouterSummary,
    RunStop,
    SiteShare,
    Summary,
    TcpBreak,
    TcpSummary,
    TransportOutcome,
)
from testbed.analysis.pcap import run_captures
from testbed.probes.kinds import kind_class

PathLike = Union[str, Path]


def _ms(x: Optional[float]) -> Optional[float]:
    """Round seconds to the millisecond (None stays None)."""
    return None if x is None else round(float(x), 3)


def event_times(run: RunRecords) -> List[float]:
    """The wall-clock times of the run's events, sorted.

    Args:
        run: the run's records.

    Returns:
        Event times in order.
    """
    return [float(e["t"]) for e in run.events]


def timeline_until(run: RunRecords) -> Optional[float]:
    """Wall-clock end of the timeline (``t0 + duration``), None if the duration is unknown."""
    duration = run.meta.get("duration")
    return run.t0 + float(duration) if isinstance(duration, (int, float)) else None


def client_dns(
    run: RunRecords,
    client: str,
    min_lost: int = 1,
    windows: Optional[List[outage.OutageWindow]] = None,
) -> DnsSummary:
    """The DNS figures of one client.

    Args:
        run: the run's records.
        client: the client's name.
        min_lost: outage windows with fewer lost queries are left out.
        windows: its outage windows, if already found (with the same ``min_lost``).

    Returns:
        Its counts and outage windows.
    """
    records = run.dns.get(client, [])
    counts = outage.dns_counts(records)
    if windows is None:
        windows = outage.outage_windows(records, run.end, min_lost)
    return DnsSummary(
        sent=counts.sent,
        answered=counts.answered,
        lost=counts.lost,
        late=counts.late,
        outage_s=_ms(sum(w.duration for w in windows)),
        max_outage_s=_ms(max((w.duration for w in windows), default=0.0)),
        outages=[
            DnsOutage(
                start=run.rel(w.start),
                end=run.rel(w.end),
                duration=_ms(w.duration),
                lost=w.lost,
                recovered=w.recovered,
            )
            for w in windows
        ],
    )


def transport_outcomes(run: RunRecords, client: str) -> Dict[str, TransportOutcome]:
    """One client's outcome per probe kind that has one (:mod:`testbed.probes.kinds`)."""
    out: Dict[str, TransportOutcome] = {}
    for name, per_client in sorted(run.transport.items()):
        records = per_client.get(client)
        if records:
            outcome = kind_class(name).outcome(records)
            if outcome is not None:
                out[name] = outcome
    return out


def client_tcp(run: RunRecords, client: str) -> TcpSummary:
    """The TCP figures of one client.

    Args:
        run: the run's records.
        client: the client's name.

    Returns:
        Stream counts by fate (each stream counted once, by its first break:
        ``reset`` is the number of streams reset), ``reset_events`` the number
        of resets (a stream reset on every move of a flapping site counts
        each one), every break by kind, and every time to reconnect.
    """
    fates = tcp.stream_fates(
        run.tcp.get(client, []), event_times(run), run.end, until=timeline_until(run)
    )

    def brk(stream: int, b: tcp.Break) -> TcpBreak:
        return TcpBreak(
            stream=stream,
            t=run.rel(b.t),
            site=b.site,
            after_event_s=_ms(b.after_event_s),
            reconnect_s=_ms(b.reconnect_s),
            site_after=b.site_after,
        )

    breaks = sorted(((f.stream, b) for f in fates for b in f.breaks), key=lambda sb: sb[1].t)
    return TcpSummary(
        streams=len(fates),
        reset=sum(1 for f in fates if f.fate == "reset"),
        timeout=sum(1 for f in fates if f.fate == "timeout"),
        eof=sum(1 for f in fates if f.fate == "eof"),
        survived=sum(1 for f in fates if f.fate == "survived"),
        connect_failed=sum(f.connect_failed for f in fates),
        reset_events=sum(1 for _, b in breaks if b.kind == "reset"),
        resets=[brk(s, b) for s, b in breaks if b.kind == "reset"],
        timeouts=[brk(s, b) for s, b in breaks if b.kind == "timeout"],
        eofs=[brk(s, b) for s, b in breaks if b.kind == "eof"],
        reconnect_s=[_ms(b.reconnect_s) for _, b in breaks if b.reconnect_s is not None],
    )


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def probe_interval(run: RunRecords) -> Optional[float]:
    """The DNS probe's interval (s): 1 / ``traffic.dns_rate`` of meta.json, None if unknown."""
    rate = (run.meta.get("traffic") or {}).get("dns_rate")
    if isinstance(rate, (int, float)) and not isinstance(rate, bool) and rate > 0:
        return 1.0 / float(rate)
    return None


def damping(meta: Mapping[str, Any]) -> Optional[DampingSummary]:
    """The run's route-flap damping from ``meta.json`` (``dampening``), None when it was off.

    The engine writes the effective topology's ``bgp.dampening`` without
    ``enabled`` (null when off); a block that says ``enabled: false``, or a
    run folder older than the field, is off too.
    """
    block = meta.get("dampening")
    if not isinstance(block, Mapping) or block.get("enabled") is False:
        return None
    return DampingSummary.model_validate(block)


def _detection(run: RunRecords, event_t: float, d: detection.Declaration) -> Detection:
    return Detection(
        t=run.rel(d.t),
        after_s=_ms(d.t - event_t),
        router=d.router,
        peer=d.peer,
        daemon=d.daemon,
        how=d.how,
    )


def event_parts(
    run: RunRecords,
    event_t: float,
    t_next: float,
    moves: Dict[str, Move],
    first: Optional[detection.Declaration],
    windows: Mapping[str, List[outage.OutageWindow]],
) -> Dict[str, OutageParts]:
    """Every moved client's outage after one event, in parts (:mod:`testbed.analysis.parts`).

    ``windows``: each client's outage windows (as :func:`client_dns` found them).
    """
    access = run.meta.get("access_routers") or {}
    interval = probe_interval(run)
    out: Dict[str, OutageParts] = {}
    for client, move in sorted(moves.items()):
        records = run.dns.get(client, [])
        window = next(
            (
                (w.start, w.end)
                for w in windows.get(client, [])
                if w.start <= t_next and (w.end is None or w.end >= event_t)
            ),
            None,
        )
        p = parts.client_parts(
            client,
            event_t,
            t_next,
            {"from": move.from_, "to": move.to},
            access.get(client) if isinstance(access, dict) else None,
            run.routes,
            records,
            run.sites,
            first,
            window,
            interval,
        )
        out[client] = OutageParts(
            site_from=p.site_from,
            site_to=p.site_to,
            path=p.path,
            detection_s=_ms(p.detection_s),
            detected_by=p.detected_by,
            control_plane_s=_ms(p.control_plane_s),
            fib_s=_ms(p.fib_s),
            sampling_s=_ms(p.sampling_s),
            total_s=_ms(p.total_s),
            lead_in_s=_ms(p.lead_in_s),
            outage_s=_ms(p.outage_s),
            resolution_s=_ms(p.resolution_s),
        )
    return out


def _share(x: float) -> float:
    return round(x, 4)


def catchment_moment(
    sites: Mapping[str, Optional[str]],
    weights: Mapping[str, float],
    when: str,
    event: Optional[int] = None,
    t: Optional[float] = None,
) -> CatchmentShares:
    """Each site's share of the clients at one moment (:func:`testbed.analysis.catchment.shares`).

    Args:
        sites: client -> its site then (None: unanswered).
        weights: client -> its weight.
        when: ``start``, ``event I`` or ``end``.
        event: the event's index, if any.
        t: the event's time from t0, if any.

    Returns:
        The summary's entry; shares rounded to 4 decimals.
    """
    per_site, unanswered = catchment.shares(sites, weights)
    return CatchmentShares(
        when=when,
        event=event,
        t=t,
        sites={
            s: SiteShare(
                clients=x.clients,
                share=_share(x.share),
                weight=x.weight,
                weight_share=_share(x.weight_share),
            )
            for s, x in per_site.items()
        },
        unanswered=sorted(c for c, s in sites.items() if s is None),
        unanswered_share=_share(unanswered.share),
        unanswered_weight_share=_share(unanswered.weight_share),
    )


def catchment_shares(
    run: RunRecords,
    clients: Mapping[str, ClientSummary],
    segs: Mapping[str, List[catchment.Segment]],
) -> List[CatchmentShares]:
    """The summary's ``catchment``: at the start, after each event (settled), at the end.

    After event ``i`` a client's site is the last one seen between the event
    and the next (:func:`testbed.analysis.catchment.site_after`), as in the
    catchment plot.
    """
    if not clients:
        return []
    weights = run.weights
    times = event_times(run)
    out = [catchment_moment({c: v.site_before for c, v in clients.items()}, weights, "start")]
    for i, t in enumerate(times):
        t_next = times[i + 1] if i + 1 < len(times) else None
        settled = {c: catchment.site_after(segs[c], t, t_next) for c in clients}
        out.append(catchment_moment(settled, weights, f"event {i}", i, run.rel(t)))
    out.append(catchment_moment({c: v.site_after for c, v in clients.items()}, weights, "end"))
    return out


def policy_checks(run: RunRecords) -> List[PolicyCheck]:
    """The valley-free checks of ``policy.jsonl``, times from t0."""
    keys = ("router", "prefix", "as_path", "best", "reason")
    out = []
    for r in run.policy:
        violations = [
            PolicyViolation(**{k: v[k] for k in keys if k in v})
            for v in r.get("violations") or []
            if isinstance(v, dict)
        ]
        out.append(
            PolicyCheck(
                phase=str(r.get("phase") or ""),
                t=run.rel(r.get("t")),
                passed=bool(r.get("passed", not violations)),
                paths=int(r.get("paths") or 0),
                ok=int(r.get("ok") or 0),
                unknown=int(r.get("unknown") or 0),
                violation_count=int(r.get("violation_count", len(violations))),
                violations=violations,
                no_route=r.get("no_route") or {},
                line=str(r.get("line") or ""),
            )
        )
    return out


def process_deaths(run: RunRecords) -> List[ProcessDeath]:
    """The processes that died on their own (``process_died`` records), times from t0."""
    keys = ("node", "process", "pid", "status", "how", "action", "affects", "fault", "file")
    return [
        ProcessDeath(t=run.rel(r["t"]), **{k: r.get(k) for k in keys})
        for r in run.incidents
        if r.get("kind") == "process_died"
    ]


def run_stopped(run: RunRecords) -> Optional[RunStop]:
    """Why the run stopped early (the first ``run_stopped`` record), None if it did not."""
    for r in run.incidents:
        if r.get("kind") == "run_stopped":
            at = r.get("at")
            keys = ("reason", "fault", "file", "process", "node")
            return RunStop(
                t=_ms(at) if isinstance(at, (int, float)) else None, **{k: r.get(k) for k in keys}
            )
    return None


def death_caveat(death: ProcessDeath) -> str:
    """One caveat line for a process that died on its own."""
    who = death.process or "a process"
    if death.node not in (None, "-"):
        who += f" on {death.node}"
    when = f" at t={death.t:.3f} s" if death.t is not None else ""
    if death.fault:
        return (
            f"{who} stopped{when}: {death.file or 'its records'} could not be written "
            f"({death.fault}); the run stopped there"
        )
    action = death.action or "carried on"
    then = "the run stopped there" if action == "stopped the run" else "the run carried on"
    return f"{who} died on its own{when} ({death.how}); {then}: {death.affects}"


def stop_caveat(stopped: RunStop) -> str:
    """One caveat line for a run that stopped early on a fault."""
    when = f"t={stopped.t:.1f} s" if stopped.t is not None else "bring-up"
    return f"the run stopped early at {when}: {stopped.reason}; figures cover what ran"


def summarise(run: RunRecords, expect: Optional[List[Any]] = None, min_lost: int = 1) -> Summary:
    """Every figure of a run.

    Args:
        run: the run's records.
        expect: expectation results to keep as they are (filled by the scenario package).
        min_lost: outage windows with fewer lost queries are left out.

    Returns:
        The summary.
    """
    times = event_times(run)
    segs = {c: catchment.segments(run.dns.get(c, [])) for c in run.clients}
    windows = {c: outage.outage_windows(run.dns.get(c, []), run.end, min_lost) for c in run.clients}
    clients: Dict[str, ClientSummary] = {}
    for c in run.clients:
        before = catchment.site_before(segs[c], times[0]) if times else None
        if not times:
            before = catchment.first_site(segs[c])
        clients[c] = ClientSummary(
            site_before=before,
            site_after=catchment.last_site(segs[c]),
            dns=client_dns(run, c, min_lost, windows[c]),
            tcp=client_tcp(run, c),
            transport=transport_outcomes(run, c),
        )

    until = timeline_until(run) or run.end
    conv = convergence.event_convergence(run.routes, times, until)
    decls = detection.declarations(run.bgp, run.health)
    events: List[EventSummary] = []
    for i, (e, ev) in enumerate(zip(run.events, conv, strict=True)):
        t_next = times[i + 1] if i + 1 < len(times) else None
        declared = detection.event_declarations(e, t_next or max(until, ev.t), decls)
        first = declared[0] if declared else None
        moves: Dict[str, Move] = {}
        for c in run.clients:
            frm = catchment.site_before(segs[c], ev.t)
            to = catchment.site_after(segs[c], ev.t, t_next)
            if frm is not None and to is not None and frm != to:
                moves[c] = Move(from_=frm, to=to)
        events.append(
            EventSummary(
                t=run.rel(ev.t),
                at=e.get("at"),
                applied_s=_ms(e["applied_s"]) if _is_number(e.get("applied_s")) else None,
                kind=e.get("event"),
                target=e.get("target"),
                params=e.get("params") or {},
                convergence_s=_ms(ev.convergence_s),
                routers_changed=ev.routers_changed,
                route_changes=ev.route_changes,
                routers={
                    name: EventRouter(
                        convergence_s=_ms(r.convergence_s), route_changes=r.route_changes
                    )
                    for name, r in sorted(ev.routers.items())
                },
                moved=sorted(moves),
                moves=moves,
                detection=_detection(run, ev.t, first) if first else None,
                declarations=[_detection(run, ev.t, d) for d in declared],
                parts=event_parts(run, ev.t, t_next or ev.t_next, moves, first, windows),
            )
        )

    per_router = convergence.changes_per_router(run.routes, since=run.t0)
    routers: Dict[str, RouterSummary] = {}
    for name in sorted(set(run.routers) | set(per_router)):
        worst = [ev.routers[name].convergence_s for ev in conv if name in ev.routers]
        routers[name] = RouterSummary(
            route_changes=per_router.get(name, 0),
            convergence_s_max=_ms(max(worst)) if worst else None,
        )
    converged = [ev.convergence_s for ev in conv if ev.convergence_s is not None]
    duration = run.meta.get("duration")
    deaths = process_deaths(run)
    stopped = run_stopped(run)
    caveats = list(run.meta.get("caveats") or []) + [death_caveat(d) for d in deaths]
    if stopped is not None:
        caveats.append(stop_caveat(stopped))
    interrupted = None
    if stopped is not None:
        when = f" at t={stopped.t:.1f} s" if stopped.t is not None else ""
        interrupted = f"stopped: {stopped.reason}{when}"
    run_end = until - run.t0
    for event, table in zip(events, transport.event_transport(run, events, run_end), strict=True):
        event.transport = table
    return Summary(
        t0=run.t0,
        duration=duration if isinstance(duration, (int, float)) else _ms(run.end - run.t0),
        scenario=run.meta.get("scenario"),
        topology=run.meta.get("topology"),
        frr_version=run.meta.get("frr_version"),
        speaker=run.meta.get("speaker"),
        speaker_library=run.meta.get("speaker_library"),
        dampening=damping(run.meta),
        sites=run.sites,
        probe_interval_s=_ms(probe_interval(run)),
        clients=clients,
        events=events,
        health_agents=health.agents(run),
        health=health.changes(run, segs),
        routers=routers,
        network=NetworkSummary(
            convergence_s_max=_ms(max(converged)) if converged else None,
            route_changes=sum(r.route_changes for r in routers.values()),
        ),
        expect=list(expect) if expect is not None else [],
        caveats=caveats,
        processes=deaths,
        stopped=stopped,
        pcap=run_captures(run.run_dir, run.t0),
        policy=policy_checks(run),
        catchment=catchment_shares(run, clients, segs),
        load=siteload.summarise_load(run, segs),
        resolution=resolution.summarise_resolution(run, events, until),
        interrupted=interrupted,
    )


def build_summary(
    run_dir: PathLike, expect: Optional[List[Any]] = None, min_lost: int = 1
) -> Summary:
    """Read a run folder and summarise it (nothing is written).

    Args:
        run_dir: the run folder.
        expect: expectation results to keep as they are.
        min_lost: outage windows with fewer lost queries are left out.

    Returns:
        The summary, as written to ``summary.json`` by :func:`testbed.analysis.analyse`.
    """
    return summarise(load_run(run_dir), expect, min_lost)
