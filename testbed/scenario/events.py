"""Events: what a scenario does to the running network, and how it is undone.

Each event is one small function on a live :class:`~testbed.net.build.Testbed`
(and its :class:`~testbed.traffic.Traffic`); :class:`Events` keeps, per site
and per link, what was done so that ``restore`` (or ``link up``) undoes
exactly that, in reverse order.

===============  ==============================================================
``fail_site``    ``link-down``: the site router's upstream interfaces go down;
                 the upstream sees carrier loss at once and drops the session.
                 ``silent``: the site router's FRR daemons are frozen
                 (SIGSTOP) and it drops every packet (iptables); links stay
                 up, so only the upstream's hold timer (or BFD) notices.
                 ``router-crash``: the site router's FRR daemons are killed
                 (SIGKILL); the kernel closes their TCP sessions.
``kill_service`` the site's server processes (NSD, stream service or both) are
                 killed; the route stays: the classic anycast blackhole.
``withdraw``     the site router stops announcing the anycast prefix.
``restore``      undoes everything done to the site, latest first.
``prepend``      AS-path prepending on the site's announcements (0 removes).
``med``          MED on the site's announcements.
``link``         ``down`` / ``up`` / ``blackhole`` between two linked nodes.
===============  ==============================================================
"""

from __future__ import annotations

import contextlib
import signal
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from testbed.errors import TestbedError
from testbed.net import frr
from testbed.speaker.control import send as speaker_send
from testbed.topology.plan import Interface, LinkPlan

Undo = Callable[[], None]


