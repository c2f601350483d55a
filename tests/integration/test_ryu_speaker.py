"""Sites on a Ryu speaker: peering with FRR, and shipped scenarios with ``--set speaker=ryu``.

A Ryu (or os-ken) speaker's route reaches the upstream's RIB and its client's
catchment, and is recorded; each site's unicast prefix (``unicast: true``)
reaches every router and client, stays through withdraw, prepend and MED on
the anycast prefix, and carries a ``hybrid`` connection through a withdrawal
(one two-sites testbed for these, the checks shared with
``test_exabgp_speaker.py``); its sessions run the topology's hold time (FRR
reports the negotiated value); a site with two upstreams keeps answering
through the other when one uplink goes down; site-failure and
blackhole-healthcheck meet their own expectations when every site announces
through Ryu instead of FRR; and ``doctor`` names the library that runs, the
same one the speakers record.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from testbed.net import frr
from testbed.net.build import Testbed
from testbed.records import read_records
from testbed.scenario.effective import effective_topology
from testbed.topology.generate import TopologyBuilder
from testbed.topology.load import load_topology
from testbed.traffic import TrafficParams, TrafficRun
from tests.integration.helpers import cli
from tests.integration.test_events import DIG
from tests.integration.test_exabgp_speaker import (
    check_actions_keep_the_unicast_prefix,
    check_hybrid_survives_a_withdrawal,
    check_unicast_reaches_every_router_and_client,
    speaker_sites,
)
from tests.integration.test_health_agents import paths_from
from tests.integration.test_scenarios import SHORT, run


@pytest.fixture(scope="class")
def ryu(tmp_path_factory):
    """two-sites with both sites on Ryu and their unicast prefixes, services up: for one
    class's tests (the module's other tests bring up testbeds of their own)."""
    yield from speaker_sites(tmp_path_factory, "ryu")


class TestSitesOnRyuWithUnicastPrefixes:
    """One two-sites testbed (``ryu``) shared by these tests, torn down after the last."""

    def test_ryu_speaker_peers_with_frr_and_attracts_its_clients(self, ryu):
        tb, _ = ryu
        assert tb.bgp_sessions("ta")["east"] == "Established"
        assert tb.bgp_sessions("east") == {"ta": "Established"}
        (path,) = paths_from("ta", "64500")
        assert path["aspath"]["string"] == "64500" and path["bestpath"]["overall"]
        assert tb.site_of("ca") == "east" and tb.site_of("cb") == "west"
        assert tb.cmd("ca", DIG).strip() == '"east"'
        records = [json.loads(x) for x in (tb.run_dir / "records/speaker-east.jsonl").open()]
        events = [r["event"] for r in records]
        assert events[:2] == ["start", "announce"] and "peer_up" in events
        assert records[0]["library"] in ("ryu", "os-ken")

    def test_the_unicast_prefixes_reach_every_router_and_client(self, ryu):
        check_unicast_reaches_every_router_and_client(ryu[0])

    def test_the_unicast_prefix_stays_through_the_actions_on_the_anycast_prefix(self, ryu):
        """withdraw, prepend (at the upstream) and MED; Ryu has no communities."""
        check_actions_keep_the_unicast_prefix(*ryu, communities=False)

    def test_a_hybrid_connection_survives_a_withdrawal_of_its_site(self, ryu):
        check_hybrid_survives_a_withdrawal(*ryu)


def speaker_start(run_dir: Path, site: str) -> dict:
    """The speaker's ``start`` record."""
    records = read_records(Path(run_dir) / "records" / f"speaker-{site}.jsonl")
    return next(r for r in records if r["event"] == "start")


@pytest.mark.parametrize("keepalive,hold", [(3, 9), (20, 60)])
def test_frr_reports_the_topologys_hold_time_for_a_ryu_peer(tmp_path, keepalive, hold):
    """9 s: below Ryu's minimum (10 s), negotiated down from the FRR end; 60 s:
    above Ryu's default (40 s), so only a speaker given the hold time runs it."""
    overrides = {"speaker": "ryu", "bgp.hold": hold, "bgp.keepalive": keepalive}
    topo = effective_topology(load_topology("two-sites"), topology_overrides=overrides)
    with Testbed(topo, tmp_path) as tb:
        assert tb.wait_converged(timeout=60).converged
        east = next(n for n in tb.plan.routers["ta"].neighbors if n.peer == "east")
        address = str(east.address)
        info = json.loads(frr.vtysh("ta", f"show bgp neighbors {address} json"))[address]
        assert info["bgpState"] == "Established", info.get("lastResetDueTo")
        assert info["bgpTimerHoldTimeMsecs"] == hold * 1000, info
        assert info["bgpTimerKeepAliveIntervalMsecs"] == keepalive * 1000, info
    assert speaker_start(tmp_path, "east")["hold"] == [max(hold, 10)]


def two_upstream_site():
    """One Ryu site behind ta and tb; the client's ISP hangs off ta."""
    b = TopologyBuilder("ryu-two-up", "a Ryu site with two upstreams")
    b.transit("ta", 65001).transit("tb", 65002).link("ta", "tb")
    b.anycast(64500).site("east", upstream=["ta", "tb"], speaker="ryu")
    b.eyeball("ispa", 64512).link("ispa", "ta").client("ca", "ispa")
    return b.build()


def test_a_ryu_site_answers_through_its_other_uplink_when_one_goes_down(tmp_path):
    with Testbed(two_upstream_site(), tmp_path) as tb:
        assert tb.wait_converged(timeout=60).converged
        default = tb.cmd("east", "ip route show default")
        assert default.count("nexthop via") == 2, default
        traffic = TrafficRun(tb, TrafficParams(tcp_streams=0))
        try:
            traffic.start_services()
            assert tb.cmd("ca", DIG).strip() == '"east"'
            uplink = next(
                lk for lk in tb.plan.links
                if lk.kind == "uplink" and lk.a.node == "east" and lk.b.node == "ta"
            )  # fmt: skip
            tb.cmd("ta", f"ip link set {uplink.b.name} down")  # east's end loses its carrier
            deadline, answer = time.monotonic() + 15, ""
            while time.monotonic() < deadline:
                answer = tb.cmd("ca", DIG).strip()  # ca -> ta -> tb -> east, and back via tb
                if answer == '"east"':
                    break
                time.sleep(0.5)
            assert answer == '"east"', tb.cmd("east", "ip route show default")
        finally:
            traffic.stop()


@pytest.mark.parametrize("scenario", ["site-failure", "blackhole-healthcheck"])
def test_scenario_meets_its_expectations_with_ryu_speakers(tmp_path_factory, scenario):
    s = run(tmp_path_factory, scenario, *SHORT, "speaker=ryu")
    failed = [e for e in s["expect"] if not e["passed"]]
    assert s["_exit"] == 0 and not failed, (failed, s["_out"][-2000:])
    assert s["_meta"]["speaker"] == ["ryu"]
    # the library named in meta and summary is the one the speakers imported
    recorded = {speaker_start(s["_dir"], site)["library"] for site in s["_meta"]["sites"]}
    assert recorded in ({"ryu"}, {"os-ken"})
    assert s["speaker_library"] == s["_meta"]["speaker_library"] == recorded.pop()


def test_doctor_names_the_bgp_speaker_library():
    done = cli("doctor")
    row = re.search(r"^ *BGP speaker library +ok +(ryu|os-ken) (\S+)", done.stdout, re.M)
    assert row, done.stdout  # not the failure line ("neither ryu nor os_ken imports")
