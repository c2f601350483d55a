"""Where the command line prints: the rich consoles and the one-line helpers.

A leaf: it imports nothing from ``testbed`` but :mod:`testbed.errors`, so
every command (``testbed.commands``, ``sweep``, ``reproduce``, ``lab``)
imports it without importing the CLI.  Commands look :func:`require_root`
up here when they run (``console.require_root()``, or a function-level
import), so a test replaces it in one place.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.progress import ProgressColumn, Task
from rich.text import Text

from testbed.errors import InputError

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def say(line: str, err: bool = False) -> None:
    """One line as given (no markup, never wrapped), flushed so stdout and stderr keep order."""
    print(" ".join(line.split()), file=sys.stderr if err else sys.stdout, flush=True)


def fail(message: str) -> None:
    """One line on stderr, never wrapped."""
    print(f"anycast-testbed: {' '.join(message.split())}", file=sys.stderr, flush=True)


def require_root() -> None:
    """Exit 2 with one line unless running as root."""
    if os.geteuid() != 0:
        raise InputError("needs root: namespaces, veth links and FRR need it (run with sudo)")


class Counts(ProgressColumn):
    """A progress display's count: ``12.0/20 s`` for a run's timeline, ``3/12 runs, about
    5 min left`` for a sweep (a task with a ``left`` field), nothing for a phase without
    a total (a bring-up's steps, shown in its description)."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("")
        if "left" in task.fields:
            return Text(f"{task.completed:.0f}/{task.total:.0f} runs, {task.fields['left']}")
        return Text(f"{task.completed:5.1f}/{task.total:.0f} s")
