"""Every lab's checker: the solution passes, the starting state fails with hints (no root)."""

from __future__ import annotations

import pytest
import yaml

from testbed.labs.items import SKIPPED
from testbed.labs.registry import LABS
from tests.unit.labs.helpers import check, failed, workcopy

NUMBERS = [lab.number for lab in LABS]
STUDENTS = [None, "s1001", "s2042"]


@pytest.mark.parametrize("student", STUDENTS)
@pytest.mark.parametrize("lab", NUMBERS)
def test_solution_passes(tmp_path, lab, student):
    dest, variant = workcopy(tmp_path, lab, student, solution=True)
    items, fake = check(dest, variant)
    assert not failed(items), [i.line() for i in items if not i.passed]
    assert len(fake.calls) == 1, "the solution is checked on a run"


@pytest.mark.parametrize("lab", NUMBERS)
def test_starting_state_fails_with_hints(tmp_path, lab):
    dest, variant = workcopy(tmp_path, lab, "s1001")
    items, fake = check(dest, variant)
    bad = [i for i in items if not i.passed]
    assert bad, "the untouched hand-out must not pass"
    assert not fake.calls, "nothing is run before the files are right"
    real = [i for i in bad if i.detail != SKIPPED]
    assert real and all(i.hint for i in real), [i.line() for i in real]


@pytest.mark.parametrize("lab", NUMBERS)
def test_hints_point_at_concepts_not_answers(tmp_path, lab):
    dest, variant = workcopy(tmp_path, lab, "s2042")
    items, _ = check(dest, variant)
    words = {c.name for c in variant.clients} | {s.name for s in variant.site.values()}
    for i in items:
        assert not any(w in i.hint.split() for w in words), i.hint


@pytest.mark.parametrize("lab", NUMBERS)
def test_item_ids_are_stable_and_unique(tmp_path, lab):
    start, _ = check(*workcopy(tmp_path, lab, "s1001"))
    done, _ = check(*workcopy(tmp_path, lab, "s1001", solution=True))
    assert [i.id for i in start] == [i.id for i in done]
    assert len({i.id for i in done}) == len(done)


def edit(path, change):
    """Load YAML, change it, write it back."""
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


def test_lab1_wrong_prediction_is_one_failed_item(tmp_path):
    dest, variant = workcopy(tmp_path, 1, "s1001", solution=True)
    first = variant.clients[0].name
    other = {s.name for s in variant.site.values()}

    def flip(data):
        data["catchment"][first] = (other - {data["catchment"][first]}).pop()

    edit(dest / "predictions.yaml", flip)
    items, _ = check(dest, variant)
    assert failed(items) == ["predictions"]
    bad = next(i for i in items if i.id == "predictions")
    assert "4/5 right" in bad.detail and "shortest AS path" in bad.hint


def test_lab1_site_behind_the_wrong_transit(tmp_path):
    dest, variant = workcopy(tmp_path, 1, "s1001", solution=True)
    wrong = next(t.name for t in variant.transits if t.name != variant.site["second"].upstream)

    def move(data):
        data["sites"][1]["upstream"] = wrong

    edit(dest / "topology.yaml", move)
    items, fake = check(dest, variant)
    assert "second-site" in failed(items) and not fake.calls


def test_lab1_internet_must_stay(tmp_path):
    dest, variant = workcopy(tmp_path, 1, "s1001", solution=True)
    edit(dest / "topology.yaml", lambda d: d["links"].pop(0))
    items, _ = check(dest, variant)
    assert "internet-unchanged" in failed(items) or "topology-valid" in failed(items)


def test_lab2_one_prepend_too_few_fails(tmp_path):
    dest, variant = workcopy(tmp_path, 2, "s1001", solution=True)

    def fewer(data):
        data["sites"][1]["prepend"] = variant.params["min_prepend"] - 1

    edit(dest / "topology.yaml", fewer)
    items, fake = check(dest, variant)
    assert failed(items)[0] == "backup-prepend" and not fake.calls


def test_lab2_med_does_not_make_a_backup(tmp_path):
    dest, variant = workcopy(tmp_path, 2, "s1001", solution=True)

    def med(data):
        data["sites"][1].pop("prepend")
        data["sites"][1]["med"] = variant.params["med"]

    edit(dest / "topology.yaml", med)
    items, _ = check(dest, variant)
    assert "backup-prepend" in failed(items)


def test_lab3_without_bfd_the_silent_failure_is_slow(tmp_path):
    dest, variant = workcopy(tmp_path, 3, "s1001", solution=True)
    edit(dest / "topology.yaml", lambda d: d["bfd"].update(enabled=False))
    items, _ = check(dest, variant)
    assert "bfd" in failed(items)
    assert "hold time" in next(i for i in items if i.id == "bfd").hint


def test_lab3_bfd_in_the_scenario_counts(tmp_path):
    dest, variant = workcopy(tmp_path, 3, "s1001", solution=True)
    edit(dest / "topology.yaml", lambda d: d["bfd"].update(enabled=False))
    edit(dest / "scenario.yaml", lambda d: d.update(bfd={"enabled": True, "interval": 100}))
    items, _ = check(dest, variant)
    assert not failed(items), [i.line() for i in items if not i.passed]


def test_lab4_demoting_is_not_withdrawing(tmp_path):
    dest, variant = workcopy(tmp_path, 4, "s1001", solution=True)

    def demote(data):
        for site in data["sites"]:
            site["health"]["action"] = "med"

    edit(dest / "topology.yaml", demote)
    items, _ = check(dest, variant)
    assert failed(items)[0] == "health"


def test_lab4_timing_answer_follows_the_settings(tmp_path):
    dest, variant = workcopy(tmp_path, 4, "s1001", solution=True)
    edit(dest / "answers.yaml", lambda d: d.update(withdraw_after_s=30))
    items, _ = check(dest, variant)
    assert failed(items) == ["answer-timing"]


def test_lab5_swapped_predictions_fail_both(tmp_path):
    dest, variant = workcopy(tmp_path, 5, "s1001", solution=True)

    def swap(data):
        a, b = data["site_failure"]["tcp_reset"], data["prepend"]["tcp_reset"]
        data["site_failure"]["tcp_reset"], data["prepend"]["tcp_reset"] = b, a

    edit(dest / "predictions.yaml", swap)
    items, _ = check(dest, variant)
    assert failed(items) == ["match-site-failure", "match-prepend"]


def test_lab5_unknown_client_is_named(tmp_path):
    dest, variant = workcopy(tmp_path, 5, "s1001", solution=True)
    edit(dest / "predictions.yaml", lambda d: d.update(udp_outage_over_1s=["nobody"]))
    items, fake = check(dest, variant)
    bad = next(i for i in items if i.id == "predicted-udp-outage-over-1s")
    assert not bad.passed and "'nobody' is not a client" in bad.detail and not fake.calls
