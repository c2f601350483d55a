"""Communities on a site's announcements, per kind of speaker (no root).

FRR gets exact vtysh lines on ``route-map UPSTREAM-out permit 10`` (and FRR's
own grammar accepts them, ``vtysh --dryrun``); ExaBGP gets ``community [ ... ]``
and ``large-community [ ... ]`` in its API line (and ExaBGP's own API parser
accepts them); Ryu cannot, which is a caveat and an error.
"""

from __future__ import annotations

import copy
import io
import shutil
from pathlib import Path
from typing import Any, Dict, List

import pytest

from testbed.errors import TestbedError
from testbed.health import agent
from testbed.health.machine import Announcement
from testbed.net.frr import check_configs
from testbed.speaker import control, exabgp_api
from testbed.speaker.base import SpeakerSpec, make_speaker, site_communities
from testbed.speaker.exabgp import api_argv, exabgp_community
from testbed.speaker.frr import community_commands, policy_commands
from testbed.topology.capabilities import speaker_caveats
from testbed.topology.load import parse_topology
from testbed.topology.plan import make_plan

from ..topology.test_policy_validation import DATA

SPEC = SpeakerSpec(
    "a", "a", 64500, ["192.0.2.0/24"], ["t2b", "t9"],
    control="/run/x.sock", base_communities=["64500:100"],
    peer_communities={"t9": ["64500:9", "64500:1:9"]},
)  # fmt: skip


def calls_of(monkeypatch) -> List[tuple]:
    calls: List[tuple] = []
    monkeypatch.setattr(
        agent.frr, "vtysh", lambda router, *cmds, timeout: calls.append((router, cmds)) or "{}"
    )
    monkeypatch.setattr(
        control,
        "send",
        lambda sock, cmd, timeout, **kw: calls.append(("speaker", cmd, kw)) or {"ok": True},
    )
    return calls


def policy_topology(speaker: str = "frr", **extra: Any):
    data = copy.deepcopy(DATA)
    data["sessions"].append({"a": "a", "b": "t2b", "communities": ["64500:7"]})
    data["sites"][0]["speaker"] = speaker
    data.update(extra)
    return parse_topology(data, "policy.yaml")


# ------------------------------------------------------------------ FRR
def test_community_lines_remove_then_set_standard_and_large_apart():
    assert community_commands(["graceful-shutdown", "64500:100", "64500:1:2"]) == [
        "no set community",
        "set community graceful-shutdown 64500:100 additive",
        "no set large-community",
        "set large-community 64500:1:2 additive",
    ]
    assert community_commands([]) == ["no set community", "no set large-community"]


def test_policy_commands_with_communities_per_peer_exactly():
    cmds = policy_commands(
        64500, ["ta", "tb"], 1, None, {"ta": ["no-export"], "tb": ["no-export", "1:2:3"]}
    )
    assert cmds == [
        "configure terminal",
        "route-map ta-out permit 10",
        "no set as-path prepend",
        "set as-path prepend 64500",
        "no set metric",
        "no set community",
        "set community no-export additive",
        "no set large-community",
        "exit",
        "route-map tb-out permit 10",
        "no set as-path prepend",
        "set as-path prepend 64500",
        "no set metric",
        "no set community",
        "set community no-export additive",
        "no set large-community",
        "set large-community 1:2:3 additive",
        "exit",
        "end",
        "clear bgp ipv4 unicast * soft out",
    ]


def test_policy_commands_without_communities_leave_them_alone():
    assert not any("community" in c for c in policy_commands(64500, ["ta"], 3, 50))


@pytest.mark.skipif(shutil.which("vtysh") is None, reason="FRR's vtysh is not installed")
def test_frr_accepts_the_route_map_lines(tmp_path):
    """The lines inside ``route-map ... permit 10`` parse with FRR's own grammar."""
    cmds = policy_commands(
        64500,
        ["ta"],
        2,
        100,
        {"ta": ["graceful-shutdown", "no-export", "no-advertise", "no-peer", "1:2", "1:2:3"]},
    )
    body = cmds[1 : cmds.index("end")]
    path = tmp_path / "site.conf"
    path.write_text("\n".join(body) + "\n")
    check_configs({"site": path})


