"""Working copies: a lab's hand-out rendered for one student's variant.

``render(lab, variant, dest)`` renders every ``*.j2`` template of the
hand-out (``topology.yaml.j2`` becomes ``topology.yaml``) with the variant,
copies the other files, and writes ``.lab.json`` (lab, student, variant and
a digest of them) so that ``lab check`` knows whose copy it is and notices
when the file was edited.  With ``solution=True`` the instructor's files
replace the hand-out's of the same name.

With a course secret the variant's seed is salted with it: ``.lab.json``
then also records the seed (so a check without the secret, the student's,
can rebuild the variant) and is signed with the secret (so the instructor's
check, with it, knows the seed was not changed).  Without one it is signed
with the per-install key (:mod:`testbed.labs.signing`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import jinja2

from testbed.errors import InputError
from testbed.labs.registry import COMMON_DIR, Lab
from testbed.labs.signing import Key, Keyring, Tampered, check_data, sign_data
from testbed.labs.variant import (
    Variant,
    check_student,
    diagram,
    generation,
    make_variant,
    seed_of,
)

STATE = ".lab.json"
#: Said by ``lab start`` and ``lab check`` when a student's variant is not salted.
GUESSABLE = (
    "warning: no course secret: anyone can compute this variant (and its answers) from the "
    "student ID; instructors: --course-secret FILE (labs/README.md, trust model)"
)
#: Said by ``lab check`` without the course secret on a copy made with one.
UNVERIFIED = (
    "note: checked with the variant recorded in .lab.json (no course secret here): "
    "your instructor's check verifies it"
)


def sources(lab: Lab, solution: bool = False) -> Dict[str, Path]:
    """The files that make a working copy: output name -> source file.

    Args:
        lab: the lab.
        solution: include (and prefer) the instructor's files.

    Returns:
        Output file name (``.j2`` removed) -> the file it comes from.
    """
    folders = [lab.handout] + ([lab.solution] if solution else [])
    out: Dict[str, Path] = {}
    for folder in folders:
        if not folder.is_dir():
            raise InputError(f"lab {lab.number}: folder {folder} is missing")
        for path in sorted(folder.iterdir()):
            if path.is_file():
                out[path.name.removesuffix(".j2")] = path
    return out


def _environment(lab: Lab, solution: bool) -> jinja2.Environment:
    paths = [str(lab.solution)] if solution else []
    paths += [str(lab.handout), str(COMMON_DIR)]
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )


def render_text(lab: Lab, variant: Variant, source: Path, solution: bool = False) -> str:
    """Render one template of a lab for a variant.

    Args:
        lab: the lab.
        variant: the student's variant.
        source: the ``.j2`` file.
        solution: resolve includes from the solution folder first.

    Returns:
        The rendered text.
    """
    env = _environment(lab, solution)
    template = env.from_string(source.read_text())
    return template.render(v=variant, diagram=lambda *roles: diagram(variant, list(roles) or None))


def render(
    lab: Lab,
    variant: Variant,
    dest: Path,
    solution: bool = False,
    force: bool = False,
    course: Optional[Key] = None,
    signer: Optional[Key] = None,
) -> List[Path]:
    """Write a working copy.

    Args:
        lab: the lab.
        variant: the student's variant.
        dest: the working copy's folder (created).
        solution: the instructor's solution instead of the starting state.
        force: overwrite an existing working copy (the student's edits are lost).
        course: the course secret the variant was salted with (None: not salted).
        signer: the key that signs ``.lab.json`` (None: unsigned).

    Returns:
        The files written.

    Raises:
        InputError: ``dest`` already holds a working copy and ``force`` is not
            set, or ``dest`` cannot be written.
    """
    if (dest / STATE).exists() and not force:
        raise InputError(
            f"{dest} already holds a working copy (edit it, or use --force to start over)"
        )
    files = sources(lab, solution)
    texts = {
        name: render_text(lab, variant, source, solution)
        for name, source in files.items()
        if source.suffix == ".j2"
    }
    written = []
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for name, source in files.items():
            target = dest / name
            if name in texts:
                target.write_text(texts[name])
            else:
                shutil.copyfile(source, target)
            written.append(target)
        state: Dict[str, Any] = {
            "lab": lab.number,
            "slug": lab.slug,
            "student": variant.student,
            "solution": solution,
            "variant": variant.as_dict(),
            "digest": digest(lab.number, variant),
            "generation": generation(lab.number),
            "salted": course is not None,
        }
        if course is not None:
            state["seed"] = f"{seed_of(lab.number, variant.student, course.secret):016x}"
        state = json.loads(json.dumps(state))
        if signer is not None:
            state["signature"] = sign_data(signer, state)
        (dest / STATE).write_text(json.dumps(state, indent=1) + "\n")
    except OSError as exc:
        raise InputError(
            f"cannot write the working copy there ({exc.strerror or exc})", str(dest)
        ) from None
    give_back(dest)
    return written


def digest(lab: int, variant: Variant) -> str:
    """SHA-256 of the lab number, the student ID and the variant (canonical JSON)."""
    text = json.dumps(
        {"lab": lab, "student": variant.student, "variant": variant.as_dict()},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


def read_state(dest: Path) -> Optional[Dict[str, Any]]:
    """The ``.lab.json`` of a working copy (None when there is none).

    Raises:
        InputError: the file cannot be read, is not JSON, or is not a JSON object.
    """
    path = dest / STATE
    try:
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
    except OSError as exc:
        raise InputError(f"cannot read it ({exc.strerror or exc})", str(path)) from None
    except ValueError:
        raise InputError(
            "not valid JSON (lab start writes this file; start over with --force)", str(path)
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            "must hold a JSON object (lab, student, variant); start over with --force", str(path)
        )
    return data


@dataclass
class WorkingCopy:
    """A working copy as ``lab check`` opens it."""

    variant: Variant
    salted: bool
    notes: List[str] = field(default_factory=list)


def variant_of(lab: Lab, dest: Path, student: Optional[str]) -> Variant:
    """The variant a working copy was made for (see :func:`open_copy`; no keys)."""
    return open_copy(lab, dest, student).variant


def open_copy(
    lab: Lab, dest: Path, student: Optional[str], ring: Optional[Keyring] = None
) -> WorkingCopy:
    """The variant a working copy was made for, its ``.lab.json`` checked.

    Args:
        lab: the lab.
        dest: the working copy.
        student: ``--student`` if given (must match the copy's).
        ring: the check's keys (the course secret, this install's key).

    Returns:
        The variant, whether it is salted, and notes for the user.

    Raises:
        InputError: no working copy, another lab's, another student's, one
            made by a version that draws other variants (:func:`generation`),
            made with another course secret or without the one given.
        Tampered: ``.lab.json`` was edited (its digest or signature does not match).
    """
    state = read_state(dest)
    if state is None:
        raise InputError(
            f"{dest}: no working copy of lab {lab.number} here "
            f"(make one with: anycast-testbed lab start {lab.number} --dir {dest})"
        )
    if state.get("lab") != lab.number:
        raise InputError(f"{dest}: this is a working copy of lab {state.get('lab')}")
    where = dest / STATE
    owner = check_student(state.get("student"), f"{where}: student")
    if student is not None and owner != student:
        raise InputError(f"{dest}: this working copy is student {owner!r}'s, not {student!r}")
    made, now = state.get("generation", 1), generation(lab.number)
    if made != now:
        which = "an older" if isinstance(made, int) and made < now else "another"
        raise InputError(
            f"was made by {which} anycast-testbed, whose lab {lab.number} variants differ "
            f"(generation {made}; this one draws generation {now}): make a new working copy "
            "with lab start and move your answers into it",
            str(where),
        )
    course = ring.course if ring else None
    salted = state.get("salted") is True
    notes: List[str] = []
    if salted:
        seed = _seed(state, where)
        if course is not None and seed != seed_of(lab.number, owner, course.secret):
            raise InputError(
                "was made with another course secret (or its seed was edited)", str(where)
            )
        if course is None:
            notes.append(UNVERIFIED)
        variant = make_variant(lab.number, owner, seed=seed)
    else:
        if course is not None and owner is not None:
            raise InputError(
                "was made without the course secret: its variant is guessable (make the "
                "student's copy with lab start --course-secret FILE)",
                str(where),
            )
        if owner is not None:
            notes.append(GUESSABLE)
        variant = make_variant(lab.number, owner)
    if state.get("digest") != digest(lab.number, variant) or state.get("variant") != json.loads(
        json.dumps(variant.as_dict())
    ):
        raise Tampered(
            where,
            "was edited: it no longer matches the variant lab start made (make a new working "
            "copy with lab start and move your files into it)",
        )
    body = {k: v for k, v in state.items() if k != "signature"}
    verified = check_data(ring or Keyring(), body, state.get("signature"), where)
    if salted and course is not None and not verified:
        raise Tampered(where, "is not signed with the course secret")
    return WorkingCopy(variant, salted, notes)


def _seed(state: Dict[str, Any], where: Path) -> int:
    """The seed a salted ``.lab.json`` records."""
    text = state.get("seed")
    try:
        if not isinstance(text, str) or len(text) != 16:
            raise ValueError
        return int(text, 16)
    except ValueError:
        raise Tampered(where, "was edited: its seed is not one lab start writes") from None


def give_back(path: Path) -> None:
    """Under sudo, hand the files to the user who ran sudo (so they can edit them)."""
    uid, gid = os.environ.get("SUDO_UID"), os.environ.get("SUDO_GID")
    if os.geteuid() != 0 or not uid or not gid:
        return
    for root, dirs, files in os.walk(path):
        for name in [root] + [os.path.join(root, n) for n in dirs + files]:
            with contextlib.suppress(OSError):
                os.chown(name, int(uid), int(gid), follow_symlinks=False)


def make_copy(
    lab: Lab,
    student: Optional[str],
    dest: Path,
    solution: bool,
    force: bool,
    ring: Keyring,
) -> Variant:
    """Render a student's working copy, salted and signed with the keys of ``ring``.

    Args:
        lab: the lab.
        student: the student ID (None: the reference variant).
        dest: the working copy's folder.
        solution: the instructor's solution instead of the hand-out.
        force: overwrite an existing working copy.
        ring: the course secret (salts the variant, signs) and this install's key.

    Returns:
        The variant rendered.
    """
    course = ring.course
    variant = make_variant(lab.number, check_student(student), course.secret if course else None)
    render(lab, variant, dest, solution=solution, force=force, course=course, signer=ring.signer)
    return variant
