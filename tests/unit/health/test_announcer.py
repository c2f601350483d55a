"""The health agent's announcer: the exact vtysh commands and speaker calls per change."""

from __future__ import annotations

from testbed.health import agent
from testbed.health.machine import Announcement
from testbed.speaker import control

FRR = {
    "speaker": "frr",
    "router": "lon",
    "asn": 64500,
    "prefix": "192.0.2.0/24",
    "peers": ["eu"],
    "base_med": None,
    "base_prepend": 0,
}
RYU = {**FRR, "speaker": "ryu", "control": "/run/x.sock"}


def capture(monkeypatch):
    calls = []
    monkeypatch.setattr(
        agent.frr, "vtysh", lambda router, *cmds, timeout: calls.append((router, cmds))
    )
    monkeypatch.setattr(
        control, "send", lambda sock, cmd, timeout, **kw: calls.append(("speaker", cmd, kw))
    )
    return calls


def test_frr_withdraw_then_announce(monkeypatch):
    calls = capture(monkeypatch)
    a = agent.Announcer(FRR)
    assert a.apply(Announcement(False, None, 0)) == ["withdraw"]
    assert calls[-1] == (
        "lon",
        (
            "configure terminal",
            "router bgp 64500",
            "address-family ipv4 unicast",
            "no network 192.0.2.0/24",
        ),
    )
    assert a.apply(Announcement(True, None, 0)) == ["announce"]
    assert calls[-1][1][-1] == "network 192.0.2.0/24"


def test_frr_med_demotion_uses_the_outbound_route_map(monkeypatch):
    calls = capture(monkeypatch)
    a = agent.Announcer(FRR)
    assert a.apply(Announcement(True, 1000, 0)) == ["med 1000 prepend 0"]
    router, cmds = calls[-1]
    assert router == "lon" and "route-map eu-out permit 10" in cmds and "set metric 1000" in cmds
    assert a.apply(Announcement(True, 1000, 0)) == []  # nothing changes, nothing is sent


def test_ryu_withdraw_med_and_prepend_at_the_upstream(monkeypatch):
    calls = capture(monkeypatch)
    a = agent.Announcer(RYU)
    assert a.apply(Announcement(False, None, 0)) == ["withdraw"]
    assert calls[-1] == ("speaker", "withdraw", {})
    a = agent.Announcer(RYU)
    a.apply(Announcement(True, 1000, 0))
    assert calls[-1] == ("speaker", "med", {"value": 1000})
    a = agent.Announcer(RYU)
    assert a.apply(Announcement(True, None, 3)) == ["prepend 3 (at the upstreams)"]
    router, cmds = calls[-1]
    assert router == "eu" and "set as-path prepend 64500 64500 64500" in cmds
