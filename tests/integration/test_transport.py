"""Transport remedies on a real network: each probe kind on one short link-down failure.

Each test makes its own short run of ``site-failure`` on ``two-sites`` (the
busiest site loses its uplinks, then is restored) with the kinds it needs in
``traffic.kinds``, as a user types them with ``--set``, and reads the run's
summary: the clients' outcomes (``clients.NAME.transport.KIND``) and each
event's remedy table (``events[i].transport``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Tuple

from tests.integration.helpers import run_scenario

#: A compressed timeline: the failure at 4 s, the restore at 10 s, the end at 15 s.
SHORT = ["settle=3", "timeline.0.at=4", "timeline.1.at=10", "duration=15", "expect=[]"]


def run_failure(tmp_path: Path, kinds: str, *sets: str) -> Tuple[Dict[str, Any], Path]:
    """Run site-failure on two-sites with ``traffic.kinds=[KINDS]``; the summary and folder."""
    flags = ("--topology", "two-sites")
    done = run_scenario(
        "site-failure", tmp_path, f"traffic.kinds=[{kinds}]", *SHORT, *sets, flags=flags
    )
    return done.summary, done.folder


#: The QUIC services on ports of the run's choosing (quic-shared on quic's default).
QUIC_PORTS = ("traffic.quic_port=5443", "traffic.quic_shared_port=4433")


def test_quic_connections_to_the_failed_site_end_and_reconnect_at_the_other(tmp_path):
    """quic: each site its own state -- the new site's reset is not recognised, the connections
    end by their idle timeout (3 s) and start afresh; quic-shared: the sites share the reset
    secret and the tickets -- the reset ends them at once and the session resumes (0-RTT).
    Both services listen on the run's ports (``traffic.quic_port``, ``quic_shared_port``)."""
    summary, folder = run_failure(tmp_path, "dns,quic,quic-shared", *QUIC_PORTS)
    for server in ("east-1", "west-1"):
        logs = folder / "logs"
        assert ":5443 (udp)" in (logs / f"quic-{server}.log").read_text()
        assert ":4433 (udp)" in (logs / f"quic-shared-{server}.log").read_text()
    fail = summary["events"][0]
    failed, moved = fail["target"], fail["moved"]
    assert fail["kind"] == "fail_site" and len(moved) == 1
    (client,) = moved
    other = next(s for s in ("east", "west") if s != failed)
    records = [json.loads(line) for line in (folder / "records" / f"quic-{client}.jsonl").open()]
    shared_records = [
        json.loads(line) for line in (folder / "records" / f"quicshared-{client}.jsonl").open()
    ]

    # per-site state: no connection to the failed site survives; they end by idle timeout
    quic = fail["transport"]["quic"]
    assert quic["flows"] >= 2 and quic["survived"] == quic["flows"] - 2, quic
    assert quic["timed_out"] == 2 and quic["reset"] == 0, quic
    assert quic["ends"]["idle_timeout"] == 2 and quic["ends"]["full_handshake"] >= 2, quic
    assert quic["recovered"] == 2 and all(3.0 <= s < 4.5 for s in quic["recover_s"]), quic
    again = [r for r in records if r["event"] == "connected" and r["attempt"] == 2]
    assert len(again) == 2 and {r["site"] for r in again} == {other}, again
    assert not any(r["resumed"] for r in again)  # the other site never saw the ticket

    # shared state: a stateless reset ends them at once, the session resumes with 0-RTT
    shared = fail["transport"]["quic-shared"]
    assert shared["reset"] == 2 and shared["timed_out"] == 0, shared
    assert shared["ends"]["stateless_reset"] == 2 and shared["ends"]["resumed"] == 2, shared
    assert shared["recovered"] == 2 and all(s < 1.5 for s in shared["recover_s"]), shared
    again = [r for r in shared_records if r["event"] == "connected" and r["attempt"] == 2]
    assert {r["site"] for r in again} == {other} and all(r["early_data"] for r in again)
    assert max(shared["recover_s"]) < min(quic["recover_s"])

    # the client that stayed kept its connections throughout
    (stayed,) = [c for c in summary["clients"] if c != client]
    for kind in ("quic", "quic-shared"):
        outcome = summary["clients"][stayed]["transport"][kind]
        assert outcome["flows"] == outcome["survived"] == 2, outcome
    # the report says how they ended
    report = (folder / "report.md").read_text()
    assert "idle_timeout 2" in report and "stateless_reset 2" in report


# -- tcp-retry and dns-tcp: one shared run ---------------------------------------

_runs: Dict[str, Tuple[Dict[str, Any], Path]] = {}
#: tcp-stream next to the two remedies it is compared with, on the same failure.
RETRY_KINDS = "dns,tcp-stream,tcp-retry,dns-tcp"


def shared_run(tmp_path_factory, kinds: str, *sets: str) -> Tuple[Dict[str, Any], Path]:
    """:func:`run_failure` once per module for the same kinds and settings."""
    key = " ".join((kinds, *sets))
    if key not in _runs:
        _runs[key] = run_failure(tmp_path_factory.mktemp("transport"), kinds, *sets)
    return _runs[key]


