"""Route monitor: every router's route to the anycast prefix, from each netlink message.

One netlink socket per router namespace (opened with
:func:`testbed.net.netns.netlink_socket`), subscribed to IPv4 route and link
events.  Every ``RTM_NEWROUTE`` / ``RTM_DELROUTE`` message is parsed
(pyroute2's netlink marshal) and applied to that router's copy of its routes
to the watched prefixes, so each change is a record, also a route that lived
for a few milliseconds during path exploration: the kernel sends one message
per change, whereas re-reading the table after a wake-up sees only where a
burst of changes ended.

Two cases have no route message, so the table is read again and compared:
the kernel flushes the routes through an interface that went down without
telling anyone (a link message arrives instead), and a socket whose buffer
overflowed (``ENOBUFS``) has lost messages.  Such records say
``"resync": true``.

Records go to ``routes.jsonl`` (docs/records.md), stamped with the time the
kernel's message was read.
"""

from __future__ import annotations

import errno
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from testbed.records import RecordWriter, WriteFault

#: Netlink multicast groups: links (to see interfaces go down) and IPv4 routes.
RTMGRP_LINK = 0x1
RTMGRP_IPV4_ROUTE = 0x40
#: The main routing table.
MAIN_TABLE = 254
#: Route types without next hops, by rtm_type (unicast routes with no gateway are "connected").
ROUTE_TYPES = {6: "blackhole", 7: "unreachable", 8: "prohibit"}
#: Socket receive buffer asked for, so bursts of changes do not overflow it.
RCVBUF = 4 * 1024 * 1024

Hops = Tuple[str, ...]


def route_change(before: Optional[Hops], after: Optional[Hops]) -> Optional[str]:
    """Classify a change of one route: added, removed, nexthop, or None."""
    if before == after:
        return None
    if not before:
        return "added"
    if not after:
        return "removed"
    return "nexthop"


class RouteMessage(NamedTuple):
    """One route message, reduced to what the monitor needs."""

    event: str  # "add" (RTM_NEWROUTE) or "del" (RTM_DELROUTE)
    prefix: IPv4Network
    priority: int  # the route's metric: the kernel uses the lowest
    hops: Hops  # sorted gateways, or ("blackhole",) / ("connected",) ...


def nexthops(msg: Any) -> Hops:
    """The next hops of a pyroute2 route message: sorted gateways, or what the route is."""
    hops: List[str] = []
    gateway = msg.get("RTA_GATEWAY")
    if gateway:
        hops.append(str(gateway))
    for hop in msg.get("RTA_MULTIPATH") or []:
        gw = hop.get("RTA_GATEWAY")
        if gw:
            hops.append(str(gw))
    if hops:
        return tuple(sorted(hops))
    return (ROUTE_TYPES.get(msg["type"], "connected"),)


def parse_route_message(msg: Any) -> Optional[RouteMessage]:
    """Reduce a pyroute2 message to a :class:`RouteMessage`.

    Args:
        msg: a message parsed by pyroute2 (from a multicast datagram or a dump).

    Returns:
        The route change, or None for anything but an IPv4 main-table route
        message (link messages, other tables, IPv6, errors).
    """
    event = {"RTM_NEWROUTE": "add", "RTM_DELROUTE": "del"}.get(msg.get("event"))
    if event is None or msg["family"] != socket.AF_INET:
        return None
    table = msg.get("RTA_TABLE") or msg["table"]
    if table != MAIN_TABLE:
        return None
    dst = msg.get("RTA_DST") or "0.0.0.0"
    prefix = IPv4Network(f"{dst}/{msg['dst_len']}")
    return RouteMessage(event, prefix, int(msg.get("RTA_PRIORITY") or 0), nexthops(msg))


def parse_datagram(data: bytes) -> List[Any]:
    """Every netlink message in one datagram (pyroute2 objects, in order)."""
    from pyroute2.netlink.rtnl.marshal import MarshalRtnl

    return list(MarshalRtnl().parse(data))


def is_link_message(msg: Any) -> bool:
    """True for a link message (an interface changed: its routes may be flushed silently)."""
    return msg.get("event") in ("RTM_NEWLINK", "RTM_DELLINK")


@dataclass
class RouterRoutes:
    """One router's routes to the watched prefixes, as the kernel holds them.

    Several routes to one prefix can coexist with different metrics; the
    one in use (and recorded) is the one with the lowest metric.
    """

    watched: Sequence[IPv4Network]
    routes: Dict[IPv4Network, Dict[int, Hops]] = field(default_factory=dict)

    def best(self, prefix: IPv4Network) -> Optional[Hops]:
        """The next hops of the route in use to ``prefix`` (None: no route)."""
        table = self.routes.get(prefix)
        if not table:
            return None
        return table[min(table)]

    def apply(self, message: RouteMessage) -> Optional[Tuple[str, Hops]]:
        """Apply one message.

        Returns:
            ``(change, next hops after)`` when the route in use changed, else None.
        """
        if message.prefix not in self.watched:
            return None
        before = self.best(message.prefix)
        table = self.routes.setdefault(message.prefix, {})
        if message.event == "add":
            table[message.priority] = message.hops
        else:
            table.pop(message.priority, None)
        after = self.best(message.prefix)
        change = route_change(before, after)
        return (change, after or ()) if change else None

    def replace_all(self, messages: Iterable[RouteMessage]) -> List[Tuple[IPv4Network, str, Hops]]:
        """Take a full table dump instead of what was known (after lost messages).

        Returns:
            ``(prefix, change, next hops after)`` for every watched prefix whose
            route in use differs from before.
        """
        before = {p: self.best(p) for p in self.watched}
        self.routes = {}
        for message in messages:
            if message.event == "add" and message.prefix in self.watched:
                self.routes.setdefault(message.prefix, {})[message.priority] = message.hops
        out = []
        for prefix in self.watched:
            after = self.best(prefix)
            change = route_change(before[prefix], after)
            if change:
                out.append((prefix, change, after or ()))
        return out


