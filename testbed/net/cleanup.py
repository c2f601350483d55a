"""Stop exactly what the testbed started; never anything by name.

Processes are stopped by the PID and start time recorded when they were
started.  As a safety net, any process still inside one of the testbed's own
network namespaces (found by the namespace's inode, which is unique while the
namespace exists) is stopped too: it can only have been started there by the
testbed or by a user's ``exec`` into it.  The namespaces are found through
their anchors (bind mounts the testbed made, :mod:`testbed.net.anchors`),
which outlive the node shells, and through the shells still alive.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Dict, Iterable, List, Set

from testbed.net import anchors
from testbed.net.state import State, Tracked, load_state, proc_start_time, remove_state


def netns_inode(pid: int) -> int | None:
    """The inode of a process's network namespace, or None if it is gone."""
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None


def processes_in(inodes: Set[int]) -> List[Tracked]:
    """Every process whose network namespace is one of ``inodes``."""
    found: List[Tracked] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if netns_inode(pid) in inodes:
            found.append(Tracked("?", "stray", pid, proc_start_time(pid)))
    return found


def stop_processes(procs: Iterable[Tracked], grace: float = 3.0) -> int:
    """SIGTERM the processes still alive, then SIGKILL what is left after ``grace``.

    A router's routing daemon (``Tracked.daemon``) gets SIGKILL at once: its
    routes and sessions go with the namespace and its log is written as it
    happens, so an orderly exit would only free memory (FRR's bgpd took 10 s
    over it at 500 routers).

    Args:
        procs: the processes to stop (checked by PID and start time).
        grace: seconds to wait after SIGTERM.

    Returns:
        How many had to be killed with SIGKILL.
    """
    alive = [p for p in procs if p.alive()]
    for proc in alive:
        if proc.daemon:
            _signal(proc, signal.SIGKILL)
            continue
        _signal(proc, signal.SIGTERM)
        _signal(proc, signal.SIGCONT)  # a stopped (SIGSTOP) process must see SIGTERM
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        time.sleep(0.02)
        alive = [p for p in alive if p.alive()]
    for proc in alive:
        _signal(proc, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while alive and time.monotonic() < deadline:
        time.sleep(0.02)
        alive = [p for p in alive if p.alive()]
    return len(alive)


def _signal(proc: Tracked, sig: int) -> None:
    if not proc.alive():
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, sig)


def clean_state(state: State) -> Dict[str, int]:
    """Undo everything a (dead or dying) testbed recorded in its state.

    Args:
        state: the state file's content.

    Returns:
        Counts: processes, namespaces and directories removed.
    """
    inodes = {i for n in state.nodes.values() if n.alive() for i in [netns_inode(n.pid)] if i}
    anchored = {path: i for path in state.mounts for i in [anchors.inode(Path(path))] if i}
    inodes |= set(anchored.values())
    stop_processes(state.processes)
    strays = [p for p in processes_in(inodes) if p.pid not in {n.pid for n in state.nodes.values()}]
    stop_processes(strays, grace=1.0)
    shells = [n for n in state.nodes.values() if n.alive()]
    stop_processes(shells, grace=0.0)  # an interactive bash ignores SIGTERM
    # anything that entered a namespace meanwhile (a user's exec): once more, then the anchors
    late = [p for p in processes_in(set(anchored.values())) if p.alive()]
    stop_processes(late, grace=1.0)
    for path in state.mounts:
        with contextlib.suppress(OSError):
            anchors.release(Path(path))
    removed_dirs = 0
    for path in state.dirs:
        if Path(path).exists():
            shutil.rmtree(path, ignore_errors=True)
            removed_dirs += 1
    return {
        "processes": len([p for p in state.processes if p.start]) + len(strays) + len(late),
        "namespaces": max(len(anchored), len(shells)),
        "dirs": removed_dirs,
    }


def clean() -> Dict[str, int] | None:
    """Clean up after a testbed that is no longer running (``anycast-testbed clean``).

    Returns:
        Counts of what was removed, or None when there was nothing to clean.

    Raises:
        RuntimeError: when the testbed that owns the state is still running.
    """
    state = load_state()
    if state is None:
        return None
    if state.owner_alive() and state.owner != os.getpid():
        raise RuntimeError(
            f"a testbed is running (pid {state.owner}, topology {state.topology}); "
            "stop it with Ctrl-C or kill it first"
        )
    counts = clean_state(state)
    remove_state()
    return counts


def leftovers(state: State) -> List[str]:
    """What of a state is still there (for tests and doctor)."""
    out = [f"process {p.name} pid {p.pid}" for p in state.processes if p.alive()]
    out += [f"namespace of {n} (pid {t.pid})" for n, t in state.nodes.items() if t.alive()]
    out += [f"directory {d}" for d in state.dirs if Path(d).exists()]
    out += [f"namespace anchor {m}" for m in state.mounts if anchors.inode(Path(m))]
    return out
