"""``anycast-testbed validate``: check files as ``up`` and ``run`` would, starting nothing."""

from __future__ import annotations

from typing import List, Optional

import click

from testbed import console as ui
from testbed.commands.options import sets_option, topology_option
from testbed.errors import InputError


@click.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@sets_option("Override a scenario or topology parameter of every scenario, as `run --set`.")
@topology_option("Check every scenario on this topology, as `run --topology`.")
def validate(files: List[str], sets: List[str], topology: Optional[str]) -> int:
    """Check topologies and scenarios as `up` and `run` do, starting nothing (no root).

    FILE is a YAML or Python file, a name from `list` (a name that is both a
    topology and a scenario must be given as a path), or a generator such as
    chain:5.  One line per file: `ok FILE: ...` with what it holds, or the
    error `up` or `run` would print; warnings follow on their own lines.
    Exit status: 0 every file is valid, 2 otherwise.
    """
    from testbed.checkfile import check_file

    bad = 0
    for ref in files:
        try:
            check = check_file(ref, sets, topology)
        except InputError as exc:
            bad += 1
            ui.say(str(exc), err=True)
            continue
        ui.say(check.line())
        for warning in check.warnings:
            ui.say(f"warning: {warning}", err=True)
    return 2 if bad else 0
