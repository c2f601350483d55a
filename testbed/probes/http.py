"""HTTP probe (``http-short``): many short HTTP/1.1 requests, each on a fresh connection.

Runs in a client's namespace, one process per client::

    python -m testbed.probes.http --client paris --target 192.0.2.53 [--port 80] \\
        [--rate 5] [--timeout 2.0] [--path /] [--duration S] [--seed N] \\
        --out RUN/records/http-paris.jsonl

Every ``1/rate`` seconds a request leaves on a new TCP connection
(``GET PATH HTTP/1.1``, ``Connection: close``), whatever the requests still
in flight: the way a REST client or a browser fetching small objects uses a
service.  nginx at every site answers (:mod:`testbed.services.http`), naming
its site in ``X-Site``.  Each request is one record, written when it ends:

- ``ok``: an answer came (``status``, ``site``, ``server``, ``latency`` from
  the connection's start to the whole answer);
- ``failed``: ``error`` is ``ECONNRESET``/``EPIPE`` (reset: a site that never
  saw the connection), ``timeout`` (no whole answer within ``--timeout``),
  ``ECONNREFUSED``, ``EHOSTUNREACH``, ``EOF`` (closed before a whole
  answer), ``HTTP 503`` (an error status), ``bad answer``; ``stage`` says
  whether the connection was up (``answer``) or not (``connect``).

``t`` is when the request started.  Requests still in flight when the probe
stops are ``abandoned`` (not counted).  The per-request bookkeeping is
:class:`RequestTracker` (pure, no I/O); :class:`HttpExchange` is one request's
socket, shared with the hybrid probe (:mod:`testbed.probes.hybrid`), which
asks the anycast address for a redirect the same way.  SIGTERM/SIGINT or the
end of ``--duration`` stops the probe, which exits 0.
"""

from __future__ import annotations

import errno
import random
import select
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from testbed import proc
from testbed.probes import defaults
from testbed.probes.builtin import service_address
from testbed.probes.kinds import (
    ProbeContext,
    ProbeKind,
    ServiceKind,
    register,
    register_service,
)
from testbed.probes.linestream import errno_name
from testbed.probes.streamloop import Now
from testbed.records import RecordWriter

Record = Dict[str, Any]
#: The most requests in flight at once (each holds a socket until its timeout).
MAX_INFLIGHT = 256
#: The highest request rate (requests/s per client): the ``Traffic`` model's bound too.
MAX_RATE = defaults.MAX_HTTP_RATE
#: Behind the send schedule by more than this (the process was stopped): skip ahead.
MAX_LAG = 1.0
#: The longest answer read (headers and body); nginx's answers are a few hundred bytes.
MAX_ANSWER = 65536
#: Errors that mean the connection was reset (a site that never saw it answered RST).
RESET_ERRORS = frozenset({"ECONNRESET", "EPIPE"})
#: Errors that mean no answer came in time.
TIMEOUT_ERRORS = frozenset({"timeout", "ETIMEDOUT"})


# ------------------------------------------------------------------ HTTP, pure
def build_request(host: str, path: str = "/") -> bytes:
    """An HTTP/1.1 GET for ``path`` that asks the server to close the connection after it."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: anycast-testbed\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode("ascii")


@dataclass
class Response:
    """An HTTP answer: status, headers (names in lower case) and body."""

    status: int
    headers: Dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def site(self) -> Optional[str]:
        """The site named in ``X-Site`` (None if absent)."""
        return self.headers.get("x-site")


def parse_response(data: bytes, eof: bool = False) -> Optional[Response]:
    """The whole HTTP/1.x answer at the start of ``data``, or None while it is incomplete.

    An answer is whole when its headers and ``Content-Length`` bytes of body
    are in; without ``Content-Length``, when the connection closed (``eof``).

    Raises:
        ValueError: ``data`` does not start like an HTTP answer, or it ended
            (``eof``) before the headers did.
    """
    head, sep, body = data.partition(b"\r\n\r\n")
    if not data.startswith(b"HTTP/"[: len(data)]):
        raise ValueError("bad answer")
    if not sep:
        if eof:
            raise ValueError("EOF")
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ValueError("bad answer")
    headers: Dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    length = headers.get("content-length")
    if length is not None and length.isdigit():
        if len(body) < int(length):
            if eof:
                raise ValueError("EOF")
            return None
        body = body[: int(length)]
    elif not eof:
        return None
    return Response(int(parts[1]), headers, body)


def error_class(error: str) -> str:
    """``reset``, ``timeout`` or ``failed``: what a failed request's ``error`` counts as."""
    if error in RESET_ERRORS:
        return "reset"
    if error in TIMEOUT_ERRORS:
        return "timeout"
    return "failed"


