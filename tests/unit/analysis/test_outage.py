"""Outage windows and DNS counts from synthetic DNS records.

Windows are in answer times (send time + rtt); the builder's default rtt is
4 ms, so a window starts 4 ms after the last answered query's send time.
"""

import json

import pytest

from testbed.analysis import build_summary, load_run
from testbed.analysis.outage import dns_counts, outage_windows, queries

from .helpers import T0, RunBuilder


def test_no_loss_means_no_window(tmp_path):
    run = RunBuilder(tmp_path, duration=10.0).dns_series("c", 0, 10, 20, "a").write()
    s = build_summary(run)
    dns = s.clients["c"].dns
    assert dns.outages == []
    assert dns.outage_s == 0 and dns.max_outage_s == 0
    assert (dns.sent, dns.answered, dns.lost, dns.late) == (200, 200, 0, 0)
    assert s.clients["c"].site_before == "a"  # no events: the first site seen
    assert s.clients["c"].site_after == "a"
    assert s.events == [] and s.network.convergence_s_max is None
    assert s.clients["c"].tcp.streams == 0  # no TCP records at all


def test_loss_that_never_recovers_ends_at_the_end_of_the_run(tmp_path):
    b = RunBuilder(tmp_path, duration=12.0)
    b.dns_series("c", 0, 10, 10, "a", lost=range(50, 100))  # answered up to 4.9 s, then lost
    s = build_summary(b.write())
    dns = s.clients["c"].dns
    assert [w.model_dump() for w in dns.outages] == [
        {"start": 4.904, "end": None, "duration": 7.096, "lost": 50, "recovered": False}
    ]
    assert dns.outage_s == 7.096 and dns.max_outage_s == 7.096
    assert dns.lost == 50 and dns.answered == 50
    assert s.clients["c"].site_after == "a"  # the last site seen


def test_single_lost_query_is_a_window_and_min_lost_filters_it(tmp_path):
    b = RunBuilder(tmp_path, duration=10.0)
    b.dns_series("c", 0, 10, 10, "a", lost=[20, 60, 61, 62])
    run = b.write()
    dns = build_summary(run).clients["c"].dns
    assert [(w.start, w.end, w.duration, w.lost) for w in dns.outages] == [
        (1.904, 2.104, 0.2, 1),
        (5.904, 6.304, 0.4, 3),
    ]
    assert dns.outage_s == 0.6 and dns.max_outage_s == 0.4
    dns = build_summary(run, min_lost=2).clients["c"].dns
    assert [w.lost for w in dns.outages] == [3]
    assert dns.outage_s == 0.4


def test_late_answer_does_not_close_the_outage_and_file_order_does_not_matter(tmp_path):
    b = RunBuilder(tmp_path, duration=2.0)
    for seq in range(10):
        t = seq / 10
        b.dns("c", seq, t, "timeout" if seq in (3, 4, 5) else "ok", "a")
    # the late answer of query 4 arrives (and is written) after query 9
    b.dns("c", 4, 0.4, "late", "a", rtt=0.9)
    # the file in reverse: late first, then answers before the queries they follow
    run = b.write(reverse=["dns-c"])
    dns = build_summary(run).clients["c"].dns
    assert [w.model_dump() for w in dns.outages] == [
        {"start": 0.204, "end": 0.604, "duration": 0.4, "lost": 3, "recovered": True}
    ]
    assert (dns.sent, dns.answered, dns.lost, dns.late) == (10, 7, 3, 1)


def test_late_answer_to_the_last_lost_query_does_not_recover(tmp_path):
    b = RunBuilder(tmp_path, duration=2.0)
    b.dns("c", 0, 0.0, "ok", "a").dns("c", 1, 0.1, "timeout").dns("c", 2, 0.2, "timeout")
    b.dns("c", 2, 0.2, "late", "b", rtt=1.2)
    w = [w.model_dump() for w in build_summary(b.write()).clients["c"].dns.outages]
    assert w == [{"start": 0.004, "end": None, "duration": 1.996, "lost": 2, "recovered": False}]


def test_queries_are_sorted_by_send_time_and_collapsed_per_seq():
    recs = [
        {"t": T0 + 0.2, "seq": 2, "status": "ok", "site": "a"},
        {"t": T0 + 0.1, "seq": 1, "status": "late", "site": "b"},
        {"t": T0 + 0.0, "seq": 0, "status": "ok", "site": "a"},
        {"t": T0 + 0.1, "seq": 1, "status": "timeout", "site": None},
    ]
    qs = queries(recs)
    assert [q.seq for q in qs] == [0, 1, 2]
    assert [(q.answered, q.late, q.site) for q in qs] == [
        (True, False, "a"),
        (False, True, "b"),
        (True, False, "a"),
    ]
    assert dns_counts(recs).lost == 1
    assert outage_windows(recs, end=T0 + 1)[0].lost == 1


