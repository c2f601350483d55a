"""``make student-dist``: the tarball students get, without the instructors' parts."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile

import pytest

from tests.conftest import ROOT

NAME = "anycast-testbed-student"


def _module():
    spec = importlib.util.spec_from_file_location("student_dist", ROOT / "scripts/student_dist.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    return _module().build(out)


def names(path):
    with tarfile.open(path) as tar:
        return {m.name.removeprefix(f"{NAME}/") for m in tar.getmembers()}


def test_what_the_tarball_holds(tarball):
    files = names(tarball)
    assert tarball.name == f"{NAME}.tar.gz"
    assert not [f for f in files if f.startswith("labs/solutions")]
    assert "testbed/labs/solution.py" not in files
    assert not [f for f in files if f.startswith(("tests/", ".ci/", ".git/", "runs/", "dist/"))]
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    for needed in (
        "Makefile",
        "pyproject.toml",
        "scripts/install.sh",
        "vagrant/Vagrantfile",
        "labs/README.md",
        "labs/_common/internet.yaml.j2",
        "testbed/labs/cli.py",
        "testbed/labs/checking.py",
        "testbed/labs/reasoning.py",  # lab start draws variants with it, lab check grades
    ):
        assert needed in files, needed
    for lab in range(1, 10):
        assert any(f.startswith(f"labs/{lab}-") and f.endswith("TASK.md.j2") for f in files)


def test_the_tarball_is_reproducible(tarball, tmp_path):
    again = _module().build(tmp_path)
    assert again.read_bytes() == tarball.read_bytes()
    with tarfile.open(tarball) as tar:
        assert {(m.uid, m.gid, m.mtime) for m in tar.getmembers()} == {(0, 0, 0)}


def test_the_student_build_runs_labs_but_has_no_solution(tarball, tmp_path):
    with tarfile.open(tarball) as tar:
        tar.extractall(tmp_path)  # our own archive
    root = tmp_path / NAME
    env = {**os.environ, "PYTHONPATH": str(root), "ANYCAST_TESTBED_HOME": str(root)}
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env.pop("ANYCAST_LAB_SOLUTIONS", None)

    def cli(*args):
        code = "import sys; from testbed.cli import main; main(sys.argv[1:])"
        return subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=root
        )

    done = cli("lab", "solution", "1", "--student", "s1", "--dir", str(tmp_path / "sol"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "anycast-testbed: lab solution: this is a student build: it has no instructor solutions"
    ]
    assert not (tmp_path / "sol").exists()
    dest = tmp_path / "copy"
    done = cli("lab", "start", "1", "--student", "s1", "--dir", str(dest))
    assert done.returncode == 0, done.stderr
    assert (dest / "TASK.md").exists() and (dest / ".lab.json").exists()
    imported = cli("lab", "list")
    assert imported.returncode == 0 and "Anycast basics" in imported.stdout
