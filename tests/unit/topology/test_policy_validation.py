"""Relationships, communities and action communities: bad input, one exact line each."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable, Dict

import pytest

from testbed.errors import InputError
from testbed.inputfile import read_yaml
from testbed.topology.load import parse_topology
from testbed.topology.validate import topology_warnings

POLICY = Path(__file__).resolve().parents[2] / "topologies" / "policy.yaml"
DATA: Dict[str, Any] = read_yaml(POLICY)

#: A small topology without relationships: t1 - t2 - t3 in a line, a site behind
#: t1, an eyeball behind t3.
PLAIN: Dict[str, Any] = {
    "name": "plain",
    "ases": [
        {"name": "t1", "asn": 65001, "role": "transit"},
        {"name": "t2", "asn": 65002, "role": "transit", "routers": ["t2a", "t2b"]},
        {"name": "t3", "asn": 65003, "role": "transit"},
        {"name": "anycast", "asn": 64500, "role": "anycast"},
        {"name": "isp", "asn": 64512, "role": "eyeball"},
        {"name": "isq", "asn": 64513, "role": "eyeball"},
    ],
    "links": [
        {"a": "t1", "b": "t2a"},
        {"a": "t2a", "b": "t2b"},
        {"a": "t2b", "b": "t3"},
        {"a": "isp", "b": "t3"},
        {"a": "isq", "b": "isp"},
    ],
    "sites": [{"name": "s1", "upstream": "t1"}],
    "clients": [{"name": "c1", "as": "isp"}],
}


def error(base: Dict[str, Any], change: Callable[[Dict[str, Any]], None]) -> str:
    """The one-line error of ``base`` after ``change``."""
    data = copy.deepcopy(base)
    change(data)
    with pytest.raises(InputError) as info:
        parse_topology(data, "t.yaml")
    line = str(info.value)
    assert "\n" not in line
    return line


def as_(data: Dict[str, Any], name: str) -> Dict[str, Any]:
    return next(a for a in data["ases"] if a["name"] == name)


def test_the_policy_topology_and_world_policy_are_valid():
    parse_topology(copy.deepcopy(DATA), "policy.yaml")
    from testbed.topology.load import load_topology

    assert load_topology("world-policy").name == "world-policy"


def test_a_relationship_needs_two_different_ases():
    def change(d):
        d["links"][1]["rel"] = "peer"  # t2a - t2b, both in t2

    assert error(PLAIN, change) == (
        "t.yaml: links[1].rel: a relationship needs two different ASes: "
        "'t2a' and 't2b' are both in AS 't2'"
    )


@pytest.mark.parametrize(
    "rel,message",
    [
        ("sibling", "Input should be 'customer-provider' or 'peer' (got 'sibling')"),
        (True, "Input should be 'customer-provider' or 'peer' (got True)"),
    ],
)
def test_a_relationship_is_one_of_two_words(rel, message):
    def change(d):
        d["links"][0]["rel"] = rel

    assert error(PLAIN, change) == f"t.yaml: links[0].rel: {message}"


def test_two_links_that_disagree():
    def change(d):
        d["links"][0]["rel"] = "customer-provider"  # t1 buys from t2
        d["links"].append({"a": "t2b", "b": "t1", "rel": "customer-provider"})

    assert error(PLAIN, change) == (
        "t.yaml: links[5].rel: 't2' is a customer of 't1', "
        "but links[0].rel says 't1' is a customer of 't2'"
    )


def test_two_links_that_agree_are_fine():
    data = copy.deepcopy(PLAIN)
    data["links"][0]["rel"] = "peer"
    data["links"][2]["rel"] = "peer"
    data["links"].append({"a": "t2b", "b": "t1", "rel": "peer"})
    data["links"][4]["rel"] = "peer"
    parse_topology(data, "t.yaml")


def test_a_link_and_an_as_list_that_disagree():
    def change(d):
        d["links"][0]["rel"] = "peer"
        as_(d, "t2")["customers"] = ["t1"]

    assert error(PLAIN, change) == (
        "t.yaml: ases[1].customers[0]: 't1' is a customer of 't2', "
        "but links[0].rel says 't1' and 't2' are peers"
    )


def test_two_as_lists_that_disagree():
    def change(d):
        as_(d, "t1")["customers"] = ["t2"]
        as_(d, "t2")["customers"] = ["t1"]

    assert error(PLAIN, change) == (
        "t.yaml: ases[1].customers[0]: 't1' is a customer of 't2', "
        "but ases[0].customers[0] says 't2' is a customer of 't1'"
    )


def test_one_as_list_that_disagrees_with_itself():
    def change(d):
        as_(d, "t1")["customers"] = ["t2"]
        as_(d, "t1")["peers"] = ["t2"]

    assert error(PLAIN, change) == (
        "t.yaml: ases[0].peers[0]: 't1' and 't2' are peers, "
        "but ases[0].customers[0] says 't2' is a customer of 't1'"
    )


@pytest.mark.parametrize(
    "kind,name,message",
    [
        ("customers", "zz", "no AS called 'zz'"),
        ("peers", "t1", "an AS cannot be its own peer"),
        ("customers", "t1", "an AS cannot be its own customer"),
        (
            "customers",
            "t3",
            "AS 't3' is not a neighbour of 't1': no link or site uplink joins them",
        ),
        ("peers", "isp", "AS 'isp' is not a neighbour of 't1': no link or site uplink joins them"),
    ],
)
def test_as_lists_name_neighbouring_ases(kind, name, message):
    def change(d):
        as_(d, "t1")[kind] = [name]

    assert error(PLAIN, change) == f"t.yaml: ases[0].{kind}[0]: {message}"


def test_an_as_listed_twice():
    def change(d):
        as_(d, "t1")["peers"] = ["t2", "t2"]

    assert error(PLAIN, change) == "t.yaml: ases[0].peers[1]: 't2' is already peers[0]"


def test_as_list_entries_are_names():
    def change(d):
        as_(d, "t1")["peers"] = [65002]

    assert error(PLAIN, change) == (
        "t.yaml: ases[0].peers[0]: Input should be a valid string (got 65002)"
    )


def test_every_neighbouring_pair_needs_a_relationship_once_one_is_declared():
    def change(d):
        d["links"][0]["rel"] = "peer"  # t1 - t2; t2 - t3 says nothing

    assert error(PLAIN, change) == (
        "t.yaml: links[2].rel: AS 't2' and AS 't3' have no relationship: with relationships "
        "declared, every pair of neighbouring ASes needs one (a link's rel: customer-provider "
        "or peer, or an AS's customers or peers)"
    )


def test_two_eyeballs_get_no_implied_relationship():
    def change(d):
        for i in range(3):
            d["links"][i]["rel"] = "peer"
        d["links"][1].pop("rel")  # inside t2

    assert error(PLAIN, change) == (
        "t.yaml: links[4].rel: AS 'isp' and AS 'isq' have no relationship: with relationships "
        "declared, every pair of neighbouring ASes needs one (a link's rel: customer-provider "
        "or peer, or an AS's customers or peers)"
    )


def test_a_customer_provider_cycle_is_named():
    def change(d):
        d["links"][0]["rel"] = "customer-provider"  # t1 buys from t2
        d["links"][2]["rel"] = "customer-provider"  # t2 buys from t3
        as_(d, "t1")["customers"] = ["anycast"]  # declared, not implied
        d["links"][4]["rel"] = "peer"
        d["ases"].append({"name": "t4", "asn": 65004, "role": "transit"})
        d["links"].append({"a": "t3", "b": "t4", "rel": "customer-provider"})
        d["links"].append({"a": "t4", "b": "t1", "rel": "customer-provider"})

    assert error(PLAIN, change) == (
        "t.yaml: links[6].rel: customer-provider cycle 't1' -> 't2' -> 't3' -> 't4' -> 't1' "
        "(each a customer of the next): 't1' would be its own indirect provider"
    )


@pytest.mark.parametrize(
    "community,message",
    [
        ("70000:1", "each part of a standard community is 0-65535: for bigger numbers "
         "(a 4-byte AS number) use a large community 'A:B:C' (got '70000:1')"),
        ("1:2:4294967296", "each part of a large community is 0-4294967295 (got '1:2:4294967296')"),
        ("64500:x", "not a community: a community is 'A:B' (each 0-65535), a large community "
         "'A:B:C' (each 0-4294967295), or one of no-export, no-advertise, no-peer, "
         "graceful-shutdown (got '64500:x')"),
        ("blackhole", "not a community: a community is 'A:B' (each 0-65535), a large community "
         "'A:B:C' (each 0-4294967295), or one of no-export, no-advertise, no-peer, "
         "graceful-shutdown (got 'blackhole')"),
        ("1:2:3:4", "not a community: a community is 'A:B' (each 0-65535), a large community "
         "'A:B:C' (each 0-4294967295), or one of no-export, no-advertise, no-peer, "
         "graceful-shutdown (got '1:2:3:4')"),
        (100, "must be text: a community is 'A:B' (each 0-65535), a large community 'A:B:C' "
         "(each 0-4294967295), or one of no-export, no-advertise, no-peer, graceful-shutdown "
         "(got 100)"),
    ],
)  # fmt: skip
def test_malformed_or_out_of_range_communities(community, message):
    def on_site(d):
        d["sites"][0]["communities"] = ["no-export", community]

    def on_session(d):
        d["sessions"] = [{"a": "t1", "b": "t2", "communities": [community]}]

    assert error(PLAIN, on_site) == f"t.yaml: sites[0].communities[1]: {message}"
    assert error(PLAIN, on_session) == f"t.yaml: sessions[0].communities[0]: {message}"


def test_action_communities_only_at_transits():
    def change(d):
        as_(d, "isp")["actions"] = [{"community": "64512:6000", "no_export_to": "t3"}]

    assert error(PLAIN, change) == (
        "t.yaml: ases[4].actions: only a transit AS offers action communities "
        "('isp' has role 'eyeball')"
    )


@pytest.mark.parametrize(
    "action,field,message",
    [
        ({"community": "65001:6000"}, "actions[0]",
         "give exactly one action, prepend (1-10, towards all peers) or no_export_to "
         "('peers' or a neighbouring AS), not neither"),
        ({"community": "65001:6000", "prepend": 1, "no_export_to": "peers"}, "actions[0]",
         "give exactly one action, prepend (1-10, towards all peers) or no_export_to "
         "('peers' or a neighbouring AS), not both"),
        ({"community": "no-export", "prepend": 1}, "actions[0].community",
         "no-export is a well-known community: an action community is one of the AS's own, "
         "such as 'ASN:6000' (got 'no-export')"),
        ({"community": "65535:0", "prepend": 1}, "actions[0].community",
         "graceful-shutdown is a well-known community: an action community is one of the "
         "AS's own, such as 'ASN:6000' (got '65535:0')"),
        ({"community": "65001:6001", "prepend": 11}, "actions[0].prepend",
         "Input should be less than or equal to 10 (got 11)"),
        ({"community": "65001:6001", "prepend": 0}, "actions[0].prepend",
         "Input should be greater than or equal to 1 (got 0)"),
        ({"community": "65001:6001", "no_export_to": "Peers!"}, "actions[0].no_export_to",
         "must be 'peers' or an AS name matching ^[a-z][a-z0-9-]{0,8}[a-z0-9]$|^[a-z]$ "
         "(got 'Peers!')"),
        ({"community": "65001:6001", "no_export_to": "zz"}, "actions[0].no_export_to",
         "no AS called 'zz'"),
        ({"community": "65001:6001", "no_export_to": "t3"}, "actions[0].no_export_to",
         "AS 't3' is not a neighbour of 't1': no link or site uplink joins them"),
        ({"community": "65001:6001", "no_export_to": "t1"}, "actions[0].no_export_to",
         "AS 't1' is not a neighbour of 't1': no link or site uplink joins them"),
        ({"community": "65001:0:2", "prepend": 1}, "actions[0].community",
         "65001:0:2 is 't1''s own relationship tag (ASN:0:1, :0:2 and :0:3 mark routes "
         "learned from customers, peers, providers): choose another"),
        ({"community": "65001:6001", "prepend": 2}, "actions[0]",
         "prepend acts towards peers, and this topology declares no relationships "
         "(links[].rel, ases[].customers, ases[].peers)"),
        ({"community": "65001:6001", "no_export_to": "peers"}, "actions[0]",
         "no_export_to: peers acts towards peers, and this topology declares no relationships "
         "(links[].rel, ases[].customers, ases[].peers)"),
    ],
)  # fmt: skip
def test_bad_action_communities(action, field, message):
    def change(d):
        as_(d, "t1")["actions"] = [action]

    assert error(PLAIN, change) == f"t.yaml: ases[0].{field}: {message}"


def test_an_action_towards_a_named_neighbour_needs_no_relationships():
    data = copy.deepcopy(PLAIN)
    as_(data, "t1")["actions"] = [{"community": "65001:6602", "no_export_to": "t2"}]
    parse_topology(data, "t.yaml")


def test_two_actions_with_one_community():
    def change(d):
        as_(d, "t1")["actions"] = [
            {"community": "65001:6001", "prepend": 1},
            {"community": "65001:6002", "prepend": 2},
            {"community": "65001:06001", "no_export_to": "peers"},
        ]

    assert error(DATA, change) == (
        "t.yaml: ases[0].actions[2].community: 65001:6001 is also actions[0]'s community"
    )


def test_local_prefs_are_bounded_and_warned_about_when_out_of_order():
    def change(d):
        d["local_pref"] = {"customer": -1}

    assert error(DATA, change) == (
        "t.yaml: local_pref.customer: Input should be greater than or equal to 0 (got -1)"
    )
    data = copy.deepcopy(DATA)
    data["local_pref"] = {"customer": 100, "peer": 150, "provider": 100}
    assert topology_warnings(parse_topology(data, "t.yaml")) == [
        "local_pref customer 100, peer 150, provider 100 does not prefer customer over peer "
        "over provider routes: BGP may then oscillate or settle on paths that depend on timing"
    ]
    assert topology_warnings(parse_topology(copy.deepcopy(DATA), "t.yaml")) == []
    plain = copy.deepcopy(PLAIN)
    plain["local_pref"] = {"customer": 1, "peer": 2, "provider": 3}  # unused: no relationships
    assert topology_warnings(parse_topology(plain, "t.yaml")) == []