def test_loss_from_the_very_first_query_starts_at_that_query(tmp_path):
    b = RunBuilder(tmp_path, duration=1.0)
    b.dns("c", 0, 0.1, "timeout").dns("c", 1, 0.2, "timeout").dns("c", 2, 0.3, "ok", "a")
    w = [w.model_dump() for w in build_summary(b.write()).clients["c"].dns.outages]
    assert w == [{"start": 0.1, "end": 0.304, "duration": pytest.approx(0.204), "lost": 2,
                  "recovered": True}]  # fmt: skip


def test_truncated_last_line_is_tolerated(tmp_path):
    run = RunBuilder(tmp_path, duration=1.0).dns_series("c", 0, 1, 10, "a").write()
    path = run / "records" / "dns-c.jsonl"
    path.write_text(path.read_text() + '{"t": 17638454')  # a crash mid-write
    assert len(load_run(run).dns["c"]) == 10
    assert build_summary(run).clients["c"].dns.sent == 10


def test_summary_is_json_and_expect_is_kept(tmp_path):
    run = RunBuilder(tmp_path, duration=1.0).dns_series("c", 0, 1, 10, "a").write()
    expect = [{"check": "no loss", "passed": True, "detail": "0/10 lost"}]
    s = build_summary(run, expect=expect)
    assert [e.model_dump() for e in s.expect] == expect
    assert json.loads(s.to_json()) == s.to_dict()


def windows(recs):
    """(start, end, duration, lost) of each window, seconds from T0, rounded to the ms."""

    def rel(x):
        return None if x is None else round(x - T0, 3)

    return [
        (rel(w.start), rel(w.end), round(w.duration, 3), w.lost)
        for w in outage_windows(recs, end=T0 + 5)
    ]


def rec(seq, t, status="ok", rtt=0.01):
    answered = status in ("ok", "late")
    return {"t": T0 + t, "seq": seq, "status": status, "rtt": rtt if answered else None,
            "site": "a" if answered else None}  # fmt: skip


def test_window_runs_between_answer_times_not_send_times():
    # the last answer before arrives 50 ms after its query; the first after, on a
    # farther site, 400 ms after its query: the client waited 0.05 -> 0.7 s
    recs = [rec(0, 0.0, rtt=0.05), rec(1, 0.1, "timeout"), rec(2, 0.2, "timeout"),
            rec(3, 0.3, rtt=0.4), rec(4, 0.4, rtt=0.4)]  # fmt: skip
    assert windows(recs) == [(0.05, 0.7, 0.65, 2)]


def test_an_earlier_slow_answer_that_arrives_last_starts_the_window():
    # query 1's answer (sent 0.1, 0.6 s) arrives after query 2's (sent 0.2, 10 ms)
    recs = [rec(0, 0.0), rec(1, 0.1, rtt=0.6), rec(2, 0.2), rec(3, 0.3, "timeout"),
            rec(4, 0.4, "timeout"), rec(5, 0.5, rtt=0.5)]  # fmt: skip
    assert windows(recs) == [(0.7, 1.0, 0.3, 2)]


def test_a_quick_answer_to_a_later_query_ends_the_window_first():
    # after the loss, query 3 (sent 0.3) is answered at 0.35, before query 2's
    # slow answer (sent 0.2, arrives 0.8): service is back at 0.35
    recs = [rec(0, 0.0), rec(1, 0.1, "timeout"), rec(2, 0.2, rtt=0.6), rec(3, 0.3, rtt=0.05)]
    assert windows(recs) == [(0.01, 0.35, 0.34, 1)]


def test_answers_overlapping_a_loss_give_a_window_of_zero_duration():
    # query 0's answer arrives at 0.9, query 2's already at 0.25: never without answers
    recs = [rec(0, 0.0, rtt=0.9), rec(1, 0.1, "timeout"), rec(2, 0.2, rtt=0.05)]
    assert windows(recs) == [(0.9, 0.9, 0.0, 1)]


def test_out_of_order_records_and_late_answers_give_the_same_windows():
    recs = [rec(0, 0.0, rtt=0.05), rec(1, 0.1, "timeout"), rec(2, 0.2, "timeout"),
            rec(1, 0.1, "late", rtt=1.1), rec(3, 0.3, rtt=0.4)]  # fmt: skip
    assert windows(recs) == windows(list(reversed(recs))) == [(0.05, 0.7, 0.65, 2)]
    assert queries(recs)[1].answered_at is None and queries(recs)[1].late
