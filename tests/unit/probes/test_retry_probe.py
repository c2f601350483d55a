"""tcp-retry: the backoff, the tracker on event sequences, the outcome, argv, and the process."""

from __future__ import annotations

import random
import signal
import socket
import struct
import time
from pathlib import Path
from typing import Iterator, List

import pytest

from testbed.probes import retry
from testbed.probes.kinds import ProbeContext, kind_class
from testbed.probes.retry import Backoff, RetryTracker, outcome, stream_rng
from testbed.probes.tcp import Now, Phase
from testbed.topology.load import load_topology
from testbed.traffic import TrafficParams, probe_argvs
from tests.unit.probes.helpers import Procs, Records, free_port, read, wait_listening, wait_records
from tests.unit.probes.test_tcp_probe import ScriptedServer, server_factory  # noqa: F401

PROBE = "testbed.probes.retry"
STREAM = "testbed.services.stream"


def at(x: float) -> Now:
    """An instant with the same value on both clocks."""
    return Now(1000.0 + x, x)


def tracker(timeout: float = 3.0, seed: int = 1) -> RetryTracker:
    return RetryTracker("ca", 0, timeout, Backoff(random.Random(seed)))


def up(tr: RetryTracker, when: float, site: str = "east") -> List[dict]:
    """Attempt, handshake, one message and its answer at ``when``; the answer's records."""
    tr.connecting(at(when))
    tr.established(at(when))
    seq = tr.sent(at(when))
    return tr.answered(site, seq, at(when + 0.01))


# -- backoff --------------------------------------------------------------------


def test_backoff_doubles_to_its_cap_with_equal_jitter():
    b = Backoff(random.Random(7), base=0.1, cap=2.0)
    assert [b.nominal(n) for n in range(7)] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    assert b.nominal(10_000) == 2.0  # no overflow
    for n in range(8):
        for _ in range(50):
            d = b.delay(n)
            assert b.nominal(n) / 2 <= d <= b.nominal(n)


def test_backoff_is_seeded_per_client_and_stream():
    def draws(seed: int, client: str, stream: int) -> List[float]:
        b = Backoff(stream_rng(seed, client, stream))
        return [b.delay(n) for n in range(5)]

    assert draws(1, "ca", 0) == draws(1, "ca", 0)
    assert draws(1, "ca", 0) != draws(1, "ca", 1)
    assert draws(1, "ca", 0) != draws(2, "ca", 0)


# -- the tracker ----------------------------------------------------------------


def test_first_answer_is_connected_after_one_attempt():
    tr = tracker()
    attempt = tr.connecting(at(0))
    assert attempt["event"] == "attempt" and attempt["kind"] == "tcpretry"
    assert attempt["n"] == 1 and attempt["reconnect"] is False and attempt["delay"] == 0.0
    tr.established(at(0.001))
    seq = tr.sent(at(0.001))
    [rec] = tr.answered("east", seq, at(0.003))
    assert rec == {
        "t": 1000.003,
        "kind": "tcpretry",
        "client": "ca",
        "stream": 0,
        "event": "connected",
        "site": "east",
        "attempts": 1,
    }
    assert tr.phase is Phase.UP and tr.attempts == 0


