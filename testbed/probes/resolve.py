"""Resolve-then-query probe (``resolve``): the name through the resolver, then the site.

Runs in a client's namespace, one process per client::

    python -m testbed.probes.resolve --client paris --resolver 10.1.0.6 \\
        [--resolver-name res1] --name anycast=svc.anycast.test \\
        [--name gslb=svc.gslb.test] [--rate 5] [--timeout 1.0] [--streams 1] \\
        [--stream-port 8053] [--interval 0.2] [--stream-timeout 3.0] \\
        [--connect-timeout 1.0] [--duration S] [--seed N] \\
        --out RUN/records/resolve-paris.jsonl

What a client application does before each new connection, on the real
path: at every tick, for every publishing method (``--name METHOD=NAME``),
ask the recursive resolver for the name's A record, as a stub resolver
does (RD set, no cache of its own: caching is the resolver's), then send
one DNS query with NSID (``r<SEQ>.<CLIENT>.probe.anycast.test``) to the
address it answered, which says which site is behind it.  ``anycast``'s
name answers the anycast address, ``gslb``'s one site's unicast address,
chosen by PowerDNS by the resolver's location and health checks.  Ticks
leave on an absolute schedule (``start + seq / rate``), ids and the first
tick's offset come from a generator seeded with ``--seed`` and the client.

Beside the ticks, ``--streams N`` long TCP streams per method do what an
application does before each new connection: resolve the name through the
same resolver (the same stub lookup), connect to the address it gave on the
stream port (the ``tcp`` stream service on the anycast address, the
``unicast-stream`` service on a site's own address) and keep a line stream
there (``SEQ`` every ``--interval``, ``SITE SEQ`` back:
:mod:`testbed.probes.linestream`).  When the connection breaks (a reset,
no answer for ``--stream-timeout``, the server's FIN) the stream resolves
again and reconnects after :data:`RECONNECT_DELAY`: a GSLB client whose
resolver still holds the dead site's address reconnects to the dead site
until the cached answer expires.

Records (docs/records.md, ``kind`` ``resolve``): a ``start`` record
(``type: start``: the resolver, the methods and names, the interval, the
streams), then one per tick and method, written when it ends, ``t`` its
start: ``ok`` (``addr`` and ``ttl`` from the resolver, ``site`` from the
NSID, ``resolve_rtt`` and ``rtt``), ``timeout`` (resolved, the site did not
answer) or ``resolve_failed`` (``error``: ``timeout`` or the rcode, or
``no address``).  The streams' records have ``stream`` and ``event``
instead of ``seq`` and ``status``: ``connected`` (the first answer on a
connection), ``broken`` (``reason``: ``reset``, ``timeout`` or ``eof``),
``connect_failed``, ``resolve_failed``, and at the end ``closed`` or
``unrecovered``.

:class:`ResolveBook` is the ticks' bookkeeping and :class:`StreamTracker`
one stream's (pure: times in, records out); :class:`ResolveProbe` the socket
loop; :class:`ResolveKind` registers the kind.
"""

from __future__ import annotations

import math
import random
import select
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from testbed import proc
from testbed.probes import defaults, naming  # noqa: F401 - registers the naming services
from testbed.probes.dns import PROBE_DOMAIN, parse_answer
from testbed.probes.kinds import ProbeContext, ProbeKind, Record, register
from testbed.probes.streamloop import Now, Phase, StreamLoop, TrackedStream
from testbed.records import RecordWriter

#: The record prefix and ``kind`` of every record: ``resolve-CLIENT.jsonl``.
PREFIX = "resolve"
#: The service names each method publishes (the zones NSD and PowerDNS serve).
NAMES = {"anycast": "svc.anycast.test", "gslb": "svc.gslb.test"}
RATE = defaults.RESOLVE_RATE
MAX_RATE = defaults.MAX_RESOLVE_RATE
#: Behind schedule by more than this (e.g. the process was stopped): skip ahead.
MAX_LAG = 1.0
#: Long streams per client and method unless told otherwise, and the most.
STREAMS = defaults.RESOLVE_STREAMS
MAX_STREAMS = defaults.MAX_RESOLVE_STREAMS
#: Seconds from a broken connection (or a failed connect) to the stream's next lookup.
RECONNECT_DELAY = 0.1
#: Seconds from a failed lookup to the next one.
RETRY_DELAY = 0.2
#: Seconds a stream's TCP handshake may take.
CONNECT_TIMEOUT = 1.0
_NSID_REQUEST = dns.edns.GenericOption(dns.edns.OptionType.NSID, b"")


