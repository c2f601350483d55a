"""The topology model: durations, timers, names, name lookups."""

import gc

import pytest
from pydantic import ValidationError

from testbed.topology.model import AS, BgpTimers, LinkParams, Site, Topology, parse_ms


@pytest.mark.parametrize(
    "text,ms",
    [("20ms", 20.0), ("0.5s", 500.0), ("250us", 0.25), (7, 7.0), ("3", 3.0), (None, None)],
)
def test_parse_ms(text, ms):
    assert parse_ms(text) == ms


@pytest.mark.parametrize("bad", ["fast", "-3ms", "10 parsecs", -1])
def test_parse_ms_rejects(bad):
    with pytest.raises(ValueError):
        parse_ms(bad)


def test_hold_must_cover_three_keepalives():
    with pytest.raises(ValidationError, match="at least 3 x keepalive"):
        BgpTimers(keepalive=5, hold=9)
    assert BgpTimers(keepalive=3, hold=9).hold == 9


def test_timer_defaults_are_short_and_explicit():
    t = BgpTimers()
    assert (t.keepalive, t.hold, t.mrai, t.connect_retry) == (1, 3, 0, 1)


@pytest.mark.parametrize("name", ["Paris", "1abc", "a_b", "toolongname1", "end-", "x y"])
def test_unsafe_names_rejected(name):
    with pytest.raises(ValidationError):
        AS(name=name, asn=1, role="transit")


def test_site_names_are_at_most_eight_characters():
    with pytest.raises(ValidationError):
        Site(name="ninechars", upstream="na")
    assert Site(name="eightchr", upstream="na").upstreams() == ["na"]


def test_router_defaults_to_the_as_name_and_anycast_has_none():
    assert AS(name="na", asn=1, role="transit").router_names() == ["na"]
    assert AS(name="na", asn=1, role="transit", routers=["na1", "na2"]).router_names() == [
        "na1",
        "na2",
    ]
    assert AS(name="any", asn=2, role="anycast").router_names() == []


def test_link_params_shaped():
    assert not LinkParams().shaped()
    assert LinkParams(delay="5ms").shaped()
    assert LinkParams(delay="5ms", jitter="1ms").jitter_ms() == 1.0


def _small() -> Topology:
    return Topology.model_validate(
        {
            "name": "t",
            "ases": [
                {"name": "tr", "asn": 65001, "role": "transit", "routers": ["r1", "r2"]},
                {"name": "eb", "asn": 65002, "role": "eyeball"},
                {"name": "any", "asn": 65000, "role": "anycast"},
            ],
            "sites": [{"name": "s1", "upstream": "r1"}],
        }
    )


def test_name_lookups_are_built_once_and_follow_changes():
    topo = _small()
    assert topo.as_by_name("eb") is topo.ases[1] and topo.as_by_name("nope") is None
    assert {k: v.name for k, v in topo.router_as().items()} == {
        "r1": "tr",
        "r2": "tr",
        "eb": "eb",
        "s1": "any",
    }
    assert topo.router_index() is not topo.router_index()  # read-only views ...
    assert topo.router_index()["r1"] is topo.router_as()["r1"]  # ... of one map
    with pytest.raises(TypeError):
        topo.router_index()["x"] = topo.ases[0]  # type: ignore[index]
    mine = topo.router_as()
    mine.clear()  # router_as is the caller's copy
    assert "r1" in topo.router_as()
    # a grown list and an assigned field are seen
    topo.ases.append(AS(name="late", asn=65003, role="eyeball"))
    assert topo.as_by_name("late") is not None and "late" in topo.router_index()
    topo.sites = []
    assert "s1" not in topo.router_index()
    # copies and equality are unaffected by the lookups
    other = _small()
    fresh = _small()
    other.router_as()
    assert other == fresh and other.model_copy(deep=True) == fresh


def test_lookups_are_not_kept_for_collected_topologies():
    from testbed.topology import model

    topo = _small()
    key = id(topo)
    assert key not in model._INDEXES
    topo.router_as()
    assert key in model._INDEXES
    del topo
    gc.collect()
    assert key not in model._INDEXES
