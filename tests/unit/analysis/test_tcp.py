"""TCP stream fates: resets after events, time to reconnect, survivors."""

from testbed.analysis import build_summary
from testbed.analysis.tcp import stream_fates

from .helpers import T0, RunBuilder


def test_reset_after_an_event_with_time_to_reset_and_reconnect(tmp_path):
    b = RunBuilder(tmp_path, duration=20.0)
    b.event(5.0, "drain", "x").event(10.0, "fail_site", "a", {"how": "link-down"})
    b.tcp("c", 0, 0.5, "connected", "a", attempt=1, gap=None)
    b.tcp("c", 0, 3.0, "rtt", "a", count=10, min=0.001, avg=0.002, max=0.003)
    b.tcp("c", 0, 10.15, "reset", "a", error="ECONNRESET")
    b.tcp("c", 0, 10.3, "connect_failed", None, error="ETIMEDOUT")
    b.tcp("c", 0, 10.4, "connected", "b", attempt=2, gap=0.25)
    b.tcp("c", 1, 0.5, "connected", "b", attempt=1, gap=None)
    b.tcp("c", 1, 20.0, "closed", "b")
    b.tcp("c", 2, 0.5, "connected", "a", attempt=1, gap=None)
    b.tcp("c", 2, 13.0, "timeout", "a", error="no answer for 3.0 s")
    b.tcp("c", 2, 13.5, "connected", "b", attempt=2)  # no gap recorded: from the records
    tcp = build_summary(b.write()).clients["c"].tcp
    assert (tcp.streams, tcp.reset, tcp.timeout, tcp.survived) == (3, 1, 1, 1)
    assert tcp.connect_failed == 1
    assert [r.model_dump() for r in tcp.resets] == [
        {"stream": 0, "t": 10.15, "site": "a", "after_event_s": 0.15, "reconnect_s": 0.25,
         "site_after": "b"}
    ]  # fmt: skip
    assert [r.model_dump() for r in tcp.timeouts] == [
        {"stream": 2, "t": 13.0, "site": "a", "after_event_s": 3.0, "reconnect_s": 0.5,
         "site_after": "b"}
    ]  # fmt: skip
    assert tcp.reconnect_s == [0.25, 0.5]


def test_breaks_without_event_and_without_reconnect():
    recs = [
        {"t": T0 + 1, "stream": 0, "event": "connected", "site": "a"},
        {"t": T0 + 2, "stream": 0, "event": "reset", "site": "a", "error": "EPIPE"},
    ]
    (fate,) = stream_fates(recs, event_times=[T0 + 5], end=T0 + 10)
    assert fate.fate == "reset"
    (brk,) = fate.breaks
    assert brk.event_t is None and brk.after_event_s is None
    assert brk.reconnect_s is None and brk.site_after is None
    assert [(ln.t_from - T0, ln.t_to - T0, ln.site, ln.ended) for ln in fate.lifelines] == [
        (1, 2, "a", "reset")
    ]


def test_connection_that_never_answered_is_a_failed_attempt_and_late_breaks_are_ignored():
    recs = [
        {"t": T0 + 1, "stream": 0, "event": "connected", "site": "a"},
        {"t": T0 + 2, "stream": 0, "event": "timeout", "site": "a"},
        {"t": T0 + 3, "stream": 0, "event": "reset", "site": None},  # before any answer
        {"t": T0 + 4, "stream": 0, "event": "connected", "site": "b", "gap": 2.0},
        {"t": T0 + 6, "stream": 0, "event": "eof", "site": "b"},  # teardown, after the run
    ]
    (fate,) = stream_fates(recs, end=T0 + 6, until=T0 + 5)
    assert fate.fate == "timeout"
    assert [b.kind for b in fate.breaks] == ["timeout"]
    assert fate.breaks[0].reconnect_s == 2.0
    assert fate.connect_failed == 1
    assert (fate.site_before, fate.site_after) == ("a", "b")


def test_site_change_on_one_connection_splits_the_lifeline_and_survives():
    recs = [
        {"t": T0 + 1, "stream": 0, "event": "connected", "site": "a"},
        {"t": T0 + 2, "stream": 0, "event": "site_changed", "site": "b", "previous": "a"},
    ]
    (fate,) = stream_fates(recs, end=T0 + 9)
    assert fate.fate == "survived"
    assert [(ln.site, ln.t_to - T0, ln.ended) for ln in fate.lifelines] == [
        ("a", 2, "site_changed"),
        ("b", 9, "end"),
    ]
