"""``anycast-testbed lab``: list the labs, start a working copy, check it.

``lab start N --student ID`` renders the student's variant of lab N into a
working copy (default ``./labN-slug``); ``lab check N`` runs the lab's
checker on it and prints one line per item (``--json`` for graders).  Exit
status of ``check``: 0 only if every item passed, 1 otherwise, 2 on bad input.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Optional

import click
from rich.console import Console
from rich.table import Table

from testbed.errors import InputError
from testbed.labs.registry import LABS, get_lab

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

DIR_HELP = "The working copy (default: ./labN-SLUG in the current folder)."


@click.group("lab")
def lab() -> None:
    """Course labs: start a working copy for a student, check it automatically."""


@lab.command("list")
def list_cmd() -> None:
    """List the labs."""
    table = Table(show_header=True, header_style="bold", box=None)
    for col in ("lab", "title", "what you do", "you edit"):
        table.add_column(col)
    for item in LABS:
        table.add_row(str(item.number), item.title, item.summary, ", ".join(item.edits))
    console.print(table)
    console.print("start one with: anycast-testbed lab start N --student YOUR-ID")


@lab.command("start")
@click.argument("number", type=int)
@click.option("--student", help="Your student ID: it picks your variant of the lab.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), help=DIR_HELP)
@click.option("--force", is_flag=True, help="Overwrite an existing working copy.")
@click.option("--solution", is_flag=True, hidden=True, help="Instructors: the solution instead.")
@click.option("--up", is_flag=True, help="Then bring the lab's starting network up (root).")
@click.pass_context
def start_cmd(
    ctx: click.Context,
    number: int,
    student: Optional[str],
    directory: Optional[Path],
    force: bool,
    solution: bool,
    up: bool,
) -> None:
    """Make a working copy of lab NUMBER for your variant, and say what to run first."""
    from testbed.labs.variant import make_variant
    from testbed.labs.workcopy import render

    item = get_lab(number)
    dest = directory or item.default_dir()
    variant = make_variant(number, student)
    render(item, variant, dest, solution=solution, force=force)
    who = f"student {student}" if student else "the reference variant"
    console.print(f"lab {number} ({item.title}), {who}: working copy in {dest}/")
    console.print(
        f"  read {dest}/README.md, then {dest}/TASK.md; you edit: {', '.join(item.edits)}"
    )
    console.print(f"  first: sudo {item.start.format(dir=dest)}")
    check = f"anycast-testbed lab check {number}"
    if directory:
        check += f" --dir {dest}"
    console.print(f"  check: sudo {check}")
    if up:
        from testbed.cli import up as up_cmd

        ctx.invoke(up_cmd, topology=str(dest / "topology.yaml"), traffic=True, out=dest / "runs")


@lab.command("check")
@click.argument("number", type=int)
@click.option("--student", help="Only check a working copy made for this student ID.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), help=DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for graders).")
def check_cmd(number: int, student: Optional[str], directory: Optional[Path], as_json: bool) -> int:
    """Check your working copy of lab NUMBER: one line per item, pass or fail, with hints.

    Runs what the lab needs (your topology or scenario, with short timers) and
    needs root for that.  Exit status 0 only if every item passed.
    """
    from testbed import signals
    from testbed.labs.items import Report
    from testbed.labs.runner import LabContext, engine_runner
    from testbed.labs.workcopy import give_back, variant_of

    item = get_lab(number)
    dest = directory or item.default_dir()
    variant = variant_of(item, dest, student)
    if os.geteuid() == 0:
        signals.install()

    def say(line: str) -> None:
        if not as_json:
            err_console.print(f"[dim]  {line}[/]")

    run_dirs: list = []
    run = engine_runner((dest / "runs").resolve(), say, run_dirs)
    if os.geteuid() != 0:
        run = _needs_root
    ctx = LabContext(dest, variant, run, say, run_dirs)
    started = time.monotonic()
    items = item.checker()(ctx)
    report = Report(number, item.slug, variant.student, items, None, time.monotonic() - started)
    report.run_dir = run_dirs[-1] if run_dirs else None
    give_back(dest)
    if as_json:
        print(json.dumps(report.as_dict(), indent=1))
    else:
        for line in report.lines():
            style = "green" if line.startswith("PASS") else "red" if line.startswith("FAIL") else ""
            console.print(f"[{style}]{line}[/]" if style else line)
    sys.stdout.flush()
    return 0 if report.passed else 1


def _needs_root(*_args: object) -> dict:
    raise InputError("running the network needs root: sudo anycast-testbed lab check ...")
