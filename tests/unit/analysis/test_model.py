"""The summary model: what is written, what is left out, older spellings, bad files."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from testbed.analysis.model import (
    DnsSummary,
    ExpectResult,
    HealthAddress,
    HealthRetry,
    HealthState,
    Summary,
    upgrade,
)
from testbed.analysis.report import render_markdown
from testbed.errors import InputError
from testbed.runfolder import read_summary


def test_fields_left_out_when_null_and_only_those():
    written = Summary().to_dict()
    assert "interrupted" not in written
    assert written["stopped"] is None and written["speaker_library"] is None  # kept as null
    assert Summary(interrupted="stopped: x").to_dict()["interrupted"] == "stopped: x"
    drain = HealthState(t=20.2, site="lon", state="down", shutdown=True).model_dump()
    assert not {"moved", "moves", "stayed", "unanswered"} & set(drain)
    assert drain["error"] is None and drain["previous"] is None  # kept as null
    change = HealthState(site="lon", moved=[], moves={}, stayed=[], unanswered=[]).model_dump()
    assert {"moved", "moves", "stayed", "unanswered"} <= set(change)  # empty, not null: kept


def test_numbers_keep_their_type():
    assert DnsSummary(outage_s=3).model_dump()["outage_s"] == 3
    assert isinstance(DnsSummary(outage_s=3).outage_s, int)
    assert isinstance(DnsSummary(outage_s=3.0).outage_s, float)
    assert '"duration": 30,' in Summary(duration=30).to_json()
    assert '"duration": 30.0,' in Summary(duration=30.0).to_json()
    for bad in (True, "1", None, float("nan"), float("inf")):
        with pytest.raises(ValidationError):
            DnsSummary(outage_s=bad)


def test_health_entries_are_told_apart_by_event():
    s = Summary.model_validate(
        {"health": [{"event": "state"}, {"event": "retry"}, {"event": "address"}]}
    )
    assert [type(h) for h in s.health] == [HealthState, HealthRetry, HealthAddress]
    with pytest.raises(ValidationError):
        Summary.model_validate({"health": [{"event": "explode"}]})


def test_moves_are_written_with_from():
    s = Summary.model_validate({"events": [{"moves": {"paris": {"from": "lon", "to": "nyc"}}}]})
    assert s.events[0].moves["paris"].from_ == "lon"
    assert s.to_dict()["events"][0]["moves"] == {"paris": {"from": "lon", "to": "nyc"}}
    assert Summary.model_validate({"events": [{}]}).events[0].moves is None  # an older summary


def test_assignment_is_validated():
    s = Summary()
    s.expect = [{"check": "x", "passed": True, "detail": "y"}]
    assert s.expect == [ExpectResult(check="x", passed=True, detail="y")]
    with pytest.raises(ValidationError):
        s.duration = "long"


# -------------------------------------------------------- older spellings
def test_older_expectation_spellings_are_converted_when_loading():
    old = {
        "expect": [
            {"name": "paris moves", "ok": True, "actual": "lon -> nyc"},
            {"description": "tokyo stays", "pass": False, "message": "moved"},
            {"expect": "no loss", "passed": "yes", "detail": ["a", "b"]},
            "converges",
            {"check": "x", "passed": True, "detail": "fine"},
        ]
    }
    s = Summary.model_validate(old)
    assert [(e.check, e.passed, e.detail) for e in s.expect] == [
        ("paris moves", True, "lon -> nyc"),
        ("tokyo stays", False, "moved"),
        ("no loss", None, "a, b"),  # a verdict that is no boolean: not evaluated
        ("converges", None, ""),
        ("x", True, "fine"),
    ]
    assert old["expect"][0] == {"name": "paris moves", "ok": True, "actual": "lon -> nyc"}
    text = render_markdown(s)
    assert "2 passed, 1 failed, 2 not checked." in text
    assert "| PASS | paris moves | lon -> nyc |" in text and "| - | converges | - |" in text


def test_older_tcp_figures_without_reset_events_count_one_per_stream():
    old = {"clients": {"paris": {"tcp": {"streams": 2, "reset": 2}}, "tokyo": {}}}
    s = Summary.model_validate(old)
    assert s.clients["paris"].tcp.reset_events == 2
    assert s.clients["tokyo"].tcp.reset_events == 0
    assert upgrade(old)["clients"]["paris"]["tcp"] == {"streams": 2, "reset": 2, "reset_events": 2}
    assert "reset_events" not in old["clients"]["paris"]["tcp"]  # the input is not changed
    newer = Summary.model_validate({"clients": {"paris": {"tcp": {"reset": 2, "reset_events": 6}}}})
    assert newer.clients["paris"].tcp.reset_events == 6


def test_an_older_summary_folder_is_read(tmp_path):
    """A summary.json from before health, pcap, eof and reset_events: defaults fill in."""
    old = {
        "t0": 1763845400.0,
        "duration": 30,
        "scenario": "site-failure",
        "clients": {
            "paris": {
                "site_before": "lon",
                "site_after": "lon",
                "dns": {"sent": 150, "answered": 147, "lost": 3, "late": 1, "outage_s": 0.8,
                        "max_outage_s": 0.8, "outages": []},
                "tcp": {"streams": 2, "reset": 1, "timeout": 0, "survived": 1,
                        "connect_failed": 0, "resets": [], "timeouts": [], "reconnect_s": []},
            }
        },
        "events": [{"t": 10.0, "kind": "fail_site", "target": "lon", "moved": ["paris"]}],
        "expect": [{"name": "paris moves", "passed": True}],
        "summary_extra": {"dropped": "unknown keys are ignored"},
    }  # fmt: skip
    (tmp_path / "summary.json").write_text(json.dumps(old))
    s = read_summary(tmp_path)
    paris = s.clients["paris"]
    assert (paris.tcp.eof, paris.tcp.eofs, paris.tcp.reset_events) == (0, [], 1)
    assert s.health == [] and s.pcap == [] and s.processes == [] and s.stopped is None
    assert s.expect == [ExpectResult(check="paris moves", passed=True, detail="")]
    assert "summary_extra" not in s.to_dict()


@pytest.mark.parametrize(
    ("content", "field", "problem"),
    [
        ({"duration": "long"}, "duration", "must be a number (got 'long')"),
        ({"clients": {"p": {"tcp": {"resets": [{"t": None}]}}}}, "clients.p.tcp.resets[0].t",
         "must be a number (got None)"),
        ({"health": [{"event": "state", "moved": "paris"}]}, "health[0].moved",
         "Input should be a valid list"),
        ({"expect": [{"check": "x", "passed": 1}]}, None, None),  # no boolean: not evaluated
    ],
)  # fmt: skip
def test_a_bad_field_is_one_line_naming_it(tmp_path, content, field, problem):
    (tmp_path / "summary.json").write_text(json.dumps(content))
    if field is None:
        assert read_summary(tmp_path).expect[0].passed is None
        return
    with pytest.raises(InputError) as info:
        read_summary(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'summary.json'}: {field}: {problem}")


def test_moved_clients_and_expectations_met():
    s = Summary.model_validate(
        {
            "clients": {
                "a": {"site_before": "x", "site_after": "x"},
                "b": {"site_before": "x", "site_after": "y"},
                "c": {"site_before": "x", "site_after": "x"},
            },
            "events": [{"moved": ["c"]}],
            "expect": [{"passed": True}],
        }
    )
    assert s.moved_clients() == ["b", "c"]
    assert s.expectations_met
    s.expect = [*s.expect, {"check": "not evaluated"}]
    assert not s.expectations_met
