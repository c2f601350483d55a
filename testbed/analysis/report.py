"""Render a run's summary for people: ``report.md`` and tables for the terminal.

Both are pure functions of the summary dict (:mod:`testbed.analysis.summary`),
so the same summary always gives the same text.

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
    ("timeline.png", "DNS answers per client over time, by site; losses in red; events"),
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
        line += f", site speaker {summary['speaker']}"
    out = [line + "."]
    if summary.get("interrupted"):
        out.append(f"The run was interrupted ({summary['interrupted']}): figures cover what ran.")
    out.append(
        f"{len(clients)} clients, {len(summary.get('sites', []))} sites, "
        f"{len(summary.get('routers', {}))} routers, {len(events)} events."
    )
    out.append("")
    for ev in events:
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
        out.append(text)
    if events:
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
        closed = f", {eof} closed by the server" if eof else ""
        out.append(
            f"TCP: {streams} streams: {reset} reset, {timeout} timed out{closed}, "
            f"{survived} survived."
        )
    net = summary.get("network", {})
    if net.get("convergence_s_max") is not None:
        out.append(
            f"Control plane: slowest convergence {fmt_s(net['convergence_s_max'])} s after an "
            f"event (max over routers), {net.get('route_changes', 0)} route changes in all."
        )
    return out


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
                "DNS sent",
                "lost",
                "late",
                "outage (s)",
                "longest (s)",
                "TCP streams",
                "reset",
                "timed out",
                "survived",
                "reconnect (s)",
            ],
            [
                [
                    name,
                    site_change(c["site_before"], c["site_after"]),
                    str(c["dns"]["sent"]),
                    str(c["dns"]["lost"]),
                    str(c["dns"]["late"]),
                    fmt_s(c["dns"]["outage_s"]),
                    fmt_s(c["dns"]["max_outage_s"]),
                    str(c["tcp"]["streams"]),
                    str(c["tcp"]["reset"]),
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
            "From the last answered query before the losses to the first answered one after."
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
    """Terminal tables: one per client, one per event.

    Args:
        summary: the run's summary.

    Returns:
        The clients table, then the events table (if there are events).
    """
    clients = Table(title="clients")
    for col in ("client", "outage", "site", "DNS lost", "TCP reset", "survived", "timed out"):
        clients.add_column(col, justify="left" if col in ("client", "site") else "right")
    for name, c in sorted(summary.get("clients", {}).items()):
        streams = c["tcp"]["streams"]
        outage = f"{fmt_s(c['dns']['outage_s'])} s"
        if any(not w["recovered"] for w in c["dns"]["outages"]):
            outage += " (not recovered)"
        clients.add_row(
            escape(name),
            outage,
            escape(site_change(c["site_before"], c["site_after"])),
            f"{c['dns']['lost']}/{c['dns']['sent']}",
            f"{c['tcp']['reset']}/{streams}",
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
    return tables


def print_report(summary: Dict[str, Any], console: Optional[Console] = None) -> None:
    """Print the terminal tables and the network's convergence.

    Args:
        summary: the run's summary.
        console: where to print (default: a new rich Console on stdout).
    """
    console = console or Console()
    for table in rich_tables(summary):
        console.print(table)
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
