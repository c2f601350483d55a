"""Render a run's summary for people: ``report.md`` and tables for the terminal.

Both are pure functions of the summary (:class:`~testbed.analysis.model.Summary`,
read by attribute), so the same summary always gives the same text.  The
entry points (:func:`render_markdown`, :func:`rich_tables`,
:func:`print_report`, :func:`incident_lines`) also take the summary as its
JSON object (``summary.json``, or what :func:`testbed.analysis.analyse`
returns) and validate it into the model first.  The narrative lists the
scenario's events and the health agents' state changes (``health[]``) in
time order, with who moved after each; a health change that moved none of
the site's clients and left them without answers -- MED demotion behind
different upstreams -- says so.  The agents' withdrawals at the end of the
run (``shutdown`` in ``health[]``) are shown as the shutdown drain, with no
client effect: the probes had stopped.

The narrative says the run's route-flap damping (``dampening``) when it was
on, in FRR's units (:func:`damping_line`); the terminal prints the same line.

The *Catchment* section gives each site's share of the clients by count and
by weight, at the start, after each event and at the end (``catchment[]``);
the *Load* section, for a run with load records or an attack (``load``),
each site's offered load against its capacity, the attack, legitimate loss
and RTT inside vs outside the attacked catchment, and any cascade.

The *Anycast versus GSLB* section, for a run with ``resolve`` records
(``resolution``), is the comparison table every primer prints with one
column per publishing method filled with the measured figures and the
primers' claims last (:data:`CLAIMS`), then every event that took a site
out per method, and the clients behind TTL-violating resolvers (the tail).
The terminal prints the service's settings and a line per method
(:func:`resolution_lines`): failover median and worst, the share still
failing 1, 10 and 60 s after the event, the connections lost and when they
were back on a healthy site (with the probe's long streams), the steady
state's nearest-site share.

Expectations (``expect[]``) are shown as the scenario package evaluated
them: ``check``, ``passed`` (null: shown as not checked) and ``detail``
(older spellings are converted when a summary is loaded:
:func:`testbed.analysis.model.upgrade`).
"""

from __future__ import annotations

from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from testbed.analysis.model import (
    Capture,
    DampingSummary,
    EventSummary,
    ExpectResult,
    FailoverFigures,
    HealthAddress,
    HealthEntry,
    HealthRetry,
    HealthState,
    LegitGroup,
    LoadSummary,
    MethodFailover,
    MethodSummary,
    ResolutionSummary,
    SiteCapacity,
    StreamFigures,
    Summary,
    TcpSummary,
)
from testbed.topology.model import capacity_words

#: A summary, or its JSON object (validated into the model by the entry points).
SummaryLike = Union[Summary, Mapping[str, Any]]

#: The plots :mod:`testbed.analysis.plots` writes, with their captions.
PLOTS: Sequence[Tuple[str, str]] = (
    (
        "timeline.png",
        "DNS answers per client over time, by site; losses in red; events; health changes",
    ),
    ("tcp.png", "TCP stream lifelines by site; resets and timeouts"),
    ("routes.png", "route changes per router; events"),
    ("catchment.png", "each client's site at the start and after each event"),
    ("parts.png", "each moved client's outage in parts: detection, control plane, FIB, sampling"),
    ("load.png", "offered packets/s per site, legitimate vs attack, with its capacity; events"),
    (
        "resolution.png",
        "share of the clients a site failure affected still failing, per publishing method",
    ),
)

#: The plots written only when the run has their records (load, ``resolve``).
OPTIONAL_PLOTS: Tuple[str, ...] = ("load.png", "resolution.png")


def fmt_s(x: Optional[float]) -> str:
    """Seconds with three decimals, ``-`` for None."""
    return "-" if x is None else f"{x:.3f}"


def fmt(x: Any) -> str:
    """A value for a table cell: ``-`` for None or empty, lists joined by commas."""
    if x is None or x == "" or x == [] or x == {}:
        return "-"
    if isinstance(x, (list, tuple)):
        return ", ".join(str(v) for v in x)
    if isinstance(x, dict):
        return ", ".join(f"{k}={v}" for k, v in sorted(x.items()) if v is not None)
    return str(x)


