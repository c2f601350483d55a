"""Lab 1: link failures drawn at check time, predicted for every link, graded with the run."""

from __future__ import annotations

from collections import Counter

from testbed.labs import lab1
from testbed.labs.checktime import draw_cases
from testbed.labs.signing import Key, keyring
from testbed.labs.variant import make_variant
from tests.unit.labs.fake import LinkMovesLost
from tests.unit.labs.helpers import check, edit, failed, workcopy


def test_every_variant_has_two_link_failures_that_move_somebody():
    counts = Counter()
    for n in range(300):
        v = make_variant(1, f"s{n:04d}")
        cases, moving = v.link_cases(), v.moving_cases()
        assert len(moving) >= lab1.DRAWN and set(moving) <= set(cases)
        counts[len(cases) - len(moving)] += 1
    assert counts[0] < 100  # most variants also ask about links whose failure moves nobody


def test_the_check_draws_with_its_key():
    """The course secret's draw is its own, the same every time: reproducible, not guessable."""
    v = make_variant(1, "s1001")
    cases = list(range(10))
    course = keyring(Key(b"a course secret of enough length", "course"))
    install = keyring(None, Key(b"this machine's own key, 32 bytes", "install"))
    first = draw_cases(v, "lab1 links", cases, 2, course)
    assert first == draw_cases(v, "lab1 links", cases, 2, course)
    draws = {tuple(draw_cases(make_variant(1, f"s{n}"), "x", cases, 2, course)) for n in range(30)}
    assert len(draws) > 10
    others = [
        draw_cases(make_variant(1, f"s{n}"), "x", cases, 2, install) for n in range(30)
    ]  # fmt: skip
    assert (
        sum(
            tuple(o) != tuple(draw_cases(make_variant(1, f"s{n}"), "x", cases, 2, course))
            for n, o in enumerate(others)
        )
        > 20
    )
    assert draw_cases(v, "x", [1, 2], 2, course) == [1, 2]


def test_the_solution_passes_and_the_run_fails_the_drawn_links(tmp_path):
    dest, variant = workcopy(tmp_path, 1, "s1001", solution=True)
    items, fake = check(dest, variant)
    assert not failed(items)
    events = fake.calls[0]["timeline"]
    drawn = {(e["a"], e["b"]) for e in events}
    assert len(drawn) == lab1.DRAWN and drawn <= set(variant.moving_cases())
    assert [e["state"] for e in events] == ["down", "up", "down", "up"]


def test_reading_the_handouts_run_is_not_enough(tmp_path):
    """Run first and copy the report: the catchment is right, the link failures are not."""
    dest, variant = workcopy(tmp_path, 1, "s1001", solution=True)
    edit(
        dest / "predictions.yaml",
        lambda d: d.update(if_link_down={k: [] for k in d["if_link_down"]}),
    )
    items, _ = check(dest, variant)
    assert failed(items) == ["if-link-down"]
    bad = next(i for i in items if i.id == "if-link-down")
    assert bad.detail == "not what the network did" and not bad.testbed
    assert "AS hops" in bad.hint


def test_a_wrong_list_for_a_link_the_check_does_not_draw_still_passes_the_run(tmp_path):
    dest, variant = workcopy(tmp_path, 1, "s1001", solution=True)
    drawn = {lab1.link_key(link) for link in lab1.drawn_links(variant)}
    other = next(
        (lab1.link_key(k) for k in variant.link_cases() if lab1.link_key(k) not in drawn), None
    )
    if other is None:
        return
    clients = [c.name for c in variant.clients]
    edit(dest / "predictions.yaml", lambda d: d["if_link_down"].update({other: clients}))
    assert not failed(check(dest, variant)[0])


def test_every_link_needs_a_list(tmp_path):
    dest, variant = workcopy(tmp_path, 1, "s1001", solution=True)
    key = lab1.link_key(variant.link_cases()[0])
    edit(dest / "predictions.yaml", lambda d: d["if_link_down"].pop(key))
    items, fake = check(dest, variant)
    bad = next(i for i in items if i.id == "predictions-complete")
    assert not bad.passed and "if_link_down" in bad.detail and key in bad.detail
    assert not fake.calls


def test_a_run_against_the_reasoning_is_the_testbeds_failure(tmp_path):
    dest, variant = workcopy(tmp_path, 1, "s1001", solution=True)
    items, _ = check(dest, variant, LinkMovesLost(variant))
    bad = next(i for i in items if i.id == "if-link-down")
    assert not bad.passed and bad.testbed and "check again" in bad.hint
