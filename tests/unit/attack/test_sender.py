"""The attack sender: refusals (exit 2, one line, nothing sent), sendmmsg batches, and a
real run inside a private network namespace (root)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from testbed.attack import sender
from testbed.records import read_records

ROOT = Path(__file__).resolve().parents[3]
PREFIX = "^python -m testbed.attack.sender: error: "
GOOD = [
    "--source", "atk1", "--as", "eyeball1", "--target", "192.0.2.53",
    "--prefix", "192.0.2.0/24", "--rate", "2000", "--duration", "1",
]  # fmt: skip


def run_sender(args: List[str], out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "testbed.attack.sender", *args, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def with_(**changes: str) -> List[str]:
    """GOOD with some options changed (``ramp="5"`` -> ``--ramp 5``)."""
    args = list(GOOD)
    for key, value in changes.items():
        flag = f"--{key}"
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    return args


# -- refusals -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"rate": "100001"}, "rate: 100001 packets/s per source: more than 0 and at most 100000"),
        ({"size": "1401"}, "size: 1401 bytes of payload: from 12 to 1400"),
        ({"size": "11"}, "size: 11 bytes of payload: from 12 to 1400"),
        ({"duration": "601"}, "duration: 601 s: more than 0 and at most 600 s"),
        ({"ramp": "61"}, "ramp: a ramp of 61 s: from 0 to 60 s"),
        ({"target": "192.0.3.53"}, "--target 192.0.3.53 is not inside --prefix 192.0.2.0/24"),
        ({"target": "192.0.2.255"}, "is the prefix's broadcast address"),
        ({"target": "127.0.0.1", "prefix": "127.0.0.0/8"}, "overlaps loopback"),
        ({"target": "224.0.0.1", "prefix": "224.0.0.0/24"}, "overlaps multicast"),
        ({"prefix": "0.0.0.0/0"}, "--prefix 0.0.0.0/0 overlaps"),
        ({"prefix": "192.0.2.1/24"}, "has host bits set"),
        ({"zone": "a..b"}, "--zone: invalid zone name"),
        ({"rate": "-3"}, "argument --rate: -3 must be more than 0"),
        ({"ramp": "-1"}, "argument --ramp: -1 must be 0 or more"),
        ({"kind": "http"}, "argument --kind: invalid choice"),
    ],
)
def test_refused_with_one_line_and_exit_2_before_anything(tmp_path, changes, words):
    out = tmp_path / "attack.jsonl"
    done = run_sender(with_(**changes), out)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1
    assert words in done.stderr
    assert done.stderr.startswith("python -m testbed.attack.sender: error: ")
    assert not out.exists()


def test_refused_in_the_root_network_namespace(tmp_path):
    if sender.netns_problem() is None:
        pytest.skip("not in the root network namespace: the sender would send")
    out = tmp_path / "attack.jsonl"
    done = run_sender(GOOD, out)
    assert done.returncode == 2
    assert done.stderr in (
        "python -m testbed.attack.sender: error: this is the root network namespace: "
        "attack traffic leaves only from a testbed namespace\n",
        "python -m testbed.attack.sender: error: cannot tell whether this is the root "
        "network namespace: refusing to send\n",
    )
    assert not out.exists()


@pytest.mark.parametrize(
    "target, prefix, problem",
    [
        ("192.0.2.53", "192.0.2.0/24", None),
        ("192.0.2.1", "192.0.2.0/31", None),
        ("192.0.2.0", "192.0.2.0/24", "is the prefix's network address"),
        ("192.0.2.255", "192.0.2.0/24", "is the prefix's broadcast address"),
        ("10.0.0.1", "192.0.2.0/24", "is not inside --prefix"),
        ("169.254.1.1", "169.254.1.0/24", "overlaps link-local"),
        ("100.64.0.1", "100.64.0.0/24", "overlaps the testbed's link pool"),
        ("192.0.2.53", "nonsense", "--prefix nonsense:"),
    ],
)
def test_target_problem(target, prefix, problem):
    found = sender.target_problem(target, prefix)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_netns_problem_compares_the_namespace_files(tmp_path):
    own, other = tmp_path / "own", tmp_path / "other"
    own.touch()
    other.touch()
    assert sender.netns_problem(str(own), [str(other)]) is None
    assert "root network namespace" in (
        sender.netns_problem(str(own), [str(other), str(own)]) or ""
    )
    missing = str(tmp_path / "missing")
    assert "cannot tell" in (sender.netns_problem(str(own), [missing]) or "")
    assert "cannot read" in (sender.netns_problem(missing, [str(other)]) or "")


def test_kthreadd_is_a_kernel_thread_and_this_process_is_not():
    assert sender._is_kernel_thread(os.getpid()) is False
    if os.path.exists("/proc/2/stat") and Path("/proc/2/comm").read_text().strip() == "kthreadd":
        assert sender._is_kernel_thread(2)


# -- sendmmsg -------------------------------------------------------------------------


def test_batches_go_out_in_pool_order_and_wrap():
    """On the loopback, to a socket of this test (nothing leaves the machine)."""
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx,
    ):
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(2)
        tx.setblocking(False)
        pool = [bytes([i]) * (12 + i) for i in range(5)]
        batch = sender.BatchSender(tx.fileno(), "127.0.0.1", rx.getsockname()[1], pool)
        assert batch.send(3) == 3
        assert batch.send(64) == 2  # never past the pool's end
        assert batch.send(4) == 4  # from the start again
        got = [rx.recvfrom(2048) for _ in range(9)]
        assert [data for data, _ in got] == pool + pool[:4]
        assert {port for _, (_, port) in got} == {tx.getsockname()[1]}


def test_a_failed_call_raises_its_errno():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        batch = sender.BatchSender(tx.fileno(), "127.0.0.1", 9, [b"x" * 12])
        tx.close()  # a closed descriptor: EBADF
        with pytest.raises(OSError) as err:
            batch.send(1)
        assert err.value.errno == 9  # EBADF


# -- a real run in a private namespace --------------------------------------------------

HARNESS = r"""
import json, signal, socket, subprocess, sys, threading, time
spec = json.loads(sys.argv[1])
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
subprocess.run(["ip", "addr", "add", "192.0.2.53/32", "dev", "lo"], check=True)
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
rx.bind(("192.0.2.53", 53))
rx.settimeout(0.3)
count = [0]
done = threading.Event()
def receive():
    while True:
        try:
            rx.recv(2048)
            count[0] += 1
        except socket.timeout:
            if done.is_set():
                return
