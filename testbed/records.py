"""Records: JSON Lines written one object per line, flushed as written.

Every recorder (probes, route monitor, BGP recorder, health agents, speakers,
scenario engine, watchdog) writes through :class:`RecordWriter`, and analysis
reads back with :func:`read_records`.  The record format is the contract in
docs/records.md; this module adds nothing to a record but ``t`` when it is
missing.

A line is written whole or not at all: each record is one ``write()`` of the
whole line to a file opened for appending, and when the disk is full (or a
quota is reached, or the device fails) the part of a line that did get
written is cut off again, so the file always ends with a complete line.  The
writer then raises :class:`WriteFault`; the processes that write records exit
with :func:`fault_exit_status` so the engine can tell why they stopped.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Dict, Iterator, Optional, Type, Union

from testbed.errors import TestbedError

PathLike = Union[str, "os.PathLike[str]"]

#: Write errors that mean the records cannot be written any more, and how they are said.
WRITE_FAULTS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EIO: "I/O error",
}
#: Exit status of a record-writing process (probe, health agent, speaker) that
#: stopped because its records could not be written, per errno (docs/records.md).
FAULT_EXIT = {errno.ENOSPC: 3, errno.EDQUOT: 4, errno.EIO: 5}

#: ``os.write``, through a name tests can replace to simulate a full disk.
_write = os.write


class WriteFault(TestbedError):
    """Records (or another file of the run) could not be written: disk full, quota, I/O error.

    Attributes:
        path: the file that could not be written.
        errno: ``ENOSPC``, ``EDQUOT`` or ``EIO``.
        reason: ``disk full``, ``disk quota exceeded`` or ``I/O error``.
    """

    def __init__(self, path: PathLike, code: int):
        self.path = Path(path)
        self.errno = code
        self.reason = WRITE_FAULTS.get(code, os.strerror(code))
        super().__init__(f"{self.reason} while writing {self.path}")

    @property
    def exit_status(self) -> int:
        """The exit status a record-writing process ends with (see :data:`FAULT_EXIT`)."""
        return FAULT_EXIT.get(self.errno, 1)


def is_write_fault(exc: BaseException) -> bool:
    """True for an OSError that means the disk cannot take more (see :data:`WRITE_FAULTS`)."""
    return isinstance(exc, OSError) and exc.errno in WRITE_FAULTS


def as_write_fault(exc: OSError, path: Optional[PathLike] = None) -> Optional[WriteFault]:
    """The :class:`WriteFault` an OSError stands for (None if it is another error).

    Args:
        exc: the error.
        path: the file being written (default: the error's own file name).
    """
    if not is_write_fault(exc):
        return None
    return WriteFault(path or exc.filename or "?", exc.errno)


def fault_of_exit_status(status: Optional[int]) -> Optional[int]:
    """The errno a record-writing process's exit status stands for (None: another exit)."""
    for code, value in FAULT_EXIT.items():
        if status == value:
            return code
    return None


class BadRecordError(ValueError):
    """A line of a records file that is not a JSON object (and not a cut last line).

    Attributes:
        path: the JSONL file.
        line: the line number, from 1.
        problem: what is wrong with it.
    """

    def __init__(self, path: Path, line: int, problem: str):
        super().__init__(f"{path}: line {line}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


def _shown(raw: bytes) -> str:
    """The start of a bad line, as text, for a message."""
    return repr(raw[:80].decode("utf-8", errors="replace").rstrip("\r\n"))


def _cut_to_last_line(fd: int) -> int:
    """Cut whatever follows the last newline of an open file (a partial line).

    Returns:
        The file's size afterwards.
    """
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    step = 4096
    end = size
    while end > 0:  # read back from the end until the last newline (records are short)
        start = max(0, end - step)
        chunk = os.pread(fd, end - start, start)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            os.ftruncate(fd, start + cut + 1)
            return start + cut + 1
        end = start
    os.ftruncate(fd, 0)
    return 0


def _drop_partial_tail(path: Path) -> None:
    """Cut a partial last line (a crashed writer's) so appending stays valid JSONL."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        _cut_to_last_line(fd)
    finally:
        os.close(fd)


def repair(folder: PathLike) -> Dict[str, int]:
    """Cut a partial last line off every ``*.jsonl`` file of a folder.

    Run after every writer has stopped (a writer killed between a short write
    and its own clean-up could leave one).  Cutting never needs disk space.

    Returns:
        file name -> bytes cut, for the files that had a partial line.
    """
    out: Dict[str, int] = {}
    folder = Path(folder)
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.jsonl")):
        try:
            before = path.stat().st_size
            _drop_partial_tail(path)
            after = path.stat().st_size
        except OSError:
            continue
        if after != before:
            out[path.name] = before - after
    return out


class RecordWriter:
    """Append records to a JSONL file, one whole line each, written as they come.

    Use as a context manager, or call :meth:`close`.  A record without ``t``
    gets ``t = time.time()`` (as the first key); nothing else is added or
    changed, and the caller's dict is not modified.

    Each line is one ``write()`` to a file opened with ``O_APPEND`` (several
    processes may append to one file, e.g. the health agents).  When the
    disk is full, a quota is reached or the device fails, whatever part of
    the line was written is cut off again and :class:`WriteFault` is raised;
    every later :meth:`write` raises it again at once.
    """

    def __init__(self, path: PathLike, append: bool = True):
        """Open the file.

        Args:
            path: the JSONL file; its folder must exist.
            append: keep what the file holds (a partial last line left by a
                crash is cut first); False starts the file afresh.
        """
        self.path = Path(path)
        if append:
            _drop_partial_tail(self.path)
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC  # read: to cut a partial line
        if not append:
            flags |= os.O_TRUNC
        self._fd: Optional[int] = os.open(self.path, flags, 0o644)
        self.count = 0
        self.fault: Optional[WriteFault] = None

    def write(self, record: Dict[str, Any]) -> None:
        """Write one record as one whole line.

        Args:
            record: a JSON-serialisable dict (see docs/records.md).

        Raises:
            WriteFault: the disk is full (or a quota, or an I/O error): nothing
                of this line is left in the file.
            ValueError: the writer is closed, or the record is not JSON.
        """
        if self._fd is None:
            raise ValueError(f"{self.path}: record writer is closed")
        if self.fault is not None:
            raise self.fault
        if "t" not in record:
            record = {"t": time.time(), **record}
        data = (json.dumps(record, allow_nan=False) + "\n").encode("utf-8")
        self._write_line(data)
        self.count += 1

    def _write_line(self, data: bytes) -> None:
        done = 0
        try:
            while done < len(data):
                n = _write(self._fd, data[done:] if done else data)
                if n <= 0:  # a regular file never does this; treat it as full
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                done += n
        except OSError as exc:
            if done:
                with contextlib.suppress(OSError):  # truncating needs no space
                    _cut_to_last_line(self._fd)
            fault = as_write_fault(exc, self.path)
            if fault is None:
                raise
            self.fault = fault
            raise fault from None

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._fd is None

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()


def read_records(path: PathLike) -> Iterator[Dict[str, Any]]:
    """Iterate over the records of a JSONL file.

    A last line cut short by a crash is skipped; a bad line anywhere else is
    an error.

    Args:
        path: the JSONL file.

    Returns:
        An iterator of dicts, in file order.

    Raises:
        BadRecordError: a line other than the last one is not a JSON object
            (a ValueError naming the file and the line number).
    """
    path = Path(path)
    with open(path, "rb") as fh:
        pending: Optional[tuple] = None  # (line number, raw) of a bad line
        for number, raw in enumerate(fh, start=1):
            if pending is not None:
                raise BadRecordError(path, pending[0], f"not a JSON record: {_shown(pending[1])}")
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                pending = (number, raw)
                continue
            if not isinstance(record, dict):
                raise BadRecordError(path, number, f"not a JSON object: {_shown(raw)}")
            yield record
        # a bad last line is what a crash mid-write leaves: tolerated
