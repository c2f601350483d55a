"""Talk to a running site speaker over its control socket (one JSON line each way).

Commands: ``announce``, ``withdraw``, ``med`` (``value``: a MED, or null to
remove it) and ``status``.  The testbed's events and the health agent use
:func:`send`.  ``announce`` and ``withdraw`` concern the anycast prefix: a
site's own unicast prefix (the speakers' ``--unicast``, :func:`prefix_arg`)
stays announced for as long as the speaker runs.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
from pathlib import Path
from typing import Any, Dict

from testbed.errors import TestbedError


def prefix_arg(value: str) -> str:
    """argparse type of the speaker processes: an IPv4 prefix (``100.66.0.0/24``)."""
    try:
        return str(ipaddress.IPv4Network(value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid IPv4 prefix {value!r}") from None


def send(path: Path, command: str, timeout: float = 5.0, **args: Any) -> Dict[str, Any]:
    """Send one command to the speaker listening on ``path`` and return its answer.

    Args:
        path: the speaker's control socket.
        command: ``announce``, ``withdraw``, ``med`` or ``status``.
        timeout: seconds to wait for the answer.
        **args: the command's arguments (``value`` for ``med``).

    Returns:
        The speaker's answer (``{"ok": true, ...}``).

    Raises:
        TestbedError: the speaker does not answer, or refuses the command.
    """
    request = json.dumps({"cmd": command, **args}).encode() + b"\n"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(request)
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError as exc:
        raise TestbedError(f"speaker at {path} does not answer: {exc}") from None
    try:
        answer = json.loads(data)
    except ValueError:
        raise TestbedError(f"speaker at {path}: bad answer {data[:80]!r}") from None
    if not answer.get("ok"):
        raise TestbedError(f"speaker at {path} refused {command}: {answer.get('error')}")
    return answer
