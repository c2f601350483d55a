"""Run an untrusted Python scenario in a child process and take back only its data.

A Python scenario's code is untrusted (a student's file, a download): it never
runs in the CLI's process.  :func:`evaluate` starts ``python -m
testbed.scenario.sandbox`` and sends it, on stdin, the file's text and the
topology as JSON.  The child builds the :class:`~testbed.topology.model.Topology`,
then confines itself before it runs a line of the file:

* as root: a new network namespace of its own (no network, not even a
  loopback that is up), no supplementary groups, user and group ``nobody``;
* always: working directory ``/``, ``PR_SET_NO_NEW_PRIVS``, killed when the
  parent dies, and resource limits: :data:`MEMORY_MB` of address space, CPU
  seconds just above the time limit, no new processes or threads, no bytes
  written to files, a few file descriptors;
* SIGINT ignored (the parent handles Ctrl-C and kills the child).

It then runs the file in a fresh module, calls ``scenario(topology)`` and
writes the result as one JSON line on a pipe of its own, so nothing the code
prints can pass for the result.  Everything the code raises (``SystemExit``
and ``KeyboardInterrupt`` included), a value that is not plain data, a crash,
an exit without a result, or a run longer than :data:`TIMEOUT` seconds is one
:class:`~testbed.errors.InputError`.  The parent kills the child's process
group on every path (also on Ctrl-C), so nothing is left running.  What the
code prints is passed on to stderr, at most :data:`OUTPUT_MAX` bytes, control
characters replaced.

As root, a child that cannot make its network namespace or drop to
``nobody`` refuses to run the code (one line).  Not root (unit tests,
``validate`` as a user), the code runs as the calling user, with the limits
and the time limit but with the network.  What the code can still do:
read world-readable files, create empty files where anyone may, signal
other processes of its user.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import pwd
import resource
import selectors
import signal
import subprocess
import sys
import time
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, TextIO, Tuple, Union

from testbed.errors import InputError, TestbedError
from testbed.topology.model import Topology

#: Seconds a Python scenario may take, from the child's start to its result.
TIMEOUT = 10.0
#: Address space of the child, in MiB (``RLIMIT_AS``).
MEMORY_MB = 1024
#: Bytes of the code's printed output that are kept (and shown); the rest is dropped.
OUTPUT_MAX = 64 * 1024
#: Bytes of result the parent reads at most.
RESULT_MAX = 16 * 1024 * 1024
#: How deep the returned data may nest.
DEPTH_MAX = 100
#: File descriptors the child may have open.
NOFILE = 64
#: The user the code runs as when the CLI runs as root.
USER = "nobody"
NOBODY_ID = 65534

#: The child's status when it could not even send its reply.
EXIT_BROKEN = 70

CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
CALL = "scenario()"
IMPORT = "import"
_MODULE = "testbed.scenario.sandbox"
_PLAIN = (str, int, float, bool, type(None))


# ===================================================================== parent
@dataclass
class _Collected:
    """What the parent read from the child."""

    output: bytearray = field(default_factory=bytearray)
    dropped: int = 0
    result: bytearray = field(default_factory=bytearray)
    too_big: bool = False
    timed_out: bool = False


def evaluate(
    text: str,
    path: Path,
    topology: Topology,
    source: str,
    timeout: Optional[float] = None,
    memory_mb: Optional[int] = None,
    output: Optional[TextIO] = None,
) -> Dict[str, Any]:
    """Run a Python scenario's ``scenario(topology)`` in a confined child process.

    Args:
        text: the file's source text (read by the caller, never by the child).
        path: the file, for line numbers in messages.
        topology: the topology handed to ``scenario()``.
        source: the file as named in messages.
        timeout: seconds before the child is killed (:data:`TIMEOUT`).
        memory_mb: the child's address space (:data:`MEMORY_MB`).
        output: where the code's printed output goes (stderr).

    Returns:
        The mapping ``scenario()`` returned, as plain JSON data.

    Raises:
        InputError: the code failed, returned something else, timed out,
            crashed or exited; one line naming ``source``.
        TestbedError: the child process cannot be started.
    """
    timeout = TIMEOUT if timeout is None else timeout
    memory_mb = MEMORY_MB if memory_mb is None else memory_mb
    request = {
        "source": text,
        "path": str(path),
        "topology": topology.model_dump(by_alias=True, mode="json"),
        "timeout": timeout,
        "memory_mb": memory_mb,
        "parent": os.getpid(),
    }
    payload = json.dumps(request).encode()
    got, status = _run_child(payload, timeout)
    _show_output(got, output if output is not None else sys.stderr)
    return _outcome(got, status, timeout, memory_mb, source)


def _child_env() -> Dict[str, str]:
    """A minimal environment: the parent's (secrets included) is not handed on."""
    root = str(Path(__file__).resolve().parents[2])
    return {
        "PATH": os.defpath,
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": root,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONSAFEPATH": "1",
    }


