"""Lab 2: link failures with the fewest prepends, drawn at check time, graded with the run."""

from __future__ import annotations

import re

from testbed.labs import lab2
from testbed.labs.checktime import link_key
from testbed.labs.variant import GENERATION, LAB2_MOVING, make_variant
from tests.unit.labs.fake import FakeRun, LinkMovesLost
from tests.unit.labs.helpers import check, edit, failed, workcopy

STUDENT = "s1001"


def test_every_variant_has_two_link_failures_that_move_somebody_with_the_prepends():
    for n in range(1000):
        v = make_variant(2, f"s{n:04d}")
        fewest = v.backup_prepend()
        cases, moving = v.link_cases(fewest), v.moving_cases(fewest)
        assert len(moving) >= LAB2_MOVING >= lab2.DRAWN and set(moving) <= set(cases), n
    assert GENERATION[2] == 3


def test_lab1_variants_and_link_outcomes_are_unchanged():
    """``link_outcomes`` took a ``prepend``: without one, lab 1 reasons as before."""
    want = {
        "s0001": (
            {"accra": "syd", "seoul": "fra", "austin": "fra", "lisbon": "syd"},
            [(("jade", "krypton"), []), (("krypton", "raven"), []),
             (("raven", "zephyr"), ["austin", "seoul"]), (("zephyr", "quartz"), []),
             (("quartz", "yukon"), []), (("yukon", "cobalt"), []),
             (("jade", "yukon"), ["accra"])],
        ),
        "s0002": (
            {"sofia": "icn", "austin": "icn", "cairo": "icn", "denver": "waw"},
            [(("krypton", "helix"), []), (("helix", "pulsar"), []), (("pulsar", "lumen"), []),
             (("lumen", "boreal"), ["denver"]), (("boreal", "fjord"), []),
             (("pulsar", "fjord"), ["austin", "cairo", "sofia"])],
        ),
        "alice": (
            {"oslo": "nbo", "madrid": "gru", "accra": "gru", "delhi": "gru", "tunis": "gru",
             "taipei": "gru", "dakar": "gru"},
            [(("quartz", "yukon"), ["oslo"]), (("yukon", "umbra"), []), (("umbra", "willow"), []),
             (("willow", "garnet"), []), (("garnet", "helix"), []),
             (("helix", "onyx"), ["dakar"])],
        ),
    }  # fmt: skip
    for student, (catchment, outcomes) in want.items():
        v = make_variant(1, student)
        assert v.catchment() == catchment and v.link_outcomes() == outcomes, student
        assert v.link_outcomes({}) == outcomes


def test_the_solution_passes_and_the_run_fails_the_drawn_links(tmp_path):
    dest, variant = workcopy(tmp_path, 2, STUDENT, solution=True)
    items, fake = check(dest, variant)
    assert not failed(items)
    events = fake.calls[0]["timeline"]
    assert [e["event"] for e in events] == ["fail_site", "restore"] + ["link"] * 4
    links = [(e["a"], e["b"]) for e in events[2:] if e["state"] == "down"]
    assert len(links) == lab2.DRAWN
    assert set(links) <= set(variant.moving_cases(variant.backup_prepend()))
    assert [e["state"] for e in events[2:]] == ["down", "up", "down", "up"]
    times = [e["at"] for e in events]
    assert times == sorted(times) and fake.calls[0]["duration"] > times[-1]


def test_the_primary_failure_items_still_read_their_window(tmp_path):
    """The failover is read right after the failure, not after the restore or the links."""
    dest, variant = workcopy(tmp_path, 2, STUDENT, solution=True)
    items, _ = check(dest, variant)
    n = len(variant.clients)
    failover = next(i for i in items if i.id == "failover")
    assert failover.detail == f"{n}/{n} clients on {variant.site['backup'].name} after the failure"
    serves = next(i for i in items if i.id == "primary-serves")
    assert serves.detail == f"{n}/{n} clients on {variant.site['primary'].name}"


