"""Sites on ExaBGP (``speaker: exabgp``): the third site speaker, driven through the same interface.

One two-sites testbed with every site on ExaBGP (its own config, and the
testbed's API program announcing through ExaBGP's text API) for the whole
module: FRR learns the anycast route from it with the site's AS path and
the client goes there; a withdrawal (a scenario event) moves the client and
``restore`` brings it back; prepending lengthens the path FRR sees; and the
health agent's withdraw, MED and prepend go through the API program.
"""

from __future__ import annotations

import json

import pytest

from testbed.net.build import Testbed
from testbed.scenario.effective import effective_topology
from testbed.scenario.events import Events
from testbed.topology.load import load_topology
from testbed.traffic import Traffic, TrafficParams
from tests.integration.test_events import DIG, wait_for
from tests.integration.test_health_agents import paths_from
from tests.integration.test_health_agents import (
    test_health_agent_action_changes_the_upstreams_rib as health_action_check,
)


@pytest.fixture(scope="module")
def exa(tmp_path_factory):
    """two-sites with both sites on ExaBGP, services up (no probes)."""
    topo = effective_topology(load_topology("two-sites"), topology_overrides={"speaker": "exabgp"})
    with Testbed(topo, tmp_path_factory.mktemp("run")) as tb:
        conv = tb.wait_converged(timeout=60)
        assert conv.converged, conv.missing
        traffic = Traffic(tb, TrafficParams(tcp_streams=0))
        traffic.start_services()
        try:
            yield tb, traffic
        finally:
            traffic.stop()


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
