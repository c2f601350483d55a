"""TCP retry probe (``tcp-retry``): long streams whose client reconnects with backoff.

Runs in a client's namespace, one process per client::

    python -m testbed.probes.retry --client paris --target 192.0.2.53 [--port 8053] \\
        --streams 2 [--interval 0.2] [--timeout 3.0] [--connect-timeout 1.0] \\
        [--backoff 0.1] [--backoff-max 2.0] [--duration S] [--seed N] \\
        --out RUN/records/tcpretry-paris.jsonl

The same bidirectional stream as :mod:`testbed.probes.tcp` (``SEQ\\n`` every
interval, the stream service answers ``SITE SEQ\\n``), but the client
behaves as a well-behaved application: when its connection breaks (reset,
timeout, the server's FIN) it reconnects after an exponential backoff
(:class:`Backoff`: ``--backoff`` seconds doubling up to ``--backoff-max``,
each delay jittered between half and all of it from a generator seeded with
``--seed``, the client and the stream), and keeps trying until a connection
answers again.  The records say what the application lived through: each
break (why, on which site, how many messages it lost), each reconnect
attempt, and the recovery (time from the break to the first answer after it,
the new site).

Records (docs/records.md, ``kind`` ``tcpretry``): ``attempt`` (a connection
attempt starts: its number since the last connection that answered, the
backoff waited), ``attempt_failed`` (refused, unreachable, no handshake in
time), ``connected`` (the stream's first answer), ``break`` (``reason``
``reset``, ``timeout`` or ``eof``; ``site``; ``lost``: messages sent on the
connection and never answered), ``recovered`` (the first answer after a
break: ``recover_s``, ``site``, ``previous``, ``attempts``, ``lost``) and
``stopped`` (one per stream when the probe stops: whether a connection was
up, the longest time without an answer).

The per-stream logic is :class:`RetryTracker` (pure: events and times in,
records out); :class:`RetryProbe` is the socket loop (non-blocking sockets,
one ``select``).  :class:`RetryKind` registers the kind and turns a client's
records into a :class:`~testbed.analysis.model.TransportOutcome`
(:func:`outcome`).
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from testbed import proc
from testbed.probes import defaults
from testbed.probes.builtin import service_address
from testbed.probes.kinds import ProbeContext, ProbeKind, Record, register
from testbed.probes.streamloop import Now, Phase, StreamLoop, TrackedStream
from testbed.records import RecordWriter

#: The record prefix and ``kind`` of every record: ``tcpretry-CLIENT.jsonl``.
PREFIX = "tcpretry"
MAX_STREAMS = 64
#: First backoff (s) and its ceiling (s): 0.1 s doubling to 2 s, unless the run's
#: ``retry_backoff`` and ``retry_backoff_max`` say otherwise.
BACKOFF = defaults.RETRY_BACKOFF
BACKOFF_MAX = defaults.RETRY_BACKOFF_MAX
#: Seconds allowed for the TCP handshake.
CONNECT_TIMEOUT = 1.0


class Backoff:
    """Exponential backoff with jitter: ``d/2 + U(0, d/2)`` with ``d = min(cap, base·2ⁿ)``.

    "Equal jitter": never less than half the nominal delay (no hammering),
    never the same for two clients that broke at the same moment.
    """

    def __init__(self, rng: random.Random, base: float = BACKOFF, cap: float = BACKOFF_MAX):
        """Draw delays from ``rng`` (seeded by the caller)."""
        self.rng = rng
        self.base = base
        self.cap = max(cap, base)

    def nominal(self, n: int) -> float:
        """The delay before jitter for the attempt after ``n`` failures: ``min(cap, base·2ⁿ)``."""
        return min(self.cap, self.base * 2 ** min(n, 62))

    def delay(self, n: int) -> float:
        """The jittered delay (s) before the next attempt, after ``n`` failures (0: first)."""
        d = self.nominal(n)
        return round(d / 2 + self.rng.uniform(0, d / 2), 6)


def stream_rng(seed: int, client: str, stream: int) -> random.Random:
    """The generator of one stream's start offset and backoff jitter (same seed: same draws)."""
    return random.Random(f"{PREFIX}:{seed}:{client}:{stream}")


