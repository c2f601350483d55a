"""Folders that are not run folders: ``compare``, ``report`` and the labs' past runs.

Every case is one line naming the file (or the folder) and exit status 2;
nothing hangs on a FIFO and nothing is written into a folder that is not a
run folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Dict

import pytest

from testbed.analysis.compare import cells
from testbed.analysis.model import Summary
from testbed.labs.runner import past_runs
from testbed.topology.load import ROOT
from tests.unit.analysis.helpers import fixed_run

from .helpers import one_line_error, run_cli

GOOD_SUMMARY = {
    "scenario": "x",
    "clients": {"paris": {"site_before": "lon", "site_after": "lon", "dns": {}, "tcp": {}}},
    "events": [],
}


def _bytes(content: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content)


#: How summary.json is broken -> (make it, what the line says after the file name).
BROKEN: Dict[str, tuple] = {
    "list": (_bytes(b"[1, 2]"), "must hold a JSON object, not a list"),
    "number": (_bytes(b"42"), "must hold a JSON object, not a number"),
    "null": (_bytes(b"null"), "must hold a JSON object, not null"),
    "string": (_bytes(b'"x"'), "must hold a JSON object, not a string"),
    "not JSON": (_bytes(b"{bad"), "line 1: not valid JSON: Expecting property name"),
    "empty": (_bytes(b""), "line 1: not valid JSON: Expecting value"),
    "not UTF-8": (_bytes(b'{"x": "caf\xe9"}'), "line 1: not UTF-8 text (byte 0xe9"),
    "missing": (lambda path: None, "no such file: not a run folder, or a run never analysed"),
    "directory": (lambda path: path.mkdir(), "is a directory, not a file"),
    "FIFO": (lambda path: os.mkfifo(path), "not a regular file (a FIFO)"),
    "clients list": (_bytes(b'{"clients": []}'), "clients: must be a JSON object, not a list"),
    "client null": (
        _bytes(b'{"clients": {"paris": null}}'),
        "clients.paris: must be a JSON object, not null",
    ),
    "dns list": (
        _bytes(b'{"clients": {"paris": {"dns": []}}}'),
        "clients.paris.dns: must be a JSON object, not a list",
    ),
    "events object": (_bytes(b'{"events": {}}'), "events: must be a JSON list, not an object"),
    "event number": (_bytes(b'{"events": [1]}'), "events[0]: must be a JSON object, not a number"),
    "count a string": (
        _bytes(b'{"clients": {"paris": {"dns": {"lost": "x"}}}}'),
        "clients.paris.dns.lost: Input should be a valid integer, unable to parse string as an "
        "integer (got 'x')",
    ),
    "moved a string": (
        _bytes(b'{"events": [{"moved": "paris"}]}'),
        "events[0].moved: Input should be a valid list",
    ),
    "outage null": (
        _bytes(b'{"clients": {"paris": {"dns": {"outage_s": null}}}}'),
        "clients.paris.dns.outage_s: must be a number (got None)",
    ),
    "health tag": (
        _bytes(b'{"health": [{"event": "explode"}]}'),
        "health[0].event: unknown event 'explode' (one of state, retry, address)",
    ),
}


def good_run(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "summary.json").write_text(json.dumps(GOOD_SUMMARY))
    return path


def broken_run(path: Path, kind: str) -> Path:
    path.mkdir(parents=True)
    BROKEN[kind][0](path / "summary.json")
    return path


# ------------------------------------------------------------------ compare
@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_compare_a_folder_with_a_bad_summary_is_one_line(capsys, tmp_path, kind):
    good = good_run(tmp_path / "good")
    bad = broken_run(tmp_path / "bad", kind)
    line = one_line_error(capsys, "compare", str(good), str(bad), "--out", str(tmp_path / "c.md"))
    assert line.startswith(f"{bad / 'summary.json'}: {BROKEN[kind][1]}"), line
    assert not (tmp_path / "c.md").exists()


def test_compare_good_runs(capsys, tmp_path):
    a, b = good_run(tmp_path / "a"), good_run(tmp_path / "b")
    code, out, err = run_cli(capsys, "compare", str(a), str(b))
    assert code == 0, err
    assert "paris" in out and (b / "compare.md").exists()


def test_compare_cells_of_a_partial_summary():
    """Fields a summary.json lacks (older versions, or by hand) read as their defaults."""
    summary = Summary.model_validate({"clients": {"paris": {"tcp": {"reset": 1}}}})
    assert cells(summary, "paris") == ["-", "0.00 s", "0/0", "1/0"]
    assert cells(summary, "tokyo") == ["-", "-", "-", "-"]


# ------------------------------------------------------------------- report
def _empty(path: Path) -> None:
    path.mkdir()


def _no_records(path: Path) -> None:
    path.mkdir()
    (path / "up.json").write_text("{}")
    (path / "frr.conf").write_text("!")


def _empty_records(path: Path) -> None:  # as `up` without --traffic leaves it
    path.mkdir()
    (path / "records").mkdir()
    (path / "up.json").write_text("{}")


def _records_not_jsonl(path: Path) -> None:
    path.mkdir()
    (path / "records").mkdir()
    (path / "records" / "notes.txt").write_text("hello\n")
    (path / "records" / "dns-x.jsonl").mkdir()  # a folder named like a record file


def _records_a_file(path: Path) -> None:
    path.mkdir()
    (path / "records").write_text("not a folder\n")


def _records_a_fifo(path: Path) -> None:
    path.mkdir()
    os.mkfifo(path / "records")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_empty, "{run}: not a run folder (no records/ inside)"),
        (_no_records, "{run}: not a run folder (no records/ inside)"),
        (
            _empty_records,
            "{run}: not a run folder: records/ holds no records and there is no "
            "meta.json (nothing to report)",
        ),
        (
            _records_not_jsonl,
            "{run}: not a run folder: records/ holds no records and there is "
            "no meta.json (nothing to report)",
        ),
        (_records_a_file, "{run}/records: is not a folder: not a run folder"),
        (_records_a_fifo, "{run}/records: is not a folder: not a run folder"),
    ],
)
def test_report_on_a_folder_that_is_not_a_run_folder(capsys, tmp_path, make, expected):
    run = tmp_path / "run"
    make(run)
    before = sorted(p.name for p in run.iterdir())
    line = one_line_error(capsys, "report", str(run), "--no-plots")
    assert line == expected.format(run=run)
    assert sorted(p.name for p in run.iterdir()) == before  # nothing written into it


def test_report_on_a_meta_json_fifo_does_not_hang(capsys, tmp_path):
    run = fixed_run(tmp_path / "run")
    (run / "meta.json").unlink()
    os.mkfifo(run / "meta.json")
    line = one_line_error(capsys, "report", str(run), "--no-plots")
    assert line == f"{run / 'meta.json'}: not a regular file (a FIFO)"


def test_report_ignores_an_old_summary_that_is_a_fifo(capsys, tmp_path):
    run = fixed_run(tmp_path / "run")
    os.mkfifo(run / "summary.json")  # read for `interrupted` only: must not block
    code, _, err = run_cli(capsys, "report", str(run), "--no-plots")
    assert code == 0, err
    assert (run / "summary.json").is_file()


def test_report_on_records_without_meta_json_still_works(capsys, tmp_path):
    run = fixed_run(tmp_path / "run")  # as `up --traffic` leaves it: records, no scenario
    (run / "meta.json").unlink()
    code, _, err = run_cli(capsys, "report", str(run), "--no-plots")
    assert code == 0, err


# ---------------------------------------------------------------- past runs
def test_past_runs_skip_folders_that_are_not_readable_runs(tmp_path):
    runs = tmp_path / "runs"
    topology = (ROOT / "topologies" / "two-sites.yaml").read_text()
    for kind in ("list", "FIFO", "directory", "not UTF-8", "clients list"):
        run = broken_run(runs / f"2026-{kind.replace(' ', '-')}", kind)
        (run / "topology.yaml").write_text(topology)
    good = good_run(runs / "2026-good")
    (good / "topology.yaml").write_text(topology)
    no_topology = good_run(runs / "2026-no-topology")
    os.mkfifo(no_topology / "topology.yaml")
    found = past_runs(runs)
    assert [r.path for r in found] == [good]
    assert found[0].summary == Summary.model_validate(GOOD_SUMMARY)
    assert found[0].summary.clients["paris"].site_before == "lon"
    assert found[0].topology.name == "two-sites"
