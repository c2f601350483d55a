"""Benchmark: SIGKILL the testbed at random moments, then `anycast-testbed clean`: nothing left.

For each of N kill points (default 20), drawn from a seeded generator: start
the CLI as a subprocess -- ``up two-sites`` (bring-up) or ``run`` of a short
scenario on two-sites (bring-up, an event that crashes a router and one that
restarts it, teardown, analysis) --, sleep a random delay, SIGKILL the CLI's
PID only (as a user's ``kill -9`` would: its daemons and children live on),
read the state file it left, run ``clean``, and check that nothing is left:

- no process the state file lists (PID and start time), and no process at
  all inside a namespace it recorded (by inode);
- no namespace anchor still mounted, no namespace of its nodes;
- no interface in the root namespace (nor ``ip netns`` name) that was not
  there before;
- no ``/run/frr/ROUTER`` folder of the topology's routers, no state file,
  and the one-testbed lock free;
- no process whose command line names the run folder, an FRR pathspace of the
  topology or a Mininet node shell (a last look, never used to kill).

One line per kill point, then the total.  Needs root; one testbed at a time.

    sudo .venv/bin/python bench/killpoints.py [-n 20] [--seed 1] [--out DIR]

The integration tests run a few points through :func:`run_points`.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Set, Tuple

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from testbed.net import anchors  # noqa: E402
from testbed.net.state import NETNS_DIR, STATE_FILE, Claim, State, load_state  # noqa: E402

TOPOLOGY = "two-sites"
#: The short scenario of the ``run`` kill points: a crash and a restart in 5 s.
SCENARIO = """\
name: killpoint
description: "short: west's router crashes at 1 s and comes back at 3 s"
topology: two-sites
duration: 5
settle: 1
bgp: {keepalive: 1, hold: 3}
timeline:
  - {at: 1, event: fail_site, site: west, how: router-crash}
  - {at: 3, event: restore, site: west}
"""
#: Kill delays are drawn from [0, WINDOW[mode]] seconds after the CLI starts:
#: ``up`` is up and converged after about 3.5 s, ``run`` ends after about 11 s.
WINDOW = {"up": 4.5, "run": 12.0}


@dataclass
class Point:
    """One kill point: what runs, and when it is killed."""

    index: int
    mode: str  # "up" or "run"
    delay: float


@dataclass
class Outcome:
    """What one kill point found."""

    point: Point
    phase: str
    exited: Optional[int]  # the CLI's exit status if it ended before the kill
    cleaned: str
    clean_s: float
    left: List[str] = field(default_factory=list)

    def line(self) -> str:
        """One line: the point, where it landed, what clean did, what was left."""
        p = self.point
        where = f"exited {self.exited} first" if self.exited is not None else f"in {self.phase}"
        left = "nothing left" if not self.left else "LEFT: " + "; ".join(self.left)
        return (
            f"{p.index:3d}  {p.mode:<3}  kill at {p.delay:5.2f} s  {where:<22}  "
            f"clean: {self.cleaned} ({self.clean_s:.1f} s)  {left}"
        )


def points(n: int, seed: int) -> List[Point]:
    """``n`` kill points from a generator seeded with ``seed`` (``up`` and ``run`` alternate)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        mode = "up" if i % 2 == 0 else "run"
        out.append(Point(i + 1, mode, round(rng.uniform(0.0, WINDOW[mode]), 2)))
    return out


def root_links() -> Set[str]:
    """Interface names in the root network namespace, and the named namespaces (``ip netns``)."""
    named = Path("/run/netns")
    netns = {f"netns {n}" for n in os.listdir(named)} if named.is_dir() else set()
    return set(os.listdir("/sys/class/net")) | netns


def _cmdline(pid: str) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline")
            .read_bytes()
            .replace(b"\0", b" ")
            .decode("utf-8", "replace")
        )
    except OSError:
        return ""


def _state_letter(pid: str) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "X"
    return stat[stat.rfind(")") + 2 :].split()[0]


def _netns(pid: str) -> Optional[int]:
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None


def phase_of(state: Optional[State], run_dir: Optional[Path] = None) -> str:
    """How far the killed testbed had got, from the state file it left (and its run folder)."""
    if state is None and run_dir is not None and (run_dir / "meta.json").exists():
        return "analysis (torn down)"
    if state is None:
        return "start (no state yet)"
    names = {p.name for p in state.processes}
    if not state.nodes:
        return "claim / configs"
    if not names:
        return "network / FRR start"
    if "dns-probe" in names:
        return "traffic / timeline"
    if {"nsd", "stream"} & names:
        return "services"
    return "FRR started / up"


