"""Python scenarios: ``scenario(topology)`` generates the scenario; errors are one line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from testbed.errors import InputError
from testbed.scenario.load import list_scenarios, load_scenario, scenario_path
from testbed.scenario.model import Restore, Withdraw
from testbed.scenario.prepare import prepare_run

GOOD = '''
"""Fail every site of the topology one after the other."""
TOPOLOGY = "two-sites"

def scenario(topology):
    sites = sorted(s.name for s in topology.sites)
    timeline = []
    for i, site in enumerate(sites):
        timeline.append({"at": 5 + 10 * i, "event": "fail_site", "site": site, "how": "link-down"})
        timeline.append({"at": 10 + 10 * i, "event": "restore", "site": site})
    return {"name": "each", "duration": 10 + 10 * len(sites), "timeline": timeline}
'''


def write(tmp_path: Path, text: str, name: str = "gen.py") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def message(tmp_path: Path, text: str, **kwargs) -> str:
    """The one-line error of preparing a run of the Python scenario ``text``."""
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        prepare_run(path, **kwargs)
    line = str(info.value)
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(path), line
    return line[len(path) + 2 :]


def test_the_timeline_is_generated_for_the_files_topology(tmp_path):
    run = prepare_run(write(tmp_path, GOOD))
    assert run.topology.name == "two-sites"
    assert run.scenario.topology == "two-sites"
    events = [(e.at, e.event, e.site) for e in run.scenario.timeline]
    assert events == [
        (5, "fail_site", "east"),
        (10, "restore", "east"),
        (15, "fail_site", "west"),
        (20, "restore", "west"),
    ]
    assert run.scenario.duration == 30


def test_topology_option_and_set_regenerate_it_for_another_topology(tmp_path):
    path = write(tmp_path, GOOD)
    on_world = prepare_run(path, topology="world")
    assert on_world.topology.name == "world"
    sites = [e.site for e in on_world.scenario.timeline if e.event == "fail_site"]
    assert sites == ["gru", "lon", "nyc", "tyo"]
    assert on_world.scenario.duration == 50
    by_set = prepare_run(path, ["topology=world", "duration=60"])
    assert by_set.topology.name == "world" and by_set.scenario.duration == 60
    assert len(by_set.scenario.timeline) == 8


def test_shipped_rolling_maintenance_withdraws_and_restores_every_site():
    assert scenario_path("rolling-maintenance").name == "rolling-maintenance.py"
    run = prepare_run("rolling-maintenance")
    timeline = run.scenario.timeline
    withdrawn = [e.site for e in timeline if isinstance(e, Withdraw)]
    restored = [e.site for e in timeline if isinstance(e, Restore)]
    assert withdrawn == restored == ["gru", "lon", "nyc", "tyo"]
    assert all(b.at > a.at for a, b in zip(timeline, timeline[1:], strict=False))
    assert run.scenario.duration > timeline[-1].at
    kinds = [c.check for c in run.scenario.expect]
    assert kinds.count("convergence") == 4
    two = prepare_run("rolling-maintenance", topology="two-sites")
    assert [e.site for e in two.scenario.timeline if isinstance(e, Withdraw)] == ["east", "west"]


def test_listed_with_its_docstring():
    listed = dict(list_scenarios())
    assert listed["rolling-maintenance"].startswith("Every site in turn withdraws")
    assert "site-failure" in listed


@pytest.mark.parametrize(
    "text, expected",
    [
        ("def scenario(:\n    pass\n", "cannot be imported: SyntaxError: invalid syntax (line 1)"),
        ("import nothere_module_x\n", "cannot be imported: ModuleNotFoundError: No module named"),
        ("X = 1\n", "scenario: a Python scenario must define scenario(topology)"),
        ("def scenario(t):\n    return [1]\n", "scenario(): must return a mapping (got list)"),
        (
            "def scenario(t):\n    return {}['x']\n",
            "scenario(): failed: KeyError: 'x' (line 2)",
        ),
        ("TOPOLOGY = 3\ndef scenario(t):\n    return {}\n", "TOPOLOGY: must be a topology name"),
        (
            "TOPOLOGY = 'nowhere'\ndef scenario(t):\n    return {}\n",
            "TOPOLOGY: nowhere: no topology 'nowhere'",
        ),
    ],
)
def test_a_broken_python_scenario_is_one_line_naming_the_file(tmp_path, text, expected):
    assert message(tmp_path, text).startswith(expected)


def test_what_it_returns_is_validated_like_a_yaml_scenario(tmp_path):
    text = GOOD.replace('"how": "link-down"', '"how": "sideways"')
    assert message(tmp_path, text).startswith("timeline[0].how: must be one of")
    text = GOOD.replace('"site": site, "how"', '"site": "nowhere", "how"')
    assert message(tmp_path, text).startswith("timeline[1].site: nothing to restore")


def test_load_scenario_leaves_no_module_behind(tmp_path):
    import sys

    load_scenario(write(tmp_path, GOOD))
    assert not [m for m in sys.modules if m.startswith("anycast_scenario_")]
