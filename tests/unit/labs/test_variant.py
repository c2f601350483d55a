"""Per-student variants: deterministic, different, equivalent, and valid topologies."""

from __future__ import annotations

import pytest
import yaml

from testbed.errors import InputError
from testbed.labs import reasoning
from testbed.labs.registry import LABS, get_lab
from testbed.labs.variant import (
    CHAIN,
    CHAINS,
    ISPS,
    LAB6_ROLES,
    LAB7_ISPS,
    LAB7_TRANSITS,
    STRUCTURED,
    check_student,
    diagram,
    make_variant,
    seed_of,
)
from testbed.labs.workcopy import render_text, sources
from testbed.topology.load import parse_topology

NUMBERS = [lab.number for lab in LABS]
MANY = [f"student{n:03d}" for n in range(150)]


@pytest.mark.parametrize("lab", NUMBERS)
def test_same_student_same_variant(lab):
    assert make_variant(lab, "alice") == make_variant(lab, "alice")
    assert seed_of(lab, "alice") == seed_of(lab, "alice")


@pytest.mark.parametrize("lab", NUMBERS)
def test_two_students_differ(lab):
    a, b = make_variant(lab, "alice").as_dict(), make_variant(lab, "bob").as_dict()
    a.pop("student"), b.pop("student")
    assert a != b
    names = lambda d: {s["name"] for s in d["site"].values()}  # noqa: E731
    asns = lambda d: [t["asn"] for t in d["transits"]] + [d["anycast_asn"]]  # noqa: E731
    assert names(a) != names(b) or asns(a) != asns(b)


@pytest.mark.parametrize("lab", NUMBERS)
def test_variants_are_varied(lab):
    """Over many students the roles land in many places (not one answer for all)."""
    shapes = {tuple(s.pos for s in make_variant(lab, sid).site.values()) for sid in MANY}
    assert len(shapes) >= 3


def test_reference_variant_without_a_student():
    assert make_variant(1, None) == make_variant(1, None)
    assert make_variant(1, None).student is None
    assert make_variant(1, None) != make_variant(1, "reference-not")


@pytest.mark.parametrize(
    ("student", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("reference", "reserved"),
        ("Reference", "reserved"),
        ("ann lee", "blanks"),
        ("s1\x00", "control"),
        ("x" * 65, "longer than 64"),
    ],
)
def test_bad_student_ids_are_refused(student, problem):
    """No ID but the missing one gives the reference variant."""
    with pytest.raises(InputError, match=problem) as err:
        make_variant(1, student)
    assert str(err.value).startswith("--student: ") and "\n" not in str(err.value)


def test_good_student_ids():
    for sid in ("s1001", "alice@uni.example", "A-12_b.c", "x" * 64):
        assert check_student(sid) == sid
        assert make_variant(3, sid).student == sid


@pytest.mark.parametrize("lab", NUMBERS)
def test_names_are_unique_and_asns_distinct(lab):
    for sid in MANY:
        v = make_variant(lab, sid)
        names = [t.name for t in v.transits] + [c.name for c in v.clients]
        names += [c.isp for c in v.clients] + [s.name for s in v.site.values()] + ["anycast"]
        assert len(set(names)) == len(names)
        asns = [t.asn for t in v.transits] + [c.isp_asn for c in v.clients] + [v.anycast_asn]
        assert len(set(asns)) == len(asns)
        if lab == 7:  # a longer chain, ISPs drawn onto it
            assert len(v.transits) in LAB7_TRANSITS and len(v.clients) in LAB7_ISPS
        elif lab in STRUCTURED:  # drawn in structure (tests/unit/labs/test_structure.py)
            assert len(v.transits) in CHAINS and ISPS[0] <= len(v.clients) <= ISPS[1]
        else:
            assert len(v.transits) == len(v.clients) == CHAIN


@pytest.mark.parametrize("lab", [1, 3, 4])
def test_two_site_labs_have_no_ties(lab):
    for sid in MANY:
        v = make_variant(lab, sid)
        seen = v.catchment(decided=False)
        assert None not in seen.values(), (sid, v.site)
        assert set(seen.values()) == {s.name for s in v.site.values()}, "each site serves someone"


