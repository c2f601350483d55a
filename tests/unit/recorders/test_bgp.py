"""BGP recorder: FRR's log lines and ``show bgp neighbors json`` turned into bgp.jsonl records.

The fixtures are FRR 8.4's own formats: log lines as ``log timestamp
precision 3`` writes them (with the message's unique id), and the neighbor
JSON's field names (``bgpState``, ``messageStats``, ``addressFamilyInfo``...).
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any, Dict, List

import pytest

from testbed.net import frr
from testbed.net.daemons import RoutingDaemon, daemon_named, neighbor_stats
from testbed.recorders import bgp
from testbed.recorders.bgp import (
    BgpRecorder,
    SessionStates,
    is_bgpd_start,
    parse_adjchange,
    parse_withdrawn,
)
from testbed.records import read_records

UP = (
    "2026/12/01 18:00:01.234 BGP: [M59KS-A3ZXZ] %ADJCHANGE: neighbor 100.64.0.2(nyc) in vrf "
    "default Up"
)
DOWN = (
    "2026/12/01 18:00:09.876 BGP: [ZZ7VR-P8T6H] %ADJCHANGE: neighbor 100.64.0.2(nyc) in vrf "
    "default Down Peer closed the session"
)
WITHDRAWN = (
    "2026/12/01 18:00:09.500 BGP: [XCGSM-HBW8A] 100.64.0.2(nyc) rcvd UPDATE about "
    "{prefix} IPv4 unicast -- withdrawn"
)
START = "2026/12/01 18:00:00.100 BGP: [T83RR-8SM5G] bgpd 8.4.4 starting: vty@0, bgp@<all>:179"


def stamp(text: str) -> float:
    return datetime.strptime(text, "%Y/%m/%d %H:%M:%S.%f").timestamp()


NEIGHBORS: Dict[str, Any] = {
    "100.64.0.2": {
        "remoteAs": 65002,
        "localAs": 65001,
        "nbrExternalLink": True,
        "nbrDesc": "nyc",
        "hostname": "nyc",
        "bgpVersion": 4,
        "remoteRouterId": "100.127.0.2",
        "localRouterId": "100.127.0.1",
        "bgpState": "Established",
        "bgpTimerUpMsec": 8000,
        "bgpTimerUpString": "00:00:08",
        "bgpTimerUpEstablishedEpoch": 1796148001,
        "bgpTimerLastRead": 1000,
        "bgpTimerLastWrite": 1000,
        "bgpInUpdateElapsedTimeMsecs": 7000,
        "bgpTimerConfiguredHoldTimeMsecs": 9000,
        "bgpTimerConfiguredKeepAliveIntervalMsecs": 3000,
        "bgpTimerHoldTimeMsecs": 9000,
        "bgpTimerKeepAliveIntervalMsecs": 3000,
        "messageStats": {
            "depthInq": 0,
            "depthOutq": 0,
            "opensSent": 1,
            "opensRecv": 1,
            "notificationsSent": 0,
            "notificationsRecv": 0,
            "updatesSent": 6,
            "updatesRecv": 4,
            "keepalivesSent": 3,
            "keepalivesRecv": 3,
            "routeRefreshSent": 0,
            "routeRefreshRecv": 0,
            "capabilitySent": 0,
            "capabilityRecv": 0,
            "totalSent": 10,
            "totalRecv": 8,
        },
        "minBtwnAdvertisementRunsTimerMsecs": 0,
        "addressFamilyInfo": {
            "ipv4Unicast": {
                "updateGroupId": 1,
                "subGroupId": 1,
                "packetQueueLength": 0,
                "routeMapForIncomingAdvertisements": "nyc-in",
                "routeMapForOutgoingAdvertisements": "nyc-out",
                "acceptedPrefixCounter": 2,
                "sentPrefixCounter": 3,
            }
        },
        "connectionsEstablished": 1,
        "connectionsDropped": 0,
        "lastResetTimerMsecs": 9000,
        "lastResetDueTo": "Waiting for peer OPEN",
        "lastResetCode": 32,
        "hostLocal": "100.64.0.1",
        "portLocal": 179,
        "hostForeign": "100.64.0.2",
        "portForeign": 41234,
        "nexthop": "100.64.0.1",
        "bgpConnection": "sharedNetwork",
        "connectRetryTimer": 1,
        "estimatedRttInMsecs": 1,
    },
    "100.64.0.6": {
        "remoteAs": 65003,
        "localAs": 65001,
        "nbrExternalLink": True,
        "nbrDesc": "lon",
        "bgpState": "Active",
        "bgpTimerLastRead": 15000,
        "bgpTimerLastWrite": 15000,
        "bgpTimerConfiguredHoldTimeMsecs": 9000,
        "bgpTimerConfiguredKeepAliveIntervalMsecs": 3000,
        "messageStats": {"updatesSent": 0, "updatesRecv": 0, "totalSent": 0, "totalRecv": 0},
        "minBtwnAdvertisementRunsTimerMsecs": 0,
        "addressFamilyInfo": {"ipv4Unicast": {}},
        "connectionsEstablished": 0,
        "connectionsDropped": 0,
        "lastResetTimerMsecs": 15000,
        "lastResetDueTo": "Waiting for NHT",
        "connectRetryTimer": 1,
        "nextConnectTimerDueInMsecs": 1000,
        "readThread": "off",
        "writeThread": "off",
    },
}


def test_log_lines():
    assert parse_adjchange(UP) == (stamp("2026/12/01 18:00:01.234"), "100.64.0.2", "nyc", "Up", "")
    assert parse_adjchange(DOWN)[3:] == ("Down", "Peer closed the session")
    assert parse_withdrawn(WITHDRAWN.format(prefix="192.0.2.0/24")) == (
        stamp("2026/12/01 18:00:09.500"),
        "100.64.0.2",
        "192.0.2.0/24",
    )
    denied = WITHDRAWN.replace("-- withdrawn", "-- DENIED due to: as-path contains our own AS;")
    assert parse_withdrawn(denied.format(prefix="192.0.2.0/24")) is None
    assert parse_withdrawn(UP) is None and parse_adjchange(WITHDRAWN) is None
    assert is_bgpd_start(START)
    assert not is_bgpd_start(START.replace("bgpd", "zebra"))


def test_neighbor_stats_from_frr_json():
    stats = neighbor_stats(NEIGHBORS)
    assert stats["100.64.0.2"] == {
        "state": "Established",
        "updates_in": 4,
        "updates_out": 6,
        "prefixes_in": 2,
        "prefixes_out": 3,
        "established": 1,
        "dropped": 0,
        "hold": 9.0,
        "keepalive": 3.0,
    }
    down = stats["100.64.0.6"]
    assert down["state"] == "Active" and down["prefixes_in"] is None and down["hold"] is None


def test_states_from_the_log_are_exact_and_the_poll_adds_the_others():
    states = SessionStates()
    up = states.from_log(1.0, "ta", "nyc", "Up", "")
    assert (up["state"], up["previous"], up["source"], up["reason"]) == (
        "Established", "OpenConfirm", "log", None,
    )  # fmt: skip
    assert states.from_poll(2.0, "ta", "nyc", "Established") is None  # nothing new
    down = states.from_log(3.0, "ta", "nyc", "Down", "Peer closed the session")
    assert (down["state"], down["previous"], down["reason"]) == (
        "Idle", "Established", "Peer closed the session",
    )  # fmt: skip
    active = states.from_poll(4.0, "ta", "nyc", "Active")
    assert (active["state"], active["previous"], active["source"]) == ("Active", "Idle", "poll")
    first = states.from_poll(4.0, "ta", "lon", "Connect")
    assert (first["state"], first["previous"]) == ("Connect", None)


class FakePlan:
    class Router:
        def __init__(self, neighbors: List[Any], name: str = "ta", daemon: str = "frr"):
            self.neighbors, self.name, self.daemon = neighbors, name, daemon

    class Neighbor:
        def __init__(self, address: str, peer: str, bfd: bool = False):
            self.address, self.peer, self.bfd = address, peer, bfd

    def __init__(self) -> None:
        n = FakePlan.Neighbor
        self.routers = {"ta": FakePlan.Router([n("100.64.0.2", "nyc"), n("100.64.0.6", "lon")])}

    def routed_routers(self) -> List[str]:
        return list(self.routers)


class FakeTestbed:
    plan = FakePlan()

    def daemon(self, router: str) -> RoutingDaemon:
        return daemon_named(self.plan.routers[router].daemon)


@pytest.fixture
def fake_frr(tmp_path, monkeypatch):
    """FRR of router ta: its log file, and vtysh answering from ``state['json']``."""
    state: Dict[str, Any] = {"json": copy.deepcopy(NEIGHBORS), "vtysh": []}
    (tmp_path / "ta").mkdir()
    log = tmp_path / "ta" / "frr.log"
    log.write_text(START + "\n" + UP + "\n")
    monkeypatch.setattr(frr, "runtime_dir", lambda router: tmp_path / router)

    def vtysh(router: str, *commands: str, timeout: float = 20) -> str:
        state["vtysh"].append(commands)
        return json.dumps(state["json"]) if commands == ("show bgp neighbors json",) else ""

    monkeypatch.setattr(frr, "vtysh", vtysh)
    state["log"] = log
    return state


def test_the_recorder_records_states_withdrawals_and_counters(tmp_path, fake_frr):
    out = tmp_path / "bgp.jsonl"
    recorder = BgpRecorder(FakeTestbed(), out, interval=0).start()
    debug = ("debug bgp updates in", "configure terminal",
             f"log file {tmp_path / 'ta' / 'frr.log'} debugging")  # fmt: skip
    assert fake_frr["vtysh"][0] == debug  # withdrawal logging turned on
    with open(fake_frr["log"], "a") as fh:
        for prefix in ("192.0.2.0/24", "198.18.1.0/24"):
            fh.write(WITHDRAWN.format(prefix=prefix) + "\n")
        fh.write(DOWN + "\n" + START + "\n")  # ... and bgpd started again
    fake_frr["json"]["100.64.0.2"]["bgpState"] = "Active"
    recorder.stop()
    assert fake_frr["vtysh"].count(debug) == 2  # again after the restart
    records = list(read_records(out))
    states = [
        (r["peer"], r["previous"], r["state"], r["source"])
        for r in records
        if r["event"] == "state"
    ]
    assert states == [
        ("nyc", "OpenConfirm", "Established", "log"),
        ("lon", None, "Active", "poll"),
        ("nyc", "Established", "Idle", "log"),
        ("nyc", "Idle", "Active", "poll"),
    ]
    withdraws = [(r["peer"], r["prefix"], r["t"]) for r in records if r["event"] == "withdraw"]
    t = stamp("2026/12/01 18:00:09.500")
    assert withdraws == [("nyc", "192.0.2.0/24", t), ("nyc", "198.18.1.0/24", t)]
    counters = [(r["peer"], r["withdrawals_in"], r["updates_in"], r["state"])
                for r in records if r["event"] == "counters"]  # fmt: skip
    assert counters == [
        ("nyc", 0, 4, "Established"),
        ("lon", 0, 0, "Active"),
        ("nyc", 2, 4, "Active"),
        ("lon", 0, 0, "Active"),
    ]


def test_without_withdrawal_logging_the_count_is_null(tmp_path, fake_frr):
    out = tmp_path / "bgp.jsonl"
    BgpRecorder(FakeTestbed(), out, interval=0, withdrawals=False).start().stop()
    assert ("debug bgp updates in",) not in [c[:1] for c in fake_frr["vtysh"]]
    counters = [r for r in read_records(out) if r["event"] == "counters"]
    assert counters and all(r["withdrawals_in"] is None for r in counters)


def test_a_router_refusing_the_debug_commands_is_a_problem_not_a_crash(
    tmp_path, fake_frr, monkeypatch
):
    from testbed.errors import TestbedError

    plain = frr.vtysh

    def refusing(router: str, *commands: str, timeout: float = 20) -> str:
        if commands[0].startswith("debug"):
            raise TestbedError("vtysh on ta failed: % Unknown command")
        return plain(router, *commands)

    monkeypatch.setattr(frr, "vtysh", refusing)
    out = tmp_path / "bgp.jsonl"
    recorder = BgpRecorder(FakeTestbed(), out, interval=0).start()
    recorder.stop()
    assert recorder.problems == [
        "ta: withdrawals not logged (vtysh on ta failed: % Unknown command)"
    ]
    assert all(r["withdrawals_in"] is None for r in read_records(out) if r["event"] == "counters")


# bfdd's own line (``debug bfd peer``), as FRR 8.4 writes it on this machine
BFD_DOWN = (
    "2026/12/05 02:30:30.137 BFD: [SEY1D-NT8EQ] state-change: [mhop:no peer:100.64.0.13 "
    "local:0.0.0.0 vrf:default] up -> down reason:control-expired"
)
BFD_UP = (
    "2026/12/05 02:30:34.497 BFD: [J1C6V-VMRW5] state-change: [mhop:no peer:100.64.0.13 "
    "local:0.0.0.0 vrf:default] init -> up"
)


def test_parse_bfd_state_change():
    t, addr, previous, state, diag = bgp.parse_bfd_state(BFD_DOWN)
    assert (addr, previous, state, diag) == ("100.64.0.13", "up", "down", "control-expired")
    assert t == stamp("2026/12/05 02:30:30.137")
    assert bgp.parse_bfd_state(BFD_UP)[1:] == ("100.64.0.13", "init", "up", None)
    assert bgp.parse_bfd_state(UP) is None and bgp.parse_adjchange(BFD_DOWN) is None


def test_routers_running_bfdd_log_its_state_changes(tmp_path, fake_frr):
    class BfdPlan(FakePlan):
        def __init__(self) -> None:
            n = FakePlan.Neighbor
            self.routers = {"ta": FakePlan.Router([n("100.64.0.2", "nyc", bfd=True)])}

    class BfdTestbed(FakeTestbed):
        plan = BfdPlan()

    out = tmp_path / "bgp.jsonl"
    recorder = BgpRecorder(BfdTestbed(), out, interval=0).start()
    assert fake_frr["vtysh"][0][0] == "debug bfd peer"
    with open(fake_frr["log"], "a") as fh:
        fh.write(BFD_DOWN.replace("100.64.0.13", "100.64.0.2") + "\n")
    recorder.stop()
    (bfd,) = [r for r in read_records(out) if r["kind"] == "bfd"]
    assert (bfd["router"], bfd["peer"], bfd["state"], bfd["previous"], bfd["reason"]) == (
        "ta",
        "nyc",
        "down",
        "up",
        "control-expired",
    )


# BIRD 2.0.12's own lines on this machine (debug states, events, routes on its BGP
# protocols and states, events on BFD), for router ta on BIRD
BIRD_LOG = """\
2026-12-05 12:20:10.833 <TRACE> peer_nyc: Initializing
2026-12-05 12:20:10.833 <INFO> Started
2026-12-05 12:20:36.148 <TRACE> peer_nyc: BGP session established
2026-12-05 12:20:36.148 <TRACE> peer_nyc: State changed to up
2026-12-05 12:20:37.068 <TRACE> peer_nyc.ipv4 > added [best] 198.51.100.0/24 0L 5G unicast
2026-12-05 12:20:38.292 <TRACE> bfd1: Session to 100.64.0.2 expired
2026-12-05 12:20:38.292 <TRACE> bfd1: Session to 100.64.0.2 changed state from Up to Down
2026-12-05 12:20:38.292 <TRACE> peer_nyc: BFD session down
2026-12-05 12:20:38.292 <TRACE> peer_nyc: State changed to stop
2026-12-05 12:20:38.292 <TRACE> peer_nyc.ipv4 > removed [sole] 198.51.100.0/24 0L 5G unicast
2026-12-05 12:20:38.292 <TRACE> peer_nyc: State changed to flush
2026-12-05 12:20:38.292 <TRACE> peer_nyc: State changed to down
2026-12-05 12:20:38.292 <TRACE> peer_nyc: State changed to start
2026-12-05 12:20:41.000 <TRACE> peer_lon: State changed to start
"""
BIRD_PROTOCOLS_ALL = """BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
peer_nyc   BGP        ---        start  2026-12-05 12:20:38.292  Active        Socket: Conn refused
  BGP state:          Active
    Neighbor address: 100.64.0.2
    Neighbor AS:      65002
  Channel ipv4
    State:          DOWN
