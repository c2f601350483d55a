"""``speaker: frr``: the site is an FRR router (zebra + bgpd), driven through vtysh.

The vtysh command builders (:func:`announce_commands`, :func:`policy_commands`,
:func:`inbound_prepend_commands`) are pure and unit-tested.  An FRR site
router starts with every other FRR router of the testbed, in the testbed's
ordered batch (:meth:`testbed.net.build.Testbed.start`), so
:meth:`FrrSpeaker.start_all` has nothing left to do; :meth:`FrrSpeaker.start`
restarts its daemons after a crash.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set

from testbed.net import frr
from testbed.speaker.base import SiteSpeaker, register
from testbed.speaker.process import default_route

#: Seconds a vtysh call may take unless the caller says otherwise.
VTYSH_TIMEOUT_S = 20.0


def announce_commands(asn: int, prefix: str, announce: bool) -> List[str]:
    """vtysh commands that start or stop announcing ``prefix`` from ``asn``."""
    no = "" if announce else "no "
    return [
        "configure terminal",
        f"router bgp {asn}",
        "address-family ipv4 unicast",
        f"{no}network {prefix}",
    ]


def policy_commands(
    asn: int,
    peers: List[str],
    prepend: int = 0,
    med: Optional[int] = None,
    communities: Optional[Mapping[str, Sequence[str]]] = None,
) -> List[str]:
    """vtysh commands that set the site's outbound policy towards ``peers``.

    The template names the outbound route-map of each peer ``PEER-out``; its
    entry 10 holds the session's own prepend, MED and communities (further
    entries, the relationship policy's, are left alone).

    Args:
        asn: the site's AS (prepended).
        peers: the upstreams.
        prepend: AS-path prepends (0: none).
        med: the MED (None: none).
        communities: peer -> every community its announcement carries (standard,
            well-known and large, as :class:`~testbed.topology.model.Community`
            writes them); None leaves the communities as they are.  They are
            set ``additive``, as the template does: a route keeps what it
            carries already.
    """
    cmds = ["configure terminal"]
    for peer in peers:
        cmds.append(f"route-map {peer}-out permit 10")
        cmds.append("no set as-path prepend")
        if prepend:
            cmds.append(f"set as-path prepend {' '.join([str(asn)] * prepend)}")
        cmds.append("no set metric")
        if med is not None:
            cmds.append(f"set metric {med}")
        if communities is not None:
            cmds += community_commands(communities.get(peer, []))
        cmds.append("exit")
    cmds += ["end", "clear bgp ipv4 unicast * soft out"]
    return cmds


def community_commands(communities: Sequence[str]) -> List[str]:
    """The ``set community`` / ``set large-community`` lines of one route-map entry.

    Both are removed first (``no set ...``: FRR's northbound ignores a
    clause that is not there), then set again with what ``communities``
    holds: standard and well-known ones (``64500:100``, ``graceful-shutdown``)
    in ``set community``, large ones (``A:B:C``) in ``set large-community``.
    """
    standard = [c for c in communities if c.count(":") != 2]
    large = [c for c in communities if c.count(":") == 2]
    cmds = ["no set community"]
    if standard:
        cmds.append(f"set community {' '.join(standard)} additive")
    cmds.append("no set large-community")
    if large:
        cmds.append(f"set large-community {' '.join(large)} additive")
    return cmds


def inbound_prepend_commands(site_asn: int, site: str, count: int) -> List[str]:
    """vtysh commands for an upstream router: prepend ``site_asn`` on routes learnt from ``site``.

    Used for speakers whose API has no AS-path prepending (Ryu): the upstream
    adds the same prepends on receipt, which looks the same to every other AS.
    """
    cmds = ["configure terminal", f"route-map {site}-in permit 10", "no set as-path prepend"]
    if count:
        cmds.append(f"set as-path prepend {' '.join([str(site_asn)] * count)}")
    return cmds + ["exit", "end", "clear bgp ipv4 unicast * soft in"]


@register("frr")
class FrrSpeaker(SiteSpeaker):
    """A site router running FRR: ``network`` statements and ``PEER-out`` route-maps."""

    runs_frr = True

    def _vtysh(self, router: str, commands: List[str]) -> str:
        return frr.vtysh(router, *commands, timeout=self.timeout or VTYSH_TIMEOUT_S)

    def announce(self) -> None:
        for prefix in self.spec.prefixes:
            self._vtysh(self.name, announce_commands(self.spec.asn, prefix, True))
        self.announced = True

    def link_up_commands(self) -> List[str]:
        """The site router's default route back, when it has one (``gslb``: the kernel
        dropped it with the interface)."""
        router = self.tb.plan.routers.get(self.name) if self.testbed is not None else None
        if router is None or not router.default_route:
            return []
        return [default_route(router)]

    def withdraw(self) -> None:
        for prefix in self.spec.prefixes:
            self._vtysh(self.name, announce_commands(self.spec.asn, prefix, False))
        self.announced = False

    def _apply_policy(
        self,
        prepend: int,
        med: Optional[int],
        communities: Optional[List[str]],
        changed: Set[str],
    ) -> List[str]:
        per_peer = None
        if communities is not None:
            per_peer = {p: self.spec.communities_towards(p, communities) for p in self.spec.peers}
        cmds = policy_commands(self.spec.asn, self.spec.peers, prepend, med, per_peer)
        self._vtysh(self.name, cmds)
        done = [f"med {med} prepend {prepend}"]
        if communities is not None:
            done.append(f"communities {' '.join(communities) or 'none'}")
        return done

    def sessions(self) -> Dict[str, str]:
        names = {str(n.address): n.peer for n in self.plan.neighbors} if self.testbed else {}
        return frr.bgp_sessions(self.name, names, self.timeout or VTYSH_TIMEOUT_S)

    def status(self) -> Dict[str, Any]:
        """From bgpd's RIB: a prefix is announced while it has a locally sourced path."""
        announced = False
        for prefix in self.spec.prefixes:
            rib = json.loads(
                self._vtysh(self.name, [f"show bgp ipv4 unicast {prefix} json"]) or "{}"
            )
            announced = announced or any(
                p.get("sourced") or p.get("local") or p.get("peer", {}).get("peerId") == "0.0.0.0"
                for p in rib.get("paths", [])
            )
        return {
            "announced": announced,
            "prepend": self.prepend,
            "med": self.med,
            "communities": self.communities,
            "peers": self.sessions(),
        }

    @classmethod
    def start_all(cls, speakers: List[SiteSpeaker]) -> None:
        """Nothing: FRR site routers start with every FRR router (the testbed's ordered batch)."""

    def start(self) -> None:
        self.tb.start_frr_on(self.name)

    def processes(self) -> List[Any]:
        return self.tb.frr_daemons(self.name)
