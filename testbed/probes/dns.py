"""DNS probe: queries the service address at a fixed rate and records each query.

Runs in a client's namespace, one process per client::

    python -m testbed.probes.dns --client paris --target 192.0.2.53 [--port 53] \\
        --rate 20 --timeout 1.0 [--duration S] [--seed N] --out RUN/records/dns-paris.jsonl

Every query has a unique name ``q<SEQ>.<CLIENT>.probe.anycast.test`` and
asks for the server's NSID (EDNS), so each answer is matched to its own
query by name (and DNS id) and says which site answered.  The DNS ids, like
a resolver's, are random, and the first query leaves at a random offset
within the first period; both come from a generator seeded with ``--seed``
and the client name (:func:`probe_rng`), so the same seed sends the same
queries (ids, names, order, schedule) again.  Records (docs/records.md):
``ok`` when answered within the timeout, ``timeout`` when the timeout
expires, and ``late`` for an answer to a query already written as timed out.

One non-blocking UDP socket and one ``select`` loop: queries leave on an
absolute schedule (``start + seq / rate``, so no drift), and the loop sleeps
until the next send or the next timeout.  SIGTERM/SIGINT or the end of
``--duration`` stops sending; queries still out get up to the timeout to be
answered, are written, and the process exits 0 (a second signal exits at
once, leaving the queries still out unrecorded).
"""

from __future__ import annotations

import math
import random
import resource
import select
import socket
import sys
import time
from typing import Any, Dict, List, NamedTuple, Optional

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from testbed import proc
from testbed.probes import defaults
from testbed.records import RecordWriter

PROBE_DOMAIN = "probe.anycast.test"
MAX_RATE = defaults.MAX_DNS_RATE
#: Behind schedule by more than this (e.g. the process was stopped): skip ahead.
MAX_LAG = 1.0
_NSID_REQUEST = dns.edns.GenericOption(dns.edns.OptionType.NSID, b"")


def qname(seq: int, client: str) -> str:
    """The query name of query ``seq`` of ``client`` (absolute, lower case)."""
    return f"q{seq}.{client}.{PROBE_DOMAIN}."


def probe_rng(seed: int, client: str) -> random.Random:
    """The generator of one client's DNS ids (same seed and client: same ids)."""
    return random.Random(f"dns:{seed}:{client}")


def start_offset(seed: int, client: str, period: float) -> float:
    """Seconds from the probe's start to its first query (below one period; seeded)."""
    return random.Random(f"dns-start:{seed}:{client}").uniform(0, period)


def query_ids(rng: random.Random, count: int) -> List[int]:
    """The next ``count`` DNS ids drawn from ``rng`` (the probe draws one per query)."""
    return [rng.randrange(65536) for _ in range(count)]


def make_query(seq: int, client: str, qid: Optional[int] = None) -> bytes:
    """The wire form of query ``seq``: A record, EDNS with an empty NSID option.

    Args:
        seq: the query's sequence number.
        client: the client name (a label of the query name).
        qid: its DNS id (default ``seq % 65536``).

    Returns:
        The DNS message to send.
    """
    msg = dns.message.make_query(
        qname(seq, client), dns.rdatatype.A, use_edns=0, options=[_NSID_REQUEST]
    )
    msg.id = seq % 65536 if qid is None else qid
    return msg.to_wire()


class Answer(NamedTuple):
    """What the probe needs from a DNS response."""

    qname: str
    id: int
    rcode: str
    site: Optional[str]


def parse_answer(wire: bytes) -> Optional[Answer]:
    """Parse a response: its question name, id, rcode and NSID.

    Args:
        wire: the received datagram.

    Returns:
        The answer, or None if the datagram is not a DNS response with a question.
    """
    try:
        msg = dns.message.from_wire(wire)
    except (dns.exception.DNSException, ValueError):
        return None
    if not msg.question or not msg.flags & dns.flags.QR:
        return None
    site = None
    for option in msg.options:
        if option.otype == dns.edns.OptionType.NSID:
            site = option.to_wire().decode("utf-8", "replace")
    return Answer(
        msg.question[0].name.to_text().lower(), msg.id, dns.rcode.to_text(msg.rcode()), site
    )


