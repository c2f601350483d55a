"""Every lab's checker: the solution passes, the starting state fails with hints (no root)."""

from __future__ import annotations

import re

import pytest
import yaml

from testbed.errors import InputError
from testbed.labs import lab2
from testbed.labs.items import SKIPPED
from testbed.labs.registry import LABS, get_lab
from testbed.labs.variant import make_variant
from testbed.labs.workcopy import render
from tests.unit.labs.fake import FakeRun, student_run
from tests.unit.labs.helpers import (
    LINK_DOWN,
    check,
    edit,
    failed,
    measure_lab3,
    workcopy,
)

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


class FailingRun(FakeRun):
    """A run where everything goes wrong: all clients on one site, nobody moves, long outages."""

    def data(self, topo, scenario):
        summary = super().data(topo, scenario)
        one = min(s.name for s in topo.sites)
        for figures in summary["clients"].values():
            figures["site_before"] = figures["site_after"] = one
            figures["dns"]["outages"] = [
                {"start": e["t"], "duration": 9.0} for e in summary["events"]
            ]
            figures["dns"]["max_outage_s"] = 9.0
            figures["tcp"]["resets"] = [{"t": e["t"] + 0.1} for e in summary["events"]]
        for event in summary["events"]:
            event["moves"] = {}
        return summary


def wrong_answers(dest, variant):
    """Every answer or prediction file of a solution, answered wrong (but well-formed)."""
    sites = [s.name for s in variant.site.values()]
    clients = [c.name for c in variant.clients]
    flip = lambda m: {c: next(x for x in sites if x != m[c]) for c in m}  # noqa: E731
    changes = {
        1: ("predictions.yaml", lambda d: d.update(catchment=flip(d["catchment"]))),
        2: ("answers.yaml", lambda d: d.update(before=flip(d["before"]), min_prepend=d[
            "min_prepend"] + 1, med_backup_clients=clients)),
        3: ("answers.yaml", lambda d: d.update(outage_link_down_s=42,
                                               predicted_outage_silent_s=42,
                                               largest_interval_ms=1)),
        4: ("answers.yaml", lambda d: d.update(blackholed_clients=clients, withdraw_after_s=99,
                                               min_fall=1)),
        5: ("predictions.yaml", lambda d: d.update({k: {s: sorted(set(clients) - set(m[s]))
                                                        for s in m} for k, m in d.items()})),
        6: ("predictions.yaml", lambda d: d.update(catchment=flip(d["catchment"]),
                                                   not_shortest=clients,
                                                   no_route={t: clients for t in d["no_route"]},
                                                   if_link_down={k: clients
                                                                 for k in d["if_link_down"]})),
        7: ("answers.yaml", lambda d: d.update(site=next(x for x in sites if x != d["site"]),
                                               action="prepend1", overloaded_after=sites)),
        8: ("answers.yaml", lambda d: d.update(video=["quic"], api=["hybrid", "quic"],
                                               chat=["http-short"], video_recovery_s=42,
                                               api_recovery_s=42, chat_recovery_s=42)),
        9: ("answers.yaml", lambda d: d.update(ttl=60, interval=60, predicted_gslb_worst_s=1,
                                               faster={"anycast": "gslb"}.get(d["faster"],
                                                                              "anycast"))),
    }  # fmt: skip
    name, change = changes[variant.lab]
    edit(dest / name, change)


def all_hints(tmp_path, lab, student):
    """item id -> hint, over the starting state and over wrong answers with a failing run."""
    hints = {}
    start, variant = workcopy(tmp_path, lab, student)
    for i in check(start, variant)[0]:
        hints.setdefault(i.id, set()).add(i.hint)
    done, variant = workcopy(tmp_path, lab, student, solution=True)
    wrong_answers(done, variant)
    items, fake = check(done, variant, FailingRun(variant))
    assert len(fake.calls) == 1
    for i in items:
        hints.setdefault(i.id, set()).add(i.hint)
    return items, hints, variant


