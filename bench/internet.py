"""Internet-sized topologies: bring up internet:N, converge, check every path valley-free.

Prints, for N = 100, 300, 500 (or the sizes given): ASes and routers, BGP
sessions, bring-up time (namespaces, links, FRR started), the time from FRR
start to the last route change (convergence: every router has the routes
valley-free export brings it, then 1 s without a change), the routers the
policy leaves without some route, the policy check (every valid path in every
router's BGP table: paths judged, violations, and how long reading and
judging them took), teardown, and the daemons' memory per router.  A
second line per size splits the time (render, namespaces and links, daemons
started, convergence after the last daemon started) and the memory (the
daemons' RSS per router by kind; the machine's memory in use, from
/proc/meminfo, before and once converged).  Targets (issue 19): internet:500
up and converged in under 60 s and 12 GB, teardown under 5 s.

``--daemon bird`` runs every transit and eyeball AS on BIRD 2 (sites stay on
FRR), ``--daemon mixed`` every other one.

    sudo .venv/bin/python bench/internet.py [--seed S] [--daemon frr|bird|mixed] [N ...]
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
from startup import rss_kb, with_daemons  # noqa: E402 - the sibling benchmark's helpers


def mem_used_mb() -> float:
    """The machine's memory in use (MemTotal - MemAvailable), MB."""
    fields = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = int(value.split()[0])
    return (fields["MemTotal"] - fields["MemAvailable"]) / 1024


def measure(n: int, seed: int, daemon: str = "frr") -> Dict[str, Any]:
    """Bring internet:N up and down once; return the figures."""
    topo = with_daemons(load_topology(f"internet:{n}:seed={seed}"), daemon)
    with tempfile.TemporaryDirectory() as tmp:
        before = mem_used_mb()
        t0, wall0 = time.monotonic(), time.time()
        with Testbed(topo, Path(tmp)) as tb:
            up = time.monotonic() - t0
            conv = tb.wait_converged(timeout=600, quiet=1.0)
            total = conv.at - wall0  # from the start to the last route change
            used = mem_used_mb()
            t1 = time.monotonic()
            check = check_testbed(tb)
            checked = time.monotonic() - t1
            state = load_state()
            by_kind: Dict[str, List[int]] = {"frr": [], "bird": []}
            for name in tb.plan.routed_routers():
                kind = tb.plan.routers[name].daemon
                pids = [p.pid for p in state.processes if p.node == name] if state else []
                by_kind[kind].append(sum(rss_kb(pid) for pid in pids))
            rss = sum(sum(v) for v in by_kind.values())
            routers = len(tb.plan.routers)
            timings = dict(tb.timings)
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
        "total_s": total,
        "timings": timings,
        "mem_mb": (before, used),
        "rss_mb": {k: sum(v) / 1024 / len(v) for k, v in by_kind.items() if v},
    }


def split_line(r: Dict[str, Any]) -> str:
    """Where the time and the memory went."""
    t = r["timings"]
    started = t.get("render", 0) + t.get("network", 0) + t.get("daemons", 0)
    rss = ", ".join(f"{k} {v:.1f} MB/router" for k, v in r["rss_mb"].items())
    before, used = r["mem_mb"]
    return (
        f"     up and converged in {r['total_s']:.1f} s: render {t.get('render', 0):.1f} s, "
        f"namespaces and links {t.get('network', 0):.1f} s, daemons started "
        f"{t.get('daemons', 0):.1f} s, convergence {max(r['total_s'] - started, 0):.1f} s after; "
        f"memory in use {used - before:.0f} MB ({rss})"
    )


def main(argv: List[str]) -> None:
    """Parse the sizes and print one line per size."""
    parser = argparse.ArgumentParser(prog="bench/internet.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, metavar="N", help="internet sizes (20-1000)")
    parser.add_argument("--seed", type=int, default=0, help="the generator's seed")
    parser.add_argument(
        "--daemon", choices=("frr", "bird", "mixed"), default="frr", help="transit/eyeball daemons"
    )
    args = parser.parse_args(argv)
    print(
        f"{'N':>4} {'ASes':>5} {'routers':>7} {'sessions':>8} {'up s':>6} {'BGP s':>6} "
        f"{'no route':>8} {'paths':>7} {'violations':>10} {'check s':>7} {'down s':>6} "
        f"{'MB/router':>9}"
    )
    for n in args.sizes or [100, 300, 500]:
        r = measure(n, args.seed, args.daemon)
        flag = "" if r["converged"] else "  NOT CONVERGED"
        print(
            f"{r['n']:>4} {r['ases']:>5} {r['routers']:>7} {r['sessions']:>8} {r['up_s']:>6.1f} "
            f"{r['converge_s']:>6.1f} {r['no_route']:>8} {r['paths']:>7} {r['violations']:>10} "
            f"{r['check_s']:>7.1f} {r['down_s']:>6.1f} {r['rss_mb_per_router']:>9.1f}{flag}",
            flush=True,
        )
        print(split_line(r), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
