"""Golden files of an export: compare, or refresh with ``UPDATE_GOLDEN=1``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Dict

from testbed import __version__

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "export"
DATA = Path(__file__).resolve().parents[2] / "data"


def normalised(text: str) -> str:
    """The text without the version (it is in every file's header)."""
    return text.replace(f"anycast-testbed {__version__}", "anycast-testbed VERSION")


def check_golden(files: Dict[str, str], folder: Path) -> None:
    """Every file as the golden folder has it, and no other (``UPDATE_GOLDEN=1`` rewrites it)."""
    if os.environ.get("UPDATE_GOLDEN"):
        if folder.exists():
            shutil.rmtree(folder)
        for rel, text in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(normalised(text))
    on_disk = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert on_disk == sorted(files), "files differ from the golden export"
    for rel, text in files.items():
        assert normalised(text) == (folder / rel).read_text(), rel