@dataclass
class Break:
    """A break the stream has not recovered from yet."""

    at: Now  # when it was noticed
    site: Optional[str]  # the site of the connection that broke
    reason: str  # reset, timeout, eof
    lost: int  # messages sent and never answered, over the whole outage


class RetryTracker:
    """The life of one retrying stream: attempts, answers, breaks, recoveries.

    Pure bookkeeping, no I/O: the probe says what happened and when (a
    :class:`~testbed.probes.tcp.Now`) and gets the records to write, and
    :attr:`retry_at` (monotonic) says when to try the next connection.
    ``attempts`` counts connection attempts since the last connection that
    answered; the backoff after a failed attempt or a break is
    ``backoff.delay(attempts)``, so it restarts from the base once a
    connection answers.
    """

    def __init__(self, client: str, stream: int, timeout: float, backoff: Backoff):
        """Start a stream with no connection.

        Args:
            client: the client name (in every record).
            stream: the stream number (from 0).
            timeout: seconds without an answer after which a connection is given up.
            backoff: the reconnect delays.
        """
        self.client = client
        self.stream = stream
        self.timeout = timeout
        self.backoff = backoff
        self.phase = Phase.DOWN
        self.site: Optional[str] = None
        self.seq = 0
        self.outstanding: Dict[int, float] = {}  # seq -> monotonic send time, in order
        self.attempts = 0  # attempts since the last connection that answered
        self.waited = 0.0  # the backoff before the next attempt
        self.retry_at = 0.0  # monotonic: when the next attempt may start
        self.started: Optional[float] = None  # monotonic start of the handshake
        self.broken: Optional[Break] = None
        self.last_answer: Optional[Now] = None
        self.longest_gap = 0.0
        self.counts: Dict[str, int] = {
            "attempt": 0,
            "attempt_failed": 0,
            "connected": 0,
            "break": 0,
            "recovered": 0,
            "answers": 0,
            "lost": 0,
            "ignored": 0,
        }

    def _record(self, now: Now, event: str, **fields: Any) -> Record:
        if event in self.counts:
            self.counts[event] += 1
        return {
            "t": now.t,
            "kind": PREFIX,
            "client": self.client,
            "stream": self.stream,
            "event": event,
            "site": self.site,
            **fields,
        }

    def _retry_later(self, now: Now) -> None:
        self.waited = self.backoff.delay(self.attempts)
        self.retry_at = now.mono + self.waited

    # -- connection life -------------------------------------------------

    def due(self, mono: float) -> bool:
        """True when the stream has no connection and its backoff is over."""
        return self.phase is Phase.DOWN and mono >= self.retry_at

    def connecting(self, now: Now) -> Record:
        """A connection attempt starts (the SYN leaves).

        Returns:
            An ``attempt`` record: ``n`` (attempts since the last connection
            that answered, from 1), ``delay`` (the backoff waited before it),
            ``reconnect`` (after a break).
        """
        self.phase = Phase.CONNECTING
        self.site = None
        self.outstanding.clear()
        self.started = now.mono
        self.attempts += 1
        return self._record(
            now,
            "attempt",
            n=self.attempts,
            delay=round(self.waited, 6),
            reconnect=self.broken is not None,
        )

    def connect_failed(self, error: str, now: Now) -> Record:
        """The attempt failed (refused, unreachable, no handshake in time); back off.

        Returns:
            An ``attempt_failed`` record (``n``, ``error``, ``retry_in``).
        """
        self.phase = Phase.DOWN
        self.site = None
        self.started = None
        self._retry_later(now)
        return self._record(
            now, "attempt_failed", n=self.attempts, error=error, retry_in=self.waited
        )

    def established(self, now: Now) -> None:
        """The handshake completed; the connection waits for its first answer."""
        self.phase = Phase.OPEN
        self.site = None
        self.outstanding.clear()
        self.started = None

    def sent(self, now: Now) -> int:
        """A message leaves on the current connection; returns its sequence number."""
        seq = self.seq
        self.seq += 1
        self.outstanding[seq] = now.mono
        return seq

    def answered(self, site: str, seq: int, now: Now) -> List[Record]:
        """An answer ``SITE SEQ`` arrived on the current connection.

        Returns:
            ``connected`` for the stream's first answer, ``recovered`` for the
            first answer after a break, ``site_changed`` if another site
            answers on the same connection; otherwise nothing.
        """
        if self.phase not in (Phase.OPEN, Phase.UP) or seq not in self.outstanding:
            self.counts["ignored"] += 1
            return []
        for old in [s for s in self.outstanding if s <= seq]:  # answers come in order
            del self.outstanding[old]
        self.counts["answers"] += 1
        since = None if self.last_answer is None else now.mono - self.last_answer.mono
        if since is not None:
            self.longest_gap = max(self.longest_gap, since)
        self.last_answer = now
        out: List[Record] = []
        if self.phase is Phase.OPEN:
            self.phase = Phase.UP
            self.site = site
            broken, self.broken = self.broken, None
            if broken is None:
                out.append(self._record(now, "connected", attempts=self.attempts))
            else:
                out.append(
                    self._record(
                        now,
                        "recovered",
                        previous=broken.site,
                        reason=broken.reason,
                        recover_s=round(now.mono - broken.at.mono, 6),
                        since_answer=None if since is None else round(since, 6),
                        attempts=self.attempts,
                        lost=broken.lost,
                    )
                )
            self.attempts = 0
            self.waited = 0.0
        elif site != self.site:
            previous, self.site = self.site, site
            out.append(self._record(now, "site_changed", previous=previous))
        return out

    def lost(self, reason: str, error: str, now: Now) -> Record:
        """The connection broke: ``reset``, ``timeout`` or ``eof``; back off.

        A connection that broke before answering continues the outage of the
        break before it (if any): its lost messages add to that break's.

        Returns:
            A ``break`` record: ``reason``, ``error``, ``site`` (null if the
            connection never answered), ``lost`` (its unanswered messages),
            ``retry_in``.
        """
        lost = len(self.outstanding)
        self.counts["lost"] += lost
        answered = self.phase is Phase.UP
        if answered:
            self.broken = Break(now, self.site, reason, lost)
        elif self.broken is not None:
            self.broken.lost += lost
        self._retry_later(now)
        record = self._record(
            now,
            "break",
            reason=reason,
            error=error,
            lost=lost,
            answered=answered,
            retry_in=self.waited,
        )
        self.phase = Phase.DOWN
        self.site = None
        self.outstanding.clear()
        return record

    def stop(self, now: Now) -> Record:
        """The probe stops the stream.

        Returns:
            A ``stopped`` record: ``up`` (a connection was answering),
            ``site``, ``longest_gap`` (the longest time without an answer,
            counting the current one), ``down_s`` (seconds since a break not
            recovered from, else null).
        """
        if self.last_answer is not None:
            self.longest_gap = max(self.longest_gap, now.mono - self.last_answer.mono)
        up = self.phase is Phase.UP
        record = self._record(
            now,
            "stopped",
            up=up,
            longest_gap=round(self.longest_gap, 6) if self.last_answer else None,
            down_s=None if self.broken is None else round(now.mono - self.broken.at.mono, 6),
        )
        self.phase = Phase.DOWN
        self.site = None
        self.outstanding.clear()
        return record

    # -- deadlines ---------------------------------------------------------

    def answer_deadline(self) -> Optional[float]:
        """Monotonic time at which the oldest unanswered message times out (None: none)."""
        if self.phase not in (Phase.OPEN, Phase.UP) or not self.outstanding:
            return None
        return next(iter(self.outstanding.values())) + self.timeout

    def expire(self, now: Now) -> List[Record]:
        """Give up the connection if a message has waited ``timeout`` seconds."""
        deadline = self.answer_deadline()
        if deadline is None or now.mono < deadline:
            return []
        return [self.lost("timeout", f"no answer for {float(self.timeout)} s", now)]