def qname(seq: int, client: str, method: str) -> str:
    """The name of tick ``seq``'s query to the site (``r`` for resolved, the method's letter)."""
    return f"r{method[0]}{seq}.{client}.{PROBE_DOMAIN}."


def probe_rng(seed: int, client: str) -> random.Random:
    """The generator of one client's DNS ids and first offset (same seed: same)."""
    return random.Random(f"{PREFIX}:{seed}:{client}")


def make_site_query(seq: int, client: str, method: str, qid: int) -> bytes:
    """Tick ``seq``'s query to the site: A of :func:`qname`, EDNS with an empty NSID option."""
    msg = dns.message.make_query(
        qname(seq, client, method), dns.rdatatype.A, use_edns=0, options=[_NSID_REQUEST]
    )
    msg.id = qid
    return msg.to_wire()


def make_lookup(name: str, qid: int) -> bytes:
    """A stub resolver's A query for ``name`` (recursion desired, no EDNS)."""
    msg = dns.message.make_query(name, dns.rdatatype.A)
    msg.flags |= dns.flags.RD
    msg.id = qid
    return msg.to_wire()


@dataclass(frozen=True)
class Lookup:
    """What the probe needs from a resolver's answer."""

    id: int
    rcode: str
    addr: Optional[str]
    ttl: Optional[int]


def parse_lookup(wire: bytes) -> Optional[Lookup]:
    """A resolver's answer: its id, rcode, first A address and that record's TTL (None: not DNS)."""
    try:
        msg = dns.message.from_wire(wire)
    except (dns.exception.DNSException, ValueError):
        return None
    if not msg.flags & dns.flags.QR:
        return None
    for rrset in msg.answer:
        if rrset.rdtype == dns.rdatatype.A and len(rrset):
            return Lookup(msg.id, dns.rcode.to_text(msg.rcode()), rrset[0].address, rrset.ttl)
    return Lookup(msg.id, dns.rcode.to_text(msg.rcode()), None, None)


@dataclass
class Tick:
    """One tick of one method, in flight."""

    method: str
    seq: int
    t: float  # wall-clock start
    mono: float  # monotonic start
    rid: int  # the lookup's DNS id
    qid: Optional[int] = None  # the site query's DNS id, once resolved
    sent: Optional[float] = None  # monotonic send of the site query
    addr: Optional[str] = None
    ttl: Optional[int] = None
    resolve_rtt: Optional[float] = None


