"""Every exit path leaves no namespace, process, interface or directory behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testbed.errors import TestbedError
from testbed.net.build import Testbed
from testbed.net.state import STATE_FILE, load_state
from testbed.topology.load import load_topology, parse_topology
from tests.integration.helpers import ROOT, cli, ctrl_c_enabled, frr_processes


def root_links() -> set:
    return set(os.listdir("/sys/class/net"))


def assert_clean(before_links: set, state) -> None:
    """Nothing of ``state`` is left: processes, namespaces, FRR dirs, interfaces."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = [p for p in state.processes if p.alive()] + [
            n for n in state.nodes.values() if n.alive()
        ]
        if not left:
            break
        time.sleep(0.1)
    assert not left, left
    for d in state.dirs:
        assert not Path(d).exists(), d
    assert root_links() == before_links
    assert not STATE_FILE.exists()
    assert frr_processes() == []


def wait_for_state(proc, timeout=60.0):
    """Wait until the CLI in ``proc`` has brought its testbed up and converged."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = load_state()
        if state and state.owner == proc.pid and len(state.processes) > 0:
            line = proc.stdout.readline()  # the summary line is printed after convergence
            if "converged" in line:
                return state
        time.sleep(0.1)
    raise AssertionError("the testbed did not come up")


def test_normal_exit(tmp_path):
    before = root_links()
    with Testbed(load_topology("two-sites"), tmp_path) as tb:
        assert tb.wait_converged(timeout=60).converged
        state = load_state()
        assert len(state.processes) == 6 * 2  # zebra and bgpd per router
        assert len(state.nodes) == 10
    assert_clean(before, state)
    assert (tmp_path / "routers" / "ta" / "frr.log").stat().st_size > 0


def test_exception_inside_the_block(tmp_path):
    before = root_links()
    with pytest.raises(RuntimeError, match="boom"), Testbed(load_topology("two-sites"), tmp_path):
        state = load_state()
        raise RuntimeError("boom")
    assert_clean(before, state)


@pytest.mark.parametrize("daemon", ["frr", "bird"])
def test_failure_during_start(tmp_path, monkeypatch, daemon):
    """A router's daemon (FRR, or BIRD on a BIRD AS) failing to start on one router:
    everything already started is undone."""
    from testbed.net import bird, frr

    before = root_links()
    data = load_topology("two-sites").model_dump(mode="json", by_alias=True)
    if daemon == "bird":
        for asys in data["ases"]:
            if asys["name"] in ("ta", "tb"):
                asys["daemon"] = "bird"
        real_argv = bird.daemon_argv
        monkeypatch.setattr(
            bird, "daemon_argv", lambda r, *a: real_argv(r, *a) if r != "tb" else ["false"]
        )
    else:
        real = frr.start_command
        monkeypatch.setattr(frr, "start_command", lambda r: real(r) if r.name != "tb" else "false")
    seen = {}

    def spy(self, configs, real_start=Testbed._start_daemons):
        seen["state"] = load_state()
        return real_start(self, configs)

    monkeypatch.setattr(Testbed, "_start_daemons", spy)
    with (
        pytest.raises(TestbedError, match=f"{daemon.upper()} failed to start on tb"),
        Testbed(parse_topology(data, "two-sites"), tmp_path),
    ):
        pass
    assert_clean(before, seen["state"])


def wait_or_dump(proc, timeout: float) -> int:
    """``proc.wait(timeout)``; on a hang, fail with every thread's stack of the CLI.

    The CLI runs with PYTHONFAULTHANDLER, so SIGABRT makes it print where
    each of its threads is before it dies: a hung teardown says where.
    """
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        _out, err = proc.communicate(timeout=10)
        message = f"no exit {timeout:g} s after the signal; stacks:\n{err[-8000:]}"
        raise AssertionError(message) from None


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_signal(sig, tmp_path):
    before = root_links()
    proc = subprocess.Popen(
        [sys.executable, "-m", "testbed", "up", "two-sites", "--out", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_enabled,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
    )
    try:
        state = wait_for_state(proc)
        proc.send_signal(sig)
        assert wait_or_dump(proc, timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert_clean(before, state)


def test_sigkill_then_clean(tmp_path):
    before = root_links()
    proc = subprocess.Popen(
        [sys.executable, "-m", "testbed", "up", "two-sites", "--out", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    state = wait_for_state(proc)
    proc.kill()
    proc.wait(timeout=10)
    assert any(p.alive() for p in state.processes), "daemons should survive a SIGKILL"
    done = cli("clean")
    assert done.returncode == 0, done.stderr
    assert "cleaned:" in done.stdout
    assert_clean(before, state)
    assert cli("clean").stdout.startswith("nothing to clean")
