"""A routing daemon's control command (vtysh, birdc): run with a deadline, errors in one line."""

from __future__ import annotations

import subprocess
from typing import List

from testbed.errors import TestbedError


def run_control(argv: List[str], tool: str, router: str, daemons: str, timeout: float) -> str:
    """Run a control command on a router; its standard output.

    Args:
        argv: the command line (the tool with its socket and commands).
        tool: its name for the messages (``vtysh``, ``birdc``).
        router: the router it talks to.
        daemons: what answers it, for the timeout's message (``its FRR daemons``).
        timeout: seconds it may take (a frozen daemon never answers).

    Raises:
        TestbedError: it failed, or did not answer within ``timeout``.
    """
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TestbedError(
            f"{tool} on {router} did not answer within {timeout:g} s "
            f"({daemons} frozen or overloaded?)"
        ) from None
    if proc.returncode != 0:
        raise TestbedError(f"{tool} on {router} failed: {(proc.stderr or proc.stdout).strip()}")
    return proc.stdout
