"""Transport benchmark: how many flows of each probe kind the testbed sustains
with less than 0.1 % self-inflicted loss.

For each probe kind and each number of flows per client (``tcp_streams`` for
the long-lived kinds, ``quic_connections`` for the QUIC ones; the request
kinds run at their default rate, once), a
quiet run on ``world`` (8 clients, no event, the given seconds of traffic):
nothing fails, so every query lost, request failed or connection broken is
the testbed's own doing (CPU, queues, timers).  Prints per kind and flows per
client: flows in all, broken or lost, the loss, and the run's CPU time; and
the largest number of flows per client under the target.  Needs root.

    sudo .venv/bin/python bench/transport.py [--seconds 20]
        [--kinds tcp-retry,quic] [--streams 1,2,4,8]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List

LOSS_TARGET = 0.001
#: Kinds whose flows per client follow ``traffic.tcp_streams`` or, for QUIC,
#: ``traffic.quic_connections``.
LONG_LIVED = ("tcp-stream", "tcp-retry", "hybrid", "quic", "quic-shared")
KINDS = ("dns", "tcp-stream", "tcp-retry", "http-short", "hybrid", "quic", "quic-shared", "dns-tcp")


def run_once(kind: str, streams: int, seconds: float) -> Dict[str, Any]:
    """One quiet run of ``kind`` with ``streams`` flows per client; its figures."""
    kinds = "[dns]" if kind == "dns" else f"[{kind}]"
    sets = [
        "timeline=[]", "expect=[]", "settle=2", f"duration={seconds:g}",
        f"traffic.kinds={kinds}", f"traffic.tcp_streams={max(streams, 1)}",
        f"traffic.quic_connections={max(streams, 1)}", "topology.unicast=true",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        argv = [sys.executable, "-m", "testbed", "run", "site-failure", "--out", tmp]
        for item in sets:
            argv += ["--set", item]
        before = os.times()
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 240)
        after = os.times()
        folders = list(Path(tmp).iterdir())
        if done.returncode not in (0, 1) or not folders:
            raise SystemExit(f"{kind}: run failed ({done.returncode}): {done.stderr[-1500:]}")
        summary = json.loads((folders[0] / "summary.json").read_text())
    flows = broken = 0
    for client in summary["clients"].values():
        if kind == "dns":
            flows += client["dns"]["sent"]
            broken += client["dns"]["lost"]
            continue
        outcome = client.get("transport", {}).get(kind)
        if kind == "tcp-stream":
            tcp = client["tcp"]
            flows += tcp["streams"]
            broken += tcp["reset"] + tcp["timeout"] + tcp["eof"]
        elif outcome is not None:
            flows += outcome["flows"]
            broken += outcome["reset"] + outcome["timed_out"] + outcome["failed"]
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return {"kind": kind, "streams": streams, "flows": flows, "broken": broken,
            "loss": broken / flows if flows else None, "cpu_s": cpu}  # fmt: skip


def main(argv: List[str]) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=20.0, help="traffic seconds per run")
    p.add_argument("--kinds", default=",".join(KINDS), help="comma-separated probe kinds")
    p.add_argument("--streams", default="1,2,4,8", help="flows per client to try (long-lived)")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("bench/transport.py needs root (sudo)")
    counts = [int(x) for x in args.streams.split(",") if x]
    print(f"{'kind':<12} {'per client':>10} {'flows':>7} {'broken':>7} {'loss':>8} {'cpu':>6}")
    for kind in [k for k in args.kinds.split(",") if k]:
        best = None
        for streams in counts if kind in LONG_LIVED else [1]:
            r = run_once(kind, streams, args.seconds)
            loss = "-" if r["loss"] is None else f"{r['loss']:.3%}"
            per = streams if kind in LONG_LIVED else "rate"
            print(f"{kind:<12} {per:>10} {r['flows']:>7} {r['broken']:>7} {loss:>8} "
                  f"{r['cpu_s']:>5.0f}s", flush=True)  # fmt: skip
            if r["loss"] is not None and r["loss"] < LOSS_TARGET:
                best = streams
        print(f"{kind}: under {LOSS_TARGET:.1%} self-inflicted loss up to {best} per client")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
