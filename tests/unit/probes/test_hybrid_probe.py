"""hybrid: the redirect, the per-connection tracker on recorded event sequences, the outcome,
the kind's checks, and the probe process against nginx and the stream service on 127.0.0.x
(skipped without nginx)."""

from __future__ import annotations

import copy
import os
import signal
from pathlib import Path
from typing import Iterator, List

import pytest

from testbed.errors import InputError
from testbed.probes.http import Response
from testbed.probes.hybrid import HybridTracker, Phase, hybrid_outcome, no_unicast, parse_redirect
from testbed.probes.kinds import ProbeContext, kind_class, services_for
from testbed.probes.tcp import Now
from testbed.scenario.load import parse_scenario
from testbed.scenario.validate import validate_against
from testbed.services import http as service
from testbed.topology.load import load_topology, parse_topology
from testbed.traffic import TrafficParams, probe_argvs
from tests.unit.probes.helpers import Procs, free_port, wait_records
from tests.unit.probes.nginx import Nginx, needs_nginx


def at(x: float) -> Now:
    return Now(1000.0 + x, x)


def unicast_two_sites():
    data = load_topology("two-sites").model_dump(by_alias=True, exclude_unset=True, mode="json")
    data["unicast"] = True
    return parse_topology(data, "t.yaml")


# -- the redirect ---------------------------------------------------------------


def test_parse_redirect():
    ok = Response(302, {"location": "http://100.66.0.53/stream", "x-site": "east"})
    assert parse_redirect(ok) == ("100.66.0.53", "east", None)
    with_port = Response(302, {"location": "http://100.66.0.53:8080/stream", "x-site": "e"})
    assert parse_redirect(with_port)[0] == "100.66.0.53"
    assert parse_redirect(Response(404, {"x-site": "east"})) == (None, "east", "HTTP 404")
    assert parse_redirect(Response(302, {}))[2] == "no Location"
    named = Response(302, {"location": "http://east.example/stream"})
    assert parse_redirect(named)[2] == "Location not an IPv4 address"


# -- the tracker ----------------------------------------------------------------


def connect(tr: HybridTracker, when: float, site: str, address: str) -> List[dict]:
    """Redirect, connect and first answer, from ``when`` on."""
    tr.resolving(at(when))
    out = [tr.resolved(site, address, at(when + 0.001))]
    tr.established(at(when + 0.002))
    seq = tr.sent(at(when + 0.002))
    return out + tr.answered(site, seq, at(when + 0.003))


def test_first_connection_resolved_then_connected():
    tr = HybridTracker("ca", 0, timeout=3.0)
    resolved, connected = connect(tr, 0, "east", "100.66.0.53")
    assert resolved == {
        "t": 1000.001, "kind": "hybrid", "client": "ca", "conn": 0, "event": "resolved",
        "site": "east", "address": "100.66.0.53", "took": 0.001, "again": False,
    }  # fmt: skip
    assert connected == {
        "t": 1000.003, "kind": "hybrid", "client": "ca", "conn": 0, "event": "connected",
        "site": "east", "address": "100.66.0.53", "attempt": 1, "gap": None,
        "since_answer": None, "resolves": 1,
    }  # fmt: skip
    assert tr.phase is Phase.UP
    seq = tr.sent(at(0.2))
    assert tr.answered("east", seq, at(0.21)) == []


def test_catchment_change_leaves_the_connection_alone():
    """Nothing in the tracker follows routes: answers keep coming from the same site."""
    tr = HybridTracker("cb", 1, timeout=3.0)
    connect(tr, 0, "west", "100.66.1.53")
    for k in range(1, 50):  # 10 s of answers, whatever the anycast catchment does
        seq = tr.sent(at(0.2 * k))
        assert tr.answered("west", seq, at(0.2 * k + 0.001)) == []
        assert tr.expire(at(0.2 * k + 0.002)) == []
    assert tr.close(at(10.0))[0]["event"] == "closed"
    assert tr.counts["re_resolved"] == 0 and tr.counts["timeout"] == 0


