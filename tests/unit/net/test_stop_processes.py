"""Teardown's signals: SIGTERM with a grace, or SIGKILL alone for a routing daemon."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from testbed.net.cleanup import stop_processes
from testbed.net.state import Tracked, proc_start_time

# writes "term" to the file on SIGTERM and exits; otherwise sleeps
ON_TERM = """
import signal, sys, time
path = sys.argv[1]
def on_term(*_):
    open(path, "w").write("term")
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
open(path + ".ready", "w").write("")
time.sleep(60)
"""


def started(tmp_path: Path, name: str, daemon: bool) -> tuple[Tracked, Path]:
    """A child that records SIGTERM in a file, reaped by a thread as it exits."""
    marker = tmp_path / name
    proc = subprocess.Popen([sys.executable, "-c", ON_TERM, str(marker)])
    threading.Thread(target=proc.wait, daemon=True).start()  # no zombie left "alive"
    deadline = time.monotonic() + 30
    while not Path(f"{marker}.ready").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return Tracked("r1", name, proc.pid, proc_start_time(proc.pid), daemon=daemon), marker


def test_a_process_gets_sigterm_and_exits_its_own_way(tmp_path: Path) -> None:
    proc, marker = started(tmp_path, "probe", daemon=False)
    assert stop_processes([proc], grace=10) == 0
    assert not proc.alive()
    assert marker.read_text() == "term"


def test_a_routing_daemon_gets_sigkill_alone(tmp_path: Path) -> None:
    proc, marker = started(tmp_path, "bgpd", daemon=True)
    assert stop_processes([proc], grace=10) == 0
    assert not proc.alive()
    assert not marker.exists()  # never saw SIGTERM


def test_the_daemon_mark_is_kept_in_the_state_file(tmp_path: Path) -> None:
    from dataclasses import asdict

    tracked = Tracked("r1", "bgpd", 1, 2, daemon=True)
    assert Tracked(**asdict(tracked)).daemon
    assert not Tracked(**{k: v for k, v in asdict(tracked).items() if k != "daemon"}).daemon
