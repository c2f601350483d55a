"""Ryu site speakers peering with FRR, and health agents acting on the upstream's RIB.

Real FRR, NSD, Ryu (or os-ken) and probes on two-sites: a Ryu speaker's
route reaches the upstream's RIB and the client's catchment; a health agent
withdraws, demotes by MED or prepends when its site's services die; and the
site-failure and blackhole-healthcheck scenarios meet their expectations
with ``--set speaker=ryu``.
"""

from __future__ import annotations

import json
import signal
import sys
import time

import pytest

from testbed.net import frr
from testbed.net.build import Testbed
from testbed.scenario.load import effective_topology
from testbed.topology.load import load_topology
from testbed.traffic import Traffic, TrafficParams
from tests.integration.helpers import cli
from tests.integration.test_events import DIG, wait_for
from tests.integration.test_scenarios import SHORT, run


def paths_from(router: str, peer_as: str) -> list:
    """The anycast-prefix paths a router has whose AS path starts with ``peer_as``."""
    rib = json.loads(frr.vtysh(router, "show bgp ipv4 unicast 192.0.2.0/24 json"))
    return [p for p in rib.get("paths", []) if p["aspath"]["string"].startswith(peer_as)]


def test_ryu_speaker_peers_with_frr_and_attracts_its_clients(tmp_path):
    topo = effective_topology(load_topology("two-sites"), topology_overrides={"speaker": "ryu"})
    with Testbed(topo, tmp_path) as tb:
        assert tb.wait_converged(timeout=60).converged
        assert tb.bgp_sessions("ta")["east"] == "Established"
        assert tb.bgp_sessions("east") == {"ta": "Established"}
        (path,) = paths_from("ta", "64500")
        assert path["aspath"]["string"] == "64500" and path["bestpath"]["overall"]
        assert tb.site_of("ca") == "east" and tb.site_of("cb") == "west"
        traffic = Traffic(tb, TrafficParams(tcp_streams=0))
        try:
            traffic.start_services()
            assert tb.cmd("ca", DIG).strip() == '"east"'
        finally:
            traffic.stop()
        records = [json.loads(x) for x in (tmp_path / "records/speaker-east.jsonl").open()]
        events = [r["event"] for r in records]
        assert events[:2] == ["start", "announce"] and "peer_up" in events
        assert records[0]["library"] in ("ryu", "os-ken")


@pytest.fixture(scope="module")
def frr_sites(tmp_path_factory):
    """two-sites with services (no probes); health agents are started per test."""
    with Testbed(load_topology("two-sites"), tmp_path_factory.mktemp("run")) as tb:
        assert tb.wait_converged(timeout=60).converged
        traffic = Traffic(tb, TrafficParams(tcp_streams=0))
        traffic.start_services()
        try:
            yield tb, traffic
        finally:
            traffic.stop()


@pytest.mark.parametrize("action", ["withdraw", "med", "prepend"])
def test_health_agent_action_changes_the_upstreams_rib(frr_sites, action, tmp_path):
    tb, traffic = frr_sites
    site = next(s for s in tb.topo.sites if s.name == "east")
    config = {
        **traffic.health_config(site.model_copy(update={"health": _health(action)})),
    }
    path = tmp_path / "east.json"
    path.write_text(json.dumps(config))
    out = tmp_path / "health.jsonl"
    agent = tb.spawn(
        "east",
        [sys.executable, "-m", "testbed.health.agent", "--config", str(path), "--out", str(out)],
        "health-agent",
        tmp_path / "a.log",
    )
    try:
        time.sleep(1.0)
        assert [p["aspath"]["string"] for p in paths_from("ta", "64500")] == ["64500"]
        traffic.stop_service("east-1", "dns", kill=True)
        if action == "withdraw":
            wait_for(lambda: not paths_from("ta", "64500"), 10, "east's route withdrawn")
            wait_for(lambda: tb.site_of("ca") == "west", 5, "ca moves to west")
        elif action == "med":
            wait_for(
                lambda: [p.get("metric") for p in paths_from("ta", "64500")] == [1000],
                10,
                "east's route demoted to MED 1000",
            )
            time.sleep(1)
            assert tb.site_of("ca") == "east"  # MED across upstreams moves nobody
        else:
            wait_for(
                lambda: (
                    [p["aspath"]["string"] for p in paths_from("ta", "64500")]
                    == ["64500 64500 64500 64500"]
                ),
                10,
                "east's route prepended",
            )
            wait_for(lambda: tb.site_of("ca") == "west", 5, "ca moves to west")
        states = [json.loads(x) for x in out.open() if '"state"' in x]
        assert states[-1]["state"] == "down" and states[-1]["action"] == action
        traffic.start_service("east-1", "dns")
        traffic.wait_services()
        wait_for(
            lambda: (
                [p["aspath"]["string"] for p in paths_from("ta", "64500")] == ["64500"]
                and paths_from("ta", "64500")[0].get("metric") in (None, 0)
            ),
            10,
            "back to normal",
        )
    finally:
        tb.stop_process(agent, signal.SIGKILL)
        if not paths_from("ta", "64500"):  # the killed agent left east withdrawn
            frr.vtysh(
                "east",
                "configure terminal",
                "router bgp 64500",
                "address-family ipv4 unicast",
                "network 192.0.2.0/24",
            )


def _health(action: str):
    from testbed.topology.model import Health

    return Health(interval=0.5, timeout=0.3, rise=2, fall=2, action=action)


@pytest.mark.parametrize("scenario", ["site-failure", "blackhole-healthcheck"])
def test_scenario_meets_its_expectations_with_ryu_speakers(tmp_path_factory, scenario):
    s = run(tmp_path_factory, scenario, *SHORT, "speaker=ryu")
    failed = [e for e in s["expect"] if not e["passed"]]
    assert s["_exit"] == 0 and not failed, (failed, s["_out"][-2000:])
    assert s["_meta"]["speaker"] == ["ryu"]
    assert s["speaker_library"] in ("ryu", "os-ken")


def test_doctor_names_the_bgp_speaker_library():
    done = cli("doctor")
    assert "ryu" in done.stdout or "os-ken" in done.stdout, done.stdout
