"""What an export cannot carry over, refused with one line naming the field (pure).

An exported lab runs every router's FRR (or BIRD) with the testbed's own
frr.conf (bird.conf), NSD on every site server, and the timeline as ``ip``, ``iptables``, signal
and vtysh commands.  What the testbed does with processes of its own
(Python speakers, health agents, the load recorder, attack senders, the
GSLB's PowerDNS and the resolvers) or with host kernel features a
container does not get by itself (the capacity queue's IFB device and its
nftables policer) is not exported: the first such field is refused, as
:class:`~testbed.errors.InputError` (one line, exit status 2), before
anything is written.  docs/export.md says why for each.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

from testbed.errors import InputError
from testbed.scenario.model import BUSIEST
from testbed.topology.model import Topology

#: Event kinds a timeline script can play (the others are refused).
EXPORTED_EVENTS = (
    "fail_site",
    "kill_service",
    "withdraw",
    "restore",
    "prepend",
    "med",
    "set_communities",
    "link",
)

_WHY_EVENT = {
    "backend": "the shared backend is a process of the testbed's health agents, "
    "which are not exported",
    "attack_start": "attack senders are not exported",
    "attack_stop": "attack senders are not exported",
}


def topology_refusal(topo: Topology, engine: str) -> Optional[Tuple[str, str]]:
    """The first field of a topology an export to ``engine`` cannot carry: (field, why)."""
    for i, asys in enumerate(topo.ases):
        if asys.daemon not in ("frr", "bird"):  # pragma: no cover - the model takes no other
            return f"ases[{i}].daemon", f"{asys.daemon}: not exported to {engine}"
    for i, site in enumerate(topo.sites):
        if site.speaker != "frr":
            return (
                f"sites[{i}].speaker",
                f"{site.speaker}: a {site.speaker} speaker is a process of the testbed's own; "
                f"only FRR sites are exported to {engine}",
            )
    for i, site in enumerate(topo.sites):
        if site.health is not None:
            return (
                f"sites[{i}].health",
                f"health agents are processes of the testbed's own: not exported to {engine}",
            )
        if site.capacity is not None:
            return (
                f"sites[{i}].capacity",
                "the capacity queue (an IFB device fed by every uplink, and an nftables "
                f"policer) needs host kernel modules a container does not load: not exported "
                f"to {engine}",
            )
    if topo.service is not None:
        return (
            "service",
            f"GSLB publishing (PowerDNS, its health checks) is not exported to {engine}",
        )
    if topo.resolvers is not None:
        return "resolvers", f"resolvers (unbound) are not exported to {engine}"
    if topo.attackers is not None:
        return "attackers", f"attack senders are not exported to {engine}"
    return None


def scenario_refusal(scenario: Any, engine: str) -> Optional[Tuple[str, str]]:
    """The first field of a scenario an export to ``engine`` cannot carry: (field, why)."""
    if scenario.health is not None:
        return (
            "health",
            f"health agents are processes of the testbed's own: not exported to {engine}",
        )
    if scenario.attackers is not None:
        return "attackers", f"attack senders are not exported to {engine}"
    for i, event in enumerate(scenario.timeline):
        kind = str(getattr(event, "event", ""))
        if kind not in EXPORTED_EVENTS:
            why = _WHY_EVENT.get(kind, "cannot be played by a script")
            return f"timeline[{i}].event", f"{kind}: {why}"
        if getattr(event, "site", None) == BUSIEST:
            return (
                f"timeline[{i}].site",
                "busiest: the testbed finds it from the routers' forwarding tables when "
                "the timeline starts; give the site with --busiest SITE",
            )
    return None


def check_exportable(
    topo: Topology,
    engine: str,
    topology_source: str,
    scenario: Any = None,
    scenario_source: Optional[str] = None,
) -> None:
    """Refuse what an export to ``engine`` cannot carry.

    The scenario's fields are checked first (its ``health`` and ``attackers``
    end up in the topology it runs on, and are the scenario's to change).

    Raises:
        InputError: naming the file (topology or scenario), the field and why.
    """
    if scenario is not None:
        refused = scenario_refusal(scenario, engine)
        if refused is not None:
            raise InputError(refused[1], scenario_source, refused[0])
    refused = topology_refusal(topo, engine)
    if refused is not None:
        raise InputError(refused[1], topology_source, refused[0])
