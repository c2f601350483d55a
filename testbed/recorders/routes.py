"""Route monitor: every router's route to the anycast prefix, from netlink events.

One netlink socket per router namespace (see :mod:`testbed.net.netns`),
subscribed to IPv4 route events; when a router's table changes, its route to
the watched prefixes is re-read and any difference is written to
``routes.jsonl`` (records in docs/records.md), stamped with the time the
kernel's notification arrived.
"""

from __future__ import annotations

import threading
import time
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from testbed.net.netns import RouteWatcher, iproute_in, read_routes
from testbed.records import RecordWriter


def route_change(
    before: Optional[Tuple[str, ...]], after: Optional[Tuple[str, ...]]
) -> Optional[str]:
    """Classify a change of one route: added, removed, nexthop, or None."""
    if before == after:
        return None
    if not before:
        return "added"
    if not after:
        return "removed"
    return "nexthop"


class RouteMonitor:
    """Records changes of every router's routes to ``prefixes`` until stopped."""

    def __init__(self, testbed, prefixes: List[IPv4Network], path: Path):
        self.testbed = testbed
        self.prefixes = prefixes
        self.path = path
        self.current: Dict[str, Dict[IPv4Network, Tuple[str, ...]]] = {}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._ready = threading.Event()
        self.changes = 0

    def _via(self, hops: Tuple[str, ...]) -> List[str]:
        out = []
        for hop in hops:
            if hop in ("blackhole", "connected"):
                out.append(hop)
            else:
                out.append(self.testbed.plan.owner_of(IPv4Address(hop)) or hop)
        return out

    def _write(self, writer: RecordWriter, t: float, router: str, prefix, change, hops) -> None:
        writer.write(
            {
                "t": t,
                "kind": "route",
                "router": router,
                "prefix": str(prefix),
                "change": change,
                "nexthops": list(hops or ()),
                "via": self._via(hops or ()),
            }
        )

    def _run(self) -> None:
        plan = self.testbed.plan
        pids = {r: self.testbed.nodes[r].pid for r in plan.frr_routers()}
        watcher = RouteWatcher(pids)
        iprs = {r: iproute_in(pid) for r, pid in pids.items()}
        try:
            with RecordWriter(self.path) as writer:
                now = time.time()
                for router, ipr in iprs.items():
                    table = read_routes(ipr, self.prefixes)
                    self.current[router] = table
                    for prefix in self.prefixes:
                        self._write(writer, now, router, prefix, "initial", table.get(prefix))
                self._ready.set()
                while not self._stop.is_set():
                    changed = watcher.wait(0.2)
                    t = time.time()
                    for router in changed:
                        table = read_routes(iprs[router], self.prefixes)
                        for prefix in self.prefixes:
                            before = self.current[router].get(prefix)
                            after = table.get(prefix)
                            change = route_change(before, after)
                            if change:
                                self.changes += 1
                                self._write(writer, t, router, prefix, change, after)
                        self.current[router] = table
        finally:
            self._ready.set()
            watcher.close()
            for ipr in iprs.values():
                ipr.close()

    def start(self) -> RouteMonitor:
        """Start recording in a background thread; returns once the initial state is written."""
        self._thread = threading.Thread(target=self._run, name="route-monitor", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=30)
        return self

    def stop(self) -> None:
        """Stop recording and close the file."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
