"""Running the real entry point (``testbed.cli.main``) and reading its one line."""

from __future__ import annotations

from typing import Tuple

import pytest

from testbed import cli


def run_cli(capsys, *argv: str) -> Tuple[int, str, str]:
    """Run ``anycast-testbed ARGV``: (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        cli.main(list(argv))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def one_line_error(capsys, *argv: str) -> str:
    """The error line of a command that must fail on bad input (exit 2, one line)."""
    code, _out, err = run_cli(capsys, *argv)
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert err.startswith("anycast-testbed: "), err
    return err.strip()[len("anycast-testbed: ") :]
