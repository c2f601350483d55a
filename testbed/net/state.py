"""The live testbed's state file: what it started, so anything can be undone.

``/run/anycast-testbed/state.json`` lists every namespace shell, daemon and
directory the running testbed created, each process by PID *and* start time
(so a recycled PID is never signalled).  ``exec``, ``vtysh`` and ``clean``
read it from other terminals.  Only one testbed runs at a time: interface
names are global until moved into their namespaces.  A running testbed holds
an exclusive ``flock`` on ``/run/anycast-testbed/lock`` (released by the
kernel when it dies, whatever kills it), and :func:`refuse_if_running` turns
a second one away, with the name, PID and run folder of the first, before
it creates anything.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from testbed.errors import InputError

STATE_DIR = Path(os.environ.get("ANYCAST_TESTBED_STATE", "/run/anycast-testbed"))
STATE_FILE = STATE_DIR / "state.json"
LOCK_FILE = STATE_DIR / "lock"
#: Where each node's namespace is bind-mounted (:mod:`testbed.net.anchors`).
NETNS_DIR = STATE_DIR / "netns"
_save_lock = threading.Lock()


def proc_start_time(pid: int) -> Optional[int]:
    """The process's start time in clock ticks since boot; None if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return None
    # the command name may hold spaces and parentheses: fields follow the last ')'
    fields = stat[stat.rfind(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


@dataclass
class Tracked:
    """A process the testbed started: its node, role, PID and start time.

    For a node's shell, ``netns`` is the inode of the node's network namespace.
    ``daemon`` marks a router's routing daemon (FRR's or BIRD's processes):
    teardown stops those with SIGKILL alone, and the watchdog looks at them a
    slice at a time, since they grow with the topology.
    """

    node: str
    name: str
    pid: int
    start: Optional[int] = None
    netns: Optional[int] = None
    daemon: bool = False

    def alive(self) -> bool:
        """True while this very process (not a recycled PID) runs."""
        now = proc_start_time(self.pid)
        return now is not None and (self.start is None or now == self.start)


@dataclass
class State:
    """Everything a running testbed created."""

    owner: int
    owner_start: Optional[int]
    topology: str
    run_dir: str
    created: float = field(default_factory=time.time)
    nodes: Dict[str, Tracked] = field(default_factory=dict)  # node -> namespace shell
    processes: List[Tracked] = field(default_factory=list)
    dirs: List[str] = field(default_factory=list)
    mounts: List[str] = field(default_factory=list)  # namespace anchors, written before made

    def owner_alive(self) -> bool:
        """True while the testbed process that wrote this state runs."""
        return Tracked("", "owner", self.owner, self.owner_start).alive()

    def save(self) -> None:
        """Write the state atomically (from any thread)."""
        with _save_lock:
            STATE_DIR.mkdir(parents=True, exist_ok=True)
            tmp = STATE_FILE.with_suffix(".tmp")
            tmp.write_text(json.dumps(asdict(self), indent=1))
            os.replace(tmp, STATE_FILE)

    def node_pid(self, node: str) -> Optional[int]:
        """The PID of a node's namespace shell, if that node exists and runs."""
        tracked = self.nodes.get(node)
        return tracked.pid if tracked and tracked.alive() else None


def load_state() -> Optional[State]:
    """The current state, or None when no testbed has left one."""
    try:
        data = json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        return None
    nodes = {k: Tracked(**v) for k, v in data.pop("nodes", {}).items()}
    procs = [Tracked(**p) for p in data.pop("processes", [])]
    return State(nodes=nodes, processes=procs, **data)


def remove_state() -> None:
    """Delete the state file."""
    with contextlib.suppress(FileNotFoundError):
        STATE_FILE.unlink()


class TestbedBusy(InputError):
    """Another testbed is running: one line naming it; the CLI exits 2."""

    __test__ = False  # not a pytest test class


def busy_message(state: Optional[State]) -> str:
    """The one line that turns a second testbed away, naming the running one."""
    if state is None:
        what = "another one is starting"
    else:
        what = f"{state.topology} (pid {state.owner}, {state.run_dir})"
    return (
        f"a testbed is already running: {what}; stop it first "
        "(Ctrl-C there, or anycast-testbed clean if it was killed)"
    )


def running() -> Optional[State]:
    """The state of the testbed running now (its owner alive), or None."""
    state = load_state()
    return state if state is not None and state.owner_alive() else None


def refuse_if_running() -> None:
    """Raise :class:`TestbedBusy` if a testbed runs; call it before creating anything.

    Raises:
        TestbedBusy: naming the running testbed's topology, PID and run folder.
    """
    state = running()
    if state is not None:
        raise TestbedBusy(busy_message(state))


class Claim:
    """The exclusive lock a running testbed holds (``flock`` on :data:`LOCK_FILE`).

    The kernel releases it when the process ends, however it ends; the file
    descriptor is close-on-exec, so no daemon the testbed starts inherits it.
    """

    def __init__(self) -> None:
        self._fd: Optional[int] = None

    def acquire(self) -> bool:
        """Take the lock; False if another process (or another Claim) holds it."""
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    @property
    def held(self) -> bool:
        """True while this claim holds the lock."""
        return self._fd is not None
