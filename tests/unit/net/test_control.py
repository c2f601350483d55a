"""A daemon's control command: its output, or one line saying why not."""

from __future__ import annotations

import pytest

from testbed.errors import TestbedError
from testbed.net.control import run_control


def test_the_output_of_a_command_that_answers() -> None:
    assert run_control(["echo", "Established"], "vtysh", "r1", "its FRR daemons", 5) == (
        "Established\n"
    )


def test_a_command_that_fails_says_what_it_printed() -> None:
    argv = ["sh", "-c", "echo 'no such socket' >&2; exit 1"]
    with pytest.raises(TestbedError, match=r"^birdc on r2 failed: no such socket$"):
        run_control(argv, "birdc", "r2", "its BIRD", 5)


def test_a_frozen_daemon_is_a_timeout_not_a_hang() -> None:
    with pytest.raises(TestbedError, match=r"did not answer within 0.2 s \(its FRR daemons"):
        run_control(["sleep", "5"], "vtysh", "r1", "its FRR daemons", 0.2)
