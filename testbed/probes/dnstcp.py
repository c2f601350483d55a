"""DNS over TCP probe (``dns-tcp``): one fresh TCP connection per query, at a modest rate.

Runs in a client's namespace, one process per client::

    python -m testbed.probes.dnstcp --client paris --target 192.0.2.53 [--port 53] \\
        [--rate 5] [--timeout 1.0] [--duration S] [--seed N] \\
        --out RUN/records/dnstcp-paris.jsonl

Each query opens its own TCP connection to the service address, sends one
length-prefixed DNS query (``t<SEQ>.<CLIENT>.probe.anycast.test`` A, EDNS
NSID asked), reads the answer and closes: the short-connection case next to
DNS over UDP (:mod:`testbed.probes.dns`) and the long streams.  A
connection lives a few milliseconds, so only the queries in flight when the
route moves can be hit.  Queries leave on an absolute schedule (``start +
seq / rate``); ids and the first query's offset come from a generator seeded
with ``--seed`` and the client name.

Records (docs/records.md, ``kind`` ``dnstcp``), one per query, written when
it ends: ``answered`` (``site`` from the NSID, ``rtt`` from the SYN to the
answer, ``connect`` the handshake's share) or ``failed`` (``error``:
``ECONNRESET``, ``ECONNREFUSED``, ``EHOSTUNREACH``, ``timeout``...;
``stage``: ``connect`` before the handshake completed, else ``answer``).
``t`` is the send time.

The per-query bookkeeping is :class:`QueryBook` (pure); :class:`DnsTcpProbe`
is the socket loop.  :class:`DnsTcpKind` registers the kind;
:func:`outcome` turns a client's records into a
:class:`~testbed.analysis.model.TransportOutcome`.
"""

from __future__ import annotations

import errno
import math
import random
import select
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import dns.edns
import dns.message
import dns.rdatatype

from testbed import proc
from testbed.probes import defaults
from testbed.probes.builtin import service_address
from testbed.probes.dns import PROBE_DOMAIN, parse_answer
from testbed.probes.kinds import ProbeContext, ProbeKind, Record, register
from testbed.probes.linestream import errno_name
from testbed.records import RecordWriter

#: The record prefix and ``kind`` of every record: ``dnstcp-CLIENT.jsonl``.
PREFIX = "dnstcp"
#: Queries per second per client unless ``--rate`` (the run's ``dnstcp_rate``) says otherwise.
RATE = defaults.DNSTCP_RATE
MAX_RATE = defaults.MAX_DNSTCP_RATE
#: Seconds a query may take, handshake included.
TIMEOUT = 1.0
#: Errors that mean the connection was reset (by a kernel that knew no such connection).
RESETS = ("ECONNRESET", "EPIPE")
_NSID_REQUEST = dns.edns.GenericOption(dns.edns.OptionType.NSID, b"")


def qname(seq: int, client: str) -> str:
    """The name of query ``seq`` (``t`` for TCP, unlike the UDP probe's ``q``)."""
    return f"t{seq}.{client}.{PROBE_DOMAIN}."


def make_query(seq: int, client: str, qid: int) -> bytes:
    """Query ``seq`` as it goes on a TCP connection: two length bytes, then the message."""
    msg = dns.message.make_query(
        qname(seq, client), dns.rdatatype.A, use_edns=0, options=[_NSID_REQUEST]
    )
    msg.id = qid
    wire = msg.to_wire()
    return struct.pack("!H", len(wire)) + wire


def probe_rng(seed: int, client: str) -> random.Random:
    """The generator of one client's query ids and start offset (same seed: same)."""
    return random.Random(f"{PREFIX}:{seed}:{client}")


@dataclass
class Query:
    """One query in flight."""

    seq: int
    id: int
    t: float  # wall-clock send (SYN) time
    mono: float  # monotonic send time
    connected: Optional[float] = None  # monotonic end of the handshake


