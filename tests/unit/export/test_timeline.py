"""The timeline planner plays the engine's bookkeeping through without a network:
the same vtysh commands in the same order as :class:`testbed.scenario.events.Events`
sends on a live testbed, and the same undoing on ``restore`` and ``link up``."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import pytest

from testbed.export.timeline import Action, TimelinePlanner
from testbed.scenario.events import Events
from testbed.scenario.model import Scenario
from testbed.speaker.base import SpeakerSpec
from testbed.speaker.frr import FrrSpeaker, announce_commands
from testbed.topology.load import load_topology
from testbed.topology.plan import make_plan

TOPO = load_topology("two-sites")
PLAN = make_plan(TOPO)


def timeline(*events: Dict[str, Any]) -> List[Any]:
    return list(Scenario(name="t", duration=100, timeline=list(events)).timeline)


class Recording(FrrSpeaker):
    """An FRR speaker whose vtysh calls are written down instead of run."""

    def _vtysh(self, router: str, commands: List[str]) -> str:
        self.tb.calls.append((router, "vtysh", tuple(commands)))
        return ""


class FakeTestbed:
    """What :class:`Events` needs of a testbed, every command written down."""

    def __init__(self) -> None:
        self.plan, self.topo = PLAN, TOPO
        self.calls: List[Tuple[str, str, Tuple[str, ...]]] = []
        self.speakers: Dict[str, Recording] = {}

    def speaker(self, router: str) -> Recording:
        if router not in self.speakers:
            spec = SpeakerSpec.from_router(PLAN.routers[router], None, TOPO)
            self.speakers[router] = Recording(spec, testbed=self)
        return self.speakers[router]

    def cmd(self, node: str, command: str) -> str:
        self.calls.append((node, "sh", tuple(command.removesuffix(" && echo done").split(" && "))))
        return "done"


def engine_calls(events: List[Any]) -> List[Tuple[str, str, Tuple[str, ...]]]:
    tb = FakeTestbed()
    runner = Events(tb)  # type: ignore[arg-type]
    for event in events:
        runner.apply(event)
    return tb.calls


def planned(events: List[Any], carrier: bool = True) -> List[Action]:
    planner = TimelinePlanner(PLAN, TOPO, carrier=carrier)
    return [a for e in planner.plan_timeline(events) for a in e.actions]


POLICY_TIMELINE = timeline(
    {"at": 1, "event": "withdraw", "site": "east"},
    {"at": 2, "event": "prepend", "site": "east", "count": 3},
    {"at": 3, "event": "med", "site": "east", "value": 70},
    {"at": 4, "event": "set_communities", "site": "east", "communities": ["no-export"]},
    {"at": 5, "event": "prepend", "site": "east", "count": 0},
    {"at": 6, "event": "restore", "site": "east"},
    {"at": 7, "event": "set_communities", "site": "west", "communities": ["65001:1:2"]},
    {"at": 8, "event": "restore", "site": "west"},
    {"at": 9, "event": "restore", "site": "west"},
)


def test_vtysh_commands_are_the_engines_in_the_engines_order():
    want = [(node, tuple(cmds)) for node, _kind, cmds in engine_calls(POLICY_TIMELINE)]
    got = [(a.node, a.args) for a in planned(POLICY_TIMELINE)]
    assert all(a.kind == "vtysh" for a in planned(POLICY_TIMELINE))
    assert got == want
    assert ("east", tuple(announce_commands(64500, "192.0.2.0/24", True))) in got


def test_link_down_and_restore_are_the_engines_on_a_veth():
    events = timeline(
        {"at": 1, "event": "fail_site", "site": "east", "how": "link-down"},
        {"at": 2, "event": "restore", "site": "east"},
        {"at": 3, "event": "link", "a": "ta", "b": "tb", "state": "down"},
        {"at": 4, "event": "link", "a": "ta", "b": "tb", "state": "up"},
    )
    want = [(node, cmds) for node, _kind, cmds in engine_calls(events)]
    got = [(a.node, (f"ip link set {a.args[0]} {a.args[1]}",)) for a in planned(events)]
    assert got == want


def test_on_a_bridge_link_down_takes_the_upstreams_end_down_too():
    events = timeline(
        {"at": 1, "event": "fail_site", "site": "east", "how": "link-down"},
        {"at": 2, "event": "restore", "site": "east"},
    )
    got = [(a.node, a.args) for a in planned(events, carrier=False)]
    assert got == [
        ("east", ("east-e0", "down")),
        ("ta", ("ta-e2", "down")),
        ("ta", ("ta-e2", "up")),
        ("east", ("east-e0", "up")),
    ]


def test_silent_crash_and_kill_service_are_undone_latest_first():
    events = timeline(
        {"at": 1, "event": "fail_site", "site": "east", "how": "silent"},
        {"at": 2, "event": "kill_service", "site": "east", "service": "all"},
        {"at": 3, "event": "restore", "site": "east"},
        {"at": 4, "event": "fail_site", "site": "west", "how": "router-crash"},
        {"at": 5, "event": "restore", "site": "west"},
        {"at": 6, "event": "restore", "site": "west"},
    )
    planner = TimelinePlanner(PLAN, TOPO, services=("dns",))
    steps = [[(a.node, a.kind, a.args) for a in e.actions] for e in planner.plan_timeline(events)]
    assert steps[0] == [("east", "drop", ("", "add")), ("east", "frr", ("STOP",))]
    assert steps[1] == [("east-1", "service", ("dns", "stop"))]  # no stream service: dns only
    assert steps[2] == [
        ("east-1", "service", ("dns", "start")),
        ("east", "frr", ("CONT",)),
        ("east", "drop", ("", "delete")),
    ]
    assert steps[3] == [("west", "frr", ("KILL",))]
    assert steps[4] == [("west", "frr", ("start",))]
    assert steps[5] == []  # nothing left to undo


def test_blackhole_and_as_names():
    events = timeline(
        {"at": 1, "event": "link", "a": "ispa", "b": "ta", "state": "blackhole"},
        {"at": 2, "event": "link", "a": "ta", "b": "ispa", "state": "up"},
    )
    got = [(a.node, a.kind, a.args) for a in planned(events)]
    assert got == [
        ("ispa", "drop", ("ispa-e0", "add")),
        ("ta", "drop", ("ta-e1", "add")),
        ("ispa", "drop", ("ispa-e0", "delete")),
        ("ta", "drop", ("ta-e1", "delete")),
    ]


def test_records_carry_the_engines_fields():
    events = timeline({"at": 2.5, "event": "prepend", "site": "west", "count": 2})
    (one,) = TimelinePlanner(PLAN, TOPO).plan_timeline(events)
    assert one.record == {
        "kind": "event",
        "index": 0,
        "event": "prepend",
        "target": "west",
        "params": {"site": "west", "count": 2},
        "at": 2.5,
    }
    assert one.describe() == "prepend 2 on site west"


def test_an_event_an_export_cannot_play_is_refused():
    (event,) = timeline({"at": 1, "event": "backend", "state": "down"})
    with pytest.raises(ValueError, match="backend"):
        TimelinePlanner(PLAN, TOPO).actions(event)
