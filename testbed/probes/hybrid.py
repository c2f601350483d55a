"""Hybrid probe (``hybrid``): find a site over anycast, then stay on its unicast address.

Runs in a client's namespace, one process per client::

    python -m testbed.probes.hybrid --client paris --target 192.0.2.53 [--http-port 80] \\
        [--port 8053] [--connections 2] [--interval 0.2] [--timeout 3.0] \\
        [--resolve-timeout 2.0] [--connect-timeout 1.0] [--duration S] [--seed N] \\
        --out RUN/records/hybrid-paris.jsonl

What a hybrid anycast + unicast service does: each connection first asks
the anycast address (``GET /redirect`` to nginx at whichever site the
client's route reaches, :mod:`testbed.services.http`), which answers ``302``
to ``http://UNICAST/stream``, that site's own unicast address
(``sites[].unicast``, announced by that site alone).  The connection then
goes to the stream service bound to that address (the ``unicast-stream``
service: :mod:`testbed.services.stream` with ``--bind UNICAST``) and sends
``SEQ`` every interval, as ``tcp-stream`` does, reading ``SITE SEQ``.

A catchment change moves the anycast address, not the unicast one: the
connection stays where it is.  When its own site fails, the connection
breaks (a timeout: the unicast prefix is gone, or a reset), and the client
goes back through the anycast address for a new redirect, to a site that
still answers there.

Records (one per state change, ``kind: hybrid``, ``conn`` numbering the
connections from 0): ``resolved`` (site, unicast ``address``, ``took``,
``again`` for a re-resolution after a break), ``resolve_failed``,
``connected`` (the first answer on the unicast address: ``attempt``, ``gap``
from the break to this answer, ``since_answer`` from the last answer before
it, ``resolves`` it took), ``reset``, ``timeout``, ``eof``,
``connect_failed``, ``site_changed``, ``closed`` (the probe stopped a
connection that was up) and ``unrecovered`` (it stopped one that had broken
and not come back: ``since_answer``).  :class:`HybridTracker` is the pure
bookkeeping of one connection; :class:`HybridProbe` the ``select`` loop.
"""

from __future__ import annotations

import ipaddress
import random
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from testbed import proc
from testbed.probes import defaults
from testbed.probes.builtin import service_address
from testbed.probes.http import HttpExchange, Response, build_request, nginx_missing
from testbed.probes.kinds import (
    ProbeContext,
    ProbeKind,
    ServiceKind,
    register,
    register_service,
)
from testbed.probes.streamloop import Now, Phase, StreamLoop, TrackedStream
from testbed.records import RecordWriter

Record = Dict[str, Any]
#: The most connections per client.
MAX_CONNECTIONS = 64
#: Seconds between a broken connection (or a failed connect) and asking for a redirect again.
RECONNECT_DELAY = 0.1
#: Seconds between a failed redirect and the next try.
RETRY_DELAY = 0.2
#: The path that answers the redirect (:data:`testbed.services.http.REDIRECT_PATH`).
REDIRECT_PATH = "/redirect"


def parse_redirect(response: Response) -> Tuple[Optional[str], Optional[str], Optional[str]]:
    """(unicast address, site, problem) from the anycast site's answer to ``/redirect``.

    Returns:
        The address in the ``Location`` of a 3xx answer (an IPv4 address), the
        site in ``X-Site``, and None; or a problem (``HTTP 404``, ``no
        Location``, ``Location not an IPv4 address``) with what was found.
    """
    site = response.site
    if not 300 <= response.status < 400:
        return None, site, f"HTTP {response.status}"
    location = response.headers.get("location")
    if not location:
        return None, site, "no Location"
    host = urlsplit(location).hostname or ""
    try:
        return str(ipaddress.IPv4Address(host)), site, None
    except ValueError:
        return None, site, "Location not an IPv4 address"


