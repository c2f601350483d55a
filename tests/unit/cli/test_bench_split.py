"""bench/run.py: the time split adds up to the total, each second counted once."""

from __future__ import annotations

import pytest

from tests.unit.cli.helpers import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("run")


def test_bring_up_is_split_into_network_and_settle_not_counted_twice(bench):
    timings = {  # as the engine writes them: bring_up_with_settle_s holds the other
        "network_and_services_s": 4.0,
        "bring_up_with_settle_s": 9.0,
        "timeline_s": 60.0,
        "teardown_s": 1.5,
        "analysis_s": 2.5,
    }
    parts = dict(bench.split(timings, total=75.0))
    assert parts == {
        "network and services up": 4.0,
        "settle": 5.0,
        "timeline": 60.0,
        "teardown": 1.5,
        "analysis and report": 2.5,
        "python start, CLI, output": 2.0,
    }
    assert sum(parts.values()) == pytest.approx(75.0)


def test_an_interrupted_run_without_every_phase(bench):
    parts = dict(bench.split({"teardown_s": 1.0}, total=3.0))
    assert parts["network and services up"] == 0.0 and parts["settle"] == 0.0
    assert parts["python start, CLI, output"] == pytest.approx(2.0)
    assert sum(parts.values()) == pytest.approx(3.0)
