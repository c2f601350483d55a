"""Benchmark: `anycast-testbed run site-failure` end to end, and where the time goes.

Target on a 2-core machine: bring-up, the 60 s timeline, teardown, analysis
and report in under 90 s.  Prints the wall-clock total and the split the
engine records in RUN/timings.json.  Needs root.

    sudo .venv/bin/python bench/run.py [SCENARIO] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 90.0


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
    for key, value in timings.items():
        print(f"  {key:<28} {value:7.2f} s")
    rest_s = total - sum(timings.values())
    print(f"  {'python start, CLI, output':<28} {rest_s:7.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
