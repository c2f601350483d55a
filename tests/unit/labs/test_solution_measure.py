"""``lab solution --measure``: the runs a measured answer needs, their figures written in."""

from __future__ import annotations

import pytest
import yaml

from testbed.errors import TestbedError
from testbed.labs.measure import MEASURE, measure_lab3
from testbed.labs.registry import get_lab
from testbed.labs.variant import make_variant
from testbed.labs.workcopy import render
from tests.unit.labs.fake import student_run
from tests.unit.labs.helpers import LINK_DOWN, check, failed


def test_only_lab3_has_measured_answers():
    assert sorted(MEASURE) == [3]


def test_lab3_the_link_down_run_fills_the_answer_and_the_check_passes(tmp_path):
    variant = make_variant(3, "s1001")
    dest = tmp_path / "sol3"
    render(get_lab(3), variant, dest, solution=True)
    lines = []

    def run(line):
        lines.append(line)
        student_run(dest, variant, LINK_DOWN)
        return 1  # the hand-out's expectation may fail: still a run

    measure_lab3(dest, variant, run)
    assert len(lines) == 1 and "--set timeline.0.how=link-down" in lines[0]
    assert str(dest / "scenario.yaml") in lines[0]
    figure = yaml.safe_load((dest / "answers.yaml").read_text())["outage_link_down_s"]
    assert 0 < figure < 1
    items, fake = check(dest, variant)
    assert not failed(items) and len(fake.calls) == 1


def test_lab3_a_run_that_broke_is_the_testbeds_failure(tmp_path):
    variant = make_variant(3, "s1001")
    dest = tmp_path / "sol3"
    render(get_lab(3), variant, dest, solution=True)
    with pytest.raises(TestbedError, match="link-down run"):
        measure_lab3(dest, variant, lambda line: 3)
    assert yaml.safe_load((dest / "answers.yaml").read_text())["outage_link_down_s"] is None
