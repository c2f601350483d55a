"""``min_sites``: never withdraw while fewer than K sites would remain announced.

The rule itself is pure (:mod:`testbed.health.machine`); the agents share
what they announce in one file (:mod:`testbed.health.shared`), so the tests
run several agents on fakes against one real file in ``tmp_path``.  Also the
shared backend: the ``backend`` check and the stream service on a unix
socket, killed and started again (real processes, no root).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from testbed.health import agent
from testbed.health.machine import Announcement, held_announcement, min_sites_hold
from testbed.health.shared import SharedAnnouncements, others_announced
from testbed.traffic import backend_argv

from .test_agent import CONFIG, FakeAnnouncer, FakeRemover, Log, Memory

UP = Announcement(True, None, 0)
GONE = Announcement(False, None, 0)


# ------------------------------------------------------------ the pure rule
@pytest.mark.parametrize(
    "min_sites, others, held",
    [
        (None, 0, None),
        (1, 1, None),
        (1, 0, "min_sites 1: 0 sites would remain announced"),
        (2, 1, "min_sites 2: 1 site would remain announced"),
        (2, 2, None),
        (3, 5, None),
    ],
)
def test_min_sites_hold(min_sites, others, held):
    assert min_sites_hold(min_sites, others) == held


def test_only_the_withdrawal_of_an_announced_route_is_held():
    demoted = Announcement(True, 1000, 0)
    assert held_announcement(GONE, UP, 1, 0) == (UP, "min_sites 1: 0 sites would remain announced")
    assert held_announcement(GONE, demoted, 1, 0)[0] == demoted  # kept as it is now
    assert held_announcement(GONE, UP, 1, 1) == (GONE, None)
    assert held_announcement(GONE, GONE, 1, 0) == (GONE, None)  # withdrawn already
    assert held_announcement(demoted, UP, 4, 0) == (demoted, None)  # MED: still announced
    assert held_announcement(UP, GONE, 4, 0) == (UP, None)  # announcing is never held
    assert held_announcement(GONE, UP, None, 0) == (GONE, None)


# --------------------------------------------------------- the shared file
def test_the_shared_file(tmp_path):
    shared = SharedAnnouncements(tmp_path / "health" / "announced.json")
    assert shared.snapshot() == {}
    shared.mark("lon", True)
    shared.mark("nyc", True)
    with shared.view() as data:
        assert others_announced(data, "lon") == 1
        data["lon"] = False
    assert json.loads(shared.path.read_text()) == {"lon": False, "nyc": True}
    assert shared.lock_path.name == "announced.json.lock"
    shared.path.write_text("{not json")
    assert shared.snapshot() == {}  # unreadable: empty
    shared.path.write_text("[1]")
    assert shared.snapshot() == {}


def test_the_lock_is_held_while_deciding(tmp_path):
    """A second process cannot take the lock while one agent decides."""
    shared = SharedAnnouncements(tmp_path / "announced.json")
    code = (
        "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT);"
        "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)"
    )
    with shared.view():
        busy = subprocess.run([sys.executable, "-c", code, str(shared.lock_path)])
    free = subprocess.run([sys.executable, "-c", code, str(shared.lock_path)])
    assert busy.returncode != 0 and free.returncode == 0


# ----------------------------------------------------------------- agents
class Round:
    """Check results an agent gets, switched from outside."""

    def __init__(self) -> None:
        self.ok = True

    def __call__(self) -> List[str]:
        return [] if self.ok else ["backend: Connection refused"]


def agents(tmp_path: Path, sites: List[str], **cfg: Any):
    shared = str(tmp_path / "announced.json")
    checks = Round()
    out: Dict[str, agent.Agent] = {}
    for site in sites:
        log = Log()
        out[site] = agent.Agent(
            {**CONFIG, "site": site, "shared": shared, **cfg},
            Memory(),
            announcer=FakeAnnouncer(log),
            remover=FakeRemover(log),
            checker=checks,
            sleep=lambda s: None,
            clock=lambda: 0.0,
        )
        out[site]._mark_announced()  # as run() does at start
    return out, checks, SharedAnnouncements(shared)


def states(a: agent.Agent) -> List[Dict[str, Any]]:
    return [r for r in a.writer.records if r["event"] in ("state", "retry")]


def test_without_min_sites_every_site_withdraws(tmp_path):
    sites, checks, shared = agents(tmp_path, ["nyc", "lon", "tyo"])
    checks.ok = False
    for _ in range(2):
        for a in sites.values():
            a.step()
    assert all(not a.announcer.current.announced for a in sites.values())
    assert shared.snapshot() == {"lon": False, "nyc": False, "tyo": False}
    assert all("held" not in r for a in sites.values() for r in states(a))


def test_min_sites_keeps_the_last_site_announced_then_lets_it_go(tmp_path):
    sites, checks, shared = agents(tmp_path, ["nyc", "lon", "tyo"], min_sites=1)
    checks.ok = False
    for _ in range(2):  # fall 2: every agent decides in its second round
        for a in sites.values():
            a.step()
    nyc, lon, tyo = sites["nyc"], sites["lon"], sites["tyo"]
    assert not nyc.announcer.current.announced and not lon.announcer.current.announced
    assert tyo.announcer.current == UP and tyo.machine.state == "down"
    (held,) = states(tyo)
    assert held["state"] == "down" and held["applied"] == []
    assert held["held"] == "min_sites 1: 0 sites would remain announced"
    assert shared.snapshot() == {"lon": False, "nyc": False, "tyo": True}
    tyo.step()  # still alone: still held, nothing new recorded
    assert len(states(tyo)) == 1 and tyo.announcer.current == UP
    # lon's checks pass again: lon announces (after rise 2), then tyo may withdraw
    lon.checker = lambda: []
    lon.step(), lon.step()
    assert lon.announcer.current == UP and shared.snapshot()["lon"] is True
    tyo.step()
    assert tyo.announcer.current == GONE and tyo.held is None
    assert states(tyo)[-1] == {
        "kind": "health",
        "site": "tyo",
        "event": "retry",
        "state": "down",
        "action": "withdraw",
        "applied": [f"{GONE}"],
    }
    assert shared.snapshot() == {"lon": True, "nyc": False, "tyo": False}


def test_a_held_site_that_recovers_just_stays(tmp_path):
    sites, checks, shared = agents(tmp_path, ["lon", "tyo"], min_sites=1)
    checks.ok = False
    for _ in range(2):
        for a in sites.values():
            a.step()
    checks.ok = True
    for _ in range(2):
        for a in sites.values():
            a.step()
    tyo = sites["tyo"]
    assert [(r["event"], r["state"], r.get("held")) for r in states(tyo)] == [
        ("state", "down", "min_sites 1: 0 sites would remain announced"),
        ("state", "up", None),
    ]
    assert states(tyo)[-1]["applied"] == []  # it never stopped announcing
    assert shared.snapshot() == {"lon": True, "tyo": True}


def test_a_held_site_is_not_withdrawn_when_the_others_recover_first(tmp_path):
    """Recovery order: lon is up again before tyo's first good round; tyo must not flap."""
    sites, checks, shared = agents(tmp_path, ["lon", "tyo"], min_sites=1)
    checks.ok = False
    for _ in range(2):
        for a in sites.values():
            a.step()
    lon, tyo = sites["lon"], sites["tyo"]
    checks.ok = True
    lon.step(), lon.step()  # lon up and announced
    assert shared.snapshot() == {"lon": True, "tyo": True}
    tyo.step()  # a good round: held still, not released
    assert tyo.announcer.current == UP and tyo.held
    tyo.step()  # up
    assert tyo.held is None and tyo.announcer.current == UP
    assert [r["event"] for r in states(tyo)] == ["state", "state"]  # no retry: never withdrawn


