"""The resolve probe: its bookkeeping on recorded sequences, its wire formats, its command line."""

from __future__ import annotations

import os
import socket
import threading

import dns.edns
import dns.flags
import dns.message
import dns.rdatatype
import dns.rrset
import pytest

from testbed.probes import resolve
from testbed.probes.kinds import ProbeContext, kind_class
from testbed.topology.load import load_topology, parse_topology
from testbed.topology.plan import make_plan
from testbed.traffic import TrafficParams


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
