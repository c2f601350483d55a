"""Lab 6: link failures under business relationships, drawn at check time, graded with the run."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from testbed.labs import lab6
from testbed.labs.checktime import link_key
from testbed.labs.common import starting_topology
from testbed.labs.runner import LabContext, lab_scenario
from testbed.labs.signing import Key, keyring
from testbed.labs.variant import GENERATION, LAB6_LINKS, make_variant
from tests.unit.labs.fake import FakeRun, LinkMovesLost, student_run
from tests.unit.labs.helpers import check, edit, failed, workcopy

IDS = [f"s{n:04d}" for n in range(1000)]


def by_role(v):
    """Transit name -> its role, client name -> the role of its ISP's transit."""
    role = {v.transit_of(r).name: r for r in ("hub", "east", "west", "regional", "edge")}
    return role, {c.name: role[c.transit] for c in v.clients}


def test_every_variant_has_link_failures_to_draw():
    """Over 1,000 IDs: every link between transits is asked about (no tie decides any
    outcome), and three of the four change somebody's site -- the roles fix which."""
    assert GENERATION[6] == 2
    shapes = Counter()
    for sid in IDS:
        v = make_variant(6, sid)
        role, client = by_role(v)
        links = v.policy_links()
        assert [(role[a], role[b]) for a, b in links] == [(a, b) for a, b, _ in LAB6_LINKS]
        assert v.policy_link_cases() == links  # no tie: every link is asked about
        moving = v.policy_moving_cases()
        assert len(moving) >= lab6.DRAWN and set(moving) <= set(links)
        for link in links:
            routing = v.routing(down=[link])
            assert not any(c.isp in routing.ties for c in v.clients)
        shapes[
            tuple(
                (f"{role[a]}-{role[b]}", tuple(sorted(client[c] for c in changed)))
                for (a, b), changed in v.policy_link_outcomes()
            )
        ] += 1
    assert dict(shapes) == {
        (
            ("hub-east", ()),  # east keeps its own site, the hub its customer's
            ("hub-west", ("west",)),  # west's only neighbour among the transits is gone
            ("regional-hub", ("hub", "west")),  # the hub falls back on its peer; no peer's
            ("edge-regional", ("hub", "regional", "west")),  # route goes on to west
        ): len(IDS)
    }


def test_down_drops_the_link_both_ways():
    v = make_variant(6, "s1001")
    hub, west = v.transit_of("hub").name, v.transit_of("west").name
    rel = v.relationships(down=[(west, hub)])
    assert (hub, west) not in rel and (west, hub) not in rel
    assert rel == {p: r for p, r in v.relationships().items() if {hub, west} != set(p)}
    client = next(c.name for c in v.clients if c.transit == west)
    assert v.policy_catchment(down=[(hub, west)])[client] is None
    assert v.policy_changed_if_down((hub, west)) == [client]


def test_the_topologys_reasoning_agrees_with_the_variants():
    """The check's reasoning on the hand-out topology (the fake's too) with each link down."""
    from testbed.labs.lab6 import routing_of

    for sid in IDS[:20]:
        v = make_variant(6, sid)
        dest_topo = starting_topology(LabContext(None, v, None))  # type: ignore[arg-type]
        for link in v.policy_links():
            routing = routing_of(dest_topo, down=[link])
            seen = {c.name: routing.site_of(c.as_) for c in dest_topo.clients}
            assert seen == v.policy_catchment(down=[link])


def test_the_check_draws_with_its_key():
    """Two of the three links that move somebody: every pair occurs, the same on every check."""
    course = keyring(Key(b"a course secret of enough length", "course"))
    pairs = Counter()
    for sid in IDS[:60]:
        v = make_variant(6, sid)
        drawn = lab6.drawn_links(v, course)
        assert drawn == lab6.drawn_links(v, course)
        assert len(drawn) == lab6.DRAWN and set(drawn) <= set(v.policy_moving_cases())
        role, _ = by_role(v)
        pairs[tuple(f"{role[a]}-{role[b]}" for a, b in drawn)] += 1
    assert len(pairs) == 3 and min(pairs.values()) >= 10, pairs


def test_the_timeline_keeps_the_first_phase_and_lets_clients_back():
    v = make_variant(6, "s1001")
    events = lab6.timeline(lab6.drawn_links(v))
    assert [(e["event"], e["state"]) for e in events] == [("link", "down"), ("link", "up")] * 2
    times = [e["at"] for e in events]
    assert times == sorted(times) and times[0] >= lab6.PLAIN_S
    assert all(b - a >= lab6.DOWN_FOR_S for a, b in zip(times, times[1:], strict=False))
    assert times[-1] < lab6.DURATION_S


def test_the_solution_passes_and_the_run_fails_the_drawn_links(tmp_path):
    dest, variant = workcopy(tmp_path, 6, "s1001", solution=True)
    items, fake = check(dest, variant)
    assert not failed(items), [i.line() for i in items if not i.passed]
    events = fake.calls[0]["timeline"]
    drawn = [(e["a"], e["b"]) for e in events if e["state"] == "down"]
    assert drawn == lab6.drawn_links(variant)
    assert fake.calls[0]["duration"] == lab6.DURATION_S
    assert [i.id for i in items][-1] == "if-link-down"


