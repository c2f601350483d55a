"""Health agents acting on the upstream's RIB, for FRR and for Ryu sites.

Real FRR, NSD and Ryu (or os-ken) on two-sites: when site east's DNS dies, its
health agent withdraws, demotes by MED or prepends (through the site's
speaker: vtysh for an FRR site, the speaker's control socket for a Ryu site), and the upstream
``ta`` sees exactly that: the route gone and client ``ca`` moved to west; the
route at MED 1000 with ``ca`` staying on the dead site (MED is not compared
across upstreams); the path prepended and ``ca`` moved.  When DNS comes back,
the route is back to normal.  On SIGTERM the agent withdraws east's route
(with MED demotion as its action too), waits the drain, and only then
removes the service address from east's servers, in that order in
health.jsonl.
"""

from __future__ import annotations

import json
import signal
import sys
import time

import pytest

from testbed.net import frr
from testbed.net.build import Testbed
from testbed.scenario.effective import effective_topology
from testbed.topology.load import load_topology
from testbed.traffic import TrafficParams, TrafficRun
from tests.integration.test_events import wait_for


def paths_from(router: str, peer_as: str) -> list:
    """The anycast-prefix paths a router has whose AS path starts with ``peer_as``."""
    rib = json.loads(frr.vtysh(router, "show bgp ipv4 unicast 192.0.2.0/24 json"))
    return [p for p in rib.get("paths", []) if p["aspath"]["string"].startswith(peer_as)]


@pytest.fixture(scope="module", params=["frr", "ryu"])
def sites(request, tmp_path_factory):
    """two-sites with every site on one speaker kind, services up (no probes)."""
    topo = effective_topology(
        load_topology("two-sites"), topology_overrides={"speaker": request.param}
    )
    with Testbed(topo, tmp_path_factory.mktemp("run")) as tb:
        assert tb.wait_converged(timeout=60).converged
        traffic = TrafficRun(tb, TrafficParams(tcp_streams=0))
        traffic.start_services()
        try:
            yield tb, traffic
        finally:
            traffic.stop()


@pytest.mark.parametrize("action", ["withdraw", "med", "prepend"])
def test_health_agent_action_changes_the_upstreams_rib(sites, action, tmp_path):
    tb, traffic = sites
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
        server = next(h.name for h in tb.plan.servers() if h.site == "east")
        traffic.stop_service(server, "dns", kill=True)
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
        traffic.start_service(server, "dns")
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
            _announce_again(tb)


def _lo_addresses(tb: Testbed, node: str) -> str:
    return tb.cmd(node, "ip -4 -o addr show dev lo")


@pytest.mark.parametrize("action", ["withdraw", "med"])
def test_sigterm_withdraws_before_the_service_address_is_removed(sites, tmp_path, action):
    """Graceful stop: the withdrawal (whatever the action), the drain, then the address removal."""
    tb, traffic = sites
    site = next(s for s in tb.topo.sites if s.name == "east")
    config = traffic.health_config(site.model_copy(update={"health": _health(action)}))
    config["drain"] = 1.0
    path = tmp_path / "east.json"
    path.write_text(json.dumps(config))
    out = tmp_path / "health.jsonl"
    servers = [h.name for h in tb.plan.servers("east")]
    assert [a["node"] for a in config["addresses"]] == servers
    router = tb.plan.site_routers()["east"]
    agent = tb.spawn(
        router,
        [sys.executable, "-m", "testbed.health.agent", "--config", str(path), "--out", str(out)],
        "health-agent",
        tmp_path / "a.log",
    )
    try:
        time.sleep(1.5)
        assert [p["aspath"]["string"] for p in paths_from("ta", "64500")] == ["64500"]
        assert all("192.0.2.53/32" in _lo_addresses(tb, s) for s in servers)
        assert tb.stop_process(agent, signal.SIGTERM, grace=10.0)
        records = [json.loads(x) for x in out.read_text().splitlines()]
        assert [r["event"] for r in records] == ["start", "state", "address", "stop"], records
        state, address = records[1], records[2]
        assert state["state"] == "down" and state["applied"] == ["withdraw"], state
        assert state["action"] == "withdraw" and state["reason"].startswith("agent stopping")
        assert state["error"] is None
        assert address["removed"] == servers and address["error"] is None, address
        assert address["t"] - state["t"] >= 0.9  # the drain came between them
        wait_for(lambda: not paths_from("ta", "64500"), 5, "east's route gone from ta's RIB")
        assert all("192.0.2.53/32" not in _lo_addresses(tb, s) for s in servers)
    finally:
        if agent.alive():
            tb.stop_process(agent, signal.SIGKILL)
        for server in servers:  # put east back for the other tests of the module
            if "192.0.2.53/32" not in _lo_addresses(tb, server):
                tb.cmd(server, "ip addr add 192.0.2.53/32 dev lo")
            for kind in ("dns", "tcp"):
                traffic.stop_service(server, kind)
                traffic.start_service(server, kind)
        traffic.wait_services()
        if not paths_from("ta", "64500"):
            _announce_again(tb)
        wait_for(lambda: bool(paths_from("ta", "64500")), 10, "east announced again")


def _announce_again(tb: Testbed) -> None:
    """Announce east's prefix again after a failed test left it withdrawn."""
    tb.speaker("east").announce()


def _health(action: str):
    from testbed.topology.model import Health

    return Health(interval=0.5, timeout=0.3, rise=2, fall=2, action=action)