def _cell(text: str) -> str:
    """Escape a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> List[str]:
    """A Markdown table.

    Args:
        header: column titles.
        rows: cells, already formatted.

    Returns:
        The table's lines.
    """
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def verdict(passed: Optional[bool]) -> str:
    """PASS, FAIL or ``-`` (not checked)."""
    return "-" if passed is None else ("PASS" if passed else "FAIL")


def site_change(before: Optional[str], after: Optional[str]) -> str:
    """``lon -> nyc``, or the one site if it did not change."""
    if before == after:
        return fmt(before)
    return f"{fmt(before)} -> {fmt(after)}"


def event_label(ev: EventSummary) -> str:
    """``fail_site lon (how=link-down)``; ``backend (state=down)`` (its target is its kind)."""
    target = None if ev.target == "None" else ev.target  # an event without a target
    text = " ".join(str(x) for x in dict.fromkeys((ev.kind, target)) if x)
    return f"{text} ({fmt(ev.params)})" if ev.params else text or "-"


#: Said of a MED demotion that moved none of the dead site's clients.
MED_NOTE = (
    "MED is only compared between routes from the same neighbouring AS, so the demoted "
    "route still wins behind other upstreams: traffic stays on the dead site"
)
#: The effect of a health agent's withdrawal at the end of the run.
SHUTDOWN_NOTE = "shutdown drain after the probes stopped: no client effect measured"


def client_moves(summary: Summary, client: str) -> List[Tuple[Optional[float], str, str]]:
    """A client's moves at the scenario's events: ``(t, from, to)`` in time order.

    Args:
        summary: the run's summary (``events[].moves``).
        client: the client's name.

    Returns:
        One triple per event that moved the client.
    """
    out: List[Tuple[Optional[float], str, str]] = []
    for ev in summary.events:
        move = (ev.moves or {}).get(client)
        if move is not None:
            out.append((ev.t, str(move.from_), str(move.to)))
    return out


def moved_to(summary: SummaryLike, client: str) -> str:
    """``nyc at 10.0 s, lon at 20.0 s``: where each event moved the client, ``-`` if none."""
    parts = [
        f"{to} at {t:.1f} s" if t is not None else to
        for t, _, to in client_moves(Summary.of(summary), client)
    ]
    return ", ".join(parts) or "-"


def tcp_resets(tcp: TcpSummary) -> str:
    """``2/2``: streams reset of streams, with the resets when more (``2/2 (6 resets)``)."""
    text = f"{tcp.reset}/{tcp.streams}"
    if tcp.reset_events > tcp.reset:
        text += f" ({tcp.reset_events} resets)"
    return text


def health_label(h: HealthEntry) -> str:
    """``health lon up -> down (withdraw)`` (``... at shutdown``), ``health lon: address ...``."""
    site = h.site or "?"
    if isinstance(h, HealthAddress):
        return f"health {site}: service address {'removed' if h.removed else 'kept'}"
    if isinstance(h, HealthRetry):
        return f"health {site} {h.state} applied late ({h.action})"
    text = f"health {site} {h.previous} -> {h.state} ({h.action})"
    return f"{text} at shutdown" if h.shutdown else text


def _moves_text(moves: Mapping[str, Any]) -> str:
    """``paris (lon -> nyc), tokyo (tyo -> nyc)``."""
    return ", ".join(f"{c} ({m.from_} -> {m.to})" for c, m in sorted(moves.items()))


def health_effect(h: HealthEntry) -> str:
    """What a health record did: who moved, who stayed or went unanswered; the address."""
    if isinstance(h, HealthAddress):
        if not h.removed:
            return h.error or "no server"
        text = f"from {', '.join(h.removed)}"
        if h.drain_s is not None:
            text += f", {fmt_s(h.drain_s)} s after the announcement changed"
        return text + (f"; {h.error}" if h.error else "")
    if isinstance(h, HealthRetry):
        return f"applied: {fmt(h.applied)}"
    if h.shutdown:
        text = SHUTDOWN_NOTE
        return text + (f"; not applied: {h.error}" if h.error else "")
    parts = [f"kept announced ({h.held})"] if h.held else []
    moves = h.moves or {}
    if moves:
        parts.append("moved: " + _moves_text(moves))
    if h.stayed:
        parts.append(f"still on {h.site}: {', '.join(h.stayed)}")
    if h.unanswered:
        parts.append(f"no answer: {', '.join(h.unanswered)}")
    if not parts:
        parts.append("no client changed site")
    if h.state == "down" and h.action == "med" and not moves and h.unanswered:
        parts.append(MED_NOTE)
    if h.error:
        parts.append(f"not applied: {h.error}")
    return "; ".join(parts)


def _event_line(ev: EventSummary) -> str:
    text = f"- t={fmt_s(ev.t)} s: {event_label(ev)}. "
    if ev.convergence_s is None:
        text += "No route changed."
    else:
        text += (
            f"Routes converged in {fmt_s(ev.convergence_s)} s "
            f"({len(ev.routers_changed)} routers, {ev.route_changes} route changes)."
        )
    if ev.moves:
        text += " Moved: " + _moves_text(ev.moves) + "."
    else:
        text += " No client changed site."
    return text


def _health_line(h: HealthEntry) -> str:
    text = f"- t={fmt_s(h.t)} s: {health_label(h)}"
    effect = health_effect(h)
    if isinstance(h, HealthAddress):
        return f"{text} {effect}." if h.removed else f"{text}: {effect}."
    if isinstance(h, HealthState):
        why = ", ".join(h.failures) or h.reason or "-"
        text += f", applied: {fmt(h.applied)}; because: {why}"
    return f"{text}. {effect[:1].upper()}{effect[1:]}."


def timeline(summary: SummaryLike) -> List[Tuple[float, str]]:
    """The narrative's timeline: scenario events and health records, in time order.

    Args:
        summary: the run's summary.

    Returns:
        ``(t, line)`` pairs; at equal times events come before health records.
    """
    summary = Summary.of(summary)
    rows: List[Tuple[float, int, int, str]] = []
    for i, ev in enumerate(summary.events):
        rows.append((float(ev.t or 0.0), 0, i, _event_line(ev)))
    for i, h in enumerate(summary.health):
        rows.append((float(h.t or 0.0), 1, i, _health_line(h)))
    return [(t, line) for t, _, _, line in sorted(rows)]


def damping_line(damping: Optional[DampingSummary]) -> Optional[str]:
    """The run's route-flap damping in one line (FRR's units), None when it was off."""
    if damping is None:
        return None
    return (
        f"Route-flap damping: half-life {fmt(damping.half_life)} min, reuse "
        f"{fmt(damping.reuse)}, suppress {fmt(damping.suppress)}, max-suppress "
        f"{fmt(damping.max_suppress)} min."
    )


def _narrative(summary: Summary) -> List[str]:
    clients = summary.clients
    what = []
    if summary.scenario:
        what.append(f"Scenario **{summary.scenario}**")
    else:
        what.append("A run without a scenario")
    if summary.topology:
        what.append(f"on topology **{summary.topology}**")
    line = " ".join(what) + f", {fmt_s(summary.duration)} s"
    if summary.frr_version:
        line += f", FRR {summary.frr_version}"
    if summary.speaker:
        line += f", site speaker {fmt(summary.speaker)}"
    out = [line + "."]
    if summary.interrupted:
        out.append(f"The run was interrupted ({summary.interrupted}): figures cover what ran.")
    out.append(
        f"{len(clients)} clients, {len(summary.sites)} sites, "
        f"{len(summary.routers)} routers, {len(summary.events)} events."
    )
    if summary.health_agents:
        out.append(
            "Health agents: "
            + "; ".join(
                f"{site} ({a.action}, every {a.interval} s, fall {a.fall}, rise {a.rise}"
                + (f", min_sites {a.min_sites})" if a.min_sites is not None else ")")
                for site, a in sorted(summary.health_agents.items())
            )
            + "."
        )
    damping = damping_line(summary.dampening)
    if damping:
        out.append(damping)
    out.append("")
    lines = timeline(summary)
    out += [line for _, line in lines]
    if lines:
        out.append("")
    hit = {c: v.dns for c, v in clients.items() if v.dns.outages}
    if hit:
        worst = max(sorted(hit), key=lambda c: hit[c].max_outage_s or 0)
        out.append(
            f"DNS: {len(hit)} of {len(clients)} clients lost queries; the longest outage "
            f"was {fmt_s(hit[worst].max_outage_s)} s ({worst})."
        )
        never = sorted(c for c, d in hit.items() if any(not w.recovered for w in d.outages))
        if never:
            out.append(f"Never recovered by the end of the run: {', '.join(never)}.")
    elif clients:
        out.append("DNS: no client lost a query.")
    tcp = [v.tcp for v in clients.values()]
    streams = sum(t.streams for t in tcp)
    if streams:
        reset = sum(t.reset for t in tcp)
        timeout = sum(t.timeout for t in tcp)
        survived = sum(t.survived for t in tcp)
        eof = sum(t.eof for t in tcp)
        resets = sum(t.reset_events for t in tcp)
        closed = f", {eof} closed by the server" if eof else ""
        again = f" ({resets} resets in all)" if resets > reset else ""
        out.append(
            f"TCP: {streams} streams: {reset} reset{again}, {timeout} timed out{closed}, "
            f"{survived} survived."
        )
    net = summary.network
    if net.convergence_s_max is not None:
        out.append(
            f"Control plane: slowest convergence {fmt_s(net.convergence_s_max)} s after an "
            f"event (max over routers), {net.route_changes} route changes in all."
        )
    return out


def _resolution(summary: Summary) -> str:
    """`` Each end is known to within the probe's interval, 0.005 s.`` (empty if unknown)."""
    if summary.probe_interval_s is None:
        return ""
    return f" Each end is known to within the probe's interval, {summary.probe_interval_s:g} s."


#: Events that may prepare a withdrawal (a drain): traffic moved away before the route goes.
DRAIN_STEPS = ("prepend", "med", "set_communities")