def _run_child(payload: bytes, timeout: float) -> Tuple[_Collected, int]:
    """Start the child, feed it, read it until it is done or the time is up; always reap it.

    Returns:
        (what was read, the child's exit status as ``Popen.returncode``).
    """
    deadline = time.monotonic() + timeout
    result_r, result_w = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", _MODULE, str(result_w)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(result_w,),
            cwd="/",
            env=_child_env(),
            start_new_session=True,
            bufsize=0,
        )
    except OSError as exc:
        os.close(result_r)
        os.close(result_w)
        raise TestbedError(f"cannot start Python to run a scenario: {exc}") from None
    os.close(result_w)
    got = _Collected()
    try:
        _pump(proc, payload, result_r, deadline, got)
        if not got.timed_out and not got.too_big:
            got.timed_out = not _exited(proc.pid, deadline)
    finally:
        # The child is not reaped yet, so its PID (the group's ID) cannot be reused.
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(result_r)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
    return got, proc.returncode


def _pump(
    proc: subprocess.Popen, payload: bytes, result_r: int, deadline: float, got: _Collected
) -> None:
    """Write the request and read output and result until both end, or the deadline."""
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin.fileno(), proc.stdout.fileno()
    for fd in (stdin, stdout, result_r):
        os.set_blocking(fd, False)
    sent = 0
    with selectors.DefaultSelector() as sel:
        sel.register(stdin, selectors.EVENT_WRITE)
        sel.register(stdout, selectors.EVENT_READ)
        sel.register(result_r, selectors.EVENT_READ)
        while stdout in sel.get_map() or result_r in sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                got.timed_out = True
                return
            for key, _events in sel.select(left):
                fd = key.fd
                if fd == stdin:
                    try:
                        sent += os.write(fd, payload[sent : sent + 65536])
                    except BlockingIOError:
                        continue
                    except OSError:  # the child is gone: its status tells why
                        sent = len(payload)
                    if sent >= len(payload):
                        sel.unregister(fd)
                        proc.stdin.close()
                    continue
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    sel.unregister(fd)
                elif fd == stdout:
                    keep = max(0, OUTPUT_MAX - len(got.output))
                    got.output += chunk[:keep]
                    got.dropped += len(chunk) - min(keep, len(chunk))
                else:
                    got.result += chunk
                    if len(got.result) > RESULT_MAX:
                        got.too_big = True
                        return


def _exited(pid: int, deadline: float) -> bool:
    """Wait (without reaping) until the child exits; False when the deadline comes first."""
    while True:
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)


_CONTROL = {c: "?" for c in (*range(32), 127, *range(0x80, 0xA0)) if c not in (9, 10)}


def _clean(text: str, limit: int = 300) -> str:
    """The first line of a message from the child, control characters replaced, bounded."""
    line = (text.splitlines() or [""])[0].translate(_CONTROL)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _show_output(got: _Collected, out: TextIO) -> None:
    """Pass on what the code printed: bounded, control characters replaced."""
    if not got.output:
        return
    text = got.output.decode("utf-8", "replace").translate(_CONTROL)
    if not text.endswith("\n"):
        text += "\n"
    if got.dropped:
        text += f"[{got.dropped} more bytes of output from the scenario dropped]\n"
    try:
        out.write(text)
        out.flush()
    except (OSError, ValueError):
        pass


