"""The run's route-flap damping: meta.json (the engine), the summary's ``dampening``, the
report's line."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from testbed.analysis import build_summary, print_report, render_markdown
from testbed.analysis.model import DampingSummary, Summary
from testbed.analysis.report import damping_line
from testbed.analysis.summary import damping
from testbed.scenario.engine import dampening_meta
from testbed.scenario.prepare import prepare_run

from .helpers import RunBuilder, fixed_run

SMALL = {"half_life": 1, "reuse": 750, "suppress": 2000, "max_suppress": 4}
LINE = "Route-flap damping: half-life 1 min, reuse 750, suppress 2000, max-suppress 4 min."


def damped_run(path, block):
    """fixed_run's records with ``dampening`` in meta.json (the key left out for ``...``)."""
    run = fixed_run(path)
    meta = json.loads((run / "meta.json").read_text())
    if block is not ...:
        meta["dampening"] = block
    (run / "meta.json").write_text(json.dumps(meta))
    return run


# -- meta.json ------------------------------------------------------------------


def test_meta_has_the_effective_topologys_damping_or_null():
    assert dampening_meta(prepare_run("two-sites-failover", []).topology) is None
    off = prepare_run("two-sites-failover", ["bgp.dampening=off"]).topology
    assert dampening_meta(off) is None
    on = prepare_run("two-sites-failover", ["bgp.dampening=on"]).topology
    assert dampening_meta(on) == {"half_life": 15, "reuse": 750, "suppress": 2000,
                                  "max_suppress": 60}  # fmt: skip
    small = prepare_run("two-sites-failover", ["bgp.dampening.half_life=1"]).topology
    assert dampening_meta(small) == {**dampening_meta(on), "half_life": 1}
    json.dumps(dampening_meta(small))  # plain JSON


# -- the summary ----------------------------------------------------------------


@pytest.mark.parametrize("block", [None, ..., {"enabled": False, **SMALL}, "on", 3])
def test_no_damping_is_null(tmp_path, block):
    summary = build_summary(damped_run(tmp_path, block))
    assert summary.dampening is None
    assert summary.to_dict()["dampening"] is None  # written, as null


def test_damping_from_meta(tmp_path):
    summary = build_summary(damped_run(tmp_path, SMALL))
    assert summary.dampening == DampingSummary(**SMALL)
    assert summary.to_dict()["dampening"] == SMALL
    again = Summary.of(json.loads(summary.to_json()))
    assert again.dampening == summary.dampening
    assert damping({"dampening": {"enabled": True, **SMALL}}) == DampingSummary(**SMALL)


def test_an_older_summary_without_the_field_loads():
    assert Summary.of({"t0": 1.0}).dampening is None


# -- the report -----------------------------------------------------------------


def test_report_says_damping_when_it_was_on(tmp_path):
    summary = build_summary(damped_run(tmp_path, SMALL))
    text = render_markdown(summary)
    assert text.count(LINE) == 1
    header = text.split("\n\n## ")[0]  # the narrative, before the first section
    assert LINE in header.splitlines()
    out = io.StringIO()
    print_report(summary, Console(file=out, width=140, color_system=None))
    assert LINE in out.getvalue().splitlines()


def test_report_says_nothing_of_damping_when_it_was_off(tmp_path):
    summary = build_summary(damped_run(tmp_path, None))
    assert "damping" not in render_markdown(summary).lower()
    out = io.StringIO()
    print_report(summary, Console(file=out, width=140, color_system=None))
    assert "damping" not in out.getvalue().lower()
    assert damping_line(None) is None


def test_damping_line_of_frrs_defaults():
    line = damping_line(DampingSummary(half_life=15, reuse=750, suppress=2000, max_suppress=60))
    assert line == (
        "Route-flap damping: half-life 15 min, reuse 750, suppress 2000, max-suppress 60 min."
    )


def test_an_empty_run_with_damping(tmp_path):
    run = RunBuilder(tmp_path, duration=5.0, dampening=SMALL).write()
    assert LINE in render_markdown(build_summary(run))