def drains(summary: SummaryLike) -> List[List[str]]:
    """The "Drains" rows: every withdrawal with the steps on its site before it.

    A drain is a ``withdraw`` event and the ``prepend``, ``med`` and
    ``set_communities`` events on the same site just before it (back to the
    site's previous other event, e.g. a ``restore``).  Its window runs from
    its first step to the next event after the withdrawal (or the end): the
    DNS queries lost in outage windows that overlap it and the TCP resets in
    it, over all clients; the drain time runs from the first step to the
    last of the site's moved clients answered by its new site (each moved
    client's ``total_s`` in ``events[].parts``, else the event's convergence).

    Returns:
        ``[site, way, moved, DNS lost, longest DNS outage, TCP resets, drain time]`` per drain.
    """
    summary = Summary.of(summary)
    events, rows = summary.events, []
    for i, ev in enumerate(events):
        if ev.kind != "withdraw":
            continue
        steps = [ev]
        for before in reversed(events[:i]):
            if before.target != ev.target:
                continue
            if before.kind not in DRAIN_STEPS:
                break
            steps.insert(0, before)
        start = float(steps[0].t)
        end = float(events[i + 1].t) if i + 1 < len(events) else float(summary.duration or 1e12)
        moved: List[str] = []
        reach: List[float] = []
        for step in steps:
            if step.moves is None:  # an older summary: who moved, not from where
                away = list(step.moved)
            else:
                away = [c for c, m in step.moves.items() if m.from_ == ev.target]
            moved += [c for c in away if c not in moved]
            for c in away:
                part = step.parts.get(c)
                took = part.total_s if part is not None else None
                took = took if took is not None else step.convergence_s
                reach.append(float(step.t) + float(took or 0.0))
        windows = [
            w
            for c in summary.clients.values()
            for w in c.dns.outages
            if w.start < end and (w.end is None or w.end > start)
        ]
        resets = sum(
            1 for c in summary.clients.values() for b in c.tcp.resets if start <= b.t < end
        )
        way = " → ".join(_step(step) for step in steps)
        rows.append(
            [
                fmt(ev.target),
                way,
                fmt(sorted(moved)),
                str(sum(w.lost for w in windows)),
                fmt_s(max((w.duration for w in windows), default=0.0)),
                str(resets),
                fmt_s(max(reach) - start) if reach else "-",
            ]
        )
    return rows


def _step(ev: EventSummary) -> str:
    """A drain's step in words: ``prepend 3``, ``communities graceful-shutdown``, ``withdraw``."""
    params = ev.params
    if ev.kind == "set_communities":
        return "communities " + (" ".join(params.get("communities") or []) or "none")
    if ev.kind in ("prepend", "med"):
        return f"{ev.kind} {params.get('count', params.get('value'))}"
    return str(ev.kind)


def remedy_rows(event: EventSummary) -> List[List[str]]:
    """One event's transport table: a row per probe kind (moved clients' flows, pooled)."""
    from statistics import median

    from testbed.probes.kinds import kind_class

    rows = []
    for kind, o in event.transport.items():
        recover = "-"
        if o.recover_s:
            recover = f"{median(o.recover_s):.2f} / {max(o.recover_s):.2f}"
        lost = "-" if o.lost is None else f"{o.lost:g} {o.lost_unit or ''}".strip()
        ends = ", ".join(f"{k} {v}" for k, v in sorted(o.ends.items()) if v) or "-"
        rows.append(
            [
                kind,
                str(o.flows),
                pct(o.survived / o.flows) if o.flows else "-",
                str(o.reset),
                str(o.timed_out),
                str(o.failed),
                str(o.recovered),
                recover,
                lost,
                "-" if o.longest_gap_s is None else f"{o.longest_gap_s:.2f}",
                ends,
                kind_class(kind).claim or "-",
            ]
        )
    return rows


def _transport_section(summary: Summary) -> List[str]:
    """``## Transport remedies``: per event, how each kind's flows fared, next to the claims."""
    events = [(i, e) for i, e in enumerate(summary.events) if e.transport and e.moved]
    if not events:
        return []
    lines = [
        "",
        "## Transport remedies",
        "",
        "Per event that moved clients: the moved clients' flows of each probe kind in the "
        "event's window (to the next event), pooled. A long-lived kind counts the flows up "
        "when the event came and those opened after it; a short one the queries or requests "
        "sent in the window. Recovery: from a break to the first answer after it.",
    ]
    for i, event in events:
        lines += [
            "",
            f"Event {i}: {event.kind} {event.target or ''} at {event.t:.3f} s, "
            f"moved {', '.join(event.moved)}.",
            "",
            *md_table(
                [
                    "kind",
                    "flows",
                    "survived",
                    "reset",
                    "timed out",
                    "failed",
                    "recovered",
                    "recovery median / worst (s)",
                    "lost",
                    "longest gap (s)",
                    "how flows ended",
                    "what the primers say",
                ],
                remedy_rows(event),
            ),
        ]
    return lines


#: The comparison table's rows: what each says, and what the primers claim for it.
CLAIMS: Sequence[Tuple[str, str]] = (
    (
        "failover speed (median / worst s)",
        "anycast: BGP convergence speed (seconds); GSLB: health check + TTL speed",
    ),
    (
        "clients still failing after 1 / 10 / 60 s",
        "anycast: none once routes converge; GSLB: those whose resolver still holds the "
        "dead site's address",
    ),
    (
        "queries lost (affected clients, after the failure; all ticks)",
        "anycast: those in flight while routes converge; GSLB: those sent to the dead "
        "address until the TTL runs out",
    ),
    (
        "connections lost / back on a healthy site (median / worst s)",
        "anycast: reset once routes converge, the reconnect lands on the next site; GSLB: "
        "reconnects go to the dead address until the resolver's cached answer expires",
    ),
    (
        "steady-state accuracy (share served by the nearest site)",
        "anycast: BGP's best path, not always the nearest site; GSLB: the site nearest "
        "the resolver (the client with ECS)",
    ),
    (
        "granularity",
        "anycast: per route (a prefix as BGP sees it); GSLB: per resolver (per client "
        "subnet with ECS)",
    ),
    (
        "client visibility",
        "anycast: no client information; GSLB: the resolver's location, or the "
        "client's subnet with ECS",
    ),
)


def _never(recovered: int, clients: int) -> str:
    return f"never ({clients - recovered} of {clients})"


def failover_cell(f: Optional[FailoverFigures]) -> str:
    """``0.402 / 0.602``; ``5.201 / never (1 of 3)``; ``no client affected``."""
    if f is None or not f.clients:
        return "no client affected"
    never = _never(f.recovered, f.clients)
    median_ = fmt_s(f.failover_median_s) if f.failover_median_s is not None else never
    worst = fmt_s(f.failover_worst_s) if f.failover_worst_s is not None else never
    return f"{median_} / {worst}"


def failing_cell(f: Optional[FailoverFigures]) -> str:
    """``100.0% / 0.0% / -``: the affected still failing after 1, 10 and 60 s."""
    if f is None or not f.clients:
        return "-"
    return " / ".join(pct(getattr(f, f"failing_{x}s")) for x in (1, 10, 60))


def connections_cell(c: Optional[StreamFigures], streams: bool = True) -> str:
    """``2 of 2 lost; 0.512 / 0.804``: the long streams on the failed site that broke, and
    the median / worst time until the affected clients' streams were back on a healthy
    site; ``no streams`` (``streams`` false: the method had none), ``-`` (no event took
    a site out), ``no connection on the site``."""
    if not streams:
        return "no streams"
    if c is None:
        return "-"
    if not c.streams:
        return "no connection on the site"
    lost = f"{c.broken} of {c.streams} lost"
    if not c.clients:
        return lost
    never = _never(c.back, c.clients)
    median_ = fmt_s(c.back_median_s) if c.back_median_s is not None else never
    worst = fmt_s(c.back_worst_s) if c.back_worst_s is not None else never
    return f"{lost}; {median_} / {worst}"