@pytest.mark.parametrize("lab", NUMBERS)
def test_hints_point_at_concepts_not_answers(tmp_path, lab):
    """Also on run-dependent items: a failing run and wrong answers get hints, never answers."""
    items, hints, variant = all_hints(tmp_path / "a", lab, "s2042")
    graded = [i for i in items if i.detail != SKIPPED and i.id not in ("run",)]
    bad = [i for i in graded if not i.passed]
    assert len(bad) >= 2 and all(i.hint for i in bad), [i.line() for i in graded]
    words = {c.name for c in variant.clients} | {s.name for s in variant.site.values()}
    words |= {t.name for t in variant.transits} | {str(t.asn) for t in variant.transits}
    for i in bad:
        assert not any(w in re.findall(r"[\w-]+", i.hint) for w in words), i.hint
    # the same hint for every variant: a hint cannot carry one variant's answer
    _, other, _ = all_hints(tmp_path / "b", lab, "s1001")
    for id_ in set(hints) & set(other):
        mine, theirs = hints[id_] - {""}, other[id_] - {""}
        assert mine == theirs or not mine or not theirs, id_


@pytest.mark.parametrize("lab", NUMBERS)
def test_answers_are_graded_only_with_the_run(tmp_path, lab):
    """Without the check's run there is no verdict on any answer or prediction (no oracle)."""
    dest, variant = workcopy(tmp_path, lab, "s1001", solution=True)

    def no_network(*_args):
        raise InputError("running the network needs root")

    items, _ = check(dest, variant, no_network)
    graded = [i for i in items if i.id.startswith(("answer-", "match-", "backup-prepend"))]
    graded += [i for i in items if i.id in ("predictions", "if-link-down")]
    assert graded and all(not i.passed and i.detail == SKIPPED for i in graded), [
        i.line() for i in graded
    ]
    assert next(i for i in items if i.id == "run").detail == "running the network needs root"


PAIRS = [(f"s{n:04d}", f"s{n + 1:04d}") for n in range(1000, 1040)]


@pytest.mark.parametrize("lab", NUMBERS)
def test_a_copied_answer_file_fails_on_another_variant(tmp_path, lab):
    """For many pairs: the solution answers of one student fail the other's check.

    The other student did their own work (their own lab 3 runs are in runs/);
    only the answer or prediction file is copied.
    """
    name = next(f for f in ("answers.yaml", "predictions.yaml") if f in LAB[lab].edits)
    passed = []
    link_down = 0
    for mine, theirs in PAIRS[: 40 if lab == 3 else 10]:
        src, _ = workcopy(tmp_path / mine, lab, theirs, solution=True)
        dest, variant = workcopy(tmp_path / mine, lab, mine, solution=True)
        assert not failed(check(dest, variant)[0]), "the own solution passes"
        (dest / name).write_text((src / name).read_text())
        bad = failed(check(dest, variant)[0])
        if not bad:
            passed.append((mine, theirs))
        if lab == 3:  # the measured figure does not match this student's own runs
            link_down += "answer-link-down" in bad
    assert not passed
    assert lab != 3 or link_down >= 30, link_down  # the fake's jitter matches one run in ~10


LAB = {lab.number: lab for lab in LABS}


@pytest.mark.parametrize("lab", NUMBERS)
def test_item_ids_are_stable_and_unique(tmp_path, lab):
    start, _ = check(*workcopy(tmp_path, lab, "s1001"))
    done, _ = check(*workcopy(tmp_path, lab, "s1001", solution=True))
    assert [i.id for i in start] == [i.id for i in done]
    assert len({i.id for i in done}) == len(done)


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
    n = len(variant.clients)
    assert bad.detail == f"{n - 1}/{n} right" and "shortest AS path" in bad.hint  # not who


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


def test_lab2_one_prepend_too_few_fails_on_the_run(tmp_path):
    dest, variant = workcopy(tmp_path, 2, "s1001", solution=True)

    def fewer(data):
        data["sites"][1]["prepend"] = variant.params["min_prepend"] - 1

    edit(dest / "topology.yaml", fewer)
    items, fake = check(dest, variant)
    # one client ties: the routers' tie-break may or may not keep it on the primary
    assert "backup-prepend" in failed(items) and len(fake.calls) == 1
    assert set(failed(items)) <= {"primary-serves", "backup-prepend", "if-link-down"}
    links = next(i for i in items if i.id == "if-link-down")  # graded with the fewest only
    assert not links.passed and not links.testbed and links.detail == lab2.GRADED_WITH_FEWEST
    serves = next(i for i in items if i.id == "primary-serves")
    n = len(variant.clients)
    assert re.fullmatch(rf"[0-{n}]/{n} clients on {variant.site['primary'].name}", serves.detail)


