"""The playbook runner and command on a fake testbed: what is applied, asked, reverted, written.

The fake two-sites testbed routes each client to its home site unless that
site withdrew or prepends twice or more (then to the other one); its
``cmd`` answers ``dig`` the way NSD does, so the runner, the command's
flow, its output files and its exit paths are tested without root.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from testbed import console, signals
from testbed.net.build import ConvergenceResult
from testbed.playbook.actions import basic_actions, select
from testbed.playbook.model import Action, Playbook
from testbed.playbook.runner import Runner, apply_action, dig_command, parse_answer
from testbed.speaker.base import SpeakerSpec
from testbed.topology.load import load_topology
from testbed.topology.plan import make_plan
from tests.unit.cli.helpers import one_line_error, run_cli

HOME = {"ca": "east", "cb": "west"}
OTHER = {"east": "west", "west": "east"}


class FakeSpeaker:
    """Records what it was told; holds what the site announces."""

    def __init__(self, site: str, base_communities: Optional[List[str]] = None):
        self.spec = SpeakerSpec(
            site=site, router=site, asn=64500, prefixes=["192.0.2.0/24"],
            base_prepend=1, base_med=5, base_communities=list(base_communities or []),
        )  # fmt: skip
        self.announced = True
        self.prepend = 1
        self.communities = list(self.spec.base_communities)
        self.calls: List[tuple] = []

    def withdraw(self) -> None:
        self.announced = False
        self.calls.append(("withdraw",))

    def announce(self) -> None:
        self.announced = True
        self.calls.append(("announce",))

    def set_policy(self, prepend, med, communities=None, force=False) -> List[str]:
        self.prepend = prepend
        if communities is not None:
            self.communities = list(communities)
        self.calls.append(("policy", prepend, med, communities, force))
        return ["done"]


class FakeTestbed:
    """two-sites, routed by a rule; counts what it was asked."""

    made: List[FakeTestbed] = []
    stuck: Optional[str] = None  # a client that stays at the other site after a revert
    interrupt_at: Optional[int] = None  # raise KeyboardInterrupt at this step's query

    def __init__(self, topo, run_dir: Path, log=None):
        self.topo = topo
        self.plan = make_plan(topo)
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.frr_started_at = time.time()
        self.warnings: List[str] = []
        self.timings: Dict[str, float] = {}
        self.speakers = {s.name: FakeSpeaker(s.name) for s in topo.sites}
        self.moved_once: set = set()
        self.asked = 0
        self.stopped = False
        FakeTestbed.made.append(self)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        self.stopped = True

    def speaker(self, router: str) -> FakeSpeaker:
        return self.speakers[router]

    def site_of(self, client: str) -> Optional[str]:
        home = self.speakers[HOME[client]]
        if client == self.stuck and client in self.moved_once:
            return OTHER[HOME[client]]
        if not home.announced or home.prepend >= 3:  # base 1 + 2 or more
            self.moved_once.add(client)
            return OTHER[HOME[client]]
        return HOME[client]

    def wait_converged(self, timeout=60.0, quiet=1.0, wait_for_routes=True) -> ConvergenceResult:
        return ConvergenceResult(True, 0.5, {}, at=time.time())

    def routes(self, prefixes=None):
        return {"ta": {"p": (self.site_of("ca"),)}, "tb": {"p": (self.site_of("cb"),)}}

    def cmd(self, node: str, command: str) -> str:
        assert command == dig_command("192.0.2.53")
        self.asked += 1
        if self.interrupt_at is not None and self.asked > self.interrupt_at:
            raise KeyboardInterrupt
        return f'"{self.site_of(node)}"\n'


class FakeTraffic:
    """Stands for Traffic: only NSD is started, then stopped."""

    def __init__(self, testbed, params=None):
        self.started: List[str] = []
        self.stopped = False

    def start_service(self, server: str, kind: str) -> None:
        assert kind == "dns"
        self.started.append(server)

    def wait_services(self, timeout: float = 20.0, only=None) -> None:
        assert only == {(s, "dns") for s in self.started}

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture
def fakes(monkeypatch):
    import testbed.net.build as build
    import testbed.net.state as state
    import testbed.traffic as traffic

    FakeTestbed.made, FakeTestbed.stuck, FakeTestbed.interrupt_at = [], None, None
    monkeypatch.setattr(build, "Testbed", FakeTestbed)
    monkeypatch.setattr(traffic, "TrafficRun", FakeTraffic)
    monkeypatch.setattr(console, "require_root", lambda: None)
    monkeypatch.setattr(state, "running", lambda: None)  # a real testbed may be up meanwhile
    monkeypatch.setattr(signals, "install", lambda: None)


# ----------------------------------------------------------------- pieces
def test_parse_answer():
    assert parse_answer('"nyc"\n') == "nyc"
    assert parse_answer(";; connection timed out; no servers could be reached\n") is None
    assert parse_answer("") is None
    assert parse_answer('""') is None


def test_apply_action_adds_to_the_sites_own_policy_and_reverts_to_it():
    prepend2, withdraw = basic_actions()[1], basic_actions()[3]
    speaker = FakeSpeaker("east", base_communities=["64500:100"])
    apply_action(speaker, prepend2)()
    assert speaker.calls == [("policy", 3, 5, None, True), ("policy", 1, 5, None, True)]
    speaker.calls.clear()
    apply_action(speaker, withdraw)()
    assert speaker.calls == [("withdraw",), ("announce",)]
    speaker.calls.clear()
    community = Action(name="ta:no-export-peers", kind="community", community="65001:6000")
    apply_action(speaker, community)()
    assert speaker.calls == [
        ("policy", 1, 5, ["64500:100", "65001:6000"], True),
        ("policy", 1, 5, ["64500:100"], True),
    ]


def test_runner_step_measures_the_shift_and_the_way_back(tmp_path):
    tb = FakeTestbed(load_topology("two-sites"), tmp_path)
    runner = Runner(tb, "192.0.2.53")
    try:
        assert runner.ask() == {"ca": "east", "cb": "west"}
        withdraw = basic_actions()[3]
        obs = runner.step("east", withdraw)
        assert obs.after == {"ca": "west", "cb": "west"}
        assert obs.back == {"ca": "east", "cb": "west"}
        assert obs.routers_changed == 1 and obs.converged
        assert obs.converge_s >= 0
        assert tb.speakers["east"].calls == [("withdraw",), ("announce",)]
        nothing = runner.step("west", basic_actions()[0])  # prepend1: nobody moves
        assert nothing.routers_changed == 0 and nothing.converge_s == 0.0
    finally:
        runner.close()


# ----------------------------------------------------------------- command
def test_bad_input_is_one_line_and_starts_nothing(capsys, tmp_path, monkeypatch):
    def refuse() -> None:
        raise AssertionError("would start")

    monkeypatch.setattr(console, "require_root", refuse)
    out = ["--out", str(tmp_path)]
    line = one_line_error(capsys, "playbook", "two-sites", "--sites", "north", *out)
    assert line == "--sites: no site 'north' in two-sites (sites: east, west)"
    line = one_line_error(capsys, "playbook", "two-sites", "--actions", "prepend9", *out)
    assert line.startswith("--actions: no action 'prepend9' at east, west (actions: prepend1")
    line = one_line_error(capsys, "playbook", "no-such-topology", *out)
    assert line.startswith("no-such-topology: no topology")
    assert list(tmp_path.iterdir()) == []


def test_dry_run_lists_the_steps(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(console, "require_root", lambda: pytest.fail("would start"))
    code, out, _err = run_cli(capsys, "playbook", "two-sites", "--dry-run", "--out", str(tmp_path))
    assert code == 0
    assert out.splitlines()[0] == "east prepend1: prepend the site's AS 1 more time"
    assert out.splitlines()[-1] == "8 actions at 2 sites"


def test_a_playbook_prints_and_writes_its_table(capsys, tmp_path, fakes):
    code, out, err = run_cli(
        capsys, "playbook", "two-sites", "--actions", "prepend2,withdraw", "--out", str(tmp_path)
    )
    assert code == 0, err
    [tb] = FakeTestbed.made
    assert tb.stopped
    assert tb.run_dir.parent == tmp_path and tb.run_dir.name.endswith("-playbook-two-sites")
    book = Playbook.model_validate(json.loads((tb.run_dir / "playbook.json").read_text()))
    assert [s.label for s in book.steps] == [
        "east prepend2",
        "east withdraw",
        "west prepend2",
        "west withdraw",
    ]
    withdraw = book.steps[1]
    assert [m.client for m in withdraw.moved] == ["ca"]
    assert withdraw.after.shares == {"east": 0.0, "west": 1.0}
    assert all(s.back for s in book.steps)
    assert book.matrix["cb"]["west withdraw"] == "east"
    for name in ("playbook.csv", "playbook.md", "playbook.png"):
        assert (tb.run_dir / name).stat().st_size > 0
    assert "east withdraw: 1 moved (ca)" in out
    assert any(line.split()[:3] == ["east", "withdraw", "0"] for line in out.splitlines())
    assert "playbook: 4 actions in" in out


def test_a_client_not_back_is_said(capsys, tmp_path, fakes):
    FakeTestbed.stuck = "ca"
    code, _out, err = run_cli(
        capsys, "playbook", "two-sites", "--sites", "east", "--actions", "withdraw",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0
    assert "east withdraw: after the revert, ca at west (not east)" in " ".join(err.split())


def test_ctrl_c_tears_down_and_keeps_the_steps_done(capsys, tmp_path, fakes):
    FakeTestbed.interrupt_at = 2 + 2 * 2 + 1  # baseline, one step, then into the second
    code, _out, _err = run_cli(capsys, "playbook", "two-sites", "--out", str(tmp_path))
    assert code == 130
    [tb] = FakeTestbed.made
    assert tb.stopped
    book = Playbook.model_validate(json.loads((tb.run_dir / "playbook.json").read_text()))
    assert [s.label for s in book.steps] == ["east prepend1"]
    assert book.interrupted


def test_selection_of_the_fake_topology_is_the_commands():
    assert len(select(load_topology("two-sites")).steps) == 8