def test_lab2_min_prepend_is_the_fewest_that_leaves_no_tie():
    for sid in MANY:
        v = make_variant(2, sid)
        need = v.params["min_prepend"]
        assert 1 <= need <= 5
        primary = v.site["primary"].name
        every_primary = v.catchment(prepend={"backup": need}, decided=False)
        assert set(every_primary.values()) == {primary}
        one_less = v.catchment(prepend={"backup": need - 1}, decided=False)
        assert set(one_less.values()) != {primary}  # a tie (None) or a client on the backup


def test_lab5_events_move_different_clients():
    for sid in MANY:
        v = make_variant(5, sid)
        fails, shifts = v.params["fails"], v.params["shifts"]
        assert fails != shifts
        base = v.catchment(decided=False)
        down = v.catchment(*[r for r in v.site if r != fails], decided=False)
        shifted = v.catchment(prepend={shifts: v.params["count"]}, decided=False)
        for seen in (base, down, shifted):
            assert None not in seen.values()
        lost, moved = reasoning.moved(base, down), reasoning.moved(base, shifted)
        assert lost and moved and set(lost) != set(moved)


@pytest.mark.parametrize("solution", [False, True])
@pytest.mark.parametrize("lab", NUMBERS)
def test_rendered_topologies_are_valid(lab, solution):
    item = get_lab(lab)
    for sid in MANY[:15]:
        v = make_variant(lab, sid)
        source = sources(item, solution)["topology.yaml"]
        text = render_text(item, v, source, solution)
        topo = parse_topology(yaml.safe_load(text), "rendered")
        assert [s.name for s in topo.sites][:1] == [next(iter(v.site.values())).name]


def test_diagram_shows_clients_transits_and_sites():
    v = make_variant(5, "alice")
    text = diagram(v)
    for word in [c.name for c in v.clients] + [t.name for t in v.transits]:
        assert word in text
    for site in v.site.values():
        assert f"[{site.name}]" in text
    only = diagram(v, ["a"])
    assert f"[{v.site['b'].name}]" not in only


def test_lab6_policy_differs_from_the_shortest_path_without_ties():
    """Every lab 6 variant teaches the same thing: two clients go elsewhere, two transits lack
    a route, no tie either way."""
    for sid in MANY:
        v = make_variant(6, sid)
        t = {role: v.transit_of(role).name for role in LAB6_ROLES}
        client = {c.transit: c.name for c in v.clients}
        policy, shortest = v.routing(), v.routing(policy=False)
        assert not policy.ties and not shortest.ties
        seen = v.policy_catchment()
        near, far = v.site["near"].name, v.site["far"].name
        assert seen == {
            client[t["hub"]]: far,  # its customer's route, longer than its peer's
            client[t["west"]]: far,  # what the hub passes on
            client[t["east"]]: near,
            client[t["regional"]]: far,
            client[t["edge"]]: far,
        }
        assert sorted(v.not_shortest()) == sorted([client[t["hub"]], client[t["west"]]])
        assert v.no_route() == {
            name: [client[t["west"]]] if role == "east" else [client[t["east"]]]
            if role == "west" else []
            for role, name in t.items()
        }  # fmt: skip


def test_lab6_topology_has_the_variants_relationships():
    from testbed.labs.lab6 import catchment_of
    from testbed.topology.relationships import as_relationships

    item = get_lab(6)
    for sid in MANY[:10]:
        v = make_variant(6, sid)
        text = render_text(item, v, sources(item)["topology.yaml"])
        topo = parse_topology(yaml.safe_load(text), "rendered")
        rel = {p: r for p, r in as_relationships(topo).items() if "anycast" not in p}
        assert rel == v.relationships()
        assert catchment_of(topo) == v.policy_catchment()
        assert catchment_of(topo, policy=False) == v.policy_catchment(policy=False)


def test_lab6_diagram_shows_roles_and_sites():
    v = make_variant(6, "alice")
    text = diagram(v)
    hub, east, west = (v.transit_of(r).name for r in ("hub", "east", "west"))
    top = text.splitlines()[0].split()
    assert top[::2] == [west, hub, east] and all(set(x) == {"="} for x in top[1::2])
    for t in v.transits:
        assert t.name in text and f"AS{t.asn}" in text
    for site in v.site.values():
        assert f"[{site.name}]" in text
