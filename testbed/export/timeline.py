"""A scenario's timeline as actions on the nodes of a plan (pure, engine-neutral).

The scenario engine applies each event to the live testbed
(:class:`testbed.scenario.events.Events`) and remembers, per site and per
link, how to undo it, so that ``restore`` (or ``link up``) undoes exactly
that, latest first.  An export cannot ask a live network anything, so
:class:`TimelinePlanner` plays the same bookkeeping through at export time
and turns every event into :class:`Action` objects: which node does what.
An engine's exporter (:mod:`testbed.export.kathara`) writes each action as
the engine's command (``kathara exec DEVICE -- ...``).

What each action stands for, and where its commands come from:

============  ================================================================
``link``      ``ip link set IF up|down`` (the plan's interface; the exporter
              names it as the engine does)
``drop``      the testbed's own iptables rules that drop every packet
              (:func:`testbed.scenario.events.iptables_drop`), added or deleted
``frr``       a signal to every FRR daemon of the node (``STOP``, ``CONT``,
              ``KILL``), or ``start`` them again
``vtysh``     one vtysh call: the site speaker's own command builders
              (:func:`testbed.speaker.frr.announce_commands`,
              :func:`~testbed.speaker.frr.policy_commands`)
``service``   a site server's service (``dns``: NSD, ``tcp``: the stream
              service) killed (``stop``) or started again (``start``)
``shell``     a shell line as the testbed runs it (a site's default route
              back after its link came up: ``link_up_commands``)
============  ================================================================

Events an export cannot play (the shared backend, attacks, ``busiest``)
are refused before this module is asked (:mod:`testbed.export.support`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from testbed.scenario.model import (
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
from testbed.speaker.base import SpeakerSpec, unique
from testbed.speaker.frr import announce_commands, policy_commands
from testbed.speaker.process import default_route
from testbed.topology.model import Topology
from testbed.topology.plan import Interface, LinkPlan, Plan
from testbed.topology.validate import resolve_router

#: The action kinds (see the module's table).
KINDS = ("link", "drop", "frr", "vtysh", "service", "shell")


@dataclass(frozen=True)
class Action:
    """One thing one node does: ``kind`` (one of :data:`KINDS`) with its arguments.

    Attributes:
        node: the plan's node name.
        kind: ``link``, ``drop``, ``frr``, ``vtysh``, ``service`` or ``shell``.
        args: ``link``: (interface, ``up``/``down``); ``drop``: (interface or
            ``""`` for every packet, ``add``/``delete``); ``frr``: (``STOP``,
            ``CONT``, ``KILL`` or ``start``,); ``vtysh``: the commands;
            ``service``: (``dns``/``tcp``, ``stop``/``start``); ``shell``: (line,).
    """

    node: str
    kind: str
    args: Tuple[str, ...] = ()


@dataclass
class TimedEvent:
    """One event of the timeline, when it fires and what it does.

    Attributes:
        index: its place in the timeline.
        event: the event model.
        actions: what the nodes do, in order.
        record: the fixed part of its ``events.jsonl`` record (``kind``,
            ``index``, ``event``, ``target``, ``params``, ``at``); the
            script adds ``t`` and ``applied_s`` when it runs.
    """

    index: int
    event: EventBase
    actions: List[Action]
    record: Dict[str, Any]

    @property
    def at(self) -> float:
        """Seconds from the start of the timeline."""
        return float(self.event.at)

    def describe(self) -> str:
        """Its line in the output, as the engine prints it (``fail site east (link-down)``)."""
        return self.event.describe()


Undo = Callable[[], List[Action]]


def event_params(event: EventBase) -> Dict[str, Any]:
    """An event model's own fields (without ``event`` and ``at``), as events.jsonl has them."""
    return {k: v for k, v in event.model_dump(mode="json").items() if k not in ("event", "at")}


