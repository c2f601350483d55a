"""``reproduce --quick``: the published shapes on a real network, with FRR's own MRAI.

- delayed-convergence: on clique:5 with MRAI 3 s, Tdown (after the origin
  withdraws) is longer than Tup (after it announces again), and grows with
  MRAI and with N; the report says whether withdrawals bypass MRAI.
- mrai-multiples: on backup-path, the failover takes about one MRAI of 3 s,
  and well under a second with MRAI 0.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.integration.helpers import cli


def reproduce(tmp_path: Path, name: str) -> tuple:
    done = cli("reproduce", name, "--quick", "--out", str(tmp_path), timeout=600)
    (folder,) = list(tmp_path.iterdir())
    verdict = json.loads((folder / "verdict.json").read_text())
    with (folder / "sweep.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return done, verdict, rows, folder


def test_delayed_convergence_quick(tmp_path):
    done, verdict, rows, folder = reproduce(tmp_path, "delayed-convergence")
    assert done.returncode == 0, done.stdout + done.stderr
    assert verdict["verdict"] == "AGREES"
    clique5 = {int(r["mrai"]): r for r in rows if r["kind"] == "clique" and r["n"] == "5"}
    tdown, tup = float(clique5[3]["convergence_e0_s"]), float(clique5[3]["convergence_e1_s"])
    assert tdown > tup and tdown > 2, (tdown, tup)  # about (5 - 3) x 3 s
    assert float(clique5[0]["convergence_e0_s"]) < 1.5
    assert all(r["frr_version"] for r in rows)
    report = (folder / "report.md").read_text()
    assert "Labovitz" in report and "withdrawals" in report and "FRR" in report
    assert (folder / "plots" / "tdown-tup.png").exists()
    assert "AGREES" in done.stdout


def test_mrai_multiples_quick(tmp_path):
    done, verdict, rows, folder = reproduce(tmp_path, "mrai-multiples")
    assert done.returncode == 0, done.stdout + done.stderr
    conv = {int(r["mrai"]): float(r["convergence_e0_s"]) for r in rows}
    assert conv[0] < 1.0
    assert 2.4 <= conv[3] <= 3.6 or 5.4 <= conv[3] <= 6.6, conv  # 1 or 2 x MRAI
    assert verdict["verdict"] == "AGREES" and (folder / "plots" / "failover.png").exists()
