"""Load in the topology: client weights, site capacities, attack sources (no root)."""

from __future__ import annotations

import copy

import pytest

from testbed.errors import InputError
from testbed.topology.attackers import attack_ases, attack_sources
from testbed.topology.load import load_topology, parse_topology
from testbed.topology.plan import make_plan

DDOS = load_topology("world-ddos")


def data(**changes):
    out = DDOS.model_dump(by_alias=True, exclude_unset=True, mode="json")
    out.update(copy.deepcopy(changes))
    return out


def error(d) -> str:
    with pytest.raises(InputError) as info:
        parse_topology(d, "t.yaml")
    message = str(info.value)
    assert "\n" not in message and message.startswith("t.yaml: ")
    return message


def test_world_ddos_is_world_plus_load():
    """Same ASes, links, sites and clients as world: only capacities, weights, attackers added."""
    world = load_topology("world")
    assert [a.model_dump() for a in DDOS.ases] == [a.model_dump() for a in world.ases]
    assert [lk.model_dump() for lk in DDOS.links] == [lk.model_dump() for lk in world.links]
    assert [s.model_dump(exclude={"capacity"}) for s in DDOS.sites] == [
        s.model_dump(exclude={"capacity"}) for s in world.sites
    ]
    assert [c.model_dump(exclude={"weight"}) for c in DDOS.clients] == [
        c.model_dump(exclude={"weight"}) for c in world.clients
    ]
    assert all(s.capacity is not None for s in DDOS.sites)
    assert sum(c.weight for c in DDOS.clients) == 34
    assert world.attackers is None and all(c.weight == 1 for c in world.clients)


def test_attack_sources_hang_off_their_access_routers():
    sources = attack_sources(DDOS)
    assert [(s.name, s.as_name, s.router) for s in sources] == [
        ("atk1", "isptyo", "isptyo"),
        ("atk2", "ispsin", "ispsin"),
    ]
    plan = make_plan(DDOS)
    hosts = plan.attackers()
    assert [h.name for h in hosts] == ["atk1", "atk2"]
    assert all(h.kind == "attacker" for h in hosts)
    # in the access router's client /24, next to the client there
    tokyo = plan.hosts["tokyo"].interface.address.network
    assert hosts[0].interface.address.ip in tokyo.supernet(new_prefix=24)
    assert plan.clients() == [h for h in plan.hosts.values() if h.kind == "client"]


def test_share_picks_the_same_spread_ases_every_time():
    d = data(attackers={"share": 0.5, "rate": 100, "per_as": 2})
    topo = parse_topology(d, "t.yaml")
    chosen = attack_ases(topo)
    assert len(chosen) == 4  # half of eight eyeballs
    assert chosen == attack_ases(parse_topology(d, "t.yaml"))
    assert chosen != ["ispny", "ispla", "isppar", "ispfra"]  # not simply the first four
    assert [s.name for s in attack_sources(topo)] == [f"atk{i}" for i in range(1, 9)]
    tiny = parse_topology(data(attackers={"share": 0.01, "rate": 100}), "t.yaml")
    assert len(attack_ases(tiny)) == 1  # at least one


@pytest.mark.parametrize(
    "changes,expected",
    [
        ({"attackers": {"ases": ["nope"], "rate": 10}}, "attackers.ases[0]: no AS called 'nope'"),
        (
            {"attackers": {"ases": ["na"], "rate": 10}},
            "attackers.ases[0]: AS 'na' has role 'transit', not 'eyeball'",
        ),
        (
            {"attackers": {"ases": ["ispny", "ispny"], "rate": 10}},
            "attackers.ases[1]: AS 'ispny' is named twice",
        ),
        ({"attackers": {"ases": ["ispny"], "rate": 200000}}, "attackers.rate: "),
        (
            {"attackers": {"share": 1, "per_as": 8, "rate": 5000}},
            "attackers.rate: 64 sources x 5000 packets/s = 320000 packets/s in all: at most 200000",
        ),
        ({"attackers": {"ases": ["ispny"], "rate": 10, "size": 5000}}, "attackers.size: "),
        ({"attackers": {"rate": 10}}, "attackers: give either ases"),
        ({"attackers": {"ases": ["ispny"], "share": 0.5, "rate": 10}}, "attackers: give either"),
        ({"attackers": {"ases": ["ispny"], "rate": 0}}, "attackers.rate: Input should be greater"),
        ({"attackers": {"ases": ["ispny"]}}, "attackers.rate: required field is missing"),
        ({"attackers": {"ases": ["ispny"], "rate": 1, "kind": "syn"}}, "attackers.kind: "),
    ],
)
def test_bad_attackers(changes, expected):
    assert expected in error(data(**changes))


def test_bad_capacity_and_weight():
    d = data()
    d["sites"][2]["capacity"] = {"bandwidth": 0}
    assert "sites[2].capacity.bandwidth: Input should be greater than 0" in error(d)
    d["sites"][2]["capacity"] = {}
    assert "sites[2].capacity: give a bandwidth (Mbit/s) and/or packets" in error(d)
    d["sites"][2]["capacity"] = {"bandwidth": "10mbit"}
    assert "sites[2].capacity.bandwidth: Input should be a valid number" in error(d)
    d["sites"][2]["capacity"] = {"packets": 0.5}
    assert "sites[2].capacity.packets" in error(d)
    d["sites"][2]["capacity"] = {"bandwidth": 1, "queue": 0}
    assert "sites[2].capacity.queue" in error(d)
    d = data()
    d["clients"][6]["weight"] = -1
    assert "clients[6].weight: Input should be greater than or equal to 0" in error(d)


def test_an_attack_source_name_taken_by_a_client_is_refused():
    d = data()
    d["clients"][0]["name"] = "atk1"
    assert "name 'atk1' is already used by clients[0].name" in error(d)
