"""Sites' own unicast prefixes (``sites[].unicast``): allocation, checks, the plan (no root)."""

from __future__ import annotations

import copy
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any, Dict

import pytest

from testbed.errors import InputError
from testbed.policy.reach import no_route, own_as_exempt, required_routes
from testbed.speaker.base import SpeakerSpec
from testbed.topology.addressing import UNICAST_POOL, prefix_clash
from testbed.topology.load import load_topology, parse_topology
from testbed.topology.plan import make_plan
from testbed.topology.unicast import default_address, pool_prefix, site_unicast

BASE: Dict[str, Any] = load_topology("two-sites").model_dump(
    by_alias=True, exclude_unset=True, mode="json"
)


def topo(top: Any = None, east: Any = None, west: Any = None, **site0: Any):
    """two-sites with ``unicast`` set at the top and/or on each site."""
    data = copy.deepcopy(BASE)
    if top is not None:
        data["unicast"] = top
    for i, value in ((0, east), (1, west)):
        if value is not None:
            data["sites"][i]["unicast"] = value
    data["sites"][0].update(site0)
    return parse_topology(data, "t.yaml")


def error(*args: Any, **kwargs: Any) -> str:
    with pytest.raises(InputError) as info:
        topo(*args, **kwargs)
    return str(info.value)


# -- allocation -----------------------------------------------------------------


def test_off_unless_asked():
    assert site_unicast(load_topology("two-sites")) == {}
    assert make_plan(load_topology("two-sites")).unicast == {}


def test_auto_takes_a_slash24_of_the_pool_per_site_in_site_order():
    got = site_unicast(topo(top=True))
    assert {s: (str(u.prefix), str(u.address), u.auto) for s, u in got.items()} == {
        "east": ("100.66.0.0/24", "100.66.0.53", True),
        "west": ("100.66.1.0/24", "100.66.1.53", True),
    }
    assert site_unicast(topo(east="auto", west=True)) == got


def test_a_site_setting_wins_over_the_topology_and_auto_counts_only_auto_sites():
    got = site_unicast(topo(top=True, east=False))
    assert list(got) == ["west"] and str(got["west"].prefix) == "100.66.0.0/24"
    given = site_unicast(topo(top=True, east={"prefix": "203.0.113.0/24"}))
    assert str(given["east"].address) == "203.0.113.53" and not given["east"].auto
    assert str(given["west"].prefix) == "100.66.0.0/24"  # the first auto one
    named = site_unicast(topo(east={"prefix": "203.0.113.0/24", "address": "203.0.113.7"}))
    assert list(named) == ["east"] and named["east"].address == IPv4Address("203.0.113.7")


def test_default_address_and_the_pool_end():
    assert default_address(IPv4Network("203.0.113.0/24")) == IPv4Address("203.0.113.53")
    assert default_address(IPv4Network("203.0.113.0/28")) == IPv4Address("203.0.113.1")
    assert default_address(IPv4Network("203.0.113.9/32")) == IPv4Address("203.0.113.9")
    assert pool_prefix(255) == IPv4Network("100.66.255.0/24")
    with pytest.raises(ValueError, match="100.66.0.0/16 exhausted: .* at most 256"):
        pool_prefix(256)


# -- checks ---------------------------------------------------------------------


def test_the_pool_is_reserved_for_every_announced_prefix():
    assert prefix_clash(IPv4Network("100.66.7.0/24")) == (
        f"overlaps the testbed's unicast pool {UNICAST_POOL}"
    )


@pytest.mark.parametrize(
    "east, west, message",
    [
        ({"prefix": "100.66.9.0/24"}, None, "sites[0].unicast.prefix: 100.66.9.0/24 overlaps "
         "the testbed's unicast pool 100.66.0.0/16: choose another prefix (or unicast: auto)"),
        ({"prefix": "192.0.2.0/25"}, None, "sites[0].unicast.prefix: 192.0.2.0/25 overlaps the "
         "anycast prefix 192.0.2.0/24"),
        ({"prefix": "198.18.5.0/24"}, None, "overlaps the testbed's client pool"),
        ({"prefix": "203.0.113.0/24", "address": "203.0.114.1"}, None,
         "sites[0].unicast.address: 203.0.114.1 is not inside 203.0.113.0/24"),
        ({"prefix": "203.0.113.0/24", "address": "203.0.113.255"}, None,
         "is the network or broadcast address of 203.0.113.0/24"),
        ({"prefix": "203.0.113.0/24"}, {"prefix": "203.0.113.128/25"},
         "sites[1].unicast.prefix: 203.0.113.128/25 overlaps sites[0].unicast's 203.0.113.0/24"),
        ({"prefix": "x"}, None, "sites[0].unicast.prefix: Input is not a valid IPv4 network"),
        ({"address": "203.0.113.1"}, None, "sites[0].unicast.prefix: required field is missing"),
        ({"prefix": "203.0.113.0/24", "via": 1}, None, "sites[0].unicast.via: unknown field"),
        (1, None, "sites[0].unicast: must be auto, true, false or a mapping {prefix, address}"),
        ("yes", None, "sites[0].unicast: Input should be 'auto' (got 'yes')"),
    ],
)  # fmt: skip
def test_bad_unicast_settings_are_refused_in_one_line(east, west, message):
    line = error(east=east, west=west)
    assert message in line and "\n" not in line