def test_lab2_a_fraction_of_a_prepend_is_refused(tmp_path):
    dest, variant = workcopy(tmp_path, 2, "s1001", solution=True)
    edit(dest / "answers.yaml", lambda d: d.update(min_prepend=variant.params["min_prepend"] + 0.7))
    items, fake = check(dest, variant)
    bad = next(i for i in items if i.id == "answers-complete")
    assert not bad.passed and "min_prepend: must be a whole number" in bad.detail
    assert not fake.calls
    edit(
        dest / "answers.yaml", lambda d: d.update(min_prepend=float(variant.params["min_prepend"]))
    )
    assert not failed(check(dest, variant)[0])


def test_lab2_med_does_not_make_a_backup(tmp_path):
    dest, variant = workcopy(tmp_path, 2, "s1001", solution=True)

    def med(data):
        data["sites"][1].pop("prepend")
        data["sites"][1]["med"] = variant.params["med"]

    edit(dest / "topology.yaml", med)
    items, _ = check(dest, variant)
    assert "backup-prepend" in failed(items)


def test_lab3_hold_times_differ_between_variants():
    from testbed.labs.variant import make_variant

    holds = {make_variant(3, f"s{n}").params["hold"] for n in range(200)}
    assert len(holds) >= 6 and min(holds) == 3


def test_lab3_figures_need_the_students_own_runs(tmp_path):
    dest, variant = workcopy(tmp_path, 3, "s1001", solution=True)
    runs = sorted((dest / "runs").iterdir())
    for run in runs:
        run.rename(tmp_path / run.name)
    items, _ = check(dest, variant)
    assert failed(items) == ["answer-link-down"]
    bad = next(i for i in items if i.id == "answer-link-down")
    assert "no link-down failure" in bad.detail and "runs/" in bad.detail


def test_lab3_another_variants_runs_do_not_count(tmp_path):
    src, other = workcopy(tmp_path, 3, "s2042", solution=True)
    dest, variant = workcopy(tmp_path, 3, "s1001", solution=True)
    for run in (dest / "runs").iterdir():
        run.rename(tmp_path / f"mine-{run.name}")
    for run in (src / "runs").iterdir():
        (dest / "runs" / run.name).mkdir()
        for f in run.iterdir():
            (dest / "runs" / run.name / f.name).write_bytes(f.read_bytes())
    theirs = yaml.safe_load((src / "answers.yaml").read_text())["outage_link_down_s"]
    edit(dest / "answers.yaml", lambda d: d.update(outage_link_down_s=theirs))
    items, _ = check(dest, variant)
    assert failed(items) == ["answer-link-down"]
    assert "no link-down failure" in next(i for i in items if i.id == "answer-link-down").detail


def test_lab3_more_link_down_runs_the_matching_one_counts(tmp_path):
    dest, variant = workcopy(tmp_path, 3, "s1001", solution=True)
    student_run(dest, variant, LINK_DOWN)  # another link-down run: the first one still counts
    student_run(dest, variant, ("timeline.0.how=silent",))  # silent runs are not compared
    items, _ = check(dest, variant)
    assert not failed(items), [i.line() for i in items if not i.passed]


@pytest.mark.parametrize(
    ("offset", "right"), [(-1.0, True), (0.0, True), (0.5, True), (-1.5, False), (1.0, False)]
)
def test_lab3_the_silent_prediction_follows_the_hold_time(tmp_path, offset, right):
    """Graded by reasoning: the hold time, counted from the last keepalive, plus convergence."""
    dest, variant = workcopy(tmp_path, 3, "s1001", solution=True)
    guess = variant.params["hold"] + offset
    edit(dest / "answers.yaml", lambda d: d.update(predicted_outage_silent_s=guess))
    items, _ = check(dest, variant)
    assert failed(items) == ([] if right else ["answer-silent"])