def dead_address_cell(f: Optional[FailoverFigures]) -> str:
    """``3 / 1 / 0``: the affected still given the dead site's address (GSLB); ``-`` else."""
    if f is None or not f.clients:
        return "-"
    values = [getattr(f, f"dead_address_{x}s") for x in (1, 10, 60)]
    if all(v is None for v in values):
        return "-"
    return " / ".join(fmt(v) for v in values)


def _granularity(name: str, m: MethodSummary) -> str:
    steady = m.steady
    clients = sum(1 for c in steady.clients.values() if c.site is not None)
    split = len(steady.split_resolvers)
    text = f"{clients} clients on {len(steady.sites)} sites"
    if name == "gslb":
        text = f"per resolver: {steady.resolvers} resolvers for {text}"
    elif name == "anycast":
        text = f"per route: {text}"
    if steady.resolvers:
        text += f"; {split} of {steady.resolvers} resolvers' clients split across sites"
    return text


def _visibility(name: str, m: MethodSummary, r: ResolutionSummary) -> str:
    if name == "anycast":
        return "none: one address for every client, the network picks the site"
    mine = [r.resolvers[c] for c in m.clients if c in r.resolvers]
    names = {s.resolver for s in mine if s.resolver}
    ecs = {s.resolver for s in mine if s.resolver and s.ecs}
    if name == "gslb":
        return f"the resolver's address; ECS from {len(ecs)} of {len(names)} resolvers"
    return "-"


def nearest_cell(m: MethodSummary) -> str:
    """``87.5% (7 of 8 clients)`` on their nearest site in the steady state; ``-`` if unknown."""
    steady = m.steady
    if steady.nearest_share is None:
        return "-"
    judged = [c for c in steady.clients.values() if c.site is not None and c.nearest]
    near = sum(1 for c in judged if c.site == c.nearest)
    return f"{pct(steady.nearest_share)} ({near} of {len(judged)} clients)"


def service_text(r: ResolutionSummary) -> str:
    """``publish: both, TTL 30 s, health checks every 1 s`` (what is known); empty if nothing."""
    said = [f"publish: {r.publish}" if r.publish else None]
    if r.ttl is not None:
        said.append(f"TTL {r.ttl:g} s")
    if r.health_interval is not None:
        said.append(f"health checks every {r.health_interval:g} s")
    return ", ".join(s for s in said if s)


def comparison_rows(resolution: ResolutionSummary) -> List[List[str]]:
    """The comparison table: a row per :data:`CLAIMS` entry, a column per method, the claim last."""
    methods = list(resolution.methods.items())
    cells: List[List[str]] = [[] for _ in CLAIMS]
    for name, m in methods:
        f = m.failover
        accuracy = nearest_cell(m)
        lost = f"{f.lost if f is not None else 0}; {m.lost:,} of {m.queries:,} in all"
        cells[0].append(failover_cell(f))
        cells[1].append(failing_cell(f))
        cells[2].append(lost)
        cells[3].append(connections_cell(m.connections, m.streams is not None))
        cells[4].append(accuracy)
        cells[5].append(_granularity(name, m))
        cells[6].append(_visibility(name, m, resolution))
    return [[what, *row, claim] for (what, claim), row in zip(CLAIMS, cells, strict=True)]


def failover_rows(summary: Summary) -> List[List[str]]:
    """Per event that took a site out and per method: who was affected and how they fared."""
    resolution = summary.resolution
    if resolution is None:
        return []
    rows: List[Tuple[int, int, List[str]]] = []
    for k, (name, m) in enumerate(resolution.methods.items()):
        for f in m.failovers:
            ev = summary.events[f.event] if f.event < len(summary.events) else None
            label = event_label(ev) if ev is not None else f"{f.kind} {f.site}"
            rows.append(
                (
                    f.event,
                    k,
                    [
                        f"{label} (t={fmt_s(f.t)} s)",
                        name,
                        fmt(sorted(f.affected)) if f.affected else "none",
                        f"{f.recovered} of {f.clients}" if f.clients else "-",
                        failover_cell(f),
                        failing_cell(f),
                        str(f.lost),
                        dead_address_cell(f),
                        fmt_s(f.window_s),
                        connections_cell(f.connections, m.streams is not None),
                    ],
                )
            )
    return [row for _, _, row in sorted(rows, key=lambda x: (x[0], x[1]))]


def _tail(failovers: Sequence[Tuple[str, MethodFailover]], r: ResolutionSummary) -> List[str]:
    """The TTL-violating resolvers' clients: their failover next to the others'."""
    from statistics import median

    rows = []
    lines: List[str] = []
    for name, f in failovers:
        for client in f.violating:
            c = f.affected[client]
            settings = r.resolvers.get(client)
            rows.append(
                [
                    f"{f.kind} {f.site} (t={fmt_s(f.t)} s)",
                    name,
                    client,
                    fmt(c.resolver),
                    fmt(settings.min_ttl if settings else None),
                    fmt_s(c.failover_s) if c.failover_s is not None else "never",
                    fmt_s(c.dead_address_s),
                ]
            )
        if f.violating:
            others = [
                c.failover_s
                for n, c in f.affected.items()
                if n not in f.violating and c.failover_s is not None
            ]
            bad = [f.affected[n].failover_s for n in f.violating]
            known = [x for x in bad if x is not None]
            lines.append(
                f"- {name}, {f.kind} {f.site}: behind TTL-violating resolvers "
                f"{len(known)} of {len(bad)} failed over"
                + (f", median {median(known):.3f} s" if known else "")
                + "; the others "
                + (f"median {median(others):.3f} s" if others else "none failed over")
                + "."
            )
    if not rows:
        violating = sorted({s.resolver or c for c, s in r.resolvers.items() if s.violating})
        if not violating or not failovers:
            return []
        return [
            "",
            f"No affected client sits behind a TTL-violating resolver ({', '.join(violating)}).",
        ]
    return [
        "",
        "Clients behind TTL-violating resolvers (they keep an answer at least their "
        "minimum TTL, whatever the authority said): the long tail.",
        "",
        *md_table(
            [
                "event",
                "method",
                "client",
                "resolver",
                "min TTL (s)",
                "failover (s)",
                "given the dead address until (s)",
            ],
            rows,
        ),
        "",
        *lines,
    ]


