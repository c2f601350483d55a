"""Benchmark: `anycast-testbed run site-failure` end to end, and where the time goes.

Target on a 2-core machine: bring-up, the 60 s timeline, teardown, analysis
and report in under 90 s.  Prints the wall-clock total and the split the
engine records in RUN/timings.json, as parts that add up to the total.
Needs root.

    sudo .venv/bin/python bench/run.py [SCENARIO] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

TARGET_S = 90.0
#: Parts of a run in RUN/timings.json that do not overlap, in order (key, label).
#: ``bring_up_with_settle_s`` holds ``network_and_services_s`` and the settle
#: time, so it is split into those two rather than added to them.
PARTS = (
    ("timeline_s", "timeline"),
    ("teardown_s", "teardown"),
    ("analysis_s", "analysis and report"),
)


def split(timings: Dict[str, float], total: float) -> List[Tuple[str, float]]:
    """Where the time of one run went: parts that add up to ``total``.

    Args:
        timings: RUN/timings.json (seconds per engine phase).
        total: wall-clock seconds of the whole command.

    Returns:
        (label, seconds) pairs; the last is what no phase covers (Python
        start, CLI, output).
    """
    up = timings.get("network_and_services_s", 0.0)
    with_settle = timings.get("bring_up_with_settle_s", up)
    out = [("network and services up", up), ("settle", max(0.0, with_settle - up))]
    out += [(label, timings[key]) for key, label in PARTS if key in timings]
    covered = with_settle + sum(timings.get(key, 0.0) for key, _ in PARTS)
    out.append(("python start, CLI, output", total - covered))
    return out


def main(argv: list) -> int:
    """Run the scenario through the CLI and print the figures."""
    scenario = argv[0] if argv and not argv[0].startswith("--") else "site-failure"
    rest = argv[1:] if argv and not argv[0].startswith("--") else argv
    with tempfile.TemporaryDirectory(prefix="bench-run-") as out:
        start = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "testbed", "run", scenario, "--out", out, *rest],
            capture_output=True,
            text=True,
        )
        total = time.monotonic() - start
        folders = list(Path(out).iterdir())
        if done.returncode not in (0, 1) or not folders:
            print(done.stdout + done.stderr)
            return 1
        timings = json.loads((folders[0] / "timings.json").read_text())
    print(
        f"scenario {scenario}: exit {done.returncode}, {total:.1f} s end to end "
        f"(target < {TARGET_S:.0f} s: {'met' if total < TARGET_S else 'NOT met'})"
    )
    for label, value in split(timings, total):
        print(f"  {label:<28} {value:7.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
