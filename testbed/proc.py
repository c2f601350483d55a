"""Plumbing shared by the small processes the testbed starts inside namespaces.

Services and probes (``python -m testbed.services.stream``,
``python -m testbed.probes.dns``, ...) all parse their arguments with
:class:`Parser`, which reports a bad argument on one line and exits 2, and
stop on SIGTERM or SIGINT through a :class:`StopSignal`, which a select loop
can wait on like a socket.  Those that write records end through
:func:`exit_on_write_fault` when the disk is full, with an exit status that
says so (:data:`testbed.records.FAULT_EXIT`), and write their log through
:func:`safe_stderr`, so a full disk never turns a log line into a crash;
:func:`recording` sets all of that up around their work.  The options the
probes share (``--client``, ``--target``, ``--seed``, ...) come from the
``add_*`` functions, so their names, types and defaults cannot drift apart.
The services that render a daemon's config and become the daemon (NSD,
PowerDNS, unbound, nginx) each have :func:`daemon_main` as their ``main()``.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Awaitable,
    Callable,
    Iterator,
    List,
    NoReturn,
    Optional,
    Tuple,
    TypeVar,
)

from testbed.probes import defaults

if TYPE_CHECKING:
    import asyncio

    from testbed.records import RecordWriter

T = TypeVar("T")

#: Names of clients and sites: they become DNS labels and file names.
NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")

EXIT_USAGE = 2
EXIT_FAILURE = 1
#: ``--duration``'s help in a process that otherwise runs until stopped.
UNTIL_STOPPED = "stop after this many seconds (default: until SIGTERM/SIGINT)"


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (``prog: error: ...``) and exit 2."""

    def error(self, message: str) -> NoReturn:
        """Print one error line and exit 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def fail(prog: str, message: str, status: int = EXIT_FAILURE) -> NoReturn:
    """Print one error line ``prog: error: message`` and exit.

    Args:
        prog: the process name, as in its usage line.
        message: what went wrong.
        status: exit status (1: runtime failure, 2: bad arguments).
    """
    sys.stderr.write(f"{prog}: error: {message}\n")
    sys.stderr.flush()
    raise SystemExit(status)


class _SafeStderr:
    """``sys.stderr`` that writes straight to fd 2 and drops what cannot be written.

    A process's log is a file in the run folder: on a full disk a log line
    must not raise (nor leave buffered text that fails again at exit).
    """

    encoding = "utf-8"
    errors = "replace"

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError):
            os.write(2, text.encode("utf-8", "replace"))
        return len(text)

    def flush(self) -> None:
        pass

    def fileno(self) -> int:
        return 2

    def isatty(self) -> bool:
        return False


def safe_stderr() -> None:
    """Make ``sys.stderr`` drop what cannot be written instead of raising (a full disk)."""
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    sys.stderr = _SafeStderr()  # type: ignore[assignment]


@contextlib.contextmanager
def exit_on_write_fault(prog: str) -> Iterator[None]:
    """End the process with one line and the fault's exit status when its records fail.

    A :class:`~testbed.records.WriteFault` (disk full, quota, I/O error) inside
    the block exits with :attr:`~testbed.records.WriteFault.exit_status` (3, 4
    or 5), which the engine's watchdog reads as "this file could not be
    written" (docs/records.md).
    """
    from testbed.records import WriteFault

    try:
        yield
    except WriteFault as exc:
        with contextlib.suppress(Exception):
            sys.stderr.write(f"{prog}: error: {exc}: stopped\n")
        raise SystemExit(exc.exit_status) from None


def name(value: str) -> str:
    """argparse type: a client or site name (lower-case DNS label)."""
    if not NAME_RE.match(value):
        raise argparse.ArgumentTypeError(
            f"invalid name {value!r}: lower-case letters, digits and '-', at most 63"
        )
    return value


def ipv4(value: str) -> str:
    """argparse type: an IPv4 address."""
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid IPv4 address {value!r}") from None


def port(value: str) -> int:
    """argparse type: a TCP/UDP port (1-65535)."""
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {value!r} (1-65535)")
    return number


def bounded(
    low: float, high: Optional[float] = None, kind: Callable[[str], float] = float
) -> Callable[[str], float]:
    """argparse type factory: a number with ``low < value <= high``.

    Args:
        low: exclusive lower bound.
        high: inclusive upper bound (None: no upper bound).
        kind: ``float`` or ``int``.

    Returns:
        A converter for ``type=``.
    """

    def convert(value: str) -> float:
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number {value!r}") from None
        if number != number or number <= low or (high is not None and number > high):
            upper = f" and at most {high:g}" if high is not None else ""
            raise argparse.ArgumentTypeError(f"{value} must be more than {low:g}{upper}")
        return number

    return convert


def add_out(parser: argparse.ArgumentParser) -> None:
    """The ``--out`` option every recording process has: its JSONL file."""
    parser.add_argument("--out", required=True, help="JSONL file to write (appended to)")


def add_client(
    parser: argparse.ArgumentParser,
    target_help: str = f"service address (default {defaults.SERVICE_ADDRESS})",
) -> None:
    """A probe's first options: ``--client`` (its name) and ``--target`` (the address it asks)."""
    parser.add_argument("--client", required=True, type=name, help="client name")
    parser.add_argument("--target", default=defaults.SERVICE_ADDRESS, type=ipv4, help=target_help)


