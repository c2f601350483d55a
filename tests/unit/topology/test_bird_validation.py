"""``daemon: bird``: the field, what it brings into the plan, and what is refused (one line)."""

from __future__ import annotations

import copy
from typing import Any, Dict

import pytest

from testbed.errors import InputError
from testbed.topology.load import load_topology, parse_topology
from testbed.topology.plan import make_plan

from .test_policy_validation import PLAIN, as_, error


def bird(data: Dict[str, Any], *names: str) -> Dict[str, Any]:
    data = copy.deepcopy(data)
    for name in names:
        as_(data, name)["daemon"] = "bird"
    return data


def test_frr_is_the_default_and_bird_reaches_the_plan():
    topo = parse_topology(bird(PLAIN, "t2", "isp"), "t.yaml")
    assert [a.daemon for a in topo.ases] == ["frr", "bird", "frr", "frr", "bird", "frr"]
    plan = make_plan(topo)
    assert plan.bird_routers() == ["t2a", "t2b", "isp"]
    assert plan.routers["t1"].daemon == "frr" and not plan.routers["t1"].bird
    assert plan.routers["s1"].daemon == "frr"  # a site: its speaker runs there
    assert make_plan(load_topology("world")).bird_routers() == []


def test_an_unknown_daemon_is_refused():
    def change(d):
        as_(d, "t1")["daemon"] = "gobgp"

    assert error(PLAIN, change) == (
        "t.yaml: ases[0].daemon: Input should be 'frr' or 'bird' (got 'gobgp')"
    )


def test_an_anycast_as_has_no_daemon_of_its_own():
    assert error(PLAIN, lambda d: as_(d, "anycast").update(daemon="bird")) == (
        "t.yaml: ases[3].daemon: bird: an anycast AS has no routers of its own (each site is "
        "one): choose each site's speaker (sites[].speaker) instead"
    )


def test_damping_is_refused_with_bird():
    def change(d):
        as_(d, "t3")["daemon"] = "bird"
        d["bgp"] = {"dampening": "on"}

    assert error(PLAIN, change) == (
        "t.yaml: bgp.dampening: route-flap damping is not rendered for BIRD (BIRD 2 has none), "
        "and AS 't3' has daemon: bird: turn damping off, or run that AS on FRR"
    )
    # off is fine, and damping on FRR-only topologies too
    ok = bird(PLAIN, "t3")
    ok["bgp"] = {"dampening": "off"}
    parse_topology(ok, "t.yaml")


def test_mrai_is_refused_on_a_bird_router():
    def change(d):
        as_(d, "t3")["daemon"] = "bird"
        d["bgp"] = {"mrai": 5}

    assert error(PLAIN, change) == (
        "t.yaml: bgp.mrai: 5 s: BIRD has no advertisement interval (MRAI), and router 't3' "
        "(AS 't3') has daemon: bird: use mrai 0 on its sessions, or run that AS on FRR"
    )


def test_mrai_of_a_session_is_blamed_on_the_session():
    def change(d):
        as_(d, "t3")["daemon"] = "bird"
        d["sessions"] = [{"a": "t2b", "b": "t3", "timers": {"mrai": 2}}]

    assert error(PLAIN, change).startswith(
        "t.yaml: sessions[0].timers.mrai: 2 s: BIRD has no advertisement interval (MRAI), "
        "and router 't3'"
    )


def test_mrai_stays_on_frr_sessions():
    """FRR ends keep their MRAI; a BIRD router's own sessions say 0."""
    data = bird(PLAIN, "isp")
    data["bgp"] = {"mrai": 5}
    data["links"][4] = {"a": "isq", "b": "t3"}  # isq no longer next to isp
    data["sessions"] = [
        {"a": "isp", "b": "t3", "timers": {"mrai": 0}},
    ]
    plan = make_plan(parse_topology(data, "t.yaml"))
    t3 = {n.peer: n.timers.mrai for n in plan.routers["t3"].neighbors}
    assert t3 == {"t2b": 5, "isp": 0, "isq": 5}
    # timers apply to both ends, and an end's own override wins
    data["sessions"] = [{"a": "t3", "b": "isp", "timers": {"mrai": 0}}]
    parse_topology(data, "t.yaml")
    data["sessions"].append({"a": "isp", "b": "t3", "timers": {"mrai": 4}})
    with pytest.raises(InputError, match=r"^t.yaml: sessions\[1\].timers.mrai: 4 s: .* 'isp'"):
        parse_topology(data, "t.yaml")