@dataclass
class ResolveBook:
    """Ticks in flight and how each ended (pure: times in, records out).

    A tick waits ``timeout`` for the resolver, then ``timeout`` for the site.
    """

    client: str
    timeout: float
    lookups: Dict[int, Tick] = field(default_factory=dict)  # rid -> tick
    queries: Dict[int, Tick] = field(default_factory=dict)  # qid -> tick
    counts: Dict[str, int] = field(
        default_factory=lambda: {"ticks": 0, "ok": 0, "timeout": 0, "resolve_failed": 0}
    )

    def busy(self, qid: int) -> bool:
        """Whether a DNS id is in use by a tick in flight."""
        return qid in self.lookups or qid in self.queries

    def started(self, method: str, seq: int, t: float, mono: float, rid: int) -> Tick:
        """A tick starts: its lookup leaves for the resolver."""
        tick = Tick(method, seq, t, mono, rid)
        self.lookups[rid] = tick
        self.counts["ticks"] += 1
        return tick

    def _end(self, tick: Tick, status: str, **fields: Any) -> Record:
        self.counts[status] += 1
        record: Record = {
            "t": tick.t,
            "kind": PREFIX,
            "client": self.client,
            "method": tick.method,
            "seq": tick.seq,
            "status": status,
        }
        if tick.addr is not None:
            record.update(addr=tick.addr, ttl=tick.ttl, resolve_rtt=tick.resolve_rtt)
        record.update(fields)
        return record

    def resolved(
        self, answer: Lookup, mono: float, qid: int
    ) -> Tuple[Optional[Tick], Optional[Record]]:
        """The resolver answered: (the tick whose site query is to leave now with ``qid``, None)
        or (None, the tick's ``resolve_failed`` record); (None, None) for an unknown id."""
        tick = self.lookups.pop(answer.id, None)
        if tick is None:
            return None, None
        if answer.addr is None:
            error = answer.rcode if answer.rcode != "NOERROR" else "no address"
            return None, self._end(tick, "resolve_failed", error=error)
        tick.addr, tick.ttl = answer.addr, answer.ttl
        tick.resolve_rtt = round(mono - tick.mono, 6)
        tick.qid, tick.sent = qid, mono
        self.queries[qid] = tick
        return tick, None

    def answered(self, qid: int, name: str, site: Optional[str], mono: float) -> Optional[Record]:
        """The site answered tick's query ``qid`` (None: not a query in flight, or another name)."""
        tick = self.queries.get(qid)
        if tick is None or name != qname(tick.seq, self.client, tick.method).lower():
            return None
        del self.queries[qid]
        assert tick.sent is not None
        return self._end(tick, "ok", site=site, rtt=round(mono - tick.sent, 6))

    def expire(self, mono: float) -> List[Record]:
        """End the ticks whose lookup or site query waited ``timeout``."""
        out: List[Record] = []
        for rid, tick in list(self.lookups.items()):
            if mono - tick.mono >= self.timeout:
                del self.lookups[rid]
                out.append(self._end(tick, "resolve_failed", error="timeout"))
        for qid, tick in list(self.queries.items()):
            assert tick.sent is not None
            if mono - tick.sent >= self.timeout:
                del self.queries[qid]
                out.append(self._end(tick, "timeout"))
        return sorted(out, key=lambda r: (r["t"], r["method"]))

    def next_expiry(self) -> Optional[float]:
        """Monotonic time of the next timeout (None: nothing in flight)."""
        times = [t.mono + self.timeout for t in self.lookups.values()]
        times += [t.sent + self.timeout for t in self.queries.values() if t.sent is not None]
        return min(times) if times else None

    def idle(self) -> bool:
        """Nothing in flight."""
        return not self.lookups and not self.queries


def stream_rng(seed: int, client: str, method: str, stream: int) -> random.Random:
    """The generator of one stream's start offset (same seed: same)."""
    return random.Random(f"{PREFIX}:{seed}:{client}:{method}:{stream}")


