"""A silent failure restored sooner than the hold time: a one-line warning, not an error."""

from __future__ import annotations

import textwrap

import pytest

from testbed.scenario.load import load_scenario, scenario_topology
from testbed.scenario.prepare import prepare_run
from testbed.scenario.validate import timeline_warnings

TWO_SITES = """
name: x
topology: two-sites
duration: 60
bgp: {{keepalive: {keepalive}, hold: {hold}}}
timeline:
  - {{at: 10, event: fail_site, site: {failed}, how: {how}}}
  - {{at: {restore_at}, event: restore, site: {restored}}}
"""


def warnings(tmp_path, sets=(), **fields):
    values = dict(keepalive=1, hold=3, failed="east", how="silent", restore_at=40)
    values["restored"] = fields.get("failed", "east")
    values.update(fields)
    path = tmp_path / "scen.yaml"
    path.write_text(textwrap.dedent(TWO_SITES.format(**values)))
    loaded = load_scenario(str(path), list(sets))
    return timeline_warnings(loaded.scenario, scenario_topology(loaded))


def test_restore_sooner_than_the_hold_time(tmp_path):
    assert warnings(tmp_path, keepalive=10, hold=30, restore_at=25) == [
        "timeline[1]: the restore at 25 s comes 15 s after the silent failure of "
        "timeline[0] (east), sooner than the hold time (30 s): BGP may never notice "
        "the failure, so no client moves"
    ]


@pytest.mark.parametrize(
    "fields",
    [
        {"keepalive": 10, "hold": 30, "restore_at": 40},  # 30 s after: the hold fits
        {"keepalive": 1, "hold": 3, "restore_at": 13},  # the shipped timers, 3 s after
        {"keepalive": 10, "hold": 30, "restore_at": 25, "how": "link-down"},  # seen at once
        {"keepalive": 10, "hold": 30, "restore_at": 25, "how": "router-crash"},
    ],
)
def test_no_warning_when_the_restore_comes_after_detection(tmp_path, fields):
    assert warnings(tmp_path, **fields) == []


def test_bfd_detects_sooner_than_the_hold_time(tmp_path):
    assert warnings(tmp_path, ["bfd=on"], keepalive=10, hold=30, restore_at=25) == []
    slow_bfd = ["bfd=on", "bfd.interval=6000", "bfd.multiplier=3"]
    (found,) = warnings(tmp_path, slow_bfd, keepalive=10, hold=30, restore_at=25)
    assert "15 s after" in found and "sooner than the BFD detection time (18 s)" in found


def test_busiest_counts_as_the_slowest_site(tmp_path):
    sets = ["topology.sessions=[{a: west, b: tb, timers: {keepalive: 10, hold: 30}}]"]
    found = warnings(tmp_path, sets, failed="busiest", restore_at=25)
    assert found == [
        "timeline[1]: the restore at 25 s comes 15 s after the silent failure of "
        "timeline[0] (busiest), sooner than the hold time of site west (30 s): BGP may "
        "never notice the failure, so no client moves"
    ]


def test_prepare_run_records_the_warning_with_the_caveats():
    prepared = prepare_run("silent-failure", ["bgp.hold=30"])
    assert [c for c in prepared.caveats if c.startswith("timeline[1]: ")] == [
        "timeline[1]: the restore at 40 s comes 25 s after the silent failure of "
        "timeline[0] (busiest), sooner than the hold time (30 s): BGP may never notice "
        "the failure, so no client moves"
    ]
    assert not [c for c in prepare_run("silent-failure", ["bgp.hold=20"]).caveats if "restore" in c]
