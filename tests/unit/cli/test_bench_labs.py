"""bench/labs.py: the per-lab line counts passes, wrong grades, testbed failures and items."""

from __future__ import annotations

import pytest

from tests.unit.cli.helpers import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("labs")


def test_a_line_per_lab(bench):
    records = [
        {"lab": 3, "student": "b0001", "status": 0, "seconds": 30.0, "failed": []},
        {"lab": 3, "student": "b0002", "status": 1, "seconds": 40.0, "failed": ["budget"]},
        {"lab": 3, "student": "b0003", "status": 3, "seconds": 130.0, "failed": ["moved"]},
        {"lab": 3, "student": "b0004", "status": 3, "error": "the link-down run failed"},
    ]
    line = bench.line_of(3, records)
    assert line.startswith("lab 3: 1/4 passed, 1 wrong, 2 testbed failed")
    assert "check 40 s median, 130 s longest (over the 2-minute budget)" in line
    assert "failed items: budget x1, moved x1" in line
    assert "errors: the link-down run failed x1" in line


def test_all_passed(bench):
    records = [{"lab": 1, "student": f"b{n}", "status": 0, "seconds": 20.0} for n in range(20)]
    line = bench.line_of(1, records)
    assert line == "lab 1: 20/20 passed, 0 wrong, 0 testbed failed; check 20 s median, 20 s longest"
