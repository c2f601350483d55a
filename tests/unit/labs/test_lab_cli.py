"""``anycast-testbed lab``: list, start, check (the checks here need no network)."""

from __future__ import annotations

import json

import pytest

from testbed.cli import main


def run(capsys, *args):
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out = capsys.readouterr()
    return done.value.code, out.out, out.err


def test_lab_list(capsys):
    code, out, _ = run(capsys, "lab", "list")
    assert code == 0
    for word in ("Anycast basics", "Path selection", "Failover", "Health checks", "TCP versus UDP"):
        assert word in out


def test_lab_start_then_check_untouched(capsys, tmp_path):
    dest = tmp_path / "lab1"
    code, out, _ = run(capsys, "lab", "start", "1", "--student", "s42", "--dir", str(dest))
    assert code == 0 and "student s42" in out and "lab check 1" in out
    assert (dest / "TASK.md").exists() and (dest / "README.md").exists()
    code, out, _ = run(capsys, "lab", "check", "1", "--dir", str(dest))
    assert code == 1
    lines = [line for line in out.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert lines and any(line.startswith("FAIL") and "hint:" in line for line in lines)
    code, out, _ = run(capsys, "lab", "check", "1", "--dir", str(dest), "--json")
    report = json.loads(out)
    assert code == 1 and report["student"] == "s42" and not report["passed"]
    assert {"id", "title", "passed", "detail", "hint"} <= set(report["items"][0])


def test_lab_start_twice_and_bad_input(capsys, tmp_path):
    dest = tmp_path / "lab2"
    assert run(capsys, "lab", "start", "2", "--dir", str(dest))[0] == 0
    code, _, err = run(capsys, "lab", "start", "2", "--dir", str(dest))
    assert code == 2 and "--force" in err
    code, _, err = run(capsys, "lab", "check", "2", "--dir", str(dest), "--student", "x")
    assert code == 2 and "not 'x'" in err
    code, _, err = run(capsys, "lab", "start", "9")
    assert code == 2 and "no lab 9" in err
    code, _, err = run(capsys, "lab", "check", "3", "--dir", str(tmp_path / "none"))
    assert code == 2 and "lab start 3" in err
