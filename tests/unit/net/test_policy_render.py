"""Relationships and communities in frr.conf: golden files pin every router of
``tests/topologies/policy.yaml`` (customer, peer and provider sessions, iBGP,
action communities, site and session communities, graceful shutdown).

Refresh the golden files after an intended change with
``UPDATE_GOLDEN=1 pytest tests/unit/net/test_policy_render.py``.
"""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path

import pytest

from testbed.net.frr import check_configs, daemons_for, render_config, split_config
from testbed.topology.load import load_topology, parse_topology
from testbed.topology.plan import make_plan

from ..topology.test_policy_validation import DATA, PLAIN

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "frr" / "policy"
POLICY = make_plan(parse_topology(copy.deepcopy(DATA), "policy.yaml"))


def text(router: str, plan=POLICY) -> str:
    return render_config(plan.routers[router], plan, logfile="/run/frr/x/frr.log")


def block(config: str, head: str) -> str:
    """One route-map entry of a config, from its first line to its ``exit``."""
    start = config.index(head + "\n")
    return config[start : config.index("exit\n", start) + len("exit\n")]


@pytest.mark.parametrize("router", [r for r in POLICY.routers if POLICY.routers[r].frr])
def test_policy_golden(router):
    got = text(router)
    path = GOLDEN / f"{router}.conf"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got)
    assert got == path.read_text()


def test_import_tags_and_prefers_by_relationship():
    t1 = text("t1")
    assert block(t1, "route-map t3-in permit 10") == (
        "route-map t3-in permit 10\n set large-community 65001:0:1 additive\n"
        " set local-preference 200\n on-match next\nexit\n"
    )
    assert " set large-community 65001:0:2 additive\n set local-preference 150\n" in block(
        t1, "route-map t5-in permit 10"
    )
    t3 = text("t3")
    assert " set large-community 65003:0:3 additive\n set local-preference 100\n" in block(
        t3, "route-map t1-in permit 10"
    )
    # a session's local_pref wins over the class
    assert " set local-preference 120\n" in block(text("t2a"), "route-map t1-in permit 10")


def test_graceful_shutdown_wins_after_the_class_local_pref():
    t1 = text("t1")
    assert "bgp community-list standard GRACEFUL-SHUTDOWN seq 5 permit graceful-shutdown\n" in t1
    assert block(t1, "route-map t3-in permit 20") == (
        "route-map t3-in permit 20\n match community GRACEFUL-SHUTDOWN\n"
        " set local-preference 0\nexit\n"
    )
    # FRR denies a route whose last tried entry did not match: a final empty permit
    assert block(t1, "route-map t3-in permit 30") == "route-map t3-in permit 30\nexit\n"


def test_valley_free_export():
    t1 = text("t1")
    lists = (
        "bgp large-community-list standard FROM-PEER-OR-PROVIDER seq 5 permit 65001:0:2\n"
        "bgp large-community-list standard FROM-PEER-OR-PROVIDER seq 10 permit 65001:0:3\n"
    )
    assert lists in t1
    # to a peer: no peer or provider routes, nothing with no-peer
    assert block(t1, "route-map t5-out deny 20") == (
        "route-map t5-out deny 20\n match large-community FROM-PEER-OR-PROVIDER\nexit\n"
    )
    assert block(t1, "route-map t5-out deny 30") == (
        "route-map t5-out deny 30\n match community NO-PEER\nexit\n"
    )
    # to a customer: everything, so entry 10 alone
    assert block(t1, "route-map t3-out permit 10") == "route-map t3-out permit 10\nexit\n"
    assert "route-map t3-out permit 20" not in t1 and "route-map t3-out deny" not in t1
    # to a provider: own and customer routes only
    t3 = text("t3")
    assert "route-map t1-out deny 20\n match large-community FROM-PEER-OR-PROVIDER\n" in t3
    assert "route-map t1-out deny 30" not in t3  # no-peer only towards peers
    # a site re-exports nothing it learned from one upstream
    assert "route-map t4-out deny 20\n match large-community FROM-PEER-OR-PROVIDER\n" in text("b")


def test_ibgp_carries_tags_untouched():
    t2a = text("t2a")
    assert block(t2a, "route-map t2b-in permit 10") == "route-map t2b-in permit 10\nexit\n"
    assert block(t2a, "route-map t2b-out permit 10") == "route-map t2b-out permit 10\nexit\n"
    # no send-community line: FRR sends standard, extended and large communities by default
    assert "send-community" not in t2a


