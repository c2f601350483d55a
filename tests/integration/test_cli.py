"""The CLI as a user runs it: up --check, exec and vtysh from another terminal, shell, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from testbed.net.state import load_state
from tests.integration.helpers import ROOT, cli, frr_processes


def test_up_check_two_sites(tmp_path):
    done = cli("up", "two-sites", "--check", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "BGP converged in" in done.stdout
    assert "(10/10 sessions established)" in done.stdout
    (run,) = list(tmp_path.iterdir())
    summary = json.loads((run / "up.json").read_text())
    assert summary["catchment"] == {"ca": "east", "cb": "west"}
    assert (run / "routers" / "east" / "frr.conf").exists()


def test_up_check_traffic_two_sites(tmp_path):
    """--check --traffic: converged, every session up, every client reached a site: exit 0."""
    done = cli("up", "two-sites", "--check", "--traffic", "--out", str(tmp_path), timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(10/10 sessions established)" in done.stdout
    (run,) = list(tmp_path.iterdir())
    assert (run / "records" / "dns-ca.jsonl").stat().st_size > 0
    assert load_state() is None and frr_processes() == []


def test_malformed_topology_exits_2_and_starts_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\nases:\n  - {name: ta, asn: 65001, role: transit}\n"
        "links:\n  - {a: ta, b: nowhere}\n"
    )
    done = cli("up", str(bad), "--out", str(tmp_path / "runs"))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"anycast-testbed: {bad}: links[0].b: no router or AS called 'nowhere'"
    )
    assert "Traceback" not in done.stderr
    assert load_state() is None and frr_processes() == []
    assert not (tmp_path / "runs").exists()


def test_bad_options_exit_2_in_one_line():
    done = cli("up", "world", "--timeout", "soon")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "--timeout" in done.stderr
    assert cli("exec", "paris", "--", "true").returncode == 2  # nothing is up


def test_exec_and_vtysh_while_up(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "testbed", "up", "world", "--out", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while "converged" not in proc.stdout.readline():
            assert time.monotonic() < deadline and proc.poll() is None
        ping = cli("exec", "paris", "--", "ping", "-c", "1", "-W", "2", "192.0.2.53")
        assert ping.returncode == 0 and "1 received" in ping.stdout
        route = cli("vtysh", "eu", "-c", "show ip route 192.0.2.0/24 json")
        assert route.returncode == 0
        entry = json.loads(route.stdout)["192.0.2.0/24"][0]
        assert entry["protocol"] == "bgp" and entry["selected"]
        missing = cli("exec", "atlantis", "--", "true")
        assert missing.returncode == 2 and "no node 'atlantis'" in missing.stderr
    finally:
        proc.terminate()
        assert proc.wait(timeout=60) == 0
    assert frr_processes() == []


def test_shell_script(tmp_path):
    script = tmp_path / "cmds"
    script.write_text("routes\nsites\nvtysh ta show bgp summary\nca ping -c1 -W1 192.0.2.53\n")
    done = cli("shell", "two-sites", "--script", str(script), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    out = done.stdout + done.stderr  # Mininet's CLI prints node output on stderr
    assert "ta          192.0.2.0/24  100.64.0.13 (east)" in out
    assert "ca          east   ispa > ta > east" in out
    assert "Total number of neighbors 3" in out
    assert "1 received" in out


def test_list_and_doctor():
    listing = cli("list")
    assert listing.returncode == 0 and "world" in listing.stdout and "chain:N" in listing.stdout
    doctor = cli("doctor")
    assert doctor.returncode == 0, doctor.stdout
    assert "FRR 8." in doctor.stdout and "netem" in doctor.stdout
