"""The student build: the repository as a tarball without the instructors' parts.

``make student-dist`` (or ``python3 scripts/student_dist.py [--out dist]``)
writes ``dist/anycast-testbed-student.tar.gz``: everything a student needs to
install the testbed and do the labs, without

* ``labs/solutions/`` (the instructor solutions),
* ``testbed/labs/solution.py`` (the ``lab solution`` command: the CLI then
  says in one line that this is a student build),
* ``tests/`` (the lab tests render and check the solutions) and ``.ci/``,
* anything local: run folders, virtualenvs, caches, build output, ``.git``.

The checkers and their reasoning stay: ``lab start`` draws variants with it
and ``lab check`` grades with it (see labs/README.md, trust model).  The
archive is reproducible: sorted, owned by root, dated 0.  Standard library only.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import sys
import tarfile
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parents[1]
NAME = "anycast-testbed-student"
#: Top-level entries of the repository that go into the build.
INCLUDE = (
    ".gitignore",
    "Makefile",
    "README.md",
    "pyproject.toml",
    "setup.py",
    "bench",
    "docs",
    "labs",
    "scenarios",
    "scripts",
    "testbed",
    "topologies",
    "vagrant",
)
#: Paths (relative, ``/``-separated) left out with everything below them.
EXCLUDE = ("labs/solutions", "testbed/labs/solution.py")
#: Names left out wherever they are.
JUNK_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", "runs", "dist", "build"}
JUNK_SUFFIXES = (".pyc", ".pyo", ".egg-info")


def _skipped(rel: str, name: str) -> bool:
    if any(rel == ex or rel.startswith(ex + "/") for ex in EXCLUDE):
        return True
    return name in JUNK_DIRS or name.endswith(JUNK_SUFFIXES)


def members(root: Path = ROOT) -> List[str]:
    """The files of the student build, relative to ``root``, sorted."""
    out: List[str] = []
    for top in INCLUDE:
        path = root / top
        if path.is_file():
            out.append(top)
            continue
        for folder, dirs, files in os.walk(path):
            rel_dir = Path(folder).relative_to(root).as_posix()
            dirs[:] = sorted(d for d in dirs if not _skipped(f"{rel_dir}/{d}", d))
            out.extend(
                f"{rel_dir}/{f}"
                for f in files
                if not _skipped(f"{rel_dir}/{f}", f) and not os.path.islink(os.path.join(folder, f))
            )
    return sorted(out)


def build(out_dir: Path, root: Path = ROOT) -> Path:
    """Write the tarball into ``out_dir``; its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{NAME}.tar.gz"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in members(root):
            path = root / rel
            info = tarfile.TarInfo(f"{NAME}/{rel}")
            info.size = path.stat().st_size
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "root", "root"
            with path.open("rb") as data:
                tar.addfile(info, data)
    with target.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(buffer.getvalue())
    return target


def main(argv: List[str]) -> int:
    """``student_dist.py [--out DIR]``: build, print the tarball's path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (dist)")
    args = parser.parse_args(argv)
    try:
        target = build(args.out)
    except OSError as exc:
        print(f"student_dist: {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
