"""Failover knobs on a real network: hold timer and BFD against a silent failure.

``silent-failure`` on ``two-sites`` with a short timeline: site ``east``
freezes (daemons stopped, packets dropped, links up) and only the upstream's
hold timer -- or BFD -- notices.  The knobs come from ``--set`` as a user
types them; the run folder's frr.conf shows them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import run_scenario

BASE = ["topology=two-sites", "settle=3", "timeline.0.at=3", "expect=[]"]


def run_silent(tmp_path: Path, *sets: str) -> tuple:
    """Run the scenario; return its summary and run folder."""
    done = run_scenario("silent-failure", tmp_path, *BASE, *sets, timeout=180)
    return done.summary, done.folder


def outage_of_ca(summary: dict) -> float:
    assert summary["events"][0]["target"] == "east"
    assert summary["events"][0]["moved"] == ["ca"]
    return summary["clients"]["ca"]["dns"]["max_outage_s"]


def test_without_bfd_the_outage_falls_in_the_hold_timer_window(tmp_path):
    keepalive, hold = 2, 6
    summary, folder = run_silent(
        tmp_path,
        f"bgp.keepalive={keepalive}",
        f"bgp.hold={hold}",
        "bfd=off",
        "timeline.1.at=12",
        "duration=15",
    )
    conf = (folder / "routers" / "ta" / "frr.conf").read_text()
    assert f" timers {keepalive} {hold}\n" in conf and " bfd\n" not in conf
    outage = outage_of_ca(summary)
    # RFC 4271: the session drops hold - keepalive .. hold after the failure
    assert hold - keepalive - 0.1 <= outage <= hold + 0.6, outage
    assert hold - keepalive - 0.1 <= summary["events"][0]["convergence_s"] <= hold + 0.3


@pytest.mark.parametrize("interval", [100])
def test_with_bfd_the_outage_is_under_a_second(tmp_path, interval):
    summary, folder = run_silent(
        tmp_path,
        "bgp.keepalive=3",
        "bgp.hold=9",
        "bfd=on",
        f"bfd.interval={interval}",
        "bfd.multiplier=3",
        "timeline.1.at=7",
        "duration=10",
    )
    conf = (folder / "routers" / "ta" / "frr.conf").read_text()
    assert f"  transmit-interval {interval}\n" in conf and " bfd\n" in conf
    outage = outage_of_ca(summary)
    # RFC 5880: down after 3 x 100 ms without a packet; the hold time (9 s) never matters
    assert outage < 1.0, outage
    assert summary["events"][0]["convergence_s"] < 1.0
