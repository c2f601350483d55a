"""BGP recorder: session states, update and withdrawal counters per session, from each daemon.

Routers on BIRD (``daemon: bird``) give the same records from BIRD's log
(:mod:`testbed.recorders.birdlog`: a protocol going ``up`` is Up, an up one
going ``stop`` is Down, with the event that closed it in bgpd's words) and
``birdc show protocols all`` (:class:`testbed.net.daemons.BirdDaemon`: BIRD
counts routes, not UPDATE messages).  For FRR, three sources, each named in
the records (docs/records.md):

- **FRR's log** (``frr.log`` of every router, followed as it grows; lines
  with millisecond timestamps):

  - ``%ADJCHANGE ... Up`` / ``Down`` (``bgp log-neighbor-changes``): the
    session entered Established (from OpenConfirm, the only way in, RFC 4271
    8.2.2) or left it (FRR then clears the session's routes and goes to
    Idle).  ``state`` records with ``source: "log"``, timed to the millisecond.
  - ``rcvd UPDATE about PREFIX -- withdrawn``: one line per prefix a peer
    withdraws.  FRR writes it only with ``debug bgp updates in`` and a log
    level of ``debugging``, which the recorder turns on in every router when
    it starts (and again when it sees a router's bgpd start again, e.g.
    after a ``router-crash``).  A ``withdraw`` record each, and the running
    count ``withdrawals_in`` in the ``counters`` records.  FRR 8.4 counts
    UPDATE messages per session, but not withdrawals: there is no such field
    in ``show bgp neighbors json``, so the log is the only per-session source.

- **``show bgp neighbors json``**, every ``interval`` seconds and on demand
  (:meth:`BgpRecorder.snapshot`, e.g. right before an event): ``counters``
  records (``updatesRecv``/``updatesSent`` of ``messageStats``, accepted and
  sent prefixes, connections established and dropped, the FSM state), and a
  ``state`` record with ``source: "poll"`` whenever the FSM state FRR reports
  (``bgpState``: Idle, Connect, Active, OpenSent, OpenConfirm, Established,
  Clearing) differs from the last one recorded: the states a session goes
  through while it is down (Active, Connect...) are seen this way, at most
  one interval late.

Records go to ``bgp.jsonl``.  The parsing is pure (:func:`parse_adjchange`,
:func:`parse_withdrawn`, :func:`neighbor_stats`, :class:`SessionStates`) and
unit-tested on FRR's own formats.
"""

from __future__ import annotations

import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

from testbed.errors import TestbedError
from testbed.net.bird import symbol
from testbed.recorders.birdlog import BirdSessions, parse_line
from testbed.records import RecordWriter, WriteFault

_TS = r"(?P<ts>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)?)"
_ADJ = re.compile(
    _TS + r" BGP: .*%ADJCHANGE: neighbor "
    r"(?P<addr>[0-9.]+)(?:\((?P<peer>[^)]*)\))? in vrf \S+ (?P<dir>Up|Down)(?P<why>.*)$"
)
_WITHDRAWN = re.compile(
    _TS + r" BGP: .*?(?P<addr>\d+\.\d+\.\d+\.\d+)(?:\([^)]*\))? rcvd UPDATE about "
    r"(?P<prefix>[0-9.]+/\d+)\b.* -- withdrawn\s*$"
)
_BGPD_START = re.compile(r"\bbgpd \S+ starting: ", re.IGNORECASE)
#: bfdd's state change (``debug bfd peer``): ``state-change: [mhop:no peer:ADDR ...] up -> down
#: reason:control-expired``.
_BFD_STATE = re.compile(
    _TS + r" BFD: .*state-change: \[[^\]]*\bpeer:(?P<addr>[0-9.]+)[^\]]*\] "
    r"(?P<previous>[\w-]+) -> (?P<state>[\w-]+)(?: reason:(?P<why>\S+))?"
)

#: What FRR's log says about a session, as (state, previous): FRR logs only
#: the way into and out of Established.
LOG_TRANSITIONS = {"Up": ("Established", "OpenConfirm"), "Down": ("Idle", "Established")}