thread = threading.Thread(target=receive)
thread.start()
def child():
    if spec["ignore_sigint"]:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a background job inherits it
started = time.monotonic()
p = subprocess.Popen(
    [sys.executable, "-m", "testbed.attack.sender", *spec["args"]],
    stderr=subprocess.PIPE, text=True, preexec_fn=child,
)
if spec["signal"]:
    time.sleep(spec["after"])
    p.send_signal(getattr(signal, spec["signal"]))
_, err = p.communicate(timeout=30)
elapsed = time.monotonic() - started
done.set()
thread.join()
print(json.dumps({"rc": p.returncode, "stderr": err, "received": count[0], "elapsed": elapsed}))
"""

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"),
    reason="needs root, unshare and ip (a private network namespace)",
)


def in_private_netns(
    tmp_path: Path, args: List[str], signal: Optional[str] = None, ignore_sigint: bool = False
) -> Dict[str, Any]:
    """Run the sender with ``args`` under ``unshare --net``, a receiver on 192.0.2.53:53."""
    script = tmp_path / "harness.py"
    script.write_text(HARNESS)
    spec = {"args": args, "signal": signal, "after": 0.7, "ignore_sigint": ignore_sigint}
    done = subprocess.run(
        ["unshare", "--net", sys.executable, str(script), json.dumps(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@needs_root
def test_a_second_at_2000_pps_in_a_private_namespace(tmp_path):
    out = tmp_path / "attack-atk1.jsonl"
    result = in_private_netns(tmp_path, [*GOOD, "--seed", "3", "--out", str(out)])
    assert result["rc"] == 0, result["stderr"]
    assert 1800 <= result["received"] <= 2200, result
    records = list(read_records(out))
    start, stop = records[0], records[-1]
    assert start == {
        "t": start["t"],
        "kind": "start",
        "source": "atk1",
        "as": "eyeball1",
        "target": "192.0.2.53",
        "rate": 2000.0,
        "ramp": 0.0,
        "size": 100,
        "attack": "dns",
        "duration": 1.0,
    }
    assert stop["kind"] == "stop" and stop["reason"] == "duration"
    assert 1800 <= stop["sent"] <= 2200
    assert stop["sent"] == result["received"]  # the loopback loses nothing
    assert stop["errors"] == 0 and stop["skipped"] == 0
    assert 0.9 <= stop["t"] - start["t"] <= 1.5
    assert all(r["kind"] == "sent" for r in records[1:-1])


@needs_root
@pytest.mark.parametrize(
    "signal, ignore_sigint, reason",
    [("SIGTERM", False, "stopped"), ("SIGINT", True, "signal")],
)
def test_stops_on_sigterm_and_on_sigint_even_when_ignored(tmp_path, signal, ignore_sigint, reason):
    out = tmp_path / "attack.jsonl"
    args = with_(rate="1000", duration="30", ramp="1") + ["--out", str(out)]
    result = in_private_netns(tmp_path, args, signal, ignore_sigint)
    assert result["rc"] == 0, result["stderr"]
    assert result["elapsed"] < 5
    records = list(read_records(out))
    stop = records[-1]
    assert stop["kind"] == "stop" and stop["reason"] == reason
    assert 0 < stop["sent"] == result["received"] < 1000
    assert f"stopped: {reason}" in result["stderr"]


def test_the_default_zone_is_the_one_the_sites_serve():
    from testbed.services.dns import ZONE

    assert sender.ZONE.rstrip(".") == ZONE
