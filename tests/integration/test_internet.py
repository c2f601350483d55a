"""An internet-sized topology on real FRR: ``up internet:50 --check`` converges with
every path valley-free, and says so in one line."""

from __future__ import annotations

import json

from tests.integration.helpers import cli


def test_internet_50_comes_up_with_no_policy_violation(tmp_path):
    done = cli("up", "internet:50", "--check", "--out", str(tmp_path), timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "policy check passed:" in done.stdout, done.stdout
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    up = json.loads((folder / "up.json").read_text())
    assert up["converged"] and up["routers"] == 53
    assert up["sessions"]["established"] == up["sessions"]["total"]
    policy = up["policy"]
    assert policy["passed"] and policy["violations"] == []
    assert policy["paths"] == policy["ok"] > 500  # every path judged: all relationships known
    assert all(up["catchment"].values()), up["catchment"]  # every client reaches a site
