"""``up --check [--traffic]``: the exit status judges convergence, sessions and catchment.

The testbed and the traffic are fakes (nothing starts): they report a chosen
convergence, session states and DNS answers, so each rule of the verdict is
tested on its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from testbed import console, signals
from testbed.commands import up as up_command
from testbed.net.build import ConvergenceResult
from testbed.topology.load import load_topology
from testbed.topology.plan import make_plan

from .helpers import run_cli


class FakeTestbed:
    """Stands for :class:`testbed.net.build.Testbed` with a chosen outcome."""

    converged = True
    down: List[str] = []  # routers whose every session is Idle
    made: List[FakeTestbed] = []

    def __init__(self, topo, run_dir: Path, log=None):
        self.topo = topo
        self.plan = make_plan(topo)
        self.run_dir = Path(run_dir)
        self.warnings: List[str] = []
        self.timings: Dict[str, float] = {}
        self.stopped = False
        FakeTestbed.made.append(self)

    def start(self) -> None:
        pass

    def wait_converged(self, timeout: float = 60.0) -> ConvergenceResult:
        return ConvergenceResult(
            self.converged, 1.5, {} if self.converged else {"ta": ["10.0.0.0/8"]}
        )

    def bgp_sessions(self, router: str) -> Dict[str, str]:
        state = "Idle" if router in self.down else "Established"
        return {"peer": state}

    def path_to(self, client: str) -> List[str]:
        return []

    def stop(self) -> None:
        self.stopped = True


class FakeTraffic:
    """Stands for :class:`testbed.traffic.TrafficRun`: writes one DNS answer per client."""

    answered: Optional[str] = "east"  # the site that answers; None: no answer
    started: List[FakeTraffic] = []

    def __init__(self, testbed, params):
        self.testbed = testbed
        self.records = testbed.run_dir / "records"

    def start(self) -> None:
        FakeTraffic.started.append(self)
        for client in self.testbed.plan.clients():
            status = "ok" if self.answered else "timeout"
            rec = {"t": 1.0, "kind": "dns", "client": client.name, "seq": 0}
            rec.update(status=status, site=self.answered, rtt=0.004 if self.answered else None)
            path = self.records / f"dns-{client.name}.jsonl"
            path.write_text(json.dumps(rec) + "\n")

    def dead(self) -> List[str]:
        return []

    def stop(self) -> None:
        pass


@pytest.fixture
def fakes(monkeypatch):
    """Fake testbed and traffic; no root check, no signal handlers, a short check."""
    import testbed.net.build as build
    import testbed.net.state as state
    import testbed.traffic as traffic

    FakeTestbed.converged, FakeTestbed.down, FakeTestbed.made = True, [], []
    FakeTraffic.answered, FakeTraffic.started = "east", []
    monkeypatch.setattr(build, "Testbed", FakeTestbed)
    monkeypatch.setattr(traffic, "TrafficRun", FakeTraffic)
    monkeypatch.setattr(console, "require_root", lambda: None)
    monkeypatch.setattr(state, "running", lambda: None)  # a real testbed may be up meanwhile
    monkeypatch.setattr(signals, "install", lambda: None)
    monkeypatch.setattr(up_command, "CHECK_TRAFFIC_S", 0.05)
    monkeypatch.setattr(up_command.time, "sleep", lambda s: None)
    load_topology("two-sites")  # fail here, not in the CLI, if the topology broke


def up(capsys, tmp_path, *flags: str) -> int:
    code, _out, err = run_cli(capsys, "up", "two-sites", "--check", *flags, "--out", str(tmp_path))
    assert "Traceback" not in err
    assert all(tb.stopped for tb in FakeTestbed.made)
    return code


def test_check_passes_when_converged_and_every_session_up(capsys, tmp_path, fakes):
    assert up(capsys, tmp_path) == 0
    assert FakeTraffic.started == []


def test_check_fails_without_convergence(capsys, tmp_path, fakes):
    FakeTestbed.converged = False
    assert up(capsys, tmp_path) == 1


def test_check_fails_with_a_session_down(capsys, tmp_path, fakes):
    FakeTestbed.down = ["ta"]
    assert up(capsys, tmp_path) == 1


def test_check_traffic_passes_when_every_client_reached_a_site(capsys, tmp_path, fakes):
    assert up(capsys, tmp_path, "--traffic") == 0
    assert len(FakeTraffic.started) == 1


@pytest.mark.parametrize("broken", ["converged", "down"])
def test_check_traffic_fails_on_bgp_whatever_the_catchment(capsys, tmp_path, fakes, broken):
    if broken == "converged":
        FakeTestbed.converged = False
    else:
        FakeTestbed.down = ["tb"]
    assert up(capsys, tmp_path, "--traffic") == 1
    assert FakeTraffic.started == []  # judged before any traffic starts


def test_check_traffic_fails_when_a_client_reached_no_site(capsys, tmp_path, fakes):
    FakeTraffic.answered = None
    assert up(capsys, tmp_path, "--traffic") == 1
