"""The course secret, signed files, answers frozen at the first check, exit statuses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from testbed.errors import InputError, TestbedError
from testbed.labs import attempts
from testbed.labs.checking import check_copy
from testbed.labs.items import BAD_INPUT, PASSED, TAMPERED, TESTBED_FAILED, WRONG, Report, item
from testbed.labs.registry import get_lab
from testbed.labs.signing import (
    FOLDER_SIGNATURE,
    Key,
    Tampered,
    install_key,
    keyring,
    read_course_secret,
)
from testbed.labs.variant import make_variant, seed_of
from testbed.labs.workcopy import GUESSABLE, UNVERIFIED, make_copy
from tests.unit.labs.fake import FakeRun
from tests.unit.labs.helpers import measure_lab3
from tests.unit.labs.test_lab_cli import one_line_error, run

SECRET = b"course-secret-0123456789abcdef"
OTHER = b"another-secret-0123456789abcdef"


def course(secret: bytes = SECRET) -> Key:
    return Key(secret, "course")


def secret_file(tmp_path: Path, secret: bytes = SECRET) -> Path:
    path = tmp_path / f"secret-{secret[:5].decode()}"
    path.write_bytes(secret + b"\n")
    return path


def salted_copy(tmp_path: Path, lab: int, student: str, solution: bool = False, key=None):
    ring = keyring(key or course(), install_key())
    dest = tmp_path / f"lab{lab}-{student}-{'sol' if solution else 'start'}"
    variant = make_copy(get_lab(lab), student, dest, solution, False, ring)
    if solution and lab == 3:
        measure_lab3(dest, variant)
    return dest, variant, ring


# ----------------------------------------------------------------- variants
@pytest.mark.parametrize("lab", [1, 3, 5, 7, 9])
def test_a_secret_salts_the_variant(lab):
    for student in ("s1", "s2", "alice"):
        plain = make_variant(lab, student)
        salted = make_variant(lab, student, SECRET)
        assert seed_of(lab, student, SECRET) != seed_of(lab, student)
        assert salted.as_dict() != plain.as_dict()
        assert make_variant(lab, student, OTHER).as_dict() != salted.as_dict()
        assert make_variant(lab, student, SECRET) == salted  # deterministic
        assert make_variant(lab, student, seed=seed_of(lab, student, SECRET)) == salted


def test_without_a_secret_the_seed_is_unchanged():
    """The golden seed of today's derivation: the same IDs keep their variants."""
    import hashlib

    text = "anycast-testbed lab 2 student s1234"
    want = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    assert seed_of(2, "s1234") == seed_of(2, "s1234", None) == want


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"short\n", "at least 16"), (None, "no such file"), (b"x" * 5000, "larger than")],
)
def test_a_bad_course_secret_is_one_line(capsys, tmp_path, content, problem):
    path = tmp_path / "secret"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=problem):
        read_course_secret(path)
    line = one_line_error(
        capsys, "lab", "start", "1", "--student", "s1", "--dir", str(tmp_path / "w"),
        "--course-secret", str(path),
    )  # fmt: skip
    assert str(path) in line and problem in line


# --------------------------------------------------------- start and check
def test_start_warns_without_a_secret_and_not_with_one(capsys, tmp_path):
    code, out, err = run(
        capsys, "lab", "start", "2", "--student", "s1", "--dir", str(tmp_path / "a")
    )
    assert code == 0 and err.count("warning: no course secret") == 1
    state = json.loads((tmp_path / "a" / ".lab.json").read_text())
    assert state["salted"] is False and "seed" not in state
    assert state["signature"]["kind"] == "install"
    path = secret_file(tmp_path)
    args = ["--student", "s1", "--dir", str(tmp_path / "b"), "--course-secret", str(path)]
    code, out, err = run(capsys, "lab", "start", "2", *args)
    assert code == 0 and "warning" not in err
    state = json.loads((tmp_path / "b" / ".lab.json").read_text())
    assert state["salted"] is True and state["signature"]["kind"] == "course"
    assert int(state["seed"], 16) == seed_of(2, "s1", SECRET)
    assert state["variant"] == json.loads(json.dumps(make_variant(2, "s1", SECRET).as_dict()))
    # the reference variant (a demo) warns of nothing
    code, _out, err = run(capsys, "lab", "start", "2", "--dir", str(tmp_path / "c"))
    assert code == 0 and "warning" not in err


