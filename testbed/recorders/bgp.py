"""BGP recorder: session state changes and update counters from FRR.

State changes come from each router's FRR log (``bgp log-neighbor-changes``
writes ``%ADJCHANGE`` lines with millisecond timestamps), followed as the
file grows; counters come from ``show bgp neighbors json`` every interval and
on demand (:meth:`BgpRecorder.snapshot`, e.g. right before an event).
Records go to ``bgp.jsonl`` (docs/records.md).
"""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from testbed.errors import TestbedError
from testbed.net import frr
from testbed.records import RecordWriter

_ADJ = re.compile(
    r"^(?P<ts>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)?) BGP: .*%ADJCHANGE: neighbor "
    r"(?P<addr>[0-9.]+)(?:\((?P<peer>[^)]*)\))? in vrf \S+ (?P<dir>Up|Down)(?P<why>.*)$"
)


def parse_adjchange(line: str) -> Optional[Tuple[float, str, str, str, str]]:
    """Parse an FRR ``%ADJCHANGE`` log line.

    Returns:
        (time, neighbor address, peer name, 'Up' or 'Down', reason), or None.
    """
    m = _ADJ.match(line.strip())
    if not m:
        return None
    fmt = "%Y/%m/%d %H:%M:%S.%f" if "." in m.group("ts") else "%Y/%m/%d %H:%M:%S"
    t = datetime.strptime(m.group("ts"), fmt).timestamp()
    peer = m.group("peer") or m.group("addr")
    return t, m.group("addr"), peer, m.group("dir"), m.group("why").strip()


def counters(router: str) -> Dict[str, Dict[str, int]]:
    """peer address -> {updates_in, updates_out, state} from ``show bgp neighbors json``."""
    data = json.loads(frr.vtysh(router, "show bgp neighbors json") or "{}")
    out = {}
    for addr, info in data.items():
        stats = info.get("messageStats", {})
        out[addr] = {
            "updates_in": int(stats.get("updatesRecv", 0)),
            "updates_out": int(stats.get("updatesSent", 0)),
            "state": info.get("bgpState", "?"),
        }
    return out


class BgpRecorder:
    """Follows every router's FRR log for session changes; snapshots counters."""

    def __init__(self, testbed, path: Path, interval: float = 5.0):
        self.testbed = testbed
        self.path = path
        self.interval = interval
        self._writer: Optional[RecordWriter] = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._offsets: Dict[str, int] = {}
        self._names = {
            r: {str(n.address): n.peer for n in plan.neighbors}
            for r, plan in testbed.plan.routers.items()
        }

    def _emit(self, record: dict) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.write(record)

    def _follow_logs(self) -> Iterator[dict]:
        for router in self.testbed.plan.frr_routers():
            path = frr.runtime_dir(router) / "frr.log"
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    fh.seek(self._offsets.get(router, 0))
                    chunk = fh.read()
                    # keep a partial last line for the next read
                    cut = chunk.rfind("\n") + 1
                    self._offsets[router] = self._offsets.get(router, 0) + len(chunk[:cut].encode())
            except OSError:
                continue
            for line in chunk[:cut].splitlines():
                parsed = parse_adjchange(line)
                if parsed:
                    t, addr, _, direction, why = parsed
                    yield {
                        "t": t,
                        "kind": "bgp",
                        "router": router,
                        "peer": self._names[router].get(addr, addr),
                        "event": "state",
                        "state": "Established" if direction == "Up" else "Idle",
                        "previous": "Idle" if direction == "Up" else "Established",
                        "reason": why or None,
                    }

    def snapshot(self) -> None:
        """Record every session's update counters now."""
        routers = self.testbed.plan.frr_routers()

        def one(router: str) -> List[dict]:
            try:
                data = counters(router)
            except (TestbedError, ValueError, OSError):
                return []
            t = time.time()
            return [
                {
                    "t": t,
                    "kind": "bgp",
                    "router": router,
                    "peer": self._names[router].get(addr, addr),
                    "event": "counters",
                    "updates_in": c["updates_in"],
                    "updates_out": c["updates_out"],
                }
                for addr, c in data.items()
            ]

        with ThreadPoolExecutor(max_workers=4) as pool:
            for records in pool.map(one, routers):
                for record in records:
                    self._emit(record)

    def _run(self) -> None:
        next_snapshot = time.monotonic() + self.interval
        while not self._stop.wait(0.25):
            for record in self._follow_logs():
                self._emit(record)
            if self.interval and time.monotonic() >= next_snapshot:
                self.snapshot()
                next_snapshot = time.monotonic() + self.interval

    def start(self) -> BgpRecorder:
        """Open bgp.jsonl, record the sessions so far, and follow from then on."""
        self._writer = RecordWriter(self.path)
        for record in self._follow_logs():
            self._emit(record)
        self.snapshot()
        self._thread = threading.Thread(target=self._run, name="bgp-recorder", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Final log read and counter snapshot, then close the file."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        for record in self._follow_logs():
            self._emit(record)
        self.snapshot()
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
