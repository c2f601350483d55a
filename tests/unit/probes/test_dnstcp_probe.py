"""dns-tcp: the query book, the outcome, argv, and the process against a local DNS/TCP server."""

from __future__ import annotations

import contextlib
import signal
import socket
import struct
import threading
from pathlib import Path
from typing import Callable, Iterator, List

import dns.edns
import dns.message
import pytest

from testbed.probes import dnstcp
from testbed.probes.dnstcp import QueryBook, make_query, outcome, qname
from testbed.probes.kinds import kind_class
from testbed.topology.load import load_topology
from testbed.traffic import TrafficParams, probe_argvs
from tests.unit.probes.helpers import Procs, Records, free_port, read, wait_records

PROBE = "testbed.probes.dnstcp"


# -- the book -------------------------------------------------------------------


def test_query_wire_is_length_prefixed_with_nsid():
    wire = make_query(7, "ca", 4242)
    (size,) = struct.unpack("!H", wire[:2])
    assert size == len(wire) - 2
    msg = dns.message.from_wire(wire[2:])
    assert msg.id == 4242 and msg.question[0].name.to_text() == "t7.ca.probe.anycast.test."
    assert any(o.otype == dns.edns.OptionType.NSID for o in msg.options)
    assert qname(7, "ca") == "t7.ca.probe.anycast.test."


def test_book_answered_failed_and_expired():
    book = QueryBook("ca", timeout=1.0)
    book.sent(0, 11, 1000.0, 0.0)
    book.connected(0, 0.002)
    rec = book.answered(0, 11, "NOERROR", "east", 0.004)
    assert rec == {
        "t": 1000.0, "kind": "dnstcp", "client": "ca", "seq": 0, "id": 11,
        "event": "answered", "site": "east", "rcode": "NOERROR", "rtt": 0.004, "connect": 0.002,
    }  # fmt: skip
    assert book.answered(0, 11, "NOERROR", "east", 0.005) is None  # already ended
    book.sent(1, 12, 1000.2, 0.2)
    assert book.answered(1, 99, "NOERROR", "east", 0.21) is None  # wrong id: not this query's
    book.connected(1, 0.201)
    failed = book.failed(1, "ECONNRESET", 0.25)
    assert failed is not None
    assert failed["event"] == "failed" and failed["error"] == "ECONNRESET"
    assert failed["stage"] == "answer" and failed["after"] == pytest.approx(0.05)
    book.sent(2, 13, 1000.4, 0.4)
    book.sent(3, 14, 1000.6, 0.6)
    assert book.next_expiry() == pytest.approx(1.4)
    assert book.expire(1.39) == []
    [expired] = book.expire(1.45)
    assert expired["seq"] == 2 and expired["error"] == "timeout" and expired["stage"] == "connect"
    assert list(book.pending) == [3]
    assert book.counts == {"sent": 4, "answered": 1, "failed": 2, "timeout": 1}


# -- the outcome ----------------------------------------------------------------


def rec(seq: int, t: float, event: str = "answered", **fields) -> dict:
    base = {"t": t, "kind": "dnstcp", "client": "ca", "seq": seq, "event": event}
    if event == "answered":
        base.update(site="east", rtt=0.004)
    return {**base, **fields}


def test_outcome_counts_queries_failures_gaps_and_recovery():
    records = [
        rec(0, 10.0),
        rec(1, 10.2),
        rec(2, 10.4, "failed", error="ECONNRESET"),  # in flight when the route moved
        rec(3, 10.6, "failed", error="timeout"),
        rec(4, 10.8, "failed", error="EHOSTUNREACH"),
        rec(5, 11.0, site="west"),
        rec(6, 11.2, "failed", error="ECONNREFUSED"),
        rec(7, 11.4, site="west"),
        {"t": 11.5, "kind": "dns", "status": "ok"},  # not ours
    ]
    o = outcome(records)
    assert o.kind == "dns-tcp"
    assert o.flows == 8 and o.survived == 4 and o.failed == 4
    assert o.reset == 1 and o.timed_out == 1
    assert o.ends == {"answered": 4, "refused": 1, "reset": 1, "timeout": 1, "unreachable": 1}
    assert o.lost == 4 and o.lost_unit == "queries"
    assert o.recovered == 2 and o.recover_s == [pytest.approx(0.604), pytest.approx(0.204)]
    assert o.longest_gap_s == pytest.approx(0.8)  # 10.204 -> 11.004
    empty = outcome([])
    assert empty.flows == 0 and empty.longest_gap_s is None and empty.lost == 0


