"""``anycast-testbed shell``: a topology up with Mininet's CLI (vtysh, routes, sites)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from testbed import console as ui
from testbed import signals
from testbed.commands.options import out_dir_option
from testbed.commands.up import open_testbed
from testbed.net.bringup import bring_up


@click.command()
@click.argument("topology")
@click.option(
    "--script",
    type=click.Path(exists=True, dir_okay=False),
    help="Run these CLI commands instead of reading the terminal.",
)
@out_dir_option()
def shell(topology: str, script: Optional[str], out: Path) -> None:
    """Bring TOPOLOGY up and open the Mininet CLI, with vtysh, routes and sites."""
    from testbed.net.shell import TestbedCLI

    tb = open_testbed(topology, out)
    try:
        with ui.console.status(f"bringing up {tb.topo.name}..."):
            conv = bring_up(tb, sessions=False).convergence
        ui.console.print(
            f"{tb.topo.name}: BGP {'converged' if conv.converged else 'NOT converged'} "
            f"in {conv.seconds:.1f} s. Commands: vtysh ROUTER \\[cmd], routes, sites, "
            "and Mininet's (NODE cmd, net, links, exit)"
        )
        TestbedCLI(tb, script=script)
    except KeyboardInterrupt:
        ui.err_console.print("stopping")
    finally:
        with signals.shielded():
            tb.stop()
