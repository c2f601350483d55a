"""What every health agent of a run announces: one small JSON file the agents share.

The agents are separate processes (one per site, each in its site's
namespace) but share the run folder, so the ``min_sites`` rule ("never
withdraw while fewer than K sites would remain announced") reads and writes
``RUN/health/announced.json`` -- ``{"lon": true, "nyc": false, ...}`` -- under
an exclusive ``flock`` on ``announced.json.lock``.  Deciding and marking a
withdrawal happen under one lock (:meth:`SharedAnnouncements.view`), so two
agents failing at once cannot both see the other announced and both withdraw.

An agent marks its site announced at start and after an announcement went
through, and withdrawn when it decides to withdraw (before the withdrawal
is applied: a withdrawal that fails to apply leaves the others more careful,
never less).  Only the sites with a health agent are counted; a scenario
event that withdraws a site (``withdraw``, ``fail_site``) is not seen here.
The file is replaced atomically (``os.replace``), so a reader never sees
half of it; a file that cannot be read counts as empty.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import Dict, Iterator, Union


class SharedAnnouncements:
    """The shared file of a run's health agents (see the module docstring).

    Args:
        path: ``RUN/health/announced.json``.
    """

    def __init__(self, path: Union[str, Path]):
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def _read(self) -> Dict[str, bool]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): bool(v) for k, v in data.items()}

    def _write(self, data: Dict[str, bool]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(dict(sorted(data.items()))) + "\n")
        os.replace(tmp, self.path)

    @contextlib.contextmanager
    def view(self) -> Iterator[Dict[str, bool]]:
        """Site -> announced, under the lock; changes made to it are written back."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = self._read()
            before = dict(data)
            yield data
            if data != before:
                self._write(data)
        finally:
            os.close(fd)  # closing releases the lock

    def mark(self, site: str, announced: bool) -> None:
        """Record that ``site`` is announced (or not)."""
        with self.view() as data:
            data[site] = announced

    def snapshot(self) -> Dict[str, bool]:
        """Site -> announced, as the file says now."""
        with self.view() as data:
            return dict(data)


def others_announced(data: Dict[str, bool], site: str) -> int:
    """How many sites other than ``site`` the shared file says are announced."""
    return sum(1 for name, on in data.items() if on and name != site)
