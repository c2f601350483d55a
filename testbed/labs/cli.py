"""``anycast-testbed lab``: list the labs, start a working copy, check it.

``lab start N --student ID`` renders the student's variant of lab N into a
working copy (default ``./labN-slug``); ``lab check N`` runs the lab's
checker on it and prints one line per item (``--json`` for graders,
``--instructor-json FILE`` with the expected values, for instructors only).
``--course-secret FILE`` salts the variants and signs what the check trusts
(:mod:`testbed.labs.signing`).  Exit status of ``check``: 0 every item
passed, 1 an answer or file is wrong, 2 bad input, 3 the testbed failed
(check again), 4 a signed file was tampered with (:mod:`testbed.labs.items`).
``lab quiz N`` asks lab N's reasoning questions on a fresh random variant and grades
them (no root, nothing started: :mod:`testbed.labs.quiz`).
Instructors have one more command (:mod:`testbed.labs.solution`),
documented in ``labs/solutions/README.md`` only, left out of ``--help`` and
out of the student build (``make student-dist``).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import NoReturn, Optional

import click
from rich.table import Table
from rich.text import Text

from testbed.console import console, err_console, fail
from testbed.errors import InputError
from testbed.labs.registry import LABS, Lab, get_lab
from testbed.labs.signing import Keyring

DIR_HELP = "The working copy (default: ./labN-SLUG in the current folder)."
STUDENT_HELP = (
    "Your student ID: it picks your variant of the lab. Without it: the reference "
    "variant, the same for everyone (for a demo in class)."
)
SECRET_HELP = (
    "Instructors: the course secret (a file of at least 16 characters). It salts the "
    "variants (only its holders can compute one from a student ID) and signs the working "
    "copy and what the check trusts."
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


def keys(course_secret: Optional[Path]) -> Keyring:
    """The course secret (when given) and this install's key."""
    from testbed.labs.signing import install_key, keyring, read_course_secret

    course = read_course_secret(course_secret) if course_secret is not None else None
    return keyring(course, install_key())


def warn(line: str) -> None:
    """One warning line on stderr (stdout stays the report, or JSON)."""
    err_console.print(Text(line, style="yellow"))


@lab.command("start")
@click.argument("number", type=int)
@click.option("--student", help=STUDENT_HELP)
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), help=DIR_HELP)
@click.option("--force", is_flag=True, help="Overwrite an existing working copy.")
@click.option("--up", is_flag=True, help=UP_HELP)
@click.option("--course-secret", type=click.Path(dir_okay=False, path_type=Path), help=SECRET_HELP)
@click.pass_context
def start_cmd(
    ctx: click.Context,
    number: int,
    student: Optional[str],
    directory: Optional[Path],
    force: bool,
    up: bool,
    course_secret: Optional[Path],
) -> int:
    """Make a working copy of lab NUMBER for your variant, and say what to run first.

    With ``--up`` the exit status is that of the first command.
    """
    from testbed.labs.workcopy import GUESSABLE, make_copy

    item = get_lab(number)
    dest = directory or item.default_dir()
    ring = keys(course_secret)
    make_copy(item, student, dest, False, force, ring)
    if student and ring.course is None:
        warn(GUESSABLE)
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
    return run_line(ctx, first) if up else 0


def run_line(ctx: click.Context, line: str) -> int:
    """Run one ``anycast-testbed ...`` command line inside this process; its exit status."""
    root = ctx.find_root().command
    argv = shlex.split(line)[1:]
    command = root.commands.get(argv[0]) if isinstance(root, click.Group) else None
    if command is None:
        raise InputError(f"cannot run {line!r} from here: run it yourself")
    with command.make_context(argv[0], argv[1:], parent=ctx.find_root()) as sub:
        code = command.invoke(sub)
    return code if isinstance(code, int) else 0


@lab.command("check")
@click.argument("number", type=int)
@click.option("--student", help="Only check a working copy made for this student ID.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), help=DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for graders).")
@click.option("--course-secret", type=click.Path(dir_okay=False, path_type=Path), help=SECRET_HELP)
@click.option(
    "--instructor-json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Instructors (needs --course-secret): also write per item the expected and actual "
    "value, points and pass/fail to this file.",
)
def check_cmd(
    number: int,
    student: Optional[str],
    directory: Optional[Path],
    as_json: bool,
    course_secret: Optional[Path],
    instructor_json: Optional[Path],
) -> int:
    """Check your working copy of lab NUMBER: one line per item, pass or fail, with hints.

    Runs what the lab needs (your topology or scenario, with short timers) and
    needs root for that; answers are graded together with that run, and the
    answers of the first such check are the ones graded (later changes are
    reported). Exit status: 0 every item passed, 1 something is wrong, 2 bad
    input, 3 the testbed failed (check again), 4 a signed file was tampered with.
    """
    from testbed import signals
    from testbed.labs.checking import check_copy
    from testbed.labs.items import TAMPERED
    from testbed.labs.runner import engine_runner
    from testbed.labs.signing import Tampered
    from testbed.labs.variant import check_student

    if instructor_json is not None and course_secret is None:
        raise InputError(
            "needs --course-secret (the expected values are the answers)", "--instructor-json"
        )
    item = get_lab(number)
    dest = directory or item.default_dir()
    ring = keys(course_secret)
    if os.geteuid() == 0:
        signals.install()

    def say(line: str) -> None:
        if not as_json:
            err_console.print(Text(f"  {line}", style="dim"))

    run_dirs: list = []
    run = engine_runner((dest / "runs").resolve(), say, run_dirs, ring.signer)
    if os.geteuid() != 0:
        run = _needs_root
    try:
        checked = check_copy(item, dest, check_student(student), ring, run, say, run_dirs)
    except Tampered as exc:
        give_back(dest)
        fail(str(exc))
        return TAMPERED
    give_back(dest)
    for note in checked.copy.notes:
        warn(note)
    report = checked.report
    if instructor_json is not None:
        _write_json(instructor_json, checked.instructor())
    if as_json:
        print(json.dumps(report.as_dict(), indent=1))
    else:
        for line in report.lines():
            style = "green" if line.startswith("PASS") else "red" if line.startswith("FAIL") else ""
            console.print(Text(line, style=style))
    sys.stdout.flush()
    return report.status()


def give_back(dest: Path) -> None:
    """Under sudo, the working copy's files back to the user."""
    from testbed.labs.workcopy import give_back as back

    back(dest)


def _write_json(path: Path, data: dict) -> None:
    try:
        path.write_text(json.dumps(data, indent=1) + "\n")
    except OSError as exc:
        raise InputError(f"cannot write it ({exc.strerror or exc})", str(path)) from None


def _needs_root(*_args: object) -> NoReturn:
    raise InputError("running the network needs root: sudo anycast-testbed lab check ...")


def _add_solution_command() -> None:
    """The instructors' ``lab solution``, or in a student build a stub that says it is absent."""
    try:
        from testbed.labs.solution import solution_cmd
    except ModuleNotFoundError as exc:
        if exc.name != "testbed.labs.solution":
            raise
        lab.add_command(_no_solution)
        return
    lab.add_command(solution_cmd)


@click.command(
    "solution",
    hidden=True,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
def _no_solution() -> None:
    """Not in a student build."""
    raise InputError("this is a student build: it has no instructor solutions", "lab solution")


_add_solution_command()


def _add_quiz_command() -> None:
    """``lab quiz``: the lab's reasoning questions on a random variant (no root)."""
    from testbed.labs.quiz import quiz_cmd

    lab.add_command(quiz_cmd)


_add_quiz_command()
