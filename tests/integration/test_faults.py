"""Faults survived with nothing lost: a full disk, daemons that die, SIGKILL, a second testbed.

Each test runs real Mininet + FRR + NSD on two-sites with a timeline of a few
seconds, and ends with nothing left behind (no state, process, namespace,
interface or FRR folder).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testbed.net.state import STATE_FILE, load_state
from tests.integration.helpers import ROOT, cli, frr_processes
from tests.integration.test_teardown import assert_clean, root_links, wait_for_state

#: A short scenario: west's router crashes at 1 s and is restored at 3 s, and
#: west's stream service is killed at 2 s -- deaths the scenario causes itself.
SCENARIO = """\
name: faults
description: "short: west crashes at 1 s, its stream service is killed at 2 s, restored at 3 s"
topology: two-sites
duration: {duration}
settle: 1
bgp: {{keepalive: 1, hold: 3}}
timeline:
  - {{at: 1, event: fail_site, site: west, how: router-crash}}
  - {{at: 2, event: kill_service, site: west, service: tcp}}
  - {{at: 3, event: restore, site: west}}
"""


def scenario(tmp_path: Path, duration: float) -> Path:
    path = tmp_path / "faults.yaml"
    path.write_text(SCENARIO.format(duration=duration))
    return path


def start_run(args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "testbed", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def wait_timeline(out: Path, proc: subprocess.Popen, timeout: float = 60.0) -> dict:
    """The meta.json of the run in ``out`` once its timeline has started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for meta in out.glob("*/meta.json"):
            try:
                return json.loads(meta.read_text())
            except ValueError:
                pass
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the timeline did not start")


def records_whole(run_dir: Path) -> int:
    """Every line of every records file is a complete JSON object; how many lines."""
    count = 0
    for path in sorted((run_dir / "records").glob("*.jsonl")):
        data = path.read_bytes()
        assert not data or data.endswith(b"\n"), f"{path.name} ends with a partial line"
        for line in data.splitlines():
            assert isinstance(json.loads(line), dict), path.name
            count += 1
    return count


def nothing_left(before_links: set) -> None:
    assert not STATE_FILE.exists()
    assert frr_processes() == []
    assert root_links() == before_links
    assert "/run/anycast-testbed/netns" not in Path("/proc/self/mountinfo").read_text()


def tracked(name: str, node: str):
    state = load_state()
    found = [p for p in state.processes if p.name == name and p.node == node and p.alive()]
    assert found, f"no running {name} on {node}"
    return found[-1]


# ------------------------------------------------------------------ disk full
def test_disk_full_stops_the_run_with_one_line(tmp_path):
    """The disk fills mid-run: one line, exit 3, whole records, `report` works after."""
    before = root_links()
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(small)], check=True)
    try:
        proc = start_run(["run", str(scenario(tmp_path, 30)), "--out", str(small)])
        try:
            wait_timeline(small, proc)
            time.sleep(0.5)
            free = os.statvfs(small).f_bavail * os.statvfs(small).f_frsize
            with open(small / "filler", "wb") as fh:  # leave 24 KiB: the records fill it
                fh.write(b"x" * (free - 24 * 1024))
            filled = time.monotonic()
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        stopped_after = time.monotonic() - filled
        assert proc.returncode == 3, err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        run_dir = next(p for p in small.iterdir() if p.is_dir())
        assert re.fullmatch(
            rf"anycast-testbed: {re.escape(str(run_dir))}: disk full while writing "
            r"records/[a-z-]+\.jsonl: the run stopped at t=\d+\.\d s; the records so far are "
            rf"kept \(free some space, then: anycast-testbed report {re.escape(str(run_dir))}\)",
            lines[0],
        ), lines[0]
        assert "Traceback" not in out + err
        assert stopped_after < 20  # 24 KiB of records, then teardown; not the 30 s timeline
        assert records_whole(run_dir) > 100
        stop = json.loads((run_dir / "records" / "run.jsonl").read_text().splitlines()[-1])
        assert stop["kind"] == "run_stopped" and stop["fault"] == "disk full"
        nothing_left(before)
        # with the disk full to the last byte, `report` says so on one line
        with open(small / "filler2", "wb", buffering=0) as fh, pytest.raises(OSError):
            while True:
                fh.write(b"x" * 4096)
        full = cli("report", str(run_dir), "--no-plots")
        assert full.returncode != 0 and len(full.stderr.strip().splitlines()) == 1, full.stderr
        assert "No space left on device" in full.stderr and "Traceback" not in full.stderr
        (small / "filler").unlink()
        (small / "filler2").unlink()
        done = cli("report", str(run_dir), "--no-plots")
        assert done.returncode == 0, done.stderr
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["interrupted"].startswith("stopped: disk full while writing records/")
        assert summary["stopped"]["fault"] == "disk full"
        assert "disk full" in (run_dir / "report.md").read_text()
    finally:
        subprocess.run(["umount", str(small)], check=False)


