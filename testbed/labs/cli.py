"""``anycast-testbed lab``: list the labs, start a working copy, check it.

``lab start N --student ID`` renders the student's variant of lab N into a
working copy (default ``./labN-slug``); ``lab check N`` runs the lab's
checker on it and prints one line per item (``--json`` for graders).  Exit
status of ``check``: 0 only if every item passed, 1 otherwise, 2 on bad input.
Instructors have one more command, documented in ``labs/solutions/README.md``
only and left out of ``--help``.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Optional

import click
from rich.table import Table
from rich.text import Text

from testbed.console import console, err_console
from testbed.errors import InputError
from testbed.labs.registry import LABS, Lab, get_lab

DIR_HELP = "The working copy (default: ./labN-SLUG in the current folder)."
STUDENT_HELP = (
    "Your student ID: it picks your variant of the lab. Without it: the reference "
    "variant, the same for everyone (for a demo in class)."
)
UP_HELP = (
    "Then run the lab's first command, the one printed as 'first:' (needs root): labs 1, "
    "2, 5 and 6 bring the starting network up with traffic until Ctrl-C (anycast-testbed up); "
    "labs 3 and 4 run the hand-out's scenario.yaml once (anycast-testbed run); lab 7 runs "
    "the playbook on the hand-out's network (anycast-testbed playbook)."
)


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


def first_command(item: Lab, dest: Path) -> str:
    """The lab's first command line for a working copy (what ``--up`` runs)."""
    return item.start.format(dir=shlex.quote(str(dest)))


def _make_copy(number: int, student: Optional[str], dest: Path, solution: bool, force: bool) -> Lab:
    from testbed.labs.variant import check_student, make_variant
    from testbed.labs.workcopy import render

    item = get_lab(number)
    variant = make_variant(number, check_student(student))
    render(item, variant, dest, solution=solution, force=force)
    return item


@lab.command("start")
@click.argument("number", type=int)
@click.option("--student", help=STUDENT_HELP)
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), help=DIR_HELP)
@click.option("--force", is_flag=True, help="Overwrite an existing working copy.")
@click.option("--up", is_flag=True, help=UP_HELP)
@click.pass_context
def start_cmd(
    ctx: click.Context,
    number: int,
    student: Optional[str],
    directory: Optional[Path],
    force: bool,
    up: bool,
) -> int:
    """Make a working copy of lab NUMBER for your variant, and say what to run first.

    With ``--up`` the exit status is that of the first command.
    """
    dest = directory or get_lab(number).default_dir()
    item = _make_copy(number, student, dest, False, force)
    who = f"student {student}" if student else "the reference variant (no --student)"
    say = lambda text: console.print(text, markup=False)  # noqa: E731  (names, paths: no markup)
    say(f"lab {number} ({item.title}), {who}: working copy in {dest}/")
    say(f"  read {dest}/README.md, then {dest}/TASK.md; you edit: {', '.join(item.edits)}")
    first = first_command(item, dest)
    say(f"  first: sudo {first}")
    check = f"anycast-testbed lab check {number}"
    if directory:
        check += f" --dir {shlex.quote(str(dest))}"
    say(f"  check: sudo {check}")
    return _run_first(ctx, first) if up else 0


def _run_first(ctx: click.Context, line: str) -> int:
    """Run one ``anycast-testbed ...`` command line inside this process; its exit status."""
    root = ctx.find_root().command
    argv = shlex.split(line)[1:]
    command = root.commands.get(argv[0]) if isinstance(root, click.Group) else None
    if command is None:
        raise InputError(f"cannot run {line!r} from here: run it yourself")
    with command.make_context(argv[0], argv[1:], parent=ctx.find_root()) as sub:
        code = command.invoke(sub)
    return code if isinstance(code, int) else 0


@lab.command("solution", hidden=True)
@click.argument("number", type=int)
@click.option("--student", help="The student ID whose variant to solve (none: the reference).")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an existing working copy.")
def solution_cmd(number: int, student: Optional[str], directory: Path, force: bool) -> None:
    """Instructors: a working copy with the solution of a student's variant (see labs/solutions)."""
    item = _make_copy(number, student, directory, True, force)
    who = f"student {student}" if student else "the reference variant"
    console.print(
        f"lab {number} ({item.title}) solution for {who} in {directory}/ (do not hand it out)",
        markup=False,
    )


@lab.command("check")
@click.argument("number", type=int)
@click.option("--student", help="Only check a working copy made for this student ID.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), help=DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for graders).")
def check_cmd(number: int, student: Optional[str], directory: Optional[Path], as_json: bool) -> int:
    """Check your working copy of lab NUMBER: one line per item, pass or fail, with hints.

    Runs what the lab needs (your topology or scenario, with short timers) and
    needs root for that; answers are graded together with that run. Exit
    status 0 only if every item passed.
    """
    from testbed import signals
    from testbed.labs.items import Report
    from testbed.labs.runner import LabContext, engine_runner
    from testbed.labs.variant import check_student
    from testbed.labs.workcopy import give_back, variant_of

    item = get_lab(number)
    dest = directory or item.default_dir()
    variant = variant_of(item, dest, check_student(student))
    if os.geteuid() == 0:
        signals.install()

    def say(line: str) -> None:
        if not as_json:
            err_console.print(Text(f"  {line}", style="dim"))

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
            console.print(Text(line, style=style))
    sys.stdout.flush()
    return 0 if report.passed else 1


def _needs_root(*_args: object) -> dict:
    raise InputError("running the network needs root: sudo anycast-testbed lab check ...")
