"""Sites on ExaBGP (``speaker: exabgp``): the third site speaker, driven through the same interface.

One two-sites testbed with every site on ExaBGP (its own config, and the
testbed's API program announcing through ExaBGP's text API) and a unicast
prefix per site (``unicast: true``) for the whole module: FRR learns the
anycast route from it with the site's AS path and the client goes there; a
withdrawal (a scenario event) moves the client and ``restore`` brings it
back; prepending lengthens the path FRR sees; the health agent's withdraw,
MED and prepend go through the API program; and each site's unicast prefix
reaches every router and client and stays through the actions on the
anycast prefix, so a ``hybrid`` connection on it survives a withdrawal.

The unicast checks are plain functions, shared with the Ryu module
(``test_ryu_speaker.py``).
"""

from __future__ import annotations

import json
import time
from ipaddress import IPv4Network
from typing import Any, List

import pytest

from testbed.net import frr
from testbed.net.build import Testbed
from testbed.net.capacity import site_load_plans
from testbed.probes.kinds import ProbeContext, kind_class
from testbed.records import read_records
from testbed.scenario.effective import effective_topology
from testbed.scenario.events import Events
from testbed.services.http import probe_command
from testbed.topology.load import load_topology
from testbed.traffic import TrafficParams, TrafficRun, load_recorder_argv
from tests.integration.test_events import DIG, wait_for
from tests.integration.test_health_agents import paths_from
from tests.integration.test_health_agents import (
    test_health_agent_action_changes_the_upstreams_rib as health_action_check,
)

#: What the speaker modules' testbeds run: nginx and the unicast stream service beside NSD
#: and the stream service (what ``hybrid`` needs), no probes unless a test starts one.
SERVICES = TrafficParams(tcp_streams=0, kinds=("dns", "hybrid"))
#: two-sites with ``unicast: true``: east 100.66.0.0/24, west 100.66.1.0/24 (``.53`` on the node).
UNICAST = {"east": ("100.66.0.0/24", "100.66.0.53"), "west": ("100.66.1.0/24", "100.66.1.53")}


def speaker_sites(tmp_path_factory, speaker: str) -> Any:
    """two-sites with every site on ``speaker`` and a unicast prefix each, services up."""
    overrides = {"speaker": speaker, "unicast": True}
    topo = effective_topology(load_topology("two-sites"), topology_overrides=overrides)
    with Testbed(topo, tmp_path_factory.mktemp("run")) as tb:
        conv = tb.wait_converged(timeout=60)  # every router has both unicast prefixes too
        assert conv.converged, conv.missing
        traffic = TrafficRun(tb, SERVICES)
        traffic.start_services()  # nginx answers on each site node's unicast address
        try:
            yield tb, traffic
        finally:
            traffic.stop()


@pytest.fixture(scope="module")
def exa(tmp_path_factory):
    """two-sites with both sites on ExaBGP and their unicast prefixes, services up (no probes)."""
    yield from speaker_sites(tmp_path_factory, "exabgp")


# -- the sites' unicast prefixes (shared with test_ryu_speaker.py) ---------------------------


def unicast_paths(router: str, site: str) -> List[str]:
    """The AS paths ``router`` has for ``site``'s unicast prefix."""
    prefix = UNICAST[site][0]
    rib = json.loads(frr.vtysh(router, f"show bgp ipv4 unicast {prefix} json") or "{}")
    return [p["aspath"]["string"] for p in rib.get("paths", [])]


def reached(tb: Testbed, client: str, site: str) -> str:
    """What nginx on ``site``'s unicast address answers ``client`` (``200 SITE``)."""
    return tb.cmd(client, probe_command(UNICAST[site][1])).strip()


def assert_unicast_everywhere(tb: Testbed) -> None:
    """Every FRR router has both unicast prefixes, and both clients reach both sites on them."""
    wanted = [IPv4Network(prefix) for prefix, _ in UNICAST.values()]
    for router, table in tb.routes(wanted).items():
        assert set(wanted) <= set(table), (router, table)
    for client in ("ca", "cb"):
        for site in UNICAST:
            assert reached(tb, client, site) == f"200 {site}", (client, site)


