"""The attack ceilings: what passes, what each refusal says."""

from __future__ import annotations

import math

import pytest

from testbed.attack import limits


def test_the_documented_ceilings():
    assert (limits.MAX_SOURCE_RATE, limits.MAX_TOTAL_RATE) == (100_000, 200_000)
    assert (limits.MAX_DURATION, limits.MAX_RAMP) == (600, 60)
    assert (limits.MIN_SIZE, limits.MAX_SIZE, limits.MAX_SOURCES) == (12, 1400, 64)


def test_everything_at_its_ceiling_passes():
    assert limits.check(100_000, 2, 1400, 600, 60) == []
    assert limits.check(3125, 64, 12, 0.5, 0) == []
    assert limits.problems(1, 1) == []


@pytest.mark.parametrize(
    "kwargs, field, words",
    [
        ({"rate": 100_001}, "rate", "at most 100000"),
        ({"rate": 0}, "rate", "more than 0"),
        ({"rate": -5}, "rate", "more than 0"),
        ({"rate": math.nan}, "rate", "at most 100000"),
        ({"rate": math.inf}, "rate", "at most 100000"),
        ({"rate": 100_000, "sources": 3}, "rate", "300000 packets/s in all: at most 200000"),
        ({"rate": 10, "sources": 65}, "sources", "65 attack sources: at most 64"),
        ({"size": 11}, "size", "from 12 to 1400"),
        ({"size": 1401}, "size", "from 12 to 1400"),
        ({"duration": 601}, "duration", "at most 600 s"),
        ({"duration": 0}, "duration", "more than 0"),
        ({"duration": math.inf}, "duration", "at most 600 s"),
        ({"ramp": 61}, "ramp", "from 0 to 60 s"),
        ({"ramp": -1}, "ramp", "from 0 to 60 s"),
    ],
)
def test_each_ceiling_is_named(kwargs, field, words):
    args = {"rate": 1000, "sources": 1, "size": 100, "duration": 10, "ramp": 0, **kwargs}
    found = limits.problems(**args)
    assert len(found) == 1, found
    assert found[0][0] == field
    assert words in found[0][1]
    assert found[0][1].endswith("(docs/load.md)")
    assert limits.check(**args) == [f"{field}: {found[0][1]}"]


def test_unknown_size_duration_and_ramp_are_not_checked():
    assert limits.problems(1000, 4) == []
    assert limits.problems(1000, 4, None, None, None) == []


def test_every_problem_is_reported():
    fields = [f for f, _ in limits.problems(1e6, 100, 5, 1000, 100)]
    assert fields == ["rate", "sources", "size", "duration", "ramp"]