def test_reset_backs_off_then_recovers_on_the_new_site_with_the_loss():
    tr = tracker()
    up(tr, 0.0)
    tr.sent(at(0.2))
    tr.sent(at(0.4))  # two messages out when the RST comes
    brk = tr.lost("reset", "ECONNRESET", at(0.5))
    assert brk["event"] == "break" and brk["reason"] == "reset" and brk["error"] == "ECONNRESET"
    assert brk["site"] == "east" and brk["lost"] == 2 and brk["answered"] is True
    assert 0.05 <= brk["retry_in"] <= 0.1  # the first backoff: 0.1 s, jittered
    assert tr.retry_at == pytest.approx(0.5 + brk["retry_in"])
    assert not tr.due(0.5) and tr.due(tr.retry_at)
    # the first reconnect is refused: the next delay doubles
    attempt = tr.connecting(at(0.6))
    assert attempt["n"] == 1 and attempt["reconnect"] is True
    failed = tr.connect_failed("ECONNREFUSED", at(0.6))
    assert failed["event"] == "attempt_failed" and failed["site"] is None
    assert 0.1 <= failed["retry_in"] <= 0.2
    assert tr.connecting(at(0.9))["n"] == 2
    tr.established(at(0.9))
    seq = tr.sent(at(0.9))
    [rec] = tr.answered("west", seq, at(0.95))
    assert rec["event"] == "recovered" and rec["site"] == "west" and rec["previous"] == "east"
    assert rec["reason"] == "reset" and rec["attempts"] == 2 and rec["lost"] == 2
    assert rec["recover_s"] == pytest.approx(0.45)
    assert rec["since_answer"] == pytest.approx(0.95 - 0.01)
    # recovered: the backoff starts again from the base
    assert tr.attempts == 0
    assert tr.lost("reset", "ECONNRESET", at(2.0))["retry_in"] <= 0.1


def test_backoff_grows_with_every_failed_attempt_up_to_the_cap():
    tr = tracker()
    up(tr, 0.0)
    tr.lost("reset", "ECONNRESET", at(1.0))
    delays = []
    for k in range(8):
        tr.connecting(at(2.0 + k))
        delays.append(tr.connect_failed("ETIMEDOUT", at(2.0 + k))["retry_in"])
    nominal = [0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0, 2.0]
    for d, n in zip(delays, nominal, strict=True):
        assert n / 2 <= d <= n


def test_timeout_is_a_break_and_a_connection_that_never_answers_continues_the_outage():
    tr = tracker(timeout=1.0)
    up(tr, 0.0)
    tr.sent(at(0.2))
    assert tr.answer_deadline() == pytest.approx(1.2)
    assert tr.expire(at(1.1)) == []
    [brk] = tr.expire(at(1.2))
    assert brk["reason"] == "timeout" and brk["error"] == "no answer for 1.0 s"
    assert brk["site"] == "east" and brk["lost"] == 1
    # a connection that is reset before it answers: site null, its loss joins the outage
    tr.connecting(at(1.5))
    tr.established(at(1.5))
    tr.sent(at(1.5))
    brk2 = tr.lost("reset", "ECONNRESET", at(1.6))
    assert brk2["site"] is None and brk2["answered"] is False and brk2["lost"] == 1
    [rec] = up(tr, 2.0, site="west")
    assert rec["event"] == "recovered" and rec["previous"] == "east"
    assert rec["reason"] == "timeout" and rec["lost"] == 2 and rec["attempts"] == 2
    assert rec["recover_s"] == pytest.approx(2.01 - 1.2)


def test_answers_out_of_phase_or_unknown_are_ignored():
    tr = tracker()
    assert tr.answered("east", 0, at(0)) == []
    up(tr, 0.0)
    assert tr.answered("east", 99, at(0.1)) == []
    assert tr.counts["ignored"] == 2
    seq = tr.sent(at(0.2))
    [changed] = tr.answered("west", seq, at(0.21))
    assert changed["event"] == "site_changed" and changed["previous"] == "east"


def test_stop_reports_up_longest_gap_and_an_unrecovered_break():
    tr = tracker()
    up(tr, 0.0)
    seq = tr.sent(at(0.2))
    tr.answered("east", seq, at(0.21))
    rec = tr.stop(at(0.5))
    assert rec["event"] == "stopped" and rec["up"] is True and rec["site"] == "east"
    assert rec["longest_gap"] == pytest.approx(0.29) and rec["down_s"] is None
    tr = tracker()
    up(tr, 0.0)
    tr.lost("reset", "ECONNRESET", at(1.0))
    rec = tr.stop(at(4.0))
    assert rec["up"] is False and rec["site"] is None
    assert rec["down_s"] == pytest.approx(3.0) and rec["longest_gap"] == pytest.approx(3.99)