def _resolution_section(summary: Summary) -> List[str]:
    """``## Anycast versus GSLB``: the primers' comparison table, measured; per event; the tail."""
    r = summary.resolution
    if r is None or not r.methods:
        return []
    names = list(r.methods)
    said = service_text(r)
    lines = [
        "",
        "## Anycast versus GSLB",
        "",
        "Each client resolves the service name through its recursive resolver every tick, "
        "for each publishing method, then queries the address it got; the answer names "
        "the site. Failover: from the event to the first answer from another site; a client "
        "is failing while its latest tick got no answer from a healthy site. Steady state: "
        "before the first event." + (f" Service: {said}." if said else "") + _streams_text(r),
        "",
        *md_table(["figure", *names, "what the primers say"], comparison_rows(r)),
    ]
    rows = failover_rows(summary)
    lines += ["", "Per event that took a site out (clients served by it just before, not after):"]
    if not rows:
        return lines + ["", "No event took a site out from any client."]
    lines += [
        "",
        *md_table(
            [
                "event",
                "method",
                "affected",
                "failed over",
                "median / worst (s)",
                "failing after 1 / 10 / 60 s",
                "lost",
                "given the dead address after 1 / 10 / 60 s",
                "window (s)",
                "connections lost; back median / worst (s)",
            ],
            rows,
        ),
    ]
    never = [
        f"{name} {client} ({f.kind} {f.site})"
        for name, m in r.methods.items()
        for f in m.failovers
        for client, c in f.affected.items()
        if c.failover_s is None
    ]
    if never:
        lines += ["", f"Never answered by another site in the window: {', '.join(never)}."]
    lines += _connections(summary)
    lines += _tail([(name, f) for name, m in r.methods.items() for f in m.failovers], r)
    return lines


def _streams_text(r: ResolutionSummary) -> str:
    """The sentence on the probe's long streams (empty when no method had any)."""
    if not any(m.streams is not None for m in r.methods.values()):
        return ""
    return (
        " Each client also keeps long TCP streams per method, resolving the name before "
        "every connection and again after a break: connections lost are those up on the "
        "failed site that broke; back is the first answer from a healthy site on a new "
        "connection."
    )


def connection_rows(summary: Summary) -> List[List[str]]:
    """Per event, method and client with a stream broken by the event: how its streams
    fared (``[event, method, client, resolver, broken, back after (s), failed reconnects]``)."""
    r = summary.resolution
    if r is None:
        return []
    rows: List[Tuple[int, int, str, List[str]]] = []
    for k, (name, m) in enumerate(r.methods.items()):
        for f in m.failovers:
            if f.connections is None:
                continue
            for client, c in f.connections.affected.items():
                if not c.broken:
                    continue
                settings = r.resolvers.get(client)
                resolver = fmt(settings.resolver if settings else None)
                if c.violating:
                    resolver += " (TTL violator)"
                tries = str(c.connect_failed)
                if c.dead_connects is not None:
                    tries += f" ({c.dead_connects} to the dead address)"
                row = [
                    f"{f.kind} {f.site} (t={fmt_s(f.t)} s)",
                    name,
                    client,
                    resolver,
                    f"{c.broken} of {c.streams}",
                    fmt_s(c.back_s) if c.back_s is not None else "never",
                    tries,
                ]
                rows.append((f.event, k, client, row))
    return [row for *_, row in sorted(rows, key=lambda x: (x[0], x[1], x[2]))]


def _connections(summary: Summary) -> List[str]:
    """The clients whose streams the events broke: when each was back, what it retried."""
    rows = connection_rows(summary)
    if not rows:
        return []
    return [
        "",
        "Long streams broken by the events (back: from the event to the first answer from "
        "a healthy site on a new connection, the slowest of the client's streams; failed "
        "reconnects: the connections that failed in between, each after a new lookup):",
        "",
        *md_table(
            [
                "event",
                "method",
                "client",
                "resolver",
                "streams broken",
                "back after (s)",
                "failed reconnects",
            ],
            rows,
        ),
    ]


def _drains_section(summary: Summary) -> List[str]:
    """``## Drains``: the ways a site was taken out of service, side by side."""
    rows = drains(summary)
    if not rows:
        return []
    return [
        "",
        "## Drains",
        "",
        "Each withdrawal with the steps on its site before it, from the first step to the "
        "next event: DNS queries lost (all clients, outage windows in that span), TCP streams "
        "reset, and the drain time from the first step to the last of the site's clients "
        "answered elsewhere.",
        "",
        *md_table(
            [
                "site",
                "way",
                "moved",
                "DNS lost",
                "longest DNS outage (s)",
                "TCP resets",
                "drain time (s)",
            ],
            rows,
        ),
    ]


def _parts_section(summary: Summary) -> List[str]:
    """``## Outages in parts``: each moved client's way from the event to its first answer."""
    rows = []
    for ev in summary.events:
        for client, p in sorted(ev.parts.items()):
            rows.append(
                [
                    event_label(ev),
                    client,
                    site_change(p.site_from, p.site_to),
                    fmt_s(p.detection_s),
                    fmt_s(p.control_plane_s),
                    fmt_s(p.fib_s),
                    fmt_s(p.sampling_s),
                    fmt_s(p.total_s),
                    fmt_s(p.outage_s),
                    fmt(p.detected_by),
                ]
            )
    if not rows:
        return []
    lines = ["", "## Outages in parts", ""]
    lines.append(
        "For every client an event moved: the event → the first daemon that declared the "
        "failure (its own log, ms) → the last route change on the client's path → its "
        "access router's route change (netlink) → the first answer from the new site. "
        "The outage window also holds the time from the last answer before the event."
        + _resolution(summary)
    )
    lines.append("")
    lines += md_table(
        [
            "event",
            "client",
            "site",
            "detection (s)",
            "control plane (s)",
            "FIB (s)",
            "sampling (s)",
            "to first answer (s)",
            "outage (s)",
            "detected by",
        ],
        rows,
    )
    return lines


def _policy_section(summary: Summary) -> List[str]:
    """``## Policy check``: the valley-free checks, violations, routers without a route."""
    if not summary.policy:
        return []
    lines = ["", "## Policy check", ""]
    lines.append(
        "Every valid path to the announced prefixes in every router's BGP table, judged "
        "against the declared relationships (up a chain of providers, at most one peer "
        "link, down a chain of customers)."
    )
    lines.append("")
    lines += md_table(
        ["when", "paths", "valley-free", "not judged", "violations"],
        [
            [p.phase, str(p.paths), str(p.ok), str(p.unknown), str(p.violation_count)]
            for p in summary.policy
        ],
    )
    listed = [(p.phase, v) for p in summary.policy for v in p.violations][:20]
    if listed:
        lines += [""] + md_table(
            ["when", "router", "prefix", "AS path", "why"],
            [[phase, v.router, v.prefix, v.as_path, v.reason] for phase, v in listed],
        )
    no_route = next((p.no_route for p in summary.policy if p.no_route), {})
    if no_route:
        lines += [
            "",
            "Routers without a route by valley-free export (as designed, not a fault):",
            "",
        ]
        lines += md_table(
            ["router", "no route to"], [[r, ", ".join(ps)] for r, ps in sorted(no_route.items())]
        )
    return lines


def _health_state(h: HealthEntry) -> str:
    """The state cell of a health record: ``up -> down`` for a change."""
    if isinstance(h, HealthState):
        return f"{fmt(h.previous)} -> {fmt(h.state)}"
    return fmt(getattr(h, "state", None))


def _health_section(summary: Summary) -> List[str]:
    """The "Health" section: every state change, late application and address removal."""
    records = summary.health
    if not records and not summary.health_agents:
        return []
    lines = ["", "## Health", ""]
    if not records:
        return lines + ["No health state changed."]
    rows = [
        [
            fmt_s(h.t),
            str(h.site or "-"),
            h.event,
            _health_state(h),
            fmt(getattr(h, "action", None)),
            fmt(getattr(h, "applied", None)),
            health_effect(h),
        ]
        for h in records
    ]
    return lines + md_table(
        ["t (s)", "site", "record", "state", "action", "applied", "effect"], rows
    )


