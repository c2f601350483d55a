"""The QUIC probe's process: N long QUIC connections on one asyncio loop (aioquic).

``python -m testbed.probes.quicclient`` (what the ``quic`` and ``quic-shared``
kinds of :mod:`testbed.probes.quic` start on every client)::

    python -m testbed.probes.quicclient --client paris --target 192.0.2.53 [--port 4433] \\
        [--connections 2] [--interval 0.2] [--idle-timeout 3.0] [--connect-timeout 1.0] \\
        [--cafile RUN/services/quic-credentials/cert.pem] [--no-early-data] \\
        [--rtt-every 1.0] [--duration S] [--seed N] --out RUN/records/quic-paris.jsonl

The bookkeeping is :class:`~testbed.probes.quic.ConnectionTracker` (pure);
this module is its I/O: a slot per connection, each a coroutine that opens a
connection (presenting the ticket of its last one, the first request as
0-RTT data when the ticket allows), sends every interval, and waits for the
end: a stateless reset (recognised here: aioquic does not), aioquic's idle
timeout, or the site's CONNECTION_CLOSE.  SIGTERM/SIGINT (a
:class:`~testbed.proc.StopSignal` read by the loop) or the end of
``--duration`` closes every connection (``closed`` records) and the process
exits 0.  It lives apart from :mod:`testbed.probes.quic` because that module
registers the kinds, and a module run with ``-m`` is imported twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import sys
from typing import Any, Dict, List, Optional, Tuple

from testbed import proc
from testbed.probes import defaults
from testbed.probes.linestream import Lines
from testbed.probes.quic import (
    ALPN,
    MAX_CONNECTIONS,
    QUIC_CONNECTIONS,
    QUIC_PORT,
    RECONNECT_DELAY,
    RETRY_DELAY,
    SERVER_NAME,
    ConnectionTracker,
    Record,
    aioquic_missing,
    start_offsets,
)
from testbed.probes.streamloop import Now, Phase, total_counts
from testbed.records import RecordWriter, WriteFault


class _Slot(Lines):
    """A tracker, its ticket, and the I/O state of its current connection."""

    def __init__(self, tracker: ConnectionTracker, interval: float):
        super().__init__(interval)
        self.tracker = tracker
        self.ticket: Any = None  # the session ticket of the last connection
        self.ticket_site: Optional[str] = None
        self.ticket_fresh = False  # got on the current connection: its site not known yet
        self.protocol: Any = None
        self.stream: Optional[int] = None
        self.early = False  # may send before the handshake completes (0-RTT)
        self.end: Optional[Tuple[str, str, Now]] = None
        self.wake = asyncio.Event()

    def ended(self, event: str, error: str) -> None:
        """The connection ended (first call wins); the slot's loop writes it."""
        if self.end is None:
            self.end = (event, error, Now.read())
            self.wake.set()


def _client_protocol() -> Any:
    """The probe's aioquic protocol class (aioquic imported here, not at module load)."""
    from aioquic.asyncio.protocol import QuicConnectionProtocol
    from aioquic.quic.events import (
        ConnectionTerminated,
        HandshakeCompleted,
        QuicEvent,
        StreamDataReceived,
    )

    from testbed.services.quic import is_stateless_reset

    class ProbeProtocol(QuicConnectionProtocol):
        """One connection of a slot: answers, handshake, ends, stateless resets."""

        def __init__(self, quic: Any, stream_handler: Any = None, *, slot: _Slot, probe: Any):
            super().__init__(quic, stream_handler)
            self.slot = slot
            self.probe = probe
            self.dead = False  # reset received: nothing more is sent (draining)
            self._in_timer = False

        def datagram_received(self, data: Any, addr: Any) -> None:
            if self.dead:
                return
            token = self._quic._peer_cid.stateless_reset_token
            if is_stateless_reset(bytes(data), token):
                self.abandon()
                self.slot.ended("stateless_reset", "stateless reset with the connection's token")
                return
            super().datagram_received(data, addr)

        def transmit(self) -> None:
            if not self.dead:
                super().transmit()

        def abandon(self) -> None:
            """Stop everything: no packet, no timer (after a reset, or when stopped)."""
            self.dead = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _handle_timer(self) -> None:
            self._in_timer = True
            try:
                super()._handle_timer()
            finally:
                self._in_timer = False

        def quic_event_received(self, event: QuicEvent) -> None:
            if isinstance(event, HandshakeCompleted):
                self.probe.established(self.slot, event.session_resumed, event.early_data_accepted)
            elif isinstance(event, StreamDataReceived):
                self.probe.received(self.slot, event.data)
            elif isinstance(event, ConnectionTerminated):
                reason = event.reason_phrase or f"error {event.error_code}"
                if self._in_timer and event.reason_phrase == "Idle timeout":
                    self.slot.ended("idle_timeout", "no packet from the server")
                else:
                    self.slot.ended("peer_closed", f"{reason} (code {event.error_code})")

    return ProbeProtocol