@pytest.mark.parametrize("speaker", ["ryu", "exabgp"])
def test_every_speaker_kind_announces_a_unicast_prefix(speaker):
    """Ryu and ExaBGP sites take a unicast prefix as FRR sites do, checked the same way."""
    got = site_unicast(topo(top=True, speaker=speaker))
    assert str(got["east"].prefix) == "100.66.0.0/24" and str(got["west"].prefix) == "100.66.1.0/24"
    assert "sites[0].unicast.prefix: 192.0.2.0/25 overlaps the anycast prefix" in error(
        east={"prefix": "192.0.2.0/25"}, speaker=speaker
    )
    assert "is not inside 203.0.113.0/24" in error(
        east={"prefix": "203.0.113.0/24", "address": "203.0.114.1"}, speaker=speaker
    )


# -- the plan -------------------------------------------------------------------


def test_the_site_router_announces_and_blackholes_it_and_routes_the_address_to_its_servers():
    plan = make_plan(topo(top=True, servers=2))
    east = plan.routers["east"]
    assert east.networks == [IPv4Network("192.0.2.0/24"), IPv4Network("100.66.0.0/24")]
    assert east.blackholes == east.networks
    assert east.unicast == IPv4Network("100.66.0.0/24")
    assert east.unicast_address == IPv4Address("100.66.0.53")
    servers = [h.interface.address.ip for h in plan.servers("east")]
    assert [(str(p), h) for p, h in east.statics] == [
        ("192.0.2.53/32", servers[0]),
        ("100.66.0.53/32", servers[0]),
        ("192.0.2.53/32", servers[1]),
        ("100.66.0.53/32", servers[1]),
    ]
    for host in plan.servers("east"):
        assert host.unicast == IPv4Address("100.66.0.53")
        assert host.loopbacks == [IPv4Interface("192.0.2.53/32"), IPv4Interface("100.66.0.53/32")]
    assert plan.hosts["west-1"].unicast == IPv4Address("100.66.1.53")
    assert plan.expected_prefixes()[-2:] == [
        IPv4Network("100.66.0.0/24"),
        IPv4Network("100.66.1.0/24"),
    ]


def test_without_unicast_the_plan_is_as_before():
    plan = make_plan(load_topology("two-sites"))
    assert plan.routers["east"].unicast is None
    assert plan.routers["east"].networks == [IPv4Network("192.0.2.0/24")]
    assert plan.hosts["east-1"].unicast is None
    assert plan.hosts["east-1"].loopbacks == [IPv4Interface("192.0.2.53/32")]


@pytest.mark.parametrize("speaker", ["ryu", "exabgp"])
def test_a_speaker_site_node_holds_its_unicast_address_and_announces_its_prefix(speaker):
    """A Ryu or ExaBGP site node is its own server: the unicast address goes on its loopback
    beside the service address (no static route: it is local), and its speaker is given the
    prefix (the anycast prefix first: what the speaker steers)."""
    plan = make_plan(topo(top=True, speaker=speaker))
    east = plan.routers["east"]
    assert east.networks == [IPv4Network("192.0.2.0/24"), IPv4Network("100.66.0.0/24")]
    assert east.blackholes == east.networks and east.statics == []
    assert east.unicast == IPv4Network("100.66.0.0/24")
    assert east.loopbacks == [IPv4Interface("192.0.2.53/32"), IPv4Interface("100.66.0.53/32")]
    host = plan.hosts["east"]
    assert host.on_router and host.unicast == IPv4Address("100.66.0.53")
    assert host.loopbacks == east.loopbacks
    assert SpeakerSpec.from_router(east).prefixes == ["192.0.2.0/24"]
    # west (an FRR site beside it) takes the next /24; without unicast nothing changes
    assert plan.hosts["west-1"].unicast == IPv4Address("100.66.1.53")
    plain = make_plan(topo(speaker=speaker))
    assert plain.routers["east"].loopbacks == [IPv4Interface("192.0.2.53/32")]
    assert plain.hosts["east"].unicast is None


def test_the_speaker_withdraws_the_anycast_prefix_only():
    plan = make_plan(topo(top=True))
    assert SpeakerSpec.from_router(plan.routers["east"]).prefixes == ["192.0.2.0/24"]


def test_convergence_does_not_wait_for_other_sites_unicast_prefixes_at_a_site():
    """A site drops the other sites' unicast routes (its own AS is in their path)."""
    t = topo(top=True)
    plan = make_plan(t)
    east, west = IPv4Network("100.66.0.0/24"), IPv4Network("100.66.1.0/24")
    assert own_as_exempt(plan) == {"east": {west}, "west": {east}}
    required = required_routes(t, plan)
    assert east in required["ta"] and west in required["ta"]
    assert west not in required["east"] and east in required["east"]
    tables = {r: set(required[r]) for r in required}
    announced = plan.expected_prefixes()
    assert no_route(tables, announced, required, own_as_exempt(plan)) == {
        "policy": {},
        "missing": {},
    }
    # without the exemption they would read as left out by policy
    assert no_route(tables, announced, required)["policy"] == {
        "east": [str(west)],
        "west": [str(east)],
    }


def test_a_limiting_community_makes_the_unicast_prefixes_unpredicted():
    """no-export on east's announcements: tb never hears of east's unicast prefix."""
    t = topo(top=True, communities=["no-export"])
    required = required_routes(t, make_plan(t))
    assert IPv4Network("100.66.0.0/24") not in required["tb"]
    assert IPv4Network("100.66.1.0/24") not in required["ta"]
    assert IPv4Network("192.0.2.0/24") in required["tb"]  # west announces it there
