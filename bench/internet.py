"""Internet-sized topologies: bring up internet:N, converge, check every path valley-free.

Prints, for N = 100, 300, 500 (or the sizes given): ASes and routers, BGP
sessions, bring-up time (namespaces, links, FRR started), the time from FRR
start to the last route change (convergence: every router has the routes
valley-free export brings it, then 1 s without a change), the routers the
policy leaves without some route, the policy check (every valid path in every
router's BGP table: paths judged, violations, and how long reading and
judging them took), teardown, and FRR's memory per router.  The target is
the scale issue's; here the point is that an internet-sized topology comes
up, converges and passes its policy check, and what that costs.

    sudo .venv/bin/python bench/internet.py [--seed S] [N ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

from testbed.net.build import Testbed
from testbed.net.state import load_state
from testbed.policy.live import check_testbed
from testbed.topology.load import load_topology

sys.path.insert(0, str(Path(__file__).resolve().parent))
from startup import rss_kb  # noqa: E402 - the sibling benchmark's helper


def measure(n: int, seed: int) -> Dict[str, Any]:
    """Bring internet:N up and down once; return the figures."""
    topo = load_topology(f"internet:{n}:seed={seed}")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        with Testbed(topo, Path(tmp)) as tb:
            up = time.monotonic() - t0
            conv = tb.wait_converged(timeout=600, quiet=1.0)
            t1 = time.monotonic()
            check = check_testbed(tb)
            checked = time.monotonic() - t1
            state = load_state()
            rss = sum(rss_kb(p.pid) for p in state.processes) if state else 0
            routers = len(tb.plan.routers)
            sessions = sum(len(r.neighbors) for r in tb.plan.routers.values()) // 2
            t2 = time.monotonic()
        down = time.monotonic() - t2
    return {
        "n": n,
        "ases": len(topo.ases),
        "routers": routers,
        "sessions": sessions,
        "up_s": up,
        "converge_s": conv.seconds,
        "converged": conv.converged,
        "no_route": len(conv.no_route.get("policy", {})),
        "paths": check.paths if check else 0,
        "violations": len(check.violations) if check else 0,
        "check_s": checked,
        "down_s": down,
        "rss_mb_per_router": rss / 1024 / max(routers, 1),
    }


def main(argv: List[str]) -> None:
    """Parse the sizes and print one line per size."""
    parser = argparse.ArgumentParser(prog="bench/internet.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, metavar="N", help="internet sizes (20-1000)")
    parser.add_argument("--seed", type=int, default=0, help="the generator's seed")
    args = parser.parse_args(argv)
    print(
        f"{'N':>4} {'ASes':>5} {'routers':>7} {'sessions':>8} {'up s':>6} {'BGP s':>6} "
        f"{'no route':>8} {'paths':>7} {'violations':>10} {'check s':>7} {'down s':>6} "
        f"{'MB/router':>9}"
    )
    for n in args.sizes or [100, 300, 500]:
        r = measure(n, args.seed)
        flag = "" if r["converged"] else "  NOT CONVERGED"
        print(
            f"{r['n']:>4} {r['ases']:>5} {r['routers']:>7} {r['sessions']:>8} {r['up_s']:>6.1f} "
            f"{r['converge_s']:>6.1f} {r['no_route']:>8} {r['paths']:>7} {r['violations']:>10} "
            f"{r['check_s']:>7.1f} {r['down_s']:>6.1f} {r['rss_mb_per_router']:>9.1f}{flag}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