def test_check_warns_once_on_a_guessable_copy(capsys, tmp_path):
    dest = tmp_path / "w"
    assert run(capsys, "lab", "start", "1", "--student", "s1", "--dir", str(dest))[0] == 0
    code, out, err = run(capsys, "lab", "check", "1", "--dir", str(dest), "--json")
    assert code == WRONG and err.count(GUESSABLE.split(":")[0]) == 1
    assert json.loads(out)["status"] == WRONG


def test_a_salted_copy_checks_without_the_secret_and_with_it(capsys, tmp_path):
    path = secret_file(tmp_path)
    dest = tmp_path / "w"
    args = ["--student", "s1", "--dir", str(dest)]
    assert run(capsys, "lab", "start", "2", *args, "--course-secret", str(path))[0] == 0
    code, _out, err = run(capsys, "lab", "check", "2", "--dir", str(dest))
    assert code == WRONG and err.count("no course secret here") == 1, err
    assert UNVERIFIED.split(":")[0] in err
    code, _out, err = run(
        capsys, "lab", "check", "2", "--dir", str(dest), "--course-secret", str(path)
    )
    assert code == WRONG and "warning" not in err and "note" not in err
    other = secret_file(tmp_path, OTHER)
    line = one_line_error(
        capsys, "lab", "check", "2", "--dir", str(dest), "--course-secret", str(other)
    )
    assert "another course secret" in line


def test_a_copy_made_without_the_secret_is_refused_with_it(capsys, tmp_path):
    dest = tmp_path / "w"
    assert run(capsys, "lab", "start", "2", "--student", "s1", "--dir", str(dest))[0] == 0
    path = secret_file(tmp_path)
    line = one_line_error(
        capsys, "lab", "check", "2", "--dir", str(dest), "--course-secret", str(path)
    )
    assert ".lab.json: was made without the course secret" in line


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.update(solution=True),  # not in the digest: only the signature sees it
        lambda s: s.pop("signature"),
        lambda s: s.update(seed=f"{seed_of(2, 's1', SECRET) ^ 1:016x}"),
    ],
    ids=["field", "unsigned", "seed"],
)
def test_a_tampered_salted_copy_is_refused_with_status_4(capsys, tmp_path, change):
    path = secret_file(tmp_path)
    dest = tmp_path / "w"
    args = ["--student", "s1", "--dir", str(dest), "--course-secret", str(path)]
    assert run(capsys, "lab", "start", "2", *args)[0] == 0
    state = json.loads((dest / ".lab.json").read_text())
    change(state)
    (dest / ".lab.json").write_text(json.dumps(state))
    code, _out, err = run(
        capsys, "lab", "check", "2", "--dir", str(dest), "--course-secret", str(path)
    )
    lines = err.strip().splitlines()
    assert code in (TAMPERED, BAD_INPUT) and len(lines) == 1, err
    assert ".lab.json" in lines[0]
    if code == BAD_INPUT:  # the seed: its variant is another one, as with another secret
        assert "another course secret" in lines[0]


def test_the_instructor_json_needs_the_secret(capsys, tmp_path):
    path = secret_file(tmp_path)
    dest = tmp_path / "w"
    args = ["--student", "s1", "--dir", str(dest)]
    assert run(capsys, "lab", "start", "1", *args, "--course-secret", str(path))[0] == 0
    out = tmp_path / "grade.json"
    line = one_line_error(
        capsys, "lab", "check", "1", "--dir", str(dest), "--instructor-json", str(out)
    )
    assert line.startswith("anycast-testbed: --instructor-json: needs --course-secret")
    code, _o, _e = run(
        capsys, "lab", "check", "1", "--dir", str(dest), "--course-secret", str(path),
        "--instructor-json", str(out),
    )  # fmt: skip
    data = json.loads(out.read_text())
    assert code == WRONG and data["student"] == "s1" and data["salted"] is True
    assert data["max_points"] == len(data["items"]) and data["points"] < data["max_points"]
    for entry in data["items"]:
        assert {"id", "expected", "actual", "points", "max_points", "passed"} <= set(entry)


