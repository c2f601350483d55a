"""Fidelity on real FRR: detection measured where it happens, the outage in its parts.

One short run of ``silent-failure`` on ``two-sites`` with BFD 100 ms x 3 and
the DNS probe at 200 queries/s (5 ms): bfdd's own log says when the session
went down (RFC 5880: 0.2 to 0.3 s after the freeze), and the moved client's
outage is its detection, control plane, FIB and sampling within the probe's
interval.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.helpers import Run, run_scenario

SETS = (
    "topology=two-sites",
    "bfd=on",
    "bfd.interval=100",
    "bfd.multiplier=3",
    "traffic.dns_rate=200",
    "traffic.tcp_streams=1",
    "expect=[]",
    "settle=3",
    "timeline.0.at=3",
    "timeline.0.site=east",
    "timeline.1.at=7",
    "timeline.1.site=east",
    "duration=9",
)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    return run_scenario("silent-failure", tmp_path_factory.mktemp("fidelity"), *SETS)


def test_bfdd_declares_the_failure_within_rfc_5880s_window(run):
    event = run.summary["events"][0]
    detection = event["detection"]
    assert detection["daemon"] == "bfdd", event["declarations"]
    assert (detection["router"], detection["peer"], detection["how"]) == ("ta", "east", "bfd")
    # (multiplier - 1) x interval .. multiplier x interval, plus the freeze's own time
    slack = event["applied_s"] + 0.001
    assert 0.2 - 0.001 <= detection["after_s"] <= 0.3 + slack, (detection, event["applied_s"])
    # bgpd acts on bfdd's word (it closes the session with a Cease, BFD Down), not before
    bgpd = [d for d in event["declarations"] if d["daemon"] == "bgpd"]
    assert bgpd and bgpd[0]["how"] in ("bfd", "notification-sent"), bgpd
    assert bgpd[0]["t"] >= detection["t"]
    records = (run.folder / "records" / "bgp.jsonl").read_text().splitlines()
    bfd = [json.loads(r) for r in records if '"kind": "bfd"' in r]
    assert any(r["state"] == "down" and r["router"] == "ta" for r in bfd), bfd


def test_the_outage_is_its_parts_within_the_probes_resolution(run):
    summary = run.summary
    assert summary["probe_interval_s"] == 0.005
    parts = summary["events"][0]["parts"]
    assert set(parts) == {"ca"}, parts  # ca's site (east) froze; cb stays on west
    ca = parts["ca"]
    assert ca["path"] == ["ispa", "ta", "tb", "west"]
    assert (ca["site_from"], ca["site_to"]) == ("east", "west")
    pieces = [ca[k] for k in ("detection_s", "control_plane_s", "fib_s", "sampling_s")]
    assert all(p is not None and p >= 0 for p in pieces), ca
    assert ca["total_s"] == pytest.approx(sum(pieces), abs=0.002)
    # the outage window begins at the last answer before the freeze: at most one
    # probe interval (and an answer's round trip) before it
    assert 0 <= ca["lead_in_s"] <= ca["resolution_s"] + 0.005, ca
    assert ca["outage_s"] == pytest.approx(sum(pieces), abs=ca["resolution_s"] + 0.005), ca
    # and the outage is BFD's, not the hold timer's (9 s by default here)
    assert ca["outage_s"] < 0.6, ca


def test_the_report_shows_the_parts(run):
    report = (run.folder / "report.md").read_text()
    assert "## Outages in parts" in report
    assert "bfdd on ta (bfd, session with east)" in report
    assert "within the probe's interval, 0.005 s" in report
    assert (run.folder / "plots" / "parts.png").stat().st_size > 0
