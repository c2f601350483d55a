"""What each speaker can do with the failover knobs (timers, MRAI, BFD).

FRR site routers take every knob.  A Ryu site speaker (Ryu's BGPSpeaker API,
issue 5) has no BFD and no advertisement-interval; its hold time is
negotiated with the FRR upstream (the lower of both ends wins), so the
topology's hold timer still applies.  :func:`speaker_caveats` says, in one
line each, which asked-for knob a site's speaker cannot honour, so that the
run prints it and records it in ``meta.json`` (``caveats``) instead of
silently ignoring it.  The Ryu speaker itself should read the same table.
"""

from __future__ import annotations

from typing import Dict, FrozenSet, List

from testbed.topology.model import Topology

#: Knobs each speaker honours on its own sessions.
SPEAKER_KNOBS: Dict[str, FrozenSet[str]] = {
    "frr": frozenset({"keepalive", "hold", "mrai", "connect_retry", "bfd"}),
    "ryu": frozenset({"keepalive", "hold", "connect_retry"}),
}


def speaker_caveats(topo: Topology) -> List[str]:
    """One line per site whose speaker cannot honour a knob the topology asks for.

    Args:
        topo: the topology to run (scenario timers and overrides applied).

    Returns:
        Human sentences, empty when every site's speaker takes every knob.
    """
    from testbed.topology.plan import make_plan

    out: List[str] = []
    plan = make_plan(topo)
    for site in topo.sites:
        knobs = SPEAKER_KNOBS.get(site.speaker, SPEAKER_KNOBS["frr"])
        router = plan.routers[site.name]
        if "bfd" not in knobs and any(n.bfd for n in router.neighbors):
            out.append(
                f"site {site.name} ({site.speaker}): no BFD in this speaker; its sessions run "
                "without BFD, so only the hold timer detects a silent failure"
            )
        mrai = {n.timers.mrai for n in router.neighbors}
        if "mrai" not in knobs and mrai - {0}:
            out.append(
                f"site {site.name} ({site.speaker}): no advertisement-interval (MRAI) in this "
                f"speaker; its own announcements are not rate-limited (asked: "
                f"{', '.join(str(m) for m in sorted(mrai))} s)"
            )
    return out