# -- the outcome ----------------------------------------------------------------


def run_of_events() -> Records:
    """Two streams: stream 0 reset, one refused attempt, recovered; stream 1 never broke."""
    tr0, tr1 = tracker(seed=1), RetryTracker("ca", 1, 3.0, Backoff(random.Random(2)))
    records: Records = []
    records += [tr0.connecting(at(0))] + up_rest(tr0, 0.0)
    records += [tr1.connecting(at(0))] + up_rest(tr1, 0.0)
    tr0.sent(at(0.2))
    records.append(tr0.lost("reset", "ECONNRESET", at(0.3)))
    records.append(tr0.connecting(at(0.4)))
    records.append(tr0.connect_failed("EHOSTUNREACH", at(0.4)))
    records.append(tr0.connecting(at(0.6)))
    tr0.established(at(0.6))
    seq = tr0.sent(at(0.6))
    records += tr0.answered("west", seq, at(0.65))
    records += [tr0.stop(at(5.0)), tr1.stop(at(5.0))]
    return records


def up_rest(tr: RetryTracker, when: float) -> List[dict]:
    tr.established(at(when))
    seq = tr.sent(at(when))
    return tr.answered("east", seq, at(when + 0.01))


def test_outcome_counts_connections_breaks_recoveries_and_lost_messages():
    o = outcome(run_of_events())
    assert o.kind == "tcp-retry"
    assert o.flows == 4  # attempts: 2 first connections, 1 refused, 1 reconnect
    assert o.survived == 2 and o.reset == 1 and o.timed_out == 0 and o.failed == 1
    assert o.ends == {"closed": 2, "connect_failed": 1, "reset": 1}
    assert o.recovered == 1 and o.recover_s == [pytest.approx(0.35)]
    assert o.lost == 1 and o.lost_unit == "messages"
    assert o.longest_gap_s == pytest.approx(5.0 - 0.01)  # stream 1: its only answer at 0.01


def test_outcome_of_a_probe_killed_midway_counts_the_unfinished():
    records = [r for r in run_of_events() if r["event"] != "stopped"]
    o = outcome(records)
    assert o.ends == {"connect_failed": 1, "reset": 1, "unfinished": 2}
    assert o.survived == 0 and o.longest_gap_s == pytest.approx(0.64)
    assert outcome([]).flows == 0 and outcome([]).longest_gap_s is None


def test_kind_registration_and_argv():
    kind = kind_class("tcp-retry")
    assert kind.record_prefix == "tcpretry" and kind.services == ("tcp",)
    topo = load_topology("two-sites")
    params = TrafficParams(seed=4, tcp_streams=0, kinds=("dns", "tcp-retry"))
    argv = probe_argvs(topo, "ca", params, Path("/r"))["tcpretry"]
    line = " ".join(argv)
    assert argv[1:3] == ["-m", "testbed.probes.retry"]
    assert "--streams 1" in line  # at least one stream, whatever tcp_streams says
    assert "--out /r/tcpretry-ca.jsonl" in line and "--seed 4" in line
    assert "--target 192.0.2.53 --port 8053" in line
    ctx = ProbeContext(topo, None, "cb", TrafficParams(), Path("/r"))
    assert "--streams 2" in " ".join(kind().argv(ctx))
    assert "--backoff 0.1 --backoff-max 2 " in line  # the defaults, written out


def test_the_runs_backoff_reaches_the_probe():
    params = TrafficParams(kinds=("tcp-retry",), retry_backoff=0.25, retry_backoff_max=4.0)
    argv = probe_argvs(load_topology("two-sites"), "ca", params, Path("/r"))["tcpretry"]
    args = retry._parser().parse_args(argv[3:])
    assert (args.backoff, args.backoff_max) == (0.25, 4.0)


