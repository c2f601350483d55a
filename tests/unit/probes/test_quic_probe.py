"""QUIC probe: the connection tracker, the outcome, the kinds, and the processes on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest

from testbed.probes import quic, quicclient
from testbed.probes.kinds import kind_class, service_class, services_for
from testbed.probes.quic import ConnectionTracker, quic_outcome
from testbed.probes.tcp import Now, Phase
from testbed.services import quic as quic_service
from testbed.topology.load import load_topology
from testbed.traffic import TrafficParams, probe_argvs, service_argv
from tests.unit.probes.helpers import ROOT, Procs, read, wait_records

# -- the tracker -----------------------------------------------------------------


def at(x: float) -> Now:
    """An instant with the same value on both clocks (plus 1000 on the wall clock)."""
    return Now(1000.0 + x, x)


def up(tr: ConnectionTracker, when: float, site: str = "east", **hs) -> List[dict]:
    """Handshake, send and get the first answer, starting at ``when``."""
    tr.connecting(at(when), hs.pop("ticket_site", None))
    tr.established(at(when + 0.01), hs.get("resumed", False), hs.get("early_data", False))
    seq = tr.sent(at(when + 0.01))
    return tr.answered(site, seq, at(when + 0.02))


def answer_every(tr: ConnectionTracker, start: float, count: int, site: str = "east") -> None:
    """``count`` requests 0.2 s apart from ``start``, each answered after 5 ms."""
    for k in range(count):
        t = start + 0.2 * k
        seq = tr.sent(at(t))
        tr.answered(site, seq, at(t + 0.005))


def test_first_answer_is_connected_with_the_handshake():
    tr = ConnectionTracker("ca", 1)
    tr.connecting(at(0))
    assert tr.phase is Phase.CONNECTING
    tr.established(at(0.012), False, False)
    assert tr.phase is Phase.OPEN
    seq = tr.sent(at(0.012))
    [rec] = tr.answered("east", seq, at(0.015))
    assert rec == {
        "t": 1000.015,
        "kind": "quic",
        "client": "ca",
        "conn": 1,
        "event": "connected",
        "site": "east",
        "attempt": 1,
        "gap": None,
        "since_answer": None,
        "handshake_s": 0.012,
        "resumed": False,
        "early_data": False,
        "ticket_site": None,
    }
    assert tr.phase is Phase.UP


def test_a_0rtt_answer_may_come_before_the_handshake_event():
    tr = ConnectionTracker("ca", 0)
    tr.connecting(at(0), "east")
    seq = tr.sent(at(0))  # 0-RTT: sent before the handshake completes
    [rec] = tr.answered("west", seq, at(0.01))
    assert rec["event"] == "connected" and rec["ticket_site"] == "east"
    assert rec["resumed"] is None and tr.phase is Phase.UP


def test_stateless_reset_then_resumed_reconnect_at_the_other_site():
    tr = ConnectionTracker("ca", 0)
    up(tr, 0)
    answer_every(tr, 0.2, 9)  # the last at 1.8 s
    late = tr.sent(at(2.1))  # the route moved: no answer
    records = tr.ended("stateless_reset", "stateless reset", at(2.25))
    assert [r["event"] for r in records] == ["rtt", "stateless_reset"]
    assert records[0]["count"] == 10 and records[0]["stall"] == pytest.approx(0.2)
    end = records[-1]
    assert end["site"] == "east" and end["unanswered"] == 1
    assert end["silence"] == pytest.approx(2.25 - 1.805)
    assert tr.phase is Phase.DOWN and late not in tr.outstanding
    [rec] = up(tr, 2.35, "west", ticket_site="east", resumed=True, early_data=True)
    assert rec["attempt"] == 2 and rec["site"] == "west"
    assert rec["gap"] == pytest.approx(2.37 - 2.25)
    assert rec["since_answer"] == pytest.approx(2.37 - 1.805)
    assert (rec["resumed"], rec["early_data"], rec["ticket_site"]) == (True, True, "east")
    assert tr.counts["stateless_reset"] == 1 and tr.counts["resumed"] == 1
    assert tr.counts["reconnects"] == 1


def test_idle_timeout_then_full_handshake():
    tr = ConnectionTracker("ca", 0)
    up(tr, 0)
    answer_every(tr, 0.2, 4)  # the last at 0.8 s
    for k in range(15):
        tr.sent(at(1.0 + 0.2 * k))
    [end] = [r for r in tr.ended("idle_timeout", "no packet", at(4.0)) if r["event"] != "rtt"]
    assert end["event"] == "idle_timeout" and end["unanswered"] == 15
    [rec] = up(tr, 4.1, "west", ticket_site="east", resumed=False)
    assert rec["resumed"] is False and rec["since_answer"] == pytest.approx(4.12 - 0.805)


def test_an_end_before_any_answer_is_a_failed_handshake():
    tr = ConnectionTracker("ca", 0)
    tr.connecting(at(0))
    [rec] = tr.ended("idle_timeout", "no packet", at(3))
    assert rec["event"] == "connect_failed" and rec["error"] == "idle_timeout: no packet"
    assert rec["site"] is None and tr.phase is Phase.DOWN
    assert tr.counts["connect_failed"] == 1 and tr.counts["idle_timeout"] == 0


def test_close_writes_the_summary_and_closed_only_when_up():
    tr = ConnectionTracker("ca", 0)
    assert tr.close(at(0)) == []
    up(tr, 0)
    answer_every(tr, 0.2, 2)  # the last at 0.4 s
    assert [r["event"] for r in tr.close(at(0.6))] == ["rtt", "closed"]


def test_rtt_summaries_keep_their_schedule_and_report_the_longest_stall():
    tr = ConnectionTracker("ca", 0, rtt_every=1.0)
    up(tr, 0)
    answer_every(tr, 0.2, 2)  # the last at 0.4 s
    seq = tr.sent(at(0.5))
    tr.answered("east", seq, at(0.95))  # 0.545 s after the previous answer
    assert tr.rtt_summary(at(0.99)) == []
    [rtt] = tr.rtt_summary(at(1.03))
    assert rtt["event"] == "rtt" and rtt["stall"] == pytest.approx(0.545)
    assert rtt["count"] == 4 and rtt["max"] == pytest.approx(0.45)
    assert tr.rtt_deadline() == pytest.approx(2.02)


def test_answers_nobody_waits_for_are_ignored():
    tr = ConnectionTracker("ca", 0)
    assert tr.answered("east", 0, at(0)) == []
    up(tr, 0)
    assert tr.answered("east", 99, at(0.1)) == []
    assert tr.counts["ignored"] == 2


# -- the outcome ---------------------------------------------------------------


def rec(t: float, event: str, conn: int = 0, **fields) -> dict:
    return {"t": t, "kind": "quic", "client": "ca", "conn": conn, "event": event, **fields}


def connected(t, conn=0, attempt=1, gap=None, since=None, resumed=False, early=False, site="e"):
    return rec(
        t,
        "connected",
        conn,
        site=site,
        attempt=attempt,
        gap=gap,
        since_answer=since,
        resumed=resumed,
        early_data=early,
    )


def test_outcome_stateless_reset_and_recovery():
    records = [
        connected(1.0, 0),
        connected(1.1, 1),
        rec(2.0, "rtt", 0, stall=0.2),
        rec(5.2, "stateless_reset", 0, silence=0.3, unanswered=1),
        rec(5.25, "stateless_reset", 1, silence=0.35, unanswered=2),
        connected(5.4, 0, 2, gap=0.2, since=0.5, resumed=True, early=True, site="w"),
        connected(5.45, 1, 2, gap=0.2, since=0.55, resumed=True, early=True, site="w"),
        rec(9.0, "closed", 0),
        rec(9.0, "closed", 1),
    ]
    o = quic_outcome(records)
    assert (o.kind, o.flows, o.survived, o.reset, o.timed_out, o.failed) == ("quic", 4, 2, 2, 0, 0)
    assert o.recovered == 2 and o.recover_s == [0.5, 0.55]
    assert o.lost == 3 and o.lost_unit == "messages"
    assert o.longest_gap_s == 0.55
    assert o.ends == {
        "stateless_reset": 2,
        "survived": 2,
        "resumed": 2,
        "full_handshake": 2,
        "early_data": 2,
    }


def test_outcome_idle_timeout_counts_the_wait_in_the_recovery():
    records = [
        connected(1.0),
        rec(5.0, "idle_timeout", silence=3.2, unanswered=16),
        rec(5.1, "connect_failed", error="no handshake in time"),
        connected(5.5, attempt=2, gap=0.5, since=3.7, site="w"),
    ]
    o = quic_outcome(records, "quic")
    assert (o.flows, o.survived, o.reset, o.timed_out) == (2, 1, 0, 1)
    assert o.recover_s == [3.7] and o.longest_gap_s == 3.7 and o.lost == 16
    assert o.ends == {
        "idle_timeout": 1,
        "survived": 1,
        "resumed": 0,
        "full_handshake": 2,
        "early_data": 0,
    }


def test_outcome_survival_through_a_stall():
    """The route went away and came back before the idle timeout: the connection lived on."""
    records = [connected(1.0), rec(3.0, "rtt", stall=1.4), rec(9.0, "closed")]
    o = quic_outcome(records, "quic-shared")
    assert (o.kind, o.flows, o.survived, o.recovered, o.longest_gap_s) == (
        "quic-shared",
        1,
        1,
        0,
        1.4,
    )
    assert o.ends["survived"] == 1 and o.lost == 0


def test_outcome_of_nothing_and_of_an_end_without_a_connection():
    o = quic_outcome([rec(1.0, "stateless_reset", silence=0.1, unanswered=1)])
    assert (o.flows, o.reset, o.survived, o.longest_gap_s) == (0, 0, 0, None)


def test_outcome_per_event_window_counts_the_connections_up_when_it_came():
    from testbed.analysis.transport import window_outcome

    records = [
        connected(1.0, 0),
        connected(1.1, 1),
        rec(5.2, "stateless_reset", 0, silence=0.3, unanswered=1),
        connected(5.4, 0, 2, gap=0.2, since=0.5, resumed=True),
        rec(9.0, "closed", 0),
        rec(9.0, "closed", 1),
    ]
    o = window_outcome("quic", records, 5.0, 20.0)
    assert (o.flows, o.survived, o.reset, o.recovered, o.recover_s) == (2, 1, 1, 1, [0.5])
    assert o.ends["stateless_reset"] == 1 and o.ends["resumed"] == 1


# -- kinds, services, command lines ------------------------------------------------


def test_kinds_and_their_services():
    assert kind_class("quic").record_prefix == "quic"
    assert kind_class("quic-shared").record_prefix == "quicshared"
    assert kind_class("quic").long_lived and kind_class("quic").claim
    assert services_for(["dns", "quic", "quic-shared"]) == ["dns", "quic", "quic-shared"]


def test_probe_command_lines():
    topo = load_topology("two-sites")
    params = TrafficParams(seed=7, kinds=("dns", "quic", "quic-shared"))
    argvs = probe_argvs(topo, "ca", params, Path("/runs/r1/records"))
    assert sorted(argvs) == ["dns", "quic", "quicshared"]
    line = " ".join(argvs["quic"])
    assert "-m testbed.probes.quicclient --client ca --target 192.0.2.53 --port 4433" in line
    assert "--connections 2 --interval 0.2 --idle-timeout 3.0" in line
    assert "--cafile /runs/r1/services/quic-credentials/cert.pem --seed 7" in line
    assert line.endswith("--out /runs/r1/records/quic-ca.jsonl")
    shared = " ".join(argvs["quicshared"])
    assert "--port 4434" in shared and shared.endswith("/records/quicshared-ca.jsonl")


def test_service_command_lines():
    topo = load_topology("two-sites")

    class Host:
        name, site = "east-s1", "east"

    argv, process = service_argv(topo, Host, "quic", Path("/runs/r1"), TrafficParams())
    line = " ".join(argv)
    assert process == "quic"
    assert "-m testbed.services.quic --site east --bind 192.0.2.53 --port 4433" in line
    assert line.endswith("--credentials /runs/r1/services/quic-credentials")
    argv, process = service_argv(topo, Host, "quic-shared", Path("/runs/r1"), TrafficParams())
    line = " ".join(argv)
    assert process == "quic-shared" and "--port 4434" in line
    assert "--shared-reset --shared-tickets --tickets /runs/r1/services/quic-tickets" in line


def test_the_runs_quic_ports_and_connections_reach_services_and_probes():
    topo = load_topology("two-sites")

    class Host:
        name, site = "east-s1", "east"

    params = TrafficParams(
        kinds=("quic", "quic-shared"), quic_port=5443, quic_shared_port=5444, quic_connections=5
    )
    run = Path("/runs/r1")
    for service, port in (("quic", 5443), ("quic-shared", 5444)):
        argv, _ = service_argv(topo, Host, service, run, params)
        assert quic_service._parser().parse_args(argv[3:]).port == port
    argvs = probe_argvs(topo, "ca", params, run / "records")
    for prefix, port in (("quic", 5443), ("quicshared", 5444)):
        args = quicclient._parser().parse_args(argvs[prefix][3:])
        assert (args.port, args.connections) == (port, 5)


def test_the_service_checks_listen_on_the_runs_port():
    class Host:
        name = "east-s1"

    class Bed:
        def __init__(self):
            self.commands = []

        def cmd(self, node, command):
            self.commands.append(command)
            return ""

    bed = Bed()
    params = TrafficParams(quic_port=5443, quic_shared_port=5444)
    assert "udp 5443" in service_class("quic")().problem(bed, Host, params)
    assert "udp 5444" in service_class("quic-shared")().problem(bed, Host, params)
    assert bed.commands == ["ss -Hlun 'sport = :5443'", "ss -Hlun 'sport = :5444'"]


def test_unavailable_without_aioquic(monkeypatch):
    topo = load_topology("two-sites")
    if importlib.util.find_spec("aioquic") is not None:
        assert kind_class("quic").unavailable(topo) is None
    monkeypatch.setitem(sys.modules, "aioquic", None)  # import aioquic: ImportError
    why = kind_class("quic-shared").unavailable(topo)
    assert why is not None and "aioquic is not installed" in why and "\n" not in why


def test_a_run_with_quic_but_no_aioquic_is_bad_input(tmp_path):
    """One line, exit 2, before anything starts (no root needed to get there)."""
    code = (
        "import sys; sys.modules['aioquic'] = None; sys.argv[0] = 'anycast-testbed'; "
        "from testbed.cli import main; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "run", "site-failure", "--topology", "two-sites",
         "--out", str(tmp_path), "--set", "traffic.kinds=[dns,quic]"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1 and "aioquic is not installed" in lines[0], lines
    assert list(tmp_path.iterdir()) == []


# -- the processes on 127.0.0.1 ------------------------------------------------------

needs_aioquic = pytest.mark.skipif(
    importlib.util.find_spec("aioquic") is None, reason="aioquic is not installed"
)


@pytest.fixture
def procs():
    p = Procs()
    yield p
    p.cleanup()


def free_udp_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_udp(port: int, timeout: float = 10.0) -> None:
    """Wait until something is bound to 127.0.0.1:port (UDP)."""
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing bound to udp {port}")


def switch_sites(procs: Procs, tmp_path: Path, shared: bool) -> List[dict]:
    """Site east serves, dies (SIGKILL: no CONNECTION_CLOSE), site west takes its address."""
    port = free_udp_port()
    creds = tmp_path / "quic-credentials"
    flags = ["--shared-reset", "--shared-tickets", "--tickets", str(tmp_path / "t")]
    flags = flags if shared else []

    def site(name: str):
        return procs.start(
            "testbed.services.quic", "--site", name, "--bind", "127.0.0.1",
            "--port", str(port), "--credentials", str(creds), *flags,
        )  # fmt: skip

    east = site("east")
    wait_udp(port)
    out = tmp_path / "quic-ca.jsonl"
    probe = procs.start(
        "testbed.probes.quicclient", "--client", "ca", "--target", "127.0.0.1",
        "--port", str(port), "--cafile", str(creds / "cert.pem"), "--idle-timeout", "1",
        "--out", str(out),
    )  # fmt: skip
    wait_records(out, lambda rs: sum(r["event"] == "connected" for r in rs) == 2, 10)
    time.sleep(0.5)
    os.kill(east.pid, signal.SIGKILL)
    east.wait()
    site("west")
    wait_records(out, lambda rs: sum(r.get("site") == "west" for r in rs) >= 2, 15)
    time.sleep(0.3)
    probe.send_signal(signal.SIGTERM)
    assert probe.wait(10) == 0
    return read(out)


@needs_aioquic
def test_each_site_its_own_secret_the_connections_time_out_and_start_afresh(procs, tmp_path):
    records = switch_sites(procs, tmp_path, shared=False)
    ends = [r for r in records if r["event"] in quic.END_EVENTS]
    assert [r["event"] for r in ends] == ["idle_timeout", "idle_timeout"]
    assert all(r["site"] == "east" and r["silence"] >= 1.0 for r in ends)
    again = [r for r in records if r["event"] == "connected" and r["site"] == "west"]
    assert len(again) == 2
    assert all(not r["resumed"] and r["ticket_site"] == "east" for r in again)
    assert all(r["since_answer"] >= 1.0 for r in again)
    o = quic_outcome(records)
    assert (o.flows, o.timed_out, o.reset, o.recovered, o.survived) == (4, 2, 0, 2, 2)


@needs_aioquic
def test_shared_secret_and_tickets_reset_at_once_and_resume_with_0rtt(procs, tmp_path):
    records = switch_sites(procs, tmp_path, shared=True)
    ends = [r for r in records if r["event"] in quic.END_EVENTS]
    assert [r["event"] for r in ends] == ["stateless_reset", "stateless_reset"]
    again = [r for r in records if r["event"] == "connected" and r["site"] == "west"]
    assert len(again) == 2
    assert all(r["resumed"] and r["early_data"] and r["ticket_site"] == "east" for r in again)
    assert all(r["since_answer"] < 1.0 for r in again)  # well within the idle timeout
    o = quic_outcome(records)
    assert (o.flows, o.reset, o.timed_out, o.recovered) == (4, 2, 0, 2)
    assert o.ends["resumed"] == 2 and o.ends["early_data"] == 2


@needs_aioquic
def test_the_probe_stops_on_sigterm_with_closed_records(procs, tmp_path):
    port = free_udp_port()
    creds = tmp_path / "c"
    procs.start(
        "testbed.services.quic", "--site", "east", "--bind", "127.0.0.1", "--port", str(port),
        "--credentials", str(creds),
    )  # fmt: skip
    wait_udp(port)
    out = tmp_path / "quic-ca.jsonl"
    probe = procs.start(
        "testbed.probes.quicclient", "--client", "ca", "--target", "127.0.0.1",
        "--port", str(port), "--cafile", str(creds / "cert.pem"), "--connections", "3",
        "--out", str(out),
    )  # fmt: skip
    wait_records(out, lambda rs: sum(r["event"] == "connected" for r in rs) == 3, 10)
    probe.send_signal(signal.SIGTERM)
    assert probe.wait(10) == 0
    records = read(out)
    assert sorted(r["conn"] for r in records if r["event"] == "closed") == [0, 1, 2]
    assert "connected 3" in probe.stderr.read()


def test_bad_arguments_exit_2(procs):
    p = procs.start("testbed.probes.quicclient", "--client", "ca", "--connections", "0")
    assert p.wait(10) == 2
    assert "error:" in p.stderr.read()