def _log_time(ts: str) -> float:
    fmt = "%Y/%m/%d %H:%M:%S.%f" if "." in ts else "%Y/%m/%d %H:%M:%S"
    return datetime.strptime(ts, fmt).timestamp()


def parse_adjchange(line: str) -> Optional[Tuple[float, str, str, str, str]]:
    """Parse an FRR ``%ADJCHANGE`` log line.

    Returns:
        (time, neighbor address, peer name, 'Up' or 'Down', reason), or None.
    """
    m = _ADJ.match(line.strip())
    if not m:
        return None
    peer = m.group("peer") or m.group("addr")
    return _log_time(m.group("ts")), m.group("addr"), peer, m.group("dir"), m.group("why").strip()


def parse_withdrawn(line: str) -> Optional[Tuple[float, str, str]]:
    """Parse FRR's ``rcvd UPDATE about PREFIX -- withdrawn`` debug line.

    Returns:
        (time, neighbor address, withdrawn prefix), or None.
    """
    m = _WITHDRAWN.match(line.strip())
    if not m:
        return None
    return _log_time(m.group("ts")), m.group("addr"), m.group("prefix")


def parse_bfd_state(line: str) -> Optional[Tuple[float, str, str, str, Optional[str]]]:
    """Parse bfdd's ``state-change`` debug line.

    Returns:
        (time, peer address, previous state, new state, diagnostic), or None.
    """
    m = _BFD_STATE.match(line.strip())
    if not m:
        return None
    t = _log_time(m.group("ts"))
    return t, m.group("addr"), m.group("previous"), m.group("state"), m.group("why")


def is_bgpd_start(line: str) -> bool:
    """True for the line bgpd logs when it starts (its debug settings are gone then)."""
    return _BGPD_START.search(line) is not None


@dataclass
class SessionStates:
    """The last FSM state recorded per (router, peer); turns observations into records."""

    last: Dict[Tuple[str, str], str] = field(default_factory=dict)

    def from_log(
        self, t: float, router: str, peer: str, direction: str, reason: str
    ) -> Dict[str, Any]:
        """The ``state`` record of an ``%ADJCHANGE`` line (always one: it is timed exactly)."""
        state, previous = LOG_TRANSITIONS[direction]
        self.last[(router, peer)] = state
        return _state(t, router, peer, state, previous, "log", reason or None)

    def from_poll(self, t: float, router: str, peer: str, state: str) -> Optional[Dict[str, Any]]:
        """A ``state`` record if the polled state differs from the last one recorded."""
        previous = self.last.get((router, peer))
        if state == previous:
            return None
        self.last[(router, peer)] = state
        return _state(t, router, peer, state, previous, "poll", None)


def _state(
    t: float,
    router: str,
    peer: str,
    state: str,
    previous: Optional[str],
    source: str,
    reason: Optional[str],
) -> Dict[str, Any]:
    return {
        "t": t,
        "kind": "bgp",
        "router": router,
        "peer": peer,
        "event": "state",
        "state": state,
        "previous": previous,
        "source": source,
        "reason": reason,
    }


#: Seconds between two polls of every session's counters, up to :data:`POLL_ROUTERS`
#: routers; beyond, a poll each second per ``POLL_ROUTERS`` routers (a poll is one
#: vtysh or birdc process per router: internet:1000 polls every 20 s, not 200 a second).
POLL_INTERVAL_S, POLL_ROUTERS = 5.0, 50


def poll_interval(routers: int) -> float:
    """The seconds between two polls of the counters of a testbed of ``routers`` routers."""
    return max(POLL_INTERVAL_S, routers / POLL_ROUTERS)


def _bfd(
    t: float, router: str, peer: str, state: str, previous: Optional[str], reason: Optional[str]
) -> Dict[str, Any]:
    """A BFD session's state change, as bfdd's or BIRD's log says it (a BGP state's shape)."""
    return {**_state(t, router, peer, state, previous, "log", reason), "kind": "bfd"}


