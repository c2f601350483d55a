"""Run folders: ``runs/YYYYMMDD-HHMMSS-LABEL/``, one per run, never overwritten.

:func:`check_out_dir` and :func:`check_out_file` check an ``--out`` path before
anything starts, so a path that cannot be written is one line and exit 2
rather than a traceback after the network is up.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any, Dict, Optional

import yaml

from testbed.errors import InputError

DEFAULT_BASE = Path("runs")


def _existing_ancestor(path: Path) -> Path:
    """The path itself if it exists, else its nearest existing parent."""
    path = Path(os.path.abspath(path))
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def check_out_dir(out: Path, option: str = "--out") -> None:
    """Check that ``out`` is, or can be made, a folder this process can write into.

    Nothing is created.

    Args:
        out: the folder run folders go into.
        option: the command-line option that gave it, for messages.

    Raises:
        InputError: ``out`` (or a parent of it) is a file, or is not writable.
    """
    found = _existing_ancestor(out)
    itself = found == Path(os.path.abspath(out))
    prefix = "" if itself else f"cannot create it: {found} "
    if not found.is_dir():
        what = "is a file" if found.exists() else "is a broken link"
        raise InputError(f"{prefix}{what}, not a directory", option, str(out))
    if not os.access(found, os.W_OK | os.X_OK):
        raise InputError(f"{prefix}is not writable", option, str(out))


def check_out_file(path: Path, option: str = "--out") -> None:
    """Check that the file ``path`` can be written: its folder exists and is writable.

    Args:
        path: the file to be written.
        option: the command-line option that gave it, for messages.

    Raises:
        InputError: the folder is missing, not a folder, or not writable, or
            ``path`` is a folder.
    """
    folder = Path(os.path.abspath(path)).parent
    if Path(path).is_dir():
        raise InputError("is a directory, not a file", option, str(path))
    if not folder.exists():
        raise InputError(f"no such folder {folder}", option, str(path))
    if not folder.is_dir():
        raise InputError(f"{folder} is not a directory", option, str(path))
    writable = os.access(folder, os.W_OK | os.X_OK)
    if not writable or (Path(path).exists() and not os.access(path, os.W_OK)):
        raise InputError("is not writable", option, str(path))


def new_run_dir(label: str, base: Optional[Path] = None) -> Path:
    """Create a fresh run folder.

    Args:
        label: the topology or scenario name.
        base: parent folder (default ``runs/`` in the working directory).

    Returns:
        The new folder (``-2``, ``-3``... appended if the name is taken).

    Raises:
        InputError: the folder cannot be created (naming it and why).
    """
    base = Path(base or DEFAULT_BASE)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = base / f"{stamp}-{label}"
    n = 2
    while path.exists():
        path = base / f"{stamp}-{label}-{n}"
        n += 1
    try:
        path.mkdir(parents=True)
        (path / "records").mkdir()
    except OSError as exc:
        raise InputError(
            f"cannot create the run folder: {exc.strerror or exc}", str(path)
        ) from None
    return path


def write_atomic(path: Path, text: str) -> None:
    """Write a text file whole or not at all (a temporary file renamed over it).

    On a full disk the old content (or no file) stays, never half a file;
    the OSError is raised.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_json(path: Path, data: Dict[str, Any]) -> None:
    """Write pretty JSON (and a trailing newline), whole or not at all."""
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_yaml(path: Path, data: Dict[str, Any]) -> None:
    """Write YAML as a person would (keys in order), whole or not at all."""
    write_atomic(path, yaml.safe_dump(data, sort_keys=False, default_flow_style=None))