# -------------------------------------------------------------- one request, I/O
class HttpExchange:
    """One HTTP request over a fresh non-blocking TCP connection: connect, send, read.

    The owner's ``select`` loop calls :meth:`on_writable` / :meth:`on_readable`
    when :attr:`sock` is ready (writable while :meth:`wants_write`); once
    :attr:`result` is set, the exchange is over and its socket closed.
    ``result`` is ``("ok", Response)`` or ``("failed", error)``.
    """

    def __init__(self, target: Tuple[str, int], request: bytes, started: Now):
        self.target = target
        self.started = started
        self.connected = False
        self.outbuf = request
        self.inbuf = b""
        self.result: Optional[Tuple[str, Any]] = None
        self.sock: Optional[socket.socket] = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        code = self.sock.connect_ex(target)
        if code == 0:
            self._connected()
        elif code not in (errno.EINPROGRESS, errno.EAGAIN):
            self._end("failed", errno_name(code))

    @property
    def stage(self) -> str:
        """``connect`` until the TCP handshake completed, then ``answer``."""
        return "answer" if self.connected else "connect"

    def wants_write(self) -> bool:
        """True while connecting or while the request is not all sent."""
        return self.result is None and (not self.connected or bool(self.outbuf))

    def _end(self, outcome: str, value: Any) -> None:
        if self.result is None:
            self.result = (outcome, value)
        self.close()

    def close(self) -> None:
        """Close the socket (idempotent)."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def fail(self, error: str) -> None:
        """End the exchange as failed (e.g. ``timeout``)."""
        self._end("failed", error)

    def _connected(self) -> None:
        self.connected = True
        self._send()

    def _send(self) -> None:
        assert self.sock is not None
        try:
            sent = self.sock.send(self.outbuf, socket.MSG_NOSIGNAL)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._end("failed", errno_name(exc.errno))
            return
        self.outbuf = self.outbuf[sent:]

    def on_writable(self) -> None:
        """The socket is writable: the handshake ended, or more of the request can go."""
        if self.sock is None or self.result is not None:
            return
        if not self.connected:
            code = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                self._end("failed", errno_name(code))
                return
            self._connected()
        elif self.outbuf:
            self._send()

    def on_readable(self) -> None:
        """The socket is readable: more of the answer, its end, or an error."""
        if self.sock is None or self.result is not None:
            return
        try:
            data = self.sock.recv(16384)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._end("failed", errno_name(exc.errno))
            return
        self.inbuf += data
        try:
            answer = parse_response(self.inbuf, eof=not data)
        except ValueError as exc:
            self._end("failed", str(exc))
            return
        if answer is not None:
            self._end("ok", answer)
        elif len(self.inbuf) > MAX_ANSWER:
            self._end("failed", "bad answer")


# ------------------------------------------------------------- bookkeeping, pure
class RequestTracker:
    """The requests of one client: their numbers, start times and records (no I/O).

    Args:
        client: the client's name (in every record).
        timeout: seconds a request may take.
    """

    def __init__(self, client: str, timeout: float):
        self.client = client
        self.timeout = timeout
        self.seq = 0
        self.inflight: Dict[int, Now] = {}
        self.counts: Dict[str, int] = {"requests": 0, "ok": 0, "failed": 0, "skipped": 0}

    def _record(self, seq: int, started: Now, event: str, **fields: Any) -> Record:
        return {"t": started.t, "kind": "http", "client": self.client, "seq": seq,
                "event": event, **fields}  # fmt: skip

    def started(self, now: Now) -> int:
        """A request starts; returns its number."""
        seq = self.seq
        self.seq += 1
        self.inflight[seq] = now
        self.counts["requests"] += 1
        return seq

    def answered(self, seq: int, response: Response, now: Now) -> Record:
        """A whole answer came: ``ok`` (status below 400), else ``failed`` (``HTTP N``)."""
        started = self.inflight.pop(seq)
        latency = round(now.mono - started.mono, 6)
        fields = {"status": response.status, "site": response.site,
                  "server": response.headers.get("x-server"), "latency": latency}  # fmt: skip
        if response.status >= 400:
            self.counts["failed"] += 1
            return self._record(
                seq, started, "failed", error=f"HTTP {response.status}", stage="answer", **fields
            )
        self.counts["ok"] += 1
        return self._record(seq, started, "ok", **fields)

    def failed(self, seq: int, error: str, stage: str, now: Now) -> Record:
        """The request failed (``error``: an errno name, ``timeout``, ``EOF``, ...)."""
        started = self.inflight.pop(seq)
        self.counts["failed"] += 1
        latency = round(now.mono - started.mono, 6)
        return self._record(seq, started, "failed", error=error, stage=stage, latency=latency)

    def deadline(self, seq: int) -> float:
        """Monotonic time at which request ``seq`` times out."""
        return self.inflight[seq].mono + self.timeout

    def expired(self, now: Now) -> List[int]:
        """The requests in flight whose time is up, oldest first."""
        return [
            seq for seq, started in self.inflight.items() if now.mono >= started.mono + self.timeout
        ]

    def abandon(self) -> List[Record]:
        """The probe stops: an ``abandoned`` record for each request still in flight."""
        out = [self._record(seq, started, "abandoned") for seq, started in self.inflight.items()]
        self.inflight.clear()
        return out


def start_offset(seed: int, client: str, period: float) -> float:
    """Seconds before the first request (same seed and client: same), below one period."""
    return round(random.Random(f"http:{seed}:{client}").uniform(0, period), 6)


# ---------------------------------------------------------------------- the probe
class HttpProbe:
    """The probe's loop: a request every period, each on its own socket, one ``select``."""

    def __init__(
        self,
        client: str,
        target: str,
        port: int,
        rate: float,
        timeout: float,
        duration: Optional[float],
        writer: RecordWriter,
        seed: int = 0,
        path: str = "/",
    ):
        self.target = (target, port)
        self.request = build_request(target, path)
        self.period = 1.0 / rate
        self.duration = duration
        self.writer = writer
        self.tracker = RequestTracker(client, timeout)
        self.offset = start_offset(seed, client, self.period)
        self.exchanges: Dict[int, HttpExchange] = {}

    def _finish(self, seq: int, exchange: HttpExchange, now: Now) -> None:
        assert exchange.result is not None
        outcome, value = exchange.result
        if outcome == "ok":
            record = self.tracker.answered(seq, value, now)
        else:
            record = self.tracker.failed(seq, value, exchange.stage, now)
        del self.exchanges[seq]
        self.writer.write(record)

    def _start(self) -> None:
        now = Now.read()
        if len(self.exchanges) >= MAX_INFLIGHT:
            self.tracker.counts["skipped"] += 1
            return
        seq = self.tracker.started(now)
        self.exchanges[seq] = HttpExchange(self.target, self.request, now)

    def run(self, stop: proc.StopSignal) -> Dict[str, int]:
        """Send requests until the duration ends or ``stop`` fires; return the counts."""
        try:
            self._loop(stop)
        finally:
            for exchange in self.exchanges.values():
                exchange.close()
        return dict(self.tracker.counts)

    def _loop(self, stop: proc.StopSignal) -> None:
        start = time.monotonic()
        end = None if self.duration is None else start + self.duration
        next_send = start + self.offset
        while True:
            now = Now.read()
            if stop.stopped or (end is not None and now.mono >= end):
                break
            if now.mono - next_send > MAX_LAG:  # stalled: skip ahead instead of a burst
                next_send = now.mono
            while next_send <= now.mono:
                self._start()
                next_send += self.period
            now = Now.read()
            for seq in self.tracker.expired(now):
                exchange = self.exchanges[seq]
                exchange.fail("timeout")
            for seq, exchange in list(self.exchanges.items()):
                if exchange.result is not None:
                    self._finish(seq, exchange, now)
            wake = [next_send] + [self.tracker.deadline(seq) for seq in self.exchanges]
            if end is not None:
                wake.append(end)
            readers: List[Any] = [stop]
            writers: List[Any] = []
            owner: Dict[socket.socket, HttpExchange] = {}
            for exchange in self.exchanges.values():
                if exchange.sock is None:
                    continue
                owner[exchange.sock] = exchange
                (writers if exchange.wants_write() else readers).append(exchange.sock)
            wait = max(0.0, min(wake) - time.monotonic())
            readable, writable, _ = select.select(readers, writers, [], wait)
            if stop in readable:
                stop.drain()
            for sock in writable:
                owner[sock].on_writable()
            for sock in readable:
                if sock in owner:
                    owner[sock].on_readable()
            now = Now.read()
            for seq, exchange in list(self.exchanges.items()):
                if exchange.result is not None:
                    self._finish(seq, exchange, now)
        if stop.count >= 2:
            return  # a second signal: leave at once
        for record in self.tracker.abandon():
            self.writer.write(record)