def test_bad_arguments_exit_2_with_one_line(procs):
    p = procs.start(PROBE, "--client", "ca", "--out", "/tmp/x", "--backoff", "0")
    _, err = p.communicate(timeout=10)
    assert p.returncode == 2 and len(err.strip().splitlines()) == 1, err


# -- the process ----------------------------------------------------------------


@pytest.fixture
def procs() -> Iterator[Procs]:
    p = Procs()
    yield p
    p.cleanup()


def events(records: Records, event: str) -> Records:
    return [r for r in records if r["event"] == event]


@pytest.mark.timeout(30)
def test_process_reset_then_refused_then_recovered_on_another_site(procs, tmp_path):
    port = free_port()
    out = tmp_path / "tcpretry-ca.jsonl"
    args = ["--site", "east", "--bind", "127.0.0.1", "--port", str(port)]
    east = procs.start(STREAM, *args)
    wait_listening(port, east)
    probe = procs.start(
        PROBE, "--client", "ca", "--target", "127.0.0.1", "--port", str(port),
        "--streams", "1", "--interval", "0.05", "--timeout", "2", "--out", str(out),
    )  # fmt: skip
    wait_records(out, lambda rs: bool(events(rs, "connected")))
    east.send_signal(signal.SIGKILL)
    east.wait()
    # nobody listens: attempts refused, further and further apart
    records = wait_records(out, lambda rs: len(events(rs, "attempt_failed")) >= 3)
    [brk] = events(records, "break")
    assert brk["site"] == "east" and brk["reason"] in ("eof", "reset")
    failed = events(records, "attempt_failed")
    assert {r["error"] for r in failed} == {"ECONNREFUSED"}
    assert failed[0]["retry_in"] < failed[2]["retry_in"]
    west = procs.start(STREAM, *args[:1], "west", *args[2:])
    records = wait_records(out, lambda rs: bool(events(rs, "recovered")))
    [rec] = events(records, "recovered")
    assert rec["site"] == "west" and rec["previous"] == "east"
    assert rec["attempts"] >= 4 and 0.3 < rec["recover_s"] < 5
    probe.send_signal(signal.SIGTERM)
    _, err = probe.communicate(timeout=5)
    assert probe.returncode == 0, err
    assert err.startswith("retry probe ca: streams 1, ") and "recovered 1" in err
    [stopped] = events(read(out), "stopped")
    assert stopped["up"] is True and stopped["site"] == "west"
    o = outcome(read(out))
    assert o.recovered == 1 and o.survived == 1 and o.failed >= len(failed)
    west.send_signal(signal.SIGTERM)
    west.wait(5)


@pytest.mark.timeout(20)
def test_process_rst_counts_the_unanswered_messages(procs, server_factory, tmp_path):  # noqa: F811
    def handler(conn: socket.socket, index: int) -> None:
        for n, line in enumerate(server.lines(conn)):
            if index == 0 and n >= 3:  # answer three, swallow two, then a RST
                if n == 5:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                continue
            conn.sendall(b"x " + line + b"\n")

    server = server_factory(handler)
    out = tmp_path / "r.jsonl"
    probe = procs.start(
        PROBE, "--client", "ca", "--target", "127.0.0.1", "--port", str(server.port),
        "--streams", "1", "--interval", "0.05", "--out", str(out),
    )  # fmt: skip
    records = wait_records(out, lambda rs: bool(events(rs, "recovered")))
    [brk] = events(records, "break")
    assert brk["reason"] == "reset" and brk["error"] == "ECONNRESET" and brk["lost"] >= 3
    [rec] = events(records, "recovered")
    assert rec["lost"] == brk["lost"] and rec["recover_s"] < 0.5
    time.sleep(0.1)
    probe.send_signal(signal.SIGTERM)
    assert probe.wait(5) == 0
