"""http-short: HTTP parsing, the request tracker, the outcome on hand-made records, the kind,
and the probe process against nginx on 127.0.0.1 (skipped without nginx)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Iterator

import pytest

from testbed.probes import http as http_probe
from testbed.probes.http import (
    RequestTracker,
    Response,
    build_request,
    error_class,
    http_outcome,
    parse_response,
)
from testbed.probes.kinds import ProbeContext, kind_class, services_for
from testbed.probes.tcp import Now
from testbed.services import http as service
from testbed.topology.load import load_topology
from testbed.traffic import TrafficParams
from tests.unit.probes.helpers import Procs, free_port, read, wait_records
from tests.unit.probes.nginx import Nginx, needs_nginx


def at(x: float) -> Now:
    return Now(1000.0 + x, x)


# -- HTTP ---------------------------------------------------------------------------


def test_request_asks_for_one_answer_and_a_close():
    assert build_request("192.0.2.53", "/redirect") == (
        b"GET /redirect HTTP/1.1\r\nHost: 192.0.2.53\r\nUser-Agent: anycast-testbed\r\n"
        b"Accept: */*\r\nConnection: close\r\n\r\n"
    )


ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-Site: lon\r\nX-Server: lon-1\r\n\r\n"


def test_parse_response_waits_for_the_whole_answer():
    assert parse_response(b"") is None
    assert parse_response(b"HT") is None
    assert parse_response(ANSWER) is None
    assert parse_response(ANSWER + b"lon lo") is None
    answer = parse_response(ANSWER + b"lon lon-1\nEXTRA")
    assert answer == Response(
        200, {"content-length": "10", "x-site": "lon", "x-server": "lon-1"}, b"lon lon-1\n"
    )
    assert answer is not None and answer.site == "lon"


def test_parse_response_without_a_length_ends_at_eof():
    head = b"HTTP/1.0 302 Found\r\nLocation: http://100.66.0.53/stream\r\n\r\nbody"
    assert parse_response(head) is None
    answer = parse_response(head, eof=True)
    assert answer is not None and answer.status == 302 and answer.body == b"body"
    assert answer.site is None


@pytest.mark.parametrize(
    "data, eof, message",
    [
        (b"SSH-2.0-OpenSSH\r\n", False, "bad answer"),
        (b"HTTP/2 200\r\n\r\n", False, "bad answer"),
        (b"HTTP/1.1 OK\r\n\r\n", False, "bad answer"),
        (b"", True, "EOF"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", True, "EOF"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", True, "EOF"),
    ],
)
def test_parse_response_refuses_what_is_not_a_whole_http_answer(data, eof, message):
    with pytest.raises(ValueError, match=message):
        parse_response(data, eof=eof)


def test_error_classes():
    assert [error_class(e) for e in ("ECONNRESET", "EPIPE", "timeout", "ETIMEDOUT")] == [
        "reset", "reset", "timeout", "timeout",
    ]  # fmt: skip
    assert {error_class(e) for e in ("ECONNREFUSED", "ENETUNREACH", "EOF", "HTTP 503")} == {
        "failed"
    }


# -- the tracker ----------------------------------------------------------------


def test_tracker_records_each_request_once_with_its_start_time():
    tr = RequestTracker("ca", timeout=2.0)
    a, b = tr.started(at(0)), tr.started(at(0.2))
    ok = Response(200, {"x-site": "east", "x-server": "east-1"})
    assert tr.answered(a, ok, at(0.01)) == {
        "t": 1000.0, "kind": "http", "client": "ca", "seq": 0, "event": "ok",
        "status": 200, "site": "east", "server": "east-1", "latency": 0.01,
    }  # fmt: skip
    assert tr.failed(b, "ECONNRESET", "answer", at(0.25)) == {
        "t": 1000.2, "kind": "http", "client": "ca", "seq": 1, "event": "failed",
        "error": "ECONNRESET", "stage": "answer", "latency": 0.05,
    }  # fmt: skip
    assert tr.inflight == {} and tr.counts == {"requests": 2, "ok": 1, "failed": 1, "skipped": 0}


def test_tracker_an_error_status_is_a_failure_and_old_requests_expire():
    tr = RequestTracker("ca", timeout=2.0)
    a = tr.started(at(0))
    record = tr.answered(a, Response(503, {"x-site": "west"}), at(0.1))
    assert record["event"] == "failed" and record["error"] == "HTTP 503"
    assert record["site"] == "west" and record["stage"] == "answer"
    b, c = tr.started(at(1)), tr.started(at(2))
    assert tr.deadline(b) == 3.0
    assert tr.expired(at(2.9)) == []
    assert tr.expired(at(3.0)) == [b]
    assert [r["seq"] for r in tr.abandon()] == [b, c]
    assert tr.inflight == {}


# -- the outcome ----------------------------------------------------------------


def rec(t: float, event: str = "ok", latency: float = 0.01, **fields) -> dict:
    return {"t": t, "kind": "http", "client": "ca", "event": event, "latency": latency, **fields}


def test_outcome_counts_requests_splits_failures_and_finds_the_gap_and_recovery():
    records = [
        rec(0.0, site="east"),
        rec(0.2, site="east"),
        rec(0.6, "failed", error="ENETUNREACH"),  # written out of order: sorted by t
        rec(0.4, "failed", error="ECONNRESET"),
        rec(0.8, "failed", error="timeout", latency=2.0),
        rec(1.0, site="west", latency=0.02),
        rec(1.2, site="west"),
        rec(1.3, "abandoned"),
    ]
    out = http_outcome(records)
    assert (out.kind, out.flows, out.survived) == ("http-short", 7, 4)
    assert (out.reset, out.timed_out, out.failed, out.lost) == (1, 1, 1, 3)
    assert out.lost_unit == "requests"
    assert out.recovered == 1 and out.recover_s == [0.62]  # from 0.4 to 1.0 + 0.02
    assert out.longest_gap_s == pytest.approx(0.81)  # answers at 0.21 and 1.02
    assert out.ends == {"ok": 4, "reset": 1, "failed": 1, "timeout": 1}


def test_outcome_of_nothing_and_of_all_good():
    empty = http_outcome([])
    assert (empty.flows, empty.lost, empty.longest_gap_s) == (0, 0, None)
    good = http_outcome([rec(0.2 * k) for k in range(10)])
    assert (good.flows, good.survived, good.lost, good.recovered) == (10, 10, 0, 0)
    assert good.longest_gap_s == pytest.approx(0.2)
    assert good.ends == {"ok": 10}


# -- the kind -------------------------------------------------------------------


def test_kind_registration_argv_and_services(monkeypatch):
    kind = kind_class("http-short")
    assert (kind.record_prefix, kind.process, kind.long_lived) == ("http", "http-probe", False)
    assert services_for(["dns", "http-short"]) == ["dns", "http"]
    ctx = ProbeContext(load_topology("two-sites"), None, "ca", TrafficParams(seed=7), Path("/r"))
    argv = kind().argv(ctx)
    assert argv[1:3] == ["-m", "testbed.probes.http"]
    assert " ".join(argv[3:]) == (
        "--client ca --target 192.0.2.53 --port 80 --rate 5 --timeout 2 --seed 7 "
        "--out /r/http-ca.jsonl"
    )
    ctx = ProbeContext(
        load_topology("two-sites"), None, "ca", TrafficParams(http_rate=40), Path("/r")
    )
    assert "--rate 40 " in " ".join(kind().argv(ctx))
    monkeypatch.setattr(service, "installed", lambda: True)
    assert kind.unavailable(load_topology("two-sites")) is None
    monkeypatch.setattr(service, "installed", lambda: False)
    assert kind.unavailable(load_topology("two-sites")) == (
        "nginx is not installed (apt-get install nginx)"
    )


# -- the process ----------------------------------------------------------------


@pytest.fixture
def procs() -> Iterator[Procs]:
    p = Procs()
    yield p
    p.cleanup()


@needs_nginx
def test_probe_against_nginx_then_a_closed_port(tmp_path, procs, nginx: Nginx):
    port = free_port()
    server = nginx.start(tmp_path / "nginx", port)
    out = tmp_path / "http-ca.jsonl"
    p = procs.start(
        "testbed.probes.http", "--client", "ca", "--target", "127.0.0.1", "--port", str(port),
        "--rate", "40", "--duration", "0.5", "--out", str(out),
    )  # fmt: skip
    assert p.wait(timeout=10) == 0
    records = read(out)
    assert 15 <= len(records) <= 21, records
    assert {(r["event"], r["site"], r["status"]) for r in records} == {("ok", "lon", 200)}
    assert [r["seq"] for r in sorted(records, key=lambda r: r["t"])] == list(range(len(records)))
    os.kill(server.pid, signal.SIGTERM)
    server.wait(timeout=5)
    closed = tmp_path / "closed.jsonl"
    p = procs.start("testbed.probes.http", "--client", "ca", "--target", "127.0.0.1",
                    "--port", str(port), "--rate", "20", "--out", str(closed))  # fmt: skip
    records = wait_records(closed, lambda rs: len(rs) >= 3)
    assert {(r["event"], r["error"], r["stage"]) for r in records} == {
        ("failed", "ECONNREFUSED", "connect")
    }
    os.kill(p.pid, signal.SIGTERM)
    assert p.wait(timeout=5) == 0
    assert p.stderr is not None and "http probe ca: requests" in p.stderr.read()


def test_probe_bad_arguments_exit_2(procs):
    p = procs.start("testbed.probes.http", "--client", "ca", "--rate", "0", "--out", "/dev/null")
    assert p.wait(timeout=10) == 2
    p = procs.start("testbed.probes.http", "--client", "ca", "--path", "x y", "--out", "/dev/null")
    assert p.wait(timeout=10) == 2


def test_module_constants_fit_the_defaults():
    assert http_probe.MAX_RATE >= 5 and http_probe.MAX_INFLIGHT >= 5 * 2