@dataclass
class QueryBook:
    """Queries in flight and how each ended (pure: times in, records out)."""

    client: str
    timeout: float
    pending: Dict[int, Query] = field(default_factory=dict)  # seq -> query, in send order
    counts: Dict[str, int] = field(
        default_factory=lambda: {"sent": 0, "answered": 0, "failed": 0, "timeout": 0}
    )

    def _record(self, q: Query, event: str, **fields: Any) -> Record:
        self.pending.pop(q.seq, None)
        self.counts[event] += 1
        return {
            "t": q.t,
            "kind": PREFIX,
            "client": self.client,
            "seq": q.seq,
            "id": q.id,
            "event": event,
            **fields,
        }

    def sent(self, seq: int, qid: int, t: float, mono: float) -> Query:
        """Query ``seq`` starts: its connection's SYN leaves."""
        q = Query(seq, qid, t, mono)
        self.pending[seq] = q
        self.counts["sent"] += 1
        return q

    def connected(self, seq: int, mono: float) -> None:
        """The query's handshake completed."""
        q = self.pending.get(seq)
        if q is not None:
            q.connected = mono

    def answered(
        self, seq: int, qid: int, rcode: str, site: Optional[str], mono: float
    ) -> Optional[Record]:
        """The answer to query ``seq`` arrived; None if it is not the query's (wrong id)."""
        q = self.pending.get(seq)
        if q is None or qid != q.id:
            return None
        return self._record(
            q,
            "answered",
            site=site,
            rcode=rcode,
            rtt=round(mono - q.mono, 6),
            connect=None if q.connected is None else round(q.connected - q.mono, 6),
        )

    def failed(self, seq: int, error: str, mono: float) -> Optional[Record]:
        """Query ``seq`` failed: reset, refused, unreachable, closed without an answer."""
        q = self.pending.get(seq)
        if q is None:
            return None
        stage = "connect" if q.connected is None else "answer"
        return self._record(q, "failed", error=error, stage=stage, after=round(mono - q.mono, 6))

    def expire(self, mono: float) -> List[Record]:
        """Fail the queries older than the timeout (``error`` ``timeout``)."""
        out = []
        for q in list(self.pending.values()):
            if mono - q.mono < self.timeout:
                break  # in send order, one timeout for all
            stage = "connect" if q.connected is None else "answer"
            self.counts["timeout"] += 1
            out.append(self._record(q, "failed", error="timeout", stage=stage, after=self.timeout))
        return out

    def next_expiry(self) -> Optional[float]:
        """Monotonic time of the next timeout (None: nothing in flight)."""
        if not self.pending:
            return None
        return next(iter(self.pending.values())).mono + self.timeout


# ------------------------------------------------------------------ outcome
def _end(error: str) -> str:
    """A failure's name in ``ends``: reset, refused, unreachable, timeout or the errno."""
    if error in RESETS:
        return "reset"
    if error == "ECONNREFUSED":
        return "refused"
    if error in ("EHOSTUNREACH", "ENETUNREACH"):
        return "unreachable"
    return error


def outcome(records: List[Record]) -> Any:
    """One client's :class:`~testbed.analysis.model.TransportOutcome` from its records (pure).

    A flow is a query (its own connection): ``survived`` answered, the rest
    ``failed`` (``reset`` and ``timed_out`` among them), lost in ``queries``.
    ``longest_gap_s`` is the longest time between two answers (answer
    times: ``t + rtt``); a run of failures followed by an answer is a break
    ``recovered``, with ``recover_s`` from the first failed query's send to
    that answer.
    """
    from testbed.analysis.model import TransportOutcome

    ended = ("answered", "failed")
    mine = sorted(
        (r for r in records if r.get("kind") == PREFIX and r.get("event") in ended),
        key=lambda r: (float(r["t"]), int(r.get("seq", 0))),
    )
    ends: Dict[str, int] = {}
    recover_s: List[float] = []
    answers: List[float] = []
    broken_at: Optional[float] = None
    for r in mine:
        if r["event"] == "answered":
            at = float(r["t"]) + float(r.get("rtt") or 0.0)
            answers.append(at)
            ends["answered"] = ends.get("answered", 0) + 1
            if broken_at is not None:
                recover_s.append(round(at - broken_at, 6))
                broken_at = None
        else:
            name = _end(str(r.get("error")))
            ends[name] = ends.get(name, 0) + 1
            if broken_at is None:
                broken_at = float(r["t"])
    answers.sort()
    gaps = [b - a for a, b in zip(answers, answers[1:], strict=False)]
    failed = len(mine) - ends.get("answered", 0)
    return TransportOutcome(
        kind="dns-tcp",
        flows=len(mine),
        survived=ends.get("answered", 0),
        reset=ends.get("reset", 0),
        timed_out=ends.get("timeout", 0),
        failed=failed,
        recovered=len(recover_s),
        recover_s=recover_s,
        longest_gap_s=round(max(gaps), 6) if gaps else None,
        lost=failed,
        lost_unit="queries",
        ends=dict(sorted(ends.items())),
    )


