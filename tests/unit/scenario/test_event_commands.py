"""The exact commands scenario events run (no root): iptables, vtysh, descriptions."""

from __future__ import annotations

from testbed.scenario.engine import describe, event_target
from testbed.scenario.events import iptables_drop
from testbed.speaker.frr import announce_commands, policy_commands


def test_iptables_drop_everything_and_undo():
    assert iptables_drop() == [
        "iptables -w -I INPUT -j DROP",
        "iptables -w -I FORWARD -j DROP",
        "iptables -w -I OUTPUT -j DROP",
    ]
    assert [c.replace(" -D ", " -I ") for c in iptables_drop(delete=True)] == iptables_drop()


def test_iptables_drop_one_interface_both_directions():
    cmds = iptables_drop("ta-e1")
    assert "iptables -w -I INPUT -i ta-e1 -j DROP" in cmds
    assert "iptables -w -I FORWARD -o ta-e1 -j DROP" in cmds
    assert "iptables -w -I OUTPUT -o ta-e1 -j DROP" in cmds
    assert all(" -D " in c for c in iptables_drop("ta-e1", delete=True))


def test_withdraw_and_announce():
    assert announce_commands(64500, "192.0.2.0/24", False)[-1] == "no network 192.0.2.0/24"
    assert announce_commands(64500, "192.0.2.0/24", True) == [
        "configure terminal",
        "router bgp 64500",
        "address-family ipv4 unicast",
        "network 192.0.2.0/24",
    ]


def test_policy_prepend_and_med_per_peer_then_soft_clear():
    cmds = policy_commands(64500, ["ta", "tb"], prepend=3, med=50)
    assert cmds[0] == "configure terminal"
    assert cmds.count("set as-path prepend 64500 64500 64500") == 2
    assert cmds.count("set metric 50") == 2
    assert "route-map ta-out permit 10" in cmds and "route-map tb-out permit 10" in cmds
    assert cmds[-1] == "clear bgp ipv4 unicast * soft out"


def test_policy_zero_prepend_and_no_med_clears_both():
    cmds = policy_commands(64500, ["ta"])
    assert "no set as-path prepend" in cmds and "no set metric" in cmds
    assert not any(c.startswith("set ") for c in cmds)


def test_event_descriptions():
    assert describe("fail_site", {"site": "lon", "how": "link-down"}) == "fail site lon (link-down)"
    assert describe("restore", {"site": "lon"}) == "restore site lon"
    assert describe("kill_service", {"site": "lon", "service": "dns"}) == (
        "kill dns service at site lon"
    )
    assert describe("prepend", {"site": "lon", "count": 3}) == "prepend 3 on site lon"
    assert describe("link", {"a": "na", "b": "eu", "state": "down"}) == "link na - eu down"
    assert event_target("link", {"a": "na", "b": "eu", "state": "down"}) == "na-eu"
    assert event_target("withdraw", {"site": "nyc"}) == "nyc"
