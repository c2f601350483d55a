"""Netlink sockets inside node namespaces, opened from the testbed process.

Mininet's namespaces are unnamed (held by each node's shell), so we enter one
with ``setns(2)`` on ``/proc/PID/ns/net`` in a short-lived thread (setns only
moves the calling thread), create a netlink socket there, and hand it to
pyroute2.  A socket stays bound to the namespace it was created in, so the
testbed can read every router's kernel routes without spawning a process per
router per poll.
"""

from __future__ import annotations

import ctypes
import os
import select
import socket
import threading
from ipaddress import IPv4Address, IPv4Network
from typing import Dict, List, Optional, Tuple

from pyroute2 import IPRoute

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)

#: prefix -> sorted next-hop addresses ("blackhole" / "connected" when none)
RouteTable = Dict[IPv4Network, Tuple[str, ...]]


def netlink_socket(pid: int, groups: int = 0) -> socket.socket:
    """A NETLINK_ROUTE socket inside the network namespace of process ``pid``.

    Args:
        pid: a process in the target namespace (a node's shell).
        groups: multicast groups to bind (0 for none).

    Returns:
        The socket, bound to that namespace for its lifetime.
    """
    result: Dict[str, object] = {}

    def enter_and_open() -> None:
        fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"setns into the namespace of pid {pid}: {os.strerror(err)}")
            result["sock"] = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0)
        except OSError as exc:
            result["error"] = exc
        finally:
            os.close(fd)

    thread = threading.Thread(target=enter_and_open, name=f"setns-{pid}")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["sock"]  # type: ignore[return-value]


RTMGRP_IPV4_ROUTE = 0x40


class RouteWatcher:
    """Wakes up when any watched namespace's IPv4 routes change (netlink multicast).

    One socket per namespace, subscribed to RTMGRP_IPV4_ROUTE; :meth:`wait`
    blocks until some change and says which namespaces changed, so callers
    re-read only those tables instead of polling every router.
    """

    def __init__(self, pids: Dict[str, int]):
        self.sockets: Dict[int, Tuple[str, socket.socket]] = {}
        for name, pid in pids.items():
            sock = netlink_socket(pid)
            sock.bind((0, RTMGRP_IPV4_ROUTE))
            sock.setblocking(False)
            self.sockets[sock.fileno()] = (name, sock)
        self._poll = select.poll()
        for fd in self.sockets:
            self._poll.register(fd, select.POLLIN)

    def wait(self, timeout: float) -> List[str]:
        """Names whose routes changed within ``timeout`` seconds (maybe none)."""
        changed = []
        for fd, _ in self._poll.poll(max(timeout, 0) * 1000):
            name, sock = self.sockets[fd]
            try:
                while sock.recv(65536):
                    pass
            except BlockingIOError:
                pass
            changed.append(name)
        return changed

    def close(self) -> None:
        """Close every socket."""
        for _, sock in self.sockets.values():
            sock.close()
        self.sockets.clear()


def iproute_in(pid: int) -> IPRoute:
    """A pyroute2 IPRoute bound to the namespace of ``pid``."""
    return IPRoute(use_socket=netlink_socket(pid))


def _nexthops(route) -> Tuple[str, ...]:
    gateway = route.get("RTA_GATEWAY") if hasattr(route, "get") else None
    hops: List[str] = []
    if gateway:
        hops.append(gateway)
    multipath = route.get("RTA_MULTIPATH") or []
    for hop in multipath:
        gw = hop.get("RTA_GATEWAY")
        if gw:
            hops.append(gw)
    if hops:
        return tuple(sorted(hops))
    return ("blackhole",) if route["type"] == 6 else ("connected",)


def read_routes(ipr: IPRoute, wanted: Optional[List[IPv4Network]] = None) -> RouteTable:
    """The IPv4 main-table routes of a namespace (only ``wanted`` prefixes if given).

    Args:
        ipr: an IPRoute from :func:`iproute_in`.
        wanted: prefixes of interest (None: all).

    Returns:
        prefix -> next hops.
    """
    table: RouteTable = {}
    for route in ipr.get_routes(family=socket.AF_INET, table=254):
        dst = route.get("RTA_DST") or "0.0.0.0"
        prefix = IPv4Network(f"{dst}/{route['dst_len']}")
        if wanted is not None and prefix not in wanted:
            continue
        table[prefix] = _nexthops(route)
    return table


def route_lookup(table: RouteTable, address: IPv4Address) -> Optional[Tuple[str, ...]]:
    """Longest-prefix match of ``address`` in a route table."""
    best: Optional[IPv4Network] = None
    for prefix in table:
        if address in prefix and (best is None or prefix.prefixlen > best.prefixlen):
            best = prefix
    return table[best] if best is not None else None
