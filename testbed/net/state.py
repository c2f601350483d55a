"""The live testbed's state file: what it started, so anything can be undone.

``/run/anycast-testbed/state.json`` lists every namespace shell, daemon and
directory the running testbed created, each process by PID *and* start time
(so a recycled PID is never signalled).  ``exec``, ``vtysh`` and ``clean``
read it from other terminals.  Only one testbed runs at a time: interface
names are global until moved into their namespaces.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

STATE_DIR = Path(os.environ.get("ANYCAST_TESTBED_STATE", "/run/anycast-testbed"))
STATE_FILE = STATE_DIR / "state.json"


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
    """A process the testbed started: its node, role, PID and start time."""

    node: str
    name: str
    pid: int
    start: Optional[int] = None

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

    def owner_alive(self) -> bool:
        """True while the testbed process that wrote this state runs."""
        return Tracked("", "owner", self.owner, self.owner_start).alive()

    def save(self) -> None:
        """Write the state atomically."""
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
