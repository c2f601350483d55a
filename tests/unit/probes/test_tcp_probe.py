"""TCP probe: the per-stream state machine, and the process against real servers on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, List

import pytest

from testbed.probes.linestream import errno_name, parse_answer
from testbed.probes.tcp import Now, Phase, StreamTracker
from tests.unit.probes.helpers import Procs, Records, free_port, read, wait_listening, wait_records

# -- the state machine ---------------------------------------------------------


def at(x: float) -> Now:
    """An instant with the same value on both clocks."""
    return Now(1000.0 + x, x)


def up(tracker: StreamTracker, when: float, site: str = "lon") -> List[dict]:
    """Connect, establish, send and get the first answer, all at ``when``."""
    tracker.connecting(at(when))
    tracker.established(at(when))
    seq = tracker.sent(at(when))
    return tracker.answered(site, seq, at(when + 0.01))


def test_first_answer_gives_connected_attempt_1_without_gap():
    tr = StreamTracker("paris", 1, timeout=3.0)
    tr.connecting(at(0))
    assert tr.phase is Phase.CONNECTING
    tr.established(at(0.001))
    assert tr.phase is Phase.OPEN
    seq = tr.sent(at(0.001))
    [rec] = tr.answered("lon", seq, at(0.005))
    assert rec == {
        "t": 1000.005,
        "kind": "tcp",
        "client": "paris",
        "stream": 1,
        "event": "connected",
        "site": "lon",
        "attempt": 1,
        "gap": None,
        "since_answer": None,
    }
    assert tr.phase is Phase.UP
    # further answers from the same site add nothing but RTT samples
    seq = tr.sent(at(0.2))
    assert tr.answered("lon", seq, at(0.21)) == []


def test_reset_then_reconnect_gives_attempt_2_and_gap_from_the_reset():
    tr = StreamTracker("paris", 0, timeout=3.0)
    up(tr, 0.0)
    seq = tr.sent(at(0.2))
    tr.answered("lon", seq, at(0.202))  # last answer at 0.202
    out = tr.lost("reset", "ECONNRESET", at(0.5))
    assert [r["event"] for r in out] == ["rtt", "reset"]  # pending summary first
    assert out[1]["site"] == "lon" and out[1]["error"] == "ECONNRESET"
    assert out[1]["t"] == 1000.5
    assert tr.phase is Phase.DOWN and tr.site is None
    # failed attempts in between do not restart the gap
    tr.connecting(at(0.6))
    failed = tr.connect_failed("ECONNREFUSED", at(0.6))
    assert failed["event"] == "connect_failed"
    assert failed["site"] is None and failed["error"] == "ECONNREFUSED"
    [rec] = up(tr, 0.8, site="nyc")
    assert rec["event"] == "connected" and rec["site"] == "nyc"
    assert rec["attempt"] == 2
    assert rec["gap"] == pytest.approx(0.81 - 0.5)
    assert rec["since_answer"] == pytest.approx(0.81 - 0.202)
    assert tr.counts["reconnects"] == 1 and tr.counts["reset"] == 1


def test_timeout_when_the_oldest_request_waits_too_long():
    tr = StreamTracker("paris", 0, timeout=3.0)
    up(tr, 0.0)
    assert tr.answer_deadline() is None  # nothing outstanding
    tr.sent(at(1.0))  # never answered
    tr.sent(at(1.2))
    assert tr.answer_deadline() == pytest.approx(4.0)
    assert tr.expire(at(3.99)) == []
    out = tr.expire(at(4.0))
    assert [r["event"] for r in out] == ["rtt", "timeout"]
    assert out[1]["error"] == "no answer for 3.0 s"
    assert out[1]["site"] == "lon"
    assert tr.phase is Phase.DOWN
    [rec] = up(tr, 4.5)
    assert rec["attempt"] == 2
    assert rec["gap"] == pytest.approx(0.51)
    assert rec["since_answer"] == pytest.approx(4.51 - 0.01)


def test_connection_that_never_answers_times_out_with_null_site_and_keeps_the_gap():
    tr = StreamTracker("paris", 0, timeout=1.0)
    up(tr, 0.0)
    tr.lost("eof", "EOF", at(1.0))  # service lost at 1.0
    tr.connecting(at(1.1))
    tr.established(at(1.1))
    tr.sent(at(1.1))
    [rec] = tr.expire(at(2.1))  # no RTT samples: no summary
    assert rec["event"] == "timeout" and rec["site"] is None
    [rec] = up(tr, 3.0)
    assert rec["attempt"] == 2
    assert rec["gap"] == pytest.approx(2.01)  # from the eof, not from the second timeout


def test_failures_before_the_first_connection_leave_gap_null():
    tr = StreamTracker("paris", 0, timeout=1.0)
    tr.connecting(at(0))
    tr.connect_failed("ETIMEDOUT", at(1.0))
    [rec] = up(tr, 1.2)
    assert rec["attempt"] == 1 and rec["gap"] is None


def test_rtt_summary_every_period_and_skipped_without_answers():
    tr = StreamTracker("paris", 0, timeout=3.0, rtt_every=1.0)
    up(tr, 0.0)  # first answer at 0.01: RTT 0.01, next summary due at 1.01
    for start, rtt in ((0.2, 0.002), (0.4, 0.004)):
        seq = tr.sent(at(start))
        tr.answered("lon", seq, at(start + rtt))
    assert tr.rtt_deadline() == pytest.approx(1.01)
    assert tr.rtt_summary(at(1.0)) == []  # not due
    [rec] = tr.rtt_summary(at(1.01))
    assert rec["event"] == "rtt" and rec["site"] == "lon"
    assert rec["count"] == 3
    assert rec["min"] == pytest.approx(0.002)
    assert rec["max"] == pytest.approx(0.01)
    assert rec["avg"] == pytest.approx((0.01 + 0.002 + 0.004) / 3, abs=1e-6)
    assert tr.rtt_summary(at(2.01)) == []  # no answers since: no record
    assert tr.rtt_deadline() == pytest.approx(3.01)


def test_site_change_on_the_same_connection():
    tr = StreamTracker("paris", 0, timeout=3.0)
    up(tr, 0.0, site="lon")
    seq = tr.sent(at(0.2))
    out = tr.answered("nyc", seq, at(0.21))
    assert [r["event"] for r in out] == ["rtt", "site_changed"]
    assert out[0]["site"] == "lon"  # the summary is the old site's
    assert out[1]["site"] == "nyc" and out[1]["previous"] == "lon"


def test_answers_matched_by_seq_in_order():
    tr = StreamTracker("paris", 0, timeout=3.0)
    up(tr, 0.0)
    s1, s2, s3 = (tr.sent(at(x)) for x in (1.0, 1.2, 1.4))
    assert tr.answered("lon", 999, at(1.5)) == []  # not outstanding: ignored
    assert tr.counts["ignored"] == 1
    tr.answered("lon", s2, at(1.5))  # clears s1 too (answers come in order)
    assert list(tr.outstanding) == [s3]
    assert tr.answer_deadline() == pytest.approx(4.4)
    assert s1 not in tr.outstanding


def test_close_records_closed_only_for_a_stream_that_is_up():
    tr = StreamTracker("paris", 0, timeout=3.0)
    assert tr.close(at(0)) == []
    up(tr, 1.0)
    out = tr.close(at(2.0))
    assert [r["event"] for r in out] == ["rtt", "closed"]
    assert out[1]["site"] == "lon"
    assert tr.close(at(3.0)) == []


def test_parse_answer_and_errno_name():
    assert parse_answer(b"lon 17\n") == ("lon", 17)
    assert parse_answer(b"lon 17") == ("lon", 17)
    assert parse_answer(b"lon") is None
    assert parse_answer(b"lon x\n") is None
    assert parse_answer(b"lon 1 2\n") is None
    assert errno_name(104) == "ECONNRESET"
    assert errno_name(None) == "unknown error"


# -- the process ---------------------------------------------------------------

PROBE = "testbed.probes.tcp"
STREAM = "testbed.services.stream"


@pytest.fixture
def procs() -> Iterator[Procs]:
    p = Procs()
    yield p
    p.cleanup()


def events(records: Records, event: str, stream: int | None = None) -> Records:
    return [r for r in records if r["event"] == event and (stream is None or r["stream"] == stream)]


def probe_args(port: int, out: Path, *extra: str) -> List[str]:
    return [
        "--client",
        "paris",
        "--target",
        "127.0.0.1",
        "--port",
        str(port),
        "--out",
        str(out),
        *extra,
    ]


def stop(proc) -> str:
    """SIGTERM the probe, check it exits 0, return its stderr."""
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=5)
    assert proc.returncode == 0, err
    return err


class ScriptedServer:
    """A TCP server on 127.0.0.1 in a thread; ``handler(conn, index)`` runs per connection."""

    def __init__(self, handler: Callable[[socket.socket, int], None], backlog: int = 16):
        self.handler = handler
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        self.accepted: List[float] = []  # wall-clock accept times
        self._threads: List[threading.Thread] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(time.time())
            conn.settimeout(0.1)
            t = threading.Thread(target=self._run, args=(conn, len(self.accepted) - 1), daemon=True)
            t.start()
            self._threads.append(t)

    def _run(self, conn: socket.socket, index: int) -> None:
        with conn, contextlib.suppress(OSError):
            self.handler(conn, index)

    def lines(self, conn: socket.socket) -> Iterator[bytes]:
        """The lines a connection receives, until EOF or the server stops."""
        buf = b""
        while not self.done.is_set():
            try:
                data = conn.recv(4096)
            except TimeoutError:
                continue
            if not data:
                return
            buf += data
            *lines, buf = buf.split(b"\n")
            yield from lines

    def close(self) -> None:
        self.done.set()
        self._thread.join(2)
        self.sock.close()
        for t in self._threads:
            t.join(2)


@pytest.fixture
def server_factory() -> Iterator[Callable[..., ScriptedServer]]:
    servers: List[ScriptedServer] = []

    def make(handler, backlog: int = 16) -> ScriptedServer:
        servers.append(ScriptedServer(handler, backlog))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


@pytest.mark.timeout(30)
def test_server_killed_then_new_site_eof_and_reconnect(procs, tmp_path):
    port = free_port()
    out = tmp_path / "tcp-paris.jsonl"
    site_a = procs.start(STREAM, "--site", "a", "--bind", "127.0.0.1", "--port", str(port))
    wait_listening(port, site_a)
    probe = procs.start(
        PROBE,
        *probe_args(port, out, "--streams", "2", "--interval", "0.1", "--rtt-every", "0.3"),
        "--timeout",
        "2",
    )
    records = wait_records(
        out, lambda rs: all(events(rs, "rtt", k) for k in (0, 1)) and len(events(rs, "rtt")) >= 4
    )
    for k in (0, 1):
        [connected] = events(records, "connected", k)
        assert connected["site"] == "a" and connected["attempt"] == 1 and connected["gap"] is None
    rtt = events(records, "rtt")[0]
    assert rtt["site"] == "a" and rtt["count"] >= 1
    assert 0 < rtt["min"] <= rtt["avg"] <= rtt["max"] < 0.5

    # SIGKILL: the kernel closes the server's sockets.  With nothing unread it
    # sends a FIN, so the probe reads EOF (event "eof").  If a request was
    # still unread in the server's socket the kernel sends a RST instead
    # (event "reset", ECONNRESET): rare with 0.1 s between requests.
    os.kill(site_a.pid, signal.SIGKILL)
    site_a.wait()
    killed = time.time()
    records = wait_records(
        out, lambda rs: all(events(rs, "eof", k) or events(rs, "reset", k) for k in (0, 1))
    )
    for k in (0, 1):
        [end] = events(records, "eof", k) + events(records, "reset", k)
        assert end["site"] == "a"
        assert end["error"] in ("EOF", "ECONNRESET")
        assert end["t"] >= killed - 0.05
    assert events(records, "eof"), "expected a FIN (eof) on at least one stream"
    # nobody listens: refused attempts, spaced out
    records = wait_records(out, lambda rs: len(events(rs, "connect_failed", 0)) >= 2)
    failed = events(records, "connect_failed", 0)
    assert {r["error"] for r in failed} == {"ECONNREFUSED"}
    assert all(r["site"] is None for r in failed)
    assert failed[1]["t"] - failed[0]["t"] >= 0.15

    site_b = procs.start(STREAM, "--site", "b", "--bind", "127.0.0.1", "--port", str(port))
    records = wait_records(out, lambda rs: len(events(rs, "connected")) >= 4)
    for k in (0, 1):
        [_, again] = events(records, "connected", k)
        assert again["site"] == "b" and again["attempt"] == 2
        assert again["gap"] > 0.2  # at least the refused attempts
        assert again["since_answer"] >= again["gap"]
        [end] = events(records, "eof", k) + events(records, "reset", k)
        assert again["gap"] == pytest.approx(again["t"] - end["t"], abs=0.01)

    err = stop(probe)
    records = read(out)
    closed = events(records, "closed")
    assert sorted(r["stream"] for r in closed) == [0, 1]
    assert all(r["site"] == "b" for r in closed)
    assert all(r["kind"] == "tcp" and r["client"] == "paris" for r in records)
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("tcp probe paris: streams 2, ")
    assert "reconnects 2" in err
    site_b.send_signal(signal.SIGTERM)
    site_b.wait(5)


@pytest.mark.timeout(20)
def test_rst_while_live_is_a_reset_with_econnreset(procs, server_factory, tmp_path):
    def handler(conn: socket.socket, index: int) -> None:
        for line in server.lines(conn):
            conn.sendall(b"x " + line + b"\n")
            if index == 0:  # first connection: one answer, then a RST
                time.sleep(0.3)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return

    server = server_factory(handler)
    out = tmp_path / "tcp.jsonl"
    probe = procs.start(PROBE, *probe_args(server.port, out, "--streams", "1", "--interval", "0.1"))
    records = wait_records(out, lambda rs: len(events(rs, "connected")) >= 2)
    first, second = events(records, "connected")
    assert first["site"] == "x" and first["attempt"] == 1
    [reset] = events(records, "reset")
    assert reset["error"] == "ECONNRESET" and reset["site"] == "x"
    assert first["t"] < reset["t"] < second["t"]
    assert second["attempt"] == 2
    assert second["gap"] == pytest.approx(second["t"] - reset["t"], abs=0.01)
    assert 0.05 < second["gap"] < 1.0  # reconnects after about 0.1 s
    err = stop(probe)
    assert "resets 1" in err
    [closed] = events(read(out), "closed")
    assert closed["site"] == "x"


@pytest.mark.timeout(20)
def test_silent_server_gives_timeout(procs, server_factory, tmp_path):
    def handler(conn: socket.socket, index: int) -> None:
        for n, line in enumerate(server.lines(conn)):
            if n == 0:  # answer once, then read without answering
                conn.sendall(b"x " + line + b"\n")

    server = server_factory(handler)
    out = tmp_path / "tcp.jsonl"
    probe = procs.start(
        PROBE,
        *probe_args(server.port, out, "--streams", "1", "--interval", "0.1"),
        "--timeout",
        "0.5",
    )
    records = wait_records(out, lambda rs: len(events(rs, "connected")) >= 2)
    first, second = events(records, "connected")
    timeout = events(records, "timeout")[0]
    assert timeout["error"] == "no answer for 0.5 s"
    assert timeout["site"] == "x"
    # the first unanswered request leaves one interval after the answer
    assert 0.5 <= timeout["t"] - first["t"] < 1.2
    assert second["attempt"] == 2
    assert second["gap"] == pytest.approx(second["t"] - timeout["t"], abs=0.01)
    assert second["since_answer"] >= 0.5
    stop(probe)


@pytest.mark.timeout(20)
def test_refused_connects_retry_and_duration_ends_cleanly(procs, tmp_path):
    out = tmp_path / "tcp.jsonl"
    probe = procs.start(PROBE, *probe_args(free_port(), out, "--streams", "2", "--duration", "1.0"))
    _, err = probe.communicate(timeout=10)
    assert probe.returncode == 0, err
    records = read(out)
    for k in (0, 1):
        failed = events(records, "connect_failed", k)
        assert 3 <= len(failed) <= 6  # every 0.2 s, not a flood
        assert {r["error"] for r in failed} == {"ECONNREFUSED"}
        gaps = [b["t"] - a["t"] for a, b in zip(failed, failed[1:], strict=False)]
        assert min(gaps) >= 0.19
    assert not events(records, "closed")  # no stream was up
    assert "connect failures" in err and err.count("\n") == 1


@pytest.mark.timeout(20)
def test_no_handshake_is_connect_failed_etimedout(procs, server_factory, tmp_path):
    # a listener with a full accept queue drops SYNs: the handshake never completes
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port))
    try:
        out = tmp_path / "tcp.jsonl"
        probe = procs.start(
            PROBE,
            *probe_args(port, out, "--streams", "1", "--duration", "1.5"),
            "--connect-timeout",
            "0.3",
        )
        _, err = probe.communicate(timeout=10)
        assert probe.returncode == 0, err
        failed = events(read(out), "connect_failed")
        assert 2 <= len(failed) <= 4  # 0.3 s timeout + 0.2 s retry
        assert {r["error"] for r in failed} == {"ETIMEDOUT"}
        assert failed[1]["t"] - failed[0]["t"] >= 0.45
    finally:
        filler.close()
        listener.close()


@pytest.mark.timeout(20)
def test_sigint_closes_streams(procs, server_factory, tmp_path):
    def handler(conn: socket.socket, index: int) -> None:
        for line in server.lines(conn):
            conn.sendall(b"x " + line + b"\n")

    server = server_factory(handler)
    out = tmp_path / "tcp.jsonl"
    probe = procs.start(PROBE, *probe_args(server.port, out, "--streams", "3"))
    wait_records(out, lambda rs: len(events(rs, "connected")) == 3)
    probe.send_signal(signal.SIGINT)
    _, err = probe.communicate(timeout=5)
    assert probe.returncode == 0, err
    closed = events(read(out), "closed")
    assert sorted(r["stream"] for r in closed) == [0, 1, 2]


@pytest.mark.parametrize(
    "args",
    [
        ["--client", "Paris", "--out", "x"],
        ["--client", "paris", "--streams", "0", "--out", "x"],
        ["--client", "paris", "--interval", "-1", "--out", "x"],
        ["--client", "paris", "--target", "nowhere", "--out", "x"],
        ["--client", "paris"],
    ],
)
def test_bad_arguments_one_line_exit_2(procs, args):
    p = procs.start(PROBE, *args)
    _, err = p.communicate(timeout=10)
    assert p.returncode == 2
    assert err.count("\n") == 1 and "error:" in err


def test_unwritable_output_one_line_exit_1(procs, tmp_path):
    p = procs.start(PROBE, "--client", "paris", "--out", str(tmp_path / "no" / "x.jsonl"))
    _, err = p.communicate(timeout=10)
    assert p.returncode == 1
    assert err.count("\n") == 1 and "cannot write" in err
