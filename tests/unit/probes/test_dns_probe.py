"""DNS probe: queries and answers on the wire, QueryTracker, and the process on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
from typing import Iterator, Optional

import dns.edns
import dns.message
import dns.rcode
import pytest

from testbed.probes.dns import Answer, QueryTracker, make_query, parse_answer, qname
from tests.unit.probes.helpers import Procs, read

# -- wire ----------------------------------------------------------------------


def response(query_wire: bytes, site: Optional[str] = "lon", rcode: int = 0) -> bytes:
    """A server's answer to a query, with the site as NSID (None: no NSID)."""
    query = dns.message.from_wire(query_wire)
    msg = dns.message.make_response(query)
    msg.set_rcode(rcode)
    if site is not None:
        msg.use_edns(0, options=[dns.edns.NSIDOption(site.encode())])
    return msg.to_wire()


def test_query_name_id_and_nsid_request():
    wire = make_query(70000, "paris")
    msg = dns.message.from_wire(wire)
    assert msg.id == 70000 % 65536
    assert msg.question[0].name.to_text() == "q70000.paris.probe.anycast.test."
    assert qname(70000, "paris") == "q70000.paris.probe.anycast.test."
    assert [o.otype for o in msg.options] == [dns.edns.OptionType.NSID]


def test_parse_answer_reads_name_id_rcode_and_site():
    wire = make_query(5, "paris")
    assert parse_answer(response(wire)) == Answer(
        "q5.paris.probe.anycast.test.", 5, "NOERROR", "lon"
    )
    refused = parse_answer(response(wire, site=None, rcode=dns.rcode.REFUSED))
    assert refused is not None and refused.site is None and refused.rcode == "REFUSED"
    assert parse_answer(wire) is None  # a query, not a response
    assert parse_answer(b"\x00\x01garbage") is None


# -- QueryTracker ----------------------------------------------------------------


def answer_to(seq: int, site: str = "lon", client: str = "paris") -> Answer:
    return Answer(qname(seq, client), seq % 65536, "NOERROR", site)


def test_answered_within_the_timeout_is_ok():
    tr = QueryTracker("paris", timeout=1.0)
    assert tr.sent(0, t=1000.0, mono=0.0) == qname(0, "paris")
    rec = tr.answered(answer_to(0), mono=0.004)
    assert rec == {
        "t": 1000.0,  # the send time
        "kind": "dns",
        "client": "paris",
        "seq": 0,
        "id": 0,
        "status": "ok",
        "rtt": 0.004,
        "rcode": "NOERROR",
        "site": "lon",
    }
    assert tr.outstanding == {}
    assert tr.answered(answer_to(0), mono=0.005) is None  # a duplicate
    assert tr.counts["ok"] == 1 and tr.counts["ignored"] == 1


def test_timeout_when_the_timeout_expires_with_null_fields():
    tr = QueryTracker("paris", timeout=1.0)
    tr.sent(0, t=1000.0, mono=0.0)
    tr.sent(1, t=1000.05, mono=0.05)
    assert tr.next_expiry() == pytest.approx(1.0)
    assert tr.expire(0.99) == []
    [rec] = tr.expire(1.0)
    assert rec["seq"] == 0 and rec["status"] == "timeout" and rec["t"] == 1000.0
    assert rec["rtt"] is None and rec["rcode"] is None and rec["site"] is None
    assert tr.next_expiry() == pytest.approx(1.05)


def test_late_answer_is_matched_to_its_own_query_not_the_next_one():
    tr = QueryTracker("paris", timeout=1.0)
    tr.sent(0, t=1000.0, mono=0.0)
    tr.sent(1, t=1000.9, mono=0.9)
    [timeout] = tr.expire(1.0)
    assert timeout["seq"] == 0
    # the answer to query 0 arrives while query 1 is out: late for 0, 1 untouched
    late = tr.answered(answer_to(0, site="nyc"), mono=1.2)
    assert late is not None
    assert late["status"] == "late" and late["seq"] == 0 and late["site"] == "nyc"
    assert late["rtt"] == pytest.approx(1.2)
    assert list(tr.outstanding) == [qname(1, "paris")]
    ok = tr.answered(answer_to(1), mono=1.3)
    assert ok is not None and ok["status"] == "ok" and ok["seq"] == 1
    assert ok["rtt"] == pytest.approx(0.4)


def test_answer_with_the_right_name_but_another_id_is_ignored():
    tr = QueryTracker("paris", timeout=1.0)
    tr.sent(3, t=1000.0, mono=0.0)
    assert tr.answered(Answer(qname(3, "paris"), 4, "NOERROR", "lon"), mono=0.1) is None
    assert tr.answered(answer_to(3, client="tokyo"), mono=0.1) is None
    assert tr.counts["ignored"] == 2 and len(tr.outstanding) == 1


def test_expired_queries_are_forgotten_after_the_late_window():
    tr = QueryTracker("paris", timeout=1.0, late_window=5.0)
    tr.sent(0, t=1000.0, mono=0.0)
    tr.expire(1.0)
    assert tr.expire(5.0) == [] and tr.expired == {}
    assert tr.answered(answer_to(0), mono=5.1) is None
    assert tr.counts == {"sent": 1, "ok": 0, "timeout": 1, "late": 0, "ignored": 1}


# -- the process -----------------------------------------------------------------


class SlowOddServer:
    """A UDP DNS server on 127.0.0.1: answers even queries at once, odd ones after ``delay``."""

    def __init__(self, delay: float):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.delay = delay
        self.done = threading.Event()
        self.timers: list = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.done.is_set():
            try:
                wire, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            seq = int(dns.message.from_wire(wire).question[0].name.labels[0][1:])
            reply = response(wire)
            if seq % 2 == 0:
                self.sock.sendto(reply, peer)
            else:
                timer = threading.Timer(self.delay, self._send, (reply, peer))
                self.timers.append(timer)
                timer.start()

    def _send(self, reply: bytes, peer) -> None:
        if not self.done.is_set():
            self.sock.sendto(reply, peer)

    def close(self) -> None:
        self.done.set()
        for timer in self.timers:
            timer.cancel()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def procs() -> Iterator[Procs]:
    p = Procs()
    yield p
    p.cleanup()


@pytest.mark.timeout(20)
def test_probe_process_records_ok_timeout_and_late(procs, tmp_path):
    server = SlowOddServer(delay=0.3)
    try:
        out = tmp_path / "dns-paris.jsonl"
        probe = procs.start(
            "testbed.probes.dns",
            "--client",
            "paris",
            "--target",
            "127.0.0.1",
            "--port",
            str(server.port),
            "--rate",
            "10",
            "--timeout",
            "0.2",
            "--duration",
            "1.0",
            "--out",
            str(out),
        )
        _, err = probe.communicate(timeout=10)
    finally:
        server.close()
    assert probe.returncode == 0, err
    records = read(out)
    by_status: dict = {}
    for r in records:
        by_status.setdefault(r["status"], []).append(r["seq"])
    assert by_status["ok"] == [0, 2, 4, 6, 8]
    assert by_status["timeout"] == [1, 3, 5, 7, 9]
    # the late answers that came before the process ended, each to its own query
    assert {1, 3, 5, 7} <= set(by_status["late"]) <= {1, 3, 5, 7, 9}
    for r in records:
        if r["status"] == "ok":
            assert r["site"] == "lon" and r["rcode"] == "NOERROR" and r["rtt"] < 0.2
        if r["status"] == "late":
            assert r["site"] == "lon" and r["rtt"] == pytest.approx(0.3, abs=0.15)
    assert err.startswith("dns probe paris: sent 10, ok 5, timeout 5")