class HybridTracker:
    """The life of one hybrid connection: redirects, connections, answers, breaks (no I/O).

    The probe tells it what happened and when (a :class:`~testbed.probes.tcp.Now`);
    it returns the records to write.  ``gap`` on ``connected`` is the time
    without service: from the break (``reset``, ``timeout``, ``eof``) of the
    last connection that answered to this connection's first answer, failed
    redirects and connects in between included.

    Args:
        client: the client's name.
        conn: the connection's number (from 0).
        timeout: seconds without an answer after which a connection is given up.
    """

    def __init__(self, client: str, conn: int, timeout: float):
        self.client = client
        self.conn = conn
        self.timeout = timeout
        self.phase = Phase.DOWN
        self.site: Optional[str] = None  # the site of the current redirect / connection
        self.address: Optional[str] = None  # its unicast address
        self.attempt = 0  # connections that answered
        self.seq = 0
        self.outstanding: Dict[int, float] = {}  # seq -> monotonic send time
        self.down_since: Optional[Now] = None  # the break of the last connection that answered
        self.last_answer: Optional[Now] = None
        self.resolves = 0  # redirects asked for since the last connection answered
        self.started: Optional[float] = None  # monotonic start of the redirect / connect
        self.counts: Dict[str, int] = {
            "resolved": 0,
            "re_resolved": 0,
            "resolve_failed": 0,
            "connected": 0,
            "reconnects": 0,
            "reset": 0,
            "timeout": 0,
            "eof": 0,
            "connect_failed": 0,
            "site_changed": 0,
            "answers": 0,
            "ignored": 0,
        }

    def _record(self, now: Now, event: str, **fields: Any) -> Record:
        if event in self.counts:
            self.counts[event] += 1
        return {"t": now.t, "kind": "hybrid", "client": self.client, "conn": self.conn,
                "event": event, "site": self.site, "address": self.address, **fields}  # fmt: skip

    # -- the redirect ------------------------------------------------------
    def resolving(self, now: Now) -> None:
        """The redirect request to the anycast address starts."""
        self.phase = Phase.RESOLVING
        self.site = self.address = None
        self.resolves += 1
        self.started = now.mono

    def resolved(self, site: Optional[str], address: str, now: Now) -> Record:
        """The anycast site sent its unicast address: ``resolved`` (``again`` after a break)."""
        self.site, self.address = site, address
        again = self.attempt > 0
        if again:
            self.counts["re_resolved"] += 1
        took = round(now.mono - self.started, 6) if self.started is not None else None
        self.phase = Phase.CONNECTING
        self.started = now.mono
        return self._record(now, "resolved", took=took, again=again)

    def resolve_failed(self, error: str, now: Now, site: Optional[str] = None) -> Record:
        """The redirect failed (``error``: an errno name, ``timeout``, ``HTTP 404``...)."""
        self.phase = Phase.DOWN
        self.site, self.address, self.started = site, None, None
        record = self._record(now, "resolve_failed", error=error)
        self.site = None
        return record

    # -- the connection ----------------------------------------------------
    def established(self, now: Now) -> None:
        """The TCP handshake to the unicast address completed."""
        self.phase = Phase.OPEN
        self.outstanding.clear()
        self.started = None

    def connect_failed(self, error: str, now: Now) -> Record:
        """The connection to the unicast address failed: ask for a redirect again."""
        record = self._record(now, "connect_failed", error=error)
        self.phase = Phase.DOWN
        self.site = self.address = self.started = None
        return record

    def sent(self, now: Now) -> int:
        """A message leaves on the connection; returns its sequence number."""
        seq = self.seq
        self.seq += 1
        self.outstanding[seq] = now.mono
        return seq

    def answered(self, site: str, seq: int, now: Now) -> List[Record]:
        """An answer ``SITE SEQ`` came: ``connected`` for the first on a connection,
        ``site_changed`` if another site answers than the redirect named."""
        if self.phase not in (Phase.OPEN, Phase.UP) or seq not in self.outstanding:
            self.counts["ignored"] += 1
            return []
        for old in [s for s in self.outstanding if s <= seq]:
            del self.outstanding[old]
        self.counts["answers"] += 1
        out: List[Record] = []
        if self.phase is Phase.OPEN:
            self.phase = Phase.UP
            if self.site is not None and site != self.site:
                previous, self.site = self.site, site
                out.append(self._record(now, "site_changed", previous=previous))
            self.site = site
            self.attempt += 1
            gap = since = None
            if self.down_since is not None:
                gap = round(now.mono - self.down_since.mono, 6)
                self.counts["reconnects"] += 1
            if self.last_answer is not None:
                since = round(now.mono - self.last_answer.mono, 6)
            out.append(
                self._record(
                    now,
                    "connected",
                    attempt=self.attempt,
                    gap=gap,
                    since_answer=since,
                    resolves=self.resolves,
                )
            )
            self.down_since = None
            self.resolves = 0
        elif site != self.site:
            was, self.site = self.site, site
            out.append(self._record(now, "site_changed", previous=was))
        self.last_answer = now
        return out

    def lost(self, event: str, error: str, now: Now) -> Record:
        """The connection broke: ``reset``, ``timeout`` or ``eof``; a redirect comes next."""
        record = self._record(now, event, error=error)
        if self.phase is Phase.UP:
            self.down_since = now
        self.phase = Phase.DOWN
        self.site = self.address = self.started = None
        self.outstanding.clear()
        return record

    def close(self, now: Now) -> List[Record]:
        """The probe stops: ``closed`` if the connection was up; ``unrecovered`` (with
        ``since_answer``) if it broke and no new one answered."""
        out = []
        if self.phase is Phase.UP:
            out.append(self._record(now, "closed"))
        elif self.down_since is not None and self.last_answer is not None:
            since = round(now.mono - self.last_answer.mono, 6)
            out.append(self._record(now, "unrecovered", since_answer=since))
        self.phase = Phase.DOWN
        self.outstanding.clear()
        return out

    def answer_deadline(self) -> Optional[float]:
        """Monotonic time at which the oldest unanswered message times out (None: none)."""
        if self.phase not in (Phase.OPEN, Phase.UP) or not self.outstanding:
            return None
        return next(iter(self.outstanding.values())) + self.timeout

    def expire(self, now: Now) -> List[Record]:
        """``timeout`` if a message has waited ``timeout`` seconds, else nothing."""
        deadline = self.answer_deadline()
        if deadline is None or now.mono < deadline:
            return []
        return [self.lost("timeout", f"no answer for {float(self.timeout)} s", now)]


