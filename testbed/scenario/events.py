"""Events: what a scenario does to the running network, and how it is undone.

Each event is one small method of :class:`Events` on a live
:class:`~testbed.net.build.Testbed` (and its :class:`~testbed.traffic.TrafficRun`),
registered with ``@handles(Model)`` for the event's model class
(:mod:`testbed.scenario.model`) and given that model: :meth:`Events.apply`
looks the handler up by the event's class in :data:`HANDLERS`.
:class:`Events` keeps, per site and per link, what was done so that
``restore`` (or ``link up``) undoes exactly that, in reverse order.

===================  ==========================================================
``fail_site``        ``link-down``: the site router's upstream interfaces go down;
                     the upstream sees carrier loss at once and drops the session.
                     ``silent``: the site speaker's processes (FRR daemons,
                     Ryu, ExaBGP) are frozen (SIGSTOP) and the node drops every
                     packet (iptables); links stay up, so only the upstream's
                     hold timer (or BFD) notices.
                     ``router-crash``: the site speaker's processes are killed
                     (SIGKILL); the kernel closes their TCP sessions.
``kill_service``     the site's server processes (NSD, stream service or both) are
                     killed; the route stays: the classic anycast blackhole.
``withdraw``         the site router stops announcing the anycast prefix.
``restore``          undoes everything done to the site, latest first.
``prepend``          AS-path prepending on the site's announcements (0 removes).
``med``              MED on the site's announcements.
``set_communities``  the site's communities on its announcements (``[]`` removes
                     them; its sessions' own communities stay).
``link``             ``down`` / ``up`` / ``blackhole`` between two linked nodes.
``backend``          ``down``: the run's shared backend (the health agents'
                     ``backend`` check) is killed; ``up``: started again.
===================  ==========================================================

Whatever a site runs, it is driven through its
:class:`~testbed.speaker.base.SiteSpeaker` (``Testbed.speaker``): no event
knows the kinds apart.
"""

from __future__ import annotations

import contextlib
import signal
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple, Type, TypeVar

from testbed.attack import limits
from testbed.errors import TestbedError
from testbed.scenario.model import (
    AttackStart,
    AttackStop,
    Backend,
    EventBase,
    FailSite,
    KillService,
    LinkEvent,
    Med,
    Prepend,
    Restore,
    SetCommunities,
    Withdraw,
)
from testbed.speaker.base import unique
from testbed.topology.plan import Interface, LinkPlan, Plan

if TYPE_CHECKING:  # the live network and its traffic: only their types are needed here
    from testbed.net.build import Testbed
    from testbed.speaker.base import SiteSpeaker
    from testbed.traffic import TrafficRun

Undo = Callable[[], None]
#: What an event's handler returns: worth recording (``details`` in events.jsonl).
Details = Dict[str, Any]
E = TypeVar("E", bound=EventBase)
#: A handler: an :class:`Events` method taking the event model it is registered for.
Handler = Callable[["Events", Any], Details]

#: Seconds an attack sender may outlive the timeline's end (the teardown stops it first).
ATTACK_GRACE_S = 5.0
#: Event model class -> its handler, filled by :func:`handles`.
HANDLERS: Dict[Type[EventBase], Handler] = {}


def handles(
    kind: Type[E],
) -> Callable[[Callable[[Events, E], Details]], Callable[[Events, E], Details]]:
    """Register the decorated :class:`Events` method as the handler of an event model.

    Args:
        kind: the event model class (:class:`~testbed.scenario.model.FailSite`, ...).

    Raises:
        TypeError: the class has a handler already.
    """

    def register(handler: Callable[[Events, E], Details]) -> Callable[[Events, E], Details]:
        if kind in HANDLERS:
            raise TypeError(f"{kind.__name__} has a handler already")
        HANDLERS[kind] = handler
        return handler

    return register


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


