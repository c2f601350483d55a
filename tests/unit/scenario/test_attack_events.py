"""Attack events and attackers in scenarios (no root): models, checks, dispatch."""

from __future__ import annotations

import textwrap
from typing import Any, List, Optional

import pytest
from pydantic import TypeAdapter

from testbed.attack import limits
from testbed.errors import InputError
from testbed.scenario.engine import describe, event_params, event_target, load_meta
from testbed.scenario.events import Events
from testbed.scenario.load import load_scenario, scenario_topology
from testbed.scenario.model import AttackStart, AttackStop, Event
from testbed.topology.load import load_topology
from testbed.topology.plan import make_plan
from testbed.traffic import attack_argv

EVENT: TypeAdapter[Any] = TypeAdapter(Event)

BASE = """
name: x
topology: world-ddos
duration: 30
timeline:
  - {at: 5, event: attack_start, ramp: 2}
  - {at: 25, event: attack_stop}
"""


def write(tmp_path, text: str) -> str:
    path = tmp_path / "scen.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def error(tmp_path, text: str, sets=()) -> str:
    with pytest.raises(InputError) as info:
        scenario_topology(load_scenario(write(tmp_path, text), list(sets)))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_models_and_words():
    start = EVENT.validate_python({"at": 1, "event": "attack_start", "ramp": 3, "rate": 500})
    assert isinstance(start, AttackStart) and start.ramp == 3 and start.rate == 500
    assert isinstance(EVENT.validate_python({"at": 2, "event": "attack_stop"}), AttackStop)
    params = event_params(start)
    assert describe("attack_start", params) == "attack starts at 500 packets/s per source, 3 s ramp"
    assert describe("attack_start", {"ramp": 0, "rate": None}) == "attack starts"
    assert describe("attack_stop", {}) == "attack stops"
    assert event_target("attack_start", params) == "attack" == event_target("attack_stop", {})


def test_the_base_scenario_is_valid(tmp_path):
    topo = scenario_topology(load_scenario(write(tmp_path, BASE)))
    assert topo.attackers is not None and topo.attackers.rate == 3000


def test_scenario_attackers_replace_the_topology_s(tmp_path):
    text = (
        BASE.replace("world-ddos", "world") + "attackers: {ases: [ispny], rate: 700, per_as: 2}\n"
    )
    topo = scenario_topology(load_scenario(write(tmp_path, text)))
    assert topo.attackers.ases == ["ispny"] and topo.attackers.rate == 700
    assert [h.name for h in make_plan(topo).attackers()] == ["atk1", "atk2"]


@pytest.mark.parametrize(
    "old,new,expected",
    [
        ("world-ddos", "world", "timeline[0]: no attackers declared"),
        ("ramp: 2}", "ramp: 61}", "timeline[0].ramp: Input should be less than or equal to 60"),
        ("ramp: 2}", "rate: 150000}", "timeline[0].rate: 150000 packets/s per source"),
        ("ramp: 2}", "rate: 0}", "timeline[0].rate: Input should be greater than 0"),
        (
            "  - {at: 5, event: attack_start, ramp: 2}\n",
            "",
            "timeline[0]: attack_stop without an attack_start before it",
        ),
        (
            "  - {at: 25, event: attack_stop}",
            "  - {at: 25, event: attack_start}",
            "timeline[1]: the attack already started at timeline[0]",
        ),
    ],
)
def test_bad_attack_timelines(tmp_path, old, new, expected):
    text = BASE.replace(old, new)
    assert text != BASE
    assert expected in error(tmp_path, text)


def test_an_attack_longer_than_the_ceiling_is_refused(tmp_path):
    text = BASE.replace("duration: 30", "duration: 700").replace(
        "  - {at: 25, event: attack_stop}\n", ""
    )
    message = error(tmp_path, text)
    assert f"timeline[0]: the attack would last 695 s: at most {limits.MAX_DURATION} s" in message


def test_attackers_given_by_set_are_checked(tmp_path):
    message = error(tmp_path, BASE, ["topology.attackers.rate=999999"])
    assert "attackers.rate" in message and "at most 100000" in message


def test_attack_argv_and_meta():
    topo = load_topology("world-ddos")
    plan = make_plan(topo)
    host = plan.attackers()[0]
    argv = attack_argv(topo, host, None, 2.0, 30.0, 7, __import__("pathlib").Path("/r"))
    joined = " ".join(argv)
    assert "-m testbed.attack.sender --source atk1 --as isptyo --target 192.0.2.53" in joined
    assert "--prefix 192.0.2.0/24 --rate 3000 --ramp 2 --size 100 --kind dns" in joined
    assert "--duration 30 --seed 7 --out /r/attack-atk1.jsonl" in joined
    meta = load_meta(topo, plan)
    assert meta["capacity"]["tyo"] == {"bandwidth": 2.0, "packets": None, "queue": 50.0}
    assert meta["weights"]["newyork"] == 8
    assert meta["attackers"]["atk2"] == {
        "as": "ispsin",
        "address": str(plan.hosts["atk2"].interface.address.ip),
        "access_router": "ispsin",
    }


class FakeTraffic:
    def __init__(self) -> None:
        self.calls: List[tuple] = []
        self.running: List[str] = []

    def start_attack(self, rate: Optional[float], ramp: float, duration: float) -> List[str]:
        self.calls.append(("start", rate, ramp, duration))
        self.running = ["atk1", "atk2"]
        return self.running

    def stop_attack(self) -> List[str]:
        self.calls.append(("stop",))
        out, self.running = self.running, []
        return out


class FakeTestbed:
    topo = load_topology("world-ddos")


def test_events_start_and_stop_the_attack_within_the_run():
    import time

    traffic = FakeTraffic()
    events = Events(FakeTestbed(), traffic)  # type: ignore[arg-type]
    events.ends_at = time.time() + 20
    details = events.apply(EVENT.validate_python({"at": 0, "event": "attack_start", "ramp": 2}))
    assert details["sources"] == ["atk1", "atk2"] and details["rate"] == 3000
    kind, rate, ramp, duration = traffic.calls[0]
    assert (kind, rate, ramp) == ("start", None, 2)
    assert 20 < duration <= 25  # the rest of the run and a grace: the senders stop by themselves
    assert events.apply(EVENT.validate_python({"at": 0, "event": "attack_stop"})) == {
        "stopped": ["atk1", "atk2"]
    }
    events.ends_at = None  # outside a timeline: the ceiling
    events.apply(EVENT.validate_python({"at": 0, "event": "attack_start", "rate": 10}))
    assert traffic.calls[-1] == ("start", 10, 0, limits.MAX_DURATION)


def test_load_checks_need_an_attack(tmp_path):
    text = BASE.replace("world-ddos", "world").replace(
        "timeline:\n  - {at: 5, event: attack_start, ramp: 2}\n  - {at: 25, event: attack_stop}\n",
        "timeline: []\nexpect:\n  - {check: cascade, happens: false}\n",
    )
    assert "expect[0].check: cascade needs an attack_start event in the timeline" in error(
        tmp_path, text
    )
