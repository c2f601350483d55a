"""The answers a working copy was first graded on, and every graded attempt after.

The first ``lab check`` that grades an answer file (the run happened, so the
file was complete) freezes it: ``.lab-attempts.json`` keeps its content, and
every later check grades that content, whatever the file says now, and says
the file "changed after first check".  Each graded check adds an attempt
(time, SHA-256 of the file as it was, changed or not).  The record is signed
(:mod:`testbed.labs.signing`): a check with the key that signed it refuses an
edited record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

from testbed.errors import InputError
from testbed.labs.signing import Key, Keyring, Tampered, canonical, check_data, sign_data

ATTEMPTS = ".lab-attempts.json"


def now() -> str:
    """The time of an attempt (UTC, ISO 8601, seconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Record:
    """``.lab-attempts.json``: per answer file, the frozen first answers and the attempts."""

    path: Path
    files: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    #: True: verified with one of our keys; None: signed by a key we lack; False: unsigned.
    verified: Optional[bool] = None

    def frozen(self) -> Dict[str, Any]:
        """Answer file name -> the content it was first graded on."""
        return {name: entry["first"]["data"] for name, entry in self.files.items()}

    def first_at(self, name: str) -> str:
        """When ``name`` was first graded."""
        return str(self.files[name]["first"]["at"])

    def attempts(self) -> Dict[str, List[Dict[str, Any]]]:
        """Answer file name -> its graded attempts, oldest first."""
        return {name: list(entry.get("attempts", [])) for name, entry in self.files.items()}

    def add(self, name: str, data: Any) -> bool:
        """A graded attempt with ``data`` in ``name``; the first one freezes it.

        Returns:
            True when ``data`` differs from the frozen first answers.
        """
        digest = hashlib.sha256(canonical(data)).hexdigest()
        at = now()
        entry = self.files.setdefault(
            name, {"first": {"at": at, "sha256": digest, "data": data}, "attempts": []}
        )
        changed = digest != entry["first"]["sha256"]
        entry["attempts"].append({"at": at, "sha256": digest, "changed": changed})
        return changed

    def save(self, signer: Optional[Key]) -> None:
        """Write the record (signed when there is a key)."""
        body: Dict[str, Any] = {"files": json.loads(json.dumps(self.files))}
        if signer is not None:
            body["signature"] = sign_data(signer, {"files": body["files"]})
        try:
            self.path.write_text(json.dumps(body, indent=1) + "\n")
        except OSError as exc:
            raise InputError(f"cannot write it ({exc.strerror or exc})", str(self.path)) from None


def load(dest: Path, ring: Keyring) -> Record:
    """The working copy's record (empty when there is none yet).

    Raises:
        Tampered: it is not the JSON a check writes, or one of our keys signed
            it and it no longer matches.
    """
    path = dest / ATTEMPTS
    if not path.exists():
        return Record(path, verified=True)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        raise Tampered(path, "is not the record lab check writes") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or not all(_entry_ok(e) for e in files.values()):
        raise Tampered(path, "is not the record lab check writes")
    signature = data.get("signature")
    verified = check_data(ring, {"files": files}, signature, path)
    return Record(path, files, verified if signature is not None else False)


def _entry_ok(entry: Any) -> bool:
    first = entry.get("first") if isinstance(entry, dict) else None
    return (
        isinstance(first, dict)
        and {"at", "sha256", "data"} <= set(first)
        and isinstance(entry.get("attempts"), list)
    )
