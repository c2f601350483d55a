"""Course labs end to end: ``lab start`` then ``lab check`` with real FRR, NSD and probes.

For every lab and two student IDs, the instructor solution of that student's
variant (``lab solution``) passes every check item (the checker's answers,
computed by path reasoning, agree with what the network does), and within
the 2-minute budget.  For lab 3 the solution's measured link-down outage
comes from a real run in the working copy, as a student's does, so this
also checks that the checker reads real run folders.  The untouched hand-out
fails, with hints, without running anything; and a working copy that is
valid but does not do the job fails on the run's figures.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Dict

import pytest
import yaml

from testbed.labs.registry import LABS
from testbed.labs.variant import make_variant
from tests.integration.helpers import cli

STUDENTS = ["s1001", "s2042"]
NUMBERS = [lab.number for lab in LABS]
#: The issue's budget for one lab check, in seconds.
BUDGET_S = 120


#: Lab 3 solutions with their measured run, per student: made once, copied by
#: every test that starts from one.
_measured: Dict[str, Path] = {}


def start(dest: Path, lab: int, student: str, solution: bool = False) -> None:
    if solution and lab == 3 and student in _measured:
        shutil.copytree(_measured[student], dest)
        return
    args = [str(lab), "--student", student, "--dir", str(dest)]
    if solution:  # lab 3: also the link-down run, its figure in answers.yaml, as a student does
        args.append("--measure")
    done = cli("lab", "solution" if solution else "start", *args)
    assert done.returncode == 0, done.stderr
    if solution and lab == 3:
        assert len(list((dest / "runs").iterdir())) == 1
        assert yaml.safe_load((dest / "answers.yaml").read_text())["outage_link_down_s"] > 0
        _measured[student] = Path(tempfile.mkdtemp(prefix="lab3-", dir=dest.parent.parent)) / "copy"
        shutil.copytree(dest, _measured[student])


def check(dest: Path, lab: int, student: str) -> tuple:
    args = ["lab", "check", str(lab), "--dir", str(dest), "--student", student, "--json"]
    done = cli(*args, timeout=BUDGET_S + 60)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.mark.parametrize("student", STUDENTS)
@pytest.mark.parametrize("lab", NUMBERS)
def test_solution_passes(tmp_path, lab, student):
    dest = tmp_path / "copy"
    start(dest, lab, student, solution=True)
    code, report = check(dest, lab, student)
    bad = [f"{i['id']}: {i['detail']}" for i in report["items"] if not i["passed"]]
    assert code == 0 and report["passed"], bad
    assert report["seconds"] < BUDGET_S
    assert report["run_dir"] and (Path(report["run_dir"]) / "summary.json").exists()


@pytest.mark.parametrize("lab", NUMBERS)
def test_untouched_handout_fails_with_hints(tmp_path, lab):
    dest = tmp_path / "copy"
    start(dest, lab, "s1001")
    code, report = check(dest, lab, "s1001")
    assert code == 1 and not report["passed"] and report["run_dir"] is None
    failed = [
        i for i in report["items"] if not i["passed"] and not i["detail"].startswith("not run")
    ]
    assert failed and all(i["hint"] for i in failed)


def test_slow_bfd_fails_on_the_run(tmp_path):
    """Lab 3 with BFD on but far too slow: valid files, both silent failures break the budget."""
    dest = tmp_path / "copy"
    start(dest, 3, "s1001", solution=True)
    topo = yaml.safe_load((dest / "topology.yaml").read_text())
    topo["bfd"]["interval"] = 400  # detection 1.2-2 s, sooner than the hold time
    (dest / "topology.yaml").write_text(yaml.safe_dump(topo))
    code, report = check(dest, 3, "s1001")
    items = {i["id"]: i for i in report["items"]}
    assert code == 1 and items["run"]["passed"] and items["moved"]["passed"]
    assert not items["budget"]["passed"] and not report["testbed_failed"]
    assert "detect multiplier" in items["budget"]["hint"]
    worst = [float(x) for x in re.findall(r"([\d.]+) s", items["budget"]["detail"])[:2]]
    budget_s = make_variant(3, "s1001").params["budget_ms"] / 1000
    assert len(worst) == 2 and all(w > budget_s for w in worst), items["budget"]["detail"]
    assert items["answer-interval"]["passed"] and items["answer-link-down"]["passed"]


def test_lab7_a_wrong_action_fails_on_the_run_and_names_nothing(tmp_path):
    """Lab 7 with a well-formed but wrong answer: exit 1 after the real attack, no names leaked.

    The answer is the weakest prepend at a site the attack does not overload: the
    check runs the attack with it (real senders, policers, BGP), measures the
    attacked site still overloaded, and says so without naming a site or counting.
    """
    dest = tmp_path / "copy"
    start(dest, 7, "s1001")
    variant = make_variant(7, "s1001")
    right = variant.load_answer()
    names = [s.name for s in variant.site.values()]
    other = next(n for n in names if n != right["site"])
    (dest / "answers.yaml").write_text(
        yaml.safe_dump({"site": other, "action": "prepend1", "overloaded_after": []})
    )
    code, report = check(dest, 7, "s1001")
    items = {i["id"]: i for i in report["items"]}
    assert code == 1 and not report["passed"] and report["run_dir"]
    assert items["run"]["passed"] and items["attack-overloads"]["passed"], items
    assert not items["answer-action"]["passed"] and not items["relieved"]["passed"]
    assert report["seconds"] < BUDGET_S
    words = set(names) | {c.name for c in variant.clients}
    for i in report["items"][2:]:
        text = f"{i['title']} {i['detail']} {i['hint']}"
        assert not words & set(text.replace(",", " ").replace(":", " ").split()), text