def test_min_sites_two_of_four(tmp_path):
    sites, checks, shared = agents(tmp_path, ["a", "b", "c", "d"], min_sites=2)
    checks.ok = False
    for _ in range(2):
        for a in sites.values():
            a.step()
    announced = [s for s, a in sites.items() if a.announcer.current.announced]
    assert announced == ["c", "d"]
    assert states(sites["c"])[0]["held"] == "min_sites 2: 1 site would remain announced"


def test_shutdown_is_never_held(tmp_path):
    sites, checks, shared = agents(tmp_path, ["lon"], min_sites=1)
    checks.ok = False
    lon = sites["lon"]
    lon.step(), lon.step()
    assert lon.announcer.current == UP  # alone: held
    lon.shutdown()
    assert lon.announcer.current.announced is False
    assert shared.snapshot() == {"lon": False}
    assert lon.writer.records[-1]["event"] == "address"


def test_the_start_record_has_min_sites_when_set(tmp_path):
    class Stop:
        stopped = True

    sites, _, _ = agents(tmp_path, ["lon"], min_sites=1)
    sites["lon"].run(Stop())  # type: ignore[arg-type]
    start = sites["lon"].writer.records[0]
    assert start["event"] == "start" and start["min_sites"] == 1
    plain, _, _ = agents(tmp_path / "p", ["lon"])
    plain["lon"].run(Stop())  # type: ignore[arg-type]
    assert "min_sites" not in plain["lon"].writer.records[0]


