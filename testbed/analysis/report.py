"""Render a run's summary for people: ``report.md`` and tables for the terminal.

Both are pure functions of the summary dict (:mod:`testbed.analysis.summary`),
so the same summary always gives the same text.  The narrative lists the
scenario's events and the health agents' state changes (``health[]``) in
time order, with who moved after each; a health change that moved none of
the site's clients and left them without answers -- MED demotion behind
different upstreams -- says so.  The agents' withdrawals at the end of the
run (``shutdown`` in ``health[]``) are shown as the shutdown drain, with no
client effect: the probes had stopped.

Expectations (``summary["expect"]``) are shown as given by the scenario
package; each entry is a dict, read leniently: its label is the first of
``name``, ``description``, ``expect``, ``check``; its result the first boolean
of ``passed``, ``ok``, ``pass`` (neither: shown as not checked); its detail
``detail``, ``actual`` or ``message``.  A plain string is a label.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from rich.console import Console
from rich.markup import escape
from rich.table import Table

#: The plots :mod:`testbed.analysis.plots` writes, with their captions.
PLOTS: Sequence[Tuple[str, str]] = (
    (
        "timeline.png",
        "DNS answers per client over time, by site; losses in red; events; health changes",
    ),
    ("tcp.png", "TCP stream lifelines by site; resets and timeouts"),
    ("routes.png", "route changes per router; events"),
    ("catchment.png", "each client's site at the start and after each event"),
)


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
        return ", ".join(f"{k}={v}" for k, v in sorted(x.items()))
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


def expectation(entry: Any) -> Tuple[str, Optional[bool], str]:
    """Read one expectation entry leniently.

    Args:
        entry: a dict (see the module docstring) or a string.

    Returns:
        (label, passed or None if not checked, detail).
    """
    if not isinstance(entry, dict):
        return str(entry), None, ""
    label = next(
        (str(entry[k]) for k in ("name", "description", "expect", "check") if k in entry),
        fmt(entry),
    )
    passed = next(
        (entry[k] for k in ("passed", "ok", "pass") if isinstance(entry.get(k), bool)), None
    )
    detail = next((fmt(entry[k]) for k in ("detail", "actual", "message") if k in entry), "")
    return label, passed, detail


def verdict(passed: Optional[bool]) -> str:
    """PASS, FAIL or ``-`` (not checked)."""
    return "-" if passed is None else ("PASS" if passed else "FAIL")


def site_change(before: Optional[str], after: Optional[str]) -> str:
    """``lon -> nyc``, or the one site if it did not change."""
    if before == after:
        return fmt(before)
    return f"{fmt(before)} -> {fmt(after)}"


def event_label(ev: Dict[str, Any]) -> str:
    """``fail_site lon (how=link-down)``."""
    text = " ".join(str(x) for x in (ev.get("kind"), ev.get("target")) if x)
    params = ev.get("params")
    return f"{text} ({fmt(params)})" if params else text or "-"


#: Said of a MED demotion that moved none of the dead site's clients.
MED_NOTE = (
    "MED is only compared between routes from the same neighbouring AS, so the demoted "
    "route still wins behind other upstreams: traffic stays on the dead site"
)
#: The effect of a health agent's withdrawal at the end of the run.
SHUTDOWN_NOTE = "shutdown drain after the probes stopped: no client effect measured"


def client_moves(summary: Dict[str, Any], client: str) -> List[Tuple[Any, str, str]]:
    """A client's moves at the scenario's events: ``(t, from, to)`` in time order.

    Args:
        summary: the run's summary (``events[].moves``).
        client: the client's name.

    Returns:
        One triple per event that moved the client.
    """
    out = []
    for ev in summary.get("events", []):
        move = (ev.get("moves") or {}).get(client)
        if isinstance(move, dict):
            out.append((ev.get("t"), str(move.get("from")), str(move.get("to"))))
    return out


def moved_to(summary: Dict[str, Any], client: str) -> str:
    """``nyc at 10.0 s, lon at 20.0 s``: where each event moved the client, ``-`` if none."""
    parts = [
        f"{to} at {t:.1f} s" if isinstance(t, (int, float)) else to
        for t, _, to in client_moves(summary, client)
    ]
    return ", ".join(parts) or "-"


def tcp_resets(tcp: Dict[str, Any]) -> str:
    """``2/2``: streams reset of streams, with the resets when more (``2/2 (6 resets)``)."""
    text = f"{tcp['reset']}/{tcp['streams']}"
    events = tcp.get("reset_events")
    if isinstance(events, int) and events > tcp["reset"]:
        text += f" ({events} resets)"
    return text


def health_label(h: Dict[str, Any]) -> str:
    """``health lon up -> down (withdraw)`` (``... at shutdown``), ``health lon: address ...``."""
    site = h.get("site", "?")
    if h.get("event") == "address":
        return f"health {site}: service address {'removed' if h.get('removed') else 'kept'}"
    if h.get("event") == "retry":
        return f"health {site} {h.get('state')} applied late ({h.get('action')})"
    text = f"health {site} {h.get('previous')} -> {h.get('state')} ({h.get('action')})"
    return f"{text} at shutdown" if h.get("shutdown") else text


def health_effect(h: Dict[str, Any]) -> str:
    """What a health record did: who moved, who stayed or went unanswered; the address."""
    if h.get("event") == "address":
        if not h.get("removed"):
            return h.get("error") or "no server"
        text = f"from {', '.join(h['removed'])}"
        if h.get("drain_s") is not None:
            text += f", {fmt_s(h['drain_s'])} s after the announcement changed"
        return text + (f"; {h['error']}" if h.get("error") else "")
    if h.get("event") == "retry":
        return f"applied: {fmt(h.get('applied'))}"
    if h.get("shutdown"):
        text = SHUTDOWN_NOTE
        return text + (f"; not applied: {h['error']}" if h.get("error") else "")
    parts = []
    moves = h.get("moves") or {}
    if moves:
        parts.append(
            "moved: "
            + ", ".join(f"{c} ({m['from']} -> {m['to']})" for c, m in sorted(moves.items()))
        )
    if h.get("stayed"):
        parts.append(f"still on {h.get('site')}: {', '.join(h['stayed'])}")
    if h.get("unanswered"):
        parts.append(f"no answer: {', '.join(h['unanswered'])}")
    if not parts:
        parts.append("no client changed site")
    if h.get("state") == "down" and h.get("action") == "med" and not moves and h.get("unanswered"):
        parts.append(MED_NOTE)
    if h.get("error"):
        parts.append(f"not applied: {h['error']}")
    return "; ".join(parts)


def _event_line(ev: Dict[str, Any]) -> str:
    text = f"- t={fmt_s(ev.get('t'))} s: {event_label(ev)}. "
    if ev.get("convergence_s") is None:
        text += "No route changed."
    else:
        text += (
            f"Routes converged in {fmt_s(ev['convergence_s'])} s "
            f"({len(ev.get('routers_changed', []))} routers, "
            f"{ev.get('route_changes', 0)} route changes)."
        )
    moves = ev.get("moves") or {}
    if moves:
        text += " Moved: " + ", ".join(
            f"{c} ({m['from']} -> {m['to']})" for c, m in sorted(moves.items())
        )
        text += "."
    else:
        text += " No client changed site."
    return text


def _health_line(h: Dict[str, Any]) -> str:
    text = f"- t={fmt_s(h.get('t'))} s: {health_label(h)}"
    effect = health_effect(h)
    if h.get("event") == "address":
        return f"{text} {effect}." if h.get("removed") else f"{text}: {effect}."
    if h.get("event") == "state":
        applied = fmt(h.get("applied"))
        why = ", ".join(h.get("failures") or []) or h.get("reason") or "-"
        text += f", applied: {applied}; because: {why}"
    return f"{text}. {effect[:1].upper()}{effect[1:]}."


def timeline(summary: Dict[str, Any]) -> List[Tuple[float, str]]:
    """The narrative's timeline: scenario events and health records, in time order.

    Args:
        summary: the run's summary.

    Returns:
        ``(t, line)`` pairs; at equal times events come before health records.
    """
    rows: List[Tuple[float, int, int, str]] = []
    for i, ev in enumerate(summary.get("events", [])):
        rows.append((float(ev.get("t") or 0.0), 0, i, _event_line(ev)))
    for i, h in enumerate(summary.get("health") or []):
        rows.append((float(h.get("t") or 0.0), 1, i, _health_line(h)))
    return [(t, line) for t, _, _, line in sorted(rows)]


def _narrative(summary: Dict[str, Any]) -> List[str]:
    clients = summary.get("clients", {})
    events = summary.get("events", [])
    what = []
    if summary.get("scenario"):
        what.append(f"Scenario **{summary['scenario']}**")
    else:
        what.append("A run without a scenario")
    if summary.get("topology"):
        what.append(f"on topology **{summary['topology']}**")
    line = " ".join(what) + f", {fmt_s(summary.get('duration'))} s"
    if summary.get("frr_version"):
        line += f", FRR {summary['frr_version']}"
    if summary.get("speaker"):
        line += f", site speaker {fmt(summary['speaker'])}"
    out = [line + "."]
    if summary.get("interrupted"):
        out.append(f"The run was interrupted ({summary['interrupted']}): figures cover what ran.")
    out.append(
        f"{len(clients)} clients, {len(summary.get('sites', []))} sites, "
        f"{len(summary.get('routers', {}))} routers, {len(events)} events."
    )
    agents = summary.get("health_agents") or {}
    if agents:
        out.append(
            "Health agents: "
            + "; ".join(
                f"{site} ({a.get('action')}, every {a.get('interval')} s, "
                f"fall {a.get('fall')}, rise {a.get('rise')})"
                for site, a in sorted(agents.items())
            )
            + "."
        )
    out.append("")
    lines = timeline(summary)
    out += [line for _, line in lines]
    if lines:
        out.append("")
    hit = {c: v["dns"] for c, v in clients.items() if v["dns"]["outages"]}
    if hit:
        worst = max(sorted(hit), key=lambda c: hit[c]["max_outage_s"] or 0)
        out.append(
            f"DNS: {len(hit)} of {len(clients)} clients lost queries; the longest outage "
            f"was {fmt_s(hit[worst]['max_outage_s'])} s ({worst})."
        )
        never = sorted(c for c, d in hit.items() if any(not w["recovered"] for w in d["outages"]))
        if never:
            out.append(f"Never recovered by the end of the run: {', '.join(never)}.")
    elif clients:
        out.append("DNS: no client lost a query.")
    streams = sum(v["tcp"]["streams"] for v in clients.values())
    if streams:
        reset = sum(v["tcp"]["reset"] for v in clients.values())
        timeout = sum(v["tcp"]["timeout"] for v in clients.values())
        survived = sum(v["tcp"]["survived"] for v in clients.values())
        eof = sum(v["tcp"].get("eof", 0) for v in clients.values())
        resets = sum(v["tcp"].get("reset_events", 0) for v in clients.values())
        closed = f", {eof} closed by the server" if eof else ""
        again = f" ({resets} resets in all)" if resets > reset else ""
        out.append(
            f"TCP: {streams} streams: {reset} reset{again}, {timeout} timed out{closed}, "
            f"{survived} survived."
        )
    net = summary.get("network", {})
    if net.get("convergence_s_max") is not None:
        out.append(
            f"Control plane: slowest convergence {fmt_s(net['convergence_s_max'])} s after an "
            f"event (max over routers), {net.get('route_changes', 0)} route changes in all."
        )
    return out


def _health_state(h: Dict[str, Any]) -> str:
    """The state cell of a health record: ``up -> down`` for a change."""
    if h.get("event") == "state":
        return f"{fmt(h.get('previous'))} -> {fmt(h.get('state'))}"
    return fmt(h.get("state"))


def _health_section(summary: Dict[str, Any]) -> List[str]:
    """The "Health" section: every state change, late application and address removal."""
    records = summary.get("health") or []
    if not records and not summary.get("health_agents"):
        return []
    lines = ["", "## Health", ""]
    if not records:
        return lines + ["No health state changed."]
    rows = [
        [
            fmt_s(h.get("t")),
            str(h.get("site", "-")),
            h.get("event", "-"),
            _health_state(h),
            fmt(h.get("action")),
            fmt(h.get("applied")),
            health_effect(h),
        ]
        for h in records
    ]
    return lines + md_table(
        ["t (s)", "site", "record", "state", "action", "applied", "effect"], rows
    )


def _captures(captures: Sequence[Dict[str, Any]]) -> List[str]:
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
        if not c.get("readable", True):
            rows.append([f"`{c['file']}`", c.get("node", "-"), "unreadable", "-", "-"])
            continue
        to = ", ".join(f"{name} {n}" for name, n in (c.get("to") or {}).items()) or "-"
        when = "-" if c.get("first_s") is None else f"{fmt_s(c['first_s'])} – {fmt_s(c['last_s'])}"
        rows.append([f"`{c['file']}`", str(c.get("node", "-")), str(c["resets"]), to, when])
    return lines + md_table(["capture", "captured on", "resets", "sent to", "t (s)"], rows)


def render_markdown(summary: Dict[str, Any], plots: Sequence[str] = ()) -> str:
    """The text of ``report.md``.

    Args:
        summary: the run's summary.
        plots: file names under ``plots/`` to link (default: none; :func:`testbed.analysis.analyse`
            passes the ones it wrote).

    Returns:
        Markdown, ending with a newline; the same summary gives the same text.
    """
    title = summary.get("scenario") or summary.get("topology") or "run"
    lines = [f"# Report: {title}", ""]
    lines += _narrative(summary)
    caveats = summary.get("caveats") or []
    if caveats:
        lines += ["", "## Caveats", ""]
        lines += [f"- {c}" for c in caveats]

    clients = summary.get("clients", {})
    lines += ["", "## Clients", ""]
    if clients:
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
                    site_change(c["site_before"], c["site_after"]),
                    moved_to(summary, name),
                    str(c["dns"]["sent"]),
                    str(c["dns"]["lost"]),
                    str(c["dns"]["late"]),
                    fmt_s(c["dns"]["outage_s"]),
                    fmt_s(c["dns"]["max_outage_s"]),
                    str(c["tcp"]["streams"]),
                    str(c["tcp"]["reset"]),
                    str(c["tcp"].get("reset_events", c["tcp"]["reset"])),
                    str(c["tcp"]["timeout"]),
                    str(c["tcp"]["survived"]),
                    fmt([fmt_s(x) for x in c["tcp"]["reconnect_s"]]),
                ]
                for name, c in sorted(clients.items())
            ],
        )
    else:
        lines.append("No client records.")

    windows = [(name, w) for name, c in sorted(clients.items()) for w in c["dns"]["outages"]]
    lines += ["", "## DNS outage windows", ""]
    if windows:
        lines.append(
            "From the last answer received before the losses to the first answer received "
            "after them (answer times: send time + RTT)."
        )
        lines.append("")
        lines += md_table(
            ["client", "start (s)", "end (s)", "duration (s)", "lost", "recovered"],
            [
                [
                    name,
                    fmt_s(w["start"]),
                    fmt_s(w["end"]),
                    fmt_s(w["duration"]),
                    str(w["lost"]),
                    "yes" if w["recovered"] else "no",
                ]
                for name, w in windows
            ],
        )
    else:
        lines.append("No query was lost.")

    breaks = [
        (name, kind, b)
        for name, c in sorted(clients.items())
        for kind, key in (("reset", "resets"), ("timeout", "timeouts"), ("eof", "eofs"))
        for b in c["tcp"].get(key, [])
    ]
    if breaks:
        breaks.sort(key=lambda x: (x[0], x[2]["t"], x[2]["stream"]))
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
                    str(b["stream"]),
                    fmt_s(b["t"]),
                    kind,
                    fmt(b["site"]),
                    fmt_s(b["after_event_s"]),
                    fmt_s(b.get("reconnect_s")),
                    fmt(b.get("site_after")),
                ]
                for name, kind, b in breaks
            ],
        )

    events = summary.get("events", [])
    lines += ["", "## Events", ""]
    if events:
        lines += md_table(
            ["t (s)", "event", "convergence (s)", "routers changed", "route changes", "moved"],
            [
                [
                    fmt_s(ev["t"]),
                    event_label(ev),
                    fmt_s(ev["convergence_s"]),
                    str(len(ev["routers_changed"])),
                    str(ev["route_changes"]),
                    fmt(ev["moved"]),
                ]
                for ev in events
            ],
        )
    else:
        lines.append("No events.")

    lines += _health_section(summary)

    routers = summary.get("routers", {})
    if routers:
        lines += ["", "## Routers", ""]
        lines += md_table(
            ["router", "route changes", "slowest convergence (s)"],
            [
                [name, str(r["route_changes"]), fmt_s(r["convergence_s_max"])]
                for name, r in sorted(routers.items())
            ],
        )

    lines += _captures(summary.get("pcap") or [])

    lines += ["", "## Expectations", ""]
    expect = summary.get("expect") or []
    if expect:
        rows = []
        for entry in expect:
            label, passed, detail = expectation(entry)
            rows.append([verdict(passed), label, detail or "-"])
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


def rich_tables(summary: Dict[str, Any]) -> List[Table]:
    """Terminal tables: clients, events, health changes.

    Args:
        summary: the run's summary.

    Returns:
        The clients table (with where each event moved a client), then the
        events table (if there are events), then the health table (if any
        health agent changed state).
    """
    clients = Table(title="clients")
    columns = ("client", "outage", "site", "moved to", "DNS lost", "TCP reset", "survived",
               "timed out")  # fmt: skip
    for col in columns:
        clients.add_column(
            col, justify="left" if col in ("client", "site", "moved to") else "right"
        )
    for name, c in sorted(summary.get("clients", {}).items()):
        streams = c["tcp"]["streams"]
        outage = f"{fmt_s(c['dns']['outage_s'])} s"
        if any(not w["recovered"] for w in c["dns"]["outages"]):
            outage += " (not recovered)"
        clients.add_row(
            escape(name),
            outage,
            escape(site_change(c["site_before"], c["site_after"])),
            escape(moved_to(summary, name)),
            f"{c['dns']['lost']}/{c['dns']['sent']}",
            tcp_resets(c["tcp"]),
            f"{c['tcp']['survived']}/{streams}",
            f"{c['tcp']['timeout']}/{streams}",
        )
    tables = [clients]
    events = summary.get("events", [])
    if events:
        table = Table(title="events")
        for col in ("t", "event", "convergence", "routers", "route changes", "moved"):
            table.add_column(col, justify="left" if col in ("event", "moved") else "right")
        for ev in events:
            conv = ev["convergence_s"]
            table.add_row(
                f"{fmt_s(ev['t'])} s",
                escape(event_label(ev)),
                "-" if conv is None else f"{fmt_s(conv)} s",
                str(len(ev["routers_changed"])),
                str(ev["route_changes"]),
                escape(fmt(ev["moved"])),
            )
        tables.append(table)
    health = summary.get("health") or []
    if health:
        table = Table(title="health")
        for col in ("t", "change", "applied", "effect"):
            table.add_column(col, justify="right" if col == "t" else "left")
        for h in health:
            table.add_row(
                f"{fmt_s(h.get('t'))} s",
                escape(health_label(h)),
                escape(fmt(h.get("applied"))),
                escape(health_effect(h)),
            )
        tables.append(table)
    return tables


def incident_lines(summary: Dict[str, Any]) -> List[str]:
    """Terminal lines for the processes that died on their own and an early stop."""
    from testbed.analysis.summary import death_caveat, stop_caveat

    lines = [f"warning: {death_caveat(d)}" for d in summary.get("processes") or []]
    if summary.get("stopped"):
        lines.append(f"warning: {stop_caveat(summary['stopped'])}")
    return lines


def print_report(summary: Dict[str, Any], console: Optional[Console] = None) -> None:
    """Print the terminal tables and the network's convergence.

    Args:
        summary: the run's summary.
        console: where to print (default: a new rich Console on stdout).
    """
    console = console or Console()
    for table in rich_tables(summary):
        console.print(table)
    for line in incident_lines(summary):
        console.print(line, markup=False, highlight=False)
    net = summary.get("network", {})
    if net.get("convergence_s_max") is not None:
        console.print(
            f"control plane converged in {fmt_s(net['convergence_s_max'])} s at worst "
            f"(max over {len(summary.get('routers', {}))} routers), "
            f"{net.get('route_changes', 0)} route changes"
        )
    for entry in summary.get("expect") or []:
        label, passed, detail = expectation(entry)
        line = f"{verdict(passed)}  {label}" + (f": {detail}" if detail else "")
        console.print(line, markup=False, highlight=False)
