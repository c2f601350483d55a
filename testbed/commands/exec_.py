"""``anycast-testbed exec`` and ``vtysh``: into a node of the running testbed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, List

import click

from testbed import console as ui
from testbed.commands.options import CONTEXT
from testbed.errors import InputError


def live_state() -> Any:
    """The running testbed's :class:`~testbed.net.state.State`.

    Raises:
        InputError: no testbed is up.
    """
    from testbed.net.state import load_state

    state = load_state()
    if state is None or not state.owner_alive():
        raise InputError("no testbed is up (start one with: anycast-testbed up TOPOLOGY)")
    return state


@click.command("exec", context_settings={"ignore_unknown_options": True, **CONTEXT})
@click.argument("node")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def exec_cmd(node: str, command: List[str]) -> None:
    """Run COMMAND inside NODE's namespace while a testbed is up.

    Example: anycast-testbed exec paris -- dig +short @192.0.2.53 CH TXT id.server
    """
    ui.require_root()
    state = live_state()
    pid = state.node_pid(node)
    if pid is None:
        known = ", ".join(sorted(state.nodes))
        raise InputError(f"no node {node!r} in the running testbed ({known})")
    argv = ["nsenter", f"--net=/proc/{pid}/ns/net", "--", *command]
    os.execvp(argv[0], argv)


@click.command()
@click.argument("router")
@click.option("-c", "--command", "commands", multiple=True, help="vtysh command (repeatable).")
def vtysh(router: str, commands: List[str]) -> None:
    """Open vtysh on ROUTER (or run -c commands) while a testbed is up."""
    from testbed.net.frr import vtysh_argv

    ui.require_root()
    state = live_state()
    if state.node_pid(router) is None or not Path(f"/run/frr/{router}").exists():
        raise InputError(f"no router {router!r} in the running testbed")
    argv = vtysh_argv(router, list(commands))
    os.execvp(argv[0], argv)
