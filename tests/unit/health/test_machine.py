"""Health state machine (rise/fall) and the announcement chosen by each action."""

from __future__ import annotations

import pytest

from testbed.health.machine import DOWN, UP, Announcement, HealthMachine, announcement


def run(machine: HealthMachine, results: str) -> list:
    """Feed 'o' (ok) / 'x' (failed) rounds; return the transitions as (round, state)."""
    out = []
    for i, r in enumerate(results):
        new = machine.feed(r == "o")
        if new:
            out.append((i, new))
    return out


def test_fall_rounds_in_a_row_go_down_and_rise_rounds_come_back():
    m = HealthMachine(rise=3, fall=2)
    assert run(m, "ooxoxxooxooo") == [(5, DOWN), (11, UP)]
    assert m.state == UP


def test_isolated_failures_never_go_down():
    m = HealthMachine(rise=2, fall=3)
    assert run(m, "xxoxxoxxo" * 3) == []
    assert m.state == UP


def test_rise_and_fall_of_one_follow_every_round():
    m = HealthMachine(rise=1, fall=1)
    assert run(m, "xoxo") == [(0, DOWN), (1, UP), (2, DOWN), (3, UP)]


def test_bad_counts_are_refused():
    with pytest.raises(ValueError):
        HealthMachine(rise=0, fall=2)


# golden records: the site's normal announcement, then what each action announces while down
BASE = Announcement(True, None, 0)


@pytest.mark.parametrize(
    "action, down",
    [
        ("withdraw", Announcement(False, None, 0)),
        ("med", Announcement(True, 1000, 0)),
        ("prepend", Announcement(True, None, 3)),
    ],
)
def test_each_action_while_down_and_back_to_normal_when_up(action, down):
    assert announcement(DOWN, action, BASE, med=1000, prepend=3) == down
    assert announcement(UP, action, BASE, med=1000, prepend=3) == BASE


def test_prepend_adds_to_the_sites_own_prepends_and_med_replaces_its_med():
    base = Announcement(True, 10, 2)
    assert announcement(DOWN, "prepend", base, prepend=3) == Announcement(True, 10, 5)
    assert announcement(DOWN, "med", base, med=500) == Announcement(True, 500, 2)
    assert announcement(DOWN, "withdraw", base) == Announcement(False, 10, 2)


def test_unknown_action():
    with pytest.raises(ValueError):
        announcement(DOWN, "reboot")
