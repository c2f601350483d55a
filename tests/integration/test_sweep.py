"""``sweep`` end to end: one CSV row per run, plots, and Ctrl-C keeping finished rows.

A 2 x 2 grid of ``two-sites-failover`` with a short timeline; the sweep is
interrupted (SIGINT, as Ctrl-C) once two runs are done, so one test covers
the rows, the figures, the plots and a clean stop.
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.helpers import ROOT, ctrl_c_enabled

SHORT = ["settle=2", "timeline.0.at=2", "timeline.1.at=6", "duration=10", "traffic.tcp_streams=1"]


def rows_of(path: Path) -> list:
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_sweep_rows_plots_and_ctrl_c(tmp_path):
    args = [sys.executable, "-m", "testbed", "sweep", "two-sites-failover", "--out", str(tmp_path)]
    args += ["--param", "bgp.hold=3,6", "--param", "bgp.mrai=0,1"]
    for item in SHORT:
        args += ["--set", item]
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=ctrl_c_enabled,
    )
    try:
        deadline = time.monotonic() + 150
        csv_path = None
        while time.monotonic() < deadline and proc.poll() is None:
            found = list(tmp_path.glob("*-sweep-two-sites-failover/sweep.csv"))
            csv_path = found[0] if found else None
            if csv_path and len(rows_of(csv_path)) >= 2:
                break
            time.sleep(0.5)
        assert csv_path and len(rows_of(csv_path)) >= 2, proc.stdout.read() if proc.poll() else ""
        time.sleep(6)  # into the third run
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out
    folder = csv_path.parent
    rows = rows_of(csv_path)
    assert len(rows) == 3, rows
    done, stopped = rows[:2], rows[2]
    assert [(r["bgp.hold"], r["bgp.mrai"]) for r in done] == [("3", "0"), ("3", "1")]
    for r in done:
        assert r["status"] == "ok" and r["exit"] == "0" and r["repeat"] == "1", r
        assert r["moved"] == "1" and float(r["max_outage_s"]) < 3, r
        assert float(r["convergence_e0_s"]) < 3 and r["route_changes"], r
        assert int(r["updates_e0"]) > 0 and r["frr_version"], r
        assert (folder / r["run_dir"] / "summary.json").exists()
        conf = (folder / r["run_dir"] / "routers" / "ta" / "frr.conf").read_text()
        assert f"advertisement-interval {r['bgp.mrai']}\n" in conf
        assert f" timers 1 {r['bgp.hold']}\n" in conf
    assert stopped["status"] == "interrupted" and stopped["exit"] == "130", stopped
    assert stopped["bgp.hold"] == "6" and stopped["bgp.mrai"] == "0"
    meta = json.loads((folder / "sweep.json").read_text())
    assert meta["params"] == {"bgp.hold": ["3", "6"], "bgp.mrai": ["0", "1"]}
    assert meta["done"] == 3 and meta["runs"] == 4 and meta["interrupted"]
    assert sorted(meta["plots"]) == ["by-bgp.hold.png", "by-bgp.mrai.png"]
    assert all((folder / "plots" / p).stat().st_size > 5000 for p in meta["plots"])
    assert "finished rows kept" in out
