"""summary.json of recorded run folders against golden files, compared structurally.

``tests/golden/summary/NAME/`` is a run folder as a run leaves it
(``meta.json`` and ``records/*.jsonl``, hand-made with the builders of
tests/unit/analysis/helpers.py and kept as files); ``NAME.summary.json`` is
the summary.json the analysis writes for it.  The golden files were written
by the analysis before summary.json became a model, so passing means the
model writes the same bytes for the same records.

- ``failover``: two sites, three clients; east fails at 10 s and comes back
  at 20 s; DNS losses (one never recovered), a late answer, TCP resets,
  a timeout and an EOF; health agents (a state change that failed and was
  retried, the shutdown drain, a kept address); a daemon that died and a
  probe whose disk filled (so ``interrupted`` is there); an integer
  ``duration``; the scenario's checks evaluated.
- ``quiet``: one client, no events, no health agents, no incidents: nulls and
  empty lists, and no ``interrupted``.

The comparison names the first differing path (:func:`tests.jsoncmp.json_diff`),
then the bytes must be equal too.  Refresh the golden files after an
intended change with ``UPDATE_GOLDEN=1 pytest tests/unit/analysis/test_summary_golden.py``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from testbed.analysis import analyse_run
from testbed.analysis.model import Summary
from testbed.scenario.expect import evaluate
from tests.jsoncmp import json_diff

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "summary"
#: The failover run's scenario checks (some pass, some fail).
CHECKS = [
    {"check": "moves", "client": "ca", "to": "west"},
    {"check": "moves", "client": "ca", "to": "east", "after": 1},
    {"check": "stays", "client": "cb"},
    {"check": "max_outage", "clients": "moved", "below": 1.0},
    {"check": "tcp_reset", "clients": "unmoved"},
    {"check": "dns_loss", "clients": "all", "max_fraction": 0.05},
    {"check": "convergence", "below": 0.5},
]
RUNS = {"failover": CHECKS, "quiet": None}


def analysed(name: str, tmp_path: Path) -> Path:
    """A copy of the golden run folder, analysed (no plots); its summary.json."""
    run = tmp_path / name
    shutil.copytree(GOLDEN / name, run)
    checks = RUNS[name]
    judge = (lambda summary: evaluate(checks, summary)) if checks else None
    analyse_run(run, judge=judge, plots=False)
    return run / "summary.json"


@pytest.mark.parametrize("name", sorted(RUNS))
def test_summary_json_matches_the_golden_file(tmp_path, name):
    produced = analysed(name, tmp_path).read_text(encoding="utf-8")
    path = GOLDEN / f"{name}.summary.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(produced, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    difference = json_diff(json.loads(produced), json.loads(expected))
    assert difference is None, difference
    assert produced == expected  # the same bytes: key order, indent, number types


def test_golden_summaries_load_into_the_model_and_are_written_back_unchanged():
    for name in RUNS:
        text = (GOLDEN / f"{name}.summary.json").read_text(encoding="utf-8")
        summary = Summary.model_validate_json(text)
        assert summary.to_json() == text, name


def test_what_the_golden_runs_cover():
    """The golden files hold the cases the model has to write exactly."""
    failover = json.loads((GOLDEN / "failover.summary.json").read_text())
    quiet = json.loads((GOLDEN / "quiet.summary.json").read_text())
    assert failover["duration"] == 30 and isinstance(failover["duration"], int)
    assert isinstance(quiet["duration"], float)
    assert failover["interrupted"].startswith("stopped: disk full")
    assert "interrupted" not in quiet
    kinds = [h["event"] for h in failover["health"]]
    assert kinds == ["state", "retry", "state", "state", "address", "address"]
    shutdown = [h for h in failover["health"] if h.get("shutdown")]
    assert len(shutdown) == 1 and "moved" not in shutdown[0] and "stayed" not in shutdown[0]
    assert "moved" in failover["health"][0] and failover["health"][0]["shutdown"] is False
    assert [o["recovered"] for o in failover["clients"]["cc"]["dns"]["outages"]] == [True, False]
    assert {p["process"] for p in failover["processes"]} == {"nsd", "dns-probe"}
    assert [e["passed"] for e in failover["expect"]].count(False) == 2
    assert quiet["stopped"] is None and quiet["events"] == [] and quiet["expect"] == []


# ------------------------------------------------------------- the helper
def test_json_diff_names_the_first_differing_path():
    expected = {"a": {"b": [1, {"c": 2.0}], "d": None}, "e": True}
    assert json_diff(expected, expected) is None
    assert json_diff({"a": {"b": [1, {"c": 2}], "d": None}, "e": True}, expected) == (
        "a.b[1].c: expected 2.0 (number), got 2 (integer)"
    )
    assert json_diff({"a": {"b": [1], "d": None}, "e": True}, expected) == (
        "a.b: expected 2 items, got 1"
    )
    assert json_diff({"a": {"b": [1, {"c": 2.0}]}, "e": True}, expected) == (
        "a: missing key 'd' (expected null)"
    )
    assert json_diff({**expected, "f": 1}, expected) == "(top level): unexpected key 'f' (got 1)"
    assert json_diff({"a": expected["a"], "e": 1}, expected) == (
        "e: expected true (boolean), got 1 (integer)"
    )
    assert json_diff({"a": {"b": [2, {"c": 2.0}], "d": None}, "e": True}, expected) == (
        "a.b[0]: expected 1, got 2"
    )
