"""Side-by-side comparison of runs (e.g. ``blackhole`` against ``blackhole-healthcheck``).

Reads only each run folder's summary.json (as :class:`~testbed.analysis.model.Summary`);
renders a Markdown table and a rich table with, per client and per run, the
site before -> after, the DNS outage and queries lost, and the TCP streams reset.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

from rich.table import Table

from testbed.analysis.model import Summary


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


def render_markdown(summaries: Sequence[Summary], runs: Sequence[Path]) -> str:
    """compare.md: one row per client, four columns per run."""
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
