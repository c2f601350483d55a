"""Keys and HMAC signatures for the files ``lab check`` trusts.

Two kinds of key sign them (HMAC-SHA256):

* the **course secret**, a file only the instructors hold (``--course-secret
  FILE``): it also salts the variant seeds (:func:`testbed.labs.variant.seed_of`);
* a **per-install key**, made on first use in the user's state folder
  (``~/.local/state/anycast-testbed/lab.key``; under sudo the invoking user's),
  when no course secret is given.

A signature names its key by a fingerprint (never the key), so a check can
tell "signed by a key I have, and it no longer matches" (the file was
tampered with: :class:`Tampered`) from "signed by a key I do not have" (made
on another machine: it cannot be verified here).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import pwd
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from testbed.errors import InputError

#: Shortest course secret accepted (bytes, blanks at the ends removed).
SECRET_MIN = 16
#: Largest course secret file read (bytes).
SECRET_MAX = 4096
#: ``lab check``'s exit status for a tampered file.
TAMPERED_STATUS = 4


class Tampered(Exception):
    """A signed file no longer matches its signature: one line naming the file."""

    def __init__(self, path: Path, what: str = "was changed after it was signed"):
        super().__init__(f"{path}: {what} (lab check does not grade tampered files)")
        self.path = path


@dataclass(frozen=True)
class Key:
    """A signing key: ``course`` (the course secret) or ``install`` (this machine's)."""

    secret: bytes
    kind: str

    @property
    def id(self) -> str:
        """A fingerprint that names the key in signatures (reveals nothing of it)."""
        return hmac.new(self.secret, b"anycast-testbed key id", hashlib.sha256).hexdigest()[:16]

    def mac(self, data: bytes) -> str:
        """HMAC-SHA256 of ``data`` with this key (hex)."""
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()

    def salt(self, text: str) -> bytes:
        """HMAC-SHA256 of ``text`` (the variant seeds' salt)."""
        return hmac.new(self.secret, text.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class Keyring:
    """The keys a check has: it signs with the first and verifies with any."""

    keys: tuple = ()

    @property
    def signer(self) -> Optional[Key]:
        """The key new signatures are made with (None: nothing is signed)."""
        return self.keys[0] if self.keys else None

    @property
    def course(self) -> Optional[Key]:
        """The course secret, when given."""
        return next((k for k in self.keys if k.kind == "course"), None)

    def find(self, key_id: Any) -> Optional[Key]:
        """The key with this fingerprint (None: not one of ours)."""
        return next((k for k in self.keys if k.id == key_id), None)


def read_course_secret(path: Path) -> Key:
    """The course secret from a file.

    Raises:
        InputError: the file cannot be read, is too large, or the secret is
            shorter than :data:`SECRET_MIN` bytes.
    """
    try:
        if not path.is_file():
            raise InputError("no such file (the course secret is a file you make once)", str(path))
        if path.stat().st_size > SECRET_MAX:
            raise InputError(f"larger than {SECRET_MAX} bytes: not a course secret", str(path))
        data = path.read_bytes().strip()
    except OSError as exc:
        raise InputError(f"cannot read it ({exc.strerror or exc})", str(path)) from None
    if len(data) < SECRET_MIN:
        raise InputError(
            f"the course secret must have at least {SECRET_MIN} characters "
            "(make one with: openssl rand -hex 32 > FILE)",
            str(path),
        )
    return Key(data, "course")


def install_key_path() -> Path:
    """Where this machine's key for the invoking user lives (under sudo: the sudo user's)."""
    user = os.environ.get("SUDO_USER") if os.geteuid() == 0 else None
    if user:
        with contextlib.suppress(KeyError):
            return Path(pwd.getpwnam(user).pw_dir) / ".local/state/anycast-testbed/lab.key"
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local/state")
    return Path(base) / "anycast-testbed" / "lab.key"


def install_key(path: Optional[Path] = None) -> Optional[Key]:
    """This install's key, made (mode 0600) on first use; None when it cannot be read or made."""
    path = path or install_key_path()
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
            _give_back([path.parent, path])
        data = path.read_bytes().strip()
    except OSError:
        return None
    return Key(data, "install") if len(data) >= SECRET_MIN else None


def _give_back(paths: List[Path]) -> None:
    uid, gid = os.environ.get("SUDO_UID"), os.environ.get("SUDO_GID")
    if os.geteuid() != 0 or not uid or not gid:
        return
    for path in paths:
        with contextlib.suppress(OSError):
            os.chown(path, int(uid), int(gid))


def keyring(course: Optional[Key], install: Optional[Key] = None) -> Keyring:
    """The course secret first (it signs), then this install's key."""
    return Keyring(tuple(k for k in (course, install) if k is not None))


# ---------------------------------------------------------------- signatures
def canonical(data: Any) -> bytes:
    """JSON with sorted keys and no blanks: what is signed for a JSON object."""
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def sign_data(key: Key, data: Any) -> Dict[str, str]:
    """The signature of plain data: ``{"key": fingerprint, "kind": ..., "hmac": ...}``."""
    return {"key": key.id, "kind": key.kind, "hmac": key.mac(canonical(data))}


def check_data(ring: Keyring, data: Any, signature: Any, path: Path) -> Optional[bool]:
    """Verify a signature made by :func:`sign_data`.

    Returns:
        True when it verifies, None when it is by a key this check does not
        have (or missing).

    Raises:
        Tampered: made by one of our keys and the data no longer matches.
    """
    if not isinstance(signature, dict):
        return None
    key = ring.find(signature.get("key"))
    if key is None:
        return None
    if not hmac.compare_digest(str(signature.get("hmac")), key.mac(canonical(data))):
        raise Tampered(path)
    return True


#: The file next to the signed files of a folder (a run folder).
FOLDER_SIGNATURE = ".lab-signature.json"


def _file_macs(key: Key, folder: Path, names: List[str]) -> Dict[str, str]:
    out = {}
    for name in names:
        path = folder / name
        if path.is_file():
            out[name] = key.mac(name.encode() + b"\0" + path.read_bytes())
    return out


def sign_folder(key: Optional[Key], folder: Path, names: List[str]) -> bool:
    """Sign some files of a folder into :data:`FOLDER_SIGNATURE` (False: not signed)."""
    if key is None:
        return False
    macs = _file_macs(key, folder, names)
    try:
        (folder / FOLDER_SIGNATURE).write_text(
            json.dumps({"key": key.id, "kind": key.kind, "files": macs}, indent=1) + "\n"
        )
    except OSError:
        return False
    _give_back([folder / FOLDER_SIGNATURE])
    return True


def check_folder(ring: Keyring, folder: Path) -> Optional[bool]:
    """Verify a folder's :data:`FOLDER_SIGNATURE`.

    Returns:
        True: verified; False: not signed; None: signed by a key this check
        does not have.

    Raises:
        Tampered: a file it signed was changed, removed or the signature edited.
    """
    path = folder / FOLDER_SIGNATURE
    if not path.exists():
        return False
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        raise Tampered(path, "is not a signature any more") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise Tampered(path, "is not a signature any more")
    key = ring.find(data.get("key"))
    if key is None:
        return None
    signed: Dict[str, Any] = data["files"]
    now = _file_macs(key, folder, list(signed))
    for name, mac in signed.items():
        if not hmac.compare_digest(str(mac), now.get(name, "")):
            raise Tampered(folder / name)
    return True
