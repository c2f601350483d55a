"""The playbook on real FRR and NSD (two-sites): each action moves exactly the clients it should."""

from __future__ import annotations

import pytest

from testbed.net.state import load_state
from testbed.playbook.model import Playbook
from tests.integration.helpers import cli, frr_processes


def test_playbook_two_sites_moves_a_sites_clients_and_brings_them_back(tmp_path):
    done = cli(
        "playbook", "two-sites", "--actions", "prepend3,withdraw", "--out", str(tmp_path),
        timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "playbook: 4 actions in" in done.stdout
    (run,) = list(tmp_path.iterdir())
    book = Playbook.model_validate_json((run / "playbook.json").read_text())
    baseline = {c.name: c.baseline for c in book.clients}
    assert baseline == {"ca": "east", "cb": "west"}  # asked of NSD at each site
    assert [s.label for s in book.steps] == [
        "east prepend3",
        "east withdraw",
        "west prepend3",
        "west withdraw",
    ]
    for step in book.steps:
        own = sorted(c for c, site in baseline.items() if site == step.site)
        assert sorted(m.client for m in step.moved) == own, step.label
        assert step.after.shares[step.site] == 0.0
        assert sum(step.after.shares.values()) == pytest.approx(1.0)
        assert step.share_moved == pytest.approx(0.5)
        assert step.converged and step.routers_changed > 0
        assert 0 < step.converge_s < 5
        assert step.back, step.not_back  # every client at its site again before the next
    for name in ("playbook.csv", "playbook.md", "playbook.png"):
        assert (run / name).stat().st_size > 0
    assert load_state() is None and frr_processes() == []