def test_kind_registration_and_argv():
    kind = kind_class("dns-tcp")
    assert kind.record_prefix == "dnstcp" and kind.services == ("dns",)
    params = TrafficParams(seed=9, kinds=("dns-tcp",), dns_timeout=2.0)
    argv = probe_argvs(load_topology("two-sites"), "ca", params, Path("/r"))["dnstcp"]
    line = " ".join(argv)
    assert argv[1:3] == ["-m", "testbed.probes.dnstcp"]
    assert "--target 192.0.2.53 --rate 5 --timeout 2.0 --seed 9" in line
    assert line.endswith("--out /r/dnstcp-ca.jsonl")
    params = TrafficParams(kinds=("dns-tcp",), dnstcp_rate=12.5)
    argv = probe_argvs(load_topology("two-sites"), "ca", params, Path("/r"))["dnstcp"]
    assert dnstcp._parser().parse_args(argv[3:]).rate == 12.5


# -- the process ----------------------------------------------------------------


class DnsTcpServer:
    """A DNS-over-TCP server on 127.0.0.1 in a thread; ``mode(n)`` decides query n's fate:
    ``answer``, ``reset`` (RST after reading it) or ``silent`` (read, never answer)."""

    def __init__(self, mode: Callable[[int], str], site: str = "east"):
        self.mode = mode
        self.site = site
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        self.count = 0
        self.held: List[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            n, self.count = self.count, self.count + 1
            with contextlib.suppress(OSError):
                self._one(conn, self.mode(n))

    def _one(self, conn: socket.socket, mode: str) -> None:
        conn.settimeout(1.0)
        (size,) = struct.unpack("!H", conn.recv(2))
        query = dns.message.from_wire(conn.recv(size))
        if mode == "silent":
            self.held.append(conn)
            return
        if mode == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            return
        answer = dns.message.make_response(query)
        answer.use_edns(0, options=[dns.edns.GenericOption(dns.edns.OptionType.NSID, b"east")])
        wire = answer.to_wire()
        conn.sendall(struct.pack("!H", len(wire)) + wire)
        conn.close()

    def close(self) -> None:
        self.done.set()
        self.thread.join(2)
        self.sock.close()
        for c in self.held:
            c.close()


@pytest.fixture
def procs() -> Iterator[Procs]:
    p = Procs()
    yield p
    p.cleanup()


def by_event(records: Records, event: str) -> Records:
    return [r for r in records if r["event"] == event]


@pytest.mark.timeout(30)
def test_process_answers_resets_and_timeouts(procs, tmp_path):
    fates = {2: "reset", 3: "silent"}
    server = DnsTcpServer(lambda n: fates.get(n, "answer"))
    out = tmp_path / "dnstcp-ca.jsonl"
    try:
        probe = procs.start(
            PROBE, "--client", "ca", "--target", "127.0.0.1", "--port", str(server.port),
            "--rate", "20", "--timeout", "0.5", "--out", str(out),
        )  # fmt: skip
        records = wait_records(out, lambda rs: len(rs) >= 8)
        probe.send_signal(signal.SIGTERM)
        _, err = probe.communicate(timeout=5)
    finally:
        server.close()
    assert probe.returncode == 0, err
    assert err.startswith("dns-tcp probe ca: sent ")
    records = sorted(read(out), key=lambda r: r["seq"])
    assert [r["seq"] for r in records] == list(range(len(records)))  # one record per query
    answered = by_event(records, "answered")
    assert answered and all(r["site"] == "east" and r["rcode"] == "NOERROR" for r in answered)
    assert all(0 < r["connect"] <= r["rtt"] < 0.5 for r in answered)
    reset, silent = records[2], records[3]
    assert reset["event"] == "failed" and reset["error"] == "ECONNRESET"
    assert reset["stage"] == "answer"
    assert silent["error"] == "timeout" and silent["after"] == 0.5
    o = outcome(records)
    assert o.reset == 1 and o.timed_out == 1 and o.lost == 2


@pytest.mark.timeout(20)
def test_process_refused_and_duration(procs, tmp_path):
    out = tmp_path / "d.jsonl"
    probe = procs.start(
        PROBE, "--client", "ca", "--target", "127.0.0.1", "--port", str(free_port()),
        "--rate", "10", "--duration", "0.5", "--out", str(out),
    )  # fmt: skip
    _, err = probe.communicate(timeout=10)
    assert probe.returncode == 0, err
    records = read(out)
    assert len(records) == 5
    assert {(r["event"], r["error"], r["stage"]) for r in records} == {
        ("failed", "ECONNREFUSED", "connect")
    }
    assert outcome(records).ends == {"refused": 5}