def test_lab3_budgets_and_multipliers_vary_and_always_fit():
    """Over 1,000 IDs: every multiplier, many budgets, each made for a 50-150 ms interval."""
    from testbed.labs import lab3

    seen = set()
    for n in range(1000):
        v = make_variant(3, f"s{n:04d}")
        p = v.params
        largest = lab3.largest_interval_ms(v)
        assert 50 <= largest <= 150 and p["budget_ms"] <= 1000, p
        assert largest * p["multiplier"] + p["reserve_ms"] == p["budget_ms"], p
        # FRR's defaults (300 ms x 3) never fit: enabling BFD alone is not the answer
        assert p["budget_ms"] < 300 * 3 + 100 or p["multiplier"] != 3, p
        seen.add((p["multiplier"], p["budget_ms"]))
    assert {m for m, _ in seen} == {3, 4, 5} and len({b for _, b in seen}) >= 15


def test_lab3_the_handouts_defaults_and_a_wrong_multiplier_fail_before_any_run(tmp_path):
    dest, variant = workcopy(tmp_path, 3, "s1001", solution=True)
    multiplier = variant.params["multiplier"]
    largest = variant.params["budget_ms"] - variant.params["reserve_ms"]
    edit(dest / "topology.yaml", lambda d: d["bfd"].update(multiplier=multiplier + 1))
    items, fake = check(dest, variant)
    assert failed(items)[0] == "bfd-multiplier" and not fake.calls
    assert "multiplier" in next(i for i in items if i.id == "bfd-multiplier").hint
    edit(dest / "topology.yaml", lambda d: d["bfd"].update(interval=10, multiplier=multiplier))
    items, fake = check(dest, variant)
    assert failed(items)[0] == "bfd-not-too-cautious" and not fake.calls
    assert largest // multiplier > 10


def test_lab3_a_detection_time_that_leaves_bgp_no_room_fails_the_budget(tmp_path):
    dest, variant = workcopy(tmp_path, 3, "s1001", solution=True)
    whole = variant.params["budget_ms"] // variant.params["multiplier"]  # detection = budget
    edit(dest / "topology.yaml", lambda d: d["bfd"].update(interval=whole))
    items, fake = check(dest, variant)
    assert failed(items) == ["budget"] and len(fake.calls) == 1
    timeline = fake.calls[0]["timeline"]
    assert [e["event"] for e in timeline] == ["fail_site", "restore"] * 2
    assert all(e.get("how") == "silent" for e in timeline if e["event"] == "fail_site")


def test_lab3_a_wrong_largest_interval_fails(tmp_path):
    dest, variant = workcopy(tmp_path, 3, "s1001", solution=True)
    edit(
        dest / "answers.yaml", lambda d: d.update(largest_interval_ms=d["largest_interval_ms"] + 20)
    )
    items, _ = check(dest, variant)
    assert failed(items) == ["answer-interval"]
    bad = next(i for i in items if i.id == "answer-interval")
    assert str(variant.params["budget_ms"] - variant.params["reserve_ms"]) not in bad.detail


def test_lab3_without_bfd_the_silent_failure_is_slow(tmp_path):
    dest, variant = workcopy(tmp_path, 3, "s1001", solution=True)
    edit(dest / "topology.yaml", lambda d: d["bfd"].update(enabled=False))
    items, _ = check(dest, variant)
    assert "bfd" in failed(items)
    assert "hold time" in next(i for i in items if i.id == "bfd").hint


def test_lab3_bfd_in_the_scenario_counts(tmp_path):
    dest, variant = workcopy(tmp_path, 3, "s1001", solution=True)
    bfd = yaml.safe_load((dest / "topology.yaml").read_text())["bfd"]
    edit(dest / "topology.yaml", lambda d: d["bfd"].update(enabled=False))
    edit(dest / "scenario.yaml", lambda d: d.update(bfd={**bfd, "enabled": True}))
    items, _ = check(dest, variant)
    assert not failed(items), [i.line() for i in items if not i.passed]


def test_lab5_swapped_predictions_fail_both(tmp_path):
    """A silent failure resets nobody, a drawn prepend always somebody: swapped, both wrong."""
    dest, variant = workcopy(tmp_path, 5, "s1001", solution=True)
    assert variant.params["how"] == "silent"

    def swap(data):
        data["site_failure"], data["prepend"] = data["prepend"], data["site_failure"]

    edit(dest / "predictions.yaml", swap)
    items, _ = check(dest, variant)
    assert failed(items) == ["match-site-failure", "match-prepend"]


