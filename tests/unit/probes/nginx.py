"""nginx (``python -m testbed.services.http``) on 127.0.0.x for the process tests.

nginx's worker outlives a master killed with SIGKILL (what :class:`Procs`
does to what is left): every nginx started here is stopped with SIGTERM,
which takes its worker with it, before that.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

from testbed.services import http as service
from tests.unit.probes.helpers import Procs, wait_listening

needs_nginx = pytest.mark.skipif(not service.installed(), reason="nginx is not installed")


class Nginx:
    """Starts nginx through the service's wrapper; :meth:`stop_all` ends each with SIGTERM."""

    def __init__(self, procs: Procs) -> None:
        self.procs = procs
        self.started: List[subprocess.Popen] = []

    def start(
        self, folder: Path, port: int, unicast: Optional[str] = None, address: str = "127.0.0.1"
    ) -> subprocess.Popen:
        """nginx for site ``lon``, server ``lon-1``, listening when this returns."""
        args = ["--site", "lon", "--server", "lon-1", "--dir", str(folder),
                "--address", address, "--port", str(port)]  # fmt: skip
        if unicast:
            args += ["--unicast", unicast]
        p = self.procs.start("testbed.services.http", *args)
        self.started.append(p)
        wait_listening(port, p)
        return p

    def stop_all(self) -> None:
        """SIGTERM to every nginx still running (by PID), and wait for it."""
        for p in self.started:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGTERM)
                p.wait(timeout=10)


@pytest.fixture
def nginx(procs: Procs) -> Iterator[Nginx]:
    """nginx starter; every nginx stopped with SIGTERM at the end (before ``procs``' SIGKILLs)."""
    n = Nginx(procs)
    yield n
    n.stop_all()