def test_own_site_fails_timeout_then_a_new_redirect_to_the_surviving_site():
    tr = HybridTracker("ca", 0, timeout=3.0)
    connect(tr, 0, "east", "100.66.0.53")
    tr.sent(at(1.0))  # east's uplink goes down: never answered
    assert tr.answer_deadline() == 4.0
    assert tr.expire(at(3.9)) == []
    [timeout] = tr.expire(at(4.0))
    assert timeout["event"] == "timeout" and timeout["site"] == "east"
    assert timeout["address"] == "100.66.0.53" and timeout["error"] == "no answer for 3.0 s"
    assert tr.phase is Phase.DOWN and tr.outstanding == {}
    # the first redirect fails (routes still moving), the second sends it to west
    tr.resolving(at(4.1))
    failed = tr.resolve_failed("ENETUNREACH", at(4.1))
    assert (failed["event"], failed["site"], failed["error"]) == (
        "resolve_failed",
        None,
        "ENETUNREACH",
    )
    tr.resolving(at(4.3))
    again = tr.resolved("west", "100.66.1.53", at(4.301))
    assert again["again"] is True and again["took"] == 0.001
    tr.established(at(4.302))
    seq = tr.sent(at(4.302))
    [connected] = tr.answered("west", seq, at(4.305))
    assert connected["attempt"] == 2 and connected["resolves"] == 2
    assert connected["gap"] == pytest.approx(0.305)  # from the timeout
    assert connected["since_answer"] == pytest.approx(4.302)  # from east's last answer (0.003)
    assert tr.counts["re_resolved"] == 1 and tr.counts["reconnects"] == 1


def test_connect_failure_asks_for_a_redirect_again():
    tr = HybridTracker("ca", 0, timeout=3.0)
    tr.resolving(at(0))
    tr.resolved("east", "100.66.0.53", at(0.001))
    failed = tr.connect_failed("EHOSTUNREACH", at(0.5))
    assert (failed["event"], failed["site"], failed["address"]) == (
        "connect_failed",
        "east",
        "100.66.0.53",
    )
    assert tr.phase is Phase.DOWN and tr.address is None
    connect(tr, 0.6, "west", "100.66.1.53")
    assert tr.attempt == 1 and tr.resolves == 0


def test_reset_eof_site_change_and_stop():
    tr = HybridTracker("ca", 0, timeout=3.0)
    connect(tr, 0, "east", "100.66.0.53")
    seq = tr.sent(at(0.2))
    [changed] = tr.answered("west", seq, at(0.21))
    assert changed["event"] == "site_changed" and changed["previous"] == "east"
    assert tr.lost("reset", "ECONNRESET", at(0.3))["site"] == "west"
    # stopped while down: unrecovered, with the time since the last answer
    [stopped] = tr.close(at(1.0))
    assert stopped["event"] == "unrecovered" and stopped["since_answer"] == pytest.approx(0.79)
    assert tr.answered("east", 99, at(1.1)) == [] and tr.counts["ignored"] == 1


# -- the outcome ----------------------------------------------------------------


def rec(t: float, event: str, conn: int = 0, **fields) -> dict:
    return {"t": t, "kind": "hybrid", "client": "ca", "conn": conn, "event": event, **fields}


def test_outcome_of_a_failed_site_and_a_surviving_one():
    records = [
        rec(0.0, "resolved", again=False),
        rec(0.0, "connected", gap=None, since_answer=None),
        rec(0.1, "resolved", conn=1, again=False),
        rec(0.1, "connected", conn=1, gap=None, since_answer=None),
        rec(6.0, "timeout", error="no answer for 3.0 s"),
        rec(6.1, "resolve_failed", error="ENETUNREACH"),
        rec(6.3, "resolved", again=True),
        rec(6.3, "connected", gap=0.3, since_answer=3.3),
        rec(9.0, "closed"),
        rec(9.0, "closed", conn=1),
    ]
    out = hybrid_outcome(records)
    assert (out.kind, out.flows, out.survived, out.timed_out, out.reset) == ("hybrid", 3, 2, 1, 0)
    assert (out.recovered, out.recover_s, out.failed) == (
        1,
        [3.3],
        1,
    )  # without service: the timeout included
    assert out.longest_gap_s == 3.3
    assert out.ends == {"timeout": 1, "survived": 2, "re_resolved": 1}


def test_outcome_counts_a_connection_that_never_came_back():
    records = [
        rec(0.0, "connected", gap=None, since_answer=None),
        rec(1.0, "reset", error="ECONNRESET"),
        rec(1.1, "connect_failed", error="ECONNREFUSED"),
        rec(5.0, "unrecovered", since_answer=4.5),
    ]
    out = hybrid_outcome(records)
    assert (out.flows, out.survived, out.reset, out.recovered, out.failed) == (1, 0, 1, 0, 1)
    assert out.longest_gap_s == 4.5


# -- the kind -------------------------------------------------------------------


