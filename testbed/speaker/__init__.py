"""Python BGP speakers for anycast sites (``speaker: ryu``): Ryu's BGPSpeaker, or os-ken.

One source of truth for which library runs: the speaker process imports
BGPSpeaker with :func:`import_bgpspeaker` (Ryu 4.34 where it imports, i.e.
Python 3.11 and earlier; os-ken, the maintained fork with the same API,
otherwise) and writes the name in its ``start`` record; :func:`run_library`
reads those records back for a run's ``meta.json`` and summary.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType
from typing import List, Optional, Tuple

#: Import paths of the BGPSpeaker module, in order of preference.
LIBRARIES = (
    ("ryu", "ryu.services.protocols.bgp.bgpspeaker"),
    ("os-ken", "os_ken.services.protocols.bgp.bgpspeaker"),
)


def import_bgpspeaker() -> Tuple[str, ModuleType]:
    """Import the BGPSpeaker module of the first library that imports.

    Any exception counts as "does not import" (Ryu 4.34 on Python 3.12 fails
    on ``import imp``; a broken eventlet fails otherwise), so the fallback is
    taken whatever the reason.  eventlet must be monkey-patched before.

    Returns:
        (library name, its ``bgpspeaker`` module).

    Raises:
        ImportError: no library imports (the message names each failure).
    """
    errors: List[str] = []
    for name, module in LIBRARIES:
        try:
            return name, importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - any failure means: try the next one
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
    raise ImportError("no BGPSpeaker library imports (" + "; ".join(errors) + ")")


def describe_library() -> str:
    """``NAME VERSION`` of the library :func:`import_bgpspeaker` takes here (``ryu 4.34``).

    Imports it (run it in a child process: importing Ryu loads eventlet).

    Raises:
        ImportError: no library imports.
    """
    from importlib.metadata import PackageNotFoundError, version

    name, _ = import_bgpspeaker()
    try:
        return f"{name} {version(name)}"
    except PackageNotFoundError:
        return name


def run_library(run_dir: Path) -> Optional[str]:
    """The library the run's speakers actually imported, from their ``start`` records.

    Args:
        run_dir: a run folder (``records/speaker-SITE.jsonl``).

    Returns:
        ``ryu`` or ``os-ken`` (several names joined with ``, `` if speakers
        differed), or None when no speaker has started.
    """
    names = set()
    for path in sorted(Path(run_dir, "records").glob("speaker-*.jsonl")):
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") == "start" and record.get("library"):
                names.add(str(record["library"]))
    return ", ".join(sorted(names)) or None
