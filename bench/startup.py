"""Start-up benchmark: bring up chain:N, wait for BGP convergence, measure memory.

Prints, for N = 10, 50, 100, 200 (or the sizes given): routers, bring-up
time (namespaces, links, FRR started), time from FRR start to the last
route change (BGP convergence), total from the start to that last change,
teardown time, and FRR memory (RSS) per router.
Targets on a 2-core machine: 52 routers up and converged in under 4 s,
202 in under 15 s.

"floor s" is the least time BGP can take to carry a route from one end of
the chain to the other in FRR: bgpd holds every received route 50 ms before
it processes it (a fixed work-queue hold, ``spec.hold = 50`` in
bgp_process_queue_init, bgpd/bgp_route.c; no command changes it), so a chain
of R routers needs at least (R - 1) x 50 ms after its sessions are up.  With
R = 52 that is 2.55 s on top of the bring-up, whatever the machine.

``--daemon bird`` runs the chain's ASes on BIRD 2 (the site stays on FRR):
BIRD has no fixed hold per received route, so the floor is FRR's only.

    sudo .venv/bin/python bench/startup.py [--workers K] [--daemon frr|bird] [N ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from testbed.net import build
from testbed.net.build import Testbed
from testbed.net.state import load_state
from testbed.topology.load import load_topology, parse_topology
from testbed.topology.model import Topology

#: bgpd's fixed hold before it processes a received route (bgpd/bgp_route.c)
FRR_HOLD_S = 0.05


def rss_kb(pid: int) -> int:
    """Resident memory of a process in kB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def with_daemons(topo: Topology, daemon: str) -> Topology:
    """The topology with its transit and eyeball ASes on ``daemon`` (``frr``, ``bird``;
    ``mixed``: every other one), sites as they are."""
    if daemon == "frr":
        return topo
    data = topo.model_dump(mode="json", by_alias=True)
    routed = [a for a in data["ases"] if a["role"] != "anycast"]
    for i, asys in enumerate(routed):
        if daemon == "bird" or i % 2:
            asys["daemon"] = "bird"
    return parse_topology(data, topo.name)


def measure(n: int, daemon: str = "frr") -> dict:
    """Bring chain:N up and down once (its ASes on ``daemon``); return the figures."""
    topo = with_daemons(load_topology(f"chain:{n}"), daemon)
    with tempfile.TemporaryDirectory() as tmp:
        t0, wall0 = time.monotonic(), time.time()
        with Testbed(topo, Path(tmp)) as tb:
            up = time.monotonic() - t0
            conv = tb.wait_converged(timeout=120, quiet=1.0)
            total = conv.at - wall0  # from the start to the last route change
            state = load_state()
            rss = sum(rss_kb(p.pid) for p in state.processes)
            routers = len(tb.plan.routers)
            t1 = time.monotonic()
        down = time.monotonic() - t1
    return {
        "n": n,
        "routers": routers,
        "up_s": up,
        "converge_s": conv.seconds,
        "converged": conv.converged,
        "total_s": total,
        "down_s": down,
        "rss_mb_per_router": rss / 1024 / routers,
        **{f"t_{k}": v for k, v in tb.timings.items()},
    }


def main(argv: list) -> None:
    """Parse the sizes and print one line per size."""
    parser = argparse.ArgumentParser(prog="bench/startup.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, metavar="N", help="chain sizes")
    parser.add_argument(
        "--workers",
        type=int,
        default=build.FRR_START_WORKERS,
        help="routers starting FRR at once (default %(default)s)",
    )
    parser.add_argument(
        "--daemon", choices=("frr", "bird"), default="frr", help="the chain's routing daemon"
    )
    args = parser.parse_args(argv)
    sizes = args.sizes or [10, 50, 100, 200]
    build.FRR_START_WORKERS = args.workers
    print(
        f"{'N':>4} {'routers':>7} {'up s':>6} {'BGP s':>6} {'floor s':>7} {'total s':>7} "
        f"{'down s':>6} {'MB/router':>9}  breakdown"
    )
    for n in sizes:
        r = measure(n, args.daemon)
        flag = "" if r["converged"] else "  NOT CONVERGED"
        print(
            f"{r['n']:>4} {r['routers']:>7} {r['up_s']:>6.2f} {r['converge_s']:>6.2f} "
            f"{(r['routers'] - 1) * FRR_HOLD_S:>7.2f} "
            f"{r['total_s']:>7.2f} {r['down_s']:>6.2f} {r['rss_mb_per_router']:>9.1f}  "
            f"render {r['t_render']:.2f} net {r['t_network']:.2f} "
            f"daemons {r['t_daemons']:.2f}{flag}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
