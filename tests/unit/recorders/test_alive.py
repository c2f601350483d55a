"""A recorder whose thread has died is reported by ``TrafficRun.dead()`` like a dead probe."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

from testbed.recorders.bgp import BgpRecorder
from testbed.recorders.routes import RouteMonitor
from testbed.traffic import TrafficRun


def finished_thread() -> threading.Thread:
    """A thread that has run and ended (as a recorder's does when it crashes)."""
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()
    return thread


def test_alive_follows_the_recorder_thread():
    monitor = RouteMonitor(testbed=None, prefixes=[], path=Path("routes.jsonl"))
    assert not monitor.alive()  # never started
    stop = threading.Event()
    monitor._thread = threading.Thread(target=stop.wait)
    monitor._thread.start()
    try:
        assert monitor.alive()
    finally:
        stop.set()
        monitor._thread.join()
    assert not monitor.alive()


def test_traffic_dead_names_a_crashed_recorder_and_only_it():
    testbed = SimpleNamespace(plan=SimpleNamespace(routers={}))
    bgp = BgpRecorder(testbed, Path("bgp.jsonl"))
    stop = threading.Event()
    bgp._thread = threading.Thread(target=stop.wait)
    bgp._thread.start()
    routes = RouteMonitor(testbed, [], Path("routes.jsonl"))
    routes._thread = finished_thread()
    traffic = TrafficRun(testbed, routes=routes, bgp=bgp)
    try:
        assert traffic.dead() == ["route recorder"]
    finally:
        stop.set()
        bgp._thread.join()
    assert traffic.dead() == ["route recorder", "bgp recorder"]
