"""Every scenario event on two-sites with real FRR, NSD and probes: the catchment moves.

two-sites: client ca sits behind ta, where site east is attached; cb behind
tb with site west.  Each test fails or changes site east, checks where ca's
packets go (forwarding tables) and which site answers its DNS query (NSD's
identity), then restores east and checks ca is back.
"""

from __future__ import annotations

import json
import time
from typing import Callable

import pytest

from testbed.net import frr
from testbed.net.build import Testbed
from testbed.scenario.events import Events
from testbed.topology.load import load_topology
from testbed.traffic import TrafficParams, TrafficRun

DIG = "dig +short +time=1 +tries=1 @192.0.2.53 CH TXT id.server"


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``check`` until true; return the seconds it took (fail after ``timeout``)."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - start


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """two-sites up, with NSD and stream services on both sites (no probes)."""
    with Testbed(load_topology("two-sites"), tmp_path_factory.mktemp("run")) as tb:
        assert tb.wait_converged(timeout=60).converged
        traffic = TrafficRun(tb, TrafficParams(tcp_streams=0))
        traffic.start_services()
        try:
            yield tb, traffic, Events(tb, traffic)
        finally:
            traffic.stop()


def answer(tb: Testbed, client: str) -> str:
    """The site identity NSD gives the client (``''`` on no answer)."""
    return tb.cmd(client, DIG).strip().strip('"')


def as_paths(router: str) -> list:
    """The AS paths a router has for the anycast prefix (``''`` for a local one)."""
    rib = json.loads(frr.vtysh(router, "show bgp ipv4 unicast 192.0.2.0/24 json"))
    return [p["aspath"]["string"] for p in rib.get("paths", [])]


def back_to_east(tb: Testbed) -> None:
    wait_for(lambda: tb.site_of("ca") == "east", 30, "ca back to east")
    wait_for(lambda: answer(tb, "ca") == "east", 10, "east answers ca again")


def test_services_answer_with_site_identity(live):
    tb, _, _ = live
    assert answer(tb, "ca") == "east"
    assert answer(tb, "cb") == "west"
    nsid = tb.cmd("ca", "dig +nsid +time=1 +tries=1 @192.0.2.53 q1.probe.anycast.test A")
    assert "NSID" in nsid and '"east"' in nsid, nsid


@pytest.mark.parametrize("how", ["link-down", "router-crash"])
def test_fail_site_moves_client_and_restore_brings_it_back(live, how):
    tb, _, events = live
    assert tb.site_of("ca") == "east"
    details = events.fail_site("east", how)
    assert details
    seconds = wait_for(lambda: tb.site_of("ca") == "west", 15, f"ca moves to west after {how}")
    assert answer(tb, "ca") == "west"
    assert tb.site_of("cb") == "west"
    print(f"{how}: ca moved to west after {seconds:.2f} s")
    events.restore("east")
    back_to_east(tb)


def test_silent_failure_is_noticed_by_the_hold_timer(live):
    tb, _, events = live
    hold = tb.topo.bgp.hold
    events.fail_site("east", "silent")
    # the link stays up: nothing changes before the hold timer expires
    link = events.find_link("east", "ta")
    ta_end = link.a if link.a.node == "ta" else link.b
    assert tb.cmd("ta", f"cat /sys/class/net/{ta_end.name}/operstate").strip() == "up"
    seconds = wait_for(lambda: tb.site_of("ca") == "west", hold + 10, "ca moves after hold")
    assert seconds >= hold - tb.topo.bgp.keepalive - 0.5, seconds
    events.restore("east")
    back_to_east(tb)


def test_withdraw_drains_the_site(live):
    tb, _, events = live
    events.withdraw("east")
    wait_for(lambda: tb.site_of("ca") == "west", 10, "ca moves after withdraw")
    hops = as_paths("ta")
    assert hops and all(h.startswith("65002") for h in hops), hops  # only via tb left
    events.restore("east")
    back_to_east(tb)


def test_kill_service_is_a_blackhole(live):
    tb, traffic, events = live
    events.kill_service("east", "dns")
    assert tb.site_of("ca") == "east"  # the route stays
    reply = answer(tb, "ca")
    assert "connection refused" in reply or "timed out" in reply, reply  # nobody answers
    assert not traffic.services["east-1"].get("dns")
    events.restore("east")
    assert answer(tb, "ca") == "east"


def test_prepend_moves_catchment_and_med_does_not(live):
    tb, _, events = live
    events.med("east", 1000)
    time.sleep(2)
    assert tb.site_of("ca") == "east"  # MED is not compared across neighbour ASes
    events.prepend("east", 3)
    wait_for(lambda: tb.site_of("ca") == "west", 10, "prepend moves ca to west")
    paths = as_paths("ta")
    assert "64500 64500 64500 64500" in paths, paths
    events.restore("east")
    back_to_east(tb)
    assert "64500" in as_paths("ta")


def test_link_blackhole_and_down_between_transits(live):
    tb, _, events = live

    def paths_at_ta() -> list:
        return as_paths("ta")

    assert any(p.startswith("65002") for p in paths_at_ta())
    events.link("ta", "tb", "blackhole")
    wait_for(
        lambda: not any(p.startswith("65002") for p in paths_at_ta()),
        tb.topo.bgp.hold + 10,
        "ta loses the path via tb after hold",
    )
    events.link("ta", "tb", "up")
    wait_for(lambda: any(p.startswith("65002") for p in paths_at_ta()), 20, "path via tb back")
    events.link("ta", "tb", "down")
    wait_for(lambda: not any(p.startswith("65002") for p in paths_at_ta()), 5, "carrier loss")
    events.link("ta", "tb", "up")
    wait_for(lambda: any(p.startswith("65002") for p in paths_at_ta()), 20, "path via tb back")