def _messages(result: Union[bytes, bytearray]) -> Tuple[str, Optional[Dict[str, Any]]]:
    """The last phase the child reported, and its final reply (None if there is none)."""
    phase, reply = "", None
    for line in bytes(result).split(b"\n")[:-1]:  # only complete lines count
        try:
            msg = json.loads(line)
        except (ValueError, RecursionError):
            reply = None
            continue
        if isinstance(msg, dict) and isinstance(msg.get("phase"), str):
            phase = msg["phase"]
        elif isinstance(msg, dict) and "ok" in msg:
            reply = msg
    return phase, reply


def _outcome(
    got: _Collected, status: int, timeout: float, memory_mb: int, source: str
) -> Dict[str, Any]:
    """The returned data, or the one InputError that says why there is none."""
    phase, reply = _messages(got.result)
    calling = phase == CALL
    fld = CALL if calling else None
    prefix = "" if calling else "cannot be imported: "
    if got.too_big:
        raise InputError(f"returned more than {RESULT_MAX >> 20} MB of data", source, CALL)
    if reply is not None:  # it did reply, even if it hung after that
        if reply.get("ok") is True and isinstance(reply.get("data"), dict):
            return _plain(reply["data"], source)
        where = reply.get("field")
        where = _clean(where, 40) if isinstance(where, str) else None
        raise InputError(_clean(str(reply.get("error") or "failed")), source, where)
    if got.timed_out:
        what = "did not return" if calling else "did not finish"
        raise InputError(f"{prefix}{what} within {timeout:g} s", source, fld)
    if status < 0:
        raise InputError(f"{prefix}{_killed(-status, timeout, memory_mb)}", source, fld)
    what = "returning a scenario" if calling else "finishing"
    raise InputError(f"{prefix}exited without {what} (status {status})", source, fld)


def _killed(signum: int, timeout: float, memory_mb: int) -> str:
    """Why the child died of signal ``signum``."""
    if signum == signal.SIGXCPU:
        return f"used more than {timeout:g} s of CPU time"
    if signum == signal.SIGKILL:
        return f"was killed (SIGKILL): out of memory? (limit {memory_mb} MB)"
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    return f"crashed ({name})"


def _plain(data: Dict[str, Any], source: str) -> Dict[str, Any]:
    """Data read back from the child, checked not to nest deeper than :data:`DEPTH_MAX`."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > DEPTH_MAX:
            raise InputError(f"returned data nested more than {DEPTH_MAX} deep", source, CALL)
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return data


# ====================================================================== child
class _Reply:
    """The child's end of the result pipe: one JSON message a line."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, message: Dict[str, Any]) -> None:
        """Write one message (raises on a closed pipe or data that is not JSON)."""
        data = (json.dumps(message) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]


def _where(exc: BaseException, path: str) -> str:
    """`` (line N)`` for the innermost frame of ``exc`` in the scenario file, if any."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f" (line {exc.lineno})"
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
    return f" (line {lines[-1]})" if lines else ""


def _describe(exc: BaseException, path: str, memory_mb: int) -> str:
    """One line for an exception raised by the scenario's code."""
    if isinstance(exc, MemoryError):
        return f"ran out of memory (limit {memory_mb} MB){_where(exc, path)}"
    try:
        message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    except BaseException:  # a __str__ of the user's that fails
        message = "(message cannot be shown)"
    name = type(exc).__name__
    text = f"{name}: {message}" if message else name
    lines = text.splitlines() or [name]
    return lines[0] + _where(exc, path)


def _not_plain(value: Any, where: str = "", depth: int = 0) -> Optional[str]:
    """Where ``value`` holds something that is not JSON data (None when all of it is)."""
    here = where if 0 < len(where) <= 60 else ("the result" if not where else "..." + where[-57:])
    if depth > DEPTH_MAX:
        return f"the result nests more than {DEPTH_MAX} deep"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{here} has a key that is not a string ({type(key).__name__})"
            bad = _not_plain(item, f"{where}.{key}" if where else key, depth + 1)
            if bad:
                return bad
        return None
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            bad = _not_plain(item, f"{where}[{i}]", depth + 1)
            if bad:
                return bad
        return None
    kind = type(value).__name__
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    return None if isinstance(value, _PLAIN) else f"{here} is {article} {kind}"


