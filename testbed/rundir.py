"""Run folders: ``runs/YYYYMMDD-HHMMSS-LABEL/``, one per run, never overwritten."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict, Optional

import yaml

DEFAULT_BASE = Path("runs")


def new_run_dir(label: str, base: Optional[Path] = None) -> Path:
    """Create a fresh run folder.

    Args:
        label: the topology or scenario name.
        base: parent folder (default ``runs/`` in the working directory).

    Returns:
        The new folder (``-2``, ``-3``... appended if the name is taken).
    """
    base = Path(base or DEFAULT_BASE)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = base / f"{stamp}-{label}"
    n = 2
    while path.exists():
        path = base / f"{stamp}-{label}-{n}"
        n += 1
    path.mkdir(parents=True)
    (path / "records").mkdir()
    return path


def write_json(path: Path, data: Dict[str, Any]) -> None:
    """Write pretty JSON (and a trailing newline)."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_yaml(path: Path, data: Dict[str, Any]) -> None:
    """Write YAML as a person would (keys in order)."""
    path.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=None))
