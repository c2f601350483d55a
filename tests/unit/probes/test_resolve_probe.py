"""The resolve probe: its bookkeeping on recorded sequences, its wire formats, its command line."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import dns.edns
import dns.flags
import dns.message
import dns.rdatatype
import dns.rrset
import pytest

from testbed.probes import resolve
from testbed.probes.kinds import ProbeContext, kind_class, services_for
from testbed.probes.tcp import Now
from testbed.topology.load import load_topology, parse_topology
from testbed.topology.plan import make_plan
from testbed.traffic import TrafficParams
from tests.unit.probes.helpers import Procs, free_port, wait_listening

STREAM = "testbed.services.stream"


def wait_listening_on(host: str, port: int, timeout: float = 5.0) -> None:
    """Wait until something accepts connections on host:port."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on {host}:{port}"
            time.sleep(0.05)


def lookup_answer(qid: int, name: str, addr: str = "", ttl: int = 30, rcode: int = 0) -> bytes:
    """A resolver's response to a stub's query."""
    query = dns.message.from_wire(resolve.make_lookup(name, qid))
    msg = dns.message.make_response(query)
    msg.set_rcode(rcode)
    if addr:
        msg.answer.append(dns.rrset.from_text(name, ttl, "IN", "A", addr))
    return msg.to_wire()


def test_a_lookup_is_a_stub_query_and_its_answer_gives_address_and_ttl():
    wire = resolve.make_lookup("svc.gslb.test.", 4242)
    msg = dns.message.from_wire(wire)
    assert msg.id == 4242 and msg.flags & dns.flags.RD and msg.edns < 0
    assert msg.question[0].rdtype == dns.rdatatype.A
    got = resolve.parse_lookup(lookup_answer(4242, "svc.gslb.test.", "100.66.1.53", 17))
    assert got == resolve.Lookup(4242, "NOERROR", "100.66.1.53", 17)
    failed = resolve.parse_lookup(lookup_answer(7, "svc.gslb.test.", rcode=2))
    assert failed == resolve.Lookup(7, "SERVFAIL", None, None)
    assert resolve.parse_lookup(b"\x00garbage") is None
    assert resolve.parse_lookup(wire) is None  # a query, not an answer


def test_the_site_query_asks_for_nsid_under_the_probe_domain():
    msg = dns.message.from_wire(resolve.make_site_query(3, "paris", "gslb", 99))
    assert msg.question[0].name.to_text() == "rg3.paris.probe.anycast.test."
    assert msg.id == 99 and any(o.otype == 3 for o in msg.options)  # NSID


def test_a_tick_resolved_and_answered_is_one_ok_record():
    book = resolve.ResolveBook("paris", timeout=1.0)
    book.started("gslb", 0, 1000.0, 10.0, rid=5)
    tick, record = book.resolved(resolve.Lookup(5, "NOERROR", "100.66.1.53", 12), 10.002, qid=6)
    assert record is None and tick is not None and tick.qid == 6
    name = resolve.qname(0, "paris", "gslb").lower()
    assert book.answered(6, "other.name.", "lon", 10.003) is None  # not this query's name
    out = book.answered(6, name, "lon", 10.005)
    assert out == {
        "t": 1000.0, "kind": "resolve", "client": "paris", "method": "gslb", "seq": 0,
        "status": "ok", "addr": "100.66.1.53", "ttl": 12, "resolve_rtt": 0.002,
        "site": "lon", "rtt": 0.003,
    }  # fmt: skip
    assert book.idle() and book.counts["ok"] == 1


def test_a_dead_site_times_out_and_a_silent_resolver_fails_the_tick():
    book = resolve.ResolveBook("paris", timeout=1.0)
    book.started("anycast", 0, 1000.0, 10.0, rid=1)
    book.started("gslb", 0, 1000.0, 10.0, rid=2)
    book.resolved(resolve.Lookup(2, "NOERROR", "100.66.1.53", 3), 10.1, qid=3)
    assert book.expire(10.5) == []
    assert book.next_expiry() == pytest.approx(11.0)
    ended = book.expire(11.0)
    assert [(r["method"], r["status"]) for r in ended] == [("anycast", "resolve_failed")]
    assert ended[0]["error"] == "timeout" and "addr" not in ended[0]
    (late,) = book.expire(11.1)
    assert late["status"] == "timeout" and late["addr"] == "100.66.1.53" and late["ttl"] == 3
    assert book.idle()


