"""The health agent: golden records per action, the shutdown order, a frozen router.

Fakes stand in for FRR/Ryu (the announcer), ``ip addr del`` (the remover)
and time, and write into one shared log, so the tests assert the ORDER in
which the agent acts: the announcement is withdrawn (or demoted) before the
service address is removed, never after.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from typing import Any, Dict, List

import pytest

from testbed import proc
from testbed.errors import TestbedError
from testbed.health import agent
from testbed.health.machine import Announcement
from testbed.records import RecordWriter

CONFIG: Dict[str, Any] = {
    "site": "lon",
    "router": "lon",
    "speaker": "frr",
    "asn": 64500,
    "prefix": "192.0.2.0/24",
    "peers": ["eu"],
    "service": "192.0.2.53",
    "tcp_port": 8053,
    "base_med": None,
    "base_prepend": 0,
    "addresses": [{"node": "lon-1", "pid": 4242, "address": "192.0.2.53/32"}],
    "interval": 1.0,
    "timeout": 0.5,
    "rise": 2,
    "fall": 2,
    "checks": ["dns", "tcp"],
    "action": "withdraw",
    "med": 1000,
    "prepend": 3,
}


class Log(list):
    """What the fakes did, in order."""


class FakeAnnouncer:
    """Records every announcement asked for; fails while ``broken``."""

    def __init__(self, log: Log):
        self.log = log
        self.current = Announcement(True, None, 0)
        self.broken = False

    def apply(self, want: Announcement) -> List[str]:
        if self.broken:
            self.log.append(("apply failed", want))
            raise TestbedError("vtysh on lon did not answer within 20 s")
        self.log.append(("apply", want))
        done = [] if want == self.current else [f"{want}"]
        self.current = want
        return done


class FakeRemover:
    def __init__(self, log: Log):
        self.log = log

    def remove(self):
        self.log.append(("remove address",))
        return ["lon-1"], []


class Memory:
    """A RecordWriter stand-in keeping the records."""

    def __init__(self):
        self.records: List[Dict[str, Any]] = []

    def write(self, record: Dict[str, Any]) -> None:
        self.records.append(record)


class Clock:
    def __init__(self, log: Log):
        self.now, self.log = 100.0, log

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.log.append(("sleep", seconds))
        self.now += seconds


def make(action: str = "withdraw", script: str = "", **cfg: Any):
    """An agent on fakes; ``script``: one round per character, 'o' ok, 'x' failed."""
    log = Log()
    rounds = iter(script)
    clock = Clock(log)
    a = agent.Agent(
        {**CONFIG, "action": action, **cfg},
        Memory(),
        announcer=FakeAnnouncer(log),
        remover=FakeRemover(log),
        checker=lambda: [] if next(rounds) == "o" else ["dns: Timeout"],
        sleep=clock.sleep,
        clock=clock,
    )
    return a, log, clock


# given these check results (rise 2, fall 2) ...
SCRIPT = "ooxoxxxooxoo"
# ... these state changes (round index, state) and these announcements, in order
GOLDEN = {
    "withdraw": [(5, "down", Announcement(False, None, 0)), (8, "up", Announcement(True, None, 0))],
    "med": [(5, "down", Announcement(True, 1000, 0)), (8, "up", Announcement(True, None, 0))],
    "prepend": [(5, "down", Announcement(True, None, 3)), (8, "up", Announcement(True, None, 0))],
}


@pytest.mark.parametrize("action", sorted(GOLDEN))
def test_golden_announcements_per_action(action):
    a, log, _ = make(action, SCRIPT)
    changes = [(i, new) for i in range(len(SCRIPT)) if (new := a.step())]
    assert changes == [(i, state) for i, state, _ in GOLDEN[action]]
    assert log == [("apply", want) for _, _, want in GOLDEN[action]]
    states = [r for r in a.writer.records if r["event"] == "state"]
    assert [(r["previous"], r["state"], r["action"]) for r in states] == [
        ("up", "down", action),
        ("down", "up", action),
    ]
    assert states[0]["failures"] == ["dns: Timeout"] and states[1]["failures"] == []
    assert all(r["error"] is None and r["applied"] for r in states)


@pytest.mark.parametrize("action", sorted(GOLDEN))
def test_shutdown_withdraws_whatever_the_action_then_drains_then_removes_the_address(action):
    a, log, _ = make(action, "oo")
    a.step(), a.step()
    a.shutdown()
    assert log == [("apply", Announcement(False, None, 0)), ("sleep", 1.0), ("remove address",)]
    assert [r["event"] for r in a.writer.records] == ["state", "address"]
    state, address = a.writer.records
    assert (state["state"], state["previous"], state["action"]) == ("down", "up", "withdraw")
    assert state["reason"] == agent.STOPPING and state["reason"].startswith("agent stopping")
    assert address == {
        "kind": "health",
        "site": "lon",
        "event": "address",
        "address": "192.0.2.53",
        "removed": ["lon-1"],
        "drain_s": 1.0,
        "error": None,
    }


@pytest.mark.parametrize(
    "action, demoted",
    [("med", Announcement(True, 1000, 0)), ("prepend", Announcement(True, None, 3))],
)
def test_shutdown_of_a_demoted_site_withdraws_it_before_the_address_goes(action, demoted):
    """Down by MED or prepending, the route is still announced: it must go before the address."""
    a, log, clock = make(action, "xx")
    a.step(), a.step()  # down: demoted at clock 100.0, still announced
    clock.now += 30
    a.shutdown()
    withdrawn = Announcement(False, demoted.med, demoted.prepend)
    assert log == [("apply", demoted), ("apply", withdrawn), ("sleep", 1.0), ("remove address",)]
    assert [r["event"] for r in a.writer.records] == ["state", "state", "address"]
    _, state, address = a.writer.records
    assert (state["previous"], state["state"], state["action"]) == ("down", "down", "withdraw")
    assert state["reason"] == agent.STOPPING and state["applied"] == [f"{withdrawn}"]
    assert address["removed"] == ["lon-1"] and address["drain_s"] == 1.0  # from the withdrawal


def test_drain_time_is_configurable():
    a, log, _ = make("withdraw", "", drain=2.5)
    a.shutdown()
    assert log[1:] == [("sleep", 2.5), ("remove address",)]


def test_shutdown_of_a_site_already_down_only_waits_what_is_left_of_the_drain():
    a, log, clock = make("withdraw", "xx", drain=1.0)
    a.step(), a.step()  # down: withdrawn at clock 100.0
    clock.now += 0.25
    a.shutdown()
    assert log == [("apply", Announcement(False, None, 0)), ("sleep", 0.75), ("remove address",)]
    assert [r["event"] for r in a.writer.records] == ["state", "address"]
    assert a.writer.records[1]["drain_s"] == 1.0  # withdrawn 0.25 s before, then 0.75 s asleep


def test_long_down_site_removes_the_address_at_once():
    a, log, clock = make("withdraw", "xx")
    a.step(), a.step()
    clock.now += 30
    a.shutdown()
    assert log[1:] == [("remove address",)]
    assert a.writer.records[-1]["drain_s"] == 30.0


@pytest.mark.parametrize("action", sorted(GOLDEN))
def test_address_is_kept_when_the_withdrawal_fails(action):
    a, log, _ = make(action, "")
    a.announcer.broken = True
    a.shutdown()
    assert ("remove address",) not in log and not [x for x in log if x[0] == "sleep"]
    state, address = a.writer.records
    assert state["error"] == "vtysh on lon did not answer within 20 s" and state["applied"] == []
    assert address["removed"] == [] and address["error"] == (
        "the route was not withdrawn: service address kept"
    )


def test_a_withdrawal_that_failed_while_down_is_applied_at_shutdown():
    a, log, clock = make("withdraw", "xx")
    a.announcer.broken = True
    a.step(), a.step()  # down, but the withdrawal did not go through
    a.announcer.broken = False
    clock.now += 5
    a.shutdown()
    assert [x[0] for x in log] == ["apply failed", "apply", "sleep", "remove address"]
    assert [r["event"] for r in a.writer.records] == ["state", "state", "address"]
    assert a.writer.records[1]["previous"] == "down" and a.writer.records[1]["error"] is None
    assert a.writer.records[2]["drain_s"] == 1.0


def test_frozen_router_is_recorded_and_the_change_applied_once_it_answers():
    a, log, _ = make("withdraw", "xxxxo")
    a.announcer.broken = True
    assert a.step() is None and a.step() == "down"
    assert a.writer.records[-1]["error"] and a.pending
    a.step()  # still frozen: retried, nothing recorded
    assert len(a.writer.records) == 1
    a.announcer.broken = False
    a.step()
    assert [r["event"] for r in a.writer.records] == ["state", "retry"]
    assert a.writer.records[-1]["applied"] and a.writer.records[-1]["state"] == "down"
    assert not a.pending
    a.step()  # one good round: still down (rise 2), nothing to retry
    assert [x[0] for x in log] == ["apply failed", "apply failed", "apply"]


def test_vtysh_timeout_is_a_testbed_error(monkeypatch):
    def hang(argv, **kw):
        raise subprocess.TimeoutExpired(argv, kw.get("timeout"))

    monkeypatch.setattr(agent.frr.subprocess, "run", hang)
    with pytest.raises(TestbedError, match=r"vtysh on lon did not answer within 20 s"):
        agent.frr.vtysh("lon", "show bgp summary")


def test_agent_on_a_frozen_frr_router_keeps_running(monkeypatch):
    """The real Announcer and frr.vtysh, with vtysh hanging (a SIGSTOPped router)."""
    rounds = iter("xxx")
    timeouts = []

    def hang(argv, **kw):
        timeouts.append(kw["timeout"])
        raise subprocess.TimeoutExpired(argv, kw["timeout"])

    monkeypatch.setattr(agent.frr.subprocess, "run", hang)
    a = agent.Agent(CONFIG, Memory(), checker=lambda: [] if next(rounds) == "o" else ["x"])
    a.step(), a.step(), a.step()
    [state] = a.writer.records
    assert state["state"] == "down" and state["applied"] == []
    assert "vtysh on lon did not answer within 5 s" in state["error"]
    assert timeouts == [agent.VTYSH_TIMEOUT_S] * 2  # the change, then one retry


def test_address_remover_enters_each_servers_namespace(monkeypatch):
    calls = []

    def run(argv, **kw):
        calls.append(argv)
        rc = 2 if "--net=/proc/2/ns/net" in argv else 0
        return subprocess.CompletedProcess(argv, rc, "", "RTNETLINK answers: Cannot assign")

    monkeypatch.setattr(agent.subprocess, "run", run)
    remover = agent.AddressRemover(
        {
            "addresses": [
                {"node": "lon-1", "pid": 1, "address": "192.0.2.53/32"},
                {"node": "lon-2", "pid": 2, "address": "192.0.2.53/32"},
            ]
        }
    )
    assert remover.remove() == (["lon-1"], ["lon-2: RTNETLINK answers: Cannot assign"])
    assert calls[0] == [
        "nsenter", "--net=/proc/1/ns/net", "--", "ip", "addr", "del", "192.0.2.53/32", "dev", "lo"
    ]  # fmt: skip
    assert agent.AddressRemover.argv({"address": "192.0.2.53/32"})[0] == "ip"


def test_sigterm_runs_the_shutdown_in_order(tmp_path):
    """The real loop and StopSignal: SIGTERM during round 3 ends in state, address, stop."""
    out = tmp_path / "health.jsonl"
    log = Log()
    count = {"n": 0}

    def checker() -> List[str]:
        count["n"] += 1
        if count["n"] == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return []

    clock = Clock(log)
    with proc.StopSignal() as stop, RecordWriter(out) as writer:
        a = agent.Agent(
            {**CONFIG, "interval": 0.01},
            writer,
            announcer=FakeAnnouncer(log),
            remover=FakeRemover(log),
            checker=checker,
            sleep=clock.sleep,
            clock=clock,
        )
        a.run(stop)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["event"] for r in records] == ["start", "state", "address", "stop"]
    assert records[0]["drain"] == 1.0 and records[1]["state"] == "down"
    assert records[1]["t"] <= records[2]["t"] <= records[3]["t"]
    assert log == [("apply", Announcement(False, None, 0)), ("sleep", 1.0), ("remove address",)]
    assert count["n"] == 3
