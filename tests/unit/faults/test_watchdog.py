"""The watchdog's decisions: expected or not, stop or carry on, and what it writes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from testbed.net.build import Testbed
from testbed.net.state import Tracked, proc_start_time
from testbed.records import RecordWriter, WriteFault
from testbed.topology.load import load_topology
from testbed.topology.plan import make_plan
from testbed.watchdog import (
    CARRY_ON,
    POLICY,
    STOP,
    Watchdog,
    affects,
    classify,
    describe_status,
    policy,
    records_file,
)


@pytest.fixture(scope="module")
def plan():
    return make_plan(load_topology("two-sites"))


def test_daemons_under_test_carry_on_instruments_stop():
    for name in ("zebra", "bgpd", "bfdd", "speaker", "nsd", "stream"):
        assert policy(name) == CARRY_ON, name
    for name in ("dns-probe", "tcp-probe", "health-agent", "tcpdump", "route recorder",
                 "bgp recorder", "namespace"):  # fmt: skip
        assert policy(name) == STOP, name
    assert set(POLICY) >= {"bgpd", "nsd", "dns-probe", "route recorder"}


def test_a_death_the_testbed_caused_is_expected(plan):
    assert classify("bgpd", "west", 10, None, True, plan, 1.0) is None  # router-crash
    assert classify("nsd", "west-1", 11, -9, True, plan, 1.0) is None  # kill_service


def test_an_unexpected_daemon_death_carries_on_and_says_what_it_affects(plan):
    death = classify("bgpd", "ta", 10, None, False, plan, 5.0)
    assert death.action == CARRY_ON and death.how == "status unknown"
    assert death.affects.startswith("ta's BGP sessions (") and "east" in death.affects
    record = death.record(t0=2.0)
    assert record["kind"] == "process_died" and record["at"] == 3.0
    assert record["action"] == "carried on" and record["process"] == "bgpd"
    nsd = classify("nsd", "east-1", 11, -9, False, plan, 5.0)
    assert nsd.how == "killed by SIGKILL" and "site east" in nsd.affects
    assert nsd.line() == "nsd on east-1 died (killed by SIGKILL)"


def test_a_probe_death_stops_and_a_write_fault_status_means_disk_full(plan):
    probe = classify("dns-probe", "ca", 12, 1, False, plan, 5.0)
    assert probe.action == STOP and probe.fault is None and probe.how == "exit status 1"
    full = classify("dns-probe", "ca", 12, 3, False, plan, 5.0)
    assert full.action == STOP and full.fault == "disk full"
    assert full.file == "records/dns-ca.jsonl"
    assert full.record(None)["action"] == "stopped the run"
    # NSD's own exit status 3 is not ours to read as a write fault
    assert classify("nsd", "east-1", 13, 3, False, plan, 5.0).fault is None


def test_describe_status_and_records_files(plan):
    assert describe_status(None) == "status unknown"
    assert describe_status(0) == "exit status 0"
    assert describe_status(-signal.SIGTERM) == "killed by SIGTERM"
    assert records_file("tcp-probe", "cb", plan) == "records/tcp-cb.jsonl"
    assert records_file("health-agent", "east", plan) == "records/health.jsonl"
    assert records_file("speaker", "east", plan) == "records/speaker-east.jsonl"
    assert records_file("bgpd", "ta", plan) is None
    assert "measurements" in affects("dns-probe", "ca", plan)


class FakeTestbed:
    """What the watchdog reads of a Testbed: state, plan, signalled, exit_status."""

    def __init__(self, plan, run_dir: Path):
        self.plan = plan
        self.run_dir = run_dir
        self.state = SimpleNamespace(processes=[], nodes={})
        self.signalled = set()
        self.status = {}

    def exit_status(self, tracked):
        return self.status.get(tracked.pid)


def dead(name: str, node: str, pid: int) -> Tracked:
    daemon = name in ("zebra", "bgpd", "bfdd", "staticd", "bird")  # as Testbed tracks them
    return Tracked(node, name, pid, 12345, daemon=daemon)  # no such process: dead


def test_watchdog_records_each_unexpected_death_once(tmp_path, plan):
    tb = FakeTestbed(plan, tmp_path)
    said = []
    watchdog = Watchdog(tb, None, tmp_path / "run.jsonl", t0=lambda: 100.0, say=said.append)
    watchdog._writer = RecordWriter(tmp_path / "run.jsonl")  # as start() opens it, no thread
    crashed = dead("bgpd", "west", 999991)
    tb.signalled.add((crashed.pid, crashed.start))  # the scenario killed it
    tb.state.processes = [crashed, dead("nsd", "east-1", 999992)]
    tb.status[999992] = -9
    assert [d.process for d in watchdog.check()] == ["nsd"]
    assert watchdog.check() == []  # once
    assert watchdog.fatal is None
    tb.state.processes.append(dead("dns-probe", "ca", 999993))
    tb.status[999993] = 3
    assert [d.process for d in watchdog.check()] == ["dns-probe"]
    assert watchdog.fatal.fault == "disk full"
    watchdog.stop()
    written = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert [r["process"] for r in written] == ["nsd", "dns-probe"]
    assert written[0]["action"] == "carried on" and written[1]["action"] == "stopped the run"
    assert said == [
        "warning: nsd on east-1 died (killed by SIGKILL); the run carries on: "
        "site east's DNS on east-1 stops answering while its route stays (a blackhole)"
    ]


def test_watchdog_sees_a_recorder_thread_end_and_why(tmp_path, plan):
    class Recorder:
        def __init__(self, fault=None, error=None):
            self.fault, self.error = fault, error

        def alive(self):
            return False

    full = WriteFault(tmp_path / "records" / "routes.jsonl", 28)
    traffic = SimpleNamespace(routes=Recorder(fault=full), bgp=Recorder(error="ValueError: x"))
    watchdog = Watchdog(FakeTestbed(plan, tmp_path), traffic, tmp_path / "run.jsonl")
    found = watchdog.check()
    assert [(d.process, d.action) for d in found] == [
        ("route recorder", STOP),
        ("bgp recorder", STOP),
    ]
    assert found[0].fault == "disk full" and found[0].file == "records/routes.jsonl"
    assert found[1].how == "ValueError: x"
    assert watchdog.fatal is found[0]


def test_watchdog_thread_notices_within_a_second(tmp_path, plan):
    tb = FakeTestbed(plan, tmp_path)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        tb.state.processes = [Tracked("ca", "dns-probe", child.pid, proc_start_time(child.pid))]
        tb.exit_status = lambda tracked: child.poll()
        watchdog = Watchdog(tb, None, tmp_path / "run.jsonl").start()
        found = threading.Event()
        child.kill()
        child.wait()
        for _ in range(40):
            if watchdog.fatal is not None:
                found.set()
                break
            threading.Event().wait(0.025)
        watchdog.stop()
        assert found.is_set(), "not noticed within a second"
        assert watchdog.fatal.how == "killed by SIGKILL"
    finally:
        if child.poll() is None:
            child.kill()


def test_send_signal_marks_the_death_expected():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        tracked = Tracked("n", "nsd", child.pid, proc_start_time(child.pid))
        tb = SimpleNamespace(signalled=set())
        Testbed.send_signal(tb, tracked, signal.SIGSTOP)  # freezing is not ending
        assert tb.signalled == set()
        Testbed.send_signal(tb, tracked, signal.SIGCONT)
        Testbed.send_signal(tb, tracked, signal.SIGKILL)
        assert tb.signalled == {(tracked.pid, tracked.start)}
        child.wait(timeout=5)
    finally:
        if child.poll() is None:
            child.kill()


def test_a_rotation_goes_round_every_item_in_slices():
    from testbed.watchdog import Rotation

    small = Rotation(most=4)
    assert small.take([1, 2, 3]) == [1, 2, 3] and small.take([1, 2, 3]) == [1, 2, 3]
    rot = Rotation(most=4)
    items = list(range(10))
    seen = [rot.take(items) for _ in range(5)]
    assert seen[:3] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 0, 1]]
    assert set().union(*map(set, seen[:3])) == set(items)  # all within ceil(10 / 4) looks
    assert all(len(s) == 4 for s in seen)
