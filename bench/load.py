"""Load benchmark: 16 clients x 100 DNS queries/s + 2 TCP streams each, for 60 s.

Brings up ``world`` with a second client in every eyeball AS (16 clients),
starts NSD and the stream service on every site, the recorders, and the
probes at the given rate, and after the given time prints: the sustained
query rate, the DNS loss, TCP resets and timeouts, whether any probe,
service or recorder died, and the CPU time the probes used.  The target:
nothing dies and fewer than 0.1 % of queries go unanswered.  Needs root.

    sudo .venv/bin/python bench/load.py [--seconds 60] [--rate 100] [--streams 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict

from testbed.analysis.load import load_run
from testbed.analysis.outage import dns_counts
from testbed.net.build import Testbed
from testbed.topology.load import load_topology
from testbed.topology.model import Topology
from testbed.traffic import TrafficParams, TrafficRun

LOSS_TARGET = 0.001


def sixteen_clients() -> Topology:
    """world with one more client per eyeball AS (``CLIENT2``): 16 clients."""
    topo = load_topology("world")
    data = topo.model_dump(by_alias=True, exclude_none=True)
    extra = [{"name": c["name"][:9] + "2", "as": c["as"]} for c in data["clients"]]
    data["clients"] = data["clients"] + extra
    data["name"] = "world16"
    return Topology.model_validate(data)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    """Run the load and print the figures; exit 1 if the target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--streams", type=int, default=2)
    args = parser.parse_args()
    topo = sixteen_clients()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as out:
        with Testbed(topo, Path(out)) as tb:
            conv = tb.wait_converged(timeout=60)
            if not conv.converged:
                print(f"BGP did not converge: {conv.missing}")
                return 1
            traffic = TrafficRun(tb, TrafficParams(dns_rate=args.rate, tcp_streams=args.streams))
            traffic.start()
            start = time.time()
            time.sleep(args.seconds)
            dead = traffic.dead()
            cpu: Dict[str, float] = {}
            for kinds in traffic.probes.values():
                for tracked in kinds.values():
                    cpu[tracked.name] = cpu.get(tracked.name, 0.0) + cpu_seconds(tracked.pid)
            elapsed = time.time() - start
            traffic.stop()
        run = load_run(out)
        sent = lost = late = 0
        for records in run.dns.values():
            counts = dns_counts(records)
            sent, lost, late = sent + counts.sent, lost + counts.lost, late + counts.late
        resets = sum(1 for r in (x for v in run.tcp.values() for x in v) if r["event"] == "reset")
        timeouts = sum(
            1 for r in (x for v in run.tcp.values() for x in v) if r["event"] == "timeout"
        )
    clients = len(run.dns)
    loss = lost / sent if sent else 1.0
    print(f"{clients} clients x {args.rate:g} q/s + {args.streams} TCP streams, {elapsed:.0f} s")
    print(f"  DNS queries sent      {sent} ({sent / elapsed:.0f}/s sustained)")
    print(f"  DNS lost              {lost} ({loss:.4%}; {late} answered late)")
    print(f"  TCP resets / timeouts {resets} / {timeouts}")
    print(f"  died (any kind)       {', '.join(dead) if dead else 'none'}")
    for name, seconds in sorted(cpu.items()):
        print(f"  CPU {name:<18} {seconds:.1f} s ({seconds / elapsed:.0%} of one core)")
    ok = not dead and loss < LOSS_TARGET and not resets and not timeouts
    print(f"target (nothing dies, loss < {LOSS_TARGET:.1%}): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
