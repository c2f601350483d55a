"""An AS-level graph with business relationships, and its topology file data (pure).

The ``internet:N`` generator (:mod:`testbed.topology.internet`) and the CAIDA
importer (:mod:`testbed.topology.caida`) both make an :class:`AsGraph` first:
AS numbers with names, provider-to-customer edges and peer edges.  From it
come customer cones (for selections), a provider-cycle check, the CAIDA
AS-relationship text (``provider|customer|-1``, ``peer|peer|0``) and the
plain data of an ordinary topology file: one router per AS, one link per
edge with its ``rel`` (``customer-provider``: ``a`` is the customer of ``b``;
``peer``), the anycast AS, its sites (customers of their upstreams) and the
clients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

#: The anycast AS's number unless the graph uses it (RFC 5398 documentation range).
ANYCAST_ASN = 64500
#: Anycast AS numbers tried in turn when the graph holds the default one.
ANYCAST_FALLBACKS = tuple(range(64496, 64512)) + tuple(range(4200000000, 4200000100))


@dataclass
class AsGraph:
    """ASes (number -> name, in order) and their relationships."""

    names: Dict[int, str]
    #: (provider, customer)
    p2c: List[Tuple[int, int]] = field(default_factory=list)
    #: (peer, peer)
    p2p: List[Tuple[int, int]] = field(default_factory=list)
    #: AS number -> a description for its entry in the topology (optional)
    descriptions: Dict[int, str] = field(default_factory=dict)

    def customers(self) -> Dict[int, List[int]]:
        """AS -> its customers (every AS a key)."""
        out: Dict[int, List[int]] = {asn: [] for asn in self.names}
        for provider, customer in self.p2c:
            out[provider].append(customer)
        return out

    def providers(self) -> Dict[int, List[int]]:
        """AS -> its providers (every AS a key)."""
        out: Dict[int, List[int]] = {asn: [] for asn in self.names}
        for provider, customer in self.p2c:
            out[customer].append(provider)
        return out

    def peers(self) -> Dict[int, List[int]]:
        """AS -> its peers (every AS a key)."""
        out: Dict[int, List[int]] = {asn: [] for asn in self.names}
        for a, b in self.p2p:
            out[a].append(b)
            out[b].append(a)
        return out

    def neighbours(self) -> Dict[int, Set[int]]:
        """AS -> every AS it has a relationship with."""
        out: Dict[int, Set[int]] = {asn: set() for asn in self.names}
        for a, b in (*self.p2c, *self.p2p):
            out[a].add(b)
            out[b].add(a)
        return out

    def customer_cones(self) -> Dict[int, int]:
        """AS -> the size of its customer cone: itself and every AS below it (CAIDA's measure)."""
        below = self.customers()
        sizes: Dict[int, int] = {}
        for asn in self.names:
            if not below[asn]:
                sizes[asn] = 1
                continue
            seen = {asn}
            todo = [asn]
            while todo:
                for customer in below[todo.pop()]:
                    if customer not in seen:
                        seen.add(customer)
                        todo.append(customer)
            sizes[asn] = len(seen)
        return sizes

    def provider_cycle(self) -> Optional[List[int]]:
        """A chain of providers that comes back to its start (``[a, b, ..., a]``, each
        the provider of the next), or None: no AS is its own (indirect) provider."""
        below = self.customers()
        indegree = {asn: 0 for asn in self.names}
        for _, customer in self.p2c:
            indegree[customer] += 1
        todo = [asn for asn, d in indegree.items() if d == 0]
        while todo:
            for customer in below[todo.pop()]:
                indegree[customer] -= 1
                if indegree[customer] == 0:
                    todo.append(customer)
        left = {asn for asn, d in indegree.items() if d > 0}
        if not left:
            return None
        # every AS left has a provider that is left too: walk up until one repeats
        above = self.providers()
        start = min(left)
        walk, where = [start], {start: 0}
        while True:
            nxt = min(p for p in above[walk[-1]] if p in left)
            if nxt in where:
                cycle = walk[where[nxt] :] + [nxt]
                return list(reversed(cycle))  # provider first
            where[nxt] = len(walk)
            walk.append(nxt)

    def connected_components(self) -> List[Set[int]]:
        """The graph's connected components, largest first (ties: smallest AS number first)."""
        near = self.neighbours()
        seen: Set[int] = set()
        parts: List[Set[int]] = []
        for asn in sorted(self.names):
            if asn in seen:
                continue
            part = {asn}
            todo = [asn]
            while todo:
                for other in near[todo.pop()]:
                    if other not in part:
                        part.add(other)
                        todo.append(other)
            seen |= part
            parts.append(part)
        return sorted(parts, key=lambda p: (-len(p), min(p)))

    def subgraph(self, keep: Iterable[int]) -> AsGraph:
        """The ASes in ``keep`` (in this graph's order) and the edges between them."""
        wanted = set(keep)
        return AsGraph(
            {a: n for a, n in self.names.items() if a in wanted},
            [(p, c) for p, c in self.p2c if p in wanted and c in wanted],
            [(a, b) for a, b in self.p2p if a in wanted and b in wanted],
            {a: d for a, d in self.descriptions.items() if a in wanted},
        )

    def as_rel_text(self, comments: Sequence[str] = ()) -> str:
        """The graph in CAIDA's AS-relationship format (serial-1: no source field).

        Args:
            comments: lines for the header, each written after ``# ``.
        """
        lines = [f"# {c}" for c in comments]
        lines += [f"{p}|{c}|-1" for p, c in self.p2c]
        lines += [f"{a}|{b}|0" for a, b in self.p2p]
        return "\n".join(lines) + "\n"

    def anycast_asn(self) -> int:
        """A number for the anycast AS that no AS of the graph uses."""
        for asn in (ANYCAST_ASN, *ANYCAST_FALLBACKS):
            if asn not in self.names:
                return asn
        raise ValueError("no free AS number for the anycast AS")  # pragma: no cover

    def topology_data(
        self,
        name: str,
        description: str,
        sites: Sequence[Tuple[str, int]],
        clients: Sequence[Tuple[str, int]],
        roles: Optional[Dict[int, str]] = None,
    ) -> Dict[str, Any]:
        """The plain data of a topology file for this graph.

        Args:
            name: the topology's name.
            description: its one-line description.
            sites: (site name, the AS number of its upstream), in order.
            clients: (client name, the AS number of its eyeball AS), in order.
            roles: AS number -> ``transit`` or ``eyeball``; default: ``transit``
                for an AS with customers, ``eyeball`` otherwise (and for every
                AS holding a client).

        Returns:
            A mapping :func:`testbed.topology.load.parse_topology` validates.
        """
        below = self.customers()
        with_clients = {asn for _, asn in clients}
        ases: List[Dict[str, Any]] = []
        for asn, as_name in self.names.items():
            role = (roles or {}).get(asn) or ("transit" if below[asn] else "eyeball")
            if asn in with_clients:
                role = "eyeball"
            entry: Dict[str, Any] = {"name": as_name, "asn": asn, "role": role}
            if asn in self.descriptions:
                entry["description"] = self.descriptions[asn]
            ases.append(entry)
        ases.append({"name": "anycast", "asn": self.anycast_asn(), "role": "anycast"})
        links: List[Dict[str, Any]] = [
            {"a": self.names[c], "b": self.names[p], "rel": "customer-provider"}
            for p, c in self.p2c
        ]
        links += [{"a": self.names[a], "b": self.names[b], "rel": "peer"} for a, b in self.p2p]
        return {
            "name": name,
            "description": description,
            "ases": ases,
            "links": links,
            "sites": [{"name": s, "upstream": self.names[up]} for s, up in sites],
            "clients": [{"name": c, "as": self.names[asn]} for c, asn in clients],
        }
