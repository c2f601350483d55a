"""Running the real entry point (``testbed.cli.main``) and reading its one line."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
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


#: The benchmarks' folder (``bench/``: scripts, not a package).
BENCH_DIR = Path(__file__).resolve().parents[3] / "bench"


def load_bench(name: str) -> ModuleType:
    """``bench/NAME.py`` imported as a module (``bench_NAME``)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