# ------------------------------------------------- checks with a fake engine
def test_instructor_json_has_expected_and_actual_values(tmp_path):
    dest, variant, ring = salted_copy(tmp_path, 2, "s5", solution=True)
    checked = check_copy(get_lab(2), dest, "s5", ring, FakeRun(variant), print, [])
    assert checked.report.status() == PASSED
    data = checked.instructor()
    items = {i["id"]: i for i in data["items"]}
    assert items["answer-prepend"]["expected"] == variant.params["min_prepend"]
    assert items["answer-prepend"]["actual"] == variant.params["min_prepend"]
    assert items["answer-before"]["expected"] == variant.catchment()
    assert data["points"] == data["max_points"]
    public = checked.report.as_dict()
    assert all("expected" not in i and "actual" not in i for i in public["items"])


def test_answers_are_frozen_at_the_first_graded_check(tmp_path):
    dest, variant, ring = salted_copy(tmp_path, 2, "s5", solution=True)
    lab = get_lab(2)
    # an instant check (the run refused) grades nothing and freezes nothing
    checked = check_copy(lab, dest, "s5", ring, _no_run, print, [])
    assert not (dest / attempts.ATTEMPTS).exists() and checked.report.status() == WRONG
    first = check_copy(lab, dest, "s5", ring, FakeRun(variant), print, [])
    assert first.report.passed and not first.changed
    record = json.loads((dest / attempts.ATTEMPTS).read_text())
    assert record["signature"]["kind"] == "course"
    assert len(record["files"]["answers.yaml"]["attempts"]) == 1
    # a later change is reported, and graded on the first answers
    path = dest / "answers.yaml"
    data = yaml.safe_load(path.read_text())
    data["min_prepend"] += 1
    path.write_text(yaml.safe_dump(data))
    later = check_copy(lab, dest, "s5", ring, FakeRun(variant), print, [])
    assert later.report.passed and later.changed == ["answers.yaml"]
    assert any("answers.yaml changed after first check" in line for line in later.report.lines())
    history = later.instructor()["attempts"]["answers.yaml"]
    assert [a["changed"] for a in history] == [False, True]
    # and the other way round: a wrong first answer stays wrong
    dest2, variant2, ring2 = salted_copy(tmp_path / "b", 2, "s6", solution=True)
    path2 = dest2 / "answers.yaml"
    right = path2.read_text()
    data = yaml.safe_load(right)
    data["min_prepend"] += 1
    path2.write_text(yaml.safe_dump(data))
    assert check_copy(lab, dest2, "s6", ring2, FakeRun(variant2), print, []).report.status() == 1
    path2.write_text(right)
    again = check_copy(lab, dest2, "s6", ring2, FakeRun(variant2), print, [])
    assert again.report.status() == WRONG and again.changed == ["answers.yaml"]


def test_an_edited_attempts_record_is_refused(tmp_path):
    dest, variant, ring = salted_copy(tmp_path, 1, "s5", solution=True)
    lab = get_lab(1)
    check_copy(lab, dest, "s5", ring, FakeRun(variant), print, [])
    path = dest / attempts.ATTEMPTS
    record = json.loads(path.read_text())
    record["files"]["predictions.yaml"]["first"]["data"]["catchment"] = {}
    path.write_text(json.dumps(record))
    with pytest.raises(Tampered, match=re.escape(attempts.ATTEMPTS)):
        check_copy(lab, dest, "s5", ring, FakeRun(variant), print, [])
    path.write_text("[]")
    with pytest.raises(Tampered, match="is not the record"):
        check_copy(lab, dest, "s5", ring, FakeRun(variant), print, [])