def check_unicast_reaches_every_router_and_client(tb: Testbed) -> None:
    assert_unicast_everywhere(tb)
    assert unicast_paths("ta", "east") == ["64500"]  # from east itself
    status = tb.speaker("east").status()
    assert status["announced"] is True and status["unicast"] == UNICAST["east"][0]
    records = [json.loads(x) for x in (tb.run_dir / "records/speaker-east.jsonl").open()]
    assert records[0]["event"] == "start" and records[0]["unicast"] == UNICAST["east"][0]
    assert [r["prefix"] for r in records if r["event"] == "announce"][:2] == [
        "192.0.2.0/24",
        UNICAST["east"][0],
    ]


def check_actions_keep_the_unicast_prefix(tb: Testbed, traffic: TrafficRun, communities: bool):
    """withdraw, prepend, MED (and communities where the speaker has them) steer the anycast
    prefix: east's unicast prefix stays at every router, and ca reaches east on it."""
    events = Events(tb, traffic)
    events.withdraw("east")
    try:
        wait_for(lambda: tb.site_of("ca") == "west", 10, "ca moves to west (anycast)")
        assert tb.cmd("ca", DIG).strip() == '"west"'
        assert_unicast_everywhere(tb)  # ca still reaches east on east's unicast address
        assert unicast_paths("ta", "east") == ["64500"]
        assert tb.speaker("east").status()["announced"] is False
        events.restore("east")
        wait_for(lambda: tb.site_of("ca") == "east", 10, "ca back at east")
        events.prepend("east", 2)
        wait_for(lambda: tb.site_of("ca") == "west", 10, "ca moves to west (prepended)")
        events.med("east", 500)
        if communities:
            events.set_communities("east", ["64500:100"])
        wait_for(
            lambda: "64500 64500 64500" in unicast_paths("ta", "east"),
            10,
            "east's unicast route carries the policy, as on an FRR site",
        )
        assert_unicast_everywhere(tb)
    finally:
        events.restore("east")
    wait_for(lambda: tb.site_of("ca") == "east", 10, "ca back at east")
    wait_for(lambda: unicast_paths("ta", "east") == ["64500"], 10, "east's policy undone")


def check_hybrid_survives_a_withdrawal(tb: Testbed, traffic: TrafficRun) -> None:
    """A hybrid connection (a redirect at the anycast address, then a stream on east's unicast
    address) stays up while east withdraws the anycast prefix and ca moves to west; east's
    load recorder counts that stream as east's legitimate load meanwhile (nothing else
    reaches east then: its anycast catchment is empty)."""
    records = (tb.run_dir / "records").resolve()
    logs = tb.run_dir / "logs"
    (east,) = [p for p in site_load_plans(tb.plan) if p.site == "east"]
    argv = load_recorder_argv("east", east.uplinks, [n for n, _ in east.servers], records)
    recorder = tb.spawn("east", argv, "load-recorder", logs / "load-east.log")
    ctx = ProbeContext(tb.topo, tb.plan, "ca", traffic.params, records)
    argv = kind_class("hybrid")().argv(ctx)
    probe = tb.spawn("ca", argv, "hybrid-probe", logs / "hybrid-probe-ca.log")
    path = records / "hybrid-ca.jsonl"

    def events_seen() -> List[str]:
        return [r["event"] for r in read_records(path)] if path.exists() else []

    events = Events(tb, traffic)
    try:
        wait_for(lambda: "connected" in events_seen(), 10, "hybrid connected on east's unicast")
        events.withdraw("east")
        wait_for(lambda: tb.site_of("ca") == "west", 10, "ca moves to west (anycast)")
        wait_for(lambda: tb.cmd("ca", DIG).strip() == '"west"', 5, "west answers the anycast")
        withdrawn = time.time()
        # longer than the probe's timeout: a connection that lost its route would time out
        time.sleep(traffic.params.tcp_timeout + 0.5)
        back = time.time()
    finally:
        events.restore("east")
    wait_for(lambda: tb.site_of("ca") == "east", 10, "ca back at east")
    tb.stop_process(probe, grace=5.0)
    tb.stop_process(recorder, grace=3.0)
    samples = [r for r in read_records(records / "load-east.jsonl") if withdrawn <= r["t"] <= back]
    legit = samples[-1]["legit_packets"] - samples[0]["legit_packets"]
    # one message every tcp_interval (0.2 s) for 3 s and more, its answers' ACKs besides
    assert legit >= 10 and samples[-1]["attack_packets"] == 0, samples
    got = list(read_records(path))
    resolved = [r for r in got if r["event"] == "resolved"]
    assert [(r["site"], r["address"]) for r in resolved] == [("east", UNICAST["east"][1])], got
    broken = [r for r in got if r["event"] in ("reset", "timeout", "eof", "unrecovered")]
    assert not broken, got
    assert [r["event"] for r in got][-1] == "closed", got  # up until the probe stopped it
    outcome = kind_class("hybrid").outcome(got)
    assert outcome.flows == outcome.survived == 1, outcome


