"""Helpers for integration tests: run the CLI and scenarios, find FRR daemons."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence

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


@dataclass
class Run:
    """One ``anycast-testbed run``: its run folder, summary.json and output."""

    folder: Path
    summary: Dict[str, Any]
    stdout: str
    stderr: str
    returncode: int


def run_scenario(
    scenario: str,
    out: Path,
    *sets: str,
    flags: Sequence[str] = (),
    timeout: float = 240,
    check: bool = True,
) -> Run:
    """``anycast-testbed run SCENARIO --out OUT [FLAGS] --set ...``; its one run folder.

    Args:
        scenario: a shipped scenario's name or a file.
        out: an empty folder for the run folder.
        sets: ``--set`` overrides, in order.
        flags: other options of ``run``.
        timeout: seconds the run may take.
        check: assert that the run exited 0.
    """
    args = ["run", scenario, "--out", str(out), *flags]
    for item in sets:
        args += ["--set", item]
    done = cli(*args, timeout=timeout)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == 1, (done.stdout, done.stderr)
    summary = json.loads((folders[0] / "summary.json").read_text())
    return Run(folders[0], summary, done.stdout, done.stderr, done.returncode)


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
