"""Services, probes and recorders on world with real NSD, FRR and TCP: who answers whom.

The world testbed comes up with NSD and the stream service on every site,
the route and BGP recorders, and a DNS and a TCP probe on every client;
the tests read the records the probes and recorders wrote.  A two-sites
variant checks that a configured ``service`` address is the one served and
probed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from testbed.net.build import Testbed
from testbed.records import read_records
from testbed.scenario.events import Events
from testbed.topology.load import load_topology
from testbed.traffic import TrafficParams, TrafficRun
from tests.integration.helpers import cli
from tests.world import WORLD_CATCHMENT

WARMUP = 4.0


@pytest.fixture(scope="module")
def world_traffic(tmp_path_factory):
    """world up with traffic running for a few seconds."""
    with Testbed(load_topology("world"), tmp_path_factory.mktemp("run")) as tb:
        assert tb.wait_converged(timeout=60).converged
        traffic = TrafficRun(tb, TrafficParams(dns_rate=20, tcp_streams=2))
        try:
            traffic.start()
            time.sleep(WARMUP)
            yield tb, traffic
        finally:
            traffic.stop()


def records(traffic: TrafficRun, name: str) -> list:
    return list(read_records(Path(traffic.records) / name))


def test_each_client_is_answered_by_its_expected_site(world_traffic):
    _, traffic = world_traffic
    for client, site in WORLD_CATCHMENT.items():
        recs = records(traffic, f"dns-{client}.jsonl")
        answered = [r for r in recs if r["status"] == "ok"]
        assert len(answered) >= WARMUP * 20 * 0.8, (client, len(answered))
        assert {r["site"] for r in answered} == {site}, client
        assert all(r["rcode"] == "NOERROR" for r in answered)
        assert not [r for r in recs if r["status"] == "timeout"], client


def test_exec_dig_nsid_names_the_site(world_traffic):
    done = cli(
        "exec", "paris", "--", "dig", "+short", "+nsid", "@192.0.2.53", "CH", "TXT", "id.server"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '"lon"'
    done = cli("exec", "sydney", "--", "dig", "+nsid", "@192.0.2.53", "q.probe.anycast.test")
    assert 'NSID: 74 79 6f ("tyo")' in done.stdout, done.stdout


def test_tcp_streams_connect_to_the_expected_site_and_stay_up(world_traffic):
    _, traffic = world_traffic
    for client, site in WORLD_CATCHMENT.items():
        recs = records(traffic, f"tcp-{client}.jsonl")
        connected = [r for r in recs if r["event"] == "connected"]
        assert sorted(r["stream"] for r in connected) == [0, 1], (client, recs[:4])
        assert {r["site"] for r in connected} == {site}
        assert not [r for r in recs if r["event"] in ("reset", "timeout", "eof")], client
        rtts = [r for r in recs if r["event"] == "rtt"]
        assert rtts and all(r["count"] >= 1 for r in rtts)


def test_route_recorder_sees_the_anycast_route_on_every_router(world_traffic):
    tb, traffic = world_traffic
    initial = [r for r in records(traffic, "routes.jsonl") if r["change"] == "initial"]
    assert {r["router"] for r in initial} == set(tb.plan.routers)
    for r in initial:
        assert r["prefix"] == "192.0.2.0/24" and r["nexthops"], r
    paris_isp = next(r for r in initial if r["router"] == "isppar")
    assert paris_isp["via"] == ["eu"]


def test_bgp_recorder_has_every_session_established(world_traffic):
    tb, traffic = world_traffic
    states = [r for r in records(traffic, "bgp.jsonl") if r["event"] == "state"]
    established = {(r["router"], r["peer"]) for r in states if r["state"] == "Established"}
    sessions = {(name, n.peer) for name, r in tb.plan.routers.items() for n in r.neighbors}
    assert sessions <= established, sessions - established


def test_withdrawals_and_route_changes_are_recorded_per_message(world_traffic):
    tb, traffic = world_traffic
    events = Events(tb, traffic)
    upstreams = [n.peer for n in tb.plan.routers["lon"].neighbors]
    t0 = time.time()
    events.withdraw("lon")
    time.sleep(2)
    traffic.bgp.snapshot()
    events.restore("lon")
    time.sleep(2)
    traffic.bgp.snapshot()
    bgp = [r for r in records(traffic, "bgp.jsonl") if r["t"] >= t0 - 0.5]
    withdrawn = {(r["router"], r["peer"]) for r in bgp if r["event"] == "withdraw"}
    assert {(up, "lon") for up in upstreams} <= withdrawn, withdrawn
    assert all(r["prefix"] == "192.0.2.0/24" for r in bgp if r["event"] == "withdraw")
    for up in upstreams:
        last = [
            r for r in bgp if r["event"] == "counters" and (r["router"], r["peer"]) == (up, "lon")
        ]
        assert last and last[-1]["withdrawals_in"] >= 1, last
        assert last[-1]["state"] == "Established" and last[-1]["hold"] == 3.0
    # routes: lon's upstream left lon's route and came back to it, each change one record
    moves = [
        r for r in records(traffic, "routes.jsonl")
        if r["router"] == "eu" and r["t"] >= t0 and r["change"] != "initial"
    ]  # fmt: skip
    assert len(moves) >= 2, moves
    assert moves[0]["via"] != ["lon"] and moves[-1]["via"] == ["lon"], moves
    assert not any(r.get("resync") for r in moves)


def test_killing_lons_nsd_blackholes_its_clients_and_nothing_else(world_traffic):
    tb, traffic = world_traffic
    events = Events(tb, traffic)
    t_kill = time.time()
    events.kill_service("lon", "dns")
    time.sleep(3)
    t_check = time.time()
    events.restore("lon")
    time.sleep(1.5)
    for client, site in WORLD_CATCHMENT.items():
        recs = [
            r
            for r in records(traffic, f"dns-{client}.jsonl")
            if t_kill + 0.1 < r["t"] < t_check - 1.0  # sent while lon's NSD was dead
        ]
        statuses = {r["status"] for r in recs}
        assert recs, client
        if site == "lon":
            assert statuses == {"timeout"}, (client, statuses)
            assert tb.site_of(client) == "lon"  # the route stays: a blackhole
        else:
            assert statuses == {"ok"}, (client, statuses)
    # and after the restore lon answers again
    last = records(traffic, "dns-paris.jsonl")[-5:]
    assert any(r["status"] == "ok" and r["site"] == "lon" for r in last), last
    # TCP was never touched: no stream anywhere broke (since the kill: an earlier
    # test of this module moved lon's clients, and their streams were reset then)
    for client in WORLD_CATCHMENT:
        tcp = [r for r in records(traffic, f"tcp-{client}.jsonl") if r["t"] >= t_kill]
        assert not [r for r in tcp if r["event"] in ("reset", "timeout", "eof")], client
