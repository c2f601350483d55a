"""Lab 7's reasoning: where an attack lands, and what each playbook action moves (pure).

A :class:`Net` is what the reasoning needs of a topology: its ASes (one
router each) and links, the sites and their upstreams, the clients and
their weights, the routers' IDs (ties are decided as the routers decide
them, :func:`testbed.labs.reasoning.best_routes`), each site's capacity in
packets/s, and the attack's packets/s from each AS that hosts sources.
Nothing sets a policy, so every AS takes the shortest AS path and exports
it to every neighbour.

The playbook's actions at a site (``prepend1``..``prepend3``, ``withdraw``)
give each a new catchment (:func:`outcome`); the attack follows its
sources' ASes, and a site is overloaded when the attack's packets/s there
exceed its capacity.  The legitimate clients' own packets are left out of
that sum: lab variants keep every site at least half a source's rate away
from its capacity, which covers them.  :func:`best_actions` is lab 7's
answer: the actions that bring the attacked site under capacity while
moving the least legitimate weight (equal weights tie).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Set, Tuple

from testbed.labs import reasoning

#: The playbook's actions at a site, in its order: prepend 1, 2, 3 more times; withdraw.
ACTIONS = ("prepend1", "prepend2", "prepend3", "withdraw")
#: Moved weights closer than this are equal.
EPSILON = 1e-9


@dataclass(frozen=True)
class Net:
    """A topology as lab 7 reasons on it.

    Attributes:
        links: pairs of neighbouring ASes (transits and eyeball ASes; the
            anycast AS's sites are in ``sites``).
        sites: site -> the AS it is a customer of, in the topology's order.
        clients: client -> its AS.
        weights: client -> the users it stands for.
        router_ids: AS or site -> its router's ID as a number.
        capacity: site -> packets/s it can take (a site left out: unlimited).
        attack: AS -> the attack's packets/s from its sources.
        prepend: site -> the prepends the topology already announces.
    """

    links: Tuple[Tuple[str, str], ...]
    sites: Dict[str, str]
    clients: Dict[str, str]
    weights: Dict[str, float]
    router_ids: Dict[str, int]
    capacity: Dict[str, float] = field(default_factory=dict)
    attack: Dict[str, float] = field(default_factory=dict)
    prepend: Dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """Where everything goes after one action (or none: the baseline).

    Attributes:
        site: the site acted at (None: the baseline).
        action: one of :data:`ACTIONS` (None: the baseline).
        catchment: client -> its site (None: no route).
        attack: site -> the attack's packets/s it receives (every site, 0 if none).
        overloaded: the sites whose attack exceeds their capacity.
        moved: the clients whose site differs from the baseline's, sorted.
        moved_weight: their weight added.
    """

    site: Optional[str]
    action: Optional[str]
    catchment: Dict[str, Optional[str]]
    attack: Dict[str, float]
    overloaded: Set[str]
    moved: Tuple[str, ...] = ()
    moved_weight: float = 0.0

    @property
    def label(self) -> str:
        """``SITE ACTION`` as the playbook names it (``baseline`` for none)."""
        return f"{self.site} {self.action}" if self.site else "baseline"


def _rel(net: Net) -> Dict[Tuple[str, str], str]:
    rel: Dict[Tuple[str, str], str] = {}
    for a, b in net.links:
        rel[(a, b)] = rel[(b, a)] = "peer"  # no policy: only the shape counts
    return rel


def announced(
    net: Net, site: Optional[str] = None, action: Optional[str] = None
) -> Dict[str, Tuple[Sequence[str], int]]:
    """The sites announcing after ``action`` at ``site``: site -> ([its upstream AS], prepends)."""
    sites: Dict[str, Tuple[Sequence[str], int]] = {}
    for name, upstream in net.sites.items():
        prepend = net.prepend.get(name, 0)
        if name == site:
            if action == "withdraw":
                continue
            prepend += _prepends(action)
        sites[name] = ([upstream], prepend)
    return sites


def as_sites(net: Net, site: Optional[str] = None, action: Optional[str] = None) -> Dict[str, str]:
    """AS -> the site its best route leads to, with ``action`` taken at ``site``.

    What :func:`testbed.labs.reasoning.best_routes` finds without policy and
    with the router IDs (a unit test holds them equal), found faster: with
    no policy a route is only ever replaced by a shorter one, so every AS's
    best route is its shortest path, ties going to the neighbour with the
    lowest router ID, and the ASes can be settled nearest first (Dijkstra).

    Args:
        net: the network.
        site: where the action is taken (None: no action).
        action: one of :data:`ACTIONS`.

    Returns:
        Every AS with a route.
    """
    neighbours: Dict[str, List[str]] = {}
    for a, b in net.links:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    ids = net.router_ids
    # (AS-path length, router ID of the neighbour it comes from, the AS, the site)
    heap = [(1 + n, ids[s], ups[0], s) for s, (ups, n) in announced(net, site, action).items()]
    heapq.heapify(heap)
    best: Dict[str, str] = {}
    while heap:
        length, _via, asys, origin = heapq.heappop(heap)
        if asys in best:
            continue
        best[asys] = origin
        for them in neighbours.get(asys, []):
            if them not in best:
                heapq.heappush(heap, (length + 1, ids[asys], them, origin))
    return best


def routing(
    net: Net, site: Optional[str] = None, action: Optional[str] = None
) -> reasoning.Routing:
    """Every AS's best route after ``action`` at ``site``, by :func:`reasoning.best_routes`."""
    sites = announced(net, site, action)
    return reasoning.best_routes(_rel(net), sites, policy=False, router_ids=net.router_ids)


def _prepends(action: Optional[str]) -> int:
    if action is None:
        return 0
    if action not in ACTIONS or action == "withdraw":
        raise ValueError(f"not a prepend: {action!r}")
    return int(action.removeprefix("prepend"))


def attack_at(net: Net, where: Mapping[str, str]) -> Dict[str, float]:
    """Site -> the attack's packets/s it receives, the sources' ASes routed as ``where``."""
    out = {s: 0.0 for s in net.sites}
    for asys, pps in net.attack.items():
        site = where.get(asys)
        if site is not None:
            out[site] += pps
    return out


def overloaded(net: Net, attack: Mapping[str, float]) -> Set[str]:
    """The sites whose attack exceeds their capacity."""
    return {s for s, pps in attack.items() if s in net.capacity and pps > net.capacity[s]}


def outcome(
    net: Net,
    site: Optional[str] = None,
    action: Optional[str] = None,
    baseline: Optional[Outcome] = None,
) -> Outcome:
    """Everything after ``action`` at ``site`` (both None: the baseline).

    Args:
        net: the network.
        site: the site acted at.
        action: one of :data:`ACTIONS`.
        baseline: the baseline (computed when needed and not given), for ``moved``.
    """
    where = as_sites(net, site, action)
    seen = {c: where.get(asys) for c, asys in net.clients.items()}
    attack = attack_at(net, where)
    if site is None:
        return Outcome(None, None, seen, attack, overloaded(net, attack))
    base = baseline if baseline is not None else outcome(net)
    moved = tuple(sorted(c for c in seen if seen[c] != base.catchment[c]))
    weight = sum(net.weights.get(c, 1.0) for c in moved)
    return Outcome(site, action, seen, attack, overloaded(net, attack), moved, weight)


def every_outcome(net: Net, sites: Optional[Sequence[str]] = None) -> List[Outcome]:
    """The baseline, then every action at every site (or at ``sites``), in the playbook's order."""
    base = outcome(net)
    out = [base]
    for site in sites if sites is not None else list(net.sites):
        out += [outcome(net, site, action, base) for action in ACTIONS]
    return out


def attacked(net: Net) -> List[str]:
    """The sites overloaded by the attack before any action, in the topology's order."""
    over = outcome(net).overloaded
    return [s for s in net.sites if s in over]


def best_actions(outcomes: Sequence[Outcome], target: str) -> List[Tuple[str, str]]:
    """Lab 7's answer: the actions that relieve ``target`` and move the least weight.

    Args:
        outcomes: :func:`every_outcome` (the baseline first).
        target: the attacked site.

    Returns:
        (site, action) of every action that brings ``target`` under capacity
        with the least moved weight (several when their weights are equal);
        empty when none does.
    """
    relieving = [o for o in outcomes[1:] if target not in o.overloaded]
    if not relieving:
        return []
    least = min(o.moved_weight for o in relieving)
    return [(str(o.site), str(o.action)) for o in relieving if o.moved_weight <= least + EPSILON]


def find(outcomes: Sequence[Outcome], site: str, action: str) -> Optional[Outcome]:
    """The outcome of ``action`` at ``site`` (None: not among them)."""
    return next((o for o in outcomes if o.site == site and o.action == action), None)


def cascade(result: Outcome, target: str) -> Set[str]:
    """The sites other than ``target`` overloaded after an action."""
    return result.overloaded - {target}


def net_of(topo: object) -> Net:
    """A topology (:class:`testbed.topology.model.Topology`) as lab 7 reasons on it.

    Every AS is taken to have one router (as lab topologies do); router IDs
    come from the plan, as the testbed assigns them (as ranks: only their
    order counts); capacities are the
    sites' ``capacity.packets``; the attack is ``attackers`` (``ases``,
    ``per_as`` sources each at ``rate``).
    """
    from testbed.topology.model import Topology
    from testbed.topology.plan import make_plan
    from testbed.topology.relationships import end_as

    assert isinstance(topo, Topology)
    plan = make_plan(topo)
    first: Dict[str, int] = {}  # AS or site -> its (first) router's ID
    for router in plan.routers.values():
        first.setdefault(router.site or router.as_name, int(router.router_id))
    ids = {name: rank for rank, name in enumerate(sorted(first, key=first.__getitem__), start=1)}
    anycast = {a.name for a in topo.ases if a.role == "anycast"}
    links: List[Tuple[str, str]] = []
    for link in topo.links:
        a, b = end_as(topo, link.a), end_as(topo, link.b)
        if a and b and a != b and not anycast & {a, b}:
            links.append((a, b))
    sites = {s.name: end_as(topo, s.upstreams()[0]) or s.upstreams()[0] for s in topo.sites}
    attack: Dict[str, float] = {}
    if topo.attackers is not None and topo.attackers.ases:
        for asys in topo.attackers.ases:
            attack[asys] = attack.get(asys, 0.0) + topo.attackers.rate * topo.attackers.per_as
    return Net(
        links=tuple(links),
        sites=sites,
        clients={c.name: c.as_ for c in topo.clients},
        weights={c.name: float(c.weight) for c in topo.clients},
        router_ids=ids,
        capacity={
            s.name: float(s.capacity.packets)
            for s in topo.sites
            if s.capacity is not None and s.capacity.packets is not None
        },
        attack=attack,
        prepend={s.name: s.prepend for s in topo.sites if s.prepend},
    )
