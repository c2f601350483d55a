"""``anycast-testbed lab solution``: the instructor solution of a student's variant.

Instructors only: documented in ``labs/solutions/README.md``, hidden from
``lab --help``.  The student build (``make student-dist``) leaves this module
and ``labs/solutions/`` out; :mod:`testbed.labs.cli` then answers the command
with one line saying so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from testbed.console import console
from testbed.labs.cli import SECRET_HELP, keys
from testbed.labs.registry import get_lab
from testbed.labs.workcopy import make_copy


@click.command("solution", hidden=True)
@click.argument("number", type=int)
@click.option("--student", help="The student ID whose variant to solve (none: the reference).")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an existing working copy.")
@click.option("--course-secret", type=click.Path(dir_okay=False, path_type=Path), help=SECRET_HELP)
def solution_cmd(
    number: int,
    student: Optional[str],
    directory: Path,
    force: bool,
    course_secret: Optional[Path],
) -> None:
    """Instructors: a working copy with the solution of a student's variant (see labs/solutions)."""
    item = get_lab(number)
    make_copy(item, student, directory, True, force, keys(course_secret))
    who = f"student {student}" if student else "the reference variant"
    console.print(
        f"lab {number} ({item.title}) solution for {who} in {directory}/ (do not hand it out)",
        markup=False,
    )
