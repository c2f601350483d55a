"""The watchdog: notices, within a second, a process of the run that dies on its own.

It watches what the testbed already tracks -- every process in the state
file (FRR daemons, NSD, the stream service, probes, health agents, Ryu
speakers, tcpdump; by PID and start time), every node's namespace shell,
and the two recorder threads -- four times a second.  A death the testbed
caused itself (an event's ``fail_site router-crash`` or ``kill_service``, a
service stopped, teardown: every process :meth:`Testbed.send_signal` ended)
is expected and ignored.  Any other death is written to ``records/run.jsonl``
as a ``process_died`` record (docs/records.md) and then, by the kind of
process (:data:`POLICY`):

- **carry on** -- FRR daemons (zebra, bgpd, bfdd), Ryu speakers, NSD and the
  stream service: parts of the network and the service under test, whose
  failure the experiment observes like any other (the summary and report say
  so as a caveat);
- **stop** -- probes, recorders (route monitor, BGP recorder, tcpdump),
  health agents and namespace shells: the testbed's own instruments; the
  measurements would be wrong from then on.

A process that writes records and exits with a write-fault status
(:data:`testbed.records.FAULT_EXIT`), or a recorder thread that stopped on
a :class:`~testbed.records.WriteFault`, means the disk is full: that stops
the run too, as a disk fault.  The decisions are pure functions
(:func:`classify`, :func:`affects`, :func:`describe_status`), unit-tested.
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from testbed.records import WRITE_FAULTS, RecordWriter, WriteFault, fault_of_exit_status

STOP = "stop"
CARRY_ON = "carry on"

#: What an unexpected death of each kind of process does to the run (docs/records.md).
POLICY: Dict[str, str] = {
    "zebra": CARRY_ON,
    "bgpd": CARRY_ON,
    "bfdd": CARRY_ON,
    "staticd": CARRY_ON,
    "speaker": CARRY_ON,
    "nsd": CARRY_ON,
    "pdns": CARRY_ON,
    "unbound": CARRY_ON,
    "stream": CARRY_ON,
    "backend": CARRY_ON,
    "dns-probe": STOP,
    "tcp-probe": STOP,
    "health-agent": STOP,
    "tcpdump": STOP,
    "route recorder": STOP,
    "bgp recorder": STOP,
    "namespace": STOP,
    "load-recorder": STOP,
    "attack-sender": STOP,
}
#: Processes that write records (and exit with a write-fault status when they cannot);
#: every probe kind's probe too (:func:`probe_prefix`).
RECORD_WRITERS = {"dns-probe", "tcp-probe", "health-agent", "speaker", "load-recorder",
                  "attack-sender"}  # fmt: skip


def probe_prefix(process: str) -> Optional[str]:
    """The record prefix of a probe kind whose probe runs as ``process`` (None: not a probe)."""
    from testbed.probes.kinds import KINDS, kinds

    kinds()  # the registry, loaded
    for kind in KINDS.values():
        if (kind.process or f"{kind.record_prefix}-probe") == process:
            return kind.record_prefix
    return None


def is_record_writer(process: str) -> bool:
    """True for processes that write records (a probe of any kind included)."""
    return process in RECORD_WRITERS or probe_prefix(process) is not None


#: How often the watchdog looks, in seconds.
INTERVAL = 0.25
#: The routers' daemons and the node shells looked at in one look, at most: they
#: grow with the topology (internet:1000 on FRR: 3,000 daemons, 1,011 shells),
#: so past this many each look takes the next slice and a death among them is seen
#: within N / MOST_PER_LOOK looks; the other processes (probes, services,
#: agents, recorders) are looked at every time.
MOST_PER_LOOK = 250


class Rotation:
    """Hands out a list's items a slice at a time, going round (one per kind of list)."""

    def __init__(self, most: int = MOST_PER_LOOK) -> None:
        self.most = most
        self._next = 0

    def take(self, items: List[Any]) -> List[Any]:
        """The next ``most`` items (all of them when there are no more than ``most``)."""
        if len(items) <= self.most:
            return items
        start = self._next % len(items)
        self._next = start + self.most
        return (items + items)[start : start + self.most]


def policy(process: str) -> str:
    """:data:`STOP` or :data:`CARRY_ON` for a kind of process (unknown kinds carry on;
    a probe of any kind stops the run: its measurements would end)."""
    if process not in POLICY and probe_prefix(process) is not None:
        return STOP
    return POLICY.get(process, CARRY_ON)


def describe_status(status: Optional[int]) -> str:
    """How a process ended: ``exit status 1``, ``killed by SIGKILL``, ``status unknown``."""
    if status is None:
        return "status unknown"
    if status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"


