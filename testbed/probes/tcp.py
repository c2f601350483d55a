"""TCP probe: long-lived streams to the service address, one record per state change.

Runs in a client's namespace, one process per client::

    python -m testbed.probes.tcp --client paris --target 192.0.2.53 [--port 8053] \\
        --streams 2 [--interval 0.2] [--timeout 3.0] [--connect-timeout 1.0] \\
        [--rtt-every 1.0] [--duration S] [--seed N] --out RUN/records/tcp-paris.jsonl

Each stream is one TCP connection (TCP_NODELAY) that sends ``SEQ\\n`` every
interval and reads ``SITE SEQ\\n`` answers (:mod:`testbed.services.stream`).
Traffic flows both ways all the time, so when the anycast route moves, the
next segment reaches a site that has no such connection and answers with a
RST: the stream records ``reset`` and reconnects, to the new site.

Records (docs/records.md): ``connected`` (the first answer on a new
connection: site, attempt, gap), ``rtt`` (a summary every ``--rtt-every``
seconds), ``reset`` (ECONNRESET or EPIPE), ``timeout`` (no answer for
``--timeout`` seconds), ``eof`` (the server closed the connection: FIN),
``connect_failed`` (refused, unreachable, or no handshake within
``--connect-timeout``), ``site_changed`` (another site answers on the same
connection) and ``closed`` (the probe stopped a stream that was up).
After a reset, timeout or eof the stream reconnects after
:data:`RECONNECT_DELAY`; failed attempts are retried every
:data:`RETRY_DELAY` until the probe stops, one ``connect_failed`` record each.

One process, non-blocking sockets and one ``select`` loop that sleeps until
the next send, deadline or answer (:class:`~testbed.probes.streamloop.StreamLoop`,
shared with the other stream probes).  The per-stream logic is
:class:`StreamTracker`: pure bookkeeping fed with events and times, no I/O;
a stream's socket is a :class:`~testbed.probes.linestream.LineStream`.
SIGTERM/SIGINT or the end of ``--duration`` closes every stream (a
``closed`` record for each stream that is up) and the process exits 0.

Streams do not all open at once: each one's first connection waits a random
offset within one interval (:func:`start_offsets`), drawn from a generator
seeded with ``--seed`` and the client name, so the same seed starts the
streams at the same offsets again.
"""

from __future__ import annotations

import random
import sys
from typing import Any, Dict, List, Optional

from testbed import proc
from testbed.probes import defaults
from testbed.probes.streamloop import Now, Phase, StreamLoop, TrackedStream
from testbed.records import RecordWriter

STREAM_PORT = defaults.STREAM_PORT
MAX_STREAMS = 64
#: Seconds between losing a connection (reset, timeout, eof) and reconnecting.
RECONNECT_DELAY = 0.1
#: Seconds between the end of a failed connection attempt and the next attempt.
RETRY_DELAY = 0.2


def start_offsets(seed: int, client: str, streams: int, interval: float) -> List[float]:
    """Seconds each stream waits before its first connection (same seed and client: same).

    Args:
        seed: the run's seed.
        client: the client name.
        streams: how many streams.
        interval: seconds between two requests (each offset is below it).
    """
    rng = random.Random(f"tcp:{seed}:{client}")
    return [round(rng.uniform(0, interval), 6) for _ in range(streams)]


