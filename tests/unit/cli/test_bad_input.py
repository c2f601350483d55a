"""Bad files and paths on the command line: one line naming the file and field, exit 2.

Every command here stops at its input checks; the ``no_start`` fixture turns
the root check (the step before anything starts) into a test failure.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from testbed import inputfile
from testbed.errors import InputError
from testbed.topology.load import read_yaml

from .helpers import one_line_error

SCENARIO = """
name: x
duration: 30
topology: {topology}
timeline:
  - {{at: 5, event: fail_site, site: busiest}}
"""


@pytest.fixture
def bad(tmp_path: Path) -> dict:
    """A folder named like a YAML file and a file that is not UTF-8."""
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: x\ndescription: caf\xe9\n")
    return {"dir": str(folder), "latin": str(latin)}


# ----------------------------------------------------------------- read_yaml
def test_read_yaml_names_the_file_for_every_kind_of_unreadable(bad, tmp_path, monkeypatch):
    with pytest.raises(InputError) as info:
        read_yaml(Path(bad["dir"]))
    assert str(info.value) == f"{bad['dir']}: is a directory, not a file"
    with pytest.raises(InputError) as info:
        read_yaml(Path(bad["latin"]))
    expected = "line 2: not UTF-8 text (byte 0xe9 cannot be decoded)"
    assert str(info.value) == f"{bad['latin']}: {expected}"
    with pytest.raises(InputError) as info:
        read_yaml(tmp_path / "absent.yaml")
    assert str(info.value) == f"{tmp_path / 'absent.yaml'}: no such file"

    def denied(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    locked = tmp_path / "locked.yaml"
    locked.write_text("name: x\n")
    with monkeypatch.context() as patch:
        patch.setattr(inputfile.os, "open", denied)
        with pytest.raises(InputError) as info:
            read_yaml(locked)
    assert str(info.value) == f"{locked}: permission denied: cannot read the file"


# ------------------------------------------------------------ every command
@pytest.mark.parametrize("kind", ["dir", "latin"])
@pytest.mark.parametrize(
    "argv",
    [
        ["up", "{path}"],
        ["up", "{path}", "--check", "--traffic"],
        ["shell", "{path}"],
        ["run", "{path}"],
        ["run", "two-sites-failover", "--topology", "{path}"],
        ["run", "two-sites-failover", "--set", "topology={path}"],
        ["sweep", "two-sites-failover", "--dry-run", "--set", "topology={path}"],
        ["sweep", "two-sites-failover", "--dry-run", "--param", "topology=two-sites,{path}"],
    ],
)
def test_unreadable_topology_or_scenario_file_is_one_line(capsys, no_start, bad, kind, argv):
    path = bad[kind]
    line = one_line_error(capsys, *[a.format(path=path) for a in argv])
    assert path in line
    want = "is a directory, not a file" if kind == "dir" else "not UTF-8 text"
    assert want in line
    if "--set" in argv:
        assert line.startswith("--set: topology: "), line
    if "--param" in argv:
        assert line.startswith("--param: topology: "), line


# ------------------------------------------------- a scenario's topology field
@pytest.mark.parametrize(
    ("topology", "expected"),
    [
        ("chain:0", "topology: chain: N must be between 1 and 500, got 0"),
        ("chain:x", "topology: chain: N must be a whole number, got 'x'"),
        ("nowhere.yaml", "topology: nowhere.yaml: no such file"),
        ("atlantis", "topology: atlantis: no topology 'atlantis' (known: "),
    ],
)
def test_scenario_topology_field_is_named(capsys, no_start, tmp_path, topology, expected):
    path = tmp_path / "scen.yaml"
    path.write_text(textwrap.dedent(SCENARIO.format(topology=topology)))
    line = one_line_error(capsys, "run", str(path))
    assert line.startswith(f"{path}: {expected}"), line


def test_set_topology_is_blamed_on_set(capsys, no_start):
    line = one_line_error(capsys, "run", "site-failure", "--set", "topology=chain:501")
    assert line == "--set: topology: chain: N must be between 1 and 500, got 501"


# ------------------------------------------------------------------- --out
@pytest.mark.parametrize(
    "argv",
    [
        ["up", "two-sites", "--out", "{out}"],
        ["up", "two-sites", "--check", "--traffic", "--out", "{out}"],
        ["shell", "two-sites", "--out", "{out}"],
        ["run", "two-sites-failover", "--out", "{out}"],
        ["sweep", "two-sites-failover", "--param", "bgp.hold=3,9", "--out", "{out}"],
        ["sweep", "two-sites-failover", "--dry-run", "--param", "bgp.hold=3,9", "--out", "{out}"],
        ["reproduce", "failure-detection", "--quick", "--out", "{out}"],
    ],
)
def test_out_under_a_file_is_one_line_before_anything_starts(capsys, no_start, tmp_path, argv):
    plain = tmp_path / "plain"
    plain.write_text("a file\n")
    out = plain / "runs"
    line = one_line_error(capsys, *[a.format(out=out) for a in argv])
    assert line == f"--out: {out}: cannot create it: {plain} is a file, not a directory"


def test_out_not_writable(capsys, no_start, tmp_path, monkeypatch):
    import os

    real = os.access
    locked = tmp_path / "locked"
    locked.mkdir()

    def access(path, mode):  # as a read-only folder (root may write anywhere)
        return not (Path(path) == locked and mode & os.W_OK) and real(path, mode)

    monkeypatch.setattr(os, "access", access)
    line = one_line_error(capsys, "run", "two-sites-failover", "--out", str(locked))
    assert line == f"--out: {locked}: is not writable"
    deeper = locked / "deeper" / "runs"
    line = one_line_error(capsys, "up", "two-sites", "--out", str(deeper))
    assert line == f"--out: {deeper}: cannot create it: {locked} is not writable"


def test_compare_out_that_cannot_be_written(capsys, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").write_text("{}")
    plain = tmp_path / "plain"
    plain.write_text("a file\n")
    line = one_line_error(capsys, "compare", str(run), "--out", str(plain / "cmp.md"))
    assert line == f"--out: {plain / 'cmp.md'}: {plain} is not a directory"
    line = one_line_error(capsys, "compare", str(run), "--out", str(tmp_path / "no" / "cmp.md"))
    assert line == f"--out: {tmp_path / 'no' / 'cmp.md'}: no such folder {tmp_path / 'no'}"
    assert not (tmp_path / "no").exists()


def test_new_run_dir_failure_is_an_input_error(tmp_path):
    from testbed.rundir import new_run_dir

    plain = tmp_path / "plain"
    plain.write_text("a file\n")
    with pytest.raises(InputError, match="cannot create the run folder: Not a directory"):
        new_run_dir("x", plain)
