"""A node's shell takes any command: one past a pty's line goes through a script file."""

from __future__ import annotations

import subprocess

from testbed.net.build import PTY_LINE_MAX, Testbed, _router_setup
from testbed.topology.load import load_topology
from testbed.topology.plan import make_plan


def test_a_short_command_is_sent_as_it_is(tmp_path):
    tb = Testbed(load_topology("two-sites"), tmp_path)
    assert tb.sendable("ta", "echo hi; echo rc=$?") == "echo hi; echo rc=$?"
    assert not (tmp_path / "commands").exists()


def test_a_long_command_runs_from_a_script_with_the_same_output(tmp_path):
    tb = Testbed(load_topology("two-sites"), tmp_path / "run dir")  # a space in the path
    command = "; ".join(f"echo line{i}" for i in range(600)) + "; echo rc=$?"
    assert len(command) > PTY_LINE_MAX
    first, second = tb.sendable("ta", command), tb.sendable("ta", command)
    assert first.startswith(". ") and len(first) < 200 and first != second
    direct = subprocess.run(["bash", "-c", command], capture_output=True, text=True).stdout
    sourced = subprocess.run(["bash", "-c", first], capture_output=True, text=True).stdout
    assert sourced == direct and direct.endswith("line599\nrc=0\n")


def test_internet_2000s_busiest_routers_need_it():
    """Seen on this machine: internet:2000's r1 is configured by a 4.5 kB line, which
    hung its shell before (the pty dropped the line's end)."""
    plan = make_plan(load_topology("internet:2000"))
    longest = max(len(_router_setup(r)) for r in plan.routers.values())
    assert longest > 4096
