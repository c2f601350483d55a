"""Side-by-side comparison of runs (e.g. ``blackhole`` against ``blackhole-healthcheck``).

Reads only each run folder's summary.json; renders a Markdown table and a
rich table with, per client and per run, the site before -> after, the DNS
outage and queries lost, and the TCP streams reset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Sequence

from rich.table import Table


def load_summaries(run_dirs: Sequence[Path]) -> List[Dict[str, Any]]:
    """The summary.json of every run folder, in order (:func:`testbed.runfolder.read_summary`).

    Raises:
        InputError: a folder has no readable summary.json of the right shape
            (the message names the file).
    """
    from testbed.runfolder import read_summary

    return [read_summary(run) for run in run_dirs]


def _label(summary: Dict[str, Any], run: Path) -> str:
    return str(summary.get("scenario") or Path(run).name)


def cells(summary: Dict[str, Any], client: str) -> List[str]:
    """The comparison cells of one client in one run: site, outage, lost, resets."""
    c = summary.get("clients", {}).get(client)
    if c is None:
        return ["-", "-", "-", "-"]
    before, after = str(c.get("site_before") or "-"), str(c.get("site_after") or "-")
    site = before if before == after else f"{before} -> {after}"
    dns, tcp = c.get("dns", {}), c.get("tcp", {})
    moved = any(
        isinstance(e.get("moved"), list) and client in e["moved"] for e in summary.get("events", [])
    )
    site += " (moved)" if moved and before == after else ""
    outage = dns.get("outage_s", 0)
    return [
        site,
        f"{outage:.2f} s" if _number(outage) else "-",
        f"{_count(dns.get('lost'))}/{_count(dns.get('sent'))}",
        f"{_count(tcp.get('reset'))}/{_count(tcp.get('streams'))}",
    ]


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _count(x: Any) -> str:
    """A count from a summary: 0 when absent, ``?`` when not a number."""
    if x is None:
        return "0"
    return str(x) if _number(x) else "?"


def _clients(summaries: Sequence[Dict[str, Any]]) -> List[str]:
    names: List[str] = []
    for s in summaries:
        names += [c for c in s.get("clients", {}) if c not in names]
    return sorted(names)


def render_markdown(summaries: Sequence[Dict[str, Any]], runs: Sequence[Path]) -> str:
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


def rich_table(summaries: Sequence[Dict[str, Any]], runs: Sequence[Path]) -> Table:
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