def test_kind_needs_a_unicast_prefix_at_every_site(monkeypatch):
    monkeypatch.setattr(service, "installed", lambda: True)
    kind = kind_class("hybrid")
    assert (kind.record_prefix, kind.process, kind.long_lived) == ("hybrid", "hybrid-probe", True)
    assert services_for(["dns", "hybrid"]) == ["dns", "http", "unicast-stream"]
    assert kind.unavailable(load_topology("two-sites")) == (
        "no site has a unicast prefix to redirect clients to: give the sites one "
        "(topology unicast: true, or sites[].unicast: auto; --set topology.unicast=true)"
    )
    assert kind.unavailable(unicast_two_sites()) is None
    data = load_topology("two-sites").model_dump(by_alias=True, exclude_unset=True, mode="json")
    data["sites"][0]["unicast"] = "auto"
    partial = parse_topology(copy.deepcopy(data), "t.yaml")
    assert no_unicast(partial) is not None and no_unicast(partial).startswith("site(s) west have")
    monkeypatch.setattr(service, "installed", lambda: False)
    assert kind.unavailable(unicast_two_sites()) == "nginx is not installed (apt-get install nginx)"


def test_a_run_asking_for_hybrid_without_unicast_prefixes_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(service, "installed", lambda: True)
    scenario = parse_scenario(
        {
            "name": "h",
            "topology": "two-sites",
            "duration": 5,
            "traffic": {"kinds": ["dns", "hybrid"]},
        },
        "s.yaml",
    )
    with pytest.raises(InputError) as info:
        validate_against(scenario, load_topology("two-sites"), "s.yaml")
    line = str(info.value)
    assert "traffic.kinds[1]: hybrid: no site has a unicast prefix" in line and "\n" not in line
    validate_against(scenario, unicast_two_sites(), "s.yaml")  # with them: fine


def test_argv():
    params = TrafficParams(seed=3, kinds=("dns", "hybrid"), tcp_streams=3, tcp_port=9000)
    argvs = probe_argvs(unicast_two_sites(), "ca", params, Path("/r"))
    assert sorted(argvs) == ["dns", "hybrid"]
    assert " ".join(argvs["hybrid"][1:]) == (
        "-m testbed.probes.hybrid --client ca --target 192.0.2.53 --http-port 80 --port 9000 "
        "--connections 3 --interval 0.2 --timeout 3.0 --resolve-timeout 2 --seed 3 "
        "--out /r/hybrid-ca.jsonl"
    )
    ctx = ProbeContext(unicast_two_sites(), None, "ca", TrafficParams(tcp_streams=0), Path("/r"))
    assert "--connections 1" in " ".join(kind_class("hybrid")().argv(ctx))


# -- the process ----------------------------------------------------------------


@pytest.fixture
def procs() -> Iterator[Procs]:
    p = Procs()
    yield p
    p.cleanup()


@needs_nginx
def test_probe_follows_the_redirect_and_comes_back_through_it_after_a_break(
    tmp_path, procs, nginx: Nginx
):
    http, stream = free_port(), free_port()
    nginx.start(tmp_path / "nginx", http, unicast="127.0.0.2")
    server = procs.start("testbed.services.stream", "--site", "lon", "--bind", "127.0.0.2",
                         "--port", str(stream))  # fmt: skip
    out = tmp_path / "hybrid-ca.jsonl"
    p = procs.start(
        "testbed.probes.hybrid", "--client", "ca", "--target", "127.0.0.1",
        "--http-port", str(http), "--port", str(stream), "--connections", "2",
        "--interval", "0.05", "--out", str(out),
    )  # fmt: skip
    records = wait_records(out, lambda rs: sum(r["event"] == "connected" for r in rs) == 2)
    resolved = [r for r in records if r["event"] == "resolved"]
    assert {(r["site"], r["address"], r["again"]) for r in resolved} == {
        ("lon", "127.0.0.2", False)
    }
    os.kill(server.pid, signal.SIGTERM)  # the unicast service goes: both connections break
    server.wait(timeout=5)
    wait_records(out, lambda rs: sum(r["event"] == "eof" for r in rs) == 2)
    procs.start("testbed.services.stream", "--site", "lon", "--bind", "127.0.0.2",
                "--port", str(stream))  # fmt: skip
    records = wait_records(out, lambda rs: sum(r["event"] == "connected" for r in rs) == 4)
    again = [r for r in records if r["event"] == "connected" and r["attempt"] == 2]
    assert all(r["gap"] is not None and r["resolves"] >= 1 for r in again)
    assert any(r["event"] == "resolved" and r["again"] for r in records)
    os.kill(p.pid, signal.SIGTERM)
    assert p.wait(timeout=5) == 0
    records = wait_records(out, lambda rs: sum(r["event"] == "closed" for r in rs) == 2)
    out_come = hybrid_outcome(records)
    assert (out_come.flows, out_come.survived, out_come.recovered) == (4, 2, 2)
    assert out_come.ends["eof"] == 2 and out_come.ends["re_resolved"] >= 2


def test_probe_bad_arguments_exit_2(procs):
    p = procs.start("testbed.probes.hybrid", "--client", "ca", "--connections", "0",
                    "--out", "/dev/null")  # fmt: skip
    assert p.wait(timeout=10) == 2