def records_file(process: str, node: str, plan: Any) -> Optional[str]:
    """The records file (relative to the run folder) a record-writing process writes."""
    if process == "dns-probe":
        return f"records/dns-{node}.jsonl"
    if process == "tcp-probe":
        return f"records/tcp-{node}.jsonl"
    if process == "health-agent":
        return "records/health.jsonl"
    if process == "load-recorder":
        return f"records/load-{node}.jsonl"
    if process == "attack-sender":
        return f"records/attack-{node}.jsonl"
    prefix = probe_prefix(process)
    if prefix is not None:
        return f"records/{prefix}-{node}.jsonl"
    if process == "speaker":
        router = getattr(plan, "routers", {}).get(node)
        return f"records/speaker-{getattr(router, 'site', None) or node}.jsonl"
    return None


#: What each kind of process takes away when it dies ({node}, {peers}, {site}).
EFFECTS: Dict[str, str] = {
    "bgpd": "{node}'s BGP sessions ({peers}) drop and the routes it learnt go",
    "zebra": "{node}'s kernel routes are no longer installed or updated",
    "bfdd": "{node}'s BFD sessions end: only hold timers detect failures there",
    "speaker": "site {site}'s BGP speaker: its sessions ({peers}) drop and its route goes",
    "nsd": "site {site}'s DNS on {node} stops answering while its route stays (a blackhole)",
    "pdns": "site {site}'s GSLB authority on {node} stops answering while its route stays",
    "unbound": "the resolver on {node} stops answering: its clients cannot resolve the name",
    "stream": "site {site}'s TCP stream service on {node} stops: streams there end",
    "backend": "the shared backend stops answering: health checks on it fail",
    "dns-probe": "{node}'s DNS measurements end",
    "tcp-probe": "{node}'s TCP stream measurements end",
    "health-agent": "site {site}'s health checks and their actions stop",
    "tcpdump": "the packet capture on {node} ends",
    "route recorder": "route changes are no longer recorded",
    "bgp recorder": "BGP session changes are no longer recorded",
    "namespace": "node {node}'s network namespace and everything in it",
    "load-recorder": "site {node}'s load is no longer recorded",
    "attack-sender": "the attack from {node} stops",
}


def affects(process: str, node: str, plan: Any) -> str:
    """What a death of ``process`` on ``node`` takes away, in one clause."""
    routers = getattr(plan, "routers", {}) or {}
    hosts = getattr(plan, "hosts", {}) or {}
    router = routers.get(node)
    peers = ", ".join(n.peer for n in getattr(router, "neighbors", [])) or "its peers"
    site = getattr(hosts.get(node), "site", None) or getattr(router, "site", None)
    default = "{process} on {node}"
    if process not in EFFECTS and probe_prefix(process) is not None:
        default = "{node}'s " + process.removesuffix("-probe") + " measurements end"
    effect = EFFECTS.get(process, default)
    return effect.format(process=process, node=node, peers=peers, site=site)


@dataclass
class Death:
    """A process of the run that died on its own.

    Attributes:
        t: wall-clock time it was noticed.
        node: the node it ran on (``-`` for a recorder thread).
        process: its kind (``bgpd``, ``nsd``, ``dns-probe``, ``route recorder``...).
        pid: its PID (None for a recorder thread).
        status: its exit status (negative: the signal), None when unknown.
        how: :func:`describe_status`, or the recorder's error.
        action: :data:`STOP` or :data:`CARRY_ON`.
        affects: what it takes away (:func:`affects`).
        fault: ``disk full`` (...) when it stopped because its records could
            not be written, else None.
        file: the records file it could not write (with ``fault``).
    """

    t: float
    node: str
    process: str
    pid: Optional[int]
    status: Optional[int]
    how: str
    action: str
    affects: str
    fault: Optional[str] = None
    file: Optional[str] = None

    def record(self, t0: Optional[float]) -> Dict[str, Any]:
        """The ``process_died`` record of ``records/run.jsonl``."""
        return {
            "t": self.t,
            "kind": "process_died",
            "node": self.node,
            "process": self.process,
            "pid": self.pid,
            "status": self.status,
            "how": self.how,
            "action": "stopped the run" if self.action == STOP else "carried on",
            "affects": self.affects,
            "fault": self.fault,
            "file": self.file,
            "at": None if t0 is None else round(self.t - t0, 3),
        }

    def line(self) -> str:
        """``bgpd on ta died (status unknown)``."""
        where = f" on {self.node}" if self.node != "-" else ""
        return f"{self.process}{where} died ({self.how})"


