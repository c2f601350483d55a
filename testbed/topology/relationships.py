"""Business relationships between ASes (Gao-Rexford), resolved from a topology.

A topology declares relationships on links (``rel: customer-provider``, ``a``
buys transit from ``b``; ``rel: peer``) and per AS (``customers``, ``peers``);
a link's ``rel`` wins over the AS lists (validation refuses the two saying
different things).  Once a topology declares any, the rest is implied:

- a site's anycast AS is a customer of each of its upstreams' ASes;
- an eyeball AS is a customer of each neighbouring transit AS;

unless a declaration says otherwise (an eyeball may peer with the anycast
AS, for instance).  Any other pair of neighbouring ASes (two transits, two
eyeballs) must be declared: validation names the link that lacks one.

A topology that declares none has no relationships at all: every AS prefers
the shortest path and exports everything, as before.

:func:`as_relationships` keys the result by (AS, neighbour AS) and says what
the neighbour is *to* the first AS: ``rel[("anycast", "na")] == "provider"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, List, Literal, Mapping, Optional, Set, Tuple

from testbed.topology.model import Topology

#: What a neighbouring AS is to an AS.
Rel = Literal["customer", "peer", "provider"]
#: The other side of a relationship: if B is A's customer, A is B's provider.
REVERSE: Dict[str, Rel] = {"customer": "provider", "peer": "peer", "provider": "customer"}
#: The last part of the large community ``ASN:0:N`` an AS tags routes with on
#: import: learned from a customer (1), a peer (2), a provider (3).
TAG_NUMBER: Dict[str, int] = {"customer": 1, "peer": 2, "provider": 3}


@dataclass(frozen=True)
class Declaration:
    """One relationship as the file gives it: ``them`` is ``rel`` to ``me``.

    Attributes:
        me: an AS name.
        them: a neighbouring AS name.
        rel: what ``them`` is to ``me``.
        field: where the file says so (``links[3].rel``, ``ases[0].customers[1]``).
    """

    me: str
    them: str
    rel: Rel
    field: str

    def sentence(self) -> str:
        """The relationship in words (``'na' is a customer of 'eu'``)."""
        if self.rel == "peer":
            return f"{self.me!r} and {self.them!r} are peers"
        if self.rel == "provider":
            return f"{self.me!r} is a customer of {self.them!r}"
        return f"{self.them!r} is a customer of {self.me!r}"


def tag_community(asn: int, rel: str) -> str:
    """The large community AS ``asn`` adds to a route learned from a ``rel``."""
    return f"{asn}:0:{TAG_NUMBER[rel]}"


def uses_relationships(topo: Topology) -> bool:
    """True when the topology declares any relationship (a link's ``rel``, an AS's lists)."""
    return any(link.rel for link in topo.links) or any(a.customers or a.peers for a in topo.ases)


def end_as(topo: Topology, name: str) -> Optional[str]:
    """The AS of a link end or upstream (a router name or an AS name); None if unknown."""
    routers = topo.router_index()
    if name in routers:
        return str(routers[name].name)
    return name if topo.as_by_name(name) is not None else None


def declarations(topo: Topology) -> List[Declaration]:
    """Every declared relationship, links first, then the ASes' lists, in file order.

    Link ends that name nothing, or two ends in one AS, are left out
    (validation reports them).
    """
    out: List[Declaration] = []
    for i, link in enumerate(topo.links):
        if link.rel is None:
            continue
        a, b = end_as(topo, link.a), end_as(topo, link.b)
        if a is None or b is None or a == b:
            continue
        rel: Rel = "provider" if link.rel == "customer-provider" else "peer"
        out.append(Declaration(a, b, rel, f"links[{i}].rel"))
    for i, asys in enumerate(topo.ases):
        for j, name in enumerate(asys.customers):
            out.append(Declaration(asys.name, name, "customer", f"ases[{i}].customers[{j}]"))
        for j, name in enumerate(asys.peers):
            out.append(Declaration(asys.name, name, "peer", f"ases[{i}].peers[{j}]"))
    return out


def adjacencies(topo: Topology) -> Dict[FrozenSet[str], str]:
    """Pairs of neighbouring ASes (a link or a site uplink joins them) -> the first such field."""
    out: Dict[FrozenSet[str], str] = {}
    for i, link in enumerate(topo.links):
        a, b = end_as(topo, link.a), end_as(topo, link.b)
        if a is not None and b is not None and a != b:
            out.setdefault(frozenset((a, b)), f"links[{i}]")
    for i, site in enumerate(topo.sites):
        anycast = topo.site_as(site).name
        for k, up in enumerate(site.upstreams()):
            other = end_as(topo, up)
            if other is not None and other != anycast:
                index = f"[{k}]" if isinstance(site.upstream, list) else ""
                out.setdefault(frozenset((anycast, other)), f"sites[{i}].upstream{index}")
    return out


def implied(topo: Topology) -> List[Declaration]:
    """The relationships a topology with relationships implies (see the module doc).

    Sites first (the anycast AS buys transit from each upstream's AS), then
    eyeballs (each buys transit from its neighbouring transit ASes).
    """
    out: List[Declaration] = []
    for i, site in enumerate(topo.sites):
        anycast = topo.site_as(site).name
        for up in site.upstreams():
            other = end_as(topo, up)
            if other is not None and other != anycast:
                out.append(Declaration(anycast, other, "provider", f"sites[{i}].upstream"))
    roles = {a.name: a.role for a in topo.ases}
    position: Dict[str, int] = {}
    for i, asys in enumerate(topo.ases):
        position.setdefault(asys.name, i)
    for pair in adjacencies(topo):
        x, y = sorted(pair)
        for me, them in ((x, y), (y, x)):
            if roles.get(me) == "eyeball" and roles.get(them) == "transit":
                out.append(Declaration(me, them, "provider", f"ases[{position[me]}]"))
    return out


def resolved(topo: Topology) -> Dict[Tuple[str, str], Declaration]:
    """(AS, neighbour AS) -> the declaration that decides the pair (both directions).

    Links' ``rel`` first, then the ASes' lists, then what is implied; the
    first word on a pair stands.  Empty when the topology declares none.
    """
    out: Dict[Tuple[str, str], Declaration] = {}
    if not uses_relationships(topo):
        return out
    for decl in declarations(topo) + implied(topo):
        if (decl.me, decl.them) in out:
            continue
        out[(decl.me, decl.them)] = decl
        out[(decl.them, decl.me)] = Declaration(decl.them, decl.me, REVERSE[decl.rel], decl.field)
    return out


def as_relationships(topo: Topology) -> Dict[Tuple[str, str], Rel]:
    """(AS, neighbour AS) -> what the neighbour is to the AS: customer, peer or provider.

    Both directions are present: ``rel[("anycast", "na")] == "provider"`` and
    ``rel[("na", "anycast")] == "customer"``.  Empty when the topology declares
    no relationship (then nothing is implied either).
    """
    return {pair: decl.rel for pair, decl in resolved(topo).items()}


def provider_cycle(rel: Mapping[Tuple[str, str], str]) -> Optional[List[str]]:
    """A customer-provider cycle, if any: ``[a, b, c, a]``, each a customer of the next.

    Args:
        rel: :func:`as_relationships` (or any map in its shape).

    Returns:
        The cycle (first AS repeated at the end), or None.  Deterministic:
        ASes are visited in sorted order.
    """
    providers: Dict[str, List[str]] = {}
    for (me, them), what in sorted(rel.items()):
        if what == "provider":
            providers.setdefault(me, []).append(them)
    done: Set[str] = set()
    for start in sorted(providers):
        if start in done:
            continue
        path: List[str] = []
        on_path: Dict[str, int] = {}
        stack: List[Tuple[str, int]] = [(start, 0)]
        while stack:
            node, k = stack.pop()
            if k == 0:
                if node in on_path:
                    return path[on_path[node] :] + [node]
                if node in done:
                    continue
                on_path[node] = len(path)
                path.append(node)
            nexts = providers.get(node, [])
            if k < len(nexts):
                stack.append((node, k + 1))
                stack.append((nexts[k], 0))
            else:
                done.add(node)
                path.pop()
                del on_path[node]
    return None


def valley_free_reach(rel: Mapping[Tuple[str, str], str], origins: Iterable[str]) -> Set[str]:
    """The ASes that learn a prefix originated by ``origins`` under valley-free export.

    An AS passes a route learned from a customer (or its own) to every
    neighbour, and one learned from a peer or a provider to its customers
    only; with local preferences in the Gao-Rexford order an AS that has a
    customer route prefers it, so what it learns is: the origins' providers,
    their providers and so on (uphill), their peers (one step sideways), and
    every customer below any of those (downhill).  Communities (no-export,
    actions) are not taken into account.

    Args:
        rel: :func:`as_relationships`.
        origins: the ASes that originate the prefix.

    Returns:
        The ASes with a route, the origins included.
    """
    by_rel: Dict[str, Dict[str, List[str]]] = {"customer": {}, "peer": {}, "provider": {}}
    for (me, them), what in rel.items():
        by_rel[what].setdefault(me, []).append(them)

    def closure(start: Iterable[str], kind: str) -> Set[str]:
        seen = set(start)
        todo = list(seen)
        while todo:
            for nxt in by_rel[kind].get(todo.pop(), []):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    up = closure(origins, "provider")
    side = {peer for asys in up for peer in by_rel["peer"].get(asys, [])}
    return closure(up | side, "customer")


__all__ = [
    "REVERSE",
    "TAG_NUMBER",
    "Declaration",
    "Rel",
    "adjacencies",
    "as_relationships",
    "declarations",
    "end_as",
    "implied",
    "provider_cycle",
    "resolved",
    "tag_community",
    "uses_relationships",
    "valley_free_reach",
]