class _Conn(TrackedStream):
    """A tracker and the I/O of its current redirect or connection."""

    tracker: HybridTracker

    def __init__(self, tracker: HybridTracker, interval: float):
        super().__init__(tracker, interval)
        self.exchange: Optional[HttpExchange] = None


class HybridProbe(StreamLoop[_Conn]):
    """The probe's loop: N hybrid connections, non-blocking sockets, one ``select``
    (:class:`~testbed.probes.streamloop.StreamLoop`): a connection starts with its
    redirect (:meth:`_resolve`)."""

    CONNECT_RETRY = RECONNECT_DELAY
    RECONNECT = RECONNECT_DELAY

    def __init__(
        self,
        client: str,
        target: str,
        http_port: int,
        port: int,
        connections: int,
        interval: float,
        timeout: float,
        resolve_timeout: float,
        connect_timeout: float,
        duration: Optional[float],
        writer: RecordWriter,
        seed: int = 0,
    ):
        self.target = (target, http_port)
        self.request = build_request(target, REDIRECT_PATH)
        self.port = port
        self.resolve_timeout = resolve_timeout
        self.connect_timeout = connect_timeout
        self.duration = duration
        self.writer = writer
        self.streams = [
            _Conn(HybridTracker(client, k, timeout), interval) for k in range(connections)
        ]
        rng = random.Random(f"hybrid:{seed}:{client}")
        self.offsets = [round(rng.uniform(0, interval), 6) for _ in range(connections)]

    def _drop(self, c: _Conn) -> None:
        if c.exchange is not None:
            c.exchange.close()
            c.exchange = None
        c.close()

    # -- the redirect --------------------------------------------------------
    def _start(self, c: _Conn) -> None:
        self._resolve(c)

    def _resolve(self, c: _Conn) -> None:
        now = Now.read()
        c.tracker.resolving(now)
        c.exchange = HttpExchange(self.target, self.request, now)
        self._resolve_done(c)

    def _resolve_timed_out(self, c: _Conn) -> None:
        if c.exchange is not None:
            c.exchange.fail("timeout")
            self._resolve_done(c)

    def _resolve_done(self, c: _Conn) -> None:
        """Act on the redirect's result, if it has one."""
        exchange = c.exchange
        if exchange is None or exchange.result is None:
            return
        c.exchange = None
        now = Now.read()
        outcome, value = exchange.result
        if outcome != "ok":
            self._write([c.tracker.resolve_failed(str(value), now)])
            c.retry_at = now.mono + RETRY_DELAY
            return
        address, site, problem = parse_redirect(value)
        if problem is not None or address is None:
            self._write([c.tracker.resolve_failed(problem or "no address", now, site)])
            c.retry_at = now.mono + RETRY_DELAY
            return
        self._write([c.tracker.resolved(site, address, now)])
        self._connect(c, (address, self.port))

    # -- select: the redirect's socket while it is under way -------------------
    def _wait_on(self, c: _Conn, readers: List[Any], writers: List[Any]) -> Any:
        if c.exchange is not None and c.exchange.sock is not None:
            (writers if c.exchange.wants_write() else readers).append(c.exchange.sock)
            return c.exchange.sock
        return super()._wait_on(c, readers, writers)

    def _ready(self, c: _Conn, sock: Any, write: bool) -> None:
        """One ready socket: the redirect's or the connection's (if still the current one)."""
        if c.exchange is not None and c.exchange.sock is sock:
            if write:
                c.exchange.on_writable()
            else:
                c.exchange.on_readable()
            self._resolve_done(c)
        else:
            super()._ready(c, sock, write)