# ------------------------------------------------------------------ outcome
def outcome(records: List[Record]) -> Any:
    """One client's :class:`~testbed.analysis.model.TransportOutcome` from its records (pure).

    A flow is a connection attempt; each ends one way (``ends``):
    ``closed`` (answering when the probe stopped: survived), ``reset``,
    ``timeout``, ``eof`` (the connection broke), ``connect_failed`` (never
    connected: failed) or ``unfinished`` (no end recorded).  ``recovered``
    counts breaks followed by an answer, ``recover_s`` their times;
    ``lost`` is the messages sent and never answered, in ``messages``.
    """
    from testbed.analysis.model import TransportOutcome

    mine = [r for r in records if r.get("kind") == PREFIX]
    events: Dict[str, List[Record]] = {}
    for r in mine:
        events.setdefault(str(r.get("event")), []).append(r)
    breaks = events.get("break", [])
    stopped = events.get("stopped", [])
    recovered = events.get("recovered", [])
    ends: Dict[str, int] = {}
    for r in breaks:
        reason = str(r.get("reason"))
        ends[reason] = ends.get(reason, 0) + 1
    closed = sum(1 for r in stopped if r.get("up"))
    failed = len(events.get("attempt_failed", []))
    for name, count in (("closed", closed), ("connect_failed", failed)):
        if count:
            ends[name] = count
    flows = len(events.get("attempt", []))
    unfinished = flows - sum(ends.values())
    if unfinished > 0:
        ends["unfinished"] = unfinished
    gaps = [float(r["since_answer"]) for r in recovered if r.get("since_answer") is not None]
    gaps += [float(r["longest_gap"]) for r in stopped if r.get("longest_gap") is not None]
    return TransportOutcome(
        kind="tcp-retry",
        flows=flows,
        survived=closed,
        reset=ends.get("reset", 0),
        timed_out=ends.get("timeout", 0),
        failed=failed,
        recovered=len(recovered),
        recover_s=[round(float(r["recover_s"]), 6) for r in recovered],
        longest_gap_s=round(max(gaps), 6) if gaps else None,
        lost=sum(int(r.get("lost") or 0) for r in breaks),
        lost_unit="messages",
        ends=dict(sorted(ends.items())),
    )