@register("dns-tcp")
class DnsTcpKind(ProbeKind):
    """DNS over TCP, a fresh connection per query (``testbed.probes.dnstcp``), to NSD."""

    record_prefix = PREFIX
    services = ("dns",)
    process = "dnstcp-probe"
    claim = "short connections: only the queries in flight during the outage are lost"

    def argv(self, ctx: ProbeContext) -> List[str]:
        """The DNS-over-TCP probe's command line (the run's ``dnstcp_rate``, DNS timeout, seed)."""
        p = ctx.params
        return [
            sys.executable, "-m", "testbed.probes.dnstcp", "--client", ctx.client,
            "--target", service_address(ctx.topo), "--rate", f"{p.dnstcp_rate:g}",
            "--timeout", str(p.dns_timeout), "--seed", str(p.seed), "--out", ctx.out(PREFIX),
        ]  # fmt: skip

    @classmethod
    def outcome(cls, records: List[Record]) -> Any:
        """The client's outcome (:func:`outcome`)."""
        return outcome(records)


# ------------------------------------------------------------------ the loop
@dataclass
class _Conn:
    """The socket of one query and its buffers."""

    seq: int
    sock: socket.socket
    out: bytes
    inbuf: bytes = b""
    connecting: bool = True


class DnsTcpProbe:
    """The probe's loop: a connection per query, non-blocking, one ``select``."""

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
    ):
        """Prepare the probe.

        Args:
            client: client name.
            target: the service address.
            port: the DNS port.
            rate: queries per second.
            timeout: seconds a query may take, handshake included.
            duration: stop sending after this many seconds (None: until a signal).
            writer: where the records go.
            seed: seeds the ids and the first query's offset (with the client name).
        """
        self.client = client
        self.target = (target, port)
        self.period = 1.0 / rate
        self.limit = math.ceil(duration * rate - 1e-9) if duration is not None else None
        self.writer = writer
        self.book = QueryBook(client, timeout)
        self.rng = probe_rng(seed, client)
        self.offset = self.rng.uniform(0, self.period)
        self.conns: Dict[int, _Conn] = {}

    def _write(self, record: Optional[Record]) -> None:
        if record is not None:
            self.writer.write(record)

    def _close(self, seq: int) -> None:
        conn = self.conns.pop(seq, None)
        if conn is not None:
            conn.sock.close()

    def _fail(self, seq: int, error: str) -> None:
        self._close(seq)
        self._write(self.book.failed(seq, error, time.monotonic()))

    def _start(self, seq: int) -> None:
        qid = self.rng.randrange(65536)
        self.book.sent(seq, qid, time.time(), time.monotonic())
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conns[seq] = _Conn(seq, sock, make_query(seq, self.client, qid))
        code = sock.connect_ex(self.target)
        if code == 0:
            self._connected(self.conns[seq])
        elif code not in (errno.EINPROGRESS, errno.EAGAIN):
            self._fail(seq, errno_name(code))

    def _connected(self, conn: _Conn) -> None:
        conn.connecting = False
        self.book.connected(conn.seq, time.monotonic())
        self._flush(conn)

    def _flush(self, conn: _Conn) -> None:
        try:
            sent = conn.sock.send(conn.out, socket.MSG_NOSIGNAL)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._fail(conn.seq, errno_name(exc.errno))
            return
        conn.out = conn.out[sent:]

    def _writable(self, conn: _Conn) -> None:
        if conn.connecting:
            code = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                self._fail(conn.seq, errno_name(code))
            else:
                self._connected(conn)
        elif conn.out:
            self._flush(conn)

    def _readable(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._fail(conn.seq, errno_name(exc.errno))
            return
        if not data:
            self._fail(conn.seq, "EOF")
            return
        conn.inbuf += data
        if len(conn.inbuf) < 2:
            return
        (size,) = struct.unpack("!H", conn.inbuf[:2])
        if len(conn.inbuf) < 2 + size:
            return
        mono = time.monotonic()
        answer = parse_answer(conn.inbuf[2 : 2 + size])
        self._close(conn.seq)
        if answer is None or answer.qname != qname(conn.seq, self.client).lower():
            self._write(self.book.failed(conn.seq, "bad answer", mono))
            return
        record = self.book.answered(conn.seq, answer.id, answer.rcode, answer.site, mono)
        self._write(record if record is not None else self.book.failed(conn.seq, "bad id", mono))

    def run(self, stop: proc.StopSignal) -> Dict[str, int]:
        """Query until the duration ends or ``stop`` fires, then let the last ones end."""
        try:
            self._loop(stop)
        finally:
            for seq in list(self.conns):
                self._close(seq)
        return self.book.counts

    def _loop(self, stop: proc.StopSignal) -> None:
        seq = 0
        start = time.monotonic() + self.offset
        sending = True
        while True:
            now = time.monotonic()
            if sending and (stop.stopped or (self.limit is not None and seq >= self.limit)):
                sending = False
            elif not sending and stop.count >= 2:
                return  # a second signal while draining: leave now
            if sending:
                if now - (start + seq * self.period) > 1.0:  # stalled: skip ahead
                    start = now - seq * self.period
                while start + seq * self.period <= now and (self.limit is None or seq < self.limit):
                    self._start(seq)
                    seq += 1
            for record in self.book.expire(time.monotonic()):
                self._close(int(record["seq"]))
                self._write(record)
            if not sending and not self.book.pending:
                return
            wake = [t for t in (self.book.next_expiry(),) if t is not None]
            if sending and (self.limit is None or seq < self.limit):
                wake.append(start + seq * self.period)
            wait = max(0.0, min(wake) - time.monotonic()) if wake else None
            writers = [c.sock for c in self.conns.values() if c.connecting or c.out]
            readers: List[Any] = [stop] + [c.sock for c in self.conns.values() if not c.connecting]
            by_sock = {c.sock: c for c in self.conns.values()}
            readable, writable, _ = select.select(readers, writers, [], wait)
            if stop in readable:
                stop.drain()
            for sock in writable:
                conn = by_sock[sock]
                if self.conns.get(conn.seq) is conn:
                    self._writable(conn)
            for sock in readable:
                found = by_sock.get(sock)
                if found is not None and self.conns.get(found.seq) is found:
                    self._readable(found)


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog="python -m testbed.probes.dnstcp",
        description="DNS over TCP probe: a fresh connection per query, one record each.",
    )
    proc.add_client(p, target_help="service address")
    proc.add_port(p, 53, "DNS port")
    proc.add_rate(p, RATE, MAX_RATE, "queries")
    p.add_argument(
        "--timeout",
        default=TIMEOUT,
        type=proc.bounded(0, 60),
        help=f"seconds a query may take, handshake included (default {TIMEOUT:g})",
    )
    proc.add_run_options(
        p,
        seed="the query ids and start offset, with the client",
        duration="stop sending after this many seconds (default: until SIGTERM/SIGINT)",
    )
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.probes.dnstcp``."""
    parser = _parser()
    args = proc.arguments(parser, argv)
    with proc.recording(parser.prog, args.out) as (stop, writer):
        probe = DnsTcpProbe(
            args.client,
            args.target,
            args.port,
            args.rate,
            args.timeout,
            args.duration,
            writer,
            int(args.seed),
        )
        counts = probe.run(stop)
    sys.stderr.write(
        f"dns-tcp probe {args.client}: sent {counts['sent']}, answered {counts['answered']}, "
        f"failed {counts['failed']} (timeouts {counts['timeout']})\n"
    )


if __name__ == "__main__":
    main()
