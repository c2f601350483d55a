"""Namespace anchors: a bind mount of each node's network namespace.

Mininet's namespaces are unnamed: each lives as long as some process is in
it, and the testbed found them through the node's shell.  But the shells die
with the testbed (their pty closes), while FRR daemons and services live on
in the routers' namespaces.  So every node's namespace is also bind-mounted
on ``/run/anycast-testbed/netns/NODE`` (as ``ip netns add`` does, in the
testbed's own folder, so ``ip netns`` does not list them): the mount keeps
the namespace and its inode, and names it as the testbed's, so that
``anycast-testbed clean`` finds every process left inside -- also one
started in the moment before it was written to the state file -- with no
risk of the inode having been reused by someone else's namespace.

The mount paths are written to the state file *before* the mounts are made;
unmounting a path that is not mounted is a no-op.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
from pathlib import Path
from typing import Optional

MS_BIND = 0x1000
MNT_DETACH = 0x2
_libc = ctypes.CDLL(None, use_errno=True)


def _nsfs_dev() -> Optional[int]:
    """The device of the nsfs filesystem (namespace files), as stat reports it."""
    try:
        return os.stat("/proc/self/ns/net").st_dev
    except OSError:
        return None


def bind(pid: int, path: Path) -> int:
    """Bind-mount the network namespace of ``pid`` on ``path`` (created empty).

    Args:
        pid: a process in the namespace (the node's shell).
        path: the mount point, a file.

    Returns:
        The namespace's inode.

    Raises:
        OSError: the mount failed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(exist_ok=True)
    source = f"/proc/{pid}/ns/net".encode()
    if _libc.mount(source, str(path).encode(), None, MS_BIND, None) != 0:
        err = ctypes.get_errno()
        why = os.strerror(err)
        raise OSError(err, f"bind-mounting the namespace of pid {pid} on {path}: {why}")
    return os.stat(path).st_ino


def inode(path: Path) -> Optional[int]:
    """The namespace inode of an anchor, or None when ``path`` is not one (not mounted)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino if st.st_dev == _nsfs_dev() else None


def release(path: Path) -> bool:
    """Unmount an anchor (lazily) and remove its file.

    The namespace goes when its last process has gone.

    Returns:
        True if it was mounted.
    """
    path = Path(path)
    mounted = inode(path) is not None
    if mounted and _libc.umount2(str(path).encode(), MNT_DETACH) != 0:
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOENT):
            raise OSError(err, f"unmounting {path}: {os.strerror(err)}")
    with contextlib.suppress(OSError):
        path.unlink()
    return mounted
