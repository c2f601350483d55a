"""Signals: SIGTERM and SIGHUP end a run like Ctrl-C; teardown is not interrupted."""

from __future__ import annotations

import contextlib
import signal
from typing import Iterator

_GRACEFUL = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when SIGTERM or SIGHUP arrives."""


def _raise(signum, _frame) -> None:
    raise Terminated(signal.Signals(signum).name)


def install() -> None:
    """Make SIGTERM and SIGHUP raise :class:`Terminated` (a KeyboardInterrupt)."""
    for sig in _GRACEFUL:
        signal.signal(sig, _raise)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Ignore Ctrl-C, SIGTERM and SIGHUP while the block runs (teardown)."""
    sigs = (signal.SIGINT, *_GRACEFUL)
    old = {s: signal.getsignal(s) for s in sigs}
    for s in sigs:
        signal.signal(s, signal.SIG_IGN)
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