def test_a_ryu_site_needs_frr_upstreams():
    def change(d):
        as_(d, "t1")["daemon"] = "bird"
        d["sites"][0]["speaker"] = "ryu"

    assert error(PLAIN, change) == (
        "t.yaml: sites[0].speaker: ryu: a Ryu site's prepends are set in its upstreams' FRR "
        "(route-map s1-in, through vtysh), and its upstream 't1' (AS 't1') has daemon: bird: "
        "use speaker frr or exabgp, or FRR upstreams"
    )
    data = bird(PLAIN, "t1")
    data["sites"][0]["speaker"] = "exabgp"
    parse_topology(data, "t.yaml")


def test_a_scenario_cannot_bring_mrai_onto_a_bird_router():
    from testbed.scenario.effective import effective_topology

    topo = parse_topology(bird(PLAIN, "t3"), "t.yaml")
    with pytest.raises(InputError, match="BIRD has no advertisement interval"):
        effective_topology(topo, topology_overrides={"bgp.mrai": 3})


def test_bring_up_refuses_bird_only_where_bird_is_missing(monkeypatch, tmp_path):
    from testbed.net import bird as birdmod

    topo = parse_topology(bird(PLAIN, "t3"), "t.yaml")
    monkeypatch.setattr(birdmod, "BIRD", str(tmp_path / "no-bird"))
    with pytest.raises(InputError) as info:
        birdmod.require_bird(topo, "t.yaml")
    assert str(info.value) == (
        f"t.yaml: ases[2].daemon: bird: BIRD 2 is not installed ({tmp_path / 'no-bird'} is "
        "missing); install Debian's bird2 (scripts/install.sh does) or run AS 't3' on FRR"
    )
    birdmod.require_bird(parse_topology(copy.deepcopy(PLAIN), "t.yaml"))  # FRR only: fine
    monkeypatch.setattr(birdmod, "BIRD", "/bin/true")
    birdmod.require_bird(topo, "t.yaml")  # installed: fine


def test_up_and_run_refuse_bird_without_bird_before_anything_starts(tmp_path, monkeypatch):
    """``up`` (and ``shell``, ``playbook``) and ``run`` check BIRD is there first: one line."""
    from testbed.commands.up import checked_topology
    from testbed.net import bird as birdmod
    from testbed.scenario.prepare import prepare_run
    from testbed.topology.dump import topology_data, topology_yaml

    data = load_topology("two-sites").model_dump(mode="json", by_alias=True)
    as_(data, "ta")["daemon"] = "bird"
    path = tmp_path / "mixed.yaml"
    path.write_text(topology_yaml(topology_data(parse_topology(data, "mixed.yaml"))))
    monkeypatch.setattr(birdmod, "BIRD", str(tmp_path / "no-bird"))
    with pytest.raises(InputError, match=r"ases\[0\]\.daemon: bird: BIRD 2 is not installed"):
        checked_topology(str(path), tmp_path / "runs")
    with pytest.raises(InputError, match=r"ases\[0\]\.daemon: bird: BIRD 2 is not installed"):
        prepare_run("two-sites-failover", topology=str(path))
    assert not (tmp_path / "runs").exists()


def test_set_daemon_puts_every_transit_and_eyeball_as_on_bird(monkeypatch):
    """``--set daemon=bird`` is the mixed world of one flag: sites keep their speakers."""
    from testbed.net import bird as birdmod
    from testbed.scenario.prepare import prepare_run

    monkeypatch.setattr(birdmod, "BIRD", "/bin/true")  # installed or not, the plan is the same
    run = prepare_run("site-failure", ["daemon=bird"])
    assert {a.name: a.daemon for a in run.topology.ases if a.role == "anycast"} == {
        "anycast": "frr"
    }
    assert all(a.daemon == "bird" for a in run.topology.ases if a.role != "anycast")
    assert run.plan is not None and set(run.plan.bird_routers()) == {
        r.name for r in run.plan.routers.values() if not r.site
    }
    assert run.plan.frr_routers() == list(run.plan.site_routers().values())


def test_set_daemon_with_a_bad_value_names_the_flag():
    from testbed.scenario.prepare import prepare_run

    with pytest.raises(InputError) as info:
        prepare_run("site-failure", ["daemon=quagga"])
    assert str(info.value).startswith("--set: daemon: ")
    assert str(info.value) == "--set: daemon: Input should be 'frr' or 'bird' (got 'quagga')"
