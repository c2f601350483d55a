"""Helpers for the process tests of probes and services: ports, processes, records."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from testbed.records import read_records

ROOT = Path(__file__).resolve().parents[3]

Records = List[Dict[str, Any]]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Procs:
    """Starts ``python -m MODULE`` processes; :meth:`cleanup` kills those still running."""

    def __init__(self) -> None:
        self.started: List[subprocess.Popen] = []

    def start(self, module: str, *args: str) -> subprocess.Popen:
        """Start ``python -m module args...`` in the project root (stderr captured)."""
        p = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.started.append(p)
        return p

    def cleanup(self) -> None:
        """SIGKILL every process started here that is still running (by PID)."""
        for p in self.started:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
            p.wait()
            if p.stderr is not None:
                p.stderr.close()


def read(path: Path) -> Records:
    """The records of a JSONL file ([] if it does not exist yet)."""
    return list(read_records(path)) if path.exists() else []


def wait_records(path: Path, predicate: Callable[[Records], bool], timeout: float = 5.0) -> Records:
    """Poll a JSONL file until ``predicate(records)`` holds.

    Returns:
        The records at that moment.

    Raises:
        AssertionError: the predicate did not hold within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        records = read(path)
        if predicate(records):
            return records
        if time.monotonic() > deadline:
            dump = "\n".join(str(r) for r in records[-30:])
            raise AssertionError(f"records in {path} never matched; last ones:\n{dump}")
        time.sleep(0.05)


def wait_listening(port: int, proc: Optional[subprocess.Popen] = None, timeout: float = 5.0):
    """Wait until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"server exited with {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing listens on port {port}") from None
            time.sleep(0.05)