def moved_client(summary: Dict[str, Any]) -> Tuple[str, str]:
    """The client the failure moved, and the one that stayed."""
    (moved,) = summary["events"][0]["moved"]
    (stayed,) = [c for c in summary["clients"] if c != moved]
    return moved, stayed


def test_tcp_stream_resets_while_tcp_retry_recovers_within_a_second(tmp_path_factory):
    """The failure and the restore each reset the moved client's streams (tcp-stream);
    tcp-retry's streams break the same way and are answered again after one backoff."""
    summary, folder = shared_run(tmp_path_factory, RETRY_KINDS)
    moved, stayed = moved_client(summary)
    tcp = summary["clients"][moved]["tcp"]
    assert tcp["reset"] == tcp["streams"] == 2, tcp
    retry = summary["clients"][moved]["transport"]["tcp-retry"]
    # two streams, each broken twice (failure, restore) and recovered twice
    assert retry["reset"] == 4 and retry["recovered"] == 4 and retry["timed_out"] == 0, retry
    assert all(s < 1.0 for s in retry["recover_s"]), retry  # measured: 0.06-0.08 s
    assert retry["survived"] == 2 and retry["ends"]["closed"] == 2, retry
    assert retry["flows"] == 2 + 4 + retry["failed"], retry  # first, reconnects, refused
    assert 1 <= retry["lost"] <= 8 and retry["lost_unit"] == "messages", retry
    assert retry["longest_gap_s"] < 1.5, retry
    records = [json.loads(line) for line in (folder / "records" / f"tcpretry-{moved}.jsonl").open()]
    failed = summary["events"][0]["target"]
    recovered = [r for r in records if r["event"] == "recovered"]
    assert [r["previous"] for r in recovered[:2]] == [failed, failed], recovered
    assert {r["site"] for r in recovered[:2]} != {failed}, recovered
    calm = summary["clients"][stayed]["transport"]["tcp-retry"]
    assert calm["flows"] == calm["survived"] == 2 and calm["recovered"] == 0, calm


def test_dns_tcp_loses_at_most_the_queries_in_flight(tmp_path_factory):
    """A connection per query: only queries sent while the moved client had no route fail
    (at 5 queries/s, about one per event); the client that stayed loses none."""
    summary, folder = shared_run(tmp_path_factory, RETRY_KINDS)
    moved, stayed = moved_client(summary)
    outage = summary["clients"][moved]["dns"]["max_outage_s"]
    in_flight = 2 * (int(outage * 5) + 2)  # two events, each its outage's queries and one more
    dnstcp = summary["clients"][moved]["transport"]["dns-tcp"]
    assert dnstcp["flows"] >= 5 * 10, dnstcp  # 5/s over the 12 s timeline at least
    assert dnstcp["lost"] == dnstcp["failed"] <= in_flight, (dnstcp, outage)
    assert dnstcp["lost_unit"] == "queries" and dnstcp["longest_gap_s"] < 1.5, dnstcp
    records = [json.loads(line) for line in (folder / "records" / f"dnstcp-{moved}.jsonl").open()]
    sites = {r["site"] for r in records if r["event"] == "answered"}
    assert sites == {"east", "west"}, sites  # NSD answered over TCP at both sites
    calm = summary["clients"][stayed]["transport"]["dns-tcp"]
    assert calm["failed"] == 0 and calm["flows"] == calm["survived"] >= 50, calm


# -- http-short and hybrid: one shared run, the sites with unicast prefixes ---------

#: tcp-stream beside them: at the restore it is reset where hybrid is not.
HYBRID_KINDS = "dns,tcp-stream,http-short,hybrid"
#: every site gets a unicast prefix (100.66.K.0/24): hybrid needs one to redirect to.
UNICAST = "topology.unicast=true"
#: http-short's rate, twice the default (``traffic.http_rate``).
HTTP_RATE = 10
FASTER = f"traffic.http_rate={HTTP_RATE}"


