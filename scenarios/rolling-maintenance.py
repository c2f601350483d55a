"""Every site in turn withdraws its route for maintenance, then announces it again.

A Python scenario: the timeline depends on the topology (one withdraw and one
restore per site, whatever the sites are called and however many there are),
which a YAML file cannot say.  Run it on any topology::

    sudo anycast-testbed run rolling-maintenance
    sudo anycast-testbed run rolling-maintenance --topology two-sites

What it shows: a graceful withdrawal costs DNS almost nothing (the routers
switch to a path they already know), but the moved clients' TCP streams are
reset every time -- graceful for BGP is not graceful for TCP.
"""

from __future__ import annotations

from typing import Any, Dict, List

from testbed.topology.model import Topology

#: The topology it runs on unless --topology (or --set topology=...) says otherwise.
TOPOLOGY = "world"
#: Seconds before the first withdrawal, a site stays withdrawn, and between two sites.
FIRST, DOWN, GAP = 10.0, 8.0, 6.0


def scenario(topology: Topology) -> Dict[str, Any]:
    """One withdraw and one restore per site of ``topology``, in name order."""
    timeline: List[Dict[str, Any]] = []
    at = FIRST
    for site in sorted(s.name for s in topology.sites):
        timeline.append({"at": at, "event": "withdraw", "site": site})
        timeline.append({"at": at + DOWN, "event": "restore", "site": site})
        at += DOWN + GAP
    withdrawals = range(0, len(timeline), 2)
    return {
        "name": "rolling-maintenance",
        "description": __doc__.splitlines()[0],
        "duration": at + 4.0,
        "settle": 5,
        "bgp": {"keepalive": 1, "hold": 3},
        "timeline": timeline,
        "expect": [
            {"check": "max_outage", "clients": "all", "below": 1},
            *({"check": "convergence", "event": i, "below": 3} for i in withdrawals),
            {"check": "tcp_reset", "clients": "moved", "min": 1},
        ],
    }
