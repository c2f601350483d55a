"""A bad swept value is blamed on ``--param`` (its key and value), never on ``--set``.

The swept values reach the scenario as ``--set`` items; the loader's errors
name ``--set`` or say ``(with --set ...)``, and the sweep turns them round.
An experiment's own settings (``reproduce``) are blamed on the experiment.
"""

from __future__ import annotations

import pytest

from testbed.errors import InputError
from testbed.reproduce.base import Planned
from testbed.reproduce.command import _jobs, experiment_error
from tests.unit.cli.helpers import one_line_error


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (  # the scenario's timeline no longer fits: blamed on the file before
            ["rolling-maintenance", "--param", "duration=100,5"],
            "--param: duration: value '5': scenarios/rolling-maintenance.py: timeline[0].at: "
            "must be less than duration (5 s) (got 10)",
        ),
        (
            ["site-failure", "--param", "duration=90,30"],
            "--param: duration: value '30': scenarios/site-failure.yaml: timeline[1].at: "
            "must be less than duration (30 s) (got 40)",
        ),
        (  # the scenario's sites are not in the swept topology
            [
                "two-sites-failover",
                "--param",
                "bgp.hold=3,9",
                "--param",
                "topology=two-sites,world",
            ],
            "--param: topology: value 'world': scenarios/two-sites-failover.yaml: "
            "timeline[0].site: no site 'east' in topology 'world' (sites: nyc, lon, tyo, gru, "
            "or busiest)",
        ),
        (
            ["two-sites-failover", "--param", "timeline.0.site=east,nowhere"],
            "--param: timeline.0.site: value 'nowhere': scenarios/two-sites-failover.yaml: "
            "timeline[1].site: nothing to restore: no earlier event on site 'east' or on "
            "'busiest'",
        ),
        (  # the loader names the swept key itself
            ["two-sites-failover", "--param", "bgp.hold=9,x"],
            "--param: bgp.hold: Input should be a valid integer",
        ),
        (
            ["two-sites-failover", "--param", "topology=two-sites,chain:0"],
            "--param: topology: chain: N must be between 1 and 500, got 0 (value 'chain:0')",
        ),
        (
            ["two-sites-failover", "--set", "bgp.keepalive=3", "--param", "bgp.hold=9,3"],
            "--param: bgp.hold: hold (3) must be at least 3 x keepalive (3) (value '3')",
        ),
    ],
)
def test_a_bad_swept_value_is_blamed_on_param(capsys, no_start, argv, expected):
    line = one_line_error(capsys, "sweep", *argv, "--dry-run")
    assert line.startswith(expected), line
    assert "--set" not in line


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (  # the fixed --set breaks every point: its own error, without the swept values
            ["site-failure", "--set", "duration=30", "--param", "bgp.hold=3,9"],
            "scenarios/site-failure.yaml: timeline[1].at: must be less than duration (30 s) "
            "(got 40) (with --set duration=30)",
        ),
        (
            ["site-failure", "--set", "duration=x", "--param", "bgp.hold=3,9"],
            "--set: duration: Input should be a valid number",
        ),
    ],
)
def test_a_bad_fixed_value_stays_blamed_on_set(capsys, no_start, argv, expected):
    line = one_line_error(capsys, "sweep", *argv, "--dry-run")
    assert line.startswith(expected), line
    assert "--param" not in line and "bgp.hold" not in line


@pytest.fixture
def no_start(monkeypatch):
    from testbed import console

    def refuse() -> None:
        raise AssertionError("would start")

    monkeypatch.setattr(console, "require_root", refuse)


# ---------------------------------------------------------------- reproduce
def test_an_experiments_settings_are_blamed_on_the_experiment():
    with pytest.raises(InputError) as info:
        _jobs([Planned({}, "site-failure", ["bgp.hold=2"])], "demo")
    assert str(info.value).startswith("experiment demo: bgp.hold: Input should be greater")
    with pytest.raises(InputError) as info:
        _jobs([Planned({}, "site-failure", ["expect=[]", "duration=30"])], "demo")
    assert str(info.value) == (
        "scenarios/site-failure.yaml: timeline[1].at: must be less than duration (30 s) "
        "(got 40) (with the experiment demo's settings: expect=[] duration=30)"
    )


def test_experiment_error_leaves_other_errors_alone():
    exc = InputError("no such file", "scenarios/x.yaml")
    assert experiment_error(exc, "demo", ["a=1"]) is not exc
    assert str(experiment_error(exc, "demo", ["a=1"])) == "scenarios/x.yaml: no such file"
