"""The send schedule, driven by a fake clock: never ahead, caught up in batches, ramped."""

from __future__ import annotations

import math
import random
from typing import List, Tuple

import pytest

from testbed.attack.pacing import BATCH, MAX_LAG, Pacer


def run(pacer: Pacer, steps: List[float]) -> List[Tuple[float, int]]:
    """Drive ``pacer`` as the sender does, at the fake times ``steps``.

    Returns:
        (time, cumulative packets sent) after every batch.
    """
    sent = 0
    out = []
    for t in steps:
        owed = pacer.to_send(t, sent)
        while owed > 0:
            n = min(owed, BATCH)
            sent += n
            owed -= n
            out.append((t, sent))
            assert sent <= pacer.due(t), "ahead of the schedule"
    return out


def test_the_curve_without_a_ramp():
    p = Pacer(1000)
    assert [p.due(t) for t in (0, 0.0005, 0.001, 0.5, 2)] == [0, 0, 1, 500, 2000]


def test_the_curve_with_a_ramp():
    p = Pacer(1000, ramp=2)
    assert p.due(1) == 250  # rate t^2 / (2 ramp)
    assert p.due(2) == 1000  # half the full rate's packets over the ramp
    assert p.due(3) == 2000  # then the full rate
    # the rate itself grows linearly: the packets of each 0.1 s rise
    steps = [p.due(0.1 * (k + 1)) - p.due(0.1 * k) for k in range(20)]
    assert steps == sorted(steps) and steps[0] == 2 and steps[-1] == 98


def test_the_duration_caps_the_total():
    p = Pacer(1000, ramp=1, duration=3)
    assert p.total() == 2500
    assert p.due(100) == 2500
    assert p.time_of(2500) == pytest.approx(3)
    assert p.time_of(2501) == math.inf


@pytest.mark.parametrize("ramp", [0, 0.5, 3])
def test_time_of_is_the_inverse_of_due(ramp):
    p = Pacer(777, ramp=ramp, duration=5)
    total = p.total()
    assert total is not None
    for n in (1, 2, 10, 100, 500, 1000, 2000, total):
        t = p.time_of(n)
        assert p.due(t) >= n
        assert p.due(t - 1e-6) < n


@pytest.mark.parametrize("rate, ramp", [(2000, 0), (100_000, 0), (50_000, 2), (10, 1)])
def test_a_jittery_clock_sends_exactly_the_schedule(rate, ramp):
    rng = random.Random(rate)
    p = Pacer(rate, ramp=ramp, duration=4)
    t, steps = 0.0, []
    while t < 4:
        t = min(4.0, t + rng.uniform(0, 0.004))
        steps.append(t)
    log = run(p, steps)
    assert log[-1][1] == p.total() == math.floor(rate * (4 - ramp / 2) + 1e-9)
    assert p.skipped == 0


def test_a_stalled_sender_catches_up_by_one_batch_or_max_lag_and_forgets_the_rest():
    p = Pacer(10_000)
    sent = run(p, [0.01 * k for k in range(1, 11)])[-1][1]
    assert sent == 1000
    owed = p.to_send(1.1, sent)  # stalled for a second
    assert owed == max(BATCH, math.ceil(10_000 * MAX_LAG)) == 500
    assert p.skipped == 10_000 - 500
    assert p.due(1.1) - sent == owed
    # then it is back on the schedule, never above the rate
    assert p.to_send(1.1, sent + owed) == 0
    assert p.to_send(1.13, sent + owed) == 300


def test_never_more_than_a_batch_above_the_rate_over_any_window():
    rng = random.Random(7)
    rate = 20_000
    p = Pacer(rate, duration=3)
    steps, t = [], 0.0
    while t < 3:
        t += rng.choice([0.0001, 0.001, 0.002, 0.03])  # now and then a stall
        steps.append(min(t, 3.0))
    log = run(p, steps)
    cap = max(BATCH, math.ceil(rate * MAX_LAG))
    for i, (t1, n1) in enumerate(log):
        for t2, n2 in log[i + 1 :: 37]:
            assert n2 - n1 <= rate * (t2 - t1) + cap


def test_a_slow_source_wakes_for_each_packet_and_a_fast_one_per_batch():
    slow = Pacer(100)
    assert slow.next_wake(0) == pytest.approx(0.01)
    assert slow.next_wake(5) == pytest.approx(0.06)
    fast = Pacer(100_000)
    assert fast.next_wake(0) == pytest.approx(64 / 100_000)
    mid = Pacer(10_000)
    assert mid.next_wake(0) == pytest.approx(10 / 10_000)


def test_the_last_wake_is_for_the_last_packet():
    p = Pacer(100_000, duration=0.01)  # 1000 packets
    assert p.next_wake(990) == pytest.approx(p.time_of(991))
    assert p.next_wake(1000) == math.inf
