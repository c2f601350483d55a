"""An event kind is one class: its target, its line, its flags, its handler (no root)."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from testbed.analysis import detection, siteload
from testbed.scenario import events as scenario_events
from testbed.scenario import expect
from testbed.scenario.engine import describe, event_params, event_target
from testbed.scenario.model import (
    ATTACK_EVENTS,
    EVENT_CLASSES,
    FAILURE_EVENTS,
    NOT_SITE_EVENTS,
    RESTORABLE,
    SITE_EVENTS,
    AttackStart,
    Backend,
    Event,
    LinkEvent,
    event_class,
    event_from_record,
)

EVENT = TypeAdapter(Event)
#: One timeline entry per kind, and its target and line.
SAMPLES = [
    ({"event": "fail_site", "at": 1, "site": "lon", "how": "silent"}, "lon",
     "fail site lon (silent)"),
    ({"event": "kill_service", "at": 1, "site": "lon"}, "lon", "kill all service at site lon"),
    ({"event": "withdraw", "at": 1, "site": "lon"}, "lon", "withdraw site lon"),
    ({"event": "restore", "at": 1, "site": "lon"}, "lon", "restore site lon"),
    ({"event": "prepend", "at": 1, "site": "lon", "count": 2}, "lon", "prepend 2 on site lon"),
    ({"event": "med", "at": 1, "site": "lon", "value": 50}, "lon", "med 50 on site lon"),
    ({"event": "set_communities", "at": 1, "site": "lon", "communities": ["no-export"]}, "lon",
     "communities no-export on site lon"),
    ({"event": "link", "at": 1, "a": "na", "b": "eu", "state": "blackhole"}, "na-eu",
     "link na - eu blackhole"),
    ({"event": "backend", "at": 1, "state": "up"}, "backend", "backend up"),
    ({"event": "attack_start", "at": 1, "rate": 200.0}, "attack",
     "attack starts at 200 packets/s per source"),
    ({"event": "attack_stop", "at": 1}, "attack", "attack stops"),
]  # fmt: skip


def test_every_kind_has_a_sample():
    assert [entry["event"] for entry, _, _ in SAMPLES] == list(EVENT_CLASSES)


@pytest.mark.parametrize("entry, target, line", SAMPLES, ids=[s[0]["event"] for s in SAMPLES])
def test_the_class_and_its_record_agree(entry, target, line):
    event = EVENT.validate_python(entry)
    assert type(event) is event_class(entry["event"])
    assert (event.target(), event.describe()) == (target, line)
    params = event_params(event)  # what events.jsonl keeps
    assert (event_target(event.event, params), describe(event.event, params)) == (target, line)
    again = event_from_record(event.event, params)
    assert type(again) is type(event) and again.target() == target


def test_site_events_and_restorable_come_from_the_classes():
    assert SITE_EVENTS == (
        "fail_site", "kill_service", "withdraw", "restore", "prepend", "med", "set_communities",
    )  # fmt: skip
    assert RESTORABLE == (
        "fail_site",
        "kill_service",
        "withdraw",
        "prepend",
        "med",
        "set_communities",
    )
    assert not AttackStart.site_event and not AttackStart.restorable


def test_the_attack_link_and_failure_sets_come_from_the_classes_and_are_what_they_were():
    # the literal sets these replaced (scenario/expect.py, analysis/siteload.py,
    # analysis/detection.py)
    assert ATTACK_EVENTS == ("attack_start", "attack_stop")
    assert NOT_SITE_EVENTS == ("link", "attack_start", "attack_stop")
    assert set(FAILURE_EVENTS) == {"fail_site", "kill_service", "link", "backend"}
    assert siteload.ATTACK_EVENTS == ATTACK_EVENTS
    assert expect.NOT_SITE_EVENTS == NOT_SITE_EVENTS
    assert frozenset({"fail_site", "kill_service", "link", "backend"}) == detection.FAILURES
    assert AttackStart.attack and not AttackStart.failure and not AttackStart.link_event
    assert LinkEvent.link_event and LinkEvent.failure and not LinkEvent.site_event
    assert Backend.failure and not Backend.link_event and not Backend.attack
    for name, cls in EVENT_CLASSES.items():
        assert (name in ATTACK_EVENTS) is cls.attack
        assert (name in NOT_SITE_EVENTS) is (cls.link_event or cls.attack)
        assert (name in FAILURE_EVENTS) is cls.failure
        assert not (cls.site_event and (cls.link_event or cls.attack))


def test_every_kind_has_a_handler():
    assert set(scenario_events.HANDLERS) == set(EVENT_CLASSES.values())


def test_a_record_of_an_unknown_kind_still_gets_a_line():
    assert event_class("flood") is None and event_from_record("flood", {}) is None
    assert describe("flood_site", {"site": "lon"}) == "flood site site lon"
    assert event_target("flood_site", {"site": "lon"}) == "lon"
