"""What each speaker can do with the failover knobs (timers, MRAI, BFD).

FRR site routers take every knob.  A Ryu site speaker (Ryu's BGPSpeaker API,
issue 5; details in :mod:`testbed.speaker.settings`) takes:

- ``hold``: passed to Ryu (``hold_time``, at least 10 s there) and negotiated
  with the FRR upstream, the lower end winning, so the session runs the
  topology's hold time (also below 10 s, from the FRR end);
- ``connect_retry``: the speaker is passive, so the FRR upstream opens the
  session with its own ``timers connect``, which is the topology's value;
- ``keepalive`` only as hold / 3: Ryu has no keepalive setting;
- no advertisement-interval (MRAI) and no BFD;
- no communities: Ryu 4.34's ``BGPSpeaker.prefix_add`` takes a prefix, a next
  hop and a route distinguisher only, its neighbour out-filters permit or
  deny, and its attribute maps set only local preference (and only in VRFs),
  so nothing attaches a community to the site's route (:data:`NO_COMMUNITIES`;
  a ``set_communities`` event on a Ryu site is refused when the scenario is
  checked).

An ExaBGP site speaker (:mod:`testbed.speaker.exabgp`) takes:

- ``hold``: written as the neighbor's ``hold-time`` (ExaBGP takes 3 s and
  more, as the topology does) and negotiated, the lower end winning;
- ``connect_retry``: ExaBGP is passive (it listens on its uplink address),
  so the FRR upstream's ``timers connect`` applies;
- ``keepalive`` only as hold / 3: ExaBGP has no keepalive setting;
- no advertisement-interval (MRAI) and no BFD;
- one prepend count, one MED and one set of communities for all its
  upstreams (the API program announces one route): per-session
  ``prepend``/``med``/``communities`` that differ are not honoured (the
  communities of every session go to every upstream).

:func:`speaker_caveats` says, in one line each, which asked-for knob a
site's speaker does not honour, so that the run prints it and records it in
``meta.json`` (``caveats``) instead of silently ignoring it.
"""

from __future__ import annotations

from typing import Callable, Dict, FrozenSet, List, Protocol, Tuple

from testbed.speaker.exabgp import session_timers as exabgp_session_timers
from testbed.speaker.settings import session_timers
from testbed.topology.model import Topology

#: Speakers that cannot attach communities to their announcements, and why.
NO_COMMUNITIES: Dict[str, str] = {
    "ryu": "Ryu's BGPSpeaker API has no community for its own routes",
}
#: Knobs each speaker honours exactly on its own sessions (``keepalive`` on a
#: Ryu site: only when it is hold / 3, see :func:`speaker_caveats`).
SPEAKER_KNOBS: Dict[str, FrozenSet[str]] = {
    "frr": frozenset({"keepalive", "hold", "mrai", "connect_retry", "bfd"}),
    "ryu": frozenset({"hold", "connect_retry"}),
    "exabgp": frozenset({"hold", "connect_retry"}),
}


class NegotiatedTimers(Protocol):
    """The timers a site's session runs with (each speaker module has its own dataclass)."""

    @property
    def hold(self) -> int: ...

    @property
    def keepalive(self) -> int: ...

    @property
    def connect_retry(self) -> int: ...


#: (site's hold, upstream's hold, upstream's connect-retry) -> the session's timers.
SessionTimersOf = Callable[[int, int, int], NegotiatedTimers]
#: How the timers of a site's session come out, per speaker that does not take them all.
SESSION_TIMERS: Dict[str, SessionTimersOf] = {
    "ryu": session_timers,
    "exabgp": exabgp_session_timers,
}
#: What each speaker is called in the caveats, and why its hold time may differ.
HOLD_NOTE: Dict[str, Tuple[str, str]] = {
    "ryu": ("Ryu", "Ryu takes at least 10 s, the lower end wins"),
    "exabgp": ("ExaBGP", "ExaBGP takes at least 3 s, the lower end wins"),
}


def speaker_caveats(topo: Topology) -> List[str]:
    """One line per site (and knob) whose speaker cannot honour what the topology asks for.

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
        label = f"site {site.name} ({site.speaker})"
        if "bfd" not in knobs and any(n.bfd for n in router.neighbors):
            out.append(
                f"{label}: no BFD in this speaker; its sessions run "
                "without BFD, so only the hold timer detects a silent failure"
            )
        mrai = {n.timers.mrai for n in router.neighbors}
        if "mrai" not in knobs and mrai - {0}:
            out.append(
                f"{label}: no advertisement-interval (MRAI) in this "
                f"speaker; its own announcements are not rate-limited (asked: "
                f"{', '.join(str(m) for m in sorted(mrai))} s)"
            )
        sent = list(
            dict.fromkeys(
                c
                for n in router.neighbors
                if n.policy
                for c in [*n.policy.communities, *n.policy.large_communities]
            )
        )
        if site.speaker in NO_COMMUNITIES and sent:
            out.append(
                f"{label}: no communities in this speaker "
                f"({NO_COMMUNITIES[site.speaker]}); its announcements go without "
                f"{', '.join(sent)}"
            )
        timers = SESSION_TIMERS.get(site.speaker)
        if timers is None:
            continue
        who, hold_note = HOLD_NOTE[site.speaker]
        if site.speaker == "exabgp":
            policies = {(n.prepend, n.med) for n in router.neighbors}
            if len(policies) > 1:
                out.append(
                    f"{label}: ExaBGP announces one route to all its upstreams; the "
                    "per-session prepend/MED that differ are not honoured (it uses "
                    "the highest prepend and the first MED)"
                )
            communities = {
                (tuple(n.policy.communities), tuple(n.policy.large_communities))
                for n in router.neighbors
                if n.policy
            }
            if len(communities) > 1:
                out.append(
                    f"{label}: ExaBGP announces one route to all its upstreams; the "
                    f"per-session communities that differ go to every upstream "
                    f"({', '.join(sent)})"
                )
        for n in router.neighbors:
            back = next(m for m in plan.routers[n.peer].neighbors if m.peer == router.name)
            got = timers(n.timers.hold, back.timers.hold, back.timers.connect_retry)
            if got.hold != n.timers.hold:
                out.append(
                    f"{label}: the session with {n.peer} negotiates hold {got.hold} s "
                    f"(asked: {n.timers.hold} s; {hold_note})"
                )
            if got.keepalive != n.timers.keepalive:
                out.append(
                    f"{label}: {who} has no keepalive setting; it sends keepalives to "
                    f"{n.peer} every hold / 3 = {got.keepalive} s (asked: "
                    f"{n.timers.keepalive} s)"
                )
            if got.connect_retry != n.timers.connect_retry:
                out.append(
                    f"{label}: the speaker is passive; {n.peer} opens the session with its "
                    f"own connect-retry of {got.connect_retry} s (asked on the site's end: "
                    f"{n.timers.connect_retry} s)"
                )
    return out