@dataclass
class TimelinePlanner:
    """Plays the engine's bookkeeping of a timeline through, without a network.

    Args:
        plan: the plan of the topology the scenario runs on.
        topology: that topology (the sites' communities).
        carrier: True when taking one end of a link down takes the other end's
            carrier too (a veth pair, as in the testbed); False when the link
            is a bridge between the two (Kathará's collision domains), so the
            far end is taken down as well: the upstream notices at once, as
            it does in the testbed.
        services: the services the sites' servers run (``dns``; ``tcp`` when
            the scenario's probes need the stream service): ``kill_service``
            kills only those, as the testbed does.
    """

    plan: Plan
    topology: Topology
    carrier: bool = True
    services: Tuple[str, ...] = ("dns", "tcp")
    undo: Dict[str, List[Tuple[str, Undo]]] = field(default_factory=dict)
    policy: Dict[str, Dict[str, Optional[int]]] = field(default_factory=dict)
    communities: Dict[str, List[str]] = field(default_factory=dict)

    # -------------------------------------------------------------- helpers
    def site_router(self, site: str) -> str:
        """The router of a site."""
        routers = self.plan.site_routers()
        if site not in routers:
            raise ValueError(f"no site called {site!r}")
        return routers[site]

    def spec(self, site: str) -> SpeakerSpec:
        """The site speaker's spec as the testbed makes it (AS, prefixes, peers, communities)."""
        router = self.plan.routers[self.site_router(site)]
        return SpeakerSpec.from_router(router, None, self.topology)

    def uplinks(self, site: str) -> List[Tuple[Interface, Interface]]:
        """(the site router's end, the upstream's end) of every link towards another router."""
        router = self.site_router(site)
        ends = []
        for link in self.plan.links:
            for end, other in ((link.a, link.b), (link.b, link.a)):
                if end.node == router and other.node in self.plan.routers:
                    ends.append((end, other))
        return ends

    def find_link(self, a: str, b: str) -> LinkPlan:
        """The link between two nodes (a router, site, client or single-router AS name each)."""
        nodes = set(self.plan.routers) | set(self.plan.hosts)
        ends = {n if n in nodes else (resolve_router(self.topology, n) or n) for n in (a, b)}
        for link in self.plan.links:
            if {link.a.node, link.b.node} == ends:
                return link
        raise ValueError(f"no link between {a} and {b}")

    def link_up(self, node: str) -> List[Action]:
        """What a site node needs once a link of its came up again: its default route back
        (an FRR site has one only with ``gslb``, as ``FrrSpeaker.link_up_commands`` says)."""
        router = self.plan.routers.get(node)
        if router is None or not router.site or not router.default_route:
            return []
        return [Action(node, "shell", (default_route(router),))]

    def _remember(self, key: str, what: str, undo: Undo) -> None:
        self.undo.setdefault(key, []).append((what, undo))

    def _undo(self, key: str) -> List[Action]:
        actions: List[Action] = []
        for _what, undo in reversed(self.undo.pop(key, [])):
            actions += undo()
        return actions

    # ------------------------------------------------------------- timeline
    def plan_timeline(self, timeline: List[EventBase]) -> List[TimedEvent]:
        """Every event of a timeline with its actions, in order."""
        out = []
        for index, event in enumerate(timeline):
            record = {
                "kind": "event",
                "index": index,
                "event": str(getattr(event, "event", "")),
                "target": event.target(),
                "params": event_params(event),
                "at": event.at,
            }
            out.append(TimedEvent(index, event, self.actions(event), record))
        return out

    def actions(self, event: EventBase) -> List[Action]:
        """What one event does, the bookkeeping for its undoing updated.

        Raises:
            ValueError: an event kind an export cannot play (refused earlier by
                :func:`testbed.export.support.check_exportable`).
        """
        if isinstance(event, FailSite):
            return self._fail_site(event)
        if isinstance(event, KillService):
            return self._kill_service(event)
        if isinstance(event, Withdraw):
            return self._withdraw(event)
        if isinstance(event, Prepend):
            return self._set_policy(event.site, prepend=event.count)
        if isinstance(event, Med):
            return self._set_policy(event.site, med=event.value)
        if isinstance(event, SetCommunities):
            return self._set_communities(event)
        if isinstance(event, Restore):
            self.site_router(event.site)
            return self._undo(event.site)
        if isinstance(event, LinkEvent):
            return self._link(event)
        raise ValueError(f"{getattr(event, 'event', type(event).__name__)}: cannot be exported")

    def _fail_site(self, event: FailSite) -> List[Action]:
        router = self.site_router(event.site)
        if event.how == "link-down":
            ends = self.uplinks(event.site)
            far = [] if self.carrier else [other for _, other in ends]
            down = [Action(e.node, "link", (e.name, "down")) for e, _ in ends]
            down += [Action(e.node, "link", (e.name, "down")) for e in far]

            def up() -> List[Action]:
                back = [Action(e.node, "link", (e.name, "up")) for e in far]
                back += [Action(e.node, "link", (e.name, "up")) for e, _ in ends]
                return back + self.link_up(router)

            self._remember(event.site, "link-down", up)
            return down
        if event.how == "silent":
            self._remember(
                event.site,
                "silent",
                lambda: [Action(router, "frr", ("CONT",)), Action(router, "drop", ("", "delete"))],
            )
            return [Action(router, "drop", ("", "add")), Action(router, "frr", ("STOP",))]
        if event.how == "router-crash":
            self._remember(event.site, "router-crash", lambda: [Action(router, "frr", ("start",))])
            return [Action(router, "frr", ("KILL",))]
        raise ValueError(f"fail_site: unknown how {event.how!r}")

    def _kill_service(self, event: KillService) -> List[Action]:
        kinds = ["dns", "tcp"] if event.service == "all" else [event.service]
        actions: List[Action] = []
        self.site_router(event.site)
        for server in self.plan.servers(event.site):
            for kind in kinds:
                if kind not in self.services:
                    continue
                actions.append(Action(server.name, "service", (kind, "stop")))

                def revive(server: str = server.name, kind: str = kind) -> List[Action]:
                    return [Action(server, "service", (kind, "start"))]

                self._remember(event.site, f"kill_service {kind}", revive)
        return actions

    def _withdraw(self, event: Withdraw) -> List[Action]:
        spec = self.spec(event.site)

        def vtysh(announce: bool) -> List[Action]:
            return [
                Action(spec.router, "vtysh", tuple(announce_commands(spec.asn, p, announce)))
                for p in spec.prefixes
            ]

        self._remember(event.site, "withdraw", lambda: vtysh(True))
        return vtysh(False)

    def _policy_action(
        self, spec: SpeakerSpec, policy: Dict[str, Optional[int]], communities: Any = None
    ) -> Action:
        per_peer = None
        if communities is not None:
            per_peer = {p: spec.communities_towards(p, communities) for p in spec.peers}
        cmds = policy_commands(
            spec.asn, spec.peers, policy["prepend"] or 0, policy["med"], per_peer
        )
        return Action(spec.router, "vtysh", tuple(cmds))

    def _set_policy(self, site: str, **change: Optional[int]) -> List[Action]:
        spec = self.spec(site)
        current = self.policy.setdefault(site, {"prepend": spec.base_prepend, "med": spec.base_med})
        before = dict(current)
        current.update(change)

        def back() -> List[Action]:
            current.update(before)
            return [self._policy_action(spec, before)]

        self._remember(site, f"policy {change}", back)
        return [self._policy_action(spec, current)]

    def _set_communities(self, event: SetCommunities) -> List[Action]:
        site = event.site
        spec = self.spec(site)
        current = self.communities.setdefault(site, list(spec.base_communities))
        before = list(current)
        current[:] = unique(event.communities)

        def apply(communities: List[str]) -> List[Action]:
            policy = self.policy.get(site) or {"prepend": spec.base_prepend, "med": spec.base_med}
            return [self._policy_action(spec, policy, communities)]

        def back() -> List[Action]:
            current[:] = before
            return apply(before)

        self._remember(site, f"communities {current}", back)
        return apply(list(current))

    def _link(self, event: LinkEvent) -> List[Action]:
        link = self.find_link(event.a, event.b)
        key = f"link:{'-'.join(sorted((link.a.node, link.b.node)))}"
        if event.state == "up":
            return self._undo(key)
        ends = [link.a, link.b]
        if event.state == "down":

            def up() -> List[Action]:
                out: List[Action] = []
                for e in ends:
                    out += [Action(e.node, "link", (e.name, "up")), *self.link_up(e.node)]
                return out

            self._remember(key, "down", up)
            return [Action(e.node, "link", (e.name, "down")) for e in ends]
        if event.state == "blackhole":
            self._remember(
                key, "blackhole", lambda: [Action(e.node, "drop", (e.name, "delete")) for e in ends]
            )
            return [Action(e.node, "drop", (e.name, "add")) for e in ends]
        raise ValueError(f"link: unknown state {event.state!r}")