class StreamTracker:
    """The life of one stream of one method: lookups, connections, answers, breaks (no I/O).

    The probe tells it what happened and when (a :class:`~testbed.probes.tcp.Now`);
    it returns the records to write.  Every record carries the stream's
    current ``addr`` (what the resolver gave) and ``site`` (what answered),
    null where there is none.  A connection counts as *up* from its first
    answer (``connected``); ``broken`` ends one that was up, and a
    connection that breaks before its first answer is a ``connect_failed``.
    ``connected`` after a break says how long the stream was without
    service: ``gap`` from the break (its detection), ``since_answer`` from
    the last answer before it; ``attempts`` and ``resolves`` count the
    connections and lookups it took.

    Args:
        client: the client's name.
        method: the publishing method (``anycast``, ``gslb``).
        stream: the stream's number within the method (from 0).
        timeout: seconds without an answer after which a connection is given up.
    """

    def __init__(self, client: str, method: str, stream: int, timeout: float):
        self.client = client
        self.method = method
        self.stream = stream
        self.timeout = timeout
        self.phase = Phase.DOWN
        self.addr: Optional[str] = None  # what the last lookup gave
        self.ttl: Optional[int] = None  # its TTL, as the resolver gave it
        self.site: Optional[str] = None  # the site that answers the connection
        self.resolve_rtt: Optional[float] = None
        self.seq = 0
        self.outstanding: Dict[int, float] = {}  # seq -> monotonic send time, in order
        self.broke: Optional[Now] = None  # the break not recovered from yet
        self.last_answer: Optional[Now] = None
        self.attempts = 0  # connections tried since the last one that answered
        self.resolves = 0  # lookups since the last connection that answered
        self.started: Optional[float] = None  # monotonic start of the lookup / handshake
        self.counts: Dict[str, int] = {
            "lookups": 0,
            "resolve_failed": 0,
            "connect_failed": 0,
            "connected": 0,
            "broken": 0,
            "answers": 0,
            "ignored": 0,
        }

    def _record(self, now: Now, event: str, **fields: Any) -> Record:
        if event in self.counts:
            self.counts[event] += 1
        return {"t": now.t, "kind": PREFIX, "client": self.client, "method": self.method,
                "stream": self.stream, "event": event, "addr": self.addr, "site": self.site,
                **fields}  # fmt: skip

    def _idle(self) -> None:
        self.phase = Phase.DOWN
        self.addr = self.ttl = self.site = self.started = None
        self.outstanding.clear()

    # -- the lookup --------------------------------------------------------
    def resolving(self, now: Now) -> None:
        """The stub lookup of the name leaves for the resolver."""
        self._idle()
        self.phase = Phase.RESOLVING
        self.resolves += 1
        self.counts["lookups"] += 1
        self.started = now.mono

    def resolved(self, addr: str, ttl: Optional[int], now: Now) -> None:
        """The resolver gave ``addr``: the handshake to it starts."""
        self.addr, self.ttl = addr, ttl
        if self.started is not None:
            self.resolve_rtt = round(now.mono - self.started, 6)
        self.phase = Phase.CONNECTING
        self.attempts += 1
        self.started = now.mono

    def resolve_failed(self, error: str, now: Now) -> Record:
        """The lookup failed (``error``: ``timeout``, the rcode, ``no address``)."""
        record = self._record(now, "resolve_failed", error=error)
        self._idle()
        return record

    # -- the connection ----------------------------------------------------
    def established(self, now: Now) -> None:
        """The TCP handshake to the address completed."""
        self.phase = Phase.OPEN
        self.outstanding.clear()
        self.started = None

    def connect_failed(self, error: str, now: Now) -> Record:
        """The connection failed before its first answer (refused, unreachable, no
        handshake in time, broken while open): a new lookup comes next."""
        record = self._record(now, "connect_failed", ttl=self.ttl, error=error)
        self._idle()
        return record

    def sent(self, now: Now) -> int:
        """A message leaves on the connection; returns its sequence number."""
        seq = self.seq
        self.seq += 1
        self.outstanding[seq] = now.mono
        return seq

    def answered(self, site: str, seq: int, now: Now) -> List[Record]:
        """An answer ``SITE SEQ`` came: ``connected`` for a connection's first."""
        if self.phase not in (Phase.OPEN, Phase.UP) or seq not in self.outstanding:
            self.counts["ignored"] += 1
            return []
        for old in [s for s in self.outstanding if s <= seq]:
            del self.outstanding[old]
        self.counts["answers"] += 1
        out: List[Record] = []
        if self.phase is Phase.OPEN:
            self.phase = Phase.UP
            self.site = site
            again = self.broke is not None
            gap = round(now.mono - self.broke.mono, 6) if self.broke is not None else None
            since = None
            if again and self.last_answer is not None:
                since = round(now.mono - self.last_answer.mono, 6)
            out.append(
                self._record(
                    now,
                    "connected",
                    ttl=self.ttl,
                    resolve_rtt=self.resolve_rtt,
                    again=again,
                    gap=gap,
                    since_answer=since,
                    attempts=self.attempts,
                    resolves=self.resolves,
                )
            )
            self.broke = None
            self.attempts = self.resolves = 0
        self.last_answer = now
        return out

    def lost(self, reason: str, error: str, now: Now) -> Record:
        """The connection broke (``reason``: ``reset``, ``timeout`` or ``eof``): ``broken``
        if it was up, else ``connect_failed``; a new lookup comes next."""
        if self.phase is not Phase.UP:
            return self.connect_failed(f"{reason}: {error}", now)
        since = round(now.mono - self.last_answer.mono, 6) if self.last_answer else None
        record = self._record(now, "broken", reason=reason, error=error, since_answer=since)
        self.broke = now
        self._idle()
        return record

    def close(self, now: Now) -> List[Record]:
        """The probe stops: ``closed`` if the connection was up; ``unrecovered`` (with
        ``since_break`` and ``since_answer``) if it broke and no new one answered."""
        out: List[Record] = []
        if self.phase is Phase.UP:
            out.append(self._record(now, "closed"))
        elif self.broke is not None:
            since = round(now.mono - self.last_answer.mono, 6) if self.last_answer else None
            out.append(
                self._record(
                    now,
                    "unrecovered",
                    since_break=round(now.mono - self.broke.mono, 6),
                    since_answer=since,
                )
            )
        self._idle()
        return out

    def answer_deadline(self) -> Optional[float]:
        """Monotonic time at which the oldest unanswered message times out (None: none)."""
        if self.phase not in (Phase.OPEN, Phase.UP) or not self.outstanding:
            return None
        return next(iter(self.outstanding.values())) + self.timeout

    def expire(self, now: Now) -> List[Record]:
        """The break (or failed connection) if a message waited ``timeout`` seconds."""
        deadline = self.answer_deadline()
        if deadline is None or now.mono < deadline:
            return []
        return [self.lost("timeout", f"no answer for {float(self.timeout):g} s", now)]