# --------------------------------------------------------------------- analysis
def http_outcome(records: List[Record]) -> Any:
    """http-short's :class:`~testbed.analysis.model.TransportOutcome` (pure): each request a flow.

    ``survived``: answered; ``reset``, ``timed_out`` and ``failed`` (refused,
    unreachable, EOF, an error status) split the others, so they add up to
    ``flows``; ``lost`` counts them all (``requests``).  ``longest_gap_s``:
    the longest time between two answers.  A run of failed requests (in
    start order) is a break, ``recovered`` when an answer followed, after
    ``recover_s``: from the start of its first failed request to the end of
    the next answered one.
    """
    from testbed.analysis.model import TransportOutcome

    out = TransportOutcome(kind="http-short", lost_unit="requests")
    done = sorted(
        (r for r in records if r.get("event") in ("ok", "failed")),
        key=lambda r: (float(r["t"]), int(r.get("seq", 0))),
    )
    ends: Dict[str, int] = {}
    answers: List[float] = []
    broke: Optional[float] = None
    recover: List[float] = []
    for r in done:
        out.flows += 1
        t = float(r["t"])
        if r["event"] == "ok":
            finished = t + float(r.get("latency") or 0.0)
            answers.append(finished)
            if broke is not None:
                recover.append(round(finished - broke, 3))
                broke = None
            continue
        what = error_class(str(r.get("error")))
        ends[what] = ends.get(what, 0) + 1
        if broke is None:
            broke = t
    out.survived = out.flows - sum(ends.values())
    out.reset = ends.get("reset", 0)
    out.timed_out = ends.get("timeout", 0)
    out.failed = ends.get("failed", 0)
    out.lost = out.reset + out.timed_out + out.failed
    out.recovered = len(recover)
    out.recover_s = list(recover)
    answers.sort()
    gaps = [b - a for a, b in zip(answers, answers[1:], strict=False)]
    out.longest_gap_s = round(max(gaps), 3) if gaps else None
    out.ends = {"ok": out.survived, **ends}
    return out