def test_action_communities_at_the_transit_that_offers_them():
    t1 = text("t1")
    assert "bgp community-list standard ACTION-65001-6001 seq 5 permit 65001:6001\n" in t1
    assert "bgp large-community-list standard ACTION-65001-6003-0 seq 5 permit 65001:6003:0\n" in t1
    assert block(t1, "route-map t5-out permit 50") == (
        "route-map t5-out permit 50\n match community ACTION-65001-6001\n"
        " set as-path prepend 65001\n on-match next\nexit\n"
    )
    assert block(t1, "route-map t5-out permit 70") == (
        "route-map t5-out permit 70\n match large-community ACTION-65001-6003-0\n"
        " set as-path prepend 65001 65001 65001\n on-match next\nexit\n"
    )
    assert block(t1, "route-map t5-out deny 40") == (
        "route-map t5-out deny 40\n match community ACTION-65001-6000\nexit\n"
    )
    assert block(t1, "route-map t5-out deny 80") == (
        "route-map t5-out deny 80\n match community ACTION-65001-6605\nexit\n"
    )
    assert "ACTION-65001-6605" not in block(t1, "route-map t2a-out deny 40")
    assert "route-map t5-out permit 90\nexit\n" in t1  # everything else
    # towards customers no action applies; other ASes offer none
    assert "ACTION" not in "".join(t1.split("route-map t3-out")[1:]).split("router bgp")[0]
    assert "ACTION" not in text("t2a") + text("t5") + text("t3")


def test_site_and_session_communities_are_added_on_export():
    assert block(text("a"), "route-map t2b-out permit 10") == (
        "route-map t2b-out permit 10\n set community 64500:100 additive\n"
        " set large-community 64500:1:2 additive\n on-match next\nexit\n"
    )
    assert " set community 65001:6001 additive\n" in text("b")
    assert " set community 65003:100 additive\n" in block(text("t3"), "route-map t1-out permit 10")


def test_speakers_still_find_entry_10():
    """FrrSpeaker.policy_commands edits ``route-map PEER-out permit 10``: it is still there,
    before any further entry, and a Ryu upstream's own-AS filter stays at 5."""
    b = text("b")
    assert b.index("route-map t4-out permit 10") < b.index("route-map t4-out deny 20")
    data = copy.deepcopy(DATA)
    data["sites"][1]["speaker"] = "ryu"
    plan = make_plan(parse_topology(data, "t.yaml"))
    t4 = text("t4", plan)
    assert t4.index("route-map b-out deny 5") < t4.index("route-map b-out permit 10")


def test_communities_without_relationships():
    """Communities alone: added, graceful shutdown honoured, no tags, no filters."""
    data = copy.deepcopy(PLAIN)
    data["sites"][0]["communities"] = ["no-export", "64500:1:1", "65535:0"]
    plan = make_plan(parse_topology(data, "t.yaml"))
    s1 = text("s1", plan)
    assert " set community no-export graceful-shutdown additive\n" in s1
    assert " set large-community 64500:1:1 additive\n" in s1
    t1 = text("t1", plan)
    assert "route-map s1-in permit 20\n match community GRACEFUL-SHUTDOWN\n" in t1
    assert "large-community" not in t1 and "FROM-PEER" not in t1
    assert "set local-preference 0" in t1 and "set local-preference 2" not in t1


@pytest.mark.parametrize("name", ["world", "two-sites", "backup-path", "chain:3", "clique:3"])
def test_topologies_without_relationships_render_no_policy(name):
    plan = make_plan(load_topology(name))
    for router in plan.frr_routers():
        config = text(router, plan)
        for word in ("community", "on-match", "local-preference", "permit 20"):
            assert word not in config, (router, word)


def test_community_lists_go_to_bgpd_only():
    parts = split_config(text("t1"), daemons_for(POLICY.routers["t1"]))
    assert "community-list" in parts["bgpd"]
    assert "community-list" not in parts["zebra"]


@pytest.mark.skipif(shutil.which("vtysh") is None, reason="FRR's vtysh is not installed")
def test_frr_accepts_every_policy_config(tmp_path):
    """vtysh --dryrun parses each line with FRR's own grammar (no daemon, no root needed)."""
    world = make_plan(load_topology("world-policy"))
    paths = {}
    for plan, names in ((POLICY, POLICY.frr_routers()), (world, ["eu", "lon", "isppar"])):
        for name in names:
            path = tmp_path / f"{plan.topology.name}-{name}.conf"
            path.write_text(text(name, plan))
            paths[f"{plan.topology.name}-{name}"] = path
    check_configs(paths)