def test_an_answer_without_an_address_is_a_failed_resolution():
    book = resolve.ResolveBook("paris", timeout=1.0)
    book.started("gslb", 4, 1000.0, 10.0, rid=8)
    tick, record = book.resolved(resolve.Lookup(8, "SERVFAIL", None, None), 10.2, qid=9)
    assert tick is None and record["status"] == "resolve_failed" and record["error"] == "SERVFAIL"
    book.started("gslb", 5, 1000.2, 10.2, rid=10)
    _, record = book.resolved(resolve.Lookup(10, "NOERROR", None, None), 10.3, qid=11)
    assert record["error"] == "no address"
    assert book.resolved(resolve.Lookup(99, "NOERROR", "1.2.3.4", 1), 10.4, 12) == (None, None)


@pytest.mark.parametrize(
    "values, problem",
    [(["gslb"], "METHOD=NAME"), (["dns=svc.x"], "METHOD=NAME"),
     (["gslb=a.test", "gslb=b.test"], "given twice")],
)  # fmt: skip
def test_bad_names_are_refused(values, problem):
    with pytest.raises(ValueError, match=problem):
        resolve.parse_names(values)


def test_names_are_absolute_in_the_order_given():
    assert resolve.parse_names(["gslb=svc.gslb.test", "anycast=svc.anycast.test."]) == {
        "gslb": "svc.gslb.test.",
        "anycast": "svc.anycast.test.",
    }


def test_the_kind_asks_the_clients_resolver_for_every_published_name(tmp_path):
    data = load_topology("world").model_dump(by_alias=True, exclude_unset=True, mode="json")
    data.update(service={"publish": "both", "ttl": 5}, unicast=True)
    topo = parse_topology(data, "w.yaml")
    plan = make_plan(topo)
    ctx = ProbeContext(topo, plan, "paris", TrafficParams(resolve_rate=8, seed=3), tmp_path)
    argv = kind_class("resolve")().argv(ctx)
    resolver = plan.hosts[argv[argv.index("--resolver-name") + 1]]
    assert argv[argv.index("--resolver") + 1] == str(resolver.interface.address.ip)
    names = [argv[i + 1] for i, a in enumerate(argv) if a == "--name"]
    assert names == ["anycast=svc.anycast.test", "gslb=svc.gslb.test"]
    assert argv[argv.index("--rate") + 1] == "8" and argv[-1].endswith("resolve-paris.jsonl")
    assert kind_class("resolve").unavailable(load_topology("world")) is not None
    assert kind_class("resolve").unavailable(topo) is None


class FakeDns(threading.Thread):
    """A UDP DNS server on 127.0.0.1: ``answer(query) -> response wire`` (None: stay silent)."""

    def __init__(self, answer):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        self.done = threading.Event()
        self.start()

    def run(self):
        while not self.done.is_set():
            try:
                wire, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            out = self.answer(dns.message.from_wire(wire))
            if out is not None:
                self.sock.sendto(out.to_wire(), peer)

    def stop(self):
        self.done.set()
        self.join()
        self.sock.close()


class Collect:
    def __init__(self):
        self.records = []

    def write(self, record):
        self.records.append(record)


