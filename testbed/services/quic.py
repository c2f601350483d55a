"""QUIC service of a site: an aioquic server answering every line ``SEQ`` with ``SITE SEQ``.

The client side is :mod:`testbed.probes.quic` (protocol as the stream
service's, :mod:`testbed.services.stream`, on a bidirectional QUIC stream).
One asyncio process per server, on the site's service address, on the
run's UDP port ``traffic.quic_port`` (``quic``, default
:data:`~testbed.probes.quic.QUIC_PORT`) or ``traffic.quic_shared_port``
(``quic-shared``, default :data:`~testbed.probes.quic.QUIC_SHARED_PORT`),
which the traffic passes as ``--port``::

    python -m testbed.services.quic --site lon --credentials RUN/services/quic-credentials \\
        [--bind 192.0.2.53] [--port 4433] [--shared-tickets --tickets DIR] [--shared-reset]

What aioquic (1.7) does not do, this service adds, so that the question
"how does a QUIC connection end when its client's route moves to a site
that never saw it" has a real answer:

- **Stateless resets** (RFC 9000 section 10.3).  aioquic drops a short-header
  packet for a connection it does not know and sends nothing; its reset
  tokens are random per connection ID and it never recognises a reset it
  receives (maintainer, aiortc/aioquic#555).  Here every connection ID's
  token is ``HMAC(secret, cid)`` (:func:`reset_token`), and a packet for an
  unknown connection gets a stateless reset built from that secret
  (:func:`stateless_reset`).  With ``--shared-reset`` the secret is the
  run's, the same at every site (as an operator's sites share it), so the
  new site's reset carries the token the client was given by the old site
  and the client recognises it; without it each site draws its own, the
  reset is not recognised and the connection ends by its idle timeout.
- **Resumption across sites.**  aioquic's session tickets are stateful: the
  ticket is a random id and the session's state stays with the server (its
  ticket store).  With ``--shared-tickets`` the store is a folder every site
  uses (:class:`SharedTickets`: each ticket's state sealed with AES-GCM under
  a key from the run's secret, as an operator's sites share a ticket key);
  without it each site keeps its own tickets in memory, and a client that
  comes back at another site makes a full handshake.

The certificate is one self-signed certificate for :data:`SERVER_NAME`,
generated once per run (:func:`credentials`) and used by every site; the
probes verify it.  SIGTERM or SIGINT closes every connection
(CONNECTION_CLOSE), the process logs what it did and exits 0.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import functools
import hashlib
import hmac
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Union

from testbed import proc
from testbed.probes.quic import ALPN, QUIC_PORT, SERVER_NAME
from testbed.services.stream import answer

#: Length of the connection IDs the servers issue (aioquic's default).
CID_LENGTH = 8
#: RFC 9000 section 10.3: a stateless reset token is 16 bytes, a reset at least 21.
TOKEN_LENGTH = 16
MIN_RESET = 21
#: A reset answering a packet of up to this size is one byte shorter than it (section 10.3).
MAX_RESET = 43
#: Stateless resets sent per second at most (a token bucket: no reset storms).
RESET_RATE = 100.0
#: Seconds a server keeps a silent connection (the clients' idle timeout is shorter).
SERVER_IDLE_TIMEOUT = 30.0
#: Longest line accepted on a stream; a longer one is dropped.
MAX_LINE = 256
#: The run's credentials: certificate, its key, and the sites' shared secret.
CERT, KEY, SECRET = "cert.pem", "key.pem", "secret"


# ------------------------------------------------------------------ credentials
class Credentials(NamedTuple):
    """The files of a run's QUIC credentials (:func:`credentials`)."""

    cert: Path
    key: Path
    secret: Path


