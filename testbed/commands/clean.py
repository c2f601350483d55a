"""``anycast-testbed clean``: what a killed testbed left, from its state file."""

from __future__ import annotations

import click

from testbed import console as ui
from testbed.errors import InputError


@click.command()
def clean() -> None:
    """Remove what a killed testbed left: only its own processes, namespaces and files."""
    from testbed.net.cleanup import clean as do_clean

    ui.require_root()
    try:
        counts = do_clean()
    except RuntimeError as exc:
        raise InputError(str(exc)) from None
    if counts is None:
        ui.console.print("nothing to clean: no testbed state left behind")
    else:
        ui.console.print(
            "cleaned: {processes} processes, {namespaces} namespaces, {dirs} directories".format(
                **counts
            )
        )