def test_the_loop_resolves_then_asks_the_site_and_records_every_tick():
    """Real sockets, no root: a resolver that names 127.0.0.1, a site that answers with NSID
    for the anycast name and stays silent for the gslb one."""

    def site(query):
        if query.question[0].name.to_text().startswith("rg"):
            return None
        msg = dns.message.make_response(query)
        msg.use_edns(0, options=[dns.edns.GenericOption(dns.edns.OptionType.NSID, b"lon")])
        return msg

    site_server = FakeDns(site)

    def resolver(query):
        msg = dns.message.make_response(query)
        name = query.question[0].name.to_text()
        msg.answer.append(dns.rrset.from_text(name, 9, "IN", "A", "127.0.0.1"))
        return msg

    resolver_server = FakeDns(resolver)
    out = Collect()
    probe = resolve.ResolveProbe(
        "paris",
        ("127.0.0.1", resolver_server.port),
        {"anycast": "svc.anycast.test.", "gslb": "svc.gslb.test."},
        rate=20,
        timeout=0.3,
        duration=0.5,
        writer=out,
        seed=1,
        resolver_name="res1",
        site_port=site_server.port,
    )

    class NoStop:
        stopped, count = False, 0

        def fileno(self):
            return reader

        def drain(self):
            pass

    reader, writer = os.pipe()
    try:
        counts = probe.run(NoStop())
    finally:
        os.close(reader)
        os.close(writer)
        site_server.stop()
        resolver_server.stop()
    start, *ticks = out.records
    assert start["type"] == "start" and start["resolver"] == "res1"
    assert start["methods"] == {"anycast": "svc.anycast.test", "gslb": "svc.gslb.test"}
    by = {m: [r for r in ticks if r["method"] == m] for m in ("anycast", "gslb")}
    assert len(by["anycast"]) == len(by["gslb"]) == 10 == counts["ticks"] // 2
    assert all(r["status"] == "ok" and r["site"] == "lon" for r in by["anycast"])
    assert all(r["status"] == "timeout" and r["addr"] == "127.0.0.1" for r in by["gslb"])
    assert all(r["ttl"] == 9 for r in ticks)


# -- the long streams: a lookup before every connection -----------------------------


def at(x: float) -> Now:
    return Now(1000.0 + x, x)


def up(tr: resolve.StreamTracker, when: float, addr: str, site: str, ttl: int = 5) -> list:
    """A lookup, a handshake and a first answer, from ``when`` on."""
    tr.resolving(at(when))
    tr.resolved(addr, ttl, at(when + 0.001))
    tr.established(at(when + 0.002))
    seq = tr.sent(at(when + 0.002))
    return tr.answered(site, seq, at(when + 0.003))


def test_a_stream_resolves_connects_and_says_so_at_its_first_answer():
    tr = resolve.StreamTracker("paris", "gslb", 0, timeout=3.0)
    assert tr.phase is resolve.Phase.DOWN
    [connected] = up(tr, 0.0, "100.66.1.53", "lon")
    assert connected == {
        "t": 1000.003, "kind": "resolve", "client": "paris", "method": "gslb", "stream": 0,
        "event": "connected", "addr": "100.66.1.53", "site": "lon", "ttl": 5,
        "resolve_rtt": 0.001, "again": False, "gap": None, "since_answer": None,
        "attempts": 1, "resolves": 1,
    }  # fmt: skip
    assert tr.phase is resolve.Phase.UP
    seq = tr.sent(at(0.2))
    assert tr.answered("lon", seq, at(0.21)) == []  # later answers say nothing
    assert tr.answered("lon", 999, at(0.22)) == [] and tr.counts["ignored"] == 1
    assert tr.close(at(9.0))[0]["event"] == "closed"


