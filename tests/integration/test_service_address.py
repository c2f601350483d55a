"""A site's configured service address is what NSD, the stream service and the probes use.

Its own module: it brings up its own testbed, and the world testbed of
test_traffic.py (a module fixture) must be down by then.
"""

from __future__ import annotations

import time

from testbed.net.build import Testbed
from testbed.records import read_records
from testbed.scenario.effective import effective_topology
from testbed.topology.load import load_topology
from testbed.traffic import TrafficParams, TrafficRun


def test_a_configured_service_address_is_served_and_probed(tmp_path):
    overrides = {"sites.0.service": "192.0.2.10", "sites.1.service": "192.0.2.10"}
    topo = effective_topology(load_topology("two-sites"), topology_overrides=overrides)
    with Testbed(topo, tmp_path) as tb:
        assert tb.wait_converged(timeout=60).converged
        traffic = TrafficRun(tb, TrafficParams(dns_rate=20, tcp_streams=1, seed=3))
        try:
            traffic.start()
            time.sleep(3)
            answer = tb.cmd("ca", "dig +short +time=1 +tries=1 @192.0.2.10 CH TXT id.server")
            assert answer.strip() == '"east"'
        finally:
            traffic.stop()
        dns = list(read_records(tmp_path / "records" / "dns-ca.jsonl"))
        assert dns and {r["status"] for r in dns} == {"ok"} and {r["site"] for r in dns} == {"east"}
        tcp = list(read_records(tmp_path / "records" / "tcp-ca.jsonl"))
        assert [r["site"] for r in tcp if r["event"] == "connected"] == ["east"]
