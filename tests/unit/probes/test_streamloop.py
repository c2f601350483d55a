"""The stream probes' shared loop (:mod:`testbed.probes.streamloop`) on real sockets on 127.0.0.1.

A loop with a small tracker of the test's own (every event a record) against
scripted TCP servers in threads: the connection and its lines both ways, a
reset by the peer, the server's FIN, and each deadline (the start, the
lookup, the handshake, the answer); then ``tcp-retry``'s loop, whose tracker
says when to try again.
"""

from __future__ import annotations

import socket
import struct
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest

from testbed import proc
from testbed.probes import retry
from testbed.probes.streamloop import CONNECTED, Now, Phase, StreamLoop, TrackedStream, listed
from tests.unit.probes.helpers import free_port
from tests.unit.probes.test_tcp_probe import ScriptedServer, server_factory  # noqa: F401

Record = Dict[str, Any]


class Tracker:
    """The least a tracker does: phases, sequence numbers, one record per event."""

    def __init__(self, timeout: float = 2.0) -> None:
        self.timeout = timeout
        self.phase = Phase.DOWN
        self.started: Optional[float] = None
        self.seq = 0
        self.outstanding: Dict[int, float] = {}
        self.counts = {"ignored": 0, "answers": 0}

    def _record(self, now: Now, event: str, **fields: Any) -> Record:
        return {"t": now.t, "mono": now.mono, "event": event, **fields}

    def connecting(self, now: Now) -> None:
        self.phase, self.started = Phase.CONNECTING, now.mono

    def resolving(self, now: Now) -> None:
        self.phase, self.started = Phase.RESOLVING, now.mono

    def established(self, now: Now) -> None:
        self.phase, self.started = Phase.OPEN, None
        self.outstanding.clear()

    def connect_failed(self, error: str, now: Now) -> Record:
        self.phase, self.started = Phase.DOWN, None
        return self._record(now, "connect_failed", error=error)

    def sent(self, now: Now) -> int:
        seq, self.seq = self.seq, self.seq + 1
        self.outstanding[seq] = now.mono
        return seq

    def answered(self, site: str, seq: int, now: Now) -> List[Record]:
        if self.phase not in CONNECTED or seq not in self.outstanding:
            self.counts["ignored"] += 1
            return []
        for old in [s for s in self.outstanding if s <= seq]:
            del self.outstanding[old]
        self.counts["answers"] += 1
        self.phase = Phase.UP
        return [self._record(now, "answer", site=site, seq=seq)]

    def lost(self, event: str, error: str, now: Now) -> Record:
        self.phase = Phase.DOWN
        self.outstanding.clear()
        return self._record(now, event, error=error)

    def answer_deadline(self) -> Optional[float]:
        if self.phase not in CONNECTED or not self.outstanding:
            return None
        return next(iter(self.outstanding.values())) + self.timeout

    def expire(self, now: Now) -> List[Record]:
        deadline = self.answer_deadline()
        if deadline is None or now.mono < deadline:
            return []
        return [self.lost("timeout", "no answer", now)]

    def close(self, now: Now) -> List[Record]:
        return [self._record(now, "closed")] if self.phase is Phase.UP else []


class Writer:
    """The records a loop writes, in a list."""

    def __init__(self) -> None:
        self.records: List[Record] = []

    def write(self, record: Record) -> None:
        self.records.append(record)


class Loop(StreamLoop[TrackedStream]):
    """One stream to ``address``; its wait, handshake and answer deadlines as given."""

    CONNECT_RETRY = 0.2
    RECONNECT = 0.1

    def __init__(
        self,
        address: Tuple[str, int],
        duration: float,
        interval: float = 0.05,
        timeout: float = 2.0,
        connect_timeout: float = 1.0,
    ) -> None:
        self.address = address
        self.duration = duration
        self.connect_timeout = connect_timeout
        self.writer = Writer()
        self.streams = [TrackedStream(Tracker(timeout), interval)]
        self.offsets = [0.0]

    def _start(self, s: TrackedStream) -> None:
        s.tracker.connecting(Now.read())
        self._connect(s, self.address)

    def events(self, *names: str) -> List[Record]:
        return [r for r in self.writer.records if not names or r["event"] in names]