def test_lab5_unknown_client_is_named(tmp_path):
    dest, variant = workcopy(tmp_path, 5, "s1001", solution=True)
    site = variant.site["a"].name
    edit(dest / "predictions.yaml", lambda d: d["udp_outage_over_1s"].update({site: ["nobody"]}))
    items, fake = check(dest, variant)
    bad = next(i for i in items if i.id == "predicted-udp-outage-over-1s")
    assert not bad.passed and "'nobody' is not a client" in bad.detail and not fake.calls


def _upstream(variant, role):
    return variant.site[role].upstream


@pytest.mark.parametrize(
    ("change", "part"),
    [
        (lambda d, v: d["links"][0].update(delay="0ms"), "links"),
        (lambda d, v: d["links"][-1].update(loss=100), "links"),
        (lambda d, v: d["clients"][0].update(link={"loss": 50}), "clients"),
        # the transit's local preference for the backup's route: a backup without prepending
        (lambda d, v: d.setdefault("sessions", []).append(
            {"a": _upstream(v, "backup"), "b": v.site["backup"].name, "local_pref": 50}),
         "sessions"),
        (lambda d, v: d.setdefault("sessions", []).append(
            {"a": v.transits[0].name, "b": v.transits[1].name, "prepend": 3}), "sessions"),
        # communities the backup's transit would attach to what it sends the site
        (lambda d, v: d.setdefault("sessions", []).append(
            {"a": _upstream(v, "backup"), "b": v.site["backup"].name,
             "communities": ["graceful-shutdown"]}), "sessions"),
        # business relationships between others' ASes (every link declared: valid)
        (lambda d, v: [link.update(rel="peer") for link in d["links"][: len(v.transit_links())]],
         "policy"),
        (lambda d, v: d.update(local_pref={"customer": 90, "peer": 150, "provider": 100}),
         "policy"),
    ],
    ids=["delay", "loss", "client-link", "transit-local-pref", "transit-prepend",
         "transit-communities", "relationships", "local-pref"],
)  # fmt: skip
def test_lab2_others_links_and_sessions_must_stay(tmp_path, change, part):
    dest, variant = workcopy(tmp_path, 2, "s1001", solution=True)
    edit(dest / "topology.yaml", lambda d: change(d, variant))
    items, fake = check(dest, variant)
    bad = next(i for i in items if i.id == "internet-unchanged")
    assert not bad.passed and bad.detail == f"changed: {part}" and not fake.calls


def test_lab2_the_sites_own_session_communities_are_the_students(tmp_path):
    dest, variant = workcopy(tmp_path, 2, "s1001", solution=True)
    site = variant.site["backup"]
    edit(dest / "topology.yaml", lambda d: d.setdefault("sessions", []).append(
        {"a": site.name, "b": site.upstream, "communities": ["64500:1"]}))  # fmt: skip
    items, _ = check(dest, variant)
    assert next(i for i in items if i.id == "internet-unchanged").passed


@pytest.mark.parametrize("end", ["site-first", "transit-first"])
def test_lab3_bfd_on_the_sites_own_session_is_allowed(tmp_path, end):
    dest, variant = workcopy(tmp_path, 3, "s1001", solution=True)
    fails = variant.site[variant.params["fails"]]
    ends = [fails.name, fails.upstream][:: 1 if end == "site-first" else -1]

    def per_session(data):
        data["bfd"]["enabled"] = False
        data["sessions"] = [{"a": ends[0], "b": ends[1], "bfd": True}]

    edit(dest / "topology.yaml", per_session)
    items, _ = check(dest, variant)
    assert not failed(items), [i.line() for i in items if not i.passed]


def test_lab3_solution_fails_until_the_link_down_run_is_made(tmp_path):
    """As labs/solutions/README.md says: straight from ``lab solution`` lab 3 does not pass."""
    variant = make_variant(3, "s1001")
    dest = tmp_path / "sol3"
    render(get_lab(3), variant, dest, solution=True)
    items, fake = check(dest, variant)
    complete = next(i for i in items if i.id == "answers-complete")
    assert not complete.passed and "outage_link_down_s: not answered yet" in complete.detail
    assert not fake.calls and len(failed(items)) == 7, "nothing runs"
    measure_lab3(dest, variant)  # the link-down run, its figure in answers.yaml
    items, fake = check(dest, variant)
    assert not failed(items) and len(fake.calls) == 1