def iptables_drop(interface: Optional[str] = None, delete: bool = False) -> List[str]:
    """iptables commands that drop every packet (or every packet on one interface).

    Args:
        interface: drop only what enters or leaves this interface (None: all).
        delete: the commands that remove the same rules.

    Returns:
        Shell command lines, one per chain.
    """
    op = "-D" if delete else "-I"
    if interface is None:
        return [f"iptables -w {op} {chain} -j DROP" for chain in ("INPUT", "FORWARD", "OUTPUT")]
    return [
        f"iptables -w {op} INPUT -i {interface} -j DROP",
        f"iptables -w {op} FORWARD -i {interface} -j DROP",
        f"iptables -w {op} FORWARD -o {interface} -j DROP",
        f"iptables -w {op} OUTPUT -o {interface} -j DROP",
    ]


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
    asn: int, peers: List[str], prepend: int = 0, med: Optional[int] = None
) -> List[str]:
    """vtysh commands that set the site's outbound policy (prepend, MED) towards ``peers``.

    The template names the outbound route-map of each peer ``PEER-out``.
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
        cmds.append("exit")
    cmds += ["end", "clear bgp ipv4 unicast * soft out"]
    return cmds


def inbound_prepend_commands(site_asn: int, site: str, count: int) -> List[str]:
    """vtysh commands for an upstream router: prepend ``site_asn`` on routes learnt from ``site``.

    Used for ``speaker: ryu`` sites, whose BGPSpeaker API has no AS-path
    prepending: the upstream adds the same prepends on receipt, which looks
    the same to every other AS.
    """
    cmds = ["configure terminal", f"route-map {site}-in permit 10", "no set as-path prepend"]
    if count:
        cmds.append(f"set as-path prepend {' '.join([str(site_asn)] * count)}")
    return cmds + ["exit", "end", "clear bgp ipv4 unicast * soft in"]


@dataclass
class Events:
    """Applies scenario events to a live testbed and remembers how to undo them."""

    testbed: Any
    traffic: Any = None
    undo: Dict[str, List[Tuple[str, Undo]]] = field(default_factory=dict)
    policy: Dict[str, Dict[str, Optional[int]]] = field(default_factory=dict)

    # -------------------------------------------------------------- helpers
    @property
    def plan(self):
        """The testbed's address plan."""
        return self.testbed.plan

    def site_router(self, site: str) -> str:
        """The router of a site."""
        routers = self.plan.site_routers()
        if site not in routers:
            raise TestbedError(f"no site called {site!r}")
        return routers[site]

    def uplinks(self, site: str) -> List[Interface]:
        """The site router's interfaces towards other routers (its upstreams)."""
        router = self.site_router(site)
        ends = []
        for link in self.plan.links:
            for end, other in ((link.a, link.b), (link.b, link.a)):
                if end.node == router and other.node in self.plan.routers:
                    ends.append(end)
        return ends

    def upstream_peers(self, site: str) -> List[str]:
        """Names of the site router's BGP peers."""
        return [n.peer for n in self.plan.routers[self.site_router(site)].neighbors]

    def find_link(self, a: str, b: str) -> LinkPlan:
        """The link between two nodes."""
        for link in self.plan.links:
            if {link.a.node, link.b.node} == {a, b}:
                return link
        raise TestbedError(f"no link between {a} and {b}")

    def _default_route(self, node: str) -> List[str]:
        """For a ryu site node, the command that puts back its default route.

        The kernel drops a route whose interface went down, and Ryu's
        speaker does not program the kernel, so the testbed does.
        """
        from testbed.net.build import speaker_default_route

        router = self.plan.routers.get(node)
        if router is None or router.frr:
            return []
        return [speaker_default_route(router)]

    def _sh(self, node: str, lines: List[str]) -> None:
        out = self.testbed.cmd(node, " && ".join(lines) + " && echo done")
        if not out.strip().endswith("done"):
            raise TestbedError(f"on {node}: {' ; '.join(lines)}: {out.strip()[-200:]}")

    def _vtysh(self, router: str, cmds: List[str]) -> None:
        frr.vtysh(router, *cmds)

    def _remember(self, key: str, what: str, undo: Undo) -> None:
        self.undo.setdefault(key, []).append((what, undo))

    # --------------------------------------------------------------- events
    def apply(self, kind: str, **params: Any) -> Dict[str, Any]:
        """Apply one event by name (``fail_site``, ``restore``, ...).

        Returns:
            Details worth recording (interfaces touched, processes stopped...).
        """
        handler = getattr(self, kind, None)
        if handler is None or kind.startswith("_") or kind == "apply":
            raise TestbedError(f"unknown event {kind!r}")
        return handler(**params) or {}

    def fail_site(self, site: str, how: str = "link-down") -> Dict[str, Any]:
        """Fail a site: ``link-down``, ``silent`` or ``router-crash``."""
        router = self.site_router(site)
        if how == "link-down":
            names = [end.name for end in self.uplinks(site)]
            self._sh(router, [f"ip link set {n} down" for n in names])
            self._remember(
                site,
                "link-down",
                lambda: self._sh(
                    router, [f"ip link set {n} up" for n in names] + self._default_route(router)
                ),
            )
            return {"interfaces": names}
        ryu = not self.plan.routers[router].frr
        if how == "silent":
            daemons = self.testbed.speakers(router) if ryu else self.testbed.frr_daemons(router)
            self._sh(router, iptables_drop())
            for proc in daemons:
                self.testbed.send_signal(proc, signal.SIGSTOP)

            def thaw() -> None:
                for proc in daemons:
                    self.testbed.send_signal(proc, signal.SIGCONT)
                self._sh(router, iptables_drop(delete=True))

            self._remember(site, "silent", thaw)
            return {"frozen": [p.name for p in daemons]}
        if how == "router-crash":
            daemons = self.testbed.speakers(router) if ryu else self.testbed.frr_daemons(router)
            for proc in daemons:
                self.testbed.send_signal(proc, signal.SIGKILL)
            restart = self.testbed.start_speaker_on if ryu else self.testbed.start_frr_on
            self._remember(site, "router-crash", lambda: restart(router))
            return {"killed": [p.name for p in daemons]}
        raise TestbedError(f"fail_site: unknown how {how!r}")

    def kill_service(self, site: str, service: str = "all") -> Dict[str, Any]:
        """Kill a site's server processes (``dns``, ``tcp`` or ``all``); the route stays."""
        if self.traffic is None:
            raise TestbedError("kill_service needs traffic (services) running")
        kinds = ["dns", "tcp"] if service == "all" else [service]
        killed = []
        for server in self.plan.servers(site):
            for kind in kinds:
                if self.traffic.stop_service(server.name, kind, kill=True):
                    killed.append(f"{kind}@{server.name}")

                    def revive(server: str = server.name, kind: str = kind) -> None:
                        self.traffic.start_service(server, kind)
                        self.traffic.wait_services(only={(server, kind)})

                    self._remember(site, f"kill_service {kind}", revive)
        return {"killed": killed}

    def withdraw(self, site: str) -> Dict[str, Any]:
        """Stop announcing the anycast prefix from the site (graceful)."""
        router = self.site_router(site)
        plan = self.plan.routers[router]
        prefixes = [str(p) for p in plan.networks]
        if not plan.frr:
            sock = self.testbed.speaker_socket(router)
            speaker_send(sock, "withdraw")
            self._remember(site, "withdraw", lambda: speaker_send(sock, "announce") and None)
            return {"prefixes": prefixes, "speaker": "ryu"}
        for prefix in prefixes:
            self._vtysh(router, announce_commands(plan.asn, prefix, False))

        def announce() -> None:
            for prefix in prefixes:
                self._vtysh(router, announce_commands(plan.asn, prefix, True))

        self._remember(site, "withdraw", announce)
        return {"prefixes": prefixes}

    def _set_policy(self, site: str, **change: Optional[int]) -> Dict[str, Any]:
        router = self.site_router(site)
        plan = self.plan.routers[router]
        current = self.policy.setdefault(
            site,
            {
                "prepend": max((n.prepend for n in plan.neighbors), default=0),
                "med": next((n.med for n in plan.neighbors if n.med is not None), None),
            },
        )
        before = dict(current)
        current.update(change)
        peers = [n.peer for n in plan.neighbors]
        self._apply_policy(router, current)

        def back() -> None:
            current.update(before)
            self._apply_policy(router, before)

        self._remember(site, f"policy {change}", back)
        return {"peers": peers, **current}

    def _apply_policy(self, router: str, policy: Dict[str, Optional[int]]) -> None:
        """Announce with this prepend count and MED (FRR route-maps, or the ryu speaker)."""
        plan = self.plan.routers[router]
        if plan.frr:
            peers = [n.peer for n in plan.neighbors]
            self._vtysh(router, policy_commands(plan.asn, peers, policy["prepend"], policy["med"]))
            return
        speaker_send(self.testbed.speaker_socket(router), "med", value=policy["med"])
        for n in plan.neighbors:  # prepending happens at the upstreams (no API for it in Ryu)
            self._vtysh(n.peer, inbound_prepend_commands(plan.asn, router, policy["prepend"] or 0))

    def prepend(self, site: str, count: int) -> Dict[str, Any]:
        """Prepend the site's AS ``count`` times on its announcements (0 removes)."""
        return self._set_policy(site, prepend=count)

    def med(self, site: str, value: int) -> Dict[str, Any]:
        """Set the MED of the site's announcements."""
        return self._set_policy(site, med=value)

    def restore(self, site: str) -> Dict[str, Any]:
        """Undo everything done to the site, latest first."""
        self.site_router(site)
        undone = []
        for what, undo in reversed(self.undo.pop(site, [])):
            undo()
            undone.append(what)
        return {"undone": undone}

    def link(self, a: str, b: str, state: str) -> Dict[str, Any]:
        """Take the link between ``a`` and ``b`` down, up, or make it drop everything."""
        link = self.find_link(a, b)
        key = f"link:{'-'.join(sorted((a, b)))}"
        if state == "up":
            undone = []
            for what, undo in reversed(self.undo.pop(key, [])):
                undo()
                undone.append(what)
            return {"undone": undone}
        ends = [link.a, link.b]
        if state == "down":
            for end in ends:
                self._sh(end.node, [f"ip link set {end.name} down"])
            self._remember(
                key,
                "down",
                lambda: (
                    [
                        self._sh(e.node, [f"ip link set {e.name} up", *self._default_route(e.node)])
                        for e in ends
                    ]
                    and None
                ),
            )
            return {"interfaces": [e.name for e in ends]}
        if state == "blackhole":
            for end in ends:
                self._sh(end.node, iptables_drop(end.name))
            self._remember(
                key,
                "blackhole",
                lambda: (
                    [self._sh(e.node, iptables_drop(e.name, delete=True)) for e in ends] and None
                ),
            )
            return {"interfaces": [e.name for e in ends]}
        raise TestbedError(f"link: unknown state {state!r}")

    def restore_all(self) -> None:
        """Undo everything still in place (before teardown; errors ignored)."""
        for key in list(self.undo):
            for _what, undo in reversed(self.undo.pop(key)):
                with contextlib.suppress(Exception):  # best effort before teardown
                    undo()