# ---------------------------------------------------------------- backend
def test_the_backend_check_asks_the_shared_backend(tmp_path):
    """The stream service on a unix socket, killed (a crash) and started again."""
    path = tmp_path / "backend.sock"
    assert agent.check_unix(str(path), 0.5) in (
        "backend: No such file or directory",
        "backend: Connection refused",
    )

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(backend_argv(path), stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while agent.check_unix(str(path), 0.5) is not None:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        return proc

    proc = start()
    try:
        config = {**CONFIG, "checks": ["backend"], "backend": str(path)}
        a = agent.Agent(
            config, Memory(), announcer=FakeAnnouncer(Log()), remover=FakeRemover(Log())
        )
        assert a.round() == []
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)
        assert path.exists()  # a killed backend leaves its socket file
        assert a.round() == ["backend: Connection refused"]
        proc = start()  # the stale socket file is replaced
        assert a.round() == []
    finally:
        proc.kill()
        proc.wait(5)


# ---------------------------------------------------------------- traffic
class Tb:
    """The testbed as TrafficRun sees it: processes started with Popen, no namespaces."""

    def __init__(self, run_dir: Path):
        from types import SimpleNamespace

        from testbed.scenario.prepare import prepare_run
        from testbed.speaker.base import SpeakerSpec, make_speaker
        from testbed.topology.plan import make_plan

        self.topo = prepare_run("all-sites-withdraw", ["health.min_sites=1"]).topology
        self.plan = make_plan(self.topo)
        self.run_dir = run_dir
        self.nodes = {name: SimpleNamespace(pid=4242) for name in self.plan.hosts}
        self.popen: Dict[int, subprocess.Popen] = {}
        self.speakers = {
            r: make_speaker(
                "frr", SpeakerSpec.from_router(self.plan.routers[r], topology=self.topo)
            )
            for r in self.plan.site_routers().values()
        }

    def speaker(self, router: str):
        return self.speakers[router]

    def spawn(self, node: str, argv: List[str], name: str, log: Path):
        from testbed.net.state import Tracked, proc_start_time

        proc = subprocess.Popen(argv, stderr=subprocess.DEVNULL)
        self.popen[proc.pid] = proc
        return Tracked(node, name, proc.pid, proc_start_time(proc.pid))

    def stop_process(self, tracked, sig=signal.SIGTERM, kill_group=False) -> bool:
        proc = self.popen.pop(tracked.pid)
        proc.send_signal(sig)
        proc.wait(5)
        return True


def test_traffic_runs_the_backend_and_tells_the_agents_where_it_and_the_shared_file_are(tmp_path):
    from testbed.traffic import TrafficRun, uses_backend

    tb = Tb(tmp_path)
    traffic = TrafficRun(tb)
    assert uses_backend(tb.topo)
    tracked = traffic.start_backend()
    try:
        assert tracked.name == "backend" and tracked.node == tb.plan.clients()[0].name
        socket_path = str(tmp_path.resolve() / "backend.sock")
        assert agent.check_unix(socket_path, 0.5) is None
        config = traffic.health_config(tb.topo.sites[1])
        assert config["backend"] == socket_path
        assert config["shared"] == str(tmp_path.resolve() / "health" / "announced.json")
        assert (config["min_sites"], config["checks"]) == (1, ["dns", "tcp", "backend"])
        assert config["base_communities"] == []
        assert traffic.stop_backend(kill=True) and traffic.backend is None
        assert agent.check_unix(socket_path, 0.5) == "backend: Connection refused"
        assert traffic.stop_backend() is False  # not running
        traffic.start_backend()
        assert agent.check_unix(socket_path, 0.5) is None
    finally:
        traffic.stop_backend()