def add_port(
    parser: argparse.ArgumentParser, default: int, what: str, flag: str = "--port"
) -> None:
    """A port option (``--port`` unless ``flag`` says), its help ``WHAT (default N)``."""
    parser.add_argument(flag, default=default, type=port, help=f"{what} (default {default})")


def add_rate(parser: argparse.ArgumentParser, default: float, most: float, what: str) -> None:
    """``--rate``: ``what`` (``queries``, ``requests``) per second, above 0, at most ``most``."""
    parser.add_argument(
        "--rate",
        default=default,
        type=bounded(0, most),
        help=f"{what} per second (default {default:g}, at most {most:g})",
    )


def add_stream_options(
    parser: argparse.ArgumentParser,
    flag: str,
    most: int,
    what: str,
    interval: str,
    timeout: str,
    count: int = defaults.TCP_STREAMS,
    timeout_flag: str = "--timeout",
) -> None:
    """A long-lived probe's count, ``--interval`` and answer timeout (the TCP stream's defaults).

    Args:
        parser: the probe's parser.
        flag: the count's option (``--streams``, ``--connections``).
        most: the most of them.
        what: what they are, in the count's help (``concurrent streams``).
        interval: ``--interval``'s help (``seconds between messages``).
        timeout: the timeout's help.
        count: the count's default.
        timeout_flag: the timeout's option (``--timeout``, ``--idle-timeout``).
    """
    parser.add_argument(
        flag,
        default=count,
        type=bounded(0, most, int),
        help=f"{what} (default {count}, at most {most})",
    )
    parser.add_argument(
        "--interval",
        default=defaults.TCP_INTERVAL,
        type=bounded(0.005, 60),
        help=f"{interval} (default {defaults.TCP_INTERVAL:g})",
    )
    parser.add_argument(
        timeout_flag,
        default=defaults.TCP_TIMEOUT,
        type=bounded(0, 600),
        help=f"{timeout} (default {defaults.TCP_TIMEOUT:g})",
    )


def add_connect_timeout(parser: argparse.ArgumentParser, help: str, default: float = 1.0) -> None:
    """``--connect-timeout``: seconds allowed for a handshake (more than 0, at most 120)."""
    parser.add_argument("--connect-timeout", default=default, type=bounded(0, 120), help=help)


def add_rtt_every(parser: argparse.ArgumentParser, what: str) -> None:
    """``--rtt-every``: seconds between RTT summaries (default 1.0), its help ``what``."""
    parser.add_argument(
        "--rtt-every", default=1.0, type=bounded(0.01, 3600), help=f"{what} (default 1.0)"
    )


