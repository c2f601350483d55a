"""``report RUN_DIR``: expectations evaluated again from the records, bad files one line.

The run folders are synthetic (tests/unit/analysis/helpers.py): paris moves
from lon to nyc at event 0 (its longest DNS outage 0.8 s), tokyo stays on nyc.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from testbed.scenario.load import parse_scenario
from tests.unit.analysis.helpers import fixed_run

from .helpers import one_line_error, run_cli

MET = [
    {"check": "moves", "client": "paris", "to": "nyc"},
    {"check": "stays", "client": "tokyo"},
]
#: paris's longest outage is 0.8 s: this one fails.
UNMET = {"check": "max_outage", "clients": ["paris"], "below": 0.2}


def run_folder(path: Path, expect: list) -> Path:
    """The fixed synthetic run with RUN/scenario.yaml as the engine writes it."""
    fixed_run(path)
    scenario = parse_scenario(
        {
            "name": "site-failure",
            "topology": "two-sites",
            "duration": 30,
            "timeline": [
                {"at": 10, "event": "fail_site", "site": "lon", "how": "link-down"},
                {"at": 20, "event": "restore", "site": "lon"},
            ],
            "expect": expect,
        },
        "test",
    )
    text = yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False)
    (path / "scenario.yaml").write_text(text)
    return path


def summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


def test_expectations_are_evaluated_without_summary_json(capsys, tmp_path):
    run = run_folder(tmp_path / "run", MET)
    assert not (run / "summary.json").exists()
    code, out, _ = run_cli(capsys, "report", str(run), "--no-plots")
    assert code == 0, out
    checks = summary(run)["expect"]
    assert [(c["check"], c["passed"]) for c in checks] == [
        ("paris moves to nyc", True),
        ("tokyo stays on its site", True),
    ]
    assert "lon" in checks[0]["detail"] and "nyc" in checks[0]["detail"]


def test_a_failed_expectation_exits_1(capsys, tmp_path):
    run = run_folder(tmp_path / "run", [*MET, UNMET])
    code, _, _ = run_cli(capsys, "report", str(run), "--no-plots")
    assert code == 1
    assert [c["passed"] for c in summary(run)["expect"]] == [True, True, False]


def test_a_tampered_summary_verdict_is_not_trusted(capsys, tmp_path):
    run = run_folder(tmp_path / "run", [UNMET])
    forged = {"expect": [{"check": "max outage", "passed": True, "detail": "forged"}]}
    (run / "summary.json").write_text(json.dumps(forged))
    code, _, _ = run_cli(capsys, "report", str(run), "--no-plots")
    assert code == 1
    (check,) = summary(run)["expect"]
    assert check["passed"] is False and check["detail"] != "forged"
    assert check["detail"] == "max outage 0.80 s (paris) ≥ 0.2 s; over: paris 0.80 s"


def test_a_forged_pass_is_not_taken_from_summary_when_scenario_has_no_checks(capsys, tmp_path):
    run = run_folder(tmp_path / "run", [])
    forged = {"expect": [{"check": "x", "passed": False, "detail": "forged"}]}
    (run / "summary.json").write_text(json.dumps(forged))
    code, _, _ = run_cli(capsys, "report", str(run), "--no-plots")
    assert code == 0
    assert summary(run)["expect"] == []


def test_a_folder_without_scenario_yaml_has_no_expectations(capsys, tmp_path):
    run = fixed_run(tmp_path / "run")  # as `up --traffic` leaves it: no scenario.yaml
    (run / "summary.json").write_text(json.dumps({"expect": [{"passed": False}]}))
    code, _, err = run_cli(capsys, "report", str(run), "--no-plots")
    assert code == 0
    assert summary(run)["expect"] == []
    assert "no expectations to evaluate" in err


# --------------------------------------------------------------- bad files
def test_corrupt_record_line_names_file_and_line(capsys, tmp_path):
    run = run_folder(tmp_path / "run", MET)
    path = run / "records" / "dns-tokyo.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines[2] = "{not json\n"
    path.write_text("".join(lines))
    line = one_line_error(capsys, "report", str(run), "--no-plots")
    assert line == f"{path}: line 3: not a JSON record: '{{not json'"


def test_record_that_is_not_an_object(capsys, tmp_path):
    run = run_folder(tmp_path / "run", MET)
    path = run / "records" / "events.jsonl"
    path.write_text("[1, 2]\n" + path.read_text())
    line = one_line_error(capsys, "report", str(run), "--no-plots")
    assert line == f"{path}: line 1: not a JSON object: '[1, 2]'"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{bad", "line 1: not valid JSON: Expecting property name enclosed in double quotes"),
        (b"[1, 2]", "must hold a JSON object, not a list"),
        (b'{"t0": "caf\xe9"}', "line 1: not UTF-8 text (byte 0xe9 cannot be decoded)"),
        (None, "is a directory, not a file"),
    ],
)
def test_corrupt_meta_json(capsys, tmp_path, content, expected):
    run = run_folder(tmp_path / "run", MET)
    meta = run / "meta.json"
    meta.unlink()
    if content is None:
        meta.mkdir()
    else:
        meta.write_bytes(content)
    line = one_line_error(capsys, "report", str(run), "--no-plots")
    assert line == f"{meta}: {expected}"


def test_missing_meta_json_of_a_scenario_run(capsys, tmp_path):
    run = run_folder(tmp_path / "run", MET)
    (run / "meta.json").unlink()
    line = one_line_error(capsys, "report", str(run), "--no-plots")
    assert line.startswith(f"{run / 'meta.json'}: no such file: the run stopped before")


def test_corrupt_scenario_yaml(capsys, tmp_path):
    run = run_folder(tmp_path / "run", MET)
    (run / "scenario.yaml").write_text("name: x\nduration: [\n")
    line = one_line_error(capsys, "report", str(run), "--no-plots")
    assert line.startswith(f"{run / 'scenario.yaml'}: line 3: YAML syntax error")


def test_not_a_run_folder(capsys, tmp_path):
    line = one_line_error(capsys, "report", str(tmp_path))
    assert line == f"{tmp_path}: not a run folder (no records/ inside)"