def route_record(
    t: float, router: str, prefix: IPv4Network, change: str, hops: Hops, via: List[str]
) -> Dict[str, Any]:
    """One ``routes.jsonl`` record."""
    return {
        "t": t,
        "kind": "route",
        "router": router,
        "prefix": str(prefix),
        "change": change,
        "nexthops": list(hops),
        "via": via,
    }


def _subscribe(pid: int) -> socket.socket:
    """A non-blocking netlink socket in ``pid``'s namespace, on route and link events."""
    from testbed.net.netns import netlink_socket

    sock = netlink_socket(pid)
    for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
        if option is None:
            continue
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, RCVBUF)
            break
        except OSError:
            continue
    sock.bind((0, RTMGRP_IPV4_ROUTE | RTMGRP_LINK))
    sock.setblocking(False)
    return sock


class RouteMonitor:
    """Records changes of every router's routes to ``prefixes`` until stopped."""

    def __init__(self, testbed, prefixes: List[IPv4Network], path: Path):
        self.testbed = testbed
        self.prefixes = prefixes
        self.path = path
        self.tables: Dict[str, RouterRoutes] = {}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._ready = threading.Event()
        self.changes = 0
        self.resyncs = 0
        self.fault: Optional[WriteFault] = None  # why the thread stopped: records not writable
        self.error: Optional[str] = None  # why the thread stopped: anything else

    def _via(self, hops: Hops) -> List[str]:
        out = []
        for hop in hops:
            if hop in ("blackhole", "connected", "unreachable", "prohibit"):
                out.append(hop)
            else:
                out.append(self.testbed.plan.owner_of(IPv4Address(hop)) or hop)
        return out

    def _write(self, writer: RecordWriter, record: Dict[str, Any]) -> None:
        writer.write(record)

    def _dump(self, ipr: Any) -> List[RouteMessage]:
        out = []
        for msg in ipr.get_routes(family=socket.AF_INET, table=MAIN_TABLE):
            parsed = parse_route_message(msg)
            if parsed is not None:
                out.append(parsed._replace(event="add"))
        return out

    def _resync(self, writer: RecordWriter, router: str, ipr: Any, t: float) -> None:
        self.resyncs += 1
        for prefix, change, hops in self.tables[router].replace_all(self._dump(ipr)):
            self.changes += 1
            record = route_record(t, router, prefix, change, hops, self._via(hops))
            record["resync"] = True
            self._write(writer, record)

    def _read(self, writer: RecordWriter, router: str, sock: socket.socket, ipr: Any) -> None:
        """Apply every message waiting on one router's socket, in order.

        A link message or lost messages (``ENOBUFS``) make the monitor read
        the table at once, before the messages that follow.
        """
        while True:
            try:
                data = sock.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    raise
                self._resync(writer, router, ipr, time.time())  # messages were lost
                continue
            if not data:
                return
            t = time.time()
            for msg in parse_datagram(data):
                if is_link_message(msg):
                    self._resync(writer, router, ipr, time.time())
                    continue
                parsed = parse_route_message(msg)
                applied = self.tables[router].apply(parsed) if parsed else None
                if applied:
                    change, hops = applied
                    self.changes += 1
                    self._write(
                        writer,
                        route_record(t, router, parsed.prefix, change, hops, self._via(hops)),
                    )

    def _run(self) -> None:
        """The thread: records until stopped; a failure ends it and is kept (never raised).

        A :class:`~testbed.records.WriteFault` (disk full...) goes to
        :attr:`fault`, anything else to :attr:`error`; the engine's watchdog
        sees the thread end and reads them.
        """
        try:
            self._record()
        except WriteFault as exc:
            self.fault = exc
        except Exception as exc:  # noqa: BLE001 - reported by the watchdog, not as a traceback
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self._ready.set()

    def _record(self) -> None:
        from testbed.net.netns import iproute_in

        plan = self.testbed.plan
        pids = {r: self.testbed.nodes[r].pid for r in plan.routed_routers()}
        socks: Dict[str, socket.socket] = {}
        iprs: Dict[str, Any] = {}
        try:
            for router, pid in pids.items():
                socks[router] = _subscribe(pid)  # before the dump: no change falls between
                iprs[router] = iproute_in(pid)
            with RecordWriter(self.path) as writer:
                now = time.time()
                for router, ipr in iprs.items():
                    table = RouterRoutes(self.prefixes)
                    table.replace_all(self._dump(ipr))
                    self.tables[router] = table
                    for prefix in self.prefixes:
                        hops = table.best(prefix) or ()
                        self._write(
                            writer,
                            route_record(now, router, prefix, "initial", hops, self._via(hops)),
                        )
                self._ready.set()
                poll = select.poll()
                by_fd = {sock.fileno(): router for router, sock in socks.items()}
                for fd in by_fd:
                    poll.register(fd, select.POLLIN)
                while not self._stop.is_set():
                    for fd, _ in poll.poll(200):
                        router = by_fd[fd]
                        self._read(writer, router, socks[router], iprs[router])
        finally:
            self._ready.set()
            for sock in socks.values():
                sock.close()
            for ipr in iprs.values():
                ipr.close()

    def start(self) -> RouteMonitor:
        """Start recording in a background thread; returns once the initial state is written."""
        self._thread = threading.Thread(target=self._run, name="route-monitor", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=30)
        return self

    def alive(self) -> bool:
        """True while the recorder's thread runs (started, not stopped, not crashed)."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Stop recording and close the file."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