def test_running_the_handout_and_copying_the_report_is_not_enough(tmp_path):
    """The hand-out's run shows the catchment and the missing routes, not the link failures."""
    dest, variant = workcopy(tmp_path, 6, "s1001", solution=True)
    run = student_run(dest, variant)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["events"] == []  # nothing in it about any link
    seen = {c: f["site_before"] for c, f in summary["clients"].items()}
    assert seen == variant.policy_catchment()
    edit(
        dest / "predictions.yaml",
        lambda d: d.update(catchment=seen, if_link_down={k: [] for k in d["if_link_down"]}),
    )
    items, _ = check(dest, variant)
    assert failed(items) == ["if-link-down"]
    bad = next(i for i in items if i.id == "if-link-down")
    assert bad.detail == "not what the network did" and not bad.testbed
    assert "valley-free" in bad.hint


def test_a_wrong_list_for_a_link_the_check_does_not_draw_still_passes(tmp_path):
    dest, variant = workcopy(tmp_path, 6, "s1001", solution=True)
    drawn = {link_key(link) for link in lab6.drawn_links(variant)}
    others = [link_key(k) for k in variant.policy_link_cases() if link_key(k) not in drawn]
    assert len(others) == 2  # hub-east, and the moving link not drawn
    clients = [c.name for c in variant.clients]
    edit(
        dest / "predictions.yaml",
        lambda d: d["if_link_down"].update(dict.fromkeys(others, clients)),
    )
    assert not failed(check(dest, variant)[0])


def test_every_link_needs_a_list(tmp_path):
    dest, variant = workcopy(tmp_path, 6, "s1001", solution=True)
    key = link_key(variant.policy_link_cases()[0])
    edit(dest / "predictions.yaml", lambda d: d["if_link_down"].pop(key))
    items, fake = check(dest, variant)
    bad = next(i for i in items if i.id == "predicted-if-link-down")
    assert not bad.passed and key in bad.detail and not fake.calls
    assert all(i.id == "predicted-if-link-down" or i.passed for i in items[:4])


def test_a_link_that_is_not_one_is_named(tmp_path):
    dest, variant = workcopy(tmp_path, 6, "s1001", solution=True)
    east, west = variant.transit_of("east").name, variant.transit_of("west").name
    edit(dest / "predictions.yaml", lambda d: d["if_link_down"].update({f"{east}-{west}": []}))
    items, fake = check(dest, variant)
    bad = next(i for i in items if i.id == "predicted-if-link-down")
    assert not bad.passed and "is not a link here" in bad.detail and not fake.calls


def test_a_run_against_the_reasoning_is_the_testbeds_failure(tmp_path):
    dest, variant = workcopy(tmp_path, 6, "s1001", solution=True)
    items, _ = check(dest, variant, LinkMovesLost(variant))
    assert failed(items) == ["if-link-down"]
    bad = next(i for i in items if i.id == "if-link-down")
    assert bad.testbed and "check again" in bad.hint
    assert "match-catchment" not in failed(items)  # the first phase is still graded


@pytest.mark.parametrize("student", ["s1001", "s2042", "s3003"])
def test_details_never_name_clients_or_give_counts(tmp_path, student):
    """Whatever is wrong, the item says right or wrong: no client, link, transit or number."""
    dest, variant = workcopy(tmp_path, 6, student, solution=True)
    clients = [c.name for c in variant.clients]
    words = set(clients) | {t.name for t in variant.transits}
    words |= {s.name for s in variant.site.values()}
    drawn = [link_key(link) for link in lab6.drawn_links(variant)]
    spoils = [
        lambda d: d["if_link_down"].update({drawn[0]: clients}),
        lambda d: d["if_link_down"].update({drawn[1]: sorted(d["if_link_down"][drawn[1]])[1:]}),
        lambda d: d.update(if_link_down={k: clients for k in d["if_link_down"]}),
    ]
    original = (dest / "predictions.yaml").read_text()
    for spoil in spoils:
        (dest / "predictions.yaml").write_text(original)
        edit(dest / "predictions.yaml", spoil)
        items, _ = check(dest, variant)
        bad = next(i for i in items if i.id == "if-link-down")
        assert not bad.passed and bad.detail == "not what the network did"
        text = f"{bad.title} {bad.detail} {bad.hint}"
        assert not re.search(r"\d", text)
        assert not words & set(re.findall(r"[\w-]+", text)), text


def test_the_fake_gives_lost_clients_an_outage_until_the_link_is_back():
    """West's client loses its only route: no move, a DNS outage over the whole failure."""
    v = make_variant(6, "s1001")
    hub, west = v.transit_of("hub").name, v.transit_of("west").name
    client = next(c.name for c in v.clients if c.transit == west)
    topo = starting_topology(LabContext(None, v, None))  # type: ignore[arg-type]
    events = lab6.timeline([(hub, west)])
    data = FakeRun(v).data(topo, lab_scenario("x", lab6.DURATION_S, events))
    assert all(not e["moves"] for e in data["events"])
    (outage,) = data["clients"][client]["dns"]["outages"]
    assert outage["start"] >= events[0]["at"]
    assert outage["start"] + outage["duration"] >= events[1]["at"]
    assert all(not f["dns"]["outages"] for c, f in data["clients"].items() if c != client)