def test_copying_a_run_of_the_handout_is_not_enough(tmp_path):
    """Before, MED and the fewest prepends right (a run shows them), [] for every link: fails."""
    dest, variant = workcopy(tmp_path, 2, STUDENT, solution=True)
    edit(
        dest / "answers.yaml",
        lambda d: d.update(if_link_down={k: [] for k in d["if_link_down"]}),
    )
    items, _ = check(dest, variant)
    assert failed(items) == ["if-link-down"]
    bad = next(i for i in items if i.id == "if-link-down")
    assert bad.detail == "not what the network did" and not bad.testbed
    assert "prepends" in bad.hint


def test_the_details_name_nothing_and_count_nothing(tmp_path):
    dest, variant = workcopy(tmp_path, 2, STUDENT, solution=True)
    clients = [c.name for c in variant.clients]
    edit(
        dest / "answers.yaml",
        lambda d: d.update(if_link_down={k: clients for k in d["if_link_down"]}),
    )
    items, _ = check(dest, variant)
    bad = next(i for i in items if i.id == "if-link-down")
    names = clients + [t.name for t in variant.transits]
    shown = f"{bad.title} {bad.detail} {bad.hint}"
    assert not bad.passed and not any(n in shown for n in names)
    assert not re.search(r"\d", bad.detail)


def test_a_wrong_list_for_a_link_the_check_does_not_draw_still_passes(tmp_path):
    dest, variant = workcopy(tmp_path, 2, STUDENT, solution=True)
    drawn = {link_key(link) for link in lab2.drawn_links(variant)}
    cases = [link_key(k) for k in variant.link_cases(variant.backup_prepend())]
    other = next((k for k in cases if k not in drawn), None)
    if other is None:
        return
    clients = [c.name for c in variant.clients]
    edit(dest / "answers.yaml", lambda d: d["if_link_down"].update({other: clients}))
    assert not failed(check(dest, variant)[0])


def test_every_link_needs_a_list(tmp_path):
    dest, variant = workcopy(tmp_path, 2, STUDENT, solution=True)
    key = link_key(variant.link_cases(variant.backup_prepend())[0])
    edit(dest / "answers.yaml", lambda d: d["if_link_down"].pop(key))
    items, fake = check(dest, variant)
    bad = next(i for i in items if i.id == "answers-complete")
    assert not bad.passed and "if_link_down" in bad.detail and key in bad.detail
    assert not fake.calls


def test_the_handout_lists_every_link_with_null(tmp_path):
    import yaml

    dest, variant = workcopy(tmp_path, 2, STUDENT)
    data = yaml.safe_load((dest / "answers.yaml").read_text())
    keys = [link_key(k) for k in variant.link_cases(variant.backup_prepend())]
    assert data["if_link_down"] == {k: None for k in keys}


def test_a_run_against_the_reasoning_is_the_testbeds_failure(tmp_path):
    dest, variant = workcopy(tmp_path, 2, STUDENT, solution=True)
    items, _ = check(dest, variant, LinkMovesLost(variant))
    bad = next(i for i in items if i.id == "if-link-down")
    assert not bad.passed and bad.testbed and "check again" in bad.hint


def test_more_prepends_than_the_fewest_leave_the_links_ungraded(tmp_path):
    """The run is reasoned about with the topology's prepends (no testbed failure), but the
    predictions, made with the fewest, are graded only on a run that has them."""
    dest, variant = workcopy(tmp_path, 2, STUDENT, solution=True)
    edit(dest / "topology.yaml", lambda d: d["sites"][1].update(prepend=8))
    items, _ = check(dest, variant, FakeRun(variant))
    assert "backup-prepend" not in failed(items)
    bad = next(i for i in items if i.id == "if-link-down")
    assert not bad.passed and not bad.testbed and bad.detail == lab2.GRADED_WITH_FEWEST
    # the same difference with the primary prepending too is the fewest: graded
    edit(
        dest / "topology.yaml",
        lambda d: d["sites"][0].update(prepend=8 - variant.params["min_prepend"]),
    )
    assert not failed(check(dest, variant)[0])