def _captures(captures: Sequence[Capture]) -> List[str]:
    """The "Packet captures" section: which node's capture holds the sites' resets."""
    if not captures:
        return []
    lines = [
        "",
        "## Packet captures",
        "",
        "TCP resets sent from the service address, per capture (in `pcap/`; open one in "
        "Wireshark with the filter `tcp.flags.reset == 1` to see the reset itself).",
        "",
    ]
    rows = []
    for c in captures:
        if not c.readable:
            rows.append([f"`{c.file}`", c.node or "-", "unreadable", "-", "-"])
            continue
        to = ", ".join(f"{name} {n}" for name, n in c.to.items()) or "-"
        when = "-" if c.first_s is None else f"{fmt_s(c.first_s)} – {fmt_s(c.last_s)}"
        rows.append([f"`{c.file}`", c.node or "-", str(c.resets), to, when])
    return lines + md_table(["capture", "captured on", "resets", "sent to", "t (s)"], rows)


def pct(share: Optional[float]) -> str:
    """A share (0..1) as a percentage with one decimal, ``-`` for None."""
    return "-" if share is None else f"{100 * share:.1f}%"


def _pct_value(percent: Optional[float]) -> str:
    """A percentage (0..100) with two decimals, ``-`` for None."""
    return "-" if percent is None else f"{percent:.2f}%"


def _ms(ms: Optional[float]) -> str:
    return "-" if ms is None else f"{ms:.1f} ms"


def _rate(x: Optional[float]) -> str:
    """Packets/s: ``12,345``."""
    return "-" if x is None else f"{x:,.0f}"


def capacity_text(capacity: Optional[SiteCapacity]) -> str:
    """``2 Mbit/s (queue 50 ms), 1,000 packets/s``, or ``unlimited``."""
    if capacity is None:
        return "unlimited"
    return capacity_words(capacity.bandwidth, capacity.packets, capacity.queue)


def _catchment_section(summary: Summary) -> List[str]:
    """``## Catchment``: each site's share of the clients, by count and by weight, over time."""
    if not summary.catchment:
        return []
    rows = []
    for moment in summary.catchment:
        if moment.event is not None and moment.event < len(summary.events):
            ev = summary.events[moment.event]
            when = f"after {event_label(ev)} (t={fmt_s(moment.t)} s)"
        else:
            when = {"start": "start", "end": "end"}.get(moment.when, moment.when)
        for site, share in moment.sites.items():
            rows.append(
                [
                    when,
                    site,
                    str(share.clients),
                    pct(share.share),
                    f"{share.weight:g}",
                    pct(share.weight_share),
                ]
            )
        if moment.unanswered:
            rows.append(
                [
                    when,
                    "no answer",
                    str(len(moment.unanswered)),
                    pct(moment.unanswered_share),
                    "-",
                    pct(moment.unanswered_weight_share),
                ]
            )
    return [
        "",
        "## Catchment",
        "",
        "Each site's clients at the start, settled after each event, and at the end: by "
        "client count and by weight (the users a client stands for; 1 each unless the "
        "topology says otherwise).",
        "",
        *md_table(["when", "site", "clients", "share", "weight", "weight share"], rows),
    ]


def attack_line(load: LoadSummary) -> Optional[str]:
    """The attack in one line: sources, packets, when, achieved rate, where it landed."""
    attack = load.attack
    if attack is None:
        return None
    ases = sorted({s.as_ for s in attack.sources.values() if s.as_})
    where = f" in {', '.join(ases)}" if ases else ""
    kind = f" ({attack.kind})" if attack.kind else ""
    text = (
        f"Attack{kind}: {len(attack.sources)} sources{where} sent {attack.sent:,} packets "
        f"from t={fmt_s(attack.start)} to {fmt_s(attack.stop)} s ({attack.duration_s:g} s): "
        f"{_rate(attack.rate_pps)} packets/s achieved on average, peak {_rate(attack.peak_pps)}"
    )
    if attack.configured_pps is not None:
        text += f" (configured {_rate(attack.configured_pps)})"
    text += "."
    if attack.shares:
        landed = ", ".join(
            f"{s} {pct(x)}" for s, x in sorted(attack.shares.items(), key=lambda kv: -kv[1]) if x
        )
        text += f" In its first phase it landed on {landed or 'no site'}"
        text += f"; attacked catchment: {fmt(attack.attacked)}."
    else:
        text += " No load records: where it landed is unknown."
    return text


def cascade_line(load: LoadSummary) -> Optional[str]:
    """Whether a cascade happened: which site, after what, when."""
    if load.attack is None:
        return None
    if load.cascade is None:
        return "Cascade: unknown (no load records)."
    if not load.cascades:
        later = len(load.phases) > 1
        why = (
            "no site calm in the attack's first phase was overloaded after a later event"
            if later
            else "no event during the attack"
        )
        return f"No cascade: {why}."
    parts = [
        f"{c.site} overloaded from t={fmt_s(c.overloaded_at)} s after {c.after} "
        f"(t={fmt_s(c.t)} s), {c.overloaded_s:g} s in all"
        for c in load.cascades
    ]
    return "Cascade: " + "; ".join(parts) + "."


def _legit_row(name: str, group: Optional[LegitGroup]) -> List[str]:
    if group is None:
        return [name, "-", "-", "-", "-", "-", "-"]
    return [
        name,
        fmt(group.clients),
        f"{group.weight:g}",
        _pct_value(group.before.loss_pct),
        _pct_value(group.during.loss_pct),
        _ms(group.before.median_rtt_ms),
        _ms(group.during.median_rtt_ms),
    ]