def add_duration(parser: argparse.ArgumentParser, help: str = UNTIL_STOPPED) -> None:
    """``--duration``: seconds before the process stops by itself (default: never)."""
    parser.add_argument("--duration", default=None, type=bounded(0), help=help)


def add_seed(parser: argparse.ArgumentParser, what: str) -> None:
    """``--seed`` (a whole number, default 0), its help ``seed of WHAT (default 0)``."""
    parser.add_argument(
        "--seed", default=0, type=bounded(-1, None, int), help=f"seed of {what} (default 0)"
    )


def add_run_options(
    parser: argparse.ArgumentParser, seed: str, duration: str = UNTIL_STOPPED
) -> None:
    """A probe's last options: :func:`add_duration`, :func:`add_seed` and :func:`add_out`."""
    add_duration(parser, duration)
    add_seed(parser, seed)
    add_out(parser)


def add_listen_options(parser: argparse.ArgumentParser, default_port: int, what: str) -> None:
    """A line service's ``--site`` (named in its answers), ``--bind`` and ``--port`` (``what``)."""
    parser.add_argument("--site", required=True, type=name, help="site name sent in answers")
    parser.add_argument(
        "--bind",
        default=defaults.SERVICE_ADDRESS,
        type=ipv4,
        help=f"address to listen on (default {defaults.SERVICE_ADDRESS})",
    )
    add_port(parser, default_port, what)


def arguments(parser: argparse.ArgumentParser, argv: Optional[List[str]]) -> argparse.Namespace:
    """Parse a process's arguments (exit 2 on bad ones) and make stderr safe to write to."""
    args = parser.parse_args(argv)
    safe_stderr()
    return args


@contextlib.contextmanager
def recording(prog: str, path: str) -> Iterator[Tuple[StopSignal, RecordWriter]]:
    """A recording process's work: ``(stop, writer)``, its signals caught and its records open.

    Exits 1 with one line when ``path`` cannot be opened, and as
    :func:`exit_on_write_fault` says when the records cannot be written.
    """
    from testbed.records import RecordWriter

    with exit_on_write_fault(prog), StopSignal() as stop:
        try:
            writer = RecordWriter(path)
        except OSError as exc:
            fail(prog, f"cannot write {path}: {exc.strerror}")
        with writer:
            yield stop, writer


def add_daemon_dir(parser: argparse.ArgumentParser, daemon: str) -> None:
    """A daemon wrapper's ``--dir``: the folder of every file of ``daemon`` (``NSD``)."""
    parser.add_argument(
        "--dir", required=True, type=Path, help=f"directory for every {daemon} file"
    )


def add_also(parser: argparse.ArgumentParser, which: str) -> None:
    """``--also``: another address to serve on (``which``: what it is), repeatable."""
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        type=ipv4,
        help=f"another address to serve on ({which}); repeatable",
    )


def add_render_only(parser: argparse.ArgumentParser, daemon: str, what: str) -> None:
    """``--render-only``: write and check ``what`` (``the config, print its path``), do not
    start ``daemon``."""
    parser.add_argument(
        "--render-only",
        action="store_true",
        help=f"write and check {what}, do not start {daemon}",
    )


def load_json(path: Path, build: Callable[[Any], T]) -> T:
    """What ``build`` makes of a JSON file's data (a daemon wrapper's input).

    Raises:
        ValueError: (one line, naming ``path``) the file cannot be read, is not
            JSON, or ``build`` refuses its data (a ``ValueError`` or ``TypeError``).
    """
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise ValueError(f"{path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON: {exc}") from None
    try:
        return build(data)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: {exc}") from None


