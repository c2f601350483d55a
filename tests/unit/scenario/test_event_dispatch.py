"""Events dispatch on the event model's class, and the records they leave stay the same."""

from __future__ import annotations

import json
from typing import Any, List, Union, get_args

import pytest
from pydantic import TypeAdapter

from testbed.errors import TestbedError
from testbed.scenario import engine as engine_module
from testbed.scenario.engine import Engine, event_params, resolve_busiest
from testbed.scenario.events import HANDLERS, Events, handles
from testbed.scenario.model import (
    BUSIEST,
    Event,
    EventBase,
    FailSite,
    LinkEvent,
    Prepend,
    Restore,
    Scenario,
)
from testbed.speaker.base import SpeakerSpec
from testbed.topology.load import load_topology
from testbed.topology.plan import make_plan

EVENT = TypeAdapter(Event)


def event_models() -> List[type]:
    union = get_args(Event)[0]
    assert get_args(union) and union.__origin__ is Union
    return list(get_args(union))


def test_every_event_model_has_one_handler_and_nothing_else_does():
    assert set(HANDLERS) == set(event_models())


def test_a_class_registered_twice_is_refused():
    with pytest.raises(TypeError, match="FailSite has a handler already"):
        handles(FailSite)(lambda events, event: {})


class Speaker:
    def __init__(self, spec: SpeakerSpec, log: List[Any]):
        self.spec, self.log, self.kind = spec, log, "fake"

    def withdraw(self) -> None:
        self.log.append("withdraw")

    def announce(self) -> None:
        self.log.append("announce")

    def set_policy(self, prepend: int, med: Any, force: bool = False) -> None:
        self.log.append(("policy", prepend, med))


class FakeTestbed:
    def __init__(self) -> None:
        self.plan = make_plan(load_topology("two-sites"))
        self.log: List[Any] = []
        self.speakers = {
            r: Speaker(SpeakerSpec.from_router(self.plan.routers[r]), self.log)
            for r in self.plan.site_routers().values()
        }

    def speaker(self, router: str) -> Speaker:
        return self.speakers[router]


def test_apply_hands_the_model_to_its_handler_and_restore_undoes_it():
    tb = FakeTestbed()
    events = Events(tb)  # type: ignore[arg-type]
    withdrawn = events.apply(EVENT.validate_python({"event": "withdraw", "at": 1, "site": "east"}))
    assert withdrawn == {"prefixes": ["192.0.2.0/24"], "speaker": "fake"}
    assert events.apply(Prepend(event="prepend", at=2, site="east", count=2)) == {
        "peers": list(tb.speakers[events.site_router("east")].spec.peers),
        "prepend": 2,
        "med": None,
    }
    assert events.restore("east") == {"undone": ["policy {'prepend': 2}", "withdraw"]}
    assert tb.log == ["withdraw", ("policy", 2, None), ("policy", 0, None), "announce"]
    assert events.apply(Restore(event="restore", at=3, site="east")) == {"undone": []}
    with pytest.raises(TestbedError, match="no site called 'nowhere'"):
        events.withdraw("nowhere")


def test_an_event_class_without_a_handler_is_refused():
    class Other(EventBase):
        event: str = "other"

    with pytest.raises(TestbedError, match="unknown event Other"):
        Events(FakeTestbed()).apply(Other(at=0))  # type: ignore[arg-type]


def test_busiest_is_resolved_on_the_model_and_params_keep_their_order():
    event = FailSite(event="fail_site", at=1, site=BUSIEST, how="silent")
    resolved = resolve_busiest(event, "east")
    assert isinstance(resolved, FailSite) and resolved.site == "east" and event.site == BUSIEST
    assert list(event_params(resolved).items()) == [("site", "east"), ("how", "silent")]
    link = LinkEvent(event="link", at=1, a="ta", b="tb", state="down")
    assert resolve_busiest(link, "east") is link


class RecordingEvents:
    def __init__(self) -> None:
        self.applied: List[EventBase] = []

    def apply(self, event: EventBase) -> dict:
        self.applied.append(event)
        return {"n": len(self.applied)}


def test_the_timeline_writes_the_same_events_jsonl_lines(tmp_path, monkeypatch):
    scenario = Scenario.model_validate(
        {
            "name": "t",
            "duration": 0.01,
            "timeline": [
                {"event": "fail_site", "at": 0, "site": "busiest"},
                {"event": "link", "at": 0, "a": "ta", "b": "tb", "state": "blackhole"},
                {"event": "kill_service", "at": 0, "site": "west", "service": "dns"},
            ],
        }
    )
    (tmp_path / "records").mkdir()
    engine = Engine.__new__(Engine)
    engine.scenario, engine.run_dir, engine.progress = scenario, tmp_path, None
    engine.watchdog, engine.testbed, engine.t0 = None, object(), None  # type: ignore[assignment]
    said: List[str] = []
    engine.say = said.append
    recording = RecordingEvents()
    engine.events = recording  # type: ignore[assignment]
    monkeypatch.setattr(engine, "_write_meta", lambda: None)
    monkeypatch.setattr(engine_module, "busiest_site", lambda tb: "east")
    monkeypatch.setattr(engine_module, "check_testbed", lambda tb: None)  # no relationships
    engine._timeline()
    assert [type(e) for e in recording.applied] == [FailSite, LinkEvent, type(scenario.timeline[2])]
    lines = (tmp_path / "records" / "events.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    for record in records:
        assert list(record) == [
            "t",
            "kind",
            "index",
            "event",
            "target",
            "params",
            "at",
            "details",
            "applied_s",
        ]
        record.pop("t")
        assert 0 <= record.pop("applied_s") < 1
    assert records == [
        {
            "kind": "event",
            "index": 0,
            "event": "fail_site",
            "target": "east",
            "params": {"site": "east", "how": "link-down"},
            "at": 0.0,
            "details": {"n": 1},
        },
        {
            "kind": "event",
            "index": 1,
            "event": "link",
            "target": "ta-tb",
            "params": {"a": "ta", "b": "tb", "state": "blackhole"},
            "at": 0.0,
            "details": {"n": 2},
        },
        {
            "kind": "event",
            "index": 2,
            "event": "kill_service",
            "target": "west",
            "params": {"site": "west", "service": "dns"},
            "at": 0.0,
            "details": {"n": 3},
        },
    ]
    assert [line.split("s  ", 1)[1] for line in said] == [
        "fail site east (link-down)",
        "link ta - tb blackhole",
        "kill dns service at site west",
    ]
    assert isinstance(scenario.timeline[0], FailSite) and scenario.timeline[0].site == BUSIEST
