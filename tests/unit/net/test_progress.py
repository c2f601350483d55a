"""Bring-up progress: steps counted every 5 %, shown in a phase's status line."""

from __future__ import annotations

import contextlib
import threading
from typing import List

from testbed.net.bringup import _follow
from testbed.net.build import Counted


def test_counted_says_every_twentieth_and_the_last_from_many_threads():
    lines: List[str] = []
    counted = Counted("daemons started", 100, lines.append)
    threads = [
        threading.Thread(target=lambda: [counted.after(lambda x: x, i) for i in range(25)])
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counted.done == 100
    assert lines == [f"daemons started {k}/100" for k in range(5, 101, 5)]


def test_a_failed_step_is_counted_and_its_error_kept():
    lines: List[str] = []
    counted = Counted("namespaces made", 1, lines.append)

    def boom() -> None:
        raise OSError("no shell")

    with contextlib.suppress(OSError):
        counted.after(boom)
    assert lines == ["namespaces made 1/1"]


def test_a_status_that_can_update_shows_the_testbeds_lines():
    class Status:
        text = ""

        def update(self, text: str) -> None:
            self.text = text

    class Tb:
        progress = staticmethod(lambda line: None)

    tb, shown = Tb(), Status()
    _follow(tb, shown, "internet:500")
    tb.progress("routes: 340/502 routers have all theirs")
    assert shown.text == "internet:500: routes: 340/502 routers have all theirs"
    plain = Tb()
    _follow(plain, None, "x")  # nullcontext's None: nothing to update, nothing changes
    assert plain.progress("anything") is None
