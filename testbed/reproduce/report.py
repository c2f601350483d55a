"""An experiment's verdict as ``report.md`` and as a table on the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Sequence

from rich.console import Console
from rich.table import Table

from testbed.reproduce.base import Experiment, Verdict

MARK = {True: "agrees", False: "DISAGREES", None: "shown"}


def headline(verdict: Verdict) -> str:
    """``AGREES``, ``DISAGREES`` or ``INCOMPLETE`` (nothing judged)."""
    judged = [f.passed for f in verdict.findings if f.passed is not None]
    if not judged:
        return "INCOMPLETE"
    return "AGREES" if all(judged) else "DISAGREES"


def render_markdown(
    exp: Experiment,
    verdict: Verdict,
    info: Dict[str, Any],
    plots: Sequence[Path],
) -> str:
    """The report of one experiment.

    Args:
        exp: the experiment.
        verdict: its findings and notes.
        info: ``mode`` (quick/full), ``runs``, ``done``, ``interrupted``, ``frr_version``.
        plots: PNGs, relative to the report's folder.

    Returns:
        Markdown text.
    """
    lines: List[str] = [
        f"# {exp.title}",
        "",
        f"**What the literature says.** {exp.claim}",
        "",
        f"Source: {exp.source}.",
        "",
        f"Measured on FRR {info.get('frr_version') or '?'}, {info.get('mode')} mode, "
        f"{info.get('done')}/{info.get('runs')} runs.",
        "",
        "| "
        + " | ".join(["case", "expected", "tolerance", "measured", *verdict.columns])
        + " | verdict |",
        "|---" * (5 + len(verdict.columns)) + "|",
    ]
    for f in verdict.findings:
        cells = [f.case, f.expected, f.tolerance or "-", f.measured]
        cells += [f.extra.get(c, "") for c in verdict.columns]
        lines.append("| " + " | ".join(cells) + f" | {MARK[f.passed]} |")
    lines += ["", f"**Verdict: {headline(verdict)}**", ""]
    if info.get("interrupted"):
        lines += [f"Stopped early ({info['interrupted']}): the verdict covers the runs done.", ""]
    if verdict.notes:
        lines += ["Notes:", ""] + [f"- {n}" for n in verdict.notes] + [""]
    for png in plots:
        lines += [f"![{png.stem}]({png.as_posix()})", ""]
    lines += [
        "Every run's figures are in `sweep.csv`, one row per run; each run's folder "
        "(records, summary.json, report.md, plots) is under `runs/`.",
        "",
    ]
    return "\n".join(lines)


def print_verdict(exp: Experiment, verdict: Verdict, console: Console) -> None:
    """The findings as a table, the notes, and the headline."""
    table = Table(title=exp.title, show_header=True, header_style="bold", box=None)
    heads = ["case", "expected (literature / standard)", "tolerance", "measured"]
    for col in (*heads, *verdict.columns, "verdict"):
        table.add_column(col)
    for f in verdict.findings:
        colour = {True: "green", False: "red", None: "dim"}[f.passed]
        extra = [f.extra.get(c, "") for c in verdict.columns]
        table.add_row(
            f.case, f.expected, f.tolerance or "-", f.measured, *extra,
            f"[{colour}]{MARK[f.passed]}[/]",
        )  # fmt: skip
    console.print(table)
    for note in verdict.notes:
        console.print(f"  note: {note}")
    head = headline(verdict)
    colour = {"AGREES": "green", "DISAGREES": "red"}.get(head, "yellow")
    console.print(f"[bold {colour}]{head}[/] with {exp.source}")