# --------------------------------------------------------------------- analysis
def hybrid_outcome(records: List[Record]) -> Any:
    """hybrid's :class:`~testbed.analysis.model.TransportOutcome` (pure): each connection a flow.

    A flow is a connection that answered on a unicast address (``connected``);
    it ends by ``reset``, ``timeout`` or ``eof`` (a break: its own site went)
    or survives to the end (``closed``), catchment changes included.  A
    ``connected`` after a break is ``recovered``, after its ``since_answer``
    (the time without service: from the last answer before the break,
    through its detection, the new redirect and the new connection; ``gap``,
    from the detection, where that is missing).  ``longest_gap_s``: the longest
    time a connection went without an answer across a break (``since_answer``:
    the detection's timeout included), or until the end for one that never
    came back.  ``failed``: redirects and connections that never worked.
    ``ends`` also counts the re-resolutions (``re_resolved``).
    """
    from testbed.analysis.model import TransportOutcome

    out = TransportOutcome(kind="hybrid")
    up: Dict[Any, bool] = {}
    ends: Dict[str, int] = {}
    re_resolved = 0
    gaps: List[float] = []
    for r in records:
        event, conn = r.get("event"), r.get("conn")
        if event in ("connected", "unrecovered") and r.get("since_answer") is not None:
            gaps.append(float(r["since_answer"]))
        if event == "connected":
            out.flows += 1
            up[conn] = True
            without = r.get("since_answer", r.get("gap"))
            if r.get("gap") is not None and without is not None:
                out.recovered += 1
                out.recover_s = [*out.recover_s, round(float(without), 3)]
        elif event in ("reset", "timeout", "eof") and up.pop(conn, False):
            ends[event] = ends.get(event, 0) + 1
        elif event in ("connect_failed", "resolve_failed"):
            out.failed += 1
        elif event == "resolved" and r.get("again"):
            re_resolved += 1
    out.reset = ends.get("reset", 0)
    out.timed_out = ends.get("timeout", 0)
    out.survived = out.flows - sum(ends.values())
    out.longest_gap_s = round(max(gaps), 3) if gaps else None
    out.ends = {**ends, "survived": out.survived, "re_resolved": re_resolved}
    return out


# ------------------------------------------------------------------ kind, service
def no_unicast(topo: Any) -> Optional[str]:
    """Why hybrid clients cannot be redirected on ``topo`` (None: every site has a unicast one)."""
    from testbed.topology.unicast import site_unicast

    have = site_unicast(topo)
    missing = [s.name for s in topo.sites if s.name not in have]
    if not missing:
        return None
    which = (
        "no site has" if len(missing) == len(topo.sites) else f"site(s) {', '.join(missing)} have"
    )
    return (
        f"{which} a unicast prefix to redirect clients to: give the sites one "
        "(topology unicast: true, or sites[].unicast: auto; --set topology.unicast=true)"
    )