def test_hybrid_survives_the_catchment_change_and_recovers_from_its_own_site(tmp_path_factory):
    """Connections on the surviving site's unicast address never notice either event; those
    on the failed site time out (its unicast prefix is gone), go back through the anycast
    address and land on the other site's unicast address, where the restore (the client's
    catchment moving back) leaves them alone -- while the restore resets tcp-stream."""
    summary, folder = shared_run(tmp_path_factory, HYBRID_KINDS, UNICAST, FASTER)
    moved, stayed = moved_client(summary)
    fail, restore = summary["events"][0], summary["events"][1]
    failed = fail["target"]
    other = next(s for s in ("east", "west") if s != failed)
    records = [json.loads(line) for line in (folder / "records" / f"hybrid-{moved}.jsonl").open()]
    unicast = {"east": "100.66.0.53", "west": "100.66.1.53"}

    first = [r for r in records if r["event"] == "resolved" and not r["again"]]
    assert {(r["site"], r["address"]) for r in first} == {(failed, unicast[failed])}, first
    # the failure: both connections break (a timeout: the unicast route is gone), come back
    # through the anycast address to the other site, within one timeout and a little
    hybrid = fail["transport"]["hybrid"]
    assert hybrid["flows"] == 2 and hybrid["survived"] == 0, hybrid  # the two up at the event
    assert hybrid["timed_out"] + hybrid["reset"] == 2 and hybrid["recovered"] == 2, hybrid
    # without service: the 3 s timeout, the redirect and the new connection (measured 3.3 s)
    assert all(2.9 <= s < 4.5 for s in hybrid["recover_s"]), hybrid
    assert 2.9 <= hybrid["longest_gap_s"] < 4.5, hybrid
    again = [r for r in records if r["event"] == "resolved" and r["again"]]
    assert {(r["site"], r["address"]) for r in again} == {(other, unicast[other])}, again
    # the restore moves the client's catchment back: hybrid stays, tcp-stream is reset
    assert restore["moved"] == [moved]
    assert restore["transport"]["hybrid"]["flows"] == 2, restore["transport"]
    assert restore["transport"]["hybrid"]["survived"] == 2, restore["transport"]
    assert restore["transport"]["tcp-stream"]["reset"] == 2, restore["transport"]
    closed = [r for r in records if r["event"] == "closed"]
    assert len(closed) == 2 and {r["site"] for r in closed} == {other}, closed
    # the other client's connections on its own site never broke
    calm = summary["clients"][stayed]["transport"]["hybrid"]
    assert calm["flows"] == calm["survived"] == 2 and calm["ends"]["re_resolved"] == 0, calm


def test_http_short_loses_at_most_the_requests_in_flight(tmp_path_factory):
    """A fresh connection per request (``traffic.http_rate``, 10/s here): only requests sent
    while the moved client had no route fail, about one per event; the client that stayed
    loses none."""
    summary, folder = shared_run(tmp_path_factory, HYBRID_KINDS, UNICAST, FASTER)
    moved, stayed = moved_client(summary)
    outage = summary["clients"][moved]["dns"]["max_outage_s"]
    in_flight = 2 * (int(outage * HTTP_RATE) + 2)  # two events: its outage's requests, one more
    http = summary["clients"][moved]["transport"]["http-short"]
    # 10/s over the 12 s timeline at least (the default 5/s would not reach it in all 18 s)
    assert http["flows"] >= HTTP_RATE * 12, http
    assert http["lost"] <= in_flight and http["lost_unit"] == "requests", (http, outage)
    assert http["longest_gap_s"] < 1.0, http  # measured: 0.40 s
    records = [json.loads(line) for line in (folder / "records" / f"http-{moved}.jsonl").open()]
    assert {r["site"] for r in records if r["event"] == "ok"} == {"east", "west"}
    calm = summary["clients"][stayed]["transport"]["http-short"]
    assert calm["lost"] == 0 and calm["flows"] == calm["survived"] >= HTTP_RATE * 12, calm
    # nginx logged every request it answered, in the server's own folder
    failed = summary["events"][0]["target"]
    log = folder / "services" / f"{failed}-1" / "nginx" / "access.log"
    assert '"GET /redirect HTTP/1.1" 302' in log.read_text()


# -- route-flap damping ------------------------------------------------------------

#: east withdraws its route twice and announces it again twice, 3 s apart.
FLAPS = (
    "timeline=[{at: 4, event: withdraw, site: east}, {at: 7, event: restore, site: east}, "
    "{at: 10, event: withdraw, site: east}, {at: 13, event: restore, site: east}]"
)
#: a minute's half-life (FRR's smallest); the second withdrawal (penalty 2000) suppresses.
DAMPENING = "bgp.dampening={half_life: 1, reuse: 750, suppress: 1500, max_suppress: 4}"


def test_dampening_keeps_the_clients_away_from_a_flapping_site(tmp_path):
    """ta hears east withdraw twice over a session that stays up: the second withdrawal
    brings east's path to 2000 >= 1500, so ta does not take it back at the second restore
    and ca stays on west (one move and two resets fewer); it is reused only after about
    85 s, after the run."""
    sets = ("settle=3", "duration=17", "expect=[]", FLAPS, DAMPENING)
    done = run_scenario("two-sites-failover", tmp_path, *sets)
    summary, folder = done.summary, done.folder
    assert [e["moved"] for e in summary["events"]] == [["ca"], ["ca"], ["ca"], []]
    ca = summary["clients"]["ca"]
    assert ca["site_after"] == "west" and ca["tcp"]["reset_events"] == 3 * 2, ca["tcp"]
    assert summary["clients"]["cb"]["tcp"]["reset"] == 0
    assert "  bgp dampening 1 750 1500 4\n" in (folder / "routers" / "ta" / "frr.conf").read_text()
    # the run says so: meta.json, the summary, one line of the report
    damping = {"half_life": 1, "reuse": 750, "suppress": 1500, "max_suppress": 4}
    assert json.loads((folder / "meta.json").read_text())["dampening"] == damping
    assert summary["dampening"] == damping
    line = "Route-flap damping: half-life 1 min, reuse 750, suppress 1500, max-suppress 4 min."
    assert line in (folder / "report.md").read_text().splitlines()
