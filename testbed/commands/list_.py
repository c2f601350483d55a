"""``anycast-testbed list``: the topologies and scenarios, one line each."""

from __future__ import annotations

from typing import Iterable, Tuple

import click
from rich.table import Table

from testbed import console as ui


@click.command("list")
def list_cmd() -> None:
    """List topologies and scenarios with a one-line description each."""
    from testbed.topology.load import list_topologies

    ui.console.print(_table("topologies", list_topologies()))
    try:
        from testbed.scenario.load import list_scenarios
    except ImportError:
        return
    ui.console.print(_table("scenarios", list_scenarios()))


def _table(title: str, rows: Iterable[Tuple[str, str]]) -> Table:
    """A two-column table: name and description."""
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("name")
    table.add_column("description")
    for name, desc in rows:
        table.add_row(name, desc)
    return table