def _run_code(
    text: str, path: str, topology: Topology, memory_mb: int, reply: _Reply
) -> Dict[str, Any]:
    """Import the scenario's code as a fresh module and call ``scenario(topology)``.

    Returns:
        The final message: ``{"ok": true, "data": ...}`` or ``{"ok": false, "field", "error"}``.
    """
    reply.send({"phase": IMPORT})
    module = types.ModuleType(f"anycast_scenario_{Path(path).stem}")
    module.__file__ = path
    sys.modules[module.__name__] = module
    try:
        exec(compile(text, path, "exec", dont_inherit=True), module.__dict__)
    except BaseException as exc:  # the user's code: anything it raises is one line
        error = f"cannot be imported: {_describe(exc, path, memory_mb)}"
        return {"ok": False, "field": None, "error": error}
    func = module.__dict__.get("scenario")
    if not callable(func):
        error = "a Python scenario must define scenario(topology) returning a mapping"
        return {"ok": False, "field": "scenario", "error": error}
    reply.send({"phase": CALL})
    try:
        data = func(topology)
    except BaseException as exc:  # as above
        return {"ok": False, "field": CALL, "error": f"failed: {_describe(exc, path, memory_mb)}"}
    if not isinstance(data, dict):
        error = f"must return a mapping (got {type(data).__name__})"
        return {"ok": False, "field": CALL, "error": error}
    bad = _not_plain(data)
    if bad:
        error = f"must return plain data (mappings, lists, strings, numbers): {bad}"
        return {"ok": False, "field": CALL, "error": error}
    return {"ok": True, "data": data}


def _nobody() -> Tuple[int, int]:
    """The UID and GID of :data:`USER` (65534 where there is no such user)."""
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        return NOBODY_ID, NOBODY_ID
    return entry.pw_uid, entry.pw_gid


def confine(timeout: float, memory_mb: int, parent: int) -> None:
    """Take away what the scenario's code must not have, before it runs.

    Raises:
        OSError: a step failed (the code is then not run).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if os.geteuid() == 0:
        if libc.unshare(CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"no network namespace of its own: {os.strerror(err)}")
        uid, gid = _nobody()
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        if 0 in (*os.getresuid(), *os.getresgid()):
            raise OSError(f"still root after switching to {USER}")
    os.chdir("/")
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)  # after setuid, which clears it
    if os.getppid() != parent:  # the parent died before that
        os._exit(1)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writing to a file fails, not kills
    cpu = int(timeout) + 1
    limits = {
        resource.RLIMIT_AS: memory_mb << 20,
        resource.RLIMIT_CPU: cpu,
        resource.RLIMIT_NOFILE: NOFILE,
        resource.RLIMIT_FSIZE: 0,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_NPROC: 0,
    }
    for kind, value in limits.items():
        _, hard = resource.getrlimit(kind)
        want = value + 1 if kind == resource.RLIMIT_CPU else value
        hard = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(kind, (min(value, hard), hard))


def _flush() -> None:
    """Flush what the code printed (it may have replaced or broken the streams)."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(BaseException):  # the user's stream object
            stream.flush()  # type: ignore[union-attr] # None is suppressed too


def main(argv: Optional[List[str]] = None) -> None:
    """The child: ``python -m testbed.scenario.sandbox RESULT_FD``, the request on stdin."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    args = sys.argv[1:] if argv is None else argv
    reply = _Reply(int(args[0]))
    try:
        request = json.loads(sys.stdin.buffer.read())
        topology = Topology.model_validate(request["topology"])
        memory_mb = int(request["memory_mb"])
        confine(float(request["timeout"]), memory_mb, int(request["parent"]))
    except BaseException as exc:
        error = f"cannot be run confined: {type(exc).__name__}: {exc}".splitlines()[0]
        reply.send({"ok": False, "field": None, "error": error})
        os._exit(1)
    try:
        final = _run_code(request["source"], request["path"], topology, memory_mb, reply)
        _flush()
        try:
            reply.send(final)
        except (TypeError, ValueError) as exc:  # a value json cannot write after all
            error = f"must return plain data (mappings, lists, strings, numbers): {exc}"
            reply.send({"ok": False, "field": CALL, "error": error.splitlines()[0]})
    except BaseException:
        os._exit(EXIT_BROKEN)
    os._exit(0)  # no atexit handlers or finalizers of the code's objects


if __name__ == "__main__":
    main()
