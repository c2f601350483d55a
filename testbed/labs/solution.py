"""``anycast-testbed lab solution``: the instructor solution of a student's variant.

Instructors only: documented in ``labs/solutions/README.md``, hidden from
``lab --help``.  The student build (``make student-dist``) leaves this module
and ``labs/solutions/`` out; :mod:`testbed.labs.cli` then answers the command
with one line saying so.

With ``--measure`` (root) it also makes the runs a measured answer needs and
writes their figures in, as a student would (lab 3: the link-down run), so
that ``lab check`` passes straight away.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from testbed.console import console
from testbed.labs.cli import SECRET_HELP, keys, run_line
from testbed.labs.measure import MEASURE
from testbed.labs.registry import get_lab
from testbed.labs.workcopy import make_copy


@click.command("solution", hidden=True)
@click.argument("number", type=int)
@click.option("--student", help="The student ID whose variant to solve (none: the reference).")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an existing working copy.")
@click.option("--course-secret", type=click.Path(dir_okay=False, path_type=Path), help=SECRET_HELP)
@click.option(
    "--measure",
    is_flag=True,
    help="Also make the runs the measured answers need and write their figures in (root).",
)
@click.pass_context
def solution_cmd(
    ctx: click.Context,
    number: int,
    student: Optional[str],
    directory: Path,
    force: bool,
    course_secret: Optional[Path],
    measure: bool,
) -> None:
    """Instructors: a working copy with the solution of a student's variant (see labs/solutions)."""
    item = get_lab(number)
    ring = keys(course_secret)
    variant = make_copy(item, student, directory, True, force, ring)
    who = f"student {student}" if student else "the reference variant"
    console.print(
        f"lab {number} ({item.title}) solution for {who} in {directory}/ (do not hand it out)",
        markup=False,
    )
    if measure and number in MEASURE:
        MEASURE[number](directory, variant, lambda line: run_line(ctx, line))
        console.print(f"  measured answers written in {directory}/answers.yaml", markup=False)
