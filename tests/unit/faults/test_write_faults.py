"""Records on a full disk: whole lines or nothing, a WriteFault, an exit status that says so."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from testbed import proc, records
from testbed.records import (
    FAULT_EXIT,
    RecordWriter,
    WriteFault,
    as_write_fault,
    fault_of_exit_status,
    read_records,
    repair,
)
from testbed.rundir import write_atomic, write_json


def lines(path: Path):
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def short_then_full(limit: int):
    """An os.write that writes ``limit`` bytes in all (a short write), then ENOSPC."""
    left = {"n": limit}

    def write(fd, data):
        if left["n"] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = min(len(data), left["n"])
        left["n"] -= n
        return os.write(fd, bytes(data[:n]))

    return write


def test_a_line_cut_by_a_full_disk_is_taken_back(tmp_path, monkeypatch):
    path = tmp_path / "dns-ca.jsonl"
    with RecordWriter(path) as writer:
        writer.write({"t": 1.0, "kind": "dns", "seq": 0})
        size = path.stat().st_size
        monkeypatch.setattr(records, "_write", short_then_full(10))  # 10 bytes of the next line
        with pytest.raises(WriteFault) as caught:
            writer.write({"t": 2.0, "kind": "dns", "seq": 1, "pad": "x" * 100})
        assert path.stat().st_size == size  # the partial line is gone
        assert caught.value.reason == "disk full"
        assert caught.value.errno == errno.ENOSPC
        assert caught.value.exit_status == 3
        assert str(caught.value) == f"disk full while writing {path}"
        monkeypatch.setattr(records, "_write", os.write)  # space again: still refused
        with pytest.raises(WriteFault):
            writer.write({"t": 3.0})
    assert lines(path) == [{"t": 1.0, "kind": "dns", "seq": 0}]
    assert writer.count == 1


def test_nothing_written_when_the_disk_is_full_at_once(tmp_path, monkeypatch):
    path = tmp_path / "routes.jsonl"
    monkeypatch.setattr(records, "_write", short_then_full(0))
    with RecordWriter(path) as writer, pytest.raises(WriteFault):
        writer.write({"t": 1.0})
    assert path.read_bytes() == b""


def test_dev_full_is_a_disk_full_fault():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with RecordWriter("/dev/full") as writer, pytest.raises(WriteFault, match="disk full"):
        writer.write({"t": 1.0})


@pytest.mark.parametrize(
    ("code", "reason", "status"),
    [
        (errno.ENOSPC, "disk full", 3),
        (errno.EDQUOT, "disk quota exceeded", 4),
        (errno.EIO, "I/O error", 5),
    ],
)
def test_each_fault_has_its_words_and_exit_status(tmp_path, monkeypatch, code, reason, status):
    def fail(_fd, _data):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(records, "_write", fail)
    with RecordWriter(tmp_path / "x.jsonl") as writer, pytest.raises(WriteFault) as caught:
        writer.write({"t": 1.0})
    assert caught.value.reason == reason
    assert caught.value.exit_status == status == FAULT_EXIT[code]
    assert fault_of_exit_status(status) == code


def test_other_errors_are_not_faults(tmp_path, monkeypatch):
    def fail(_fd, _data):
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    monkeypatch.setattr(records, "_write", fail)
    with RecordWriter(tmp_path / "x.jsonl") as writer, pytest.raises(OSError) as caught:
        writer.write({"t": 1.0})
    assert not isinstance(caught.value, WriteFault)
    assert as_write_fault(OSError(errno.EACCES, "denied")) is None
    assert fault_of_exit_status(1) is None and fault_of_exit_status(None) is None


def test_writers_sharing_a_file_append_whole_lines(tmp_path):
    path = tmp_path / "health.jsonl"
    with RecordWriter(path) as a, RecordWriter(path) as b:
        for i in range(50):
            a.write({"t": i, "site": "east"})
            b.write({"t": i, "site": "west"})
    got = list(read_records(path))
    assert len(got) == 100 and {r["site"] for r in got} == {"east", "west"}


def test_repair_cuts_partial_last_lines_only(tmp_path):
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "good.jsonl").write_text('{"t": 1}\n{"t": 2}\n')
    (folder / "cut.jsonl").write_text('{"t": 1}\n{"t": 2, "ki')
    (folder / "all-cut.jsonl").write_text('{"t": 1, "ki')
    assert repair(folder) == {"all-cut.jsonl": 12, "cut.jsonl": 12}
    assert (folder / "good.jsonl").read_text() == '{"t": 1}\n{"t": 2}\n'
    assert (folder / "cut.jsonl").read_text() == '{"t": 1}\n'
    assert (folder / "all-cut.jsonl").read_text() == ""


def test_exit_on_write_fault_exits_with_the_status_and_one_line(tmp_path, capfd):
    with (
        pytest.raises(SystemExit) as caught,
        proc.exit_on_write_fault("python -m testbed.probes.dns"),
    ):
        raise WriteFault(tmp_path / "dns-ca.jsonl", errno.ENOSPC)
    assert caught.value.code == 3
    err = capfd.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("python -m testbed.probes.dns: error: disk full while writing ")


def test_safe_stderr_drops_what_cannot_be_written(monkeypatch):
    import sys

    def full(_fd, _data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sys, "stderr", sys.stderr)  # restored after the test
    proc.safe_stderr()
    monkeypatch.setattr(os, "write", full)
    print("a log line on a full disk", file=sys.stderr, flush=True)  # no exception


def test_atomic_writes_leave_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "meta.json"
    write_json(path, {"t0": 1.0})
    real = Path.write_text

    def half_then_full(self, text, *args, **kwargs):
        real(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_full)
    with pytest.raises(OSError):
        write_json(path, {"t0": 2.0, "more": "x" * 100})
    with pytest.raises(OSError):
        write_atomic(tmp_path / "new.md", "text")
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"t0": 1.0}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meta.json"]
