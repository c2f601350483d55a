"""Resolve-then-query probe (``resolve``): the name through the resolver, then the site.

Runs in a client's namespace, one process per client::

    python -m testbed.probes.resolve --client paris --resolver 10.1.0.6 \\
        [--resolver-name res1] --name anycast=svc.anycast.test \\
        [--name gslb=svc.gslb.test] [--rate 5] [--timeout 1.0] [--duration S] \\
        [--seed N] --out RUN/records/resolve-paris.jsonl

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

Records (docs/records.md, ``kind`` ``resolve``): a ``start`` record
(``type: start``: the resolver, the methods and names, the interval), then
one per tick and method, written when it ends, ``t`` its start:
``ok`` (``addr`` and ``ttl`` from the resolver, ``site`` from the NSID,
``resolve_rtt`` and ``rtt``), ``timeout`` (resolved, the site did not
answer) or ``resolve_failed`` (``error``: ``timeout`` or the rcode, or
``no address``).

:class:`ResolveBook` is the bookkeeping (pure: times in, records out);
:class:`ResolveProbe` the socket loop; :class:`ResolveKind` registers the
kind.
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
from testbed.records import RecordWriter

#: The record prefix and ``kind`` of every record: ``resolve-CLIENT.jsonl``.
PREFIX = "resolve"
#: The service names each method publishes (the zones NSD and PowerDNS serve).
NAMES = {"anycast": "svc.anycast.test", "gslb": "svc.gslb.test"}
RATE = defaults.RESOLVE_RATE
MAX_RATE = defaults.MAX_RESOLVE_RATE
#: Behind schedule by more than this (e.g. the process was stopped): skip ahead.
MAX_LAG = 1.0
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


class ResolveProbe:
    """The probe's loop: two UDP sockets (resolver, sites) and one ``select``."""

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
    ):
        """Prepare the probe.

        Args:
            client: client name.
            resolver: the resolver's address and port.
            names: method -> the name it publishes.
            rate: ticks per second (each asks every method).
            timeout: seconds the resolver, then the site, may take.
            duration: stop after this many seconds (None: until a signal).
            writer: where the records go.
            seed: seeds the DNS ids and the first tick's offset (with the client name).
            resolver_name: the resolver's node name (for the start record).
            site_port: the DNS port of the addresses the names resolve to.
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

    def _id(self) -> int:
        while True:
            qid = self.rng.randrange(65536)
            if not self.book.busy(qid):
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

    def run(self, stop: proc.StopSignal) -> Dict[str, int]:
        """Tick until the duration ends or ``stop`` fires, then let the last ticks end."""
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
            }
        )
        try:
            self._loop(stop)
        finally:
            self.rsock.close()
            self.qsock.close()
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
            wait = max(0.0, min(wake) - time.monotonic()) if wake else None
            readers: List[Any] = [stop, self.rsock, self.qsock]
            readable, _, _ = select.select(readers, [], [], wait)
            if stop in readable:
                stop.drain()
            if self.rsock in readable:
                self._from_resolver()
            if self.qsock in readable:
                self._from_site()


@register("resolve")
class ResolveKind(ProbeKind):
    """Resolve the service name through the client's resolver, then query the site it names."""

    record_prefix = PREFIX
    services = ("dns",)
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

    def argv(self, ctx: ProbeContext) -> List[str]:
        """The probe's command line: the client's resolver, the names the service publishes."""
        from testbed.topology.resolution import client_resolver_address

        p = ctx.params
        names = [f"{m}={NAMES[m]}" for m in ctx.topo.service.methods()]
        resolver, resolver_name = client_resolver_address(ctx.topo, ctx.plan, ctx.client)
        return [
            sys.executable, "-m", "testbed.probes.resolve", "--client", ctx.client,
            "--resolver", resolver, "--resolver-name", resolver_name,
            *[x for n in names for x in ("--name", n)],
            "--rate", f"{p.resolve_rate:g}", "--timeout", str(p.dns_timeout),
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
    proc.add_run_options(p, seed="the DNS ids and the first tick's offset, with the client")
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
        )
        counts = probe.run(stop)
    sys.stderr.write(
        f"resolve probe {args.client}: {counts['ticks']} lookups, {counts['ok']} answered, "
        f"{counts['timeout']} timed out at the site, {counts['resolve_failed']} not resolved\n"
    )


if __name__ == "__main__":
    main()
