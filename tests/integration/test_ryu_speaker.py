"""Sites on a Ryu speaker: peering with FRR, and shipped scenarios with ``--set speaker=ryu``.

A Ryu (or os-ken) speaker's route reaches the upstream's RIB and its client's
catchment, and is recorded; site-failure and blackhole-healthcheck meet their
own expectations when every site announces through Ryu instead of FRR; and
``doctor`` names the library that runs.
"""

from __future__ import annotations

import json

import pytest

from testbed.net.build import Testbed
from testbed.scenario.load import effective_topology
from testbed.topology.load import load_topology
from testbed.traffic import Traffic, TrafficParams
from tests.integration.helpers import cli
from tests.integration.test_events import DIG
from tests.integration.test_health_agents import paths_from
from tests.integration.test_scenarios import SHORT, run


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
