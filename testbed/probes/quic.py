"""QUIC probe: long QUIC connections to the service address, and how each one ends.

The probe kinds ``quic`` and ``quic-shared`` (and their services, registered
here too: :mod:`testbed.services.quic` on every site server).  ``quic``'s
sites each keep their own stateless-reset secret and session tickets, as
aioquic does out of the box; ``quic-shared``'s sites share both (the run's
secret, one ticket store), as an operator that shares a ticket key across
its sites would.  Both run on the same failure side by side, on their own
UDP ports (the run's ``traffic.quic_port`` and ``quic_shared_port``,
4433 and 4434 unless set: :data:`QUIC_PORT`, :data:`QUIC_SHARED_PORT`).

The probe is :mod:`testbed.probes.quicclient` (one process and one asyncio
loop per client, in its namespace); this module holds what needs no aioquic:
the kinds, their services, the per-connection bookkeeping and the outcome.

Each connection opens one bidirectional stream, sends ``SEQ\\n`` on it every
interval and reads ``SITE SEQ\\n`` answers.  When the client's route moves to
another site, that site has no state for the connection, and the connection
ends in one of three ways (records ``stateless_reset``, ``idle_timeout``,
``peer_closed``): the new site's stateless reset, recognised because it
carries the token the old site gave (a shared secret), or not (each site its
own); nothing recognised for the idle timeout (the TCP stream's ``tcp_timeout``); or the server's
CONNECTION_CLOSE.  Or it survives, when the route comes back before the idle
timeout.  The connection then reconnects, presenting the session ticket of
its last connection: ``connected`` says whether the new site resumed the
session (``resumed``), accepted 0-RTT data (``early_data``, the first request
sent before the handshake completes) and which site issued the ticket.

aioquic never recognises a stateless reset (aiortc/aioquic#555): the probe
compares the last 16 bytes of every datagram with the token of the
connection ID it uses (RFC 9000 section 10.3.1), and a match ends the
connection at once, without a packet more (the draining state).

Records (``kind: quic``; docs/transport.md): ``connected`` (first answer on a
connection: site, attempt, gap, since_answer, handshake_s, resumed,
early_data, ticket_site), ``rtt`` (a summary every ``--rtt-every`` seconds,
with ``stall``, the longest wait between two answers), the ends above (with
``silence``, seconds since the connection's last answer, and ``unanswered``,
its requests that never got an answer), ``connect_failed`` and ``closed``.
The per-connection logic is :class:`ConnectionTracker`: pure bookkeeping,
no I/O; its records are turned into a
:class:`~testbed.analysis.model.TransportOutcome` by :func:`quic_outcome`.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from testbed.probes import defaults
from testbed.probes.builtin import service_address
from testbed.probes.kinds import (
    ProbeContext,
    ProbeKind,
    ServiceKind,
    register,
    register_service,
)
from testbed.probes.streamloop import Now, Phase

#: UDP port of the ``quic`` service (each site its own secret and tickets), unless the
#: run's ``quic_port`` says otherwise.
QUIC_PORT = defaults.QUIC_PORT
#: UDP port of the ``quic-shared`` service (the sites share the secret and tickets), unless
#: the run's ``quic_shared_port`` says otherwise.
QUIC_SHARED_PORT = defaults.QUIC_SHARED_PORT
#: Long QUIC connections per client unless the run's ``quic_connections`` says otherwise.
QUIC_CONNECTIONS = defaults.QUIC_CONNECTIONS
MAX_CONNECTIONS = defaults.MAX_QUIC_CONNECTIONS
#: The application protocol the probe and the service agree on (TLS ALPN).
ALPN = "anycast-seq"
#: The name every site's certificate is for (the probes verify it).
SERVER_NAME = "anycast.test"
#: The run's QUIC credentials and shared ticket store, under ``RUN/services/``.
CREDENTIALS_DIR = "quic-credentials"
TICKETS_DIR = "quic-tickets"
#: Seconds between the end of a connection and the next one.
RECONNECT_DELAY = 0.1
#: Seconds between a failed handshake and the next attempt.
RETRY_DELAY = 0.2
#: How a connection that answered can end (record events).
END_EVENTS = ("stateless_reset", "idle_timeout", "peer_closed")

Record = Dict[str, Any]


def aioquic_missing() -> Optional[str]:
    """Why the QUIC probe and service cannot run here (None: aioquic imports)."""
    try:
        import aioquic  # noqa: F401  (the package alone: a version string)
    except ImportError:
        return "aioquic is not installed (pip install aioquic, or scripts/install.sh)"
    return None


def start_offsets(seed: int, client: str, connections: int, interval: float) -> List[float]:
    """Seconds each connection waits before its first handshake (same seed and client: same)."""
    rng = random.Random(f"quic:{seed}:{client}")
    return [round(rng.uniform(0, interval), 6) for _ in range(connections)]


# ---------------------------------------------------------------- the tracker
class ConnectionTracker:
    """The life of one connection slot: handshakes, answers, ends, RTT summaries.

    Pure bookkeeping, no I/O: the probe tells it what happened and when (a
    :class:`~testbed.probes.tcp.Now`) and it returns the records to write.
    ``gap`` on ``connected`` is from the end of the last connection that had
    answered to this first answer (as the TCP probe's); ``since_answer`` from
    that connection's last answer, so it includes the wait for the end to be
    noticed (an idle timeout) -- the time the client was without service.
    """

    def __init__(self, client: str, conn: int, rtt_every: float = 1.0):
        """Start a slot with no connection.

        Args:
            client: the client name (in every record).
            conn: the slot number (from 0).
            rtt_every: seconds between ``rtt`` summaries.
        """
        self.client = client
        self.conn = conn
        self.rtt_every = rtt_every
        self.phase = Phase.DOWN
        self.site: Optional[str] = None
        self.attempt = 0  # connections that answered
        self.seq = 0  # next sequence number (counts across connections)
        self.outstanding: Dict[int, float] = {}  # seq -> monotonic send time
        self.down_since: Optional[Now] = None
        self.last_answer: Optional[Now] = None  # on any connection of the slot
        self.connect_started: Optional[float] = None
        self.handshake_s: Optional[float] = None
        self.resumed: Optional[bool] = None
        self.early_data: Optional[bool] = None
        self.ticket_site: Optional[str] = None
        self._answered_here: Optional[Now] = None  # last answer on this connection
        self._rtt: List[float] = []
        self._stall = 0.0
        self._rtt_due: Optional[float] = None
        self.counts: Dict[str, int] = {
            "connected": 0,
            "reconnects": 0,
            "stateless_reset": 0,
            "idle_timeout": 0,
            "peer_closed": 0,
            "connect_failed": 0,
            "site_changed": 0,
            "answers": 0,
            "ignored": 0,
            "resumed": 0,
            "early_data": 0,
        }

    def _record(self, now: Now, event: str, **fields: Any) -> Record:
        if event in self.counts:
            self.counts[event] += 1
        return {
            "t": now.t,
            "kind": "quic",
            "client": self.client,
            "conn": self.conn,
            "event": event,
            "site": self.site,
            **fields,
        }

    def _reset(self) -> None:
        self.phase = Phase.DOWN
        self.site = None
        self.outstanding.clear()
        self.connect_started = None
        self._answered_here = None

    # -- connection life -------------------------------------------------
    def connecting(self, now: Now, ticket_site: Optional[str] = None) -> None:
        """A handshake starts (``ticket_site``: who issued the ticket it presents, if any)."""
        self._reset()
        self.phase = Phase.CONNECTING
        self.connect_started = now.mono
        self.handshake_s = self.resumed = self.early_data = None
        self.ticket_site = ticket_site

    def connect_failed(self, error: str, now: Now) -> Record:
        """The handshake failed or did not complete in time: a ``connect_failed`` record."""
        self._reset()
        return self._record(now, "connect_failed", error=error)

    def established(self, now: Now, resumed: bool, early_data: bool) -> None:
        """The handshake completed (``resumed``: a session ticket was accepted)."""
        if self.connect_started is not None:
            self.handshake_s = round(now.mono - self.connect_started, 6)
        self.resumed, self.early_data = bool(resumed), bool(early_data)
        if self.phase is Phase.CONNECTING:
            self.phase = Phase.OPEN

    def sent(self, now: Now) -> int:
        """A request leaves on the current connection; returns its sequence number."""
        seq = self.seq
        self.seq += 1
        self.outstanding[seq] = now.mono
        return seq

    def answered(self, site: str, seq: int, now: Now) -> List[Record]:
        """An answer ``SITE SEQ`` arrived.

        Returns:
            ``connected`` for a connection's first answer; an ``rtt`` summary
            and ``site_changed`` if another site answers on the same
            connection; otherwise nothing.
        """
        live = (Phase.CONNECTING, Phase.OPEN, Phase.UP)
        if self.phase not in live or seq not in self.outstanding:
            self.counts["ignored"] += 1
            return []
        sent = self.outstanding[seq]
        for old in [s for s in self.outstanding if s <= seq]:
            del self.outstanding[old]
        self.counts["answers"] += 1
        out: List[Record] = []
        if self.phase is not Phase.UP:
            self.phase = Phase.UP
            self.site = site
            self.attempt += 1
            gap = since = None
            if self.down_since is not None:
                gap = round(now.mono - self.down_since.mono, 6)
                self.counts["reconnects"] += 1
            if self.last_answer is not None:
                since = round(now.mono - self.last_answer.mono, 6)
            self.counts["resumed"] += bool(self.resumed)
            self.counts["early_data"] += bool(self.early_data)
            out.append(
                self._record(
                    now,
                    "connected",
                    attempt=self.attempt,
                    gap=gap,
                    since_answer=since,
                    handshake_s=self.handshake_s,
                    resumed=self.resumed,
                    early_data=self.early_data,
                    ticket_site=self.ticket_site,
                )
            )
            self.down_since = None
            self._rtt_due = now.mono + self.rtt_every
        else:
            if self._answered_here is not None:
                self._stall = max(self._stall, now.mono - self._answered_here.mono)
            if site != self.site:
                summary = self._summary(now)
                if summary is not None:
                    out.append(summary)
                previous, self.site = self.site, site
                out.append(self._record(now, "site_changed", previous=previous))
        self._rtt.append(now.mono - sent)
        self.last_answer = self._answered_here = now
        return out

    def ended(self, event: str, error: str, now: Now) -> List[Record]:
        """The connection ended: ``stateless_reset``, ``idle_timeout`` or ``peer_closed``.

        Returns:
            The pending ``rtt`` summary and the event's record (``silence``:
            seconds since this connection's last answer; ``unanswered``: its
            requests without an answer); for a connection that never answered,
            a ``connect_failed`` record instead.
        """
        if self.phase is not Phase.UP:
            return [self.connect_failed(f"{event}: {error}", now)]
        out = []
        summary = self._summary(now)
        if summary is not None:
            out.append(summary)
        silence = None
        if self._answered_here is not None:
            silence = round(now.mono - self._answered_here.mono, 6)
        out.append(
            self._record(now, event, error=error, silence=silence, unanswered=len(self.outstanding))
        )
        self.down_since = now
        self._reset()
        return out

    def close(self, now: Now) -> List[Record]:
        """The probe stops the connection: the pending summary and ``closed`` if it was up."""
        out = []
        if self.phase is Phase.UP:
            summary = self._summary(now)
            if summary is not None:
                out.append(summary)
            out.append(self._record(now, "closed"))
        self._reset()
        return out

    # -- summaries -------------------------------------------------------
    def rtt_deadline(self) -> Optional[float]:
        """Monotonic time of the next ``rtt`` summary (None while not up)."""
        return self._rtt_due if self.phase is Phase.UP else None

    def rtt_summary(self, now: Now) -> List[Record]:
        """The periodic ``rtt`` summary when it is due (nothing if not, or no answers came)."""
        due = self.rtt_deadline()
        if due is None or now.mono < due:
            return []
        self._rtt_due = due + self.rtt_every
        if self._rtt_due <= now.mono:
            self._rtt_due = now.mono + self.rtt_every
        summary = self._summary(now)
        return [summary] if summary is not None else []

    def _summary(self, now: Now) -> Optional[Record]:
        if not self._rtt:
            return None
        rtts, self._rtt = self._rtt, []
        stall, self._stall = self._stall, 0.0
        return self._record(
            now,
            "rtt",
            count=len(rtts),
            min=round(min(rtts), 6),
            avg=round(sum(rtts) / len(rtts), 6),
            max=round(max(rtts), 6),
            stall=round(stall, 6),
        )


# ---------------------------------------------------------------- the outcome
def quic_outcome(records: List[Record], kind: str = "quic") -> Any:
    """A client's :class:`~testbed.analysis.model.TransportOutcome` from its QUIC records (pure).

    A flow is one connection that answered (``connected``).  It ends by
    ``stateless_reset`` (counted in ``reset``), ``idle_timeout``
    (``timed_out``) or ``peer_closed``; one still up at the end (``closed``)
    survived.  A ``connected`` after a break is a recovery, after
    ``since_answer`` seconds (from the last answer before the break: the time
    without service, so an idle timeout's wait counts).  ``lost``: requests
    that never got an answer on connections that ended (messages).
    ``longest_gap_s``: the longest wait between two answers of a slot
    (across a reconnect, or a stall on a connection that survived).

    ``ends`` has, besides the ends and ``survived``, how the connections'
    handshakes went: ``resumed`` (a session ticket accepted),
    ``full_handshake`` (the others) and ``early_data`` (0-RTT accepted) --
    counts of connections, not ends (TransportOutcome has no better field).
    """
    from testbed.analysis.model import TransportOutcome

    out = TransportOutcome(kind=kind, lost_unit="messages")
    up: Dict[Any, bool] = {}
    ends: Dict[str, int] = {}
    handshakes = {"resumed": 0, "full_handshake": 0, "early_data": 0}
    gaps: List[float] = []
    lost = 0
    for r in records:
        event, conn = r.get("event"), r.get("conn")
        if event == "connected":
            out.flows += 1
            up[conn] = True
            handshakes["resumed" if r.get("resumed") else "full_handshake"] += 1
            handshakes["early_data"] += bool(r.get("early_data"))
            since = r.get("since_answer")
            if since is not None:
                gaps.append(float(since))
            if r.get("gap") is not None:
                out.recovered += 1
                took = since if since is not None else r["gap"]
                out.recover_s = [*out.recover_s, round(float(took), 3)]
        elif event == "rtt" and r.get("stall"):
            gaps.append(float(r["stall"]))
        elif event in END_EVENTS and up.pop(conn, False):
            ends[event] = ends.get(event, 0) + 1
            lost += int(r.get("unanswered") or 0)
            if r.get("silence") is not None:
                gaps.append(float(r["silence"]))
        elif event == "closed":
            up.pop(conn, None)
    out.reset = ends.get("stateless_reset", 0)
    out.timed_out = ends.get("idle_timeout", 0)
    out.survived = out.flows - sum(ends.values())
    out.lost = lost
    out.longest_gap_s = round(max(gaps), 3) if gaps else None
    out.ends = {**ends, "survived": out.survived, **handshakes}
    return out


# ------------------------------------------------------- kinds and services
def credentials_dir(run: Path) -> Path:
    """The run's QUIC credentials folder (made by the first service that starts)."""
    return run / "services" / CREDENTIALS_DIR


def quic_port(params: Any, shared: bool) -> int:
    """The UDP port of the ``quic`` (or, ``shared``, ``quic-shared``) service in a run's traffic."""
    return int(params.quic_shared_port if shared else params.quic_port)


@register_service("quic")
class QuicService(ServiceKind):
    """The QUIC service, each site with its own reset secret and tickets (UDP ``quic_port``)."""

    process = "quic"
    shared = False

    def argv(self, topo: Any, host: Any, run: Path, params: Any) -> List[str]:
        """The QUIC service on the service address; ``quic-shared`` adds the shared flags."""
        argv = [
            sys.executable, "-m", "testbed.services.quic", "--site", host.site,
            "--bind", service_address(topo), "--port", str(quic_port(params, self.shared)),
            "--credentials", str(credentials_dir(run)),
        ]  # fmt: skip
        if self.shared:
            tickets = run / "services" / TICKETS_DIR
            argv += ["--shared-reset", "--shared-tickets", "--tickets", str(tickets)]
        return argv

    def problem(self, testbed: Any, host: Any, params: Any) -> Optional[str]:
        """Something listens on the service's UDP port, or the problem."""
        port = quic_port(params, self.shared)
        if not testbed.cmd(host.name, f"ss -Hlun 'sport = :{port}'").strip():
            return f"{host.name}: {self.name} service not listening on udp {port}"
        return None


@register_service("quic-shared")
class QuicSharedService(QuicService):
    """The QUIC service with the run's shared reset secret and ticket store
    (UDP ``quic_shared_port``)."""

    process = "quic-shared"
    shared = True


@register("quic")
class QuicKind(ProbeKind):
    """Long QUIC connections (aioquic) to sites that each keep their own state."""

    record_prefix = "quic"
    services = ("quic",)
    process = "quic-probe"
    long_lived = True
    claim = (
        "QUIC survives a client's address change, not a site change: the new site has "
        "no state for the connection"
    )
    shared = False

    @classmethod
    def unavailable(cls, topo: Any) -> Optional[str]:
        """aioquic must be importable (the probe and the service both use it)."""
        return aioquic_missing()

    def argv(self, ctx: ProbeContext) -> List[str]:
        """The QUIC probe's command line: the run's QUIC port and connections (interval
        and idle timeout: the TCP stream's)."""
        p = ctx.params
        cafile = credentials_dir(ctx.records.parent) / "cert.pem"
        return [
            sys.executable, "-m", "testbed.probes.quicclient", "--client", ctx.client,
            "--target", service_address(ctx.topo), "--port", str(quic_port(p, self.shared)),
            "--connections", str(p.quic_connections), "--interval", str(p.tcp_interval),
            "--idle-timeout", str(p.tcp_timeout), "--cafile", str(cafile),
            "--seed", str(p.seed), "--out", ctx.out(self.record_prefix),
        ]  # fmt: skip

    @classmethod
    def outcome(cls, records: List[Record]) -> Any:
        """Each connection a flow (:func:`quic_outcome`)."""
        return quic_outcome(records, cls.name)


@register("quic-shared")
class QuicSharedKind(QuicKind):
    """Long QUIC connections to sites sharing a reset secret and a ticket store."""

    record_prefix = "quicshared"
    services = ("quic-shared",)
    process = "quicshared-probe"
    claim = (
        "sites sharing QUIC state: the stateless reset ends the connection at once and "
        "the session resumes at the new site"
    )
    shared = True