def parse_names(values: List[str]) -> Dict[str, str]:
    """``METHOD=NAME`` options as {method: absolute name}, in the order given.

    Raises:
        ValueError: not ``METHOD=NAME``, an unknown method, or a method twice.
    """
    out: Dict[str, str] = {}
    for value in values:
        method, sep, name = value.partition("=")
        if not sep or not name or method not in NAMES:
            raise ValueError(f"--name {value!r}: METHOD=NAME with METHOD one of {', '.join(NAMES)}")
        if method in out:
            raise ValueError(f"--name {value!r}: {method} given twice")
        out[method] = name.rstrip(".") + "."
    return out


class _Stream(TrackedStream):
    """A tracker and the I/O of its current lookup or connection."""

    tracker: StreamTracker

    def __init__(self, tracker: StreamTracker, name: str, interval: float):
        super().__init__(tracker, interval)
        self.name = name  # the absolute name it resolves
        self.rid: Optional[int] = None  # the lookup's DNS id while it is under way


class ResolveProbe(StreamLoop[_Stream]):
    """The probe's loop: two UDP sockets (resolver, sites), the streams' TCP sockets
    (:class:`~testbed.probes.streamloop.StreamLoop`: a stream starts with its lookup),
    one ``select``."""

    CONNECT_RETRY = RECONNECT_DELAY
    RECONNECT = RECONNECT_DELAY

    def __init__(
        self,
        client: str,
        resolver: Tuple[str, int],
        names: Dict[str, str],
        rate: float,
        timeout: float,
        duration: Optional[float],
        writer: RecordWriter,
        seed: int = 0,
        resolver_name: str = "",
        site_port: int = 53,
        streams: int = 0,
        stream_port: int = defaults.STREAM_PORT,
        interval: float = defaults.TCP_INTERVAL,
        stream_timeout: float = defaults.TCP_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
    ):
        """Prepare the probe.

        Args:
            client: client name.
            resolver: the resolver's address and port.
            names: method -> the name it publishes.
            rate: ticks per second (each asks every method).
            timeout: seconds the resolver, then the site, may take (a stream's lookup too).
            duration: stop after this many seconds (None: until a signal).
            writer: where the records go.
            seed: seeds the DNS ids and the first tick's offset (with the client name),
                and each stream's start offset.
            resolver_name: the resolver's node name (for the start record).
            site_port: the DNS port of the addresses the names resolve to.
            streams: long streams per method (0: none).
            stream_port: the stream service's TCP port at the addresses the names resolve to.
            interval: seconds between two messages on a stream.
            stream_timeout: seconds without an answer before a stream's connection is given up.
            connect_timeout: seconds a stream's TCP handshake may take.
        """
        self.client = client
        self.resolver = resolver
        self.resolver_name = resolver_name
        self.site_port = site_port
        self.names = names
        self.period = 1.0 / rate
        self.limit = math.ceil(duration * rate - 1e-9) if duration is not None else None
        self.writer = writer
        self.book = ResolveBook(client, timeout)
        self.rng = probe_rng(seed, client)
        self.offset = self.rng.uniform(0, self.period)
        self.rsock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.qsock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for sock in (self.rsock, self.qsock):
            sock.setblocking(False)
        self.stream_port = stream_port
        self.stream_timeout = stream_timeout
        self.resolve_timeout = timeout
        self.connect_timeout = connect_timeout
        self.streams = [
            _Stream(StreamTracker(client, method, k, stream_timeout), name, interval)
            for method, name in names.items()
            for k in range(streams)
        ]
        self.stream_offsets = [
            stream_rng(seed, client, s.tracker.method, s.tracker.stream).uniform(0, interval)
            for s in self.streams
        ]
        self.lookups: Dict[int, _Stream] = {}  # a stream's lookup in flight: rid -> stream

    def _id(self) -> int:
        while True:
            qid = self.rng.randrange(65536)
            if not self.book.busy(qid) and qid not in self.lookups:
                return qid

    def _send(self, sock: socket.socket, wire: bytes, to: Tuple[str, int]) -> Optional[str]:
        try:
            sock.sendto(wire, to)
        except OSError as exc:  # unreachable, no route: the tick times out
            return exc.strerror
        return None

    def _tick(self, seq: int) -> None:
        for method, name in self.names.items():
            rid = self._id()
            self.book.started(method, seq, time.time(), time.monotonic(), rid)
            self._send(self.rsock, make_lookup(name, rid), self.resolver)

    def _from_resolver(self) -> None:
        try:
            wire = self.rsock.recv(4096)
        except (BlockingIOError, InterruptedError, ConnectionRefusedError):
            return
        answer = parse_lookup(wire)
        if answer is None:
            return
        if answer.id in self.lookups:
            self._stream_resolved(self.lookups.pop(answer.id), answer)
            return
        tick, record = self.book.resolved(answer, time.monotonic(), self._id())
        if record is not None:
            self.writer.write(record)
        if tick is not None and tick.addr is not None and tick.qid is not None:
            wire = make_site_query(tick.seq, self.client, tick.method, tick.qid)
            self._send(self.qsock, wire, (tick.addr, self.site_port))

    def _from_site(self) -> None:
        try:
            wire = self.qsock.recv(4096)
        except (BlockingIOError, InterruptedError, ConnectionRefusedError):
            return
        answer = parse_answer(wire)
        if answer is None:
            return
        record = self.book.answered(answer.id, answer.qname, answer.site, time.monotonic())
        if record is not None:
            self.writer.write(record)

    # -- the streams ---------------------------------------------------------
    def _start(self, s: _Stream) -> None:
        self._resolve(s)

    def _resolve(self, s: _Stream) -> None:
        """The stream's stub lookup leaves for the resolver."""
        now = Now.read()
        s.tracker.resolving(now)
        s.rid = self._id()
        self.lookups[s.rid] = s
        error = self._send(self.rsock, make_lookup(s.name, s.rid), self.resolver)
        if error is not None:
            self._resolve_failed(s, error or "send failed")

    def _resolve_timed_out(self, s: _Stream) -> None:
        self._resolve_failed(s, "timeout")

    def _resolve_failed(self, s: _Stream, error: str) -> None:
        if s.rid is not None:
            self.lookups.pop(s.rid, None)
            s.rid = None
        now = Now.read()
        self._write([s.tracker.resolve_failed(error, now)])
        s.retry_at = now.mono + RETRY_DELAY

    def _stream_resolved(self, s: _Stream, answer: Lookup) -> None:
        s.rid = None
        if s.tracker.phase is not Phase.RESOLVING:
            return
        if answer.addr is None:
            self._resolve_failed(s, answer.rcode if answer.rcode != "NOERROR" else "no address")
            return
        s.tracker.resolved(answer.addr, answer.ttl, Now.read())
        self._connect(s, (answer.addr, self.stream_port))

    def _close_streams(self) -> None:
        """The probe stops: each stream's last record, its socket closed."""
        super()._close_streams()
        self.lookups.clear()

    def stream_counts(self) -> Dict[str, int]:
        """The streams' counts, summed (:meth:`run` returns the ticks')."""
        return self.counts()

    def run(self, stop: proc.StopSignal) -> Dict[str, int]:
        """Tick (and keep the streams) until the duration ends or ``stop`` fires, then let
        the last ticks end; returns the ticks' counts."""
        self.writer.write(
            {
                "type": "start",
                "t": time.time(),
                "kind": PREFIX,
                "client": self.client,
                "resolver": self.resolver_name,
                "resolver_addr": self.resolver[0],
                "methods": {m: n.rstrip(".") for m, n in self.names.items()},
                "interval": round(self.period, 6),
                "streams": len(self.streams) // max(1, len(self.names)),
                "stream_port": self.stream_port,
            }
        )
        try:
            self._loop(stop)
        finally:
            self.rsock.close()
            self.qsock.close()
            for s in self.streams:
                s.close()
        return self.book.counts

    def _loop(self, stop: proc.StopSignal) -> None:
        seq = 0
        start = time.monotonic() + self.offset
        for s, offset in zip(self.streams, self.stream_offsets, strict=True):
            s.retry_at = start - self.offset + offset
        sending = True
        while True:
            now = time.monotonic()
            if sending and (stop.stopped or (self.limit is not None and seq >= self.limit)):
                sending = False
                if stop.count < 2:
                    self._close_streams()
            elif not sending and stop.count >= 2:
                return  # a second signal while draining: leave now
            if sending:
                if now - (start + seq * self.period) > MAX_LAG:
                    start = now - seq * self.period
                while start + seq * self.period <= now and (self.limit is None or seq < self.limit):
                    self._tick(seq)
                    seq += 1
            for record in self.book.expire(time.monotonic()):
                self.writer.write(record)
            if not sending and self.book.idle():
                return
            wake = [t for t in (self.book.next_expiry(),) if t is not None]
            if sending and (self.limit is None or seq < self.limit):
                wake.append(start + seq * self.period)
            readers: List[Any] = [stop, self.rsock, self.qsock]
            writers: List[Any] = []
            owner: Dict[Any, _Stream] = {}
            if sending:
                for s in self.streams:
                    wake.extend(self._step(s))
                owner = self._watch(readers, writers)
            wait = max(0.0, min(wake) - time.monotonic()) if wake else None
            readable, writable, _ = select.select(readers, writers, [], wait)
            if stop in readable:
                stop.drain()
            if self.rsock in readable:
                self._from_resolver()
            if self.qsock in readable:
                self._from_site()
            self._dispatch(readable, writable, owner)


