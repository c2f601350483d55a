"""The outage in its parts, on hand-made records: link-down, silent with the hold
timer, silent with BFD, and a health-agent withdrawal."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import pytest

from testbed.analysis.detection import bgpd_how, declarations, event_declarations
from testbed.analysis.summary import build_summary
from tests.unit.analysis.helpers import RunBuilder

RATE = 200.0  # the fine probe: 5 ms between queries
FAIL_AT = 10.0


def bgp_down(b: RunBuilder, t: float, router: str, peer: str, reason: str) -> None:
    b._add(
        "bgp",
        {
            "t": b.t0 + t,
            "kind": "bgp",
            "router": router,
            "peer": peer,
            "event": "state",
            "state": "Idle",
            "previous": "Established",
            "source": "log",
            "reason": reason,
        },
    )


def bfd_down(b: RunBuilder, t: float, router: str, peer: str) -> None:
    b._add(
        "bgp",
        {
            "t": b.t0 + t,
            "kind": "bfd",
            "router": router,
            "peer": peer,
            "event": "state",
            "state": "down",
            "previous": "up",
            "source": "log",
            "reason": "control-expired",
        },
    )


def two_sites_run(tmp_path: Path, answer_from: float, **meta: Any) -> RunBuilder:
    """ca behind ispa -> ta -> east; after the failure ispa -> tb -> west.

    The client's queries at 200/s are lost from FAIL_AT until ``answer_from``.
    """
    b = RunBuilder(
        tmp_path,
        duration=20,
        clients=["ca"],
        sites=["east", "west"],
        routers=["ispa", "ta", "tb"],
        access_routers={"ca": "ispa"},
        traffic={"dns_rate": RATE},
        **meta,
    )
    b.route("ta", -1, "initial", ["east"])
    b.route("tb", -1, "initial", ["ta"])
    b.route("ispa", -1, "initial", ["ta"])
    n_lost_from = round(FAIL_AT * RATE)
    n_lost_to = round(answer_from * RATE)
    b.dns_series(
        "ca",
        0,
        20,
        RATE,
        lambda seq: "east" if seq < n_lost_from else "west",
        lost=range(n_lost_from, n_lost_to),
    )
    return b


def parts_of(path: Path) -> Dict[str, Any]:
    summary = build_summary(path)
    event = summary.events[0]
    assert event.moved == ["ca"]
    return {"event": event, "ca": event.parts["ca"]}


def test_link_down_is_detected_by_carrier_loss_and_split_in_four(tmp_path):
    b = two_sites_run(tmp_path, answer_from=10.2)
    b.event(FAIL_AT, "fail_site", "east", {"site": "east", "how": "link-down"})
    bgp_down(b, FAIL_AT + 0.002, "ta", "east", "Interface down")
    b.route("ta", FAIL_AT + 0.003, "removed", [])
    b.route("tb", FAIL_AT + 0.060, "nexthop", ["west"])  # tb's bgpd: the west route wins
    b.route("ispa", FAIL_AT + 0.120, "nexthop", ["tb"])  # the access router's FIB
    got = parts_of(b.write())
    detection, ca = got["event"].detection, got["ca"]
    assert (detection.daemon, detection.how, detection.router) == ("bgpd", "interface-down", "ta")
    assert detection.after_s == 0.002
    assert ca.path == ["ispa", "tb", "west"]
    assert ca.detection_s == 0.002
    assert ca.control_plane_s == 0.058  # ta's removal (0.003) counts for nothing: not on the path
    assert ca.fib_s == 0.06
    # the first answer from west: the query sent at 10.2 s, answered 4 ms later
    assert ca.sampling_s == pytest.approx(0.084, abs=0.001)
    assert ca.total_s == pytest.approx(0.204, abs=0.001)
    parts_sum = ca.detection_s + ca.control_plane_s + ca.fib_s + ca.sampling_s
    assert parts_sum == pytest.approx(ca.total_s, abs=0.001)
    assert ca.outage_s == pytest.approx(ca.lead_in_s + ca.total_s, abs=0.001)
    assert ca.resolution_s == 0.005


def test_silent_failure_with_hold_timer(tmp_path):
    # keepalive 1 s, hold 3 s: bgpd declares the session dead 2.6 s after the freeze
    b = two_sites_run(tmp_path, answer_from=12.7)
    b.event(FAIL_AT, "fail_site", "east", {"site": "east", "how": "silent"})
    bgp_down(b, FAIL_AT + 2.6, "ta", "east", "Hold Timer Expired")
    b.route("ta", FAIL_AT + 2.61, "removed", [])
    b.route("tb", FAIL_AT + 2.66, "nexthop", ["west"])
    b.route("ispa", FAIL_AT + 2.70, "nexthop", ["tb"])
    ca = parts_of(b.write())["ca"]
    assert ca.detected_by == "bgpd on ta (hold-timer, session with east)"
    assert ca.detection_s == 2.6
    assert ca.control_plane_s == 0.06
    assert ca.fib_s == 0.04
    assert ca.total_s == pytest.approx(2.704, abs=0.001)
    # the detection dominates; the rest is a tenth of a second
    assert ca.detection_s / ca.total_s > 0.95


def test_silent_failure_with_bfd_is_detected_by_bfdd_first(tmp_path):
    b = two_sites_run(tmp_path, answer_from=10.35)
    b.event(FAIL_AT, "fail_site", "east", {"site": "east", "how": "silent"})
    bfd_down(b, FAIL_AT + 0.262, "ta", "east")
    bgp_down(b, FAIL_AT + 0.263, "ta", "east", "BFD down received")
    b.route("tb", FAIL_AT + 0.31, "nexthop", ["west"])
    b.route("ispa", FAIL_AT + 0.33, "nexthop", ["tb"])
    got = parts_of(b.write())
    event, ca = got["event"], got["ca"]
    assert [(d.daemon, d.how) for d in event.declarations] == [("bfdd", "bfd"), ("bgpd", "bfd")]
    assert event.detection.daemon == "bfdd"
    assert ca.detection_s == 0.262
    assert ca.control_plane_s == 0.048
    assert ca.fib_s == 0.02


def test_the_access_router_that_keeps_its_route_has_no_fib_part(tmp_path):
    b = two_sites_run(tmp_path, answer_from=10.1)
    b.event(FAIL_AT, "fail_site", "east", {"site": "east", "how": "link-down"})
    bgp_down(b, FAIL_AT + 0.001, "ta", "east", "Interface down")
    b.route("ta", FAIL_AT + 0.07, "nexthop", ["tb"])
    b.route("tb", FAIL_AT + 0.05, "nexthop", ["west"])
    ca = parts_of(b.write())["ca"]
    assert ca.path == ["ispa", "ta", "tb", "west"]
    assert ca.control_plane_s == 0.069
    assert ca.fib_s == 0.0


def test_operator_withdrawal_has_no_detection(tmp_path):
    b = two_sites_run(tmp_path, answer_from=10.1)
    b.event(FAIL_AT, "withdraw", "east", {"site": "east"})
    b.route("tb", FAIL_AT + 0.05, "nexthop", ["west"])
    b.route("ispa", FAIL_AT + 0.07, "nexthop", ["tb"])
    got = parts_of(b.write())
    assert got["event"].detection is None
    ca = got["ca"]
    assert ca.detection_s is None and ca.detected_by is None
    assert ca.control_plane_s == 0.05


def test_a_run_without_access_routers_gives_only_what_it_can(tmp_path):
    b = two_sites_run(tmp_path, answer_from=10.1)
    del b.meta["access_routers"]
    b.event(FAIL_AT, "fail_site", "east", {"site": "east", "how": "link-down"})
    bgp_down(b, FAIL_AT + 0.001, "ta", "east", "Interface down")
    ca = parts_of(b.write())["ca"]
    assert ca.detection_s == 0.001
    assert ca.path == [] and ca.control_plane_s is None and ca.fib_s is None
    assert ca.total_s is not None


def test_declarations_concern_only_their_event():
    t = 100.0
    down = {"kind": "bgp", "event": "state", "state": "Idle", "previous": "Established"}
    bgp = [
        {**down, "t": t + 0.3, "router": "ta", "peer": "east", "source": "log",
         "reason": "Hold Timer Expired"},
        {**down, "t": t + 0.2, "router": "tb", "peer": "ta", "source": "log",
         "reason": "Interface down"},
        {**down, "t": t + 0.1, "router": "ta", "peer": "east", "source": "poll", "reason": None},
    ]  # fmt: skip
    health = [{"t": t + 1.0, "site": "east", "event": "state", "state": "down"}]
    decls = declarations(bgp, health)
    fail = {"t": t, "event": "fail_site", "target": "east", "params": {"site": "east"}}
    assert [(d.router, d.daemon) for d in event_declarations(fail, t + 10, decls)] == [
        ("ta", "bgpd"),
        ("east", "health-agent"),
    ]
    link = {
        "t": t,
        "event": "link",
        "target": "ta-tb",
        "params": {"a": "ta", "b": "tb", "state": "down"},
    }
    assert [d.router for d in event_declarations(link, t + 10, decls)] == ["tb"]
    up = {**link, "params": {"a": "ta", "b": "tb", "state": "up"}}
    assert event_declarations(up, t + 10, decls) == []
    kill = {"t": t, "event": "kill_service", "target": "east", "params": {}}
    assert [d.daemon for d in event_declarations(kill, t + 10, decls)] == ["health-agent"]
    backend = {"t": t, "event": "backend", "target": "backend", "params": {"state": "down"}}
    assert [d.router for d in event_declarations(backend, t + 10, decls)] == ["east"]
    back_up = {**backend, "params": {"state": "up"}}
    assert event_declarations(back_up, t + 10, decls) == []
    assert event_declarations(fail, t + 0.25, decls) == []  # outside the window


@pytest.mark.parametrize(
    "reason, how",
    [
        ("Hold Timer Expired", "hold-timer"),
        ("BFD down received", "bfd"),
        ("Interface down", "interface-down"),
        ("BGP Notification received", "notification"),
        ("BGP Notification send", "notification-sent"),
        ("Peer closed the session", "peer-closed"),
        ("Waiting for NHT", "waiting for nht"),
        (None, "unknown"),
    ],
)
def test_bgpd_reasons(reason, how):
    assert bgpd_how(reason) == how


def test_the_report_states_the_resolution_of_every_outage(tmp_path):
    from testbed.analysis.report import render_markdown

    b = two_sites_run(tmp_path, answer_from=10.2)
    b.event(FAIL_AT, "fail_site", "east", {"site": "east", "how": "link-down"})
    bgp_down(b, FAIL_AT + 0.002, "ta", "east", "Interface down")
    b.route("tb", FAIL_AT + 0.060, "nexthop", ["west"])
    report = render_markdown(build_summary(b.write()))
    assert "±0.005 s at each end (200 queries/s)" in report
    assert "Each end is known to within the probe's interval, 0.005 s." in report
    assert "## Outages in parts" in report
    assert "bgpd on ta (interface-down, session with east)" in report


def test_bgpd_acting_on_bfd_a_millisecond_earlier_still_credits_bfdd(tmp_path):
    # as seen on this machine: bgpd's Cease (BFD Down) stamped 1 ms before bfdd's line
    b = two_sites_run(tmp_path, answer_from=10.35)
    b.event(FAIL_AT, "fail_site", "east", {"site": "east", "how": "silent"})
    bgp_down(b, FAIL_AT + 0.260, "ta", "east", "BGP Notification send")
    bfd_down(b, FAIL_AT + 0.261, "ta", "east")
    b.route("tb", FAIL_AT + 0.31, "nexthop", ["west"])
    event = parts_of(b.write())["event"]
    assert (event.detection.daemon, event.detection.after_s) == ("bfdd", 0.26)
    assert [(d.daemon, d.how) for d in event.declarations] == [("bfdd", "bfd"), ("bgpd", "bfd")]
    # a bgpd Cease long after bfdd's line is bgpd's own
    decls = declarations(
        [
            {"t": 5.0, "kind": "bfd", "router": "ta", "peer": "east", "state": "down"},
            {**DOWN, "t": 6.0, "router": "ta", "peer": "east", "reason": "BGP Notification send"},
        ]
    )
    assert [(d.daemon, d.how, d.t) for d in decls] == [
        ("bfdd", "bfd", 5.0),
        ("bgpd", "notification-sent", 6.0),
    ]


DOWN = {"kind": "bgp", "event": "state", "state": "Idle", "previous": "Established"}
DOWN["source"] = "log"