# ------------------------------------------------------------------ kind, service
def nginx_missing() -> Optional[str]:
    """Why nginx cannot run here (None: it is installed)."""
    from testbed.services import http as http_service

    if http_service.installed():
        return None
    return f"nginx is not installed ({http_service.INSTALL})"


@register_service("http")
class HttpService(ServiceKind):
    """nginx (``python -m testbed.services.http`` execs it) on the service address and,
    where the site has one, its unicast address; port 80."""

    process = "nginx"

    def argv(self, topo: Any, host: Any, run: Path, params: Any) -> List[str]:
        """The nginx wrapper, with the server's own directory in the run folder."""
        unicast = getattr(host, "unicast", None)
        return [
            sys.executable, "-m", "testbed.services.http", "--site", host.site,
            "--server", host.name, "--dir", str(run / "services" / host.name / "nginx"),
            "--address", service_address(topo), "--port", str(defaults.HTTP_PORT),
            *(["--unicast", str(unicast)] if unicast else []),
        ]  # fmt: skip

    def problem(self, testbed: Any, host: Any, params: Any) -> Optional[str]:
        """nginx answers ``200`` naming its site (``X-Site``) on each address, or the problem."""
        from testbed.services.http import probe_command

        addresses = [service_address(testbed.topo)]
        if getattr(host, "unicast", None):
            addresses.append(str(host.unicast))
        for address in addresses:
            out = testbed.cmd(host.name, probe_command(address)).strip()
            if out != f"200 {host.site}":
                return f"{host.name}: nginx does not answer on {address} ({out or 'no answer'})"
        return None