def leftovers(state: Optional[State], before_links: Set[str], routers: List[str]) -> List[str]:
    """Everything of the killed testbed still there after ``clean`` (empty: nothing)."""
    left: List[str] = []
    inodes: Set[int] = set()
    run_dir = ""
    if state is not None:
        run_dir = state.run_dir
        left += [f"process {p.name}@{p.node} pid {p.pid}" for p in state.processes if p.alive()]
        left += [f"shell of {n} pid {t.pid}" for n, t in state.nodes.items() if t.alive()]
        inodes = {t.netns for t in state.nodes.values() if t.netns}
        left += [f"anchor {m}" for m in state.mounts if anchors.inode(Path(m))]
        left += [f"directory {d}" for d in state.dirs if Path(d).exists()]
    mounts = Path("/proc/self/mountinfo").read_text()
    if str(NETNS_DIR) in mounts:
        left.append(f"a mount under {NETNS_DIR}")
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or _state_letter(pid) in ("Z", "X"):
            continue
        if inodes and _netns(pid) in inodes:
            left.append(f"pid {pid} in a testbed namespace: {_cmdline(pid)[:80]}")
            continue
        cmd = _cmdline(pid)
        if (run_dir and run_dir in cmd) or "mininet:" in cmd:
            left.append(f"pid {pid}: {cmd[:80]}")
        elif any(f"/run/frr/{r}/" in cmd or f" -N {r} " in f" {cmd} " for r in routers):
            left.append(f"FRR pid {pid}: {cmd[:80]}")
    new_links = root_links() - before_links
    if new_links:
        left.append(f"new in the root namespace: {', '.join(sorted(new_links))}")
    left += [f"/run/frr/{r}" for r in routers if Path(f"/run/frr/{r}").exists()]
    if STATE_FILE.exists():
        left.append(f"state file {STATE_FILE}")
    claim = Claim()
    if not claim.acquire():
        left.append("the one-testbed lock is still held")
    claim.release()
    return left


def _routers() -> List[str]:
    from testbed.topology.load import load_topology
    from testbed.topology.plan import make_plan

    return list(make_plan(load_topology(TOPOLOGY)).routers)


def run_point(point: Point, out: Path, scenario: Path, routers: List[str]) -> Outcome:
    """Start the CLI, SIGKILL it after the point's delay, clean, and look for leftovers."""
    before = root_links()
    folders = set(out.iterdir())
    if point.mode == "up":
        args = ["up", TOPOLOGY, "--out", str(out)]
    else:
        args = ["run", str(scenario), "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "testbed", *args],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    exited: Optional[int] = None
    try:
        proc.wait(timeout=point.delay)
        exited = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()  # SIGKILL to the CLI's PID only
        proc.wait(timeout=30)
    state = load_state()
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "testbed", "clean"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    clean_s = time.monotonic() - start
    cleaned = (done.stdout.strip() or done.stderr.strip()).splitlines()
    summary = cleaned[-1] if cleaned else f"exit {done.returncode}"
    summary = summary.replace("cleaned: ", "").split(":")[0]
    left = leftovers(state, before, routers)
    if done.returncode != 0:
        left.append(f"clean exited {done.returncode}: {summary}")
    made = sorted(set(out.iterdir()) - folders)
    phase = phase_of(state, made[0] if made else None)
    return Outcome(point, phase, exited, summary, clean_s, left)


def run_points(pts: List[Point], out: Optional[Path] = None, say=print) -> List[Outcome]:
    """Run kill points one after the other; ``say`` each line.

    Args:
        pts: from :func:`points`.
        out: folder for the run folders (default: a temporary one, removed).
        say: prints one line.

    Returns:
        Every point's outcome.
    """
    routers = _routers()
    tmp = Path(tempfile.mkdtemp(prefix="killpoints-"))
    scenario = tmp / "killpoint.yaml"
    scenario.write_text(SCENARIO)
    folder = out or tmp / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    outcomes = []
    try:
        for point in pts:
            outcome = run_point(point, folder, scenario, routers)
            say(outcome.line())
            outcomes.append(outcome)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return outcomes


def totals(outcomes: List[Outcome]) -> Tuple[int, int]:
    """(points with nothing left, points with leftovers)."""
    bad = sum(1 for o in outcomes if o.left)
    return len(outcomes) - bad, bad


def main(argv: Optional[List[str]] = None) -> int:
    """Run the kill points and print one line each and the total; exit 1 on any leftover."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="kill points (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the points (default 1)")
    parser.add_argument("--out", type=Path, help="folder for the run folders (default: temporary)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("killpoints: needs root", file=sys.stderr)
        return 2
    if load_state() is not None:
        print("killpoints: a testbed state exists (run: anycast-testbed clean)", file=sys.stderr)
        return 2
    start = time.monotonic()
    outcomes = run_points(points(args.n, args.seed), args.out)
    ok, bad = totals(outcomes)
    print(
        f"{len(outcomes)} kill points (seed {args.seed}) in {time.monotonic() - start:.0f} s: "
        f"{ok} left nothing, {bad} left something"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
