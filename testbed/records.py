"""Records: JSON Lines written one object per line, flushed as written.

Every recorder (probes, route monitor, BGP recorder, scenario engine) writes
through :class:`RecordWriter`, and analysis reads back with
:func:`read_records`.  The record format is the contract in docs/records.md;
this module adds nothing to a record but ``t`` when it is missing.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Dict, Iterator, Optional, Type, Union

PathLike = Union[str, "os.PathLike[str]"]


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


def _drop_partial_tail(path: Path) -> None:
    """Cut a partial last line (a crashed writer's) so appending stays valid JSONL."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    if size == 0:
        return
    with open(path, "rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return
        # read back from the end until the last newline (records are short)
        step = 4096
        end = size
        while end > 0:
            start = max(0, end - step)
            fh.seek(start)
            chunk = fh.read(end - start)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                fh.truncate(start + cut + 1)
                return
            end = start
        fh.truncate(0)


class RecordWriter:
    """Append records to a JSONL file, one line each, flushed after every line.

    Use as a context manager, or call :meth:`close`.  A record without ``t``
    gets ``t = time.time()`` (as the first key); nothing else is added or
    changed, and the caller's dict is not modified.
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
        self._fh: Optional[IO[str]] = open(  # noqa: SIM115 - closed by close()
            self.path, "a" if append else "w", encoding="utf-8"
        )
        self.count = 0

    def write(self, record: Dict[str, Any]) -> None:
        """Write one record as one line and flush it.

        Args:
            record: a JSON-serialisable dict (see docs/records.md).
        """
        if self._fh is None:
            raise ValueError(f"{self.path}: record writer is closed")
        if "t" not in record:
            record = {"t": time.time(), **record}
        self._fh.write(json.dumps(record, allow_nan=False) + "\n")
        self._fh.flush()
        self.count += 1

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._fh is None

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