peer_lon   BGP        ---        up     2026-12-05 12:20:11.656  Established
  BGP state:          Established
    Neighbor address: 100.64.0.6
    Hold timer:       2.086/3
    Keepalive timer:  0.153/1
  Channel ipv4
    Routes:         3 imported, 2 exported, 1 preferred
    Route change stats:     received   rejected   filtered    ignored   accepted
      Import updates:              4          0          0          0          4
      Import withdraws:            1          0        ---          0          1
      Export updates:              5          2          0        ---          3
      Export withdraws:            0        ---        ---        ---          0
"""


def test_a_bird_router_gives_the_same_records_from_its_log_and_birdc(tmp_path, monkeypatch):
    from testbed.net import bird
    from testbed.net.daemons import BirdDaemon

    class BirdPlan(FakePlan):
        def __init__(self) -> None:
            n = FakePlan.Neighbor
            neighbors = [n("100.64.0.2", "nyc", bfd=True), n("100.64.0.6", "lon")]
            self.routers = {"ta": FakePlan.Router(neighbors, daemon="bird")}

    class BirdTestbed(FakeTestbed):
        plan = BirdPlan()

    (tmp_path / "ta").mkdir()
    (tmp_path / "ta" / "bird.log").write_text(BIRD_LOG)
    monkeypatch.setattr(bird, "BIRD_RUN_DIR", tmp_path)
    asked: List[str] = []

    def birdc(self, router: str, command: str, timeout: float = 20) -> str:
        asked.append(command)
        return BIRD_PROTOCOLS_ALL if command == "show protocols all" else "BIRD 2.0.12 ready.\n"

    monkeypatch.setattr(BirdDaemon, "birdc", birdc)
    out = tmp_path / "bgp.jsonl"
    BgpRecorder(BirdTestbed(), out, interval=0).start().stop()
    assert asked[:2] == [
        'debug "peer_*" { states, events, routes }',
        'debug "bfd*" { states, events }',
    ]
    records = list(read_records(out))
    states = [(r["peer"], r["previous"], r["state"], r["source"], r["reason"])
              for r in records if r["kind"] == "bgp" and r["event"] == "state"]  # fmt: skip
    assert states[:2] == [
        ("nyc", "OpenConfirm", "Established", "log", None),
        ("nyc", "Established", "Idle", "log", "BFD down received"),  # bgpd's words
    ]
    assert ("lon", None, "Established", "poll", None) in states  # a start is not a Down
    (bfd,) = [r for r in records if r["kind"] == "bfd"]
    assert (bfd["peer"], bfd["previous"], bfd["state"]) == ("nyc", "up", "down")
    assert bfd["t"] == stamp_iso("2026-12-05 12:20:38.292")
    (withdraw,) = [r for r in records if r["event"] == "withdraw"]
    assert (withdraw["peer"], withdraw["prefix"]) == ("nyc", "198.51.100.0/24")
    counters = {r["peer"]: r for r in records if r["event"] == "counters"}
    assert (counters["lon"]["updates_in"], counters["lon"]["updates_out"]) == (4, 3)
    assert (counters["lon"]["prefixes_in"], counters["lon"]["hold"]) == (3, 3.0)
    assert counters["nyc"]["state"] == "Active" and counters["nyc"]["withdrawals_in"] == 1


def stamp_iso(ts: str) -> float:
    from datetime import datetime

    return datetime.strptime(ts, "%Y-%m-%d %H:%M:%S.%f").timestamp()


def test_the_counters_poll_slows_down_past_250_routers():
    assert bgp.poll_interval(16) == bgp.poll_interval(250) == 5.0
    assert bgp.poll_interval(503) == pytest.approx(10.06)
    assert bgp.poll_interval(1003) == pytest.approx(20.06)


def test_a_log_that_did_not_grow_is_not_opened(tmp_path, fake_frr, monkeypatch):
    out = tmp_path / "bgp.jsonl"
    recorder = BgpRecorder(FakeTestbed(), out, interval=0).start()
    opened: List[str] = []
    real_open = open

    def counting_open(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", counting_open)
    recorder._drain_logs()
    assert not [p for p in opened if p.endswith("frr.log")]  # unchanged: a stat, no open
    with real_open(fake_frr["log"], "a") as fh:
        fh.write(DOWN + "\n")
    recorder._drain_logs()
    assert [p for p in opened if p.endswith("frr.log")]
    monkeypatch.undo()
    recorder.stop()
    assert any(r.get("state") == "Idle" for r in read_records(out))