def test_lab3_runs_are_signed_at_first_sight_and_then_trusted_only_unchanged(tmp_path):
    dest, variant, ring = salted_copy(tmp_path, 3, "s5", solution=True)
    lab = get_lab(3)
    checked = check_copy(lab, dest, "s5", ring, FakeRun(variant), print, [])
    assert checked.report.passed, [i.line() for i in checked.report.items if not i.passed]
    runs = sorted((dest / "runs").iterdir())
    assert runs and all((r / FOLDER_SIGNATURE).exists() for r in runs)
    summary = runs[0] / "summary.json"
    summary.write_text(summary.read_text().replace('"max_outage_s": ', '"max_outage_s": 1'))
    with pytest.raises(Tampered, match="summary.json: was changed after it was signed"):
        check_copy(lab, dest, "s5", ring, FakeRun(variant), print, [])


def test_the_cli_refuses_a_tampered_run_folder_with_status_4(capsys, tmp_path):
    dest, variant, ring = salted_copy(tmp_path, 3, "s5", solution=True)
    check_copy(get_lab(3), dest, "s5", ring, FakeRun(variant), print, [])
    summary = sorted((dest / "runs").iterdir())[0] / "summary.json"
    summary.write_text(summary.read_text() + " ")
    path = secret_file(tmp_path)
    code, out, err = run(
        capsys, "lab", "check", "3", "--dir", str(dest), "--course-secret", str(path)
    )
    assert code == TAMPERED and not out
    assert err.strip().count("\n") == 0 and "summary.json: was changed" in err


# -------------------------------------------------------------- exit status
def _no_run(*_args):
    raise InputError("running the network needs root")


def _broken_run(*_args):
    raise TestbedError("FRR did not start")


@pytest.mark.parametrize("lab", [1, 2, 8])
def test_a_broken_testbed_is_status_3_not_a_wrong_answer(tmp_path, lab):
    dest, variant, ring = salted_copy(tmp_path, lab, "s5", solution=True)
    checked = check_copy(get_lab(lab), dest, "s5", ring, _broken_run, print, [])
    items = {i.id: i for i in checked.report.items}
    assert items["run"].testbed and not checked.report.passed
    assert checked.report.status() == TESTBED_FAILED
    assert "the testbed failed" in checked.report.lines()[-1]
    assert checked.report.as_dict()["status"] == TESTBED_FAILED
    assert not (dest / attempts.ATTEMPTS).exists(), "nothing graded, nothing frozen"


def test_a_run_against_the_reasoning_is_status_3_even_when_items_pass():
    items = [item("a", "a", True), item("b", "b", True, "x; the run disagrees", testbed=True)]
    report = Report(8, "tcp-remedies", "s1", items)
    assert report.status() == TESTBED_FAILED and not report.passed
    assert Report(8, "x", "s1", [item("a", "a", False)]).status() == WRONG
    assert Report(8, "x", "s1", [item("a", "a", True)]).status() == PASSED


def test_lab8_disagreeing_run_is_a_testbed_failure(tmp_path):
    from testbed.labs import lab8

    dest, variant, ring = salted_copy(tmp_path, 8, "s5", solution=True)

    class Against(FakeRun):
        def data(self, topo, scenario):
            data = super().data(topo, scenario)
            for event in data["events"]:
                for figures in (event.get("transport") or {}).values():
                    figures["reset"] = figures.get("reset", 0) + 1
                    figures["recovered"] = 0
            return data

    checked = check_copy(get_lab(8), dest, "s5", ring, Against(variant), print, [])
    assert checked.report.status() == TESTBED_FAILED
    assert any(lab8.DISAGREE in i.detail and i.testbed for i in checked.report.items)


def test_lab1_feedback_counts_no_site(tmp_path):
    dest, variant, ring = salted_copy(tmp_path, 1, "s5", solution=True)
    checked = check_copy(get_lab(1), dest, "s5", ring, FakeRun(variant), print, [])
    served = next(i for i in checked.report.items if i.id == "served")
    assert served.passed and not re.search(r"\d", served.detail)
    for site in variant.site.values():
        assert site.name not in served.detail