def _shortest_path_predictions(variant):
    """What a student who only counts AS hops (lab 1) would predict in lab 6."""
    return {
        "catchment": variant.policy_catchment(policy=False),
        "not_shortest": [],
        "no_route": {t.name: [] for t in variant.transits},
    }


def test_lab6_shortest_path_reasoning_fails_every_item(tmp_path):
    dest, variant = workcopy(tmp_path, 6, "s1001", solution=True)
    edit(dest / "predictions.yaml", lambda d: d.update(_shortest_path_predictions(variant)))
    items, fake = check(dest, variant)
    assert failed(items) == ["match-catchment", "match-not-shortest", "match-no-route"]
    details = {i.id: i.detail for i in items}
    assert details["match-catchment"] == "3/5 right"  # how many, never who
    assert details["match-not-shortest"] == "3/5 right"
    assert details["match-no-route"] == "3/5 transits right"
    assert len(fake.calls) == 1  # then the link failures the check drew (right here)
    assert {e["event"] for e in fake.calls[0]["timeline"]} == {"link"}


def test_lab6_missing_routes_are_graded_per_transit(tmp_path):
    dest, variant = workcopy(tmp_path, 6, "s1001", solution=True)
    east = variant.transit_of("east").name
    edit(dest / "predictions.yaml", lambda d: d["no_route"].update({east: []}))
    items, _ = check(dest, variant)
    assert failed(items) == ["match-no-route"]
    bad = next(i for i in items if i.id == "match-no-route")
    assert bad.detail == "4/5 transits right" and "valley-free" in bad.hint


def test_lab6_a_run_without_the_policy_check_cannot_grade_routes(tmp_path):
    dest, variant = workcopy(tmp_path, 6, "s1001", solution=True)

    class NoPolicy(FakeRun):
        def data(self, topo, scenario):
            out = super().data(topo, scenario)
            out.pop("policy")
            return out

    items, _ = check(dest, variant, NoPolicy(variant))
    assert failed(items) == ["match-no-route"]
    assert next(i for i in items if i.id == "match-no-route").detail == (
        "the run has no policy check"
    )


def test_lab6_predictions_name_the_transits(tmp_path):
    dest, variant = workcopy(tmp_path, 6, "s1001", solution=True)
    edit(dest / "predictions.yaml", lambda d: d["no_route"].update(nowhere=[]))
    items, fake = check(dest, variant)
    bad = next(i for i in items if i.id == "predicted-no-route")
    assert not bad.passed and "'nowhere' is not a transit here" in bad.detail and not fake.calls


def test_lab6_checks_the_handout_network_not_the_students_copy(tmp_path):
    dest, variant = workcopy(tmp_path, 6, "s1001", solution=True)
    (dest / "topology.yaml").write_text("not: a topology\n")
    items, fake = check(dest, variant)
    assert not failed(items) and len(fake.calls) == 1


class OutagesOf(FakeRun):
    """Every DNS outage of the run lasts ``seconds``."""

    def __init__(self, variant, seconds):
        super().__init__(variant)
        self.seconds = seconds

    def data(self, topo, scenario):
        summary = super().data(topo, scenario)
        for figures in summary["clients"].values():
            for outage in figures["dns"]["outages"]:
                outage["duration"] = self.seconds
        return summary


@pytest.mark.parametrize(
    ("which", "testbed"), [("full", False), ("earliest", False), ("half", True)]
)
def test_lab3_an_outage_shorter_than_bfd_can_detect_is_the_testbeds_failure(
    tmp_path, which, testbed
):
    """BFD counts from the last packet received, up to one interval before the failure:
    the outage is at least (multiplier - 1) x interval; anything shorter is the testbed's."""
    dest, variant = workcopy(tmp_path, 3, "s1001", solution=True)
    slow = 400  # detection 1.2-2 s: both outages over the budget, or impossibly short
    edit(dest / "topology.yaml", lambda d: d["bfd"].update(interval=slow))
    multiplier = variant.params["multiplier"]
    earliest = slow * (multiplier - 1) / 1000
    seconds = {"full": slow * multiplier / 1000, "earliest": earliest + 0.01, "half": earliest / 2}
    items, _ = check(dest, variant, OutagesOf(variant, seconds[which]))
    budget = next(i for i in items if i.id == "budget")
    assert not budget.passed and budget.testbed == testbed