class BgpRecorder:
    """Follows every router's FRR log and polls its sessions; see the module docstring."""

    def __init__(
        self, testbed, path: Path, interval: Optional[float] = None, withdrawals: bool = True
    ):
        self.testbed = testbed
        self.path = path
        self.interval = poll_interval(len(testbed.plan.routers)) if interval is None else interval
        self.withdrawals = withdrawals
        self._writer: Optional[RecordWriter] = None
        self._lock = threading.Lock()  # the writer
        self._state_lock = threading.Lock()  # logs, states and counts
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._offsets: Dict[str, int] = {}
        self._names = {
            r: {str(n.address): n.peer for n in plan.neighbors}
            for r, plan in testbed.plan.routers.items()
        }
        self.states = SessionStates()
        self.bird = BirdSessions()
        #: BIRD's protocol names (peer_NAME) -> peer names, per router
        self._protocols = {
            r: {f"peer_{symbol(n.peer)}": n.peer for n in plan.neighbors}
            for r, plan in testbed.plan.routers.items()
        }
        self.withdrawn: Dict[Tuple[str, str], int] = {}  # (router, peer) -> prefixes withdrawn
        self.debugging: Set[str] = set()  # routers that log withdrawals
        self.problems: List[str] = []
        self.fault: Optional[WriteFault] = None  # why the thread stopped: records not writable
        self.error: Optional[str] = None  # why the thread stopped: anything else

    def _emit(self, record: dict) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.write(record)

    def _peer(self, router: str, addr: str) -> str:
        return self._names.get(router, {}).get(addr, addr)

    def _new_lines(self, router: str) -> List[str]:
        path = self.testbed.daemon(router).log_file(router)
        try:  # one stat a router and a round while its log does not grow, not an open
            if os.stat(path).st_size == self._offsets.get(router, -1):
                return []
            with open(path, "rb") as fh:
                size = fh.seek(0, 2)
                if size < self._offsets.get(router, 0):  # the file was started again
                    self._offsets[router] = 0
                fh.seek(self._offsets.get(router, 0))
                chunk = fh.read()
        except OSError:
            return []
        cut = chunk.rfind(b"\n") + 1  # keep a partial last line for the next read
        self._offsets[router] = self._offsets.get(router, 0) + cut
        return chunk[:cut].decode("utf-8", "replace").splitlines()

    def _follow_logs(self) -> Tuple[List[dict], Set[str]]:
        """Records from the new log lines, and the routers whose bgpd (re)started."""
        records: List[dict] = []
        restarted: Set[str] = set()
        with self._state_lock:
            for router in self.testbed.plan.routed_routers():
                if self.testbed.plan.routers[router].daemon == "bird":
                    self._follow_bird(router, records, restarted)
                    continue
                for line in self._new_lines(router):
                    adj = parse_adjchange(line)
                    if adj:
                        t, addr, _, direction, why = adj
                        peer = self._peer(router, addr)
                        records.append(self.states.from_log(t, router, peer, direction, why))
                        continue
                    bfd = parse_bfd_state(line)
                    if bfd:
                        t, addr, previous, state, diag = bfd
                        peer = self._peer(router, addr)
                        records.append(_bfd(t, router, peer, state, previous, diag))
                        continue
                    withdrawn = parse_withdrawn(line)
                    if withdrawn:
                        t, addr, prefix = withdrawn
                        records.append(self._withdraw(t, router, self._peer(router, addr), prefix))
                        continue
                    if is_bgpd_start(line):
                        restarted.add(router)
        return records, restarted

    def _withdraw(self, t: float, router: str, peer: str, prefix: str) -> Dict[str, Any]:
        """Count a prefix a peer withdrew; its ``withdraw`` record."""
        self.withdrawn[(router, peer)] = self.withdrawn.get((router, peer), 0) + 1
        return {
            "t": t,
            "kind": "bgp",
            "router": router,
            "peer": peer,
            "event": "withdraw",
            "prefix": prefix,
            "source": "log",
        }

    def _follow_bird(self, router: str, records: List[dict], restarted: Set[str]) -> None:
        """Records from a BIRD router's new log lines (:mod:`testbed.recorders.birdlog`)."""
        for line in self._new_lines(router):
            parsed = parse_line(line)
            if parsed is None:
                continue
            if parsed.kind == "started":
                self.bird.restarted(router)
                restarted.add(router)
                continue
            if parsed.kind == "bfd":
                peer = self._peer(router, parsed.address or "")
                previous = (parsed.previous or "").lower() or None
                records.append(_bfd(parsed.t, router, peer, parsed.value, previous, None))
                continue
            proto = parsed.protocol or ""
            peer = self._protocols.get(router, {}).get(proto, proto)
            if parsed.kind == "event":
                self.bird.event(router, proto, parsed.value)
            elif parsed.kind == "state":
                change = self.bird.transition(router, proto, parsed.value)
                if change is not None:
                    direction, why = change
                    records.append(self.states.from_log(parsed.t, router, peer, direction, why))
            elif parsed.kind == "withdraw":
                records.append(self._withdraw(parsed.t, router, peer, parsed.value))

    def _drain_logs(self, reenable: bool = True) -> None:
        records, restarted = self._follow_logs()
        for record in records:
            self._emit(record)
        if reenable and self.withdrawals:
            for router in sorted(restarted):
                self._enable_debugging(router)

    def _enable_debugging(self, router: str) -> None:
        """Make one router's daemon log withdrawn prefixes (and BFD its state changes)."""
        try:
            self.testbed.daemon(router).enable_debugging(self.testbed.plan.routers[router])
        except (TestbedError, OSError) as exc:
            self.debugging.discard(router)
            self.problems.append(f"{router}: withdrawals not logged ({exc})")
            return
        self.debugging.add(router)

    def snapshot(self) -> None:
        """Record every session's counters now (and any FSM state change seen)."""
        self._drain_logs()
        routers = self.testbed.plan.routed_routers()

        def one(router: str) -> Tuple[str, float, Dict[str, Dict[str, Any]]]:
            try:
                data = self.testbed.daemon(router).counters(self.testbed.plan.routers[router])
            except (TestbedError, ValueError, OSError):
                data = {}
            return router, time.time(), data

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(one, routers))
        for router, t, data in results:
            for addr, c in data.items():
                peer = self._peer(router, addr)
                with self._state_lock:
                    state = self.states.from_poll(t, router, peer, str(c["state"]))
                    withdrawn = (
                        self.withdrawn.get((router, peer), 0) if router in self.debugging else None
                    )
                if state is not None:
                    self._emit(state)
                self._emit(
                    {
                        "t": t,
                        "kind": "bgp",
                        "router": router,
                        "peer": peer,
                        "event": "counters",
                        "source": "vtysh",
                        **c,
                        "withdrawals_in": withdrawn,
                    }
                )

    def _run(self) -> None:
        """The thread: a failure ends it and is kept in :attr:`fault` or :attr:`error`."""
        try:
            next_snapshot = time.monotonic() + self.interval
            while not self._stop.wait(0.25):
                self._drain_logs()
                if self.interval and time.monotonic() >= next_snapshot:
                    self.snapshot()
                    next_snapshot = time.monotonic() + self.interval
        except WriteFault as exc:
            self.fault = exc
        except Exception as exc:  # noqa: BLE001 - reported by the watchdog, not as a traceback
            self.error = f"{type(exc).__name__}: {exc}"

    def start(self) -> BgpRecorder:
        """Open bgp.jsonl, record the sessions so far, turn on withdrawal logging, follow."""
        self._writer = RecordWriter(self.path)
        self._drain_logs(reenable=False)
        if self.withdrawals:
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(self._enable_debugging, self.testbed.plan.routed_routers()))
        self.snapshot()
        self._thread = threading.Thread(target=self._run, name="bgp-recorder", daemon=True)
        self._thread.start()
        return self

    def alive(self) -> bool:
        """True while the recorder's thread runs (started, not stopped, not crashed)."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Final log read and counter snapshot, then close the file (never raises:
        a full disk is kept in :attr:`fault`)."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        if self.fault is None:
            try:
                self.snapshot()
            except WriteFault as exc:
                self.fault = exc
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
