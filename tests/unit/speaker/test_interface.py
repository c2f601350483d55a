"""The site speaker interface: the registry, each kind's calls, and its users.

Fakes stand in for vtysh and the control socket: each kind must turn the
same interface calls into its own commands, and the scenario events and
the health agent must drive any kind through the interface alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Set

import pytest

from testbed.health import agent
from testbed.health.machine import Announcement
from testbed.scenario.effective import effective_topology
from testbed.scenario.events import Events
from testbed.speaker import base, control
from testbed.speaker.base import SiteSpeaker, SpeakerSpec, kinds, make_speaker, register
from testbed.speaker.exabgp import ExaBgpSpeaker
from testbed.speaker.frr import FrrSpeaker
from testbed.speaker.ryu import RyuSpeaker
from testbed.topology.load import load_topology
from testbed.topology.plan import make_plan

SPEC = SpeakerSpec("lon", "lon", 64500, ["192.0.2.0/24"], ["eu"], control="/run/x.sock")


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


def test_the_registry_knows_every_builtin_kind():
    assert kinds() == ["exabgp", "frr", "ryu"]
    assert base.speaker_class("frr") is FrrSpeaker and FrrSpeaker.kind == "frr"
    assert base.speaker_class("ryu") is RyuSpeaker
    assert base.speaker_class("exabgp") is ExaBgpSpeaker
    assert isinstance(make_speaker("exabgp", SPEC), ExaBgpSpeaker)
    with pytest.raises(KeyError, match="no site speaker 'bird' \\(known: exabgp, frr, ryu\\)"):
        base.speaker_class("bird")


def test_register_adds_a_kind_and_refuses_a_second_class_for_it(monkeypatch):
    monkeypatch.setattr(base.SPEAKERS, "entries", dict(base.SPEAKERS.entries))

    @register("null")
    class Null(FrrSpeaker):
        pass

    assert base.speaker_class("null") is Null and Null.kind == "null"
    with pytest.raises(ValueError, match="registered twice \\(Null, Other\\)"):
        register("null")(type("Other", (FrrSpeaker,), {}))


def test_every_kind_implements_the_whole_interface():
    for kind in kinds():
        cls = base.speaker_class(kind)
        assert not getattr(cls, "__abstractmethods__", None), (kind, cls.__abstractmethods__)
        assert issubclass(cls, SiteSpeaker)


def test_frr_announce_withdraw_and_policy_through_vtysh(monkeypatch):
    calls = calls_of(monkeypatch)
    sp = make_speaker("frr", SPEC, timeout=5)
    sp.withdraw()
    assert calls[-1] == (
        "lon",
        ("configure terminal", "router bgp 64500", "address-family ipv4 unicast",
         "no network 192.0.2.0/24"),
    )  # fmt: skip
    sp.announce()
    assert calls[-1][1][-1] == "network 192.0.2.0/24"
    assert sp.set_policy(3, 1000) == ["med 1000 prepend 3"]
    router, cmds = calls[-1]
    assert router == "lon" and "set as-path prepend 64500 64500 64500" in cmds
    assert "set metric 1000" in cmds and cmds[-1] == "clear bgp ipv4 unicast * soft out"
    n = len(calls)
    assert sp.set_policy(3, 1000) == [] and len(calls) == n  # in place: nothing sent
    sp.set_policy(3, 1000, force=True)
    assert len(calls) == n + 1


def test_ryu_med_through_the_speaker_prepend_at_the_upstreams(monkeypatch):
    calls = calls_of(monkeypatch)
    sp = make_speaker("ryu", SPEC)
    sp.withdraw()
    assert calls[-1] == ("speaker", "withdraw", {})
    assert sp.set_policy(0, 1000) == ["med 1000"]
    assert calls[-1] == ("speaker", "med", {"value": 1000})
    assert sp.set_policy(2, 1000) == ["prepend 2 (at the upstreams)"]
    router, cmds = calls[-1]
    assert router == "eu" and "route-map lon-in permit 10" in cmds
    assert "set as-path prepend 64500 64500" in cmds


def test_exabgp_everything_through_its_api_program(monkeypatch):
    calls = calls_of(monkeypatch)
    sp = make_speaker("exabgp", SPEC)
    sp.withdraw()
    sp.announce()
    assert sp.set_policy(3, None) == ["med None prepend 3"]
    assert sp.set_policy(3, 10) == ["med 10 prepend 3"]
    assert calls == [
        ("speaker", "withdraw", {}),
        ("speaker", "announce", {}),
        ("speaker", "policy", {"prepend": 3, "med": None}),
        ("speaker", "policy", {"prepend": 3, "med": 10}),
    ]  # never vtysh: ExaBGP prepends itself


@pytest.mark.parametrize("kind", ["frr", "ryu", "exabgp"])
def test_the_health_agents_announcer_drives_any_kind(monkeypatch, kind):
    calls = calls_of(monkeypatch)
    config = {
        "speaker": kind,
        "site": "lon",
        "router": "lon",
        "control": None if kind == "frr" else "/run/x.sock",
        "asn": 64500,
        "prefix": "192.0.2.0/24",
        "peers": ["eu"],
        "base_med": None,
        "base_prepend": 0,
    }
    a = agent.Announcer(config)
    assert a.speaker.kind == kind and a.speaker.timeout == agent.VTYSH_TIMEOUT_S
    assert a.apply(Announcement(False, None, 0)) == ["withdraw"]
    assert a.apply(Announcement(True, None, 0)) == ["announce"]
    assert a.apply(Announcement(True, 1000, 0)) and len(calls) == 3
    assert a.apply(Announcement(True, 1000, 0)) == [] and len(calls) == 3


def test_the_health_agent_no_longer_imports_the_scenario_package():
    source = Path(agent.__file__).read_text()
    assert "testbed.scenario" not in source


class Proc:
    def __init__(self, name: str):
        self.name = name

    def __eq__(self, other: object) -> bool:
        return other == self.name


class FakeSpeaker(SiteSpeaker):
    """Records the interface calls the events make."""

    def __init__(self, spec: SpeakerSpec, log: List[Any]):
        super().__init__(spec)
        self.log = log

    def announce(self) -> None:
        self.log.append("announce")

    def withdraw(self) -> None:
        self.log.append("withdraw")

    def _apply_policy(
        self,
        prepend: int,
        med: Optional[int],
        communities: Optional[List[str]],
        changed: Set[str],
    ) -> List[str]:
        self.log.append(
            ("policy", prepend, med) if communities is None else ("communities", communities)
        )
        return []

    def sessions(self) -> Dict[str, str]:
        return {}

    def status(self) -> Dict[str, Any]:
        return {}

    def start(self) -> None:
        self.log.append("start")

    def processes(self) -> List[Any]:
        return [Proc("p1")]


class FakeTestbed:
    def __init__(self, speaker_kind: str):
        topo = effective_topology(
            load_topology("two-sites"), topology_overrides={"speaker": speaker_kind}
        )
        self.topo, self.plan = topo, make_plan(topo)
        self.log: List[Any] = []
        self.speakers = {
            r: FakeSpeaker(SpeakerSpec.from_router(self.plan.routers[r]), self.log)
            for r in self.plan.site_routers().values()
        }

    def speaker(self, router: str) -> FakeSpeaker:
        return self.speakers[router]

    def send_signal(self, proc: Any, sig: int) -> None:
        self.log.append(("signal", proc, int(sig)))


@pytest.mark.parametrize("kind", ["frr", "ryu", "exabgp"])
def test_events_go_through_the_interface_whatever_the_kind(kind):
    tb = FakeTestbed(kind)
    events = Events(tb)
    assert events.withdraw("east")["speaker"] == ""  # FakeSpeaker is not registered
    events.prepend("east", 2)
    events.med("east", 50)
    events.fail_site("east", "router-crash")
    events.restore("east")
    assert tb.log == [
        "withdraw",
        ("policy", 2, None),
        ("policy", 2, 50),
        ("signal", "p1", 9),
        "start",  # restore: latest first
        ("policy", 2, None),
        ("policy", 0, None),
        "announce",
    ]


def test_a_process_speaker_node_gets_its_default_route_back_after_a_link_comes_up():
    topo = effective_topology(load_topology("two-sites"), topology_overrides={"speaker": "exabgp"})
    plan = make_plan(topo)

    class Tb:
        pass

    tb = Tb()
    tb.plan, tb.topo = plan, topo
    tb.speaker_socket = lambda r: Path(f"/run/at/speakers/{r}.sock")
    sp = ExaBgpSpeaker.for_router(plan.routers["east"], tb)
    up = str(plan.routers["east"].neighbors[0].address)
    assert sp.link_up_commands() == [f"ip route replace default via {up}"]
    assert sp.node_setup()[0] == "ip addr add 192.0.2.53/32 dev lo"
    assert sp.spec.control == "/run/at/speakers/east.sock"
    assert FrrSpeaker.for_router(plan.routers["east"], tb).spec.control is None


@pytest.mark.parametrize("kind", ["frr", "exabgp"])
def test_set_communities_goes_through_the_interface(kind):
    tb = FakeTestbed(kind)
    events = Events(tb)
    assert events.set_communities("east", ["graceful-shutdown"])["communities"] == [
        "graceful-shutdown"
    ]
    events.restore("east")
    assert tb.log == [("communities", ["graceful-shutdown"]), ("communities", [])]