@register("tcp-retry")
class RetryKind(ProbeKind):
    """Long streams that reconnect with backoff (``testbed.probes.retry``), on the stream service.

    As many streams as ``tcp_streams`` (at least one), with tcp-stream's
    interval, timeout and port, and the run's ``retry_backoff`` and
    ``retry_backoff_max``.
    """

    record_prefix = PREFIX
    services = ("tcp",)
    process = "retry-probe"
    long_lived = True
    claim = "retry in the application: a reset connection is replaced within the backoff"

    def argv(self, ctx: ProbeContext) -> List[str]:
        """The retry probe's command line."""
        p = ctx.params
        return [
            sys.executable, "-m", "testbed.probes.retry", "--client", ctx.client,
            "--target", service_address(ctx.topo), "--port", str(p.tcp_port),
            "--streams", str(max(1, p.tcp_streams)), "--interval", str(p.tcp_interval),
            "--timeout", str(p.tcp_timeout), "--backoff", f"{p.retry_backoff:g}",
            "--backoff-max", f"{p.retry_backoff_max:g}",
            "--seed", str(p.seed), "--out", ctx.out(PREFIX),
        ]  # fmt: skip

    @classmethod
    def outcome(cls, records: List[Record]) -> Any:
        """The client's outcome (:func:`outcome`)."""
        return outcome(records)


# ------------------------------------------------------------------ the loop
class _Stream(TrackedStream):
    """A tracker and the I/O state of its current connection; the tracker's backoff
    says when it starts again (:attr:`retry_at` is the tracker's)."""

    tracker: RetryTracker

    @property
    def retry_at(self) -> float:
        """Monotonic: when the next attempt may start (the tracker's backoff)."""
        return self.tracker.retry_at

    @retry_at.setter
    def retry_at(self, value: float) -> None:
        self.tracker.retry_at = value


