"""A run stopped on a fault, in one line and in its summary; a second testbed refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testbed.analysis import analyse
from testbed.analysis.report import incident_lines, render_markdown
from testbed.errors import InputError
from testbed.net import state as state_mod
from testbed.net.state import Claim, State, TestbedBusy, busy_message, refuse_if_running
from testbed.scenario.engine import RunFault, RunResult
from testbed.watchdog import Death

RUN = Path("runs/20261204-120000-faults")


def test_disk_full_line():
    fault = RunFault("disk full while writing records/dns-ca.jsonl", 12.34, disk=True)
    assert fault.line(RUN) == (
        "runs/20261204-120000-faults: disk full while writing records/dns-ca.jsonl: "
        "the run stopped at t=12.3 s; the records so far are kept (free some space, then: "
        "anycast-testbed report runs/20261204-120000-faults)"
    )
    assert fault.summary_reason == (
        "stopped: disk full while writing records/dns-ca.jsonl at t=12.3 s"
    )
    early = RunFault("disk full while writing routers/ta/frr.conf", None, disk=True)
    assert early.line(RUN).endswith("the run stopped during bring-up, before its timeline "
                                     "(nothing to report)")  # fmt: skip
    report = RunFault("disk full while writing summary.json", 20.0, disk=True, phase="report")
    assert "the run finished but its report was not written" in report.line(RUN)


def test_died_line_and_result():
    death = Death(1.0, "cb", "dns-probe", 7, -9, "killed by SIGKILL", "stop", "cb's DNS ...")
    fault = RunFault(death.line(), 4.5, disk=False, death=death)
    assert fault.line(RUN) == (
        "runs/20261204-120000-faults: dns-probe on cb died (killed by SIGKILL): the run "
        "stopped at t=4.5 s, as its measurements would be wrong from then on "
        "(the report covers what ran)"
    )
    result = RunResult(RUN, interrupted=fault.summary_reason, fault=fault)
    assert result.fault_line() == fault.line(RUN) and not result.expectations_met
    assert "\n" not in result.fault_line()


def write_run(folder: Path) -> Path:
    (folder / "records").mkdir(parents=True)
    t0 = 1000.0
    meta = {
        "t0": t0,
        "duration": 10,
        "scenario": "faults",
        "topology": "two-sites",
        "clients": ["ca"],
        "sites": ["east"],
        "routers": ["ta"],
        "caveats": ["a knob"],
    }
    (folder / "meta.json").write_text(json.dumps(meta))
    dns = [{"t": t0 + i * 0.5, "kind": "dns", "client": "ca", "seq": i, "status": "ok",
            "rtt": 0.001, "site": "east"} for i in range(8)]  # fmt: skip
    (folder / "records" / "dns-ca.jsonl").write_text("".join(json.dumps(r) + "\n" for r in dns))
    run = [
        {"t": t0 + 1.5, "kind": "process_died", "node": "ta", "process": "bgpd", "pid": 5,
         "status": None, "how": "status unknown", "action": "carried on",
         "affects": "ta's BGP sessions (tb) drop", "fault": None, "file": None, "at": 1.5},
        {"t": t0 + 3.2, "kind": "run_stopped", "reason": "disk full while writing "
         "records/dns-ca.jsonl", "fault": "disk full", "file": "records/dns-ca.jsonl",
         "process": "dns-probe", "node": "ca", "at": 3.2},
    ]  # fmt: skip
    (folder / "records" / "run.jsonl").write_text("".join(json.dumps(r) + "\n" for r in run))
    return folder


def test_summary_and_report_say_what_died_and_why_the_run_stopped(tmp_path):
    summary = analyse(write_run(tmp_path / "run"), plots=False)
    assert summary["processes"][0]["process"] == "bgpd"
    assert summary["processes"][0]["t"] == 1.5
    assert summary["stopped"]["fault"] == "disk full" and summary["stopped"]["t"] == 3.2
    assert summary["interrupted"] == (
        "stopped: disk full while writing records/dns-ca.jsonl at t=3.2 s"
    )
    assert summary["caveats"] == [
        "a knob",
        "bgpd on ta died on its own at t=1.500 s (status unknown); the run carried on: "
        "ta's BGP sessions (tb) drop",
        "the run stopped early at t=3.2 s: disk full while writing records/dns-ca.jsonl; "
        "figures cover what ran",
    ]
    text = render_markdown(summary)
    assert "## Caveats" in text and "bgpd on ta died on its own" in text
    assert "The run was interrupted (stopped: disk full" in text
    assert incident_lines(summary) == [f"warning: {c}" for c in summary["caveats"][1:]]


def test_a_run_without_incidents_has_none(tmp_path):
    folder = write_run(tmp_path / "run")
    (folder / "records" / "run.jsonl").write_text("")
    summary = analyse(folder, plots=False)
    assert summary["processes"] == [] and summary["stopped"] is None
    assert "interrupted" not in summary and summary["caveats"] == ["a knob"]
    assert incident_lines(summary) == []


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(state_mod, "STATE_DIR", tmp_path)
    monkeypatch.setattr(state_mod, "STATE_FILE", tmp_path / "state.json")
    monkeypatch.setattr(state_mod, "LOCK_FILE", tmp_path / "lock")
    return tmp_path


def test_a_second_testbed_is_refused_with_one_line_naming_the_first(state_dir):
    import os

    refuse_if_running()  # nothing runs
    State(owner=os.getpid(), owner_start=state_mod.proc_start_time(os.getpid()),
          topology="world", run_dir="runs/20261204-120000-world").save()  # fmt: skip
    with pytest.raises(TestbedBusy) as caught:
        refuse_if_running()
    assert isinstance(caught.value, InputError)  # the CLI exits 2
    assert str(caught.value) == (
        f"a testbed is already running: world (pid {os.getpid()}, runs/20261204-120000-world); "
        "stop it first (Ctrl-C there, or anycast-testbed clean if it was killed)"
    )
    dead = State(owner=2**22 + 7, owner_start=1, topology="world", run_dir="x")
    dead.save()
    refuse_if_running()  # its owner is gone: `clean` territory, not a running testbed
    assert "another one is starting" in busy_message(None)


def test_the_claim_is_exclusive_and_released(state_dir):
    first, second = Claim(), Claim()
    assert first.acquire() and first.held
    assert not second.acquire() and not second.held
    first.release()
    assert second.acquire()
    second.release()
    second.release()  # idempotent
