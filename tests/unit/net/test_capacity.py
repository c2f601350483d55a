"""A site's capacity and load counters as tc and nftables commands.

Golden files pin what ``world-ddos`` renders for every site (tc commands and
the nftables table), without and with a unicast prefix per site
(``unicast/``); refresh them after an intended change with
``UPDATE_GOLDEN=1 pytest tests/unit/net/test_capacity.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from testbed.net.capacity import (
    IFB,
    SiteLoadPlan,
    describe,
    nft_ruleset,
    policer_burst,
    site_load_plans,
    tbf_burst,
    tc_commands,
)
from testbed.scenario.effective import effective_topology
from testbed.topology.load import load_topology
from testbed.topology.model import Capacity
from testbed.topology.plan import make_plan

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "capacity"
DDOS = make_plan(load_topology("world-ddos"))
#: world-ddos with a unicast prefix per site (100.66.K.0/24, K in site order)
DDOS_UNICAST = make_plan(
    effective_topology(load_topology("world-ddos"), topology_overrides={"unicast": True})
)


def _golden(name: str, got: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got)
    assert got == path.read_text()


@pytest.mark.parametrize("site", [s.site for s in site_load_plans(DDOS)])
def test_world_ddos_golden(site):
    plan = next(p for p in site_load_plans(DDOS) if p.site == site)
    _golden(f"{site}.tc", "\n".join(tc_commands(plan)) + "\n")
    _golden(f"{site}.nft", nft_ruleset(plan))


@pytest.mark.parametrize("site", [s.site for s in site_load_plans(DDOS_UNICAST)])
def test_world_ddos_unicast_golden(site):
    plan = next(p for p in site_load_plans(DDOS_UNICAST) if p.site == site)
    _golden(f"unicast/{site}.tc", "\n".join(tc_commands(plan)) + "\n")
    _golden(f"unicast/{site}.nft", nft_ruleset(plan))


def test_unicast_traffic_is_the_sites_load():
    """Traffic to a site's unicast prefix takes the same queue and policer as traffic to the
    anycast prefix and is counted in the same counters: a site's capacity is the site's,
    whichever address its clients reach it on."""
    plans = {p.site: p for p in site_load_plans(DDOS_UNICAST)}
    assert [str(p) for p in plans["tyo"].prefixes] == ["192.0.2.0/24", "100.66.2.0/24"]
    assert site_load_plans(DDOS)[2].prefixes == [IPv4Network("192.0.2.0/24")]
    redirects = [c for c in tc_commands(plans["tyo"]) if "mirred egress redirect" in c]
    assert [c.split()[15] for c in redirects] == ["192.0.2.0/24", "100.66.2.0/24"]
    assert all(f"redirect dev {IFB}" in c for c in redirects)  # the one queue
    both = "{ 192.0.2.0/24, 100.66.0.0/24 }"
    plan = SiteLoadPlan(
        "x",
        ["x-e0", "x-e1"],
        IPv4Network("192.0.2.0/24"),
        Capacity(bandwidth=3, packets=700),
        unicast=IPv4Network("100.66.0.0/24"),
    )
    redirects = [c for c in tc_commands(plan) if "mirred egress redirect" in c]
    assert [(c.split()[4], c.split()[15]) for c in redirects] == [
        ("x-e0", "192.0.2.0/24"),
        ("x-e0", "100.66.0.0/24"),
        ("x-e1", "192.0.2.0/24"),
        ("x-e1", "100.66.0.0/24"),
    ]
    text = nft_ruleset(plan)
    assert f"    ip daddr {both} ip saddr != @attackers counter name legit\n" in text
    assert f"    ip daddr {both} ip saddr @attackers counter name attack\n" in text
    assert f"    ip daddr {both} limit rate over 700/second burst 35 packets" in text  # one budget
    # the recorder's counters are the same, by name
    assert text.replace(both, "192.0.2.0/24") == nft_ruleset(
        SiteLoadPlan("x", ["x-e0", "x-e1"], IPv4Network("192.0.2.0/24"), plan.capacity)
    )


def test_a_speaker_site_node_counts_its_unicast_prefix_too():
    """A Ryu or ExaBGP site node is its own server: its unicast prefix is queued and counted."""
    topo = effective_topology(
        load_topology("world-ddos"), topology_overrides={"unicast": True, "speaker": "exabgp"}
    )
    tyo = next(p for p in site_load_plans(make_plan(topo)) if p.site == "tyo")
    assert tyo.servers == [("tyo", None)] and str(tyo.unicast) == "100.66.2.0/24"
    assert "ip daddr { 192.0.2.0/24, 100.66.2.0/24 } ip saddr != @attackers" in nft_ruleset(tyo)


def test_plans_name_uplinks_and_attack_sources():
    plans = {p.site: p for p in site_load_plans(DDOS)}
    assert sorted(plans) == ["gru", "lon", "nyc", "tyo"]
    assert plans["tyo"].uplinks == ["tyo-e0"]
    assert plans["tyo"].capacity == Capacity(bandwidth=2)
    # the two attack sources' addresses, the same at every site
    assert [str(a) for a in plans["nyc"].attackers] == ["198.18.4.6", "198.18.5.6"]


def test_bandwidth_is_one_queue_fed_by_every_uplink():
    plan = SiteLoadPlan("x", ["x-e0", "x-e1"], IPv4Network("192.0.2.0/24"), Capacity(bandwidth=10))
    cmds = tc_commands(plan)
    assert cmds[0] == f"ip link add {IFB} type ifb"
    assert (
        f"tc qdisc replace dev {IFB} root handle 1: tbf rate 10mbit burst 5000 latency 50ms" in cmds
    )
    redirects = [c for c in cmds if "mirred egress redirect" in c]
    assert [c.split()[4] for c in redirects] == ["x-e0", "x-e1"]
    assert all("match ip dst 192.0.2.0/24" in c for c in redirects)


def test_packet_rate_is_a_policer_only():
    plan = SiteLoadPlan("x", ["x-e0"], IPv4Network("192.0.2.0/24"), Capacity(packets=5000))
    assert tc_commands(plan) == []
    text = nft_ruleset(plan)
    assert "limit rate over 5000/second burst 250 packets counter name policed drop" in text


def test_counters_without_capacity_or_attackers():
    plan = SiteLoadPlan("x", ["x-e0"], IPv4Network("192.0.2.0/24"))
    text = nft_ruleset(plan)
    assert "elements" not in text and "limit" not in text
    assert "counter name legit" in text and "counter name answered_legit" in text


def test_bursts_and_words():
    assert tbf_burst(10) == 5000 and tbf_burst(1) == 3028 and tbf_burst(1000) == 500000
    assert policer_burst(5000) == 250 and policer_burst(10) == 5
    assert describe(None) == "unlimited"
    assert describe(Capacity(bandwidth=2, packets=900, queue=20)) == (
        "2 Mbit/s (queue 20 ms), 900 packets/s"
    )


@pytest.mark.skipif(shutil.which("nft") is None, reason="nft not installed")
def test_nft_accepts_the_ruleset():
    """nft's own parser (``--check``: nothing is loaded) takes every rendered table."""
    plan = SiteLoadPlan(
        "x",
        ["x-e0"],
        IPv4Network("192.0.2.0/24"),
        Capacity(bandwidth=3, packets=700),
        [IPv4Address("198.18.0.2")],
    )
    plans = [*site_load_plans(DDOS), *site_load_plans(DDOS_UNICAST)]
    for text in (nft_ruleset(plan), *(nft_ruleset(p) for p in plans)):
        done = subprocess.run(
            ["nft", "--check", "-f", "-"], input=text, capture_output=True, text=True
        )
        if done.returncode != 0 and "Operation not permitted" in done.stderr:
            pytest.skip("nft --check needs CAP_NET_ADMIN")
        assert done.returncode == 0, done.stderr


def test_answers_are_counted_per_server():
    """Each server's answers are counted where they leave: through its link, or locally."""
    topo = load_topology("world-ddos")
    data = topo.model_dump(by_alias=True, exclude_unset=True, mode="json")
    data["sites"][0]["servers"] = 2  # nyc: two servers
    data["sites"][1]["speaker"] = "exabgp"  # lon: the site node is its own server
    from testbed.topology.load import parse_topology

    plans = {p.site: p for p in site_load_plans(make_plan(parse_topology(data, "t")))}
    assert plans["nyc"].servers == [("nyc-1", "nyc-e1"), ("nyc-2", "nyc-e2")]
    nyc = nft_ruleset(plans["nyc"])
    assert 'iifname "nyc-e2" ip saddr 192.0.2.0/24 udp sport 53 counter name served_2' in nyc
    assert plans["lon"].servers == [("lon", None)]
    lon = nft_ruleset(plans["lon"])
    local = lon[lon.index("chain local_answers") :]
    assert "    ip saddr 192.0.2.0/24 udp sport 53 counter name served_1" in local
    assert "served_1" not in lon[lon.index("chain answers") : lon.index("chain local_answers")]
