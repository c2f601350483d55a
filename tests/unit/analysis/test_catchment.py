"""Catchment: segments, site at a time, and clients that move."""

from testbed.analysis import build_summary
from testbed.analysis.catchment import segments, site_after, site_at, site_before

from .helpers import T0, RunBuilder


def recs(*items):
    """(t, status, site) -> DNS records."""
    return [
        {"t": T0 + t, "seq": i, "status": status, "site": site}
        for i, (t, status, site) in enumerate(items)
    ]


def test_segments_merge_answers_of_one_site_and_count_late_answers():
    r = recs(
        (0.0, "ok", "a"), (0.1, "ok", "a"), (0.2, "timeout", None),
        (0.3, "late", "b"), (0.4, "ok", "b"), (0.5, "ok", "a"),
    )  # fmt: skip
    segs = segments(reversed(r))
    assert [(round(s.t_from - T0, 3), round(s.t_to - T0, 3), s.site, s.answers) for s in segs] == [
        (0.0, 0.1, "a", 2),
        (0.3, 0.4, "b", 2),
        (0.5, 0.5, "a", 1),
    ]
    assert site_at(segs, T0 + 0.25) == "a"
    assert site_at(segs, T0 + 0.3) == "b"
    assert site_at(segs, T0 - 1) is None
    assert site_before(segs, T0 + 0.3) == "a"
    assert site_after(segs, T0 + 0.2, T0 + 0.45) == "b"
    assert site_after(segs, T0 + 0.2) == "a"


def test_site_after_needs_an_answer_inside_the_window():
    segs = segments(recs((0.0, "ok", "a"), (5.0, "ok", "a")))
    assert site_after(segs, T0 + 1.0, T0 + 4.0) is None
    assert site_after(segs, T0 + 1.0, T0 + 6.0) == "a"


def test_client_that_moves_without_loss(tmp_path):
    b = RunBuilder(tmp_path, duration=20.0)
    b.dns_series("mover", 0, 20, 10, lambda s: "a" if s < 102 else "b")  # b from 10.2 s
    b.dns_series("stayer", 0, 20, 10, "a")
    b.event(10.0, "fail_site", "a")
    s = build_summary(b.write())
    mover = s.clients["mover"]
    assert (mover.site_before, mover.site_after) == ("a", "b")
    assert mover.dns.outages == [] and mover.dns.outage_s == 0
    assert s.clients["stayer"].site_before == s.clients["stayer"].site_after == "a"
    assert s.events[0].moved == ["mover"]
    assert s.to_dict()["events"][0]["moves"] == {"mover": {"from": "a", "to": "b"}}


def test_moved_uses_the_settled_site_before_the_next_event(tmp_path):
    b = RunBuilder(tmp_path, duration=30.0)
    # a until 10 s, b from 10.5 s, a again from 20.5 s
    b.dns_series("c", 0, 30, 10, lambda s: "b" if 105 <= s < 205 else "a")
    b.event(10.0, "fail_site", "a").event(20.0, "restore_site", "a")
    s = build_summary(b.write())
    assert [e.moved for e in s.events] == [["c"], ["c"]]
    assert [(e.moves["c"].from_, e.moves["c"].to) for e in s.events] == [("a", "b"), ("b", "a")]
    assert s.clients["c"].site_before == "a" and s.clients["c"].site_after == "a"


def test_client_without_service_after_an_event_has_not_moved(tmp_path):
    b = RunBuilder(tmp_path, duration=10.0)
    b.dns_series("c", 0, 10, 10, "a", lost=range(50, 100))
    b.event(5.0, "fail_site", "a")
    s = build_summary(b.write())
    assert s.events[0].moved == []
    assert s.clients["c"].dns.outages[0].recovered is False