def _load_section(summary: Summary) -> List[str]:
    """``## Load``: per-site load, the attack, legitimate service inside vs outside, cascades."""
    load = summary.load
    if load is None:
        return []
    lines = ["", "## Load", ""]
    if load.sites:
        lines.append(
            "Offered: everything the site's uplinks received, before its queue. The counters "
            "tell legitimate from attack packets only after the queue; a tail-drop queue and "
            "a policer are blind to the source, so the offered packets are split by those "
            "shares. Overloaded: offered above capacity, or drops above 1% of the offered, "
            "in a 0.25 s sample."
        )
        lines.append("")
        lines += md_table(
            [
                "site",
                "capacity",
                "peak offered (packets/s)",
                "peak (Mbit/s)",
                "mean (packets/s)",
                "overloaded (s)",
                "dropped",
                "legit / attack",
                "answered legit / attack",
                "share of the attack",
            ],
            [
                [
                    site,
                    capacity_text(s.capacity),
                    _rate(s.peak_pps),
                    f"{s.peak_mbps:.2f}",
                    _rate(s.mean_pps),
                    f"{s.overloaded_s:.2f}",
                    f"{s.dropped:,} ({pct(s.drop_share)})",
                    "-"
                    if s.attack_share is None
                    else f"{pct(1 - s.attack_share)} / {pct(s.attack_share)}",
                    f"{s.answered_legit:,} / {s.answered_attack:,}",
                    pct(s.attack_received),
                ]
                for site, s in sorted(load.sites.items())
            ],
        )
        per_server = [
            f"{server} {n:,}"
            for _site, s in sorted(load.sites.items())
            if len(s.served) > 1
            for server, n in s.served.items()
        ]
        if per_server:
            lines += ["", "DNS answers per server: " + ", ".join(per_server) + "."]
    else:
        lines.append("No load records (the run had no load recorder).")
    line = attack_line(load)
    if line is None:
        return lines + ["", "No attack."]
    lines += ["", line]
    lines += [
        "",
        "Legitimate DNS before and during the attack, inside and outside the attacked "
        "catchment (the clients whose site at the attack's start was attacked):",
        "",
    ]
    lines += md_table(
        [
            "clients",
            "who",
            "weight",
            "loss before",
            "loss during",
            "median RTT before",
            "median RTT during",
        ],
        [_legit_row("inside", load.inside), _legit_row("outside", load.outside)],
    )
    if load.phases:
        lines += [
            "",
            *md_table(
                ["phase", "from (s)", "to (s)", "overloaded sites (s)"],
                [
                    [
                        p.after,
                        fmt_s(p.start),
                        fmt_s(p.stop),
                        ", ".join(f"{s} {x:g}" for s, x in p.overloaded.items()) or "none",
                    ]
                    for p in load.phases
                ],
            ),
        ]
    cascade = cascade_line(load)
    if cascade:
        lines += ["", cascade]
    if load.clients:
        lines += [
            "",
            *md_table(
                [
                    "client",
                    "site at the attack",
                    "inside",
                    "weight",
                    "loss before",
                    "loss during",
                    "median RTT before",
                    "median RTT during",
                ],
                [
                    [
                        name,
                        fmt(c.site),
                        "yes" if c.inside else "no",
                        f"{c.weight:g}",
                        _pct_value(c.before.loss_pct),
                        _pct_value(c.during.loss_pct),
                        _ms(c.before.median_rtt_ms),
                        _ms(c.during.median_rtt_ms),
                    ]
                    for name, c in sorted(load.clients.items())
                ],
            ),
        ]
    return lines


def _expectation_rows(expect: Sequence[ExpectResult]) -> List[List[str]]:
    """``[verdict, check, detail]`` per expectation."""
    return [[verdict(e.passed), e.check or "-", e.detail or "-"] for e in expect]


def render_markdown(summary: SummaryLike, plots: Sequence[str] = ()) -> str:
    """The text of ``report.md``.

    Args:
        summary: the run's summary (or its JSON object).
        plots: file names under ``plots/`` to link (default: none; :func:`testbed.analysis.analyse`
            passes the ones it wrote).

    Returns:
        Markdown, ending with a newline; the same summary gives the same text.
    """
    summary = Summary.of(summary)
    title = summary.scenario or summary.topology or "run"
    lines = [f"# Report: {title}", ""]
    lines += _narrative(summary)
    if summary.caveats:
        lines += ["", "## Caveats", ""]
        lines += [f"- {c}" for c in summary.caveats]

    clients = summary.clients
    lines += ["", "## Clients", ""]
    if clients:
        if summary.probe_interval_s is not None:
            lines += [
                f"DNS outages are measured to within the probe's interval, "
                f"±{summary.probe_interval_s:g} s at each end "
                f"({1 / summary.probe_interval_s:g} queries/s).",
                "",
            ]
        lines += md_table(
            [
                "client",
                "site",
                "moved to",
                "DNS sent",
                "lost",
                "late",
                "outage (s)",
                "longest (s)",
                "TCP streams",
                "reset",
                "resets",
                "timed out",
                "survived",
                "reconnect (s)",
            ],
            [
                [
                    name,
                    site_change(c.site_before, c.site_after),
                    moved_to(summary, name),
                    str(c.dns.sent),
                    str(c.dns.lost),
                    str(c.dns.late),
                    fmt_s(c.dns.outage_s),
                    fmt_s(c.dns.max_outage_s),
                    str(c.tcp.streams),
                    str(c.tcp.reset),
                    str(c.tcp.reset_events),
                    str(c.tcp.timeout),
                    str(c.tcp.survived),
                    fmt([fmt_s(x) for x in c.tcp.reconnect_s]),
                ]
                for name, c in sorted(clients.items())
            ],
        )
    else:
        lines.append("No client records.")

    windows = [(name, w) for name, c in sorted(clients.items()) for w in c.dns.outages]
    lines += ["", "## DNS outage windows", ""]
    if windows:
        lines.append(
            "From the last answer received before the losses to the first answer received "
            "after them (answer times: send time + RTT)." + _resolution(summary)
        )
        lines.append("")
        lines += md_table(
            ["client", "start (s)", "end (s)", "duration (s)", "lost", "recovered"],
            [
                [
                    name,
                    fmt_s(w.start),
                    fmt_s(w.end),
                    fmt_s(w.duration),
                    str(w.lost),
                    "yes" if w.recovered else "no",
                ]
                for name, w in windows
            ],
        )
    else:
        lines.append("No query was lost.")

    breaks = [
        (name, kind, b)
        for name, c in sorted(clients.items())
        for kind, of_kind in (
            ("reset", c.tcp.resets),
            ("timeout", c.tcp.timeouts),
            ("eof", c.tcp.eofs),
        )
        for b in of_kind
    ]
    if breaks:
        breaks.sort(key=lambda x: (x[0], x[2].t, x[2].stream))
        lines += ["", "## TCP breaks", ""]
        lines += md_table(
            [
                "client",
                "stream",
                "t (s)",
                "fate",
                "site",
                "after event (s)",
                "reconnect (s)",
                "site after",
            ],
            [
                [
                    name,
                    str(b.stream),
                    fmt_s(b.t),
                    kind,
                    fmt(b.site),
                    fmt_s(b.after_event_s),
                    fmt_s(b.reconnect_s),
                    fmt(b.site_after),
                ]
                for name, kind, b in breaks
            ],
        )

    lines += ["", "## Events", ""]
    if summary.events:
        lines += md_table(
            ["t (s)", "event", "convergence (s)", "routers changed", "route changes", "moved"],
            [
                [
                    fmt_s(ev.t),
                    event_label(ev),
                    fmt_s(ev.convergence_s),
                    str(len(ev.routers_changed)),
                    str(ev.route_changes),
                    fmt(ev.moved),
                ]
                for ev in summary.events
            ],
        )
    else:
        lines.append("No events.")

    lines += _catchment_section(summary)

    lines += _load_section(summary)
    lines += _transport_section(summary)
    lines += _resolution_section(summary)

    lines += _drains_section(summary)

    lines += _parts_section(summary)

    lines += _policy_section(summary)

    lines += _health_section(summary)

    if summary.routers:
        lines += ["", "## Routers", ""]
        lines += md_table(
            ["router", "route changes", "slowest convergence (s)"],
            [
                [name, str(r.route_changes), fmt_s(r.convergence_s_max)]
                for name, r in sorted(summary.routers.items())
            ],
        )

    lines += _captures(summary.pcap)

    lines += ["", "## Expectations", ""]
    if summary.expect:
        rows = _expectation_rows(summary.expect)
        failed = sum(1 for r in rows if r[0] == "FAIL")
        passed = sum(1 for r in rows if r[0] == "PASS")
        unchecked = len(rows) - passed - failed
        lines.append(f"{passed} passed, {failed} failed, {unchecked} not checked.")
        lines.append("")
        lines += md_table(["result", "expectation", "detail"], rows)
    else:
        lines.append("None.")

    if plots:
        captions = dict(PLOTS)
        lines += ["", "## Plots", ""]
        for name in plots:
            caption = captions.get(name, name)
            lines.append(f"![{caption}](plots/{name})")
            lines.append("")
        lines.pop()
    return "\n".join(lines) + "\n"