class LookupLoop(Loop):
    """A stream that looks its address up first: the lookup answers after ``lookup_s``
    (None: never; the loop fails it after ``resolve_timeout``)."""

    def __init__(self, *args: Any, lookup_s: Optional[float], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.lookup_s = lookup_s
        self.resolve_timeout = 0.3

    def _start(self, s: TrackedStream) -> None:
        now = Now.read()
        s.tracker.resolving(now)
        self._write([{"t": now.t, "mono": now.mono, "event": "lookup"}])

    def _resolve_timed_out(self, s: TrackedStream) -> None:
        now = Now.read()
        s.tracker.phase = Phase.DOWN
        self._write([{"t": now.t, "mono": now.mono, "event": "lookup_failed"}])
        s.retry_at = now.mono + 0.2

    def _step(self, s: TrackedStream) -> List[float]:
        tracker = s.tracker
        answer = None if self.lookup_s is None else (tracker.started or 0.0) + self.lookup_s
        if tracker.phase is Phase.RESOLVING and answer is not None and time.monotonic() >= answer:
            tracker.phase, tracker.started = Phase.CONNECTING, time.monotonic()
            self._connect(s, self.address)
        wake = super()._step(s)
        if tracker.phase is Phase.RESOLVING and self.lookup_s is not None:
            wake.append(tracker.started + self.lookup_s)
        return wake


def run(loop: StreamLoop[Any]) -> Dict[str, int]:
    with proc.StopSignal() as stop:
        return loop.run(stop)


# -- the connection and its lines ----------------------------------------------------


@pytest.mark.timeout(20)
def test_it_connects_sends_lines_on_schedule_and_reads_the_answers(server_factory):  # noqa: F811
    got: List[List[bytes]] = []

    def handler(conn: socket.socket, index: int) -> None:
        got.append([])
        for line in server.lines(conn):
            got[index].append(line)
            conn.sendall(b"x " + line + b"\n")

    server = server_factory(handler)
    loop = Loop(("127.0.0.1", server.port), duration=0.6, interval=0.05)
    counts = run(loop)
    assert len(server.accepted) == 1
    lines = got[0]
    assert 8 <= len(lines) <= 14  # one every 0.05 s for 0.6 s
    assert lines == [b"%d" % n for n in range(len(lines))]
    answers = loop.events("answer")
    assert [r["seq"] for r in answers] == list(range(len(answers)))
    assert {r["site"] for r in answers} == {"x"} and counts["answers"] == len(answers)
    assert loop.events()[-1]["event"] == "closed"  # the probe stopped a stream that was up
    assert not loop.events("connect_failed", "reset", "eof", "timeout")
    [s] = loop.streams
    assert s.sock is None  # closed at the end


@pytest.mark.timeout(20)
def test_lines_that_are_not_answers_are_counted_and_ignored(server_factory):  # noqa: F811
    def handler(conn: socket.socket, index: int) -> None:
        for line in server.lines(conn):
            conn.sendall(b"garbage\nx 999\nx " + line + b"\n")

    server = server_factory(handler)
    loop = Loop(("127.0.0.1", server.port), duration=0.3)
    counts = run(loop)
    assert counts["answers"] >= 3 and counts["ignored"] >= 2 * counts["answers"]


# -- breaks ----------------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_a_reset_by_the_peer_is_a_reset_and_the_stream_reconnects(server_factory):  # noqa: F811
    def handler(conn: socket.socket, index: int) -> None:
        for n, line in enumerate(server.lines(conn)):
            conn.sendall(b"x " + line + b"\n")
            if index == 0 and n == 1:  # two answers, then a RST
                time.sleep(0.1)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return

    server = server_factory(handler)
    loop = Loop(("127.0.0.1", server.port), duration=1.0)
    run(loop)
    [reset] = loop.events("reset")
    assert reset["error"] in ("ECONNRESET", "EPIPE")
    assert len(server.accepted) == 2
    # the next connection starts RECONNECT (0.1 s) after the reset was noticed
    assert server.accepted[1] - reset["t"] == pytest.approx(0.1, abs=0.05)
    later = [r for r in loop.events("answer") if r["t"] > reset["t"]]
    assert later, "no answer on the second connection"
    assert later[0]["seq"] > max(r["seq"] for r in loop.events("answer") if r["t"] < reset["t"])


@pytest.mark.timeout(20)
def test_the_servers_fin_is_eof(server_factory):  # noqa: F811
    def handler(conn: socket.socket, index: int) -> None:
        for line in server.lines(conn):
            conn.sendall(b"x " + line + b"\n")
            if index == 0:
                conn.shutdown(socket.SHUT_WR)
                time.sleep(0.3)
                return

    server = server_factory(handler)
    loop = Loop(("127.0.0.1", server.port), duration=0.6)
    run(loop)
    [eof] = loop.events("eof")
    assert eof["error"] == "EOF"
    assert len(server.accepted) == 2


# -- deadlines -------------------------------------------------------------------------


@pytest.mark.timeout(20)
def test_no_answer_within_the_timeout_gives_the_connection_up(server_factory):  # noqa: F811
    def handler(conn: socket.socket, index: int) -> None:
        for _ in server.lines(conn):
            pass  # reads, never answers

    server = server_factory(handler)
    loop = Loop(("127.0.0.1", server.port), duration=1.0, timeout=0.3)
    run(loop)
    timeouts = loop.events("timeout")
    assert 1 <= len(timeouts) <= 3
    assert not loop.events("answer", "closed")
    # the first line leaves at the handshake; the timeout comes 0.3 s later
    assert timeouts[0]["t"] - server.accepted[0] == pytest.approx(0.3, abs=0.08)
    assert server.accepted[1] - timeouts[0]["t"] == pytest.approx(0.1, abs=0.05)


@pytest.mark.timeout(20)
def test_a_handshake_that_never_ends_fails_at_the_connect_timeout():
    # a listener with a full accept queue drops SYNs: the handshake never completes
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port))
    try:
        loop = Loop(("127.0.0.1", port), duration=1.3, connect_timeout=0.3)
        start = time.monotonic()
        run(loop)
    finally:
        filler.close()
        listener.close()
    failed = loop.events("connect_failed")
    assert {r["error"] for r in failed} == {"ETIMEDOUT"}
    assert 2 <= len(failed) <= 3
    assert failed[0]["mono"] - start == pytest.approx(0.3, abs=0.08)
    # each attempt: 0.3 s handshake, then CONNECT_RETRY (0.2 s)
    assert failed[1]["mono"] - failed[0]["mono"] == pytest.approx(0.5, abs=0.08)