@register_service("unicast-stream")
class UnicastStreamService(ServiceKind):
    """The stream service on the site's unicast address (beside the anycast one)."""

    process = "unicast-stream"

    def argv(self, topo: Any, host: Any, run: Path, params: Any) -> List[str]:
        """The stream service bound to the server's unicast address, on the run's TCP port.

        Raises:
            ValueError: the server's site has no unicast address.
        """
        unicast = getattr(host, "unicast", None)
        if not unicast:
            raise ValueError(f"{host.name}: site {host.site} has no unicast address")
        return [
            sys.executable, "-m", "testbed.services.stream", "--site", host.site,
            "--bind", str(unicast), "--port", str(params.tcp_port),
        ]  # fmt: skip

    def problem(self, testbed: Any, host: Any, params: Any) -> Optional[str]:
        """Something listens on the unicast address's stream port, or the problem."""
        where = f"{host.unicast}:{params.tcp_port}"
        if not testbed.cmd(host.name, f"ss -Hltn 'src {where}'").strip():
            return f"{host.name}: stream service not listening on {where}"
        return None


@register("hybrid")
class HybridKind(ProbeKind):
    """An anycast redirect to the serving site's unicast address, then a long stream there."""

    record_prefix = "hybrid"
    services = ("http", "unicast-stream")
    process = "hybrid-probe"
    long_lived = True
    claim = (
        "established connections move to a unicast address: a catchment change leaves them "
        "alone; only a failure of their own site breaks them"
    )

    @classmethod
    def unavailable(cls, topo: Any) -> Optional[str]:
        """Every site needs a unicast prefix, and nginx must be installed."""
        return no_unicast(topo) or nginx_missing()

    def argv(self, ctx: ProbeContext) -> List[str]:
        """The hybrid probe's command line: the TCP stream's settings, ``tcp_streams``
        connections (at least one)."""
        p = ctx.params
        return [
            sys.executable, "-m", "testbed.probes.hybrid", "--client", ctx.client,
            "--target", service_address(ctx.topo), "--http-port", str(defaults.HTTP_PORT),
            "--port", str(p.tcp_port), "--connections", str(max(1, p.tcp_streams)),
            "--interval", str(p.tcp_interval), "--timeout", str(p.tcp_timeout),
            "--resolve-timeout", f"{getattr(p, 'http_timeout', defaults.HTTP_TIMEOUT):g}",
            "--seed", str(p.seed), "--out", ctx.out("hybrid"),
        ]  # fmt: skip

    @classmethod
    def outcome(cls, records: List[Record]) -> Any:
        """Each connection a flow (:func:`hybrid_outcome`)."""
        return hybrid_outcome(records)


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog="python -m testbed.probes.hybrid",
        description="Hybrid probe: a redirect over anycast, then long streams on the "
        "serving site's unicast address.",
    )
    proc.add_client(
        p, target_help=f"the anycast service address (default {defaults.SERVICE_ADDRESS})"
    )
    proc.add_port(p, defaults.HTTP_PORT, "its HTTP port", flag="--http-port")
    proc.add_port(p, defaults.STREAM_PORT, "the stream port on the unicast address")
    proc.add_stream_options(
        p,
        "--connections",
        MAX_CONNECTIONS,
        "connections",
        interval="seconds between messages",
        timeout="seconds without an answer before a connection is given up",
    )
    p.add_argument(
        "--resolve-timeout",
        default=defaults.HTTP_TIMEOUT,
        type=proc.bounded(0, 120),
        help=f"seconds the redirect may take (default {defaults.HTTP_TIMEOUT:g})",
    )
    proc.add_connect_timeout(p, "seconds allowed for the TCP handshake (default 1.0)")
    proc.add_run_options(p, seed="the connections' start offsets, with the client name")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.probes.hybrid``."""
    parser = _parser()
    args = proc.arguments(parser, argv)
    with proc.recording(parser.prog, args.out) as (stop, writer):
        probe = HybridProbe(
            args.client, args.target, args.http_port, args.port, args.connections,
            args.interval, args.timeout, args.resolve_timeout, args.connect_timeout,
            args.duration, writer, args.seed,
        )  # fmt: skip
        counts = probe.run(stop)
    sys.stderr.write(
        f"hybrid probe {args.client}: connections {args.connections}, "
        f"connected {counts['connected']}, resolved {counts['resolved']} "
        f"(again {counts['re_resolved']}), resets {counts['reset']}, "
        f"timeouts {counts['timeout']}, eofs {counts['eof']}, "
        f"connect failures {counts['connect_failed']}, "
        f"redirect failures {counts['resolve_failed']}\n"
    )


if __name__ == "__main__":
    main()