class QuicProbe:
    """The probe's loop: N connection slots on one asyncio loop."""

    def __init__(
        self,
        client: str,
        target: str,
        port: int,
        connections: int,
        interval: float,
        idle_timeout: float,
        connect_timeout: float,
        rtt_every: float,
        duration: Optional[float],
        writer: RecordWriter,
        seed: int = 0,
        cafile: Optional[str] = None,
        early_data: bool = True,
    ):
        """Prepare the probe (connections open in :meth:`run`).

        Args:
            client: client name.
            target: the service address.
            port: the QUIC service's UDP port.
            connections: how many connection slots.
            interval: seconds between requests on a connection.
            idle_timeout: the connection's QUIC idle timeout (seconds).
            connect_timeout: seconds allowed for the handshake.
            rtt_every: seconds between ``rtt`` summaries.
            duration: stop after this many seconds (None: until a signal).
            writer: where the records go.
            seed: seeds the slots' start offsets (with the client name).
            cafile: the run's certificate, to verify the sites (None: no check).
            early_data: send the first request as 0-RTT data when the ticket allows.
        """
        self.target = (target, port)
        self.idle_timeout = idle_timeout
        self.connect_timeout = connect_timeout
        self.duration = duration
        self.writer = writer
        self.cafile = cafile
        self.early_data = early_data
        self.slots = [
            _Slot(ConnectionTracker(client, k, rtt_every), interval) for k in range(connections)
        ]
        self.offsets = start_offsets(seed, client, connections, interval)
        self.fault: Optional[WriteFault] = None
        self._stop: Optional[asyncio.Event] = None

    def counts(self) -> Dict[str, int]:
        """The trackers' counts, summed over the slots."""
        return total_counts(s.tracker.counts for s in self.slots)

    def _write(self, records: List[Record]) -> None:
        if self.fault is not None:
            return
        try:
            for record in records:
                self.writer.write(record)
        except WriteFault as exc:  # raised again by run(): callbacks must not swallow it
            self.fault = exc
            if self._stop is not None:
                self._stop.set()

    # -- callbacks from the protocol ------------------------------------------
    def established(self, s: _Slot, resumed: bool, early_data: bool) -> None:
        """The handshake completed."""
        now = Now.read()
        s.tracker.established(now, resumed, early_data)
        if not s.early:  # nothing was sent yet: the first request leaves now
            s.next_send = now.mono
        s.wake.set()

    def received(self, s: _Slot, data: bytes) -> None:
        """Stream data: answers ``SITE SEQ``."""
        now = Now.read()
        for answer in s.answers(data):
            if answer is None:
                s.tracker.counts["ignored"] += 1
                continue
            first = s.tracker.phase is not Phase.UP
            self._write(s.tracker.answered(answer[0], answer[1], now))
            if first and s.ticket_fresh and s.tracker.phase is Phase.UP:
                s.ticket_site, s.ticket_fresh = s.tracker.site, False

    def new_ticket(self, s: _Slot, ticket: Any) -> None:
        """A session ticket arrived: the slot's next connection presents it."""
        s.ticket = ticket
        s.ticket_site = s.tracker.site
        s.ticket_fresh = s.tracker.site is None

    # -- one connection -----------------------------------------------------------
    def _configuration(self, ticket: Any) -> Any:
        import ssl

        from aioquic.quic.configuration import QuicConfiguration

        config = QuicConfiguration(
            is_client=True,
            alpn_protocols=[ALPN],
            server_name=SERVER_NAME,
            idle_timeout=self.idle_timeout,
            session_ticket=ticket,
        )
        if self.cafile:
            config.load_verify_locations(cafile=self.cafile)
        else:
            config.verify_mode = ssl.CERT_NONE
        return config

    async def _connection(self, s: _Slot, protocol_class: Any, stop: asyncio.Event) -> float:
        """One connection of a slot, from its handshake to its end.

        Returns:
            Seconds to wait before the slot's next connection.
        """
        from aioquic.quic.connection import QuicConnection

        loop = asyncio.get_running_loop()
        tracker = s.tracker
        ticket = s.ticket if s.ticket is not None and s.ticket.is_valid else None
        quic = QuicConnection(
            configuration=self._configuration(ticket),
            session_ticket_handler=functools.partial(self.new_ticket, s),
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.bind(("0.0.0.0", 0))
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: protocol_class(quic, slot=s, probe=self), sock=sock
        )
        s.protocol, s.end, s.inbuf = protocol, None, b""
        now = Now.read()
        tracker.connecting(now, s.ticket_site if ticket is not None else None)
        s.early = self.early_data and ticket is not None and ticket.max_early_data_size is not None
        try:
            protocol.connect(self.target)
            s.stream = quic.get_next_available_stream_id()
            s.next_send = now.mono
            while s.end is None and not stop.is_set():
                now = Now.read()
                wake: List[float] = []
                if tracker.phase is Phase.CONNECTING:
                    assert tracker.connect_started is not None
                    deadline = tracker.connect_started + self.connect_timeout
                    if now.mono >= deadline:
                        self._write([tracker.connect_failed("no handshake in time", now)])
                        return RETRY_DELAY
                    wake.append(deadline)
                if tracker.phase in (Phase.OPEN, Phase.UP) or s.early:
                    self._send(s, now)
                    wake.append(s.next_send)
                self._write(tracker.rtt_summary(now))
                due = tracker.rtt_deadline()
                if due is not None:
                    wake.append(due)
                s.wake.clear()
                timeout = max(0.0, min(wake) - Now.read().mono) if wake else None
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(s.wake.wait(), timeout)
            if s.end is not None:
                event, error, at = s.end
                if tracker.phase is Phase.UP:
                    self._write(tracker.ended(event, error, at))
                    return RECONNECT_DELAY
                self._write([tracker.connect_failed(f"{event}: {error}", at)])
                return RETRY_DELAY
            return 0.0
        finally:
            if stop.is_set() and s.end is None:
                protocol.close()  # CONNECTION_CLOSE to the site: the probe stops
            protocol.abandon()
            transport.close()
            s.protocol = None

    def _send(self, s: _Slot, now: Now) -> None:
        """Send the requests that are due on the slot's stream."""
        lines = s.due(now.mono, lambda: s.tracker.sent(now))
        if lines:
            s.protocol._quic.send_stream_data(s.stream, lines)
            s.protocol.transmit()

    async def _slot(self, s: _Slot, offset: float, stop: asyncio.Event) -> None:
        protocol_class = _client_protocol()
        delay = offset
        while not stop.is_set():
            if delay > 0:
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                    break
                except asyncio.TimeoutError:
                    pass
            delay = await self._connection(s, protocol_class, stop)

    # -- the loop ---------------------------------------------------------------
    async def run(self, signals: proc.StopSignal) -> Dict[str, int]:
        """Run the slots until the duration ends or a signal comes.

        Returns:
            The summed counts.

        Raises:
            WriteFault: the records could not be written.
        """
        loop = asyncio.get_running_loop()
        stop = self._stop = asyncio.Event()

        def on_signal() -> None:
            signals.drain()
            stop.set()

        loop.add_reader(signals.fileno(), on_signal)
        if signals.stopped:
            stop.set()
        if self.duration is not None:
            loop.call_later(self.duration, stop.set)
        try:
            await asyncio.gather(
                *(self._slot(s, o, stop) for s, o in zip(self.slots, self.offsets, strict=True))
            )
        finally:
            loop.remove_reader(signals.fileno())
        if self.fault is not None:
            raise self.fault
        if signals.count < 2:  # a second signal: leave at once
            now = Now.read()
            for s in self.slots:
                self._write(s.tracker.close(now))
        if self.fault is not None:
            raise self.fault
        return self.counts()


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog="python -m testbed.probes.quicclient",
        description="QUIC probe: long request/answer connections and how each one ends.",
    )
    proc.add_client(p, target_help=f"service address ({defaults.SERVICE_ADDRESS})")
    proc.add_port(p, QUIC_PORT, "UDP port")
    proc.add_stream_options(
        p,
        "--connections",
        MAX_CONNECTIONS,
        "concurrent connections",
        interval="seconds between requests",
        timeout="the connections' QUIC idle timeout, seconds",
        count=QUIC_CONNECTIONS,
        timeout_flag="--idle-timeout",
    )
    proc.add_connect_timeout(p, "seconds allowed for the handshake (default 1.0)")
    p.add_argument("--cafile", default=None, help="the sites' certificate (default: no check)")
    p.add_argument(
        "--no-early-data",
        action="store_true",
        help="never send 0-RTT data (resumed handshakes still use the ticket)",
    )
    proc.add_rtt_every(p, "seconds between RTT summaries")
    proc.add_run_options(p, seed="the connections' start offsets, with the client name")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.probes.quicclient``."""
    parser = _parser()
    logging.getLogger("quic").setLevel(logging.CRITICAL)  # aioquic's per-connection lines
    args = proc.arguments(parser, argv)
    missing = aioquic_missing()
    if missing is not None:
        proc.fail(parser.prog, missing, proc.EXIT_USAGE)
    with proc.recording(parser.prog, args.out) as (stop, writer):
        probe = QuicProbe(
            args.client,
            args.target,
            args.port,
            args.connections,
            args.interval,
            args.idle_timeout,
            args.connect_timeout,
            args.rtt_every,
            args.duration,
            writer,
            args.seed,
            args.cafile,
            not args.no_early_data,
        )
        counts = asyncio.run(probe.run(stop))
    sys.stderr.write(
        f"quic probe {args.client}: connections {args.connections}, "
        f"connected {counts['connected']}, stateless resets {counts['stateless_reset']}, "
        f"idle timeouts {counts['idle_timeout']}, closed by the site {counts['peer_closed']}, "
        f"handshake failures {counts['connect_failed']}, reconnects {counts['reconnects']}, "
        f"resumed {counts['resumed']}, 0-RTT {counts['early_data']}\n"
    )


if __name__ == "__main__":
    main()