# ------------------------------------------------------------ process deaths
def test_daemon_deaths_are_recorded_and_a_probe_death_stops_the_run(tmp_path):
    """NSD and bgpd killed by hand: recorded, the run carries on; a probe killed: it stops.

    The scenario's own router crash and service kill are not reported.
    """
    before = root_links()
    out_dir = tmp_path / "runs"
    proc = start_run(["run", str(scenario(tmp_path, 8)), "--out", str(out_dir)])
    kills = {}
    try:
        t0 = wait_timeline(out_dir, proc)["t0"]
        plan = (("nsd", "east-1", 1.5), ("bgpd", "ta", 2.2), ("dns-probe", "cb", 4.0))
        for name, node, at in plan:
            time.sleep(max(0.0, t0 + at - time.time()))
            victim = tracked(name, node)
            kills[name] = time.time()  # before the kill: the watchdog may notice at once
            os.kill(victim.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert re.search(
        r": dns-probe on cb died \(killed by SIGKILL\): the run stopped at t=4\.\d s, as its "
        r"measurements would be wrong from then on \(the report covers what ran\)$",
        lines[0],
    ), lines[0]
    assert "warning: nsd on east-1 died (killed by SIGKILL); the run carries on" in out
    assert "warning: bgpd on ta died (status unknown); the run carries on" in out
    run_dir = next(p for p in out_dir.iterdir() if p.is_dir())
    records = [json.loads(x) for x in (run_dir / "records" / "run.jsonl").read_text().splitlines()]
    died = {r["process"]: r for r in records if r["kind"] == "process_died"}
    assert set(died) == {"nsd", "bgpd", "dns-probe"}  # not west's daemons nor its stream
    assert died["nsd"]["node"] == "east-1" and died["nsd"]["status"] == -9
    assert died["nsd"]["action"] == died["bgpd"]["action"] == "carried on"
    assert died["dns-probe"]["action"] == "stopped the run"
    for name, killed in kills.items():
        assert 0 <= died[name]["t"] - killed < 1.0, name  # noticed within a second
    assert records[-1]["kind"] == "run_stopped" and records[-1]["process"] == "dns-probe"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert [d["process"] for d in summary["processes"]] == ["nsd", "bgpd", "dns-probe"]
    caveats = "\n".join(summary["caveats"])
    assert "nsd on east-1 died on its own" in caveats and "bgpd on ta died on its own" in caveats
    assert "site east's DNS on east-1 stops answering" in caveats
    assert summary["interrupted"].startswith("stopped: dns-probe on cb died")
    report = (run_dir / "report.md").read_text()
    assert "## Caveats" in report and "the run carried on: ta's BGP sessions" in report
    events = [
        json.loads(x) for x in (run_dir / "records" / "events.jsonl").read_text().splitlines()
    ]
    assert [e["event"] for e in events] == ["fail_site", "kill_service", "restore"]
    assert records_whole(run_dir) > 0
    nothing_left(before)


# ----------------------------------------------------------- SIGKILL + clean
def _killpoints():
    path = ROOT / "bench" / "killpoints.py"
    spec = importlib.util.spec_from_file_location("bench_killpoints", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_sigkill_at_random_points_then_clean_leaves_nothing(tmp_path):
    """Three seeded kill points (bench/killpoints.py runs twenty)."""
    kp = _killpoints()
    outcomes = kp.run_points(kp.points(3, seed=13), tmp_path, say=print)
    assert [o.left for o in outcomes] == [[], [], []], [o.line() for o in outcomes]


# --------------------------------------------------------- a second testbed
def test_a_second_testbed_is_refused_and_the_first_is_undisturbed(tmp_path):
    before = root_links()
    first = subprocess.Popen(
        [sys.executable, "-m", "testbed", "up", "two-sites", "--out", str(tmp_path / "first")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        state = wait_for_state(first)
        expected = (
            f"anycast-testbed: a testbed is already running: two-sites (pid {first.pid}, "
            f"{state.run_dir}); stop it first (Ctrl-C there, or anycast-testbed clean if it "
            "was killed)"
        )
        second = tmp_path / "second"
        attempts = [
            ("up", "two-sites", "--out", str(second)),
            ("run", str(scenario(tmp_path, 5)), "--out", str(second)),
            ("shell", "two-sites", "--out", str(second)),
        ]
        for args in attempts:
            done = cli(*args, timeout=60)
            assert done.returncode == 2, (args, done.stderr)
            assert done.stderr.strip().splitlines()[-1] == expected, done.stderr
            assert "Traceback" not in done.stderr
        assert not second.exists() or not any(second.iterdir())  # nothing created
        now = load_state()
        assert now.owner == first.pid and now.run_dir == state.run_dir
        assert all(p.alive() for p in now.processes) and all(n.alive() for n in now.nodes.values())
        bgp = cli("vtysh", "ta", "-c", "show bgp ipv4 unicast summary json", timeout=30)
        assert bgp.returncode == 0, bgp.stderr
        data = json.loads(bgp.stdout)
        peers = data.get("peers") or data["ipv4Unicast"]["peers"]
        assert {p["state"] for p in peers.values()} == {"Established"}
        assert first.poll() is None
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
            cli("clean")
    assert_clean(before, state)


@pytest.fixture(autouse=True)
def _no_testbed_between_tests():
    yield
    assert load_state() is None, "a test left a testbed state behind"