def aspaths(router: str = "ta") -> list:
    return [p["aspath"]["string"] for p in paths_from(router, "64500")]


def test_frr_learns_the_route_from_the_exabgp_site(exa):
    tb, _ = exa
    assert tb.bgp_sessions("ta")["east"] == "Established"
    assert tb.bgp_sessions("east") == {"ta": "Established"}
    (path,) = paths_from("ta", "64500")
    assert path["aspath"]["string"] == "64500" and path["bestpath"]["overall"]
    assert tb.site_of("ca") == "east" and tb.site_of("cb") == "west"
    assert tb.cmd("ca", DIG).strip() == '"east"'
    assert tb.speaker("east").status()["announced"] is True
    assert len(tb.speaker("east").processes()) == 1  # ExaBGP itself, tracked as "speaker"
    conf = (tb.run_dir / "speakers" / "east" / "exabgp.conf").read_text()
    assert "hold-time 3;" in conf and "processes [ anycast ];" in conf
    records = [json.loads(x) for x in (tb.run_dir / "records/speaker-east.jsonl").open()]
    events = [r["event"] for r in records]
    assert events[:2] == ["start", "announce"] and "peer_up" in events
    assert records[0]["library"] == "exabgp"


def test_a_withdrawal_moves_the_client_and_restore_brings_it_back(exa):
    tb, traffic = exa
    events = Events(tb, traffic)
    assert events.withdraw("east")["speaker"] == "exabgp"
    try:
        wait_for(lambda: aspaths() == [], 10, "east's route withdrawn at ta")
        wait_for(lambda: tb.site_of("ca") == "west", 5, "ca moves to west")
    finally:
        events.restore("east")
    wait_for(lambda: aspaths() == ["64500"], 10, "east's route back at ta")
    wait_for(lambda: tb.site_of("ca") == "east", 5, "ca back at east")


def test_prepending_lengthens_the_path_frr_sees(exa):
    tb, traffic = exa
    events = Events(tb, traffic)
    events.prepend("east", 2)
    try:
        wait_for(lambda: aspaths() == ["64500 64500 64500"], 10, "east's route prepended")
        wait_for(lambda: tb.site_of("ca") == "west", 5, "ca moves to west (shorter path)")
        assert tb.speaker("east").status()["prepend"] == 2
    finally:
        events.restore("east")
    wait_for(lambda: aspaths() == ["64500"], 10, "east's path back to one AS")
    wait_for(lambda: tb.site_of("ca") == "east", 5, "ca back at east")


@pytest.mark.parametrize("action", ["withdraw", "med", "prepend"])
def test_the_health_agents_actions_go_through_exabgp(exa, action, tmp_path):
    """The same check as for FRR and Ryu sites (test_health_agents.py)."""
    health_action_check(exa, action, tmp_path)


def test_the_unicast_prefixes_reach_every_router_and_client(exa):
    check_unicast_reaches_every_router_and_client(exa[0])


def test_the_unicast_prefix_stays_through_the_actions_on_the_anycast_prefix(exa):
    check_actions_keep_the_unicast_prefix(*exa, communities=True)


def test_a_hybrid_connection_survives_a_withdrawal_of_its_site(exa):
    check_hybrid_survives_a_withdrawal(*exa)


def test_a_crashed_exabgp_is_restarted_by_restore(exa):
    tb, traffic = exa
    events = Events(tb, traffic)
    killed = events.fail_site("east", "router-crash")["killed"]
    assert killed == ["speaker"]
    try:
        wait_for(lambda: aspaths() == [], 10, "east's session dropped at ta")
    finally:
        events.restore("east")
    wait_for(lambda: aspaths() == ["64500"], 15, "east announced again after the restart")
    assert tb.bgp_sessions("east") == {"ta": "Established"}