class _Pending(NamedTuple):
    seq: int
    t: float  # wall-clock send time
    mono: float  # monotonic send time
    id: int  # DNS id


class QueryTracker:
    """Queries in flight: matches answers, expires timeouts, remembers for late answers.

    Pure bookkeeping, no I/O: every method takes the monotonic time and
    returns the records to write.  Since the timeout is the same for every
    query, queries expire in the order they were sent.
    """

    def __init__(self, client: str, timeout: float, late_window: float = 30.0):
        """Start with nothing in flight.

        Args:
            client: the client name (in every record and query name).
            timeout: seconds after which an unanswered query is a timeout.
            late_window: seconds after sending during which a late answer is
                still recognised (and recorded as ``late``).
        """
        self.client = client
        self.timeout = timeout
        self.late_window = max(late_window, timeout)
        self.outstanding: Dict[str, _Pending] = {}  # in send order
        self.expired: Dict[str, _Pending] = {}  # timed out, in send order
        self.counts: Dict[str, int] = {"sent": 0, "ok": 0, "timeout": 0, "late": 0, "ignored": 0}

    def _record(
        self,
        p: _Pending,
        status: str,
        rtt: Optional[float] = None,
        rcode: Optional[str] = None,
        site: Optional[str] = None,
    ) -> Dict[str, Any]:
        self.counts[status] += 1
        return {
            "t": p.t,
            "kind": "dns",
            "client": self.client,
            "seq": p.seq,
            "id": p.id,
            "status": status,
            "rtt": None if rtt is None else round(rtt, 6),
            "rcode": rcode,
            "site": site,
        }

    def sent(self, seq: int, t: float, mono: float, qid: Optional[int] = None) -> str:
        """Note that query ``seq`` (DNS id ``qid``, default ``seq % 65536``) left at
        wall time ``t`` (monotonic ``mono``).

        Returns:
            The query name.
        """
        name = qname(seq, self.client)
        self.outstanding[name] = _Pending(seq, t, mono, seq % 65536 if qid is None else qid)
        self.counts["sent"] += 1
        return name

    def answered(self, answer: Answer, mono: float) -> Optional[Dict[str, Any]]:
        """Match an answer to its query by name (and id).

        Args:
            answer: the parsed response.
            mono: monotonic receive time.

        Returns:
            An ``ok`` or ``late`` record, or None (not ours, or a duplicate).
        """
        for table, status in ((self.outstanding, "ok"), (self.expired, "late")):
            pending = table.get(answer.qname)
            if pending is not None and answer.id == pending.id:
                del table[answer.qname]
                return self._record(pending, status, mono - pending.mono, answer.rcode, answer.site)
        self.counts["ignored"] += 1
        return None

    def expire(self, mono: float) -> List[Dict[str, Any]]:
        """Time out the queries older than the timeout; forget very old ones.

        Returns:
            A ``timeout`` record for each query that just expired.
        """
        out = []
        while self.outstanding:
            name, pending = next(iter(self.outstanding.items()))
            if mono - pending.mono < self.timeout:
                break
            del self.outstanding[name]
            self.expired[name] = pending
            out.append(self._record(pending, "timeout"))
        while self.expired:
            name, pending = next(iter(self.expired.items()))
            if mono - pending.mono < self.late_window:
                break
            del self.expired[name]
        return out

    def next_expiry(self) -> Optional[float]:
        """Monotonic time of the next timeout, None if nothing is in flight."""
        if not self.outstanding:
            return None
        return next(iter(self.outstanding.values())).mono + self.timeout


