"""Helpers for integration tests: run the CLI, find FRR daemons."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, timeout: float = 180, **kwargs) -> subprocess.CompletedProcess:
    """Run the anycast-testbed CLI as a user would (``python -m testbed``)."""
    return subprocess.run(
        [sys.executable, "-m", "testbed", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=kwargs.pop("cwd", ROOT),
        **kwargs,
    )


def ctrl_c_enabled() -> None:
    """Popen ``preexec_fn``: let the child take Ctrl-C (SIGINT) whoever started the tests.

    A shell started in the background (``cmd &`` without job control) ignores
    SIGINT, every process under it inherits that, and Python keeps an ignored
    SIGINT ignored: a test that sends SIGINT would then wait in vain.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def frr_processes() -> List[int]:
    """PIDs of every FRR daemon on the machine that runs in a /run/frr pathspace."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].startswith(b"/usr/lib/frr/") and b"/run/frr/" in b" ".join(cmd):
                out.append(int(entry))
    return out