class StreamTracker:
    """The life of one stream: connections, answers, timeouts, gaps, RTT summaries.

    Pure bookkeeping, no I/O: the probe tells it what happened and when
    (a :class:`Now`), and it returns the records to write.  ``t`` of a
    record is the ``now`` of the call that produced it; durations (gap, RTT,
    timeout) are measured on the monotonic clock.

    ``gap`` on a ``connected`` record is the time without service: from the
    event that ended the last connection that had answered (reset, timeout,
    eof) to this connection's first answer; failed attempts and connections
    that never answered in between do not restart it.  ``since_answer`` is
    the time from the last answer of that connection to this first answer
    (for a timeout it includes the timeout itself).
    """

    def __init__(self, client: str, stream: int, timeout: float, rtt_every: float = 1.0):
        """Start a stream with no connection.

        Args:
            client: the client name (in every record).
            stream: the stream number (from 0).
            timeout: seconds without an answer after which a connection is
                given up (a ``timeout`` record).
            rtt_every: seconds between ``rtt`` summaries.
        """
        self.client = client
        self.stream = stream
        self.timeout = timeout
        self.rtt_every = rtt_every
        self.phase = Phase.DOWN
        self.site: Optional[str] = None  # who answers on the current connection
        self.attempt = 0  # connections that answered
        self.seq = 0  # next sequence number (counts across connections)
        self.outstanding: Dict[int, float] = {}  # seq -> monotonic send time, in order
        self.down_since: Optional[Now] = None  # end of the last connection that answered
        self.last_answer: Optional[Now] = None
        self.started: Optional[float] = None  # monotonic start of the handshake
        self._rtt: List[float] = []
        self._rtt_due: Optional[float] = None
        self.counts: Dict[str, int] = {
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

    def _record(self, now: Now, event: str, **fields: Any) -> Dict[str, Any]:
        if event in self.counts:
            self.counts[event] += 1
        return {
            "t": now.t,
            "kind": "tcp",
            "client": self.client,
            "stream": self.stream,
            "event": event,
            "site": self.site,
            **fields,
        }

    # -- connection life -------------------------------------------------

    def connecting(self, now: Now) -> None:
        """A connection attempt starts (the SYN leaves)."""
        self.phase = Phase.CONNECTING
        self.site = None
        self.outstanding.clear()
        self.started = now.mono

    def connect_failed(self, error: str, now: Now) -> Dict[str, Any]:
        """The attempt failed: refused, unreachable, or no handshake in time.

        Args:
            error: the errno name (``ECONNREFUSED``, ``ETIMEDOUT``, ...).
            now: when it failed.

        Returns:
            A ``connect_failed`` record (``site`` null).
        """
        self.phase = Phase.DOWN
        self.site = None
        self.started = None
        return self._record(now, "connect_failed", error=error)

    def established(self, now: Now) -> None:
        """The TCP handshake completed; the connection waits for its first answer."""
        self.phase = Phase.OPEN
        self.site = None
        self.outstanding.clear()
        self.started = None

    def sent(self, now: Now) -> int:
        """A request leaves on the current connection.

        Returns:
            Its sequence number (the line to send is ``f"{seq}\\n"``).
        """
        seq = self.seq
        self.seq += 1
        self.outstanding[seq] = now.mono
        return seq

    def answered(self, site: str, seq: int, now: Now) -> List[Dict[str, Any]]:
        """An answer ``SITE SEQ`` arrived on the current connection.

        Args:
            site: the site named in the answer.
            seq: the sequence number it answers.
            now: when it was read.

        Returns:
            ``connected`` for the first answer on a connection; an ``rtt``
            summary and ``site_changed`` if another site answers on the same
            connection; otherwise nothing.
        """
        if self.phase not in (Phase.OPEN, Phase.UP) or seq not in self.outstanding:
            self.counts["ignored"] += 1
            return []
        sent = self.outstanding[seq]
        for old in [s for s in self.outstanding if s <= seq]:  # answers come in order
            del self.outstanding[old]
        self.counts["answers"] += 1
        out: List[Dict[str, Any]] = []
        if self.phase is Phase.OPEN:
            self.phase = Phase.UP
            self.site = site
            self.attempt += 1
            gap = since = None
            if self.down_since is not None:
                gap = round(now.mono - self.down_since.mono, 6)
                self.counts["reconnects"] += 1
            if self.last_answer is not None:
                since = round(now.mono - self.last_answer.mono, 6)
            out.append(
                self._record(now, "connected", attempt=self.attempt, gap=gap, since_answer=since)
            )
            self.down_since = None
            self._rtt_due = now.mono + self.rtt_every
        elif site != self.site:
            summary = self._summary(now)
            if summary is not None:
                out.append(summary)
            previous, self.site = self.site, site
            out.append(self._record(now, "site_changed", previous=previous))
        self._rtt.append(now.mono - sent)
        self.last_answer = now
        return out

    def lost(self, event: str, error: str, now: Now) -> List[Dict[str, Any]]:
        """The connection ended: ``reset``, ``timeout`` or ``eof``.

        Args:
            event: ``reset``, ``timeout`` or ``eof``.
            error: what happened (``ECONNRESET``, ``no answer for 3.0 s``...).
            now: when it was noticed.

        Returns:
            The pending ``rtt`` summary (if any) and the event's record, whose
            ``site`` is the connection's site (null if it never answered).
        """
        out = []
        summary = self._summary(now)
        if summary is not None:
            out.append(summary)
        out.append(self._record(now, event, error=error))
        if self.phase is Phase.UP:
            self.down_since = now
        self.phase = Phase.DOWN
        self.site = None
        self.outstanding.clear()
        return out

    def close(self, now: Now) -> List[Dict[str, Any]]:
        """The probe stops the stream.

        Returns:
            The pending ``rtt`` summary and ``closed`` if the stream was up;
            nothing for a stream that was down or not answered yet.
        """
        out = []
        if self.phase is Phase.UP:
            summary = self._summary(now)
            if summary is not None:
                out.append(summary)
            out.append(self._record(now, "closed"))
        self.phase = Phase.DOWN
        self.site = None
        self.outstanding.clear()
        return out

    # -- deadlines ---------------------------------------------------------

    def answer_deadline(self) -> Optional[float]:
        """Monotonic time at which the oldest unanswered request times out (None: none)."""
        if self.phase not in (Phase.OPEN, Phase.UP) or not self.outstanding:
            return None
        return next(iter(self.outstanding.values())) + self.timeout

    def expire(self, now: Now) -> List[Dict[str, Any]]:
        """Give up the connection if a request has waited ``timeout`` seconds.

        Returns:
            The records of :meth:`lost` (event ``timeout``), or nothing.
        """
        deadline = self.answer_deadline()
        if deadline is None or now.mono < deadline:
            return []
        return self.lost("timeout", f"no answer for {float(self.timeout)} s", now)

    def rtt_deadline(self) -> Optional[float]:
        """Monotonic time of the next ``rtt`` summary (None while not up)."""
        return self._rtt_due if self.phase is Phase.UP else None

    def rtt_summary(self, now: Now) -> List[Dict[str, Any]]:
        """The periodic ``rtt`` summary, when it is due.

        Returns:
            An ``rtt`` record with count/min/avg/max of the answers since the
            previous summary (none if no answer came), or nothing if not due.
        """
        due = self.rtt_deadline()
        if due is None or now.mono < due:
            return []
        # keep the schedule; skip ahead if stalled for more than a period
        self._rtt_due = due + self.rtt_every
        if self._rtt_due <= now.mono:
            self._rtt_due = now.mono + self.rtt_every
        summary = self._summary(now)
        return [summary] if summary is not None else []

    def _summary(self, now: Now) -> Optional[Dict[str, Any]]:
        if not self._rtt:
            return None
        rtts, self._rtt = self._rtt, []
        return self._record(
            now,
            "rtt",
            count=len(rtts),
            min=round(min(rtts), 6),
            avg=round(sum(rtts) / len(rtts), 6),
            max=round(max(rtts), 6),
        )


class _Stream(TrackedStream):
    """A tracker and the I/O state of its current connection."""

    tracker: StreamTracker


class TcpProbe(StreamLoop[_Stream]):
    """The probe's loop: N streams, non-blocking sockets, one ``select``
    (:class:`~testbed.probes.streamloop.StreamLoop`)."""

    CONNECT_RETRY = RETRY_DELAY
    RECONNECT = RECONNECT_DELAY

    def __init__(
        self,
        client: str,
        target: str,
        port: int,
        streams: int,
        interval: float,
        timeout: float,
        connect_timeout: float,
        rtt_every: float,
        duration: Optional[float],
        writer: RecordWriter,
        seed: int = 0,
    ):
        """Prepare the probe (sockets are opened by :meth:`run`).

        Args:
            client: client name.
            target: the service address.
            port: the stream service's TCP port.
            streams: how many concurrent streams.
            interval: seconds between requests on a connection.
            timeout: seconds without an answer before a connection is given up.
            connect_timeout: seconds allowed for the TCP handshake.
            rtt_every: seconds between ``rtt`` summaries of a stream.
            duration: stop after this many seconds (None: until a signal).
            writer: where the records go.
            seed: seeds the streams' start offsets (with the client name).
        """
        self.target = (target, port)
        self.connect_timeout = connect_timeout
        self.duration = duration
        self.writer = writer
        self.streams = [
            _Stream(StreamTracker(client, k, timeout, rtt_every), interval) for k in range(streams)
        ]
        self.offsets = start_offsets(seed, client, streams, interval)

    def _start(self, s: _Stream) -> None:
        s.tracker.connecting(Now.read())
        self._connect(s, self.target)

    def _live(self, s: _Stream, now: Now) -> None:
        self._write(s.tracker.rtt_summary(now))

    def _deadlines(self, s: _Stream) -> List[Optional[float]]:
        return [s.tracker.answer_deadline(), s.tracker.rtt_deadline()]


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog="python -m testbed.probes.tcp",
        description="TCP probe: long-lived request/answer streams, one record per state change.",
    )
    proc.add_client(p)
    proc.add_port(p, STREAM_PORT, "TCP port")
    proc.add_stream_options(
        p,
        "--streams",
        MAX_STREAMS,
        "concurrent streams",
        interval="seconds between requests on a stream",
        timeout="seconds without an answer before a connection is given up",
    )
    proc.add_connect_timeout(p, "seconds allowed for the TCP handshake (default 1.0)")
    proc.add_rtt_every(p, "seconds between RTT summaries of a stream")
    proc.add_run_options(p, seed="the streams' start offsets, with the client name")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.probes.tcp``."""
    parser = _parser()
    args = proc.arguments(parser, argv)
    with proc.recording(parser.prog, args.out) as (stop, writer):
        probe = TcpProbe(
            args.client,
            args.target,
            args.port,
            args.streams,
            args.interval,
            args.timeout,
            args.connect_timeout,
            args.rtt_every,
            args.duration,
            writer,
            args.seed,
        )
        counts = probe.run(stop)
    sys.stderr.write(
        f"tcp probe {args.client}: streams {args.streams}, connected {counts['connected']}, "
        f"resets {counts['reset']}, timeouts {counts['timeout']}, eofs {counts['eof']}, "
        f"connect failures {counts['connect_failed']}, reconnects {counts['reconnects']}\n"
    )


if __name__ == "__main__":
    main()