class DnsProbe:
    """The probe's loop: one UDP socket, an absolute send schedule, a tracker."""

    def __init__(
        self,
        client: str,
        target: str,
        port: int,
        rate: float,
        timeout: float,
        duration: Optional[float],
        writer: RecordWriter,
        late_window: float = 30.0,
        seed: int = 0,
    ):
        """Prepare the probe (the socket is opened by :meth:`run`).

        Args:
            client: client name.
            target: the service address.
            port: the DNS port.
            rate: queries per second.
            timeout: seconds before an unanswered query is a timeout.
            duration: stop sending after this many seconds (None: until a signal).
            writer: where the records go.
            late_window: how long late answers are still recognised.
            seed: seeds the DNS ids and the first query's offset (with the client name).
        """
        self.client = client
        self.target = (target, port)
        self.period = 1.0 / rate
        self.limit = math.ceil(duration * rate - 1e-9) if duration is not None else None
        self.writer = writer
        self.tracker = QueryTracker(client, timeout, late_window)
        self.send_errors = 0
        self.rng = probe_rng(seed, client)
        self.offset = start_offset(seed, client, self.period)

    def _send(self, sock: socket.socket, seq: int) -> None:
        (qid,) = query_ids(self.rng, 1)
        wire = make_query(seq, self.client, qid)
        self.tracker.sent(seq, time.time(), time.monotonic(), qid)
        try:
            sock.sendto(wire, self.target)
        except OSError:
            # not sent (no route, buffer full...): for the client it is lost,
            # and it will be recorded as a timeout like any other loss
            self.send_errors += 1

    def _receive(self, sock: socket.socket) -> None:
        while True:
            try:
                wire, source = sock.recvfrom(4096)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue  # an ICMP error reported on the socket: the query will time out
            mono = time.monotonic()
            if source != self.target:
                continue
            answer = parse_answer(wire)
            if answer is None:
                self.tracker.counts["ignored"] += 1
                continue
            record = self.tracker.answered(answer, mono)
            if record is not None:
                self.writer.write(record)

    def run(self, stop: proc.StopSignal) -> Dict[str, int]:
        """Probe until the duration ends or ``stop`` fires, then drain.

        Returns:
            The tracker's counts (sent, ok, timeout, late, ignored).
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.bind(("0.0.0.0", 0))
        try:
            self._loop(sock, stop)
        finally:
            sock.close()
        return self.tracker.counts

    def _loop(self, sock: socket.socket, stop: proc.StopSignal) -> None:
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
                due = start + seq * self.period
                if now - due > MAX_LAG:  # stalled: skip ahead instead of a burst
                    start = now - seq * self.period
                while start + seq * self.period <= now and (self.limit is None or seq < self.limit):
                    self._send(sock, seq)
                    seq += 1
            for record in self.tracker.expire(time.monotonic()):
                self.writer.write(record)
            if not sending and not self.tracker.outstanding:
                return
            wake = [t for t in (self.tracker.next_expiry(),) if t is not None]
            if sending and (self.limit is None or seq < self.limit):
                wake.append(start + seq * self.period)
            wait = max(0.0, min(wake) - time.monotonic()) if wake else None
            readable, _, _ = select.select([sock, stop], [], [], wait)
            if stop in readable:
                stop.drain()
            if sock in readable:
                self._receive(sock)


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog="python -m testbed.probes.dns",
        description="DNS probe: unique queries with NSID at a fixed rate, one record each.",
    )
    proc.add_client(p)
    proc.add_port(p, 53, "DNS port")
    proc.add_rate(p, defaults.DNS_RATE, MAX_RATE, "queries")
    p.add_argument(
        "--timeout",
        default=defaults.DNS_TIMEOUT,
        type=proc.bounded(0, 60),
        help=f"seconds before a query is a timeout (default {defaults.DNS_TIMEOUT:g})",
    )
    proc.add_duration(p)
    p.add_argument(
        "--late-window",
        default=30.0,
        type=proc.bounded(0, 3600),
        help="seconds after sending a late answer is still recorded (default 30)",
    )
    proc.add_seed(p, "the DNS ids and the start offset, with the client name")
    proc.add_out(p)
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.probes.dns``."""
    parser = _parser()
    args = proc.arguments(parser, argv)
    with proc.recording(parser.prog, args.out) as (stop, writer):
        probe = DnsProbe(
            args.client,
            args.target,
            args.port,
            args.rate,
            args.timeout,
            args.duration,
            writer,
            args.late_window,
            args.seed,
        )
        counts = probe.run(stop)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    sys.stderr.write(
        f"dns probe {args.client}: sent {counts['sent']}, ok {counts['ok']}, "
        f"timeout {counts['timeout']}, late {counts['late']}, "
        f"send errors {probe.send_errors}, cpu {usage.ru_utime + usage.ru_stime:.2f} s\n"
    )


if __name__ == "__main__":
    main()
