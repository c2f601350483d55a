"""Lab 5: predictions for every site, graded on a failure and a prepend drawn at check time."""

from __future__ import annotations

import re
from collections import Counter

import yaml

from testbed.labs import lab5
from testbed.labs.runner import LabContext
from testbed.labs.signing import Key, keyring
from testbed.labs.variant import LAB5_CASES, make_variant
from tests.unit.labs.fake import FakeRun
from tests.unit.labs.helpers import check, edit, failed, workcopy

STUDENT = "s1001"


def test_every_variant_has_two_failures_and_two_prepends_to_draw():
    """1,000 IDs: the hand-out's own failure and prepend are cases; there are more."""
    counts = Counter()
    for n in range(1000):
        v = make_variant(5, f"s{n:04d}")
        failures, prepends = v.failure_cases(), v.prepend_cases()
        assert len(failures) >= LAB5_CASES and len(prepends) >= LAB5_CASES, v.student
        assert v.params["fails"] in failures and v.params["shifts"] in prepends
        counts[(len(failures), len(prepends))] += 1
    assert counts[(3, 3)] >= 150 and counts[(2, 2)] >= 400, counts  # every site a case, or two


def test_the_check_draws_cases_with_its_key():
    """The drawn sites are cases; the course secret's draw is its own, the same every time."""
    course = keyring(Key(b"a course secret of enough length", "course"))
    install = keyring(None, Key(b"this machine's own key, 32 bytes", "install"))
    differ = 0
    for n in range(60):
        v = make_variant(5, f"s{n:04d}")
        mine = lab5.drawn(v, course)
        assert mine == lab5.drawn(v, course)
        for fails, shifts in (mine, lab5.drawn(v, install), lab5.drawn(v)):
            assert fails in v.failure_cases() and shifts in v.prepend_cases()
        differ += mine != lab5.drawn(v, install)
    assert differ > 25, differ  # another key, other sites (the same by chance for 1 in 4-9)


def test_the_solution_passes_and_the_run_has_the_drawn_sites(tmp_path):
    dest, variant = workcopy(tmp_path, 5, STUDENT, solution=True)
    items, fake = check(dest, variant)
    assert not failed(items), [i.line() for i in items if not i.passed]
    fails, shifts = lab5.drawn(variant)
    events = fake.calls[0]["timeline"]
    assert [(e["event"], e["site"]) for e in events] == [
        ("fail_site", variant.site[fails].name),
        ("restore", variant.site[fails].name),
        ("prepend", variant.site[shifts].name),
    ]
    assert events[0]["how"] == variant.params["how"]
    assert events[2]["count"] == variant.params["count"]


def handout_copy(v):
    """What a student copies from the hand-out's run: its own failure and prepend, [] elsewhere."""
    want = lab5.expected(v)
    own = {"site_failure": "fails", "prepend": "shifts", "udp_outage_over_1s": "fails"}
    return {
        key: {
            s.name: sorted(want[key][s.name]) if role == v.params[own[key]] else []
            for role, s in v.site.items()
        }
        for key in lab5.KEYS
    }


def test_copying_the_handouts_run_fails_when_the_check_draws_other_sites(tmp_path):
    """Run the hand-out first and copy its report: wrong whenever the check draws another site.

    Not for every ID: with 2 or 3 cases of each kind, the check draws the
    hand-out's own failure and prepend for about 1 ID in 4 to 9, and then
    the copy is right.
    """
    wrong = 0
    for n in range(100):
        v = make_variant(5, f"s{n:04d}")
        dest = tmp_path / v.student
        dest.mkdir()
        (dest / "predictions.yaml").write_text(yaml.safe_dump(handout_copy(v)))
        items = lab5.check(LabContext(dest, v, FakeRun(v)))
        bad = failed(items)
        assert not any(i.testbed for i in items)
        assert (bad != []) == (lab5.drawn(v) != (v.params["fails"], v.params["shifts"]))
        wrong += bool(bad)
    assert wrong >= 70, wrong


def test_predictions_for_a_site_the_check_does_not_draw_do_not_matter(tmp_path):
    dest, variant = workcopy(tmp_path, 5, STUDENT, solution=True)
    fails, shifts = lab5.drawn(variant)
    clients = sorted(c.name for c in variant.clients)

    def spoil(data):
        drawn = {"site_failure": fails, "prepend": shifts, "udp_outage_over_1s": fails}
        for key, role in drawn.items():
            for r, s in variant.site.items():
                if r != role:
                    data[key][s.name] = clients

    edit(dest / "predictions.yaml", spoil)
    assert not failed(check(dest, variant)[0])


def test_every_site_needs_a_list(tmp_path):
    dest, variant = workcopy(tmp_path, 5, STUDENT, solution=True)
    site = variant.site["b"].name
    edit(dest / "predictions.yaml", lambda d: d["prepend"].pop(site))
    items, fake = check(dest, variant)
    bad = next(i for i in items if i.id == "predicted-prepend")
    assert not bad.passed and site in bad.detail and not fake.calls


def test_details_never_name_clients_or_give_counts(tmp_path):
    dest, variant = workcopy(tmp_path, 5, STUDENT, solution=True)
    clients = {c.name for c in variant.clients}

    def flip(data):
        for by_site in data.values():
            for site, names in by_site.items():
                by_site[site] = sorted(clients - set(names))

    edit(dest / "predictions.yaml", flip)
    items, _ = check(dest, variant)
    graded = [i for i in items if i.id.startswith("match-")]
    assert [i.id for i in graded] == ["match-site-failure", "match-prepend", "match-udp-outage"]
    assert {i.detail for i in graded} == {"not what the network did"}
    names = clients | {s.name for s in variant.site.values()}
    for i in items:
        assert not names & set(re.findall(r"[\w-]+", f"{i.title} {i.detail} {i.hint}")), i.line()
    for i in graded:
        assert not re.search(r"\d", i.detail), i.line()


class LostResets(FakeRun):
    """A run where nobody's streams were reset and nobody lost DNS, whatever the reasoning."""

    def data(self, topo, scenario):
        summary = super().data(topo, scenario)
        for figures in summary["clients"].values():
            figures["tcp"]["resets"] = []
            figures["dns"]["outages"] = []
            figures["dns"]["max_outage_s"] = 0.0
        return summary


def test_a_run_against_the_reasoning_is_the_testbeds_failure(tmp_path):
    dest, variant = workcopy(tmp_path, 5, STUDENT, solution=True)
    items, _ = check(dest, variant, LostResets(variant))
    bad = [i for i in items if not i.passed]
    # a drawn prepend always moves somebody; the drawn failure resets or costs UDP a hold time
    assert {i.id for i in bad} == {"match-prepend", f"match-{lab5.item_id(failure_key(variant))}"}
    for i in bad:
        assert i.testbed and "check again" in i.hint
        assert i.detail == "the run disagrees with the path reasoning"


def failure_key(variant):
    """The prediction a drawn failure always changes: resets (link-down) or UDP (silent)."""
    return "udp_outage_over_1s" if variant.params["how"] == "silent" else "site_failure"