@pytest.mark.timeout(20)
def test_a_refused_connection_fails_and_is_tried_again_after_the_connect_retry():
    loop = Loop(("127.0.0.1", free_port()), duration=0.9)
    run(loop)
    failed = loop.events("connect_failed")
    assert {r["error"] for r in failed} == {"ECONNREFUSED"}
    assert 4 <= len(failed) <= 6  # every 0.2 s
    gaps = [b["mono"] - a["mono"] for a, b in zip(failed, failed[1:], strict=False)]
    assert min(gaps) >= 0.19
    assert loop.streams[0].sock is None


@pytest.mark.timeout(20)
def test_a_lookup_that_never_answers_fails_at_the_resolve_timeout():
    loop = LookupLoop(("127.0.0.1", free_port()), duration=0.95, lookup_s=None)
    run(loop)
    lookups, failed = loop.events("lookup"), loop.events("lookup_failed")
    assert len(lookups) == 2 and len(failed) == 2
    for asked, gone in zip(lookups, failed, strict=True):
        assert gone["mono"] - asked["mono"] == pytest.approx(0.3, abs=0.05)
    assert lookups[1]["mono"] - failed[0]["mono"] == pytest.approx(0.2, abs=0.05)
    assert not loop.events("connect_failed")


@pytest.mark.timeout(20)
def test_a_lookup_that_answers_leads_to_the_connection(server_factory):  # noqa: F811
    def handler(conn: socket.socket, index: int) -> None:
        for line in server.lines(conn):
            conn.sendall(b"x " + line + b"\n")

    server = server_factory(handler)
    loop = LookupLoop(("127.0.0.1", server.port), duration=0.6, lookup_s=0.1)
    run(loop)
    [lookup] = loop.events("lookup")
    first = loop.events("answer")[0]
    assert server.accepted[0] - lookup["t"] == pytest.approx(0.1, abs=0.05)
    assert first["seq"] == 0 and first["t"] >= server.accepted[0]
    assert not loop.events("lookup_failed")


# -- the pieces ------------------------------------------------------------------------


def test_wake_times_follow_the_phase():
    loop = Loop(("127.0.0.1", 9), duration=1.0, connect_timeout=0.7)
    loop.resolve_timeout = 0.4
    [s] = loop.streams
    tracker = s.tracker
    s.retry_at = 5.0
    assert loop._wake(s) == [5.0]
    tracker.phase, tracker.started = Phase.RESOLVING, 10.0
    assert loop._wake(s) == [10.4]
    tracker.phase = Phase.CONNECTING
    assert loop._wake(s) == [10.7]
    tracker.phase, s.next_send = Phase.OPEN, 11.0
    assert loop._wake(s) == [11.0]  # nothing outstanding: no answer deadline
    tracker.outstanding[0] = 10.9
    assert loop._wake(s) == [11.0, 12.9]


def test_a_trackers_answer_is_listed():
    assert listed({"a": 1}) == [{"a": 1}]
    assert listed([{"a": 1}, {"b": 2}]) == [{"a": 1}, {"b": 2}]


@pytest.mark.timeout(20)
def test_tcp_retrys_loop_waits_as_its_tracker_backs_off():
    probe = retry.RetryProbe(
        "ca", "127.0.0.1", free_port(), 1, 0.05, 2.0, 1.0, 1.2, Writer(), seed=3,
        backoff=0.1, backoff_max=0.4,
    )  # fmt: skip
    [s] = probe.streams
    s.retry_at = 7.5
    assert s.tracker.retry_at == 7.5  # the stream's wait is the tracker's
    counts = run(probe)
    records = probe.writer.records
    attempts = [r for r in records if r["event"] == "attempt"]
    failed = [r for r in records if r["event"] == "attempt_failed"]
    assert counts["attempt"] == len(attempts) >= 4
    assert {r["error"] for r in failed} == {"ECONNREFUSED"}
    for fail, nxt in zip(failed, attempts[1:], strict=False):
        assert nxt["t"] - fail["t"] == pytest.approx(fail["retry_in"], abs=0.03)
        assert nxt["delay"] == fail["retry_in"]
    assert [r["event"] for r in records][-1] == "stopped"