def credentials(folder: Union[str, Path], days: int = 30) -> Credentials:
    """The run's certificate, key and shared secret in ``folder``, made once.

    A self-signed ECDSA P-256 certificate for :data:`SERVER_NAME` (valid from
    a day ago for ``days`` days), its key, and 32 random bytes every site may
    share (``--shared-reset``, ``--shared-tickets``).  Several servers starting
    at once make them at most once: each writes a folder of its own and
    renames it into place; the first rename wins and the others use its files.

    Args:
        folder: where the files are (created with its parent if missing).
        days: how long the certificate is valid.

    Returns:
        The three paths.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = Path(folder)
    out = Credentials(folder / CERT, folder / KEY, folder / SECRET)
    if all(p.exists() for p in out):
        return out
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{folder.name}.{os.getpid()}.{time.monotonic_ns()}"
    tmp.mkdir(mode=0o700)
    try:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256())
        )
        (tmp / CERT).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (tmp / KEY).write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        (tmp / SECRET).write_bytes(os.urandom(32))
        os.chmod(tmp, 0o755)  # the certificate is public; key and secret stay 0600 by umask
        for sensitive in (KEY, SECRET):
            os.chmod(tmp / sensitive, 0o600)
        try:
            os.rename(tmp, folder)
        except OSError:
            if not all(p.exists() for p in out):  # not lost to another server: a real error
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


# ---------------------------------------------------------------- resets (wire)
def reset_token(secret: bytes, cid: bytes) -> bytes:
    """The stateless reset token of connection ID ``cid`` under ``secret`` (16 bytes)."""
    return hmac.new(secret, b"quic reset token\0" + cid, hashlib.sha256).digest()[:TOKEN_LENGTH]


def stateless_reset(token: bytes, trigger: int) -> Optional[bytes]:
    """A stateless reset answering a packet of ``trigger`` bytes (RFC 9000 section 10.3).

    Unpredictable bits with the short-header form (``0b01`` on top) and the
    token as its last 16 bytes, one byte shorter than the packet it answers
    (at most :data:`MAX_RESET`), so two endpoints can never reset each other
    in a loop.

    Returns:
        The datagram, or None when the trigger is too small to answer.
    """
    size = min(trigger - 1, MAX_RESET)
    if size < MIN_RESET:
        return None
    head = bytearray(os.urandom(size - TOKEN_LENGTH))
    head[0] = 0x40 | (head[0] & 0x3F)
    return bytes(head) + token


def is_stateless_reset(datagram: bytes, token: Optional[bytes]) -> bool:
    """True if ``datagram`` is a stateless reset carrying ``token`` (section 10.3.1)."""
    if not token or len(datagram) < MIN_RESET or datagram[0] & 0x80:
        return False
    return hmac.compare_digest(datagram[-TOKEN_LENGTH:], token)


def short_header_cid(datagram: bytes) -> Optional[bytes]:
    """The destination connection ID of a short-header packet (None: not one, or too short)."""
    if len(datagram) < 1 + CID_LENGTH or datagram[0] & 0x80 or not datagram[0] & 0x40:
        return None
    return datagram[1 : 1 + CID_LENGTH]


class Bucket:
    """A token bucket: at most ``rate`` actions a second, bursts of ``rate``."""

    def __init__(self, rate: float):
        self.rate = rate
        self.level = rate
        self.at = time.monotonic()

    def take(self, now: Optional[float] = None) -> bool:
        """Take one token (False: none left)."""
        now = time.monotonic() if now is None else now
        self.level = min(self.rate, self.level + (now - self.at) * self.rate)
        self.at = now
        if self.level < 1.0:
            return False
        self.level -= 1.0
        return True


# --------------------------------------------------------------------- tickets
def ticket_to_dict(ticket: Any) -> Dict[str, Any]:
    """An aioquic ``SessionTicket`` as JSON-able data."""

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return {
        "age_add": ticket.age_add,
        "cipher_suite": int(ticket.cipher_suite),
        "not_valid_after": ticket.not_valid_after.isoformat(),
        "not_valid_before": ticket.not_valid_before.isoformat(),
        "resumption_secret": b64(ticket.resumption_secret),
        "server_name": ticket.server_name,
        "ticket": b64(ticket.ticket),
        "max_early_data_size": ticket.max_early_data_size,
        "other_extensions": [[t, b64(v)] for t, v in ticket.other_extensions],
    }


def ticket_from_dict(data: Dict[str, Any]) -> Any:
    """The ``SessionTicket`` that :func:`ticket_to_dict` made."""
    from aioquic.tls import CipherSuite, SessionTicket

    return SessionTicket(
        age_add=int(data["age_add"]),
        cipher_suite=CipherSuite(int(data["cipher_suite"])),
        not_valid_after=datetime.datetime.fromisoformat(data["not_valid_after"]),
        not_valid_before=datetime.datetime.fromisoformat(data["not_valid_before"]),
        resumption_secret=base64.b64decode(data["resumption_secret"]),
        server_name=data["server_name"],
        ticket=base64.b64decode(data["ticket"]),
        max_early_data_size=data["max_early_data_size"],
        other_extensions=[(int(t), base64.b64decode(v)) for t, v in data["other_extensions"]],
    )


class MemoryTickets:
    """One site's own ticket store (aioquic's way): tickets in memory, each used once."""

    def __init__(self) -> None:
        self.tickets: Dict[bytes, Any] = {}
        self.issued = self.resumed = 0

    def add(self, ticket: Any) -> None:
        """Keep a ticket this site issued (aioquic's ``session_ticket_handler``)."""
        self.issued += 1
        self.tickets[ticket.ticket] = ticket

    def pop(self, label: bytes) -> Any:
        """The ticket a client presents, if this site has it (``session_ticket_fetcher``)."""
        ticket = self.tickets.pop(label, None)
        self.resumed += ticket is not None
        return ticket


class SharedTickets(MemoryTickets):
    """The sites' shared ticket store: a folder, each ticket's state sealed under a shared key.

    A file per ticket, named by the ticket's hash, holding its state sealed
    with AES-GCM (key: HKDF of the run's secret); written whole (a temporary
    file renamed), used once (removed when presented).  A site without the key
    can read nothing from it.
    """

    def __init__(self, folder: Union[str, Path], secret: bytes):
        super().__init__()
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        key = HKDF(hashes.SHA256(), 32, salt=None, info=b"quic session tickets").derive(secret)
        self._aead = AESGCM(key)

    def _path(self, label: bytes) -> Path:
        return self.folder / hashlib.sha256(label).hexdigest()[:32]

    def add(self, ticket: Any) -> None:
        """Seal a ticket's state into the shared folder."""
        self.issued += 1
        nonce = os.urandom(12)
        plain = json.dumps(ticket_to_dict(ticket)).encode()
        sealed = nonce + self._aead.encrypt(nonce, plain, ticket.ticket)
        path = self._path(ticket.ticket)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_bytes(sealed)
        os.replace(tmp, path)

    def pop(self, label: bytes) -> Any:
        """Open the state of a presented ticket (None: unknown, used, or not sealed by us)."""
        from cryptography.exceptions import InvalidTag

        path = self._path(label)
        try:
            sealed = path.read_bytes()
            path.unlink()
        except OSError:
            return None
        try:
            plain = self._aead.decrypt(sealed[:12], sealed[12:], label)
            ticket = ticket_from_dict(json.loads(plain))
        except (InvalidTag, ValueError, KeyError, TypeError):
            return None
        self.resumed += 1
        return ticket


# ---------------------------------------------------------------------- server
def _server_classes() -> Any:
    """The aioquic protocol and server classes of the service (aioquic imported here)."""
    from aioquic.asyncio.protocol import QuicConnectionProtocol
    from aioquic.asyncio.server import QuicServer
    from aioquic.quic.events import HandshakeCompleted, QuicEvent, StreamDataReceived

    class SiteProtocol(QuicConnectionProtocol):
        """One connection: answers every line of every stream with ``SITE SEQ``."""

        def __init__(self, quic: Any, stream_handler: Any = None, *, service: QuicService):
            super().__init__(quic, stream_handler)
            self.service = service
            self._buffers: Dict[int, bytes] = {}
            derive_reset_tokens(quic, service.secret)

        def quic_event_received(self, event: QuicEvent) -> None:
            if isinstance(event, HandshakeCompleted):
                self.service.connections += 1
                self.service.handshakes["resumed" if event.session_resumed else "full"] += 1
                self.service.handshakes["early_data"] += bool(event.early_data_accepted)
            elif isinstance(event, StreamDataReceived):
                data = self._buffers.pop(event.stream_id, b"") + event.data
                *lines, rest = data.split(b"\n")
                if len(rest) <= MAX_LINE and not event.end_stream:
                    self._buffers[event.stream_id] = rest
                for line in lines:
                    reply = answer(self.service.site, line)
                    if reply:
                        self._quic.send_stream_data(event.stream_id, reply)
                if event.end_stream:
                    self._quic.send_stream_data(event.stream_id, b"", end_stream=True)

    class SiteServer(QuicServer):
        """aioquic's server, plus stateless resets for connections it does not know."""

        def __init__(self, *, service: QuicService, **kwargs: Any):
            super().__init__(**kwargs)
            self.service = service

        def datagram_received(self, data: Union[bytes, str], addr: Any) -> None:
            raw = bytes(data) if not isinstance(data, str) else data.encode()
            cid = short_header_cid(raw)
            if cid is not None and cid not in self._protocols:
                self.service.unknown += 1
                reset = stateless_reset(reset_token(self.service.secret, cid), len(raw))
                if reset is not None and self.service.bucket.take() and self._transport:
                    self._transport.sendto(reset, addr)
                    self.service.resets += 1
                return
            super().datagram_received(data, addr)

    return SiteProtocol, SiteServer


def derive_reset_tokens(quic: Any, secret: bytes) -> None:
    """Make a server connection's reset tokens ``HMAC(secret, cid)``, now and for new IDs.

    aioquic draws each token at random (``os.urandom``) when it makes a
    connection ID: the first one at construction (sent in the transport
    parameters of the handshake, which has not happened yet), the others in
    ``_replenish_connection_ids`` (sent in NEW_CONNECTION_ID frames, written
    later).  Both are replaced here before they leave.
    """

    def fix() -> None:
        for connection_id in quic._host_cids:
            connection_id.stateless_reset_token = reset_token(secret, connection_id.cid)

    replenish = quic._replenish_connection_ids

    def replenish_and_fix() -> None:
        replenish()
        fix()

    fix()
    quic._replenish_connection_ids = replenish_and_fix


class QuicService:
    """The QUIC service of one site: configuration, secret, tickets, counters."""

    def __init__(
        self,
        site: str,
        bind: str,
        port: int,
        creds: Credentials,
        shared_reset: bool = False,
        tickets: Optional[Path] = None,
    ):
        """Prepare the service.

        Args:
            site: the name sent in every answer.
            bind: the address to listen on.
            port: the UDP port.
            creds: the run's certificate, key and shared secret.
            shared_reset: derive reset tokens from the run's secret (else: this
                site's own random one).
            tickets: the sites' shared ticket folder (None: this site's own
                tickets, in memory).
        """
        self.site = site
        self.bind = bind
        self.port = port
        self.creds = creds
        shared = creds.secret.read_bytes()
        self.secret = shared if shared_reset else os.urandom(32)
        self.store = SharedTickets(tickets, shared) if tickets is not None else MemoryTickets()
        self.bucket = Bucket(RESET_RATE)
        self.connections = self.resets = self.unknown = 0
        self.handshakes = {"full": 0, "resumed": 0, "early_data": 0}

    def configuration(self) -> Any:
        """aioquic's server configuration: the run's certificate, our ALPN, a long idle timeout."""
        from aioquic.quic.configuration import QuicConfiguration

        config = QuicConfiguration(
            is_client=False, alpn_protocols=[ALPN], idle_timeout=SERVER_IDLE_TIMEOUT
        )
        config.load_cert_chain(str(self.creds.cert), str(self.creds.key))
        return config

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set, then close every connection."""
        protocol_class, server_class = _server_classes()
        loop = asyncio.get_running_loop()
        config = self.configuration()
        _, server = await loop.create_datagram_endpoint(
            lambda: server_class(
                service=self,
                configuration=config,
                create_protocol=functools.partial(protocol_class, service=self),
                session_ticket_fetcher=self.store.pop,
                session_ticket_handler=self.store.add,
            ),
            local_addr=(self.bind, self.port),
        )
        kind = "shared" if isinstance(self.store, SharedTickets) else "own"
        sys.stderr.write(
            f"quic: site {self.site} listening on {self.bind}:{self.port} (udp), {kind} tickets\n"
        )
        try:
            await stop.wait()
        finally:
            server.close()
            await asyncio.sleep(0.05)  # let the CONNECTION_CLOSE frames leave
        sys.stderr.write(
            f"quic: site {self.site}: connections {self.connections} "
            f"(full {self.handshakes['full']}, resumed {self.handshakes['resumed']}, "
            f"0-RTT {self.handshakes['early_data']}), tickets issued {self.store.issued}, "
            f"packets for unknown connections {self.unknown}, stateless resets {self.resets}\n"
        )


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog="python -m testbed.services.quic",
        description="QUIC service: answers each line SEQ on a stream with 'SITE SEQ'.",
    )
    proc.add_listen_options(p, QUIC_PORT, "UDP port")
    p.add_argument(
        "--credentials",
        required=True,
        help="folder of the run's certificate, key and shared secret (made if missing)",
    )
    p.add_argument(
        "--shared-reset",
        action="store_true",
        help="stateless reset tokens from the run's shared secret (default: this site's own)",
    )
    p.add_argument(
        "--shared-tickets",
        action="store_true",
        help="keep session tickets in the sites' shared store (--tickets)",
    )
    p.add_argument("--tickets", default=None, help="the shared ticket folder")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.services.quic``."""
    parser = _parser()
    logging.getLogger("quic").setLevel(logging.CRITICAL)  # aioquic's per-connection lines
    args = proc.arguments(parser, argv)
    if args.shared_tickets and not args.tickets:
        parser.error("--shared-tickets needs --tickets DIR")
    try:
        creds = credentials(args.credentials)
    except OSError as exc:
        proc.fail(parser.prog, f"cannot make the credentials in {args.credentials}: {exc}")
    try:
        service = QuicService(
            args.site,
            args.bind,
            args.port,
            creds,
            shared_reset=args.shared_reset,
            tickets=Path(args.tickets) if args.shared_tickets else None,
        )
        asyncio.run(proc.serve(service.run))
    except OSError as exc:
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        proc.fail(parser.prog, f"cannot serve on {args.bind}:{args.port} (udp): {why}")


if __name__ == "__main__":
    main()
