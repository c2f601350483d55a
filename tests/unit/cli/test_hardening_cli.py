"""Issue 13's bad input through the real CLI: one line, exit 2, nothing started.

The classes themselves are tested at their root in tests/unit/topology/test_hardening.py.
"""

from __future__ import annotations

import os

import pytest

from ..topology.test_hardening import BASE
from .helpers import one_line_error, run_cli


def test_a_scenario_naming_dev_zero_as_its_topology_is_one_line(capsys, no_start, tmp_path):
    scen = tmp_path / "s.yaml"
    scen.write_text("name: s\nduration: 10\ntopology: /dev/zero\n")
    line = one_line_error(capsys, "run", str(scen))
    assert line == f"{scen}: topology: /dev/zero: not a regular file (a device)"


# ------------------------------------------------------------- through the CLI
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            BASE.replace("asn: 65001", "asn: yes"),
            "ases[0].asn: Input should be a valid integer (got 'yes')",
        ),
        (BASE + "links: []\n", "line 16: duplicate key 'links' (lines 8 and 16)"),
        (
            BASE.replace("{a: ta, b: tb}", "{a: ta, b: tb, delay: .inf}"),
            "links[0].delay: must be a finite duration",
        ),
        (
            BASE.replace("{name: s1, upstream: ta}", "{name: busiest, upstream: ta}"),
            "sites[0].name: 'busiest' is a reserved word",
        ),
    ],
)
@pytest.mark.parametrize("command", ["up", "validate"])
def test_up_and_validate_say_one_line_and_exit_2(
    capsys, no_start, tmp_path, text, expected, command
):
    path = tmp_path / "t.yaml"
    path.write_text(text)
    if command == "up":
        line = one_line_error(capsys, command, str(path))
    else:  # validate prints one line per file, no program name
        code, _out, err = run_cli(capsys, command, str(path))
        assert code == 2 and err.count("\n") == 1, err
        line = err.strip()
    assert line.startswith(f"{path}: {expected}"), line


def test_run_refuses_a_nan_override_in_one_line(capsys, no_start):
    assert one_line_error(capsys, "run", "site-failure", "--set", "duration=.nan") == (
        "--set: duration: Input should be a finite number (got nan)"
    )
    line = one_line_error(capsys, "up", "two-sites", "--dns-rate", "nan")
    assert "'nan' is not a number" in line


def test_a_fifo_topology_does_not_hang_the_cli(capsys, no_start, tmp_path):
    fifo = tmp_path / "t.yaml"
    os.mkfifo(fifo)
    assert one_line_error(capsys, "up", str(fifo)) == f"{fifo}: not a regular file (a FIFO)"