@register("resolve")
class ResolveKind(ProbeKind):
    """Resolve the service name through the client's resolver, then query the site it names."""

    record_prefix = PREFIX
    services = ("dns", "tcp")
    process = "resolve-probe"
    claim = (
        "anycast fails over at BGP speed; DNS-based GSLB at health check + TTL speed, "
        "steered by the resolver's location"
    )

    @classmethod
    def unavailable(cls, topo: Any) -> Optional[str]:
        """Without a ``service`` block there is no name to resolve and no resolver."""
        if getattr(topo, "service", None) is None:
            return "the topology has no 'service' block (the name and its resolvers)"
        return None

    @classmethod
    def services_on(cls, topo: Any, params: Any) -> Tuple[str, ...]:
        """NSD and the stream service on the anycast address, and with streams on a topology
        that publishes ``gslb``, the stream service on each site's unicast address
        (``unicast-stream``) too: GSLB answers those."""
        service = getattr(topo, "service", None)
        streams = getattr(params, "resolve_streams", 0) if params is not None else 0
        if service is not None and "gslb" in service.methods() and streams > 0:
            return (*cls.services, "unicast-stream")
        return cls.services

    def argv(self, ctx: ProbeContext) -> List[str]:
        """The probe's command line: the client's resolver, the names the service publishes,
        ``resolve_streams`` streams per name with the TCP stream's settings."""
        from testbed.topology.resolution import client_resolver_address

        p = ctx.params
        names = [f"{m}={NAMES[m]}" for m in ctx.topo.service.methods()]
        resolver, resolver_name = client_resolver_address(ctx.topo, ctx.plan, ctx.client)
        return [
            sys.executable, "-m", "testbed.probes.resolve", "--client", ctx.client,
            "--resolver", resolver, "--resolver-name", resolver_name,
            *[x for n in names for x in ("--name", n)],
            "--rate", f"{p.resolve_rate:g}", "--timeout", str(p.dns_timeout),
            "--streams", str(p.resolve_streams), "--stream-port", str(p.tcp_port),
            "--interval", str(p.tcp_interval), "--stream-timeout", str(p.tcp_timeout),
            "--seed", str(p.seed), "--out", ctx.out(PREFIX),
        ]  # fmt: skip


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog="python -m testbed.probes.resolve",
        description="Resolve the service name through a resolver, then query the site it names.",
    )
    p.add_argument("--client", required=True, type=proc.name, help="client name")
    p.add_argument("--resolver", required=True, type=proc.ipv4, help="the resolver's address")
    p.add_argument("--resolver-name", default="", help="the resolver's name, for the records")
    proc.add_port(p, 53, "the resolver's port", flag="--resolver-port")
    proc.add_port(p, 53, "the DNS port of the resolved addresses", flag="--site-port")
    p.add_argument(
        "--name",
        action="append",
        required=True,
        help="METHOD=NAME: a publishing method (anycast, gslb) and its service name",
    )
    proc.add_rate(p, RATE, MAX_RATE, "ticks (each resolves every name)")
    p.add_argument(
        "--timeout",
        default=defaults.DNS_TIMEOUT,
        type=proc.bounded(0, 60),
        help=f"seconds the resolver, then the site, may take (default {defaults.DNS_TIMEOUT:g})",
    )
    proc.add_stream_options(
        p,
        "--streams",
        MAX_STREAMS,
        "long TCP streams per name, each resolving it before every connection",
        interval="seconds between messages on a stream",
        timeout="seconds without an answer before a stream's connection is given up",
        count=STREAMS,
        timeout_flag="--stream-timeout",
    )
    proc.add_port(p, defaults.STREAM_PORT, "the stream port of the resolved addresses",
                  flag="--stream-port")  # fmt: skip
    proc.add_connect_timeout(p, "seconds a stream's TCP handshake may take (default 1.0)")
    proc.add_run_options(
        p, seed="the DNS ids, the first tick's and the streams' offsets, with the client"
    )
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.probes.resolve``."""
    parser = _parser()
    args = proc.arguments(parser, argv)
    try:
        names = parse_names(args.name)
    except ValueError as exc:
        parser.error(str(exc))
    with proc.recording(parser.prog, args.out) as (stop, writer):
        probe = ResolveProbe(
            args.client,
            (args.resolver, args.resolver_port),
            names,
            args.rate,
            args.timeout,
            args.duration,
            writer,
            int(args.seed),
            args.resolver_name,
            args.site_port,
            args.streams,
            args.stream_port,
            args.interval,
            args.stream_timeout,
            args.connect_timeout,
        )
        counts = probe.run(stop)
        streams = probe.stream_counts()
    sys.stderr.write(
        f"resolve probe {args.client}: {counts['ticks']} lookups, {counts['ok']} answered, "
        f"{counts['timeout']} timed out at the site, {counts['resolve_failed']} not resolved\n"
    )
    if probe.streams:
        sys.stderr.write(
            f"resolve probe {args.client}: {len(probe.streams)} streams, "
            f"{streams['connected']} connections, {streams['broken']} broken, "
            f"{streams['connect_failed']} failed connects, "
            f"{streams['resolve_failed']} failed lookups\n"
        )


if __name__ == "__main__":
    main()