def test_frr_speaker_sets_the_sites_communities_plus_each_sessions_own(monkeypatch):
    calls = calls_of(monkeypatch)
    sp = make_speaker("frr", SPEC, timeout=5)
    assert sp.communities == ["64500:100"]
    done = sp.set_policy(0, None, communities=["graceful-shutdown"])
    assert done == ["med None prepend 0", "communities graceful-shutdown"]
    router, cmds = calls[-1]
    assert router == "a"
    cmds = list(cmds)
    t2b = cmds[cmds.index("route-map t2b-out permit 10") : cmds.index("route-map t9-out permit 10")]
    assert t2b == [
        "route-map t2b-out permit 10",
        "no set as-path prepend",
        "no set metric",
        "no set community",
        "set community graceful-shutdown additive",
        "no set large-community",
        "exit",
    ]
    t9 = cmds[cmds.index("route-map t9-out permit 10") : cmds.index("end")]
    assert "set community graceful-shutdown 64500:9 additive" in t9
    assert "set large-community 64500:1:9 additive" in t9
    n = len(calls)
    assert sp.set_policy(0, None, communities=["graceful-shutdown"]) == [] and len(calls) == n
    assert sp.set_policy(0, None, communities=[]) == ["med None prepend 0", "communities none"]
    assert "set community 64500:9 additive" in calls[-1][1]
    assert sp.status()["communities"] == []


def test_a_health_agent_never_touches_the_communities(monkeypatch):
    calls = calls_of(monkeypatch)
    config = {"speaker": "frr", "site": "a", "router": "a", "asn": 64500}
    config.update(prefix="192.0.2.0/24", peers=["t2b"], base_med=None, base_prepend=0)
    config["base_communities"] = ["64500:100"]
    a = agent.Announcer(config)
    assert a.speaker.communities == ["64500:100"]
    a.apply(Announcement(True, 1000, 0))
    a.apply(Announcement(True, 1000, 3))
    assert calls and not any("community" in c for _, cmds in calls for c in cmds)


def test_the_spec_knows_the_sites_communities_from_the_sessions_own():
    topo = policy_topology()
    plan = make_plan(topo)
    spec = SpeakerSpec.from_router(plan.routers["a"], topology=topo)
    assert spec.base_communities == ["64500:100", "64500:1:2"]
    assert spec.peer_communities == {"t2b": ["64500:7"]}
    assert spec.communities_towards("t2b", ["no-export"]) == ["no-export", "64500:7"]
    b = SpeakerSpec.from_router(plan.routers["b"], topology=topo)
    assert (b.base_communities, b.peer_communities) == (["65001:6001"], {})
    # without the topology: what every session carries is the site's
    assert site_communities(plan.routers["a"]) == (
        ["64500:100", "64500:7", "64500:1:2"],
        {},
    )
    assert site_communities(plan.routers["b"]) == (["65001:6001"], {})


# --------------------------------------------------------------- ExaBGP
def test_exabgp_takes_well_known_communities_by_number():
    assert exabgp_community("graceful-shutdown") == "65535:0"
    assert exabgp_community("no-export") == "65535:65281"
    assert exabgp_community("no-advertise") == "65535:65282"
    assert exabgp_community("no-peer") == "65535:65284"
    assert exabgp_community("64500:1:2") == "64500:1:2"


def test_api_lines_carry_standard_and_large_communities():
    line = exabgp_api.route_line
    assert line("192.0.2.0/24", 64500, communities=["65535:0", "64500:100", "64500:1:2"]) == (
        "announce route 192.0.2.0/24 next-hop self community [ 65535:0 64500:100 ]"
        " large-community [ 64500:1:2 ]"
    )
    assert line("192.0.2.0/24", 64500, prepend=1, med=5, communities=["1:2"]) == (
        "announce route 192.0.2.0/24 next-hop self med 5 as-path [ 64500 64500 ] community [ 1:2 ]"
    )
    assert line("192.0.2.0/24", 64500, False, communities=["1:2"]) == (
        "withdraw route 192.0.2.0/24 next-hop self"
    )


def test_exabgps_own_api_parser_accepts_the_lines():
    pytest.importorskip("exabgp")
    from exabgp.configuration.configuration import Configuration
    from exabgp.environment import getenv
    from exabgp.logger.option import option
    from exabgp.reactor.api import API

    option.setup(getenv())
    api = API(Configuration([]))
    line = exabgp_api.route_line(
        "192.0.2.0/24", 64500, med=7, prepend=1, communities=["65535:0", "64500:1:2"]
    )
    (change,) = api.api_route(line)
    text = change.extensive()
    assert "community [ 65535:0 ]" in text or "community 65535:0" in text
    assert "large-community 64500:1:2" in text
    assert (
        api.api_route("announce route 192.0.2.0/24 next-hop self community [ graceful-shutdown ]")
        == []
    )