@dataclass
class Events:
    """Applies scenario events to a live testbed and remembers how to undo them.

    :meth:`apply` takes an event model and calls the handler registered for
    its class (:data:`HANDLERS`); the methods named like the events
    (:meth:`fail_site`, :meth:`restore`, ...) build the model and apply it.
    """

    testbed: Testbed
    traffic: Optional[TrafficRun] = None
    undo: Dict[str, List[Tuple[str, Undo]]] = field(default_factory=dict)
    policy: Dict[str, Dict[str, Optional[int]]] = field(default_factory=dict)
    communities: Dict[str, List[str]] = field(default_factory=dict)
    #: When the run's timeline ends (``time.time()``): an attack lasts at most until then.
    ends_at: Optional[float] = None

    # -------------------------------------------------------------- helpers
    @property
    def plan(self) -> Plan:
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

    def speaker(self, site: str) -> SiteSpeaker:
        """The site's speaker (:class:`~testbed.speaker.base.SiteSpeaker`)."""
        return self.testbed.speaker(self.site_router(site))

    def _default_route(self, node: str) -> List[str]:
        """What a site node needs once a link of its came up again (its speaker says).

        The kernel drops a route whose interface went down, and a speaker
        process (Ryu, ExaBGP) does not program the kernel, so the testbed
        puts the node's default route back.
        """
        router = self.plan.routers.get(node)
        if router is None or not router.site:
            return []
        return self.testbed.speaker(node).link_up_commands()

    def _sh(self, node: str, lines: List[str]) -> None:
        out = self.testbed.cmd(node, " && ".join(lines) + " && echo done")
        if not out.strip().endswith("done"):
            raise TestbedError(f"on {node}: {' ; '.join(lines)}: {out.strip()[-200:]}")

    def _remember(self, key: str, what: str, undo: Undo) -> None:
        self.undo.setdefault(key, []).append((what, undo))

    def _undo(self, key: str) -> Details:
        """Undo everything remembered under ``key``, latest first."""
        undone = []
        for what, undo in reversed(self.undo.pop(key, [])):
            undo()
            undone.append(what)
        return {"undone": undone}

    # -------------------------------------------------------------- dispatch
    def apply(self, event: EventBase) -> Details:
        """Apply one event model (:class:`~testbed.scenario.model.FailSite`, ...).

        Its ``site`` must be a real site (``busiest`` resolved by the engine).

        Returns:
            Details worth recording (interfaces touched, processes stopped...).

        Raises:
            TestbedError: no handler for the event's class, or the event failed.
        """
        handler = HANDLERS.get(type(event))
        if handler is None:
            raise TestbedError(f"unknown event {type(event).__name__}")
        return handler(self, event)

    # --------------------------------------------------------------- events
    @handles(FailSite)
    def _fail_site(self, event: FailSite) -> Details:
        """Fail a site: ``link-down``, ``silent`` or ``router-crash``."""
        site, how = event.site, event.how
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
        speaker = self.testbed.speaker(router)
        if how == "silent":
            daemons = speaker.processes()
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
            daemons = speaker.processes()
            for proc in daemons:
                self.testbed.send_signal(proc, signal.SIGKILL)
            self._remember(site, "router-crash", speaker.restart)
            return {"killed": [p.name for p in daemons]}
        raise TestbedError(f"fail_site: unknown how {how!r}")

    @handles(KillService)
    def _kill_service(self, event: KillService) -> Details:
        """Kill a site's server processes (``dns``, ``tcp`` or ``all``); the route stays."""
        traffic = self.traffic
        if traffic is None:
            raise TestbedError("kill_service needs traffic (services) running")
        site = event.site
        kinds = ["dns", "tcp"] if event.service == "all" else [event.service]
        killed = []
        for server in self.plan.servers(site):
            for kind in kinds:
                if traffic.stop_service(server.name, kind, kill=True):
                    killed.append(f"{kind}@{server.name}")

                    def revive(server: str = server.name, kind: str = kind) -> None:
                        traffic.start_service(server, kind)
                        traffic.wait_services(only={(server, kind)})

                    self._remember(site, f"kill_service {kind}", revive)
        return {"killed": killed}

    @handles(Withdraw)
    def _withdraw(self, event: Withdraw) -> Details:
        """Stop announcing the anycast prefix from the site (graceful)."""
        speaker = self.speaker(event.site)
        speaker.withdraw()
        self._remember(event.site, "withdraw", speaker.announce)
        return {"prefixes": list(speaker.spec.prefixes), "speaker": speaker.kind}

    def _set_policy(self, site: str, **change: Optional[int]) -> Details:
        speaker = self.speaker(site)
        current = self.policy.setdefault(
            site, {"prepend": speaker.spec.base_prepend, "med": speaker.spec.base_med}
        )
        before = dict(current)
        current.update(change)
        speaker.set_policy(current["prepend"] or 0, current["med"], force=True)

        def back() -> None:
            current.update(before)
            speaker.set_policy(before["prepend"] or 0, before["med"], force=True)

        self._remember(site, f"policy {change}", back)
        return {"peers": list(speaker.spec.peers), **current}

    @handles(Prepend)
    def _prepend(self, event: Prepend) -> Details:
        """Prepend the site's AS ``count`` times on its announcements (0 removes)."""
        return self._set_policy(event.site, prepend=event.count)

    @handles(Med)
    def _med(self, event: Med) -> Details:
        """Set the MED of the site's announcements."""
        return self._set_policy(event.site, med=event.value)

    @handles(SetCommunities)
    def _set_communities(self, event: SetCommunities) -> Details:
        """Replace the site's communities on its announcements (``[]`` removes them)."""
        site = event.site
        speaker = self.speaker(site)
        current = self.communities.setdefault(site, list(speaker.spec.base_communities))
        before = list(current)
        current[:] = unique(event.communities)

        def apply(communities: List[str]) -> None:
            policy = self.policy.get(site) or {
                "prepend": speaker.spec.base_prepend,
                "med": speaker.spec.base_med,
            }
            speaker.set_policy(
                policy["prepend"] or 0, policy["med"], communities=communities, force=True
            )

        apply(list(current))

        def back() -> None:
            current[:] = before
            apply(before)

        self._remember(site, f"communities {current}", back)
        return {"peers": list(speaker.spec.peers), "communities": list(current)}

    @handles(Restore)
    def _restore(self, event: Restore) -> Details:
        """Undo everything done to the site, latest first."""
        self.site_router(event.site)
        return self._undo(event.site)

    @handles(LinkEvent)
    def _link(self, event: LinkEvent) -> Details:
        """Take the link between ``a`` and ``b`` down, up, or make it drop everything."""
        a, b, state = event.a, event.b, event.state
        link = self.find_link(a, b)
        key = f"link:{'-'.join(sorted((a, b)))}"
        if state == "up":
            return self._undo(key)
        ends = [link.a, link.b]
        if state == "down":
            for end in ends:
                self._sh(end.node, [f"ip link set {end.name} down"])

            def up() -> None:
                for e in ends:
                    self._sh(e.node, [f"ip link set {e.name} up", *self._default_route(e.node)])

            self._remember(key, "down", up)
            return {"interfaces": [e.name for e in ends]}
        if state == "blackhole":
            for end in ends:
                self._sh(end.node, iptables_drop(end.name))

            def clear() -> None:
                for e in ends:
                    self._sh(e.node, iptables_drop(e.name, delete=True))

            self._remember(key, "blackhole", clear)
            return {"interfaces": [e.name for e in ends]}
        raise TestbedError(f"link: unknown state {state!r}")

    @handles(Backend)
    def _backend(self, event: Backend) -> Details:
        """Kill the run's shared backend (``down``) or start it again (``up``)."""
        traffic = self.traffic
        if traffic is None:
            raise TestbedError("backend needs traffic (the backend) running")
        if event.state == "up":
            return self._undo("backend")
        killed = traffic.stop_backend(kill=True)
        if killed:

            def revive() -> None:
                traffic.start_backend()

            self._remember("backend", "down", revive)
        return {"killed": ["backend"] if killed else [], "socket": str(traffic.backend_socket)}

    @handles(AttackStart)
    def _attack_start(self, event: AttackStart) -> Details:
        """Start every attack source, until ``attack_stop`` or the end of the run."""
        traffic = self.traffic
        if traffic is None:
            raise TestbedError("attack_start needs traffic running")
        left: float = limits.MAX_DURATION
        if self.ends_at is not None:
            left = min(left, max(self.ends_at - time.time(), 0.0) + ATTACK_GRACE_S)
        sources = traffic.start_attack(event.rate, event.ramp, left)
        spec = self.testbed.topo.attackers
        rate = event.rate or (spec.rate if spec is not None else 0)
        return {"sources": sources, "rate": rate, "ramp": event.ramp, "duration_s": round(left, 3)}

    @handles(AttackStop)
    def _attack_stop(self, event: AttackStop) -> Details:
        """Stop every attack source."""
        if self.traffic is None:
            raise TestbedError("attack_stop needs traffic running")
        return {"stopped": self.traffic.stop_attack()}

    # ------------------------------------------- the same, called by name
    def fail_site(self, site: str, how: str = "link-down") -> Details:
        """Apply :class:`~testbed.scenario.model.FailSite` (scheduled at 0)."""
        return self.apply(
            FailSite.model_validate({"event": "fail_site", "at": 0, "site": site, "how": how})
        )

    def kill_service(self, site: str, service: str = "all") -> Details:
        """Apply :class:`~testbed.scenario.model.KillService`."""
        return self.apply(
            KillService.model_validate(
                {"event": "kill_service", "at": 0, "site": site, "service": service}
            )
        )

    def withdraw(self, site: str) -> Details:
        """Apply :class:`~testbed.scenario.model.Withdraw`."""
        return self.apply(Withdraw(event="withdraw", at=0, site=site))

    def prepend(self, site: str, count: int) -> Details:
        """Apply :class:`~testbed.scenario.model.Prepend`."""
        return self.apply(Prepend(event="prepend", at=0, site=site, count=count))

    def med(self, site: str, value: int) -> Details:
        """Apply :class:`~testbed.scenario.model.Med`."""
        return self.apply(Med(event="med", at=0, site=site, value=value))

    def set_communities(self, site: str, communities: List[str]) -> Details:
        """Apply :class:`~testbed.scenario.model.SetCommunities`."""
        return self.apply(
            SetCommunities.model_validate(
                {"event": "set_communities", "at": 0, "site": site, "communities": communities}
            )
        )

    def backend(self, state: str) -> Details:
        """Apply :class:`~testbed.scenario.model.Backend`."""
        return self.apply(Backend.model_validate({"event": "backend", "at": 0, "state": state}))

    def restore(self, site: str) -> Details:
        """Apply :class:`~testbed.scenario.model.Restore`."""
        return self.apply(Restore(event="restore", at=0, site=site))

    def link(self, a: str, b: str, state: str) -> Details:
        """Apply :class:`~testbed.scenario.model.LinkEvent`."""
        return self.apply(
            LinkEvent.model_validate({"event": "link", "at": 0, "a": a, "b": b, "state": state})
        )

    def restore_all(self) -> None:
        """Undo everything still in place (before teardown; errors ignored)."""
        for key in list(self.undo):
            for _what, undo in reversed(self.undo.pop(key)):
                with contextlib.suppress(Exception):  # best effort before teardown
                    undo()