def rich_tables(summary: SummaryLike) -> List[Table]:
    """Terminal tables: clients, events, health changes.

    Args:
        summary: the run's summary (or its JSON object).

    Returns:
        The clients table (with where each event moved a client), then the
        events table (if there are events), then the health table (if any
        health agent changed state).
    """
    summary = Summary.of(summary)
    clients = Table(title="clients")
    columns = ("client", "outage", "site", "moved to", "DNS lost", "TCP reset", "survived",
               "timed out")  # fmt: skip
    for col in columns:
        clients.add_column(
            col, justify="left" if col in ("client", "site", "moved to") else "right"
        )
    for name, c in sorted(summary.clients.items()):
        streams = c.tcp.streams
        outage = f"{fmt_s(c.dns.outage_s)} s"
        if any(not w.recovered for w in c.dns.outages):
            outage += " (not recovered)"
        clients.add_row(
            escape(name),
            outage,
            escape(site_change(c.site_before, c.site_after)),
            escape(moved_to(summary, name)),
            f"{c.dns.lost}/{c.dns.sent}",
            tcp_resets(c.tcp),
            f"{c.tcp.survived}/{streams}",
            f"{c.tcp.timeout}/{streams}",
        )
    tables = [clients]
    if summary.events:
        table = Table(title="events")
        for col in ("t", "event", "convergence", "routers", "route changes", "moved"):
            table.add_column(col, justify="left" if col in ("event", "moved") else "right")
        for ev in summary.events:
            conv = ev.convergence_s
            table.add_row(
                f"{fmt_s(ev.t)} s",
                escape(event_label(ev)),
                "-" if conv is None else f"{fmt_s(conv)} s",
                str(len(ev.routers_changed)),
                str(ev.route_changes),
                escape(fmt(ev.moved)),
            )
        tables.append(table)
    if summary.health:
        table = Table(title="health")
        for col in ("t", "change", "applied", "effect"):
            table.add_column(col, justify="right" if col == "t" else "left")
        for h in summary.health:
            table.add_row(
                f"{fmt_s(h.t)} s",
                escape(health_label(h)),
                escape(fmt(getattr(h, "applied", None))),
                escape(health_effect(h)),
            )
        tables.append(table)
    return tables


def load_lines(summary: SummaryLike) -> List[str]:
    """Terminal lines for the load: sites, attack, legitimate loss inside vs outside, cascade.

    None without a ``load`` block.
    """
    load = Summary.of(summary).load
    if load is None:
        return []
    if load.attack is None and all(s.capacity is None for s in load.sites.values()):
        return []  # no capacity, no attack: nothing a terminal line would teach
    lines = [
        f"load {site}: peak {_rate(s.peak_pps)} packets/s ({capacity_text(s.capacity)}), "
        f"overloaded {s.overloaded_s:g} s, dropped {s.dropped:,} ({pct(s.drop_share)}), "
        f"attack {pct(s.attack_share)} of its traffic"
        for site, s in sorted(load.sites.items())
    ]
    attack = attack_line(load)
    if attack:
        lines.append(attack)
    for name, group in (("inside", load.inside), ("outside", load.outside)):
        if group is not None and group.clients:
            lines.append(
                f"legitimate DNS {name} the attacked catchment ({len(group.clients)} clients): "
                f"loss {_pct_value(group.before.loss_pct)} before, "
                f"{_pct_value(group.during.loss_pct)} during; median RTT "
                f"{_ms(group.before.median_rtt_ms)} before, "
                f"{_ms(group.during.median_rtt_ms)} during"
            )
    cascade = cascade_line(load)
    if cascade:
        lines.append(cascade)
    return lines


def resolution_lines(summary: SummaryLike) -> List[str]:
    """Terminal lines for anycast versus GSLB: the service, then one line per method.

    ``anycast: 4 clients affected, failover median 0.402 s, worst 0.902 s; still
    failing 100.0% / 0.0% / - after 1 / 10 / 60 s; connections lost 4 of 4, back on a
    healthy site median 0.512 s, worst 0.804 s; nearest site 87.5% (7 of 8 clients)``
    (affected: served by a site just before an event took it out, pooled over the
    events; the connections only with the probe's long streams).  Empty without a
    ``resolution`` block.
    """
    r = Summary.of(summary).resolution
    if r is None or not r.methods:
        return []
    lines = [f"name resolution: {service_text(r) or '-'}"]
    for name, m in r.methods.items():
        f = m.failover
        if f is None or not f.clients:
            text = "no client affected by a site failure"
        else:
            never = _never(f.recovered, f.clients)
            median_ = (
                f"{fmt_s(f.failover_median_s)} s" if f.failover_median_s is not None else never
            )
            worst = f"{fmt_s(f.failover_worst_s)} s" if f.failover_worst_s is not None else never
            text = (
                f"{f.clients} client{'' if f.clients == 1 else 's'} affected, "
                f"failover median {median_}, worst {worst}; "
                f"still failing {failing_cell(f)} after 1 / 10 / 60 s"
            )
        c = m.connections
        if c is not None and c.streams:
            text += f"; connections lost {c.broken} of {c.streams}"
            if c.clients:
                never = _never(c.back, c.clients)
                med = f"{fmt_s(c.back_median_s)} s" if c.back_median_s is not None else never
                worst_ = f"{fmt_s(c.back_worst_s)} s" if c.back_worst_s is not None else never
                text += f", back on a healthy site median {med}, worst {worst_}"
        if m.steady.nearest_share is not None:
            text += f"; nearest site {nearest_cell(m)}"
        lines.append(f"{name}: {text}")
    return lines


def incident_lines(summary: SummaryLike) -> List[str]:
    """Terminal lines for the processes that died on their own and an early stop."""
    from testbed.analysis.summary import death_caveat, stop_caveat

    summary = Summary.of(summary)
    lines = [f"warning: {death_caveat(d)}" for d in summary.processes]
    if summary.stopped is not None:
        lines.append(f"warning: {stop_caveat(summary.stopped)}")
    return lines


def print_report(summary: SummaryLike, console: Optional[Console] = None) -> None:
    """Print the terminal tables and the network's convergence.

    Args:
        summary: the run's summary (or its JSON object, as :func:`testbed.analysis.analyse`
            returns it).
        console: where to print (default: a new rich Console on stdout).
    """
    summary = Summary.of(summary)
    console = console or Console()
    for table in rich_tables(summary):
        console.print(table)
    damping = damping_line(summary.dampening)
    lines = incident_lines(summary) + load_lines(summary) + resolution_lines(summary)
    for line in lines + ([damping] if damping else []):
        console.print(line, markup=False, highlight=False)
    net = summary.network
    if net.convergence_s_max is not None:
        console.print(
            f"control plane converged in {fmt_s(net.convergence_s_max)} s at worst "
            f"(max over {len(summary.routers)} routers), "
            f"{net.route_changes} route changes"
        )
    for label, passed, detail in ((e.check, e.passed, e.detail) for e in summary.expect):
        line = f"{verdict(passed)}  {label}" + (f": {detail}" if detail else "")
        console.print(line, markup=False, highlight=False)
