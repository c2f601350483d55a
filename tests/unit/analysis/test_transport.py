"""Transport outcomes per event window, pooled over the moved clients (no root)."""

from __future__ import annotations

import pytest

from testbed.analysis import transport
from testbed.probes.builtin import dns_outcome, tcp_stream_outcome

T0 = 1000.0


def tcp(t, stream, event, **fields):
    return {"t": T0 + t, "kind": "tcp", "client": "paris", "stream": stream, "event": event,
            **fields}  # fmt: skip


def dns(t, status, rtt=0.002):
    return {"t": T0 + t, "status": status, "rtt": rtt if status == "ok" else None}


STREAM = [
    tcp(0.0, 0, "connected", attempt=1, gap=None),
    tcp(0.1, 1, "connected", attempt=1, gap=None),
    tcp(10.2, 0, "reset", error="ECONNRESET"),
    tcp(10.2, 1, "reset", error="ECONNRESET"),
    tcp(10.4, 0, "connect_failed", error="ECONNREFUSED"),
    tcp(10.5, 0, "connected", attempt=2, gap=0.3, since_answer=0.35),
    tcp(10.6, 1, "connected", attempt=2, gap=0.4),
    tcp(20.0, 0, "timeout", error="no answer for 3.0 s"),
    tcp(30.0, 1, "closed"),
]


def test_tcp_stream_outcome_counts_connections_by_how_they_ended():
    o = tcp_stream_outcome(STREAM)
    assert (o.flows, o.reset, o.timed_out, o.survived, o.recovered) == (4, 2, 1, 1, 2)
    assert o.recover_s == [0.35, 0.4] and o.failed == 0
    assert o.ends == {"reset": 2, "timeout": 1, "survived": 1}


def test_a_window_counts_the_flows_up_when_it_began():
    o = transport.window_outcome("tcp-stream", STREAM, T0 + 10.0, T0 + 15.0)
    assert (o.flows, o.reset, o.recovered, o.survived) == (2, 2, 2, 0)
    assert o.recover_s == [0.35, 0.4]
    later = transport.window_outcome("tcp-stream", STREAM, T0 + 15.0, T0 + 40.0)
    assert (later.flows, later.timed_out, later.reset, later.survived) == (2, 1, 0, 1)
    assert later.ends == {"timeout": 1, "survived": 1}


def test_dns_outcome_and_its_window():
    records = [dns(0.05 * k, "timeout" if 100 <= k < 112 else "ok") for k in range(200)]
    o = dns_outcome(records)
    assert (o.flows, o.failed, o.lost, o.survived) == (200, 12, 12, 188)
    assert o.longest_gap_s == pytest.approx(0.65, abs=0.001)  # 12 lost queries, 50 ms apart
    w = transport.window_outcome("dns", records, T0 + 4.0, T0 + 6.0)
    assert (w.flows, w.failed) == (40, 12)


def test_outcomes_pool_over_clients():
    a = tcp_stream_outcome(STREAM)
    total = transport.add(transport.add(None, a), a)
    assert (total.flows, total.reset, total.recovered) == (8, 4, 4)
    assert total.recover_s == [0.35, 0.4, 0.35, 0.4]
    assert total.ends["reset"] == 4
    assert a.flows == 4  # the parts are not changed


def test_transport_csv_of_a_golden_summary():
    from pathlib import Path

    from testbed.analysis import transport_csv
    from testbed.analysis.model import Summary

    golden = Path(__file__).resolve().parents[2] / "golden" / "summary" / "failover.summary.json"
    summary = Summary.model_validate_json(golden.read_text())
    lines = transport_csv(summary).splitlines()
    assert lines[0].startswith("event,event_kind,target,kind,flows,survived,reset")
    rows = [line.split(",") for line in lines[1:]]
    assert {r[3] for r in rows} == {"dns", "tcp-stream"}
    tcp = next(r for r in rows if r[3] == "tcp-stream")
    assert tcp[1:3] == ["fail_site", "east"] and int(tcp[4]) > 0
    assert transport_csv(Summary()) == ""