def api_site(*extra: str) -> exabgp_api.ApiSite:
    argv = ["--site", "a", "--asn", "64500", "--prefix", "192.0.2.0/24", *extra]
    argv += ["--neighbor", "100.64.0.1", "--control", "/x.sock", "--out", "/x.jsonl"]

    class Memory:
        records: List[Dict[str, Any]] = []

        def write(self, record: Dict[str, Any]) -> None:
            self.records.append(record)

    return exabgp_api.ApiSite(exabgp_api._parser().parse_args(argv), Memory(), io.StringIO())


def test_the_api_program_announces_with_its_communities_and_changes_them():
    site = api_site("--community", "64500:100", "--community", "64500:1:2")
    site.announce()
    answer = site.handle({"cmd": "policy", "prepend": 0, "med": None, "communities": ["65535:0"]})
    assert answer["ok"] and answer["communities"] == ["65535:0"]
    site.handle({"cmd": "policy", "prepend": 0, "med": 10})  # communities stay
    site.handle({"cmd": "policy", "prepend": 0, "med": 10, "communities": []})
    assert site.out.getvalue().splitlines() == [
        "announce route 192.0.2.0/24 next-hop self community [ 64500:100 ] "
        "large-community [ 64500:1:2 ]",
        "announce route 192.0.2.0/24 next-hop self community [ 65535:0 ]",
        "announce route 192.0.2.0/24 next-hop self med 10 community [ 65535:0 ]",
        "announce route 192.0.2.0/24 next-hop self med 10",
    ]
    policies = [r for r in site.writer.records if r["event"] == "policy"]
    assert [p["communities"] for p in policies] == [["65535:0"], ["65535:0"], []]


@pytest.mark.parametrize(
    "bad", [["graceful-shutdown"], ["70000:1"], ["1:2:4294967296"], "1:2", [1], ["1:2:3:4"]]
)
def test_the_api_program_refuses_bad_communities(bad):
    answer = api_site().handle({"cmd": "policy", "prepend": 0, "med": None, "communities": bad})
    assert answer["ok"] is False and "bad communities" in answer["error"]


def test_the_api_program_refuses_a_bad_community_on_its_command_line():
    with pytest.raises(SystemExit):
        api_site("--community", "no-export")


def test_an_exabgp_sites_static_communities_reach_its_api_program():
    topo = policy_topology("exabgp")
    router = make_plan(topo).routers["a"]
    argv = api_argv(router, Path("/r"), Path("/s"))
    args = exabgp_api._parser().parse_args(argv[3:])
    assert args.community == ["64500:100", "64500:7", "64500:1:2"]


def test_exabgp_speaker_sends_every_sessions_communities_by_number(monkeypatch):
    calls = calls_of(monkeypatch)
    sp = make_speaker("exabgp", SPEC)
    done = sp.set_policy(0, None, communities=["graceful-shutdown"])
    assert done == ["med None prepend 0", "communities graceful-shutdown"]
    assert calls == [
        (
            "speaker",
            "policy",
            {"prepend": 0, "med": None, "communities": ["65535:0", "64500:9", "64500:1:9"]},
        )
    ]
    sp.set_policy(0, 5)
    assert calls[-1] == ("speaker", "policy", {"prepend": 0, "med": 5})


def test_exabgp_caveat_when_sessions_carry_different_communities():
    caveats = speaker_caveats(policy_topology("exabgp"))
    assert (
        any(
            "site a (exabgp): ExaBGP announces one route to all its upstreams; the per-session "
            "communities that differ go to every upstream" in c
            for c in caveats
        )
        is False
    )  # site a has one upstream: nothing differs
    data = copy.deepcopy(DATA)
    data["sites"][0].update(speaker="exabgp", upstream=["t2b", "t5"])
    data["sessions"].append({"a": "a", "b": "t5", "communities": ["64500:5"]})
    caveats = speaker_caveats(parse_topology(data, "p.yaml"))
    assert (
        "site a (exabgp): ExaBGP announces one route to all its upstreams; the per-session "
        "communities that differ go to every upstream (64500:100, 64500:1:2, 64500:5)"
    ) in caveats


# ------------------------------------------------------------------ Ryu
def test_ryu_cannot_attach_communities(monkeypatch):
    calls_of(monkeypatch)
    sp = make_speaker("ryu", SPEC)
    with pytest.raises(TestbedError, match="cannot attach communities"):
        sp.set_policy(0, None, communities=["graceful-shutdown"])
    assert sp.communities == ["64500:100"]  # nothing changed


def test_a_ryu_sites_communities_are_a_caveat():
    caveats = speaker_caveats(policy_topology("ryu"))
    assert (
        "site a (ryu): no communities in this speaker (Ryu's BGPSpeaker API has no community "
        "for its own routes); its announcements go without 64500:100, 64500:7, 64500:1:2"
    ) in caveats
