"""BIRD 2 routers on real daemons: FRR and BIRD ASes peering and agreeing.

- ``world`` with four ASes on BIRD (two transits, two eyeballs) peers with
  the FRR ones on every session and gives every router the same best path
  to the anycast prefix, so every client the same site, as ``world`` on FRR
  alone (the BGP tables read through ``vtysh`` and ``birdc``);
- ``internet:100`` with every other AS on BIRD comes up and converges with
  every path valley-free (BIRD's filters and FRR's route-maps together);
- a silent site failure behind a BIRD upstream with BFD is declared by
  BIRD's BFD, read from BIRD's own log, as bfdd's is on FRR
  (test_fidelity.py), and the run's expectations hold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

from testbed.net.bringup import BringUp, bring_up, client_paths
from testbed.net.build import Testbed
from testbed.topology.load import load_topology, parse_topology
from testbed.topology.model import Topology
from tests.integration.helpers import Run, run_scenario

MIXED_WORLD = ("eu", "sa", "isppar", "ispsyd")


def on_bird(name: str, ases: List[str]) -> Topology:
    """Topology ``name`` with the ASes ``ases`` on BIRD."""
    data = load_topology(name).model_dump(mode="json", by_alias=True)
    for asys in data["ases"]:
        if asys["name"] in ases:
            asys["daemon"] = "bird"
    return parse_topology(data, f"{name} (mixed)")


def observe(topo: Topology, folder: Path) -> Dict[str, Any]:
    """Sessions, every router's best AS path to the anycast prefix, each client's site."""
    tb = Testbed(topo, folder)
    try:
        return _observe(tb, bring_up(tb, timeout=60))
    finally:
        tb.stop()


def _observe(tb: Testbed, result: BringUp) -> Dict[str, Any]:
    assert result.convergence.converged, result.convergence.missing
    prefix = str(tb.topo.sites[0].prefix)
    best = {}
    for name in tb.plan.routed_routers():
        routes = tb.daemon(name).bgp_table(tb.plan.routers[name]).get("routes", {})
        chosen = [r for r in routes.get(prefix, []) if r.get("bestpath")]
        best[name] = chosen[0]["path"] if chosen else None
    paths = client_paths(tb)
    return {
        "sessions": (result.established, result.total),
        "best": best,
        "catchment": {c: tb.plan.routers[p[-1]].site for c, p in paths.items()},
        "bird": tb.plan.bird_routers(),
    }


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> Dict[str, Dict[str, Any]]:
    return {
        "frr": observe(load_topology("world"), tmp_path_factory.mktemp("frr")),
        "mixed": observe(on_bird("world", list(MIXED_WORLD)), tmp_path_factory.mktemp("mixed")),
    }


def test_frr_and_bird_ases_peer_on_every_session(worlds):
    mixed = worlds["mixed"]
    assert sorted(mixed["bird"]) == sorted(MIXED_WORLD)
    established, total = mixed["sessions"]
    assert established == total == worlds["frr"]["sessions"][1] > 0


def test_every_router_picks_the_same_best_path_and_every_client_the_same_site(worlds):
    frr, mixed = worlds["frr"], worlds["mixed"]
    assert None not in frr["best"].values(), frr["best"]  # every router has a best path
    assert mixed["best"] == frr["best"]  # BIRD's choices are FRR's, AS path for AS path
    assert mixed["catchment"] == frr["catchment"]
    assert set(frr["catchment"].values()) == {"nyc", "lon", "tyo", "gru"}


def test_internet_100_with_half_on_bird_converges_valley_free(tmp_path):
    topo = load_topology("internet:100")
    bird = [a.name for i, a in enumerate(topo.ases) if a.role != "anycast" and i % 2]
    tb = Testbed(on_bird("internet:100", bird), tmp_path)
    try:
        result = bring_up(tb, timeout=120)
        assert len(tb.plan.bird_routers()) == len(bird) >= 45
        assert result.convergence.converged, result.convergence.missing
        assert result.established == result.total > 150
        policy = result.policy
        assert policy is not None and policy.passed, policy.line()
        assert policy.violations == [] and policy.unreadable == []
        assert policy.paths == policy.ok > 500  # BIRD's tables read and judged too
        assert all(tb.site_of(c.name) for c in tb.plan.clients())
    finally:
        tb.stop()


SETS = (
    "topology=two-sites",
    "daemon=bird",
    "bfd=on",
    "bfd.interval=100",
    "bfd.multiplier=3",
    "traffic.dns_rate=100",
    "traffic.tcp_streams=1",
    "settle=3",
    "timeline.0.at=3",
    "timeline.0.site=east",
    "timeline.1.at=7",
    "timeline.1.site=east",
    "duration=10",
)


@pytest.fixture(scope="module")
def silent(tmp_path_factory) -> Run:
    return run_scenario("silent-failure", tmp_path_factory.mktemp("bird-silent"), *SETS)


def test_birds_bfd_declares_a_silent_failure(silent):
    event = silent.summary["events"][0]
    detection = event["detection"]
    assert (detection["router"], detection["peer"], detection["how"]) == ("ta", "east", "bfd")
    slack = event["applied_s"] + 0.01  # BIRD's log has ms, the freeze takes its own time
    assert 0.2 - 0.01 <= detection["after_s"] <= 0.3 + slack, (detection, event["applied_s"])
    records = [
        json.loads(line)
        for line in (silent.folder / "records" / "bgp.jsonl").read_text().splitlines()
    ]
    down = [
        r
        for r in records
        if r["kind"] == "bgp" and r["router"] == "ta" and r.get("previous") == "Established"
    ]
    assert down and down[0]["reason"] == "BFD down received", down  # in bgpd's words
    withdrawn = [r for r in records if r["event"] == "withdraw" and r["router"] == "ta"]
    assert withdrawn, "BIRD's log gives the withdrawals"
    counters = [r for r in records if r["event"] == "counters" and r["router"] == "ta"]
    assert counters and all(r["state"] for r in counters)
    assert (silent.folder / "routers" / "ta" / "bird.conf").exists()
    assert (silent.folder / "routers" / "ta" / "bird.log").stat().st_size > 0


def test_the_run_on_bird_meets_its_expectations(silent):
    summary = silent.summary
    assert summary["expect"] and all(e["passed"] for e in summary["expect"]), summary["expect"]
    moved = summary["clients"]["ca"]  # east froze: ca moved to west and back
    assert 0 < moved["dns"]["max_outage_s"] < 1.0, moved["dns"]