class RetryProbe(StreamLoop[_Stream]):
    """The probe's loop: N retrying streams, non-blocking sockets, one ``select``
    (:class:`~testbed.probes.streamloop.StreamLoop`)."""

    CONNECT_RETRY = None  # the tracker backs off
    RECONNECT = None

    def __init__(
        self,
        client: str,
        target: str,
        port: int,
        streams: int,
        interval: float,
        timeout: float,
        connect_timeout: float,
        duration: Optional[float],
        writer: RecordWriter,
        seed: int = 0,
        backoff: float = BACKOFF,
        backoff_max: float = BACKOFF_MAX,
    ):
        """Prepare the probe (sockets are opened by :meth:`run`).

        Args:
            client: client name.
            target: the service address.
            port: the stream service's port.
            streams: how many concurrent streams.
            interval: seconds between messages on a connection.
            timeout: seconds without an answer before a connection is given up.
            connect_timeout: seconds allowed for the TCP handshake.
            duration: stop after this many seconds (None: until a signal).
            writer: where the records go.
            seed: seeds the start offsets and backoff jitter (with client and stream).
            backoff: the first reconnect delay (s).
            backoff_max: the longest reconnect delay (s).
        """
        self.target = (target, port)
        self.connect_timeout = connect_timeout
        self.duration = duration
        self.writer = writer
        self.streams: List[_Stream] = []
        self.offsets: List[float] = []
        for k in range(streams):
            rng = stream_rng(seed, client, k)
            self.offsets.append(round(rng.uniform(0, interval), 6))
            tracker = RetryTracker(client, k, timeout, Backoff(rng, backoff, backoff_max))
            self.streams.append(_Stream(tracker, interval))

    def _start(self, s: _Stream) -> None:
        self._write([s.tracker.connecting(Now.read())])
        self._connect(s, self.target)

    def _last(self, s: _Stream, now: Now) -> List[Record]:
        return [s.tracker.stop(now)]


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog="python -m testbed.probes.retry",
        description="TCP retry probe: long streams that reconnect with backoff after a break.",
    )
    proc.add_client(p, target_help="service address")
    proc.add_port(p, defaults.STREAM_PORT, "TCP port")
    proc.add_stream_options(
        p,
        "--streams",
        MAX_STREAMS,
        "concurrent streams",
        interval="seconds between messages",
        timeout="seconds without an answer before a break",
    )
    proc.add_connect_timeout(
        p, f"seconds allowed for the TCP handshake (default {CONNECT_TIMEOUT:g})", CONNECT_TIMEOUT
    )
    p.add_argument(
        "--backoff",
        default=BACKOFF,
        type=proc.bounded(0, defaults.MAX_RETRY_BACKOFF),
        help=f"first reconnect delay, doubled after each failure (default {BACKOFF:g})",
    )
    p.add_argument(
        "--backoff-max",
        default=BACKOFF_MAX,
        type=proc.bounded(0, defaults.MAX_RETRY_BACKOFF_CEILING),
        help=f"longest reconnect delay (default {BACKOFF_MAX:g})",
    )
    proc.add_run_options(p, seed="the start offsets and backoff jitter, with the client")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.probes.retry``."""
    parser = _parser()
    args = proc.arguments(parser, argv)
    with proc.recording(parser.prog, args.out) as (stop, writer):
        probe = RetryProbe(
            args.client,
            args.target,
            args.port,
            int(args.streams),
            args.interval,
            args.timeout,
            args.connect_timeout,
            args.duration,
            writer,
            int(args.seed),
            args.backoff,
            args.backoff_max,
        )
        counts = probe.run(stop)
    sys.stderr.write(
        f"retry probe {args.client}: streams {args.streams}, attempts {counts['attempt']}, "
        f"failed {counts['attempt_failed']}, breaks {counts['break']}, "
        f"recovered {counts['recovered']}, lost {counts['lost']}\n"
    )


if __name__ == "__main__":
    main()