@register("http-short")
class HttpShortKind(ProbeKind):
    """Short HTTP/1.1 requests on fresh connections to nginx at every site."""

    record_prefix = "http"
    services = ("http",)
    process = "http-probe"
    long_lived = False
    claim = "short connections: only the requests in flight when the route moves are lost"

    @classmethod
    def unavailable(cls, topo: Any) -> Optional[str]:
        """nginx must be installed."""
        return nginx_missing()

    def argv(self, ctx: ProbeContext) -> List[str]:
        """The HTTP probe's command line: the run's ``http_rate``."""
        p = ctx.params
        return [
            sys.executable, "-m", "testbed.probes.http", "--client", ctx.client,
            "--target", service_address(ctx.topo), "--port", str(defaults.HTTP_PORT),
            "--rate", f"{p.http_rate:g}",
            "--timeout", f"{getattr(p, 'http_timeout', defaults.HTTP_TIMEOUT):g}",
            "--seed", str(p.seed), "--out", ctx.out("http"),
        ]  # fmt: skip

    @classmethod
    def outcome(cls, records: List[Record]) -> Any:
        """Each request a flow (:func:`http_outcome`)."""
        return http_outcome(records)


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog="python -m testbed.probes.http",
        description="HTTP probe: short HTTP/1.1 requests on fresh connections, one record each.",
    )
    proc.add_client(p)
    proc.add_port(p, defaults.HTTP_PORT, "HTTP port")
    proc.add_rate(p, defaults.HTTP_RATE, MAX_RATE, "requests")
    p.add_argument(
        "--timeout",
        default=defaults.HTTP_TIMEOUT,
        type=proc.bounded(0, 120),
        help=f"seconds a request may take (default {defaults.HTTP_TIMEOUT:g})",
    )
    p.add_argument("--path", default="/", help="the path asked for (default /)")
    proc.add_run_options(p, seed="the first request's offset, with the client name")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.probes.http``."""
    parser = _parser()
    args = proc.arguments(parser, argv)
    if not args.path.startswith("/") or any(c in args.path for c in " \r\n"):
        parser.error(f"--path {args.path!r}: a path starts with '/' and has no spaces")
    with proc.recording(parser.prog, args.out) as (stop, writer):
        probe = HttpProbe(
            args.client, args.target, args.port, args.rate, args.timeout,
            args.duration, writer, args.seed, args.path,
        )  # fmt: skip
        counts = probe.run(stop)
    sys.stderr.write(
        f"http probe {args.client}: requests {counts['requests']}, ok {counts['ok']}, "
        f"failed {counts['failed']}, skipped {counts['skipped']}\n"
    )


if __name__ == "__main__":
    main()
