"""Side-by-side comparison of runs (e.g. ``blackhole`` against ``blackhole-healthcheck``).

Reads only each run folder's summary.json (as :class:`~testbed.analysis.model.Summary`);
renders a Markdown table and a rich table with, per client and per run, the
site before -> after, the DNS outage and queries lost, and the TCP streams reset.
When some run has resolution figures (``resolution``: anycast versus GSLB), a
second table gives them per publishing method, one column per run
(:func:`resolution_rows`): the service's settings, the affected clients'
failover median and worst, the share still failing 1, 10 and 60 s after the
event, GSLB's clients still given the dead site's address, the queries lost,
the connections lost and when they were back (when some run had the
``resolve`` probe's long streams), the steady state's share on the nearest site.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

from rich.table import Table

from testbed.analysis.model import MethodSummary, Summary
from testbed.analysis.report import (
    connections_cell,
    dead_address_cell,
    failing_cell,
    failover_cell,
    nearest_cell,
    service_text,
)
from testbed.analysis.resolution import method_order


def load_summaries(run_dirs: Sequence[Path]) -> List[Summary]:
    """The summary.json of every run folder, in order (:func:`testbed.runfolder.read_summary`).

    Raises:
        InputError: a folder has no readable summary.json of the right shape
            (the message names the file).
    """
    from testbed.runfolder import read_summary

    return [read_summary(run) for run in run_dirs]


def _label(summary: Summary, run: Path) -> str:
    return str(summary.scenario or Path(run).name)


def cells(summary: Summary, client: str) -> List[str]:
    """The comparison cells of one client in one run: site, outage, lost, resets."""
    c = summary.clients.get(client)
    if c is None:
        return ["-", "-", "-", "-"]
    before, after = c.site_before or "-", c.site_after or "-"
    site = before if before == after else f"{before} -> {after}"
    moved = any(client in e.moved for e in summary.events)
    site += " (moved)" if moved and before == after else ""
    return [
        site,
        f"{c.dns.outage_s:.2f} s",
        f"{c.dns.lost}/{c.dns.sent}",
        f"{c.tcp.reset}/{c.tcp.streams}",
    ]


def _clients(summaries: Sequence[Summary]) -> List[str]:
    names: List[str] = []
    for s in summaries:
        names += [c for c in s.clients if c not in names]
    return sorted(names)


#: The resolution figures of a method: (row label, its cell from the method's figures).
METHOD_ROWS: Tuple[Tuple[str, Callable[[MethodSummary], str]], ...] = (
    ("failover median / worst (s)", lambda m: failover_cell(m.failover)),
    ("still failing after 1 / 10 / 60 s", lambda m: failing_cell(m.failover)),
    ("given the dead address after 1 / 10 / 60 s", lambda m: dead_address_cell(m.failover)),
    ("queries lost", lambda m: f"{m.lost:,} of {m.queries:,}"),
    (
        "connections lost; back median / worst (s)",
        lambda m: connections_cell(m.connections, m.streams is not None),
    ),
    ("nearest site", nearest_cell),
)
#: The rows of :data:`METHOD_ROWS` given for ``gslb`` only (others' answer is the anycast address).
GSLB_ONLY = ("given the dead address after 1 / 10 / 60 s",)
#: The rows given only when some run's method had the ``resolve`` probe's long streams.
STREAMS_ONLY = ("connections lost; back median / worst (s)",)


def resolution_rows(summaries: Sequence[Summary]) -> List[List[str]]:
    """Anycast versus GSLB per run: ``[figure, cell per run]``; empty when no run has any.

    The first row is the service (publish, TTL, health checks), then per method
    (``anycast``, ``gslb``, then any other) its figures; a run without the
    method has ``-``.
    """
    resolutions = [s.resolution for s in summaries]
    if not any(r is not None and r.methods for r in resolutions):
        return []
    rows = [["service", *[(service_text(r) or "-") if r else "-" for r in resolutions]]]
    methods = method_order({m for r in resolutions if r is not None for m in r.methods})
    for method in methods:
        found = [r.methods.get(method) if r is not None else None for r in resolutions]
        streams = any(m is not None and m.streams is not None for m in found)
        for figure, cell in METHOD_ROWS:
            if figure in GSLB_ONLY and method != "gslb":
                continue
            if figure in STREAMS_ONLY and not streams:
                continue
            rows.append([f"{method}: {figure}", *[cell(m) if m else "-" for m in found]])
    return rows


def render_markdown(summaries: Sequence[Summary], runs: Sequence[Path]) -> str:
    """compare.md: one row per client, four columns per run; then the resolution figures."""
    labels = [_label(s, r) for s, r in zip(summaries, runs, strict=True)]
    head = ["client"]
    for label in labels:
        head += [f"{label}: site", "outage", "DNS lost", "TCP reset"]
    lines = [f"# Comparison: {' vs '.join(labels)}", ""]
    lines += [f"- {label}: `{run}`" for label, run in zip(labels, runs, strict=True)]
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for client in _clients(summaries):
        row = [client]
        for s in summaries:
            row += cells(s, client)
        lines.append("| " + " | ".join(row) + " |")
    rows = resolution_rows(summaries)
    if rows:
        lines += ["", "## Anycast versus GSLB", ""]
        lines += ["| " + " | ".join(["figure", *labels]) + " |", "|" + "---|" * (len(labels) + 1)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines.append("")
    return "\n".join(lines)


def rich_table(summaries: Sequence[Summary], runs: Sequence[Path]) -> Table:
    """The same comparison for the terminal."""
    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("client")
    for s, r in zip(summaries, runs, strict=True):
        label = _label(s, r)
        for col in ("site", "outage", "DNS lost", "TCP reset"):
            table.add_column(f"{label}\n{col}" if col == "site" else col)
    for client in _clients(summaries):
        row = [client]
        for s in summaries:
            row += cells(s, client)
        table.add_row(*row)
    return table


def resolution_table(summaries: Sequence[Summary], runs: Sequence[Path]) -> Optional[Table]:
    """The resolution figures for the terminal, a column per run; None when no run has any."""
    rows = resolution_rows(summaries)
    if not rows:
        return None
    table = Table(show_header=True, header_style="bold", box=None, title="anycast versus GSLB")
    table.add_column("figure")
    for s, r in zip(summaries, runs, strict=True):
        table.add_column(_label(s, r))
    for row in rows:
        table.add_row(*row)
    return table
