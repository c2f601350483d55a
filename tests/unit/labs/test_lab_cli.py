"""``anycast-testbed lab``: list, start, check (the checks here need no network)."""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml

from testbed.cli import main
from testbed.labs import cli as lab_cli
from testbed.labs.registry import LABS


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """These tests run as root on the CI machine: never let a check start the real engine."""

    def engine_runner(*_args):
        def run(*_a):
            raise AssertionError("a unit test reached the scenario engine")

        return run

    monkeypatch.setattr("testbed.labs.runner.engine_runner", engine_runner)


def run(capsys, *args):
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out = capsys.readouterr()
    return done.value.code, out.out, out.err


def one_line_error(capsys, *args, status=2):
    """Run, expect exit status 2 (or ``status``) and one line on stderr; return that line."""
    code, _out, err = run(capsys, *args)
    assert code == status, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_lab_list(capsys):
    code, out, _ = run(capsys, "lab", "list")
    assert code == 0
    for word in ("Anycast basics", "Path selection", "Failover", "Health checks", "TCP versus UDP"):
        assert word in out


def test_lab_start_then_check_untouched(capsys, tmp_path):
    dest = tmp_path / "lab1"
    code, out, _ = run(capsys, "lab", "start", "1", "--student", "s42", "--dir", str(dest))
    assert code == 0 and "student s42" in out and "lab check 1" in out
    assert f"first: sudo anycast-testbed up {dest}/topology.yaml --traffic" in out
    assert (dest / "TASK.md").exists() and (dest / "README.md").exists()
    assert (dest / "scenario.yaml").exists()
    code, out, _ = run(capsys, "lab", "check", "1", "--dir", str(dest))
    assert code == 1
    lines = [line for line in out.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert lines and any(line.startswith("FAIL") and "hint:" in line for line in lines)
    assert "lab 1 (anycast-basics), student s42: " in out
    code, out, _ = run(capsys, "lab", "check", "1", "--dir", str(dest), "--json")
    report = json.loads(out)
    assert code == 1 and report["student"] == "s42" and not report["passed"]
    assert {"id", "title", "passed", "detail", "hint"} <= set(report["items"][0])


def test_lab_start_twice_and_bad_input(capsys, tmp_path):
    dest = tmp_path / "lab2"
    assert run(capsys, "lab", "start", "2", "--dir", str(dest))[0] == 0
    assert "--force" in one_line_error(capsys, "lab", "start", "2", "--dir", str(dest))
    line = one_line_error(capsys, "lab", "check", "2", "--dir", str(dest), "--student", "x")
    assert "not 'x'" in line
    assert "no lab 10" in one_line_error(capsys, "lab", "start", "10")
    assert "lab start 3" in one_line_error(
        capsys, "lab", "check", "3", "--dir", str(tmp_path / "n")
    )


@pytest.mark.parametrize(
    ("student", "problem"),
    [("", "empty"), ("  ", "empty"), ("reference", "reserved"), ("a b", "blanks")],
)
def test_bad_student_ids(capsys, tmp_path, student, problem):
    line = one_line_error(capsys, "lab", "start", "1", "--student", student, "--dir", str(tmp_path))
    assert line.startswith("anycast-testbed: --student: ") and problem in line, line
    assert not (tmp_path / ".lab.json").exists()


def test_no_student_is_the_reference_variant(capsys, tmp_path):
    code, out, _ = run(capsys, "lab", "start", "4", "--dir", str(tmp_path / "w"))
    assert code == 0 and "the reference variant (no --student)" in out
    assert json.loads((tmp_path / "w" / ".lab.json").read_text())["student"] is None


def test_unwritable_dir_is_one_line(capsys):
    line = one_line_error(capsys, "lab", "start", "1", "--dir", "/proc/anycast-lab")
    assert "/proc/anycast-lab: cannot write the working copy" in line


@pytest.mark.parametrize(
    ("text", "problem"),
    [("[]\n", "must hold a JSON object"), ("{", "not valid JSON"), ('"x"', "JSON object")],
)
def test_broken_state_file_is_one_line(capsys, tmp_path, text, problem):
    dest = tmp_path / "w"
    assert run(capsys, "lab", "start", "3", "--student", "s1", "--dir", str(dest))[0] == 0
    (dest / ".lab.json").write_text(text)
    assert problem in one_line_error(capsys, "lab", "check", "3", "--dir", str(dest))


def test_edited_state_file_is_refused(capsys, tmp_path):
    dest = tmp_path / "w"
    assert run(capsys, "lab", "start", "2", "--student", "alice", "--dir", str(dest))[0] == 0
    state = json.loads((dest / ".lab.json").read_text())
    state["student"] = "bob"
    (dest / ".lab.json").write_text(json.dumps(state))
    line = one_line_error(capsys, "lab", "check", "2", "--dir", str(dest), status=4)
    assert ".lab.json: was edited" in line


def test_student_text_is_printed_as_it_is(capsys, tmp_path):
    """Rich markup in answers is neither interpreted (``[/]`` would crash) nor eaten."""
    dest = tmp_path / "w"
    assert run(capsys, "lab", "start", "5", "--student", "s1", "--dir", str(dest))[0] == 0
    path = dest / "predictions.yaml"
    data = yaml.safe_load(path.read_text())
    data = {key: {s: [] for s in by_site} for key, by_site in data.items()}
    site = next(iter(data["site_failure"]))
    data["site_failure"][site] = "[/]x"
    data["prepend"][site] = {"[bold]": 1}
    path.write_text(yaml.safe_dump(data))
    code, out, err = run(capsys, "lab", "check", "5", "--dir", str(dest))
    assert code == 1 and "Traceback" not in err
    assert "'[/]x' is not a client here" in out
    assert "must be a list of client names, e.g. [a, b], or [] for none" in out


def test_the_solution_is_not_a_student_option(capsys, tmp_path):
    code, out, _ = run(capsys, "lab", "start", "--help")
    assert code == 0 and "solution" not in out.lower()
    # --up says what it runs, per lab
    assert "labs 1, 2, 5 and 6" in out and "labs 3 and 4" in out and "scenario.yaml" in out
    code, out, _ = run(capsys, "lab", "--help")
    assert code == 0 and "solution" not in out
    assert "No such option '--solution'" in one_line_error(
        capsys, "lab", "start", "1", "--solution", "--dir", str(tmp_path / "x")
    )


def test_instructor_command_renders_the_solution(capsys, tmp_path, monkeypatch):
    dest = tmp_path / "sol"
    code, out, _ = run(capsys, "lab", "solution", "1", "--student", "s9", "--dir", str(dest))
    assert code == 0 and "do not hand it out" in out
    topo = yaml.safe_load((dest / "topology.yaml").read_text())
    assert len(topo["sites"]) == 2
    assert json.loads((dest / ".lab.json").read_text())["solution"] is True
    # solutions kept elsewhere: $ANYCAST_LAB_SOLUTIONS
    monkeypatch.setenv("ANYCAST_LAB_SOLUTIONS", str(tmp_path / "nowhere"))
    line = one_line_error(capsys, "lab", "solution", "1", "--dir", str(tmp_path / "s2"))
    assert "nowhere/1-anycast-basics is missing" in line


def test_up_runs_the_first_command(capsys, tmp_path, monkeypatch):
    """``--up`` runs exactly the command printed as ``first:`` (here: a harmless one)."""
    real = lab_cli.get_lab

    def harmless(number):
        return dataclasses.replace(real(number), start="anycast-testbed lab list")

    monkeypatch.setattr(lab_cli, "get_lab", harmless)
    code, out, _ = run(capsys, "lab", "start", "3", "--dir", str(tmp_path / "w"), "--up")
    assert code == 0 and "first: sudo anycast-testbed lab list" in out
    assert "Health checks" in out.split("first:")[1], "the lab list ran"


def test_first_commands_per_lab(tmp_path):
    starts = {lab.number: lab_cli.first_command(lab, tmp_path / "my copy") for lab in LABS}
    for number in (1, 2, 5, 6):
        assert starts[number].startswith("anycast-testbed up ")
        assert f"'{tmp_path}/my copy'/topology.yaml --traffic" in starts[number]
    for number in (3, 4):
        assert starts[number].startswith("anycast-testbed run ")
        assert "scenario.yaml" in starts[number]
    assert starts[7] == f"anycast-testbed playbook '{tmp_path}/my copy'/topology.yaml --out " + (
        f"'{tmp_path}/my copy'/runs"
    )


@pytest.mark.parametrize("status, expect", [(3, 3), (1, 1), (None, 0)])
def test_up_exits_with_the_status_of_the_first_command(
    capsys, tmp_path, monkeypatch, status, expect
):
    """``lab start --up`` ends as its first command did (a failed ``run`` is no success)."""
    import click

    from testbed.cli import cli

    ran = []

    @click.command("fake-first")
    @click.argument("arg")
    def fake(arg):
        ran.append(arg)
        return status

    monkeypatch.setitem(cli.commands, "fake-first", fake)
    real = lab_cli.get_lab
    monkeypatch.setattr(
        lab_cli,
        "get_lab",
        lambda number: dataclasses.replace(real(number), start="anycast-testbed fake-first {dir}"),
    )
    dest = tmp_path / "w"
    code, out, _ = run(capsys, "lab", "start", "3", "--dir", str(dest), "--up")
    assert (code, ran) == (expect, [str(dest)]) and "first: sudo anycast-testbed fake-first" in out
