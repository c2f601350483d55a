"""Convergence per event and router, route-change counts."""

from testbed.analysis import build_summary
from testbed.analysis.convergence import changes_per_router, event_convergence
from testbed.analysis.model import EventRouter, NetworkSummary, RouterSummary

from .helpers import T0, RunBuilder


def test_convergence_is_the_max_over_routers_and_counts_changes(tmp_path):
    b = RunBuilder(tmp_path, duration=20.0, routers=["r1", "r2", "r3", "r4"])
    for r in ("r1", "r2", "r3"):
        b.route(r, -2.0, "initial")
    b.route("r1", -1.0, "nexthop")  # start-up, before t0: not counted
    b.event(10.0, "fail_site", "a")
    b.route("r1", 10.1, "removed", via=[])
    b.route("r2", 10.2, "nexthop").route("r2", 10.4, "nexthop").route("r2", 10.9, "nexthop")
    s = build_summary(b.write())
    (ev,) = s.events
    assert ev.convergence_s == 0.9
    assert ev.routers_changed == ["r1", "r2"]  # r3 and r4 did not change
    assert ev.route_changes == 4
    assert ev.routers == {
        "r1": EventRouter(convergence_s=0.1, route_changes=1),
        "r2": EventRouter(convergence_s=0.9, route_changes=3),
    }
    assert s.routers == {
        "r1": RouterSummary(route_changes=1, convergence_s_max=0.1),
        "r2": RouterSummary(route_changes=3, convergence_s_max=0.9),
        "r3": RouterSummary(route_changes=0, convergence_s_max=None),
        "r4": RouterSummary(route_changes=0, convergence_s_max=None),
    }
    assert s.network == NetworkSummary(convergence_s_max=0.9, route_changes=4)


def test_two_events_close_together_each_get_their_own_window(tmp_path):
    b = RunBuilder(tmp_path, duration=20.0)
    b.event(10.0, "fail_site", "a").event(10.5, "fail_site", "b").event(15.0, "noop", "c")
    b.route("r1", 10.1).route("r1", 10.3)  # first event's window
    b.route("r1", 10.6).route("r2", 11.2)  # second event's window
    s = build_summary(b.write())
    first, second, third = s.events
    assert (first.t, first.convergence_s, first.route_changes) == (10.0, 0.3, 2)
    assert first.routers_changed == ["r1"]
    assert (second.t, second.convergence_s, second.route_changes) == (10.5, 0.7, 2)
    assert second.routers_changed == ["r1", "r2"]
    assert second.routers["r1"] == EventRouter(convergence_s=0.1, route_changes=1)
    assert third.convergence_s is None and third.routers_changed == []
    assert third.route_changes == 0
    assert s.network == NetworkSummary(convergence_s_max=0.7, route_changes=4)
    assert first.kind == "fail_site" and first.target == "a" and first.at == 10.0


def test_initial_records_are_not_changes_and_last_window_ends_with_the_timeline():
    routes = [
        {"t": T0 + 0, "router": "r", "change": "initial"},
        {"t": T0 + 12, "router": "r", "change": "initial"},  # a restarted monitor
        {"t": T0 + 12, "router": "r", "change": "added"},
    ]
    (ev,) = event_convergence(routes, [T0 + 10], end=T0 + 13)
    assert ev.convergence_s == 2 and ev.route_changes == 1
    # changes after the end of the timeline (teardown) do not count
    (ev,) = event_convergence(routes, [T0 + 10], end=T0 + 11)
    assert ev.convergence_s is None and ev.route_changes == 0
    assert changes_per_router(routes) == {"r": 1}
    assert changes_per_router(routes, since=T0 + 13) == {"r": 0}