def daemon_main(
    parser: argparse.ArgumentParser,
    argv: Optional[List[str]],
    daemon: str,
    write: Callable[[argparse.Namespace, Any], Path],
    check: Callable[[Path], Optional[str]],
    command: Callable[[Path], List[str]],
    load: Optional[Callable[[argparse.Namespace], Any]] = None,
    installed: Optional[Callable[[], bool]] = None,
    install: str = "",
) -> None:
    """The ``main()`` of a wrapper that renders a daemon's config and becomes the daemon.

    Parses the arguments (exit 2 on bad ones); reads the JSON input with
    ``load(args)`` if the wrapper has one (a ``ValueError``: its one line,
    exit 2); checks the daemon is ``installed()`` (else exit 1: ``DAEMON not
    found (INSTALL)``); writes the files with ``write(args, input)`` into
    ``args.dir`` (an ``OSError``: exit 1); then :func:`exec_daemon` (with
    ``--render-only``: the config's path printed instead).

    Args:
        parser: the wrapper's parser (``--dir``, ``--render-only`` among its options).
        argv: the arguments (None: the command line's).
        daemon: its name in messages (``PowerDNS``, ``unbound``, ``NSD``, ``nginx``).
        write: writes its files; returns the config's path.
        check: the daemon's own check of the config (None: accepted).
        command: the daemon's command line on the config.
        load: reads the input file named by the arguments (None: no input).
        installed: whether the daemon is on this machine (None: not checked here).
        install: what to install when it is not.
    """
    args = parser.parse_args(argv)
    data = None
    if load is not None:
        try:
            data = load(args)
        except ValueError as exc:
            fail(parser.prog, str(exc), EXIT_USAGE)
    if installed is not None and not installed():
        fail(parser.prog, f"{daemon} not found ({install})")
    try:
        conf = write(args, data)
    except OSError as exc:
        fail(parser.prog, f"cannot write {daemon} files in {args.dir}: {exc.strerror}")
    exec_daemon(parser.prog, daemon, conf, check, command, args.render_only)


def exec_daemon(
    prog: str,
    daemon: str,
    conf: Path,
    check: Callable[[Path], Optional[str]],
    argv: Callable[[Path], List[str]],
    render_only: bool = False,
) -> None:
    """Exec ``daemon`` on its rendered config, once ``check`` accepts it.

    Exits 1 with one line when ``check`` finds a problem or the daemon cannot
    start; with ``render_only`` prints the config's path and returns instead.
    """
    problem = check(conf)
    if problem:
        fail(prog, f"{daemon} rejects {conf}: {' / '.join(problem.splitlines())}")
    if render_only:
        print(conf)
        return
    command = argv(conf)
    try:
        os.execv(command[0], command)
    except OSError as exc:
        fail(prog, f"cannot start {command[0]}: {exc.strerror}")


async def serve(run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run an asyncio service's ``run(stop)``, ``stop`` set by SIGTERM or SIGINT."""
    import asyncio

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run(stop)


class StopSignal:
    """Turns SIGTERM and SIGINT into a flag and a readable file descriptor.

    The handlers only set :attr:`stopped`; the signal also makes
    :meth:`fileno` readable (through ``signal.set_wakeup_fd``), so a
    ``select`` loop wakes up at once instead of finishing its timeout.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.stopped = False
        self.count = 0
        self.signame: Optional[str] = None
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)
        self._old_wakeup = signal.set_wakeup_fd(self._w, warn_on_full_buffer=False)
        self._old = {s: signal.signal(s, self._handle) for s in self.SIGNALS}

    def _handle(self, signum: int, _frame: object) -> None:
        self.stopped = True
        self.count += 1
        self.signame = signal.Signals(signum).name

    def fileno(self) -> int:
        """The read end of the wake-up pipe (readable after a signal)."""
        return self._r

    def drain(self) -> None:
        """Empty the wake-up pipe (call when :meth:`fileno` is readable)."""
        try:
            while os.read(self._r, 512):
                pass
        except BlockingIOError:
            pass

    def close(self) -> None:
        """Restore the previous handlers and close the pipe."""
        for sig, handler in self._old.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._old_wakeup)
        os.close(self._r)
        os.close(self._w)

    def __enter__(self) -> StopSignal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
