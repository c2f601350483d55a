"""QUIC service: credentials, stateless resets, reset tokens on aioquic's connections, tickets."""

from __future__ import annotations

import datetime
import threading
from pathlib import Path

import pytest

pytest.importorskip("aioquic")

from aioquic.quic.configuration import QuicConfiguration  # noqa: E402
from aioquic.quic.connection import QuicConnection  # noqa: E402
from aioquic.tls import CipherSuite, SessionTicket  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

from testbed.probes.quic import SERVER_NAME  # noqa: E402
from testbed.services.quic import (  # noqa: E402
    MAX_RESET,
    Bucket,
    MemoryTickets,
    SharedTickets,
    credentials,
    derive_reset_tokens,
    is_stateless_reset,
    reset_token,
    short_header_cid,
    stateless_reset,
    ticket_from_dict,
    ticket_to_dict,
)

# -- credentials -----------------------------------------------------------------


def test_credentials_are_one_self_signed_certificate_for_the_service_name(tmp_path):
    creds = credentials(tmp_path / "services" / "quic-credentials")
    cert = x509.load_pem_x509_certificate(creds.cert.read_bytes())
    key = serialization.load_pem_private_key(creds.key.read_bytes(), None)
    assert cert.issuer == cert.subject
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [SERVER_NAME]
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    assert cert.not_valid_before_utc < datetime.datetime.now(datetime.timezone.utc)
    assert len(creds.secret.read_bytes()) == 32
    assert creds.key.stat().st_mode & 0o077 == 0 and creds.secret.stat().st_mode & 0o077 == 0
    # made once: a second call keeps them
    again = credentials(creds.cert.parent)
    assert again == creds and again.cert.read_bytes() == creds.cert.read_bytes()


def test_servers_starting_together_share_one_set_of_credentials(tmp_path):
    folder = tmp_path / "quic-credentials"
    results: list = []
    threads = [
        threading.Thread(target=lambda: results.append(credentials(folder))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and len(set(results)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quic-credentials"]  # no leftovers
    config = QuicConfiguration(is_client=False)
    config.load_cert_chain(str(results[0].cert), str(results[0].key))  # a usable pair


# -- stateless resets --------------------------------------------------------------


def test_reset_tokens_come_from_the_secret_and_the_connection_id():
    token = reset_token(b"s" * 32, b"12345678")
    assert len(token) == 16
    assert token == reset_token(b"s" * 32, b"12345678")
    assert token != reset_token(b"t" * 32, b"12345678")
    assert token != reset_token(b"s" * 32, b"12345679")


@pytest.mark.parametrize("trigger,size", [(22, 21), (30, 29), (44, 43), (1200, MAX_RESET)])
def test_a_reset_is_shorter_than_its_trigger_and_ends_with_the_token(trigger, size):
    token = bytes(range(16))
    reset = stateless_reset(token, trigger)
    assert reset is not None and len(reset) == size
    assert reset[0] & 0xC0 == 0x40  # short header form, fixed bit
    assert reset.endswith(token)
    assert is_stateless_reset(reset, token)
    assert not is_stateless_reset(reset, bytes(16))
    assert not is_stateless_reset(reset, None) and not is_stateless_reset(reset, b"")


def test_too_small_a_trigger_gets_no_reset_and_long_headers_are_not_resets():
    assert stateless_reset(bytes(16), 21) is None  # a reset would not be smaller than 21
    token = bytes(range(16))
    assert not is_stateless_reset(b"\xc0" + bytes(20) + token, token)
    assert not is_stateless_reset(b"\x40" + token, token)  # shorter than 21 bytes


def test_short_header_cid():
    assert short_header_cid(b"\x41" + b"ABCDEFGH" + b"rest") == b"ABCDEFGH"
    assert short_header_cid(b"\xc1" + b"ABCDEFGH" + b"rest") is None  # long header
    assert short_header_cid(b"\x01" + b"ABCDEFGH") is None  # fixed bit clear
    assert short_header_cid(b"\x41abc") is None


def test_bucket_limits_the_reset_rate():
    bucket = Bucket(3)
    assert [bucket.take(bucket.at) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(bucket.at + 1 / 3 + 1e-6)


def test_server_connections_get_reset_tokens_from_the_secret(tmp_path):
    """aioquic's own tokens are random: ours replace them, also for later connection IDs."""
    creds = credentials(tmp_path / "c")
    config = QuicConfiguration(is_client=False)
    config.load_cert_chain(str(creds.cert), str(creds.key))
    quic = QuicConnection(configuration=config, original_destination_connection_id=b"x" * 8)
    secret = b"k" * 32
    derive_reset_tokens(quic, secret)
    first = quic._host_cids[0]
    assert first.stateless_reset_token == reset_token(secret, first.cid)
    quic._remote_active_connection_id_limit = 4
    quic._replenish_connection_ids()
    assert len(quic._host_cids) == 4
    for connection_id in quic._host_cids:
        assert connection_id.stateless_reset_token == reset_token(secret, connection_id.cid)


# -- session tickets ---------------------------------------------------------------


def a_ticket(label: bytes = b"T" * 64) -> SessionTicket:
    now = datetime.datetime.now(datetime.timezone.utc)
    return SessionTicket(
        age_add=12345,
        cipher_suite=CipherSuite.AES_128_GCM_SHA256,
        not_valid_after=now + datetime.timedelta(days=1),
        not_valid_before=now,
        resumption_secret=b"r" * 32,
        server_name=SERVER_NAME,
        ticket=label,
        max_early_data_size=0xFFFFFFFF,
        other_extensions=[(57, b"\x01\x02")],
    )


def test_a_ticket_survives_its_json_form():
    ticket = a_ticket()
    assert ticket_from_dict(ticket_to_dict(ticket)) == ticket


def test_a_site_keeps_its_own_tickets_each_used_once():
    store, ticket = MemoryTickets(), a_ticket()
    store.add(ticket)
    assert store.pop(b"T" * 64) == ticket and store.pop(b"T" * 64) is None
    assert store.pop(b"other") is None
    assert (store.issued, store.resumed) == (1, 1)


def test_the_shared_store_gives_one_sites_ticket_to_another(tmp_path: Path):
    east = SharedTickets(tmp_path / "tickets", b"shared secret" * 2)
    west = SharedTickets(tmp_path / "tickets", b"shared secret" * 2)
    ticket = a_ticket()
    east.add(ticket)
    [sealed] = list((tmp_path / "tickets").iterdir())
    assert b"r" * 32 not in sealed.read_bytes()  # the state is sealed
    assert west.pop(b"T" * 64) == ticket
    assert west.pop(b"T" * 64) is None  # used once
    other = SharedTickets(tmp_path / "tickets", b"another secret")
    east.add(a_ticket(b"U" * 64))
    assert other.pop(b"U" * 64) is None  # not sealed with its key