def classify(
    process: str,
    node: str,
    pid: Optional[int],
    status: Optional[int],
    signalled: bool,
    plan: Any,
    t: float,
) -> Optional[Death]:
    """Decide what a death means.

    Args:
        process: the kind of process (as in the state file).
        node: where it ran.
        pid: its PID.
        status: its exit status if known (negative: killed by that signal).
        signalled: True when the testbed itself sent it a signal that ends it
            (an event or teardown): the death is expected.
        plan: the topology's plan (for what it affects).
        t: when it was noticed.

    Returns:
        None for an expected death, else the :class:`Death` with its action.
    """
    if signalled:
        return None
    fault = fault_of_exit_status(status) if is_record_writer(process) else None
    if fault is not None:
        return Death(
            t,
            node,
            process,
            pid,
            status,
            f"{describe_status(status)}: {WRITE_FAULTS[fault]}",
            STOP,
            affects(process, node, plan),
            WRITE_FAULTS[fault],
            records_file(process, node, plan),
        )
    return Death(
        t,
        node,
        process,
        pid,
        status,
        describe_status(status),
        policy(process),
        affects(process, node, plan),
    )


class Watchdog:
    """Watches the run's processes in a thread; see the module docstring.

    Attributes:
        deaths: every unexpected death noticed, in order.
        fatal: the first death (or write fault) that stops the run, else None.
    """

    def __init__(
        self,
        testbed: Any,
        traffic: Any,
        path: Path,
        t0: Callable[[], Optional[float]] = lambda: None,
        say: Callable[[str], None] = lambda _line: None,
        interval: float = INTERVAL,
    ):
        self.testbed = testbed
        self.traffic = traffic
        self.path = Path(path)
        self.t0 = t0
        self.say = say
        self.interval = interval
        self.deaths: List[Death] = []
        self.fatal: Optional[Death] = None
        self.write_fault: Optional[WriteFault] = None
        self._seen: Set[Tuple[str, int, Optional[int]]] = set()
        self._daemons, self._shells_round = Rotation(), Rotation()
        self._writer: Optional[RecordWriter] = None
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- life
    def start(self) -> Watchdog:
        """Open ``run.jsonl`` and start watching."""
        self._writer = RecordWriter(self.path)
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (before teardown: what teardown stops is not a death)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # noqa: BLE001 - the watchdog must not die silently
                self.say(f"warning: watchdog: {type(exc).__name__}: {exc}")

    # --------------------------------------------------------------- looks
    def check(self) -> List[Death]:
        """Look once: record every new unexpected death; return them."""
        found = self._processes() + self._shells() + self._recorders()
        for death in found:
            self._note(death)
        return found

    def _new(self, key: Tuple[str, int, Optional[int]]) -> bool:
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def _processes(self) -> List[Death]:
        tb = self.testbed
        state = getattr(tb, "state", None)
        if state is None:
            return []
        out = []
        signalled = getattr(tb, "signalled", set())
        procs = list(state.processes)
        daemons = [p for p in procs if p.daemon]
        others = [p for p in procs if not p.daemon]
        for proc in others + self._daemons.take(daemons):
            if proc.alive():
                continue
            if not self._new(("p", proc.pid, proc.start)):
                continue
            status = tb.exit_status(proc)
            expected = (proc.pid, proc.start) in signalled
            death = classify(proc.name, proc.node, proc.pid, status, expected, tb.plan, time.time())
            if death is not None:
                out.append(death)
        return out

    def _shells(self) -> List[Death]:
        state = getattr(self.testbed, "state", None)
        if state is None:
            return []
        out = []
        for node, shell in self._shells_round.take(list(state.nodes.items())):
            if shell.alive() or not self._new(("n", shell.pid, shell.start)):
                continue
            out.append(classify("namespace", node, shell.pid, None, False, None, time.time()))
        return [d for d in out if d is not None]

    def _recorders(self) -> List[Death]:
        out = []
        traffic = self.traffic
        for name, recorder in (
            ("route recorder", getattr(traffic, "routes", None)),
            ("bgp recorder", getattr(traffic, "bgp", None)),
        ):
            if recorder is None or recorder.alive() or not self._new(("r", id(recorder), None)):
                continue
            fault: Optional[WriteFault] = getattr(recorder, "fault", None)
            how = str(fault) if fault else (getattr(recorder, "error", None) or "thread ended")
            death = Death(time.time(), "-", name, None, None, how, STOP, affects(name, "-", None))
            if fault is not None:
                death.fault = fault.reason
                death.file = _relative(fault.path, self.testbed)
            out.append(death)
        return out

    def _note(self, death: Death) -> None:
        with self._lock:
            self.deaths.append(death)
            if death.action == STOP and self.fatal is None:
                self.fatal = death
            try:
                if self._writer is not None:
                    self._writer.write(death.record(self.t0()))
            except WriteFault as exc:
                self.write_fault = self.write_fault or exc
        if death.action != STOP:
            self.say(f"warning: {death.line()}; the run carries on: {death.affects}")


def _relative(path: Path, testbed: Any) -> str:
    """A path inside the run folder, relative to it (else as it is)."""
    try:
        return str(Path(path).resolve().relative_to(Path(testbed.run_dir).resolve()))
    except (ValueError, AttributeError, OSError):
        return str(path)