def test_a_gslb_stream_reconnects_to_the_dead_address_until_the_resolver_moves_on():
    """Recorded: lon's link goes down at 10 s; the answers stop, the stream times out
    3 s later; the resolver still gives lon's address (cached) twice, then nyc's."""
    tr = resolve.StreamTracker("paris", "gslb", 0, timeout=3.0)
    up(tr, 0.0, "100.66.1.53", "lon")
    seq = tr.sent(at(9.9))
    tr.answered("lon", seq, at(9.91))
    tr.sent(at(10.1))
    assert tr.expire(at(13.0)) == []
    assert tr.answer_deadline() == pytest.approx(13.1)
    [broken] = tr.expire(at(13.1))
    assert broken["event"] == "broken" and broken["reason"] == "timeout"
    assert broken["site"] == "lon" and broken["addr"] == "100.66.1.53"
    assert broken["error"] == "no answer for 3 s" and broken["since_answer"] == pytest.approx(3.19)
    assert tr.phase is resolve.Phase.DOWN and tr.site is None
    failed = []
    for k, when in enumerate((13.2, 14.3)):
        tr.resolving(at(when))
        tr.resolved("100.66.1.53", 2 - k, at(when + 0.001))
        failed.append(tr.connect_failed("EHOSTUNREACH", at(when + 0.01)))
    assert [(r["event"], r["addr"], r["site"], r["error"]) for r in failed] == [
        ("connect_failed", "100.66.1.53", None, "EHOSTUNREACH")
    ] * 2
    assert [r["ttl"] for r in failed] == [2, 1]
    tr.resolving(at(15.0))
    assert tr.resolve_failed("timeout", at(16.0))["error"] == "timeout"
    [back] = up(tr, 16.2, "100.66.2.53", "nyc", ttl=5)
    assert back["event"] == "connected" and back["site"] == "nyc" and back["again"] is True
    assert back["gap"] == pytest.approx(16.203 - 13.1)
    assert back["since_answer"] == pytest.approx(16.203 - 9.91)
    assert (back["attempts"], back["resolves"]) == (3, 4)
    assert tr.counts["broken"] == 1 and tr.counts["connect_failed"] == 2
    assert tr.counts["resolve_failed"] == 1 and tr.counts["connected"] == 2


def test_an_anycast_stream_is_reset_by_the_next_site_and_reconnects_there():
    tr = resolve.StreamTracker("tokyo", "anycast", 1, timeout=3.0)
    up(tr, 0.0, "192.0.2.53", "tyo")
    tr.sent(at(10.2))
    [broken] = [tr.lost("reset", "ECONNRESET", at(10.21))]
    assert (broken["reason"], broken["stream"], broken["site"]) == ("reset", 1, "tyo")
    [back] = up(tr, 10.31, "192.0.2.53", "sin")
    assert back["site"] == "sin" and back["gap"] == pytest.approx(0.103)


def test_a_connection_that_breaks_before_its_first_answer_is_a_failed_connect():
    tr = resolve.StreamTracker("paris", "anycast", 0, timeout=3.0)
    tr.resolving(at(0.0))
    tr.resolved("192.0.2.53", 30, at(0.001))
    tr.established(at(0.002))
    tr.sent(at(0.002))
    record = tr.lost("reset", "ECONNRESET", at(0.01))
    assert record["event"] == "connect_failed" and record["error"] == "reset: ECONNRESET"
    assert tr.counts["broken"] == 0 and tr.close(at(1.0)) == []  # never up: nothing to say


def test_a_stream_still_broken_at_the_end_is_unrecovered():
    tr = resolve.StreamTracker("sydney", "gslb", 0, timeout=3.0)
    up(tr, 0.0, "100.66.3.53", "tyo")
    tr.lost("timeout", "ETIMEDOUT", at(8.0))
    tr.resolving(at(8.1))
    [end] = tr.close(at(20.0))
    assert end["event"] == "unrecovered" and end["since_break"] == pytest.approx(12.0)
    assert end["since_answer"] == pytest.approx(19.997)


