"""Site load recorder: a site node's counters, sampled every 250 ms.

Runs as a small process inside the site's network namespace (one per site),
started by :class:`~testbed.traffic.TrafficRun`::

    python -m testbed.recorders.load --site nyc --uplinks nyc-e0,nyc-e1 \\
        --interval 0.25 --out RUN/records/load-nyc.jsonl

Each sample is one record of cumulative counters (docs/records.md):

- ``rx_packets``, ``rx_bytes``: received on the site's uplinks (netlink link
  statistics): everything offered to the site, before its queue;
- ``legit_*``, ``attack_*``, ``policed_packets``, ``answered_*``: the named
  counters of the site's nftables table (:mod:`testbed.net.capacity`);
- ``served``: DNS answers per server (server name -> count), from the same table;
- ``queue_drops``, ``queue_backlog``: the bandwidth queue's tbf statistics
  (netlink), 0 without a bandwidth capacity.

The samples are taken on a fixed schedule (not drifting with the time a
sample takes); a sample that fails to read a source keeps the others and
names the failure once in the log.
"""

from __future__ import annotations

import json
import select
import sys
import time
from typing import Any, Dict, List, Optional

from testbed import proc
from testbed.net.capacity import COUNTERS, IFB, TABLE, served_counter
from testbed.records import RecordWriter

#: Seconds between two samples (the issue asks for at least every 250 ms).
INTERVAL = 0.25


class Counters:
    """Reads one site node's counters (netlink and nftables, in this namespace)."""

    def __init__(self, uplinks: List[str], servers: Optional[List[str]] = None) -> None:
        from nftables import Nftables  # Debian's python3-nftables
        from pyroute2 import IPRoute

        self.uplinks = set(uplinks)
        self.servers = {served_counter(k): name for k, name in enumerate(servers or [])}
        self.ipr = IPRoute()
        self.nft = Nftables()
        self.nft.set_json_output(True)
        self.problems: set = set()

    def close(self) -> None:
        """Close the netlink socket."""
        self.ipr.close()

    def _note(self, problem: str) -> None:
        if problem not in self.problems:
            self.problems.add(problem)
            sys.stderr.write(f"load recorder: {problem}\n")

    def sample(self) -> Dict[str, Any]:
        """One sample: every counter, cumulative (missing sources count 0)."""
        out: Dict[str, Any] = {"rx_packets": 0, "rx_bytes": 0, "queue_drops": 0, "queue_backlog": 0}
        ifb: Optional[int] = None
        for link in self.ipr.get_links():
            name = link.get_attr("IFLA_IFNAME")
            if name == IFB:
                ifb = link["index"]
            if name in self.uplinks:
                stats = link.get_attr("IFLA_STATS64") or {}
                out["rx_packets"] += int(stats.get("rx_packets", 0))
                out["rx_bytes"] += int(stats.get("rx_bytes", 0))
        if ifb is not None:
            for qdisc in self.ipr.get_qdiscs(index=ifb):
                if qdisc.get_attr("TCA_KIND") == "tbf":
                    stats = qdisc.get_attr("TCA_STATS") or {}
                    out["queue_drops"] = int(stats.get("drop", 0))
                    out["queue_backlog"] = int(stats.get("backlog", 0))
        for name in COUNTERS:
            out[f"{name}_packets" if name in ("legit", "attack", "policed") else name] = 0
            if name in ("legit", "attack"):
                out[f"{name}_bytes"] = 0
        served = out["served"] = {name: 0 for name in self.servers.values()}
        rc, text, err = self.nft.cmd(f"list counters table ip {TABLE}")
        if rc != 0:
            self._note(f"nft: {err.strip()}")
            return out
        for item in json.loads(text).get("nftables", []):
            counter = item.get("counter")
            if counter and counter.get("name") in self.servers:
                served[self.servers[counter["name"]]] = int(counter.get("packets", 0))
            if not counter or counter.get("name") not in COUNTERS:
                continue
            name = counter["name"]
            if name in ("legit", "attack"):
                out[f"{name}_packets"] = int(counter.get("packets", 0))
                out[f"{name}_bytes"] = int(counter.get("bytes", 0))
            elif name == "policed":
                out["policed_packets"] = int(counter.get("packets", 0))
            else:
                out[name] = int(counter.get("packets", 0))
        return out


def run(site: str, counters: Counters, writer: RecordWriter, interval: float, stop) -> int:
    """Sample until ``stop`` (a :class:`~testbed.proc.StopSignal`); returns the samples written."""
    start = time.monotonic()
    n = 0
    while not stop.stopped:
        writer.write({"t": time.time(), "site": site, **counters.sample()})
        n += 1
        delay = start + n * interval - time.monotonic()
        if delay < 0:  # fell behind (a stalled machine): skip the missed slots
            n += int(-delay // interval) + 1
            delay = start + n * interval - time.monotonic()
        ready, _, _ = select.select([stop], [], [], max(delay, 0))
        if ready:
            stop.drain()
    writer.write({"t": time.time(), "site": site, **counters.sample()})  # the last figures
    return n + 1


def _parser() -> proc.Parser:
    p = proc.Parser(prog="testbed.recorders.load", description=__doc__.splitlines()[0])
    p.add_argument("--site", required=True, type=proc.name, help="the site's name")
    p.add_argument("--uplinks", required=True, help="the site node's uplinks, comma-separated")
    p.add_argument("--servers", default="", help="the site's servers, comma-separated, in order")
    p.add_argument(
        "--interval",
        default=INTERVAL,
        type=proc.bounded(0.05, 10),
        help=f"seconds between samples (default {INTERVAL:g})",
    )
    proc.add_out(p)
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.recorders.load``."""
    parser = _parser()
    args = proc.arguments(parser, argv)
    uplinks = [u for u in args.uplinks.split(",") if u]
    with proc.recording(parser.prog, args.out) as (stop, writer):
        counters = Counters(uplinks, [s for s in args.servers.split(",") if s])
        try:
            n = run(args.site, counters, writer, args.interval, stop)
        finally:
            counters.close()
    sys.stderr.write(f"load recorder {args.site}: {n} samples\n")


if __name__ == "__main__":
    main()
