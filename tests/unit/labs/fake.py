"""A stand-in for the scenario engine: the summary a lab run would give, by path reasoning.

Used by the checker unit tests (no root): it reads the topology (site
positions, prepends, BFD, health agents) and replays the scenario's timeline
on :mod:`testbed.labs.reasoning`, writing the parts of ``summary.json`` the
checkers read.
"""

from __future__ import annotations

from typing import Any, Dict, List

from testbed.labs import reasoning
from testbed.labs.common import announced_prepend, uplink_neighbors
from testbed.labs.variant import Variant
from testbed.topology.model import Topology


class FakeRun:
    """Callable like :func:`testbed.labs.runner.engine_runner`'s ``run``; counts its calls."""

    def __init__(self, variant: Variant):
        self.variant = variant
        self.calls: List[Dict[str, Any]] = []

    def __call__(self, topo: Topology, scenario: Dict[str, Any]) -> Dict[str, Any]:
        self.calls.append(scenario)
        v = self.variant
        pos = {t.name: t.pos for t in v.transits}
        where = {s.name: pos[s.upstreams()[0]] for s in topo.sites}
        prepend = {s.name: announced_prepend(topo, s.name) for s in topo.sites}
        health = {s.name: s.health for s in topo.sites}
        bfd = {s.name: all(n.bfd for n in uplink_neighbors(topo, s.name)) for s in topo.sites}
        clients = v.client_positions()
        up = {s: True for s in where}
        dead = {s: False for s in where}

        def catchment() -> Dict[str, Any]:
            sites = {s: (where[s], prepend[s]) for s in where if up[s]}
            return reasoning.catchment(clients, sites)

        current = catchment()
        figures = {
            c: {"site_before": current[c], "dns": {"answered": 100, "outages": []},
                "tcp": {"resets": []}}
            for c in clients
        }  # fmt: skip
        events = []
        for event in scenario["timeline"]:
            t, site, kind = float(event["at"]), event.get("site"), event["event"]
            gap = 0.3
            if kind == "fail_site":
                up[site] = False
                if event.get("how") == "silent" and not bfd[site]:
                    gap = float(topo.bgp.hold)
            elif kind == "kill_service":
                dead[site] = True
                if health[site] is not None and health[site].action == "withdraw":
                    up[site] = False
                    gap = health[site].interval * health[site].fall
                else:
                    for c, s in current.items():
                        if s == site:
                            figures[c]["dns"]["outages"].append({"start": t, "duration": 5.0})
            elif kind == "restore":
                up[site], dead[site] = True, False
                prepend[site] = announced_prepend(topo, site)
            elif kind == "prepend":
                prepend[site] = int(event["count"])
            after = catchment()
            moves = {
                c: {"from": current[c], "to": after[c]} for c in clients if after[c] != current[c]
            }
            for c in moves:
                figures[c]["dns"]["outages"].append({"start": t, "duration": gap})
                figures[c]["tcp"]["resets"] += [{"t": t + gap}, {"t": t + gap}]
            events.append({"t": t, "moves": moves})
            current = after
        for c in clients:
            figures[c]["site_after"] = current[c]
        return {"duration": scenario["duration"], "clients": figures, "events": events}