def test_the_kind_keeps_streams_on_the_stream_port_and_needs_the_unicast_stream_for_gslb(
    tmp_path,
):
    data = load_topology("world").model_dump(by_alias=True, exclude_unset=True, mode="json")
    data.update(service={"publish": "both", "ttl": 5}, unicast=True)
    topo = parse_topology(data, "w.yaml")
    params = TrafficParams(seed=3, resolve_streams=2, tcp_port=8054, tcp_interval=0.1)
    ctx = ProbeContext(topo, make_plan(topo), "paris", params, tmp_path)
    args = resolve._parser().parse_args(kind_class("resolve")().argv(ctx)[3:])
    assert (args.streams, args.stream_port, args.interval) == (2, 8054, 0.1)
    assert (args.stream_timeout, args.timeout) == (params.tcp_timeout, params.dns_timeout)
    kind = kind_class("resolve")
    assert kind.services_on(topo, params) == ("dns", "tcp", "unicast-stream")
    assert kind.services_on(topo, TrafficParams(resolve_streams=0)) == ("dns", "tcp")
    data.update(service={"publish": "anycast"})
    anycast = parse_topology(data, "w.yaml")
    assert kind.services_on(anycast, params) == ("dns", "tcp")
    assert services_for(["dns", "resolve"], topo, params) == ["dns", "tcp", "unicast-stream"]
    # the defaults: one stream per name, the TCP stream's settings
    args = resolve._parser().parse_args(
        ["--client", "c", "--resolver", "10.0.0.1", "--name", "gslb=x", "--out", "o"]
    )
    assert (args.streams, args.stream_port) == (TrafficParams().resolve_streams, 8053) == (1, 8053)
    too_many = ["--client", "c", "--resolver", "10.0.0.1", "--name", "gslb=x", "--out", "o"]
    with pytest.raises(SystemExit):
        resolve._parser().parse_args([*too_many, "--streams", "17"])


@pytest.mark.timeout(30)
def test_the_loop_reconnects_to_the_cached_dead_address_until_the_resolver_moves_on(tmp_path):
    """Real sockets, no root: the resolver names east (127.0.0.1); east is killed, so every
    reconnect is refused until the resolver names west (127.0.0.2)."""
    procs = Procs()
    port = free_port()
    east = procs.start(STREAM, "--site", "east", "--bind", "127.0.0.1", "--port", str(port))
    procs.start(STREAM, "--site", "west", "--bind", "127.0.0.2", "--port", str(port))
    answer = {"addr": "127.0.0.1"}

    def resolver(query):
        msg = dns.message.make_response(query)
        name = query.question[0].name.to_text()
        msg.answer.append(dns.rrset.from_text(name, 5, "IN", "A", answer["addr"]))
        return msg

    resolver_server = FakeDns(resolver)
    out = Collect()
    probe = resolve.ResolveProbe(
        "paris", ("127.0.0.1", resolver_server.port), {"gslb": "svc.gslb.test."},
        rate=5, timeout=0.3, duration=3.0, writer=out, seed=1, site_port=free_port(),
        streams=1, stream_port=port, interval=0.05, stream_timeout=1.0,
    )  # fmt: skip
    reader, writer = os.pipe()

    class NoStop:
        stopped, count = False, 0

        def fileno(self):
            return reader

        def drain(self):
            pass

    def stream(event):
        return [r for r in out.records if r.get("event") == event]

    def wait(predicate, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, out.records
            time.sleep(0.02)

    try:
        wait_listening(port, east)
        wait_listening_on("127.0.0.2", port)
        runner = threading.Thread(target=probe.run, args=(NoStop(),))
        runner.start()
        wait(lambda: bool(stream("connected")))
        east.send_signal(signal.SIGKILL)
        east.wait()
        wait(lambda: len(stream("connect_failed")) >= 2)
        answer["addr"] = "127.0.0.2"
        runner.join(10)
        assert not runner.is_alive()
    finally:
        os.close(reader)
        os.close(writer)
        resolver_server.stop()
        procs.cleanup()
    start = out.records[0]
    assert start["streams"] == 1 and start["stream_port"] == port
    first, back = stream("connected")
    assert (first["addr"], first["site"], first["again"]) == ("127.0.0.1", "east", False)
    [broken] = stream("broken")
    assert broken["site"] == "east" and broken["reason"] in ("eof", "reset")
    failed = stream("connect_failed")
    assert {(r["addr"], r["error"]) for r in failed} == {("127.0.0.1", "ECONNREFUSED")}
    assert (back["addr"], back["site"], back["again"]) == ("127.0.0.2", "west", True)
    assert back["attempts"] == len(failed) + 1 and back["resolves"] >= back["attempts"]
    assert back["t"] > failed[-1]["t"] > broken["t"]
    assert [r["event"] for r in out.records if "stream" in r][-1] == "closed"
    assert all(r["method"] == "gslb" for r in out.records if "method" in r)
    assert probe.stream_counts()["broken"] == 1
