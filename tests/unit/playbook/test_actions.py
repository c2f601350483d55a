"""The playbook's actions per site and the selection --sites/--actions make (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.errors import InputError
from testbed.playbook.actions import basic_actions, select, site_actions, split_list
from testbed.topology.load import load_topology

ROOT = Path(__file__).resolve().parents[3]
BASIC = ["prepend1", "prepend2", "prepend3", "withdraw"]


def names(selection):
    return [f"{site} {action.name}" for site, action in selection.steps]


def test_every_site_prepends_1_2_3_and_withdraws_in_topology_order():
    chosen = select(load_topology("world"))
    assert len(chosen.steps) == 16
    assert names(chosen)[:5] == [
        "nyc prepend1",
        "nyc prepend2",
        "nyc prepend3",
        "nyc withdraw",
        "lon prepend1",
    ]
    assert chosen.sites() == ["nyc", "lon", "tyo", "gru"]
    assert chosen.skipped == []
    assert [a.prepend for a in basic_actions()] == [1, 2, 3, 0]


def test_action_communities_of_the_sites_upstream_become_actions():
    topo = load_topology("world-policy")
    actions, skipped = site_actions(topo, topo.sites[1])  # lon, behind eu
    assert skipped == []
    assert [a.name for a in actions] == [
        *BASIC,
        "eu:no-export-peers",
        "eu:prepend1",
        "eu:prepend2",
        "eu:prepend3",
        "eu:no-export-na",
        "eu:no-export-asia",
        "eu:no-export-sa",
    ]
    noexp = actions[-2]
    assert (noexp.kind, noexp.community, noexp.upstream) == ("community", "65002:6603", "eu")
    assert noexp.description == "eu does not export to asia (65002:6603)"
    assert actions[5].prepend == 1 and actions[5].kind == "community"
    assert len(select(topo).steps) == 4 * 11


def test_only_the_direct_upstreams_offer_actions():
    topo = load_topology(str(ROOT / "tests/topologies/policy.yaml"))
    # site b hangs off t4 (no actions); t1's communities are further up
    assert [a.name for a in site_actions(topo, topo.sites[1])[0]] == BASIC


def test_a_ryu_site_has_no_community_actions_and_says_why():
    topo = load_topology("world-policy")
    sites = [topo.sites[0].model_copy(update={"speaker": "ryu"}), *topo.sites[1:]]
    topo = topo.model_copy(update={"sites": sites})
    actions, skipped = site_actions(topo, topo.sites[0])
    assert [a.name for a in actions] == BASIC
    assert len(skipped) == 1
    assert skipped[0].startswith("nyc: na's 7 action communities (ryu: ")


def test_sites_and_actions_narrow_the_steps():
    topo = load_topology("world-policy")
    chosen = select(topo, ["tyo", "lon"], ["withdraw", "no-export-peers"])
    assert names(chosen) == [  # topology order, whatever the option's
        "lon withdraw",
        "lon eu:no-export-peers",
        "tyo withdraw",
        "tyo asia:no-export-peers",
    ]
    by_full_name = select(topo, None, ["na:no-export-eu"])
    assert names(by_full_name) == ["nyc na:no-export-eu"]
    by_community = select(topo, None, ["65004:6602"])
    assert names(by_community) == ["gru sa:no-export-eu"]


@pytest.mark.parametrize(
    "sites, actions, message",
    [
        (["mars"], None, "--sites: no site 'mars' in world (sites: nyc, lon, tyo, gru)"),
        (
            None,
            ["prepend4"],
            "--actions: no action 'prepend4' at nyc, lon, tyo, gru "
            "(actions: prepend1, prepend2, prepend3, withdraw)",
        ),
        (None, ["na:no-export-eu"], "--actions: no action 'na:no-export-eu'"),
    ],
)
def test_unknown_sites_and_actions_are_refused_by_name(sites, actions, message):
    with pytest.raises(InputError) as info:
        select(load_topology("world"), sites, actions)
    assert str(info.value).startswith(message)


def test_a_topology_without_sites_clients_or_weight_is_refused():
    topo = load_topology("two-sites")
    with pytest.raises(InputError, match="has no clients"):
        select(topo.model_copy(update={"clients": []}))
    with pytest.raises(InputError, match="has no sites"):
        select(topo.model_copy(update={"sites": []}))
    light = [c.model_copy(update={"weight": 0.0}) for c in topo.clients]
    with pytest.raises(InputError, match="every client weighs 0"):
        select(topo.model_copy(update={"clients": light}))


def test_split_list():
    assert split_list(None, "--sites") is None
    assert split_list("a, b", "--sites") == ["a", "b"]
    with pytest.raises(InputError, match="an empty item"):
        split_list("a,,b", "--sites")
    with pytest.raises(InputError, match="a given twice"):
        split_list("a,b,a", "--sites")


def test_a_sites_own_action_wins_over_an_upstreams_of_the_same_short_name():
    topo = load_topology("world-policy")
    assert names(select(topo, ["nyc"], ["prepend1"])) == ["nyc prepend1"]
    assert names(select(topo, ["nyc"], ["na:prepend1"])) == ["nyc na:prepend1"]
    assert names(select(topo, ["nyc"], ["65001:6001"])) == ["nyc na:prepend1"]
