"""Python builder API and generated topologies (``chain:N``, ``clique:N``, ``two-sites``).

Example::

    b = TopologyBuilder("mini", "two transits, one site")
    b.transit("t1", 65001); b.transit("t2", 65002); b.link("t1", "t2", delay="5ms")
    b.anycast(64500); b.site("s1", upstream="t1")
    b.eyeball("isp", 64512); b.link("isp", "t2"); b.client("c1", "isp")
    topo = b.build()

With relationships (``rel`` on a link, or an AS's ``customers``/``peers``)::

    b.transit("t1", 65001, customers=["t3"], actions=[{"community": "65001:6000",
              "no_export_to": "peers"}])
    b.link("t1", "t2", rel="peer"); b.link("t3", "t1")
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from testbed.errors import InputError
from testbed.topology.load import parse_topology
from testbed.topology.model import ActionCommunity, Topology

ANYCAST_ASN = 64500
TRANSIT_ASN_BASE = 65000
EYEBALL_ASN_BASE = 64512

#: An action community for the builder: the model or its fields as a mapping.
Action = Union[ActionCommunity, Mapping[str, Any]]


def _action_data(action: Action) -> Dict[str, Any]:
    """An action community as file data (checked with the rest by :meth:`TopologyBuilder.build`)."""
    if isinstance(action, ActionCommunity):
        return action.model_dump(exclude_defaults=True)
    return dict(action)


class TopologyBuilder:
    """Build a topology in Python; :meth:`build` validates it like a file."""

    def __init__(self, name: str, description: str = "", **defaults: Any):
        self.data: Dict[str, Any] = {"name": name, "description": description}
        self.data.update(defaults)
        for key in ("ases", "links", "sessions", "sites", "clients"):
            self.data[key] = []

    def _as(
        self,
        name: str,
        asn: int,
        role: str,
        routers: Optional[List[str]],
        customers: Optional[Sequence[str]] = None,
        peers: Optional[Sequence[str]] = None,
        actions: Optional[Sequence[Action]] = None,
        daemon: Optional[str] = None,
    ) -> TopologyBuilder:
        entry: Dict[str, Any] = {"name": name, "asn": asn, "role": role}
        if routers:
            entry["routers"] = routers
        if daemon is not None:
            entry["daemon"] = daemon
        if customers:
            entry["customers"] = list(customers)
        if peers:
            entry["peers"] = list(peers)
        if actions:
            entry["actions"] = [_action_data(a) for a in actions]
        self.data["ases"].append(entry)
        return self

    def transit(
        self,
        name: str,
        asn: int,
        routers: Optional[List[str]] = None,
        *,
        customers: Optional[Sequence[str]] = None,
        peers: Optional[Sequence[str]] = None,
        actions: Optional[Sequence[Action]] = None,
        daemon: Optional[str] = None,
    ) -> TopologyBuilder:
        """Add a transit AS, with the ASes that buy transit from it, its peers, the
        action communities it offers (``{"community": "65001:6001", "prepend": 1}``)
        and its routers' daemon (``"bird"``; default FRR)."""
        return self._as(name, asn, "transit", routers, customers, peers, actions, daemon)

    def eyeball(
        self,
        name: str,
        asn: int,
        routers: Optional[List[str]] = None,
        *,
        customers: Optional[Sequence[str]] = None,
        peers: Optional[Sequence[str]] = None,
        daemon: Optional[str] = None,
    ) -> TopologyBuilder:
        """Add an eyeball AS (it announces its client prefix), with its customers, its
        peers and its routers' daemon (``"bird"``; default FRR)."""
        return self._as(name, asn, "eyeball", routers, customers, peers, daemon=daemon)

    def anycast(
        self,
        asn: int = ANYCAST_ASN,
        name: str = "anycast",
        *,
        peers: Optional[Sequence[str]] = None,
    ) -> TopologyBuilder:
        """Add the anycast AS that the sites belong to (and the ASes it peers with)."""
        return self._as(name, asn, "anycast", None, peers=peers)

    def link(self, a: str, b: str, rel: Optional[str] = None, **params: Any) -> TopologyBuilder:
        """Link two routers (or single-router ASes); params: delay, jitter, loss, bandwidth.

        ``rel``: ``"customer-provider"`` (``a``'s AS buys transit from ``b``'s) or ``"peer"``.
        """
        entry: Dict[str, Any] = {"a": a, "b": b, **params}
        if rel is not None:
            entry["rel"] = rel
        self.data["links"].append(entry)
        return self

    def session(self, a: str, b: str, **policy: Any) -> TopologyBuilder:
        """Override the session a -> b (prepend, med, local_pref, timers, bfd)."""
        self.data["sessions"].append({"a": a, "b": b, **policy})
        return self

    def site(self, name: str, upstream: Union[str, List[str]], **opts: Any) -> TopologyBuilder:
        """Add an anycast site behind ``upstream``."""
        self.data["sites"].append({"name": name, "upstream": upstream, **opts})
        return self

    def client(self, name: str, asys: str, **opts: Any) -> TopologyBuilder:
        """Add a client in eyeball AS ``asys``."""
        self.data["clients"].append({"name": name, "as": asys, **opts})
        return self

    def build(self, source: Optional[str] = None) -> Topology:
        """Validate and return the topology."""
        return parse_topology(self.data, source or f"builder {self.data['name']}")


def chain(n: int) -> Topology:
    """N transit ASes in a line; a site at one end, a client at the other."""
    b = TopologyBuilder(f"chain{n}", f"{n} transit ASes in a line, site at one end")
    for i in range(1, n + 1):
        b.transit(f"t{i}", TRANSIT_ASN_BASE + i)
        if i > 1:
            b.link(f"t{i - 1}", f"t{i}")
    b.anycast().site("origin", upstream="t1")
    b.eyeball("observer", EYEBALL_ASN_BASE).link("observer", f"t{n}").client("client", "observer")
    return b.build(f"chain:{n}")


def clique(n: int) -> Topology:
    """A full mesh of N transit ASes with one origin (site) and one observer."""
    b = TopologyBuilder(f"clique{n}", f"full mesh of {n} transit ASes (Labovitz)")
    for i in range(1, n + 1):
        b.transit(f"t{i}", TRANSIT_ASN_BASE + i)
    for i in range(1, n + 1):
        for j in range(i + 1, n + 1):
            b.link(f"t{i}", f"t{j}")
    b.anycast().site("origin", upstream="t1")
    b.eyeball("observer", EYEBALL_ASN_BASE).link("observer", f"t{n}").client("client", "observer")
    return b.build(f"clique:{n}")


def two_sites() -> Topology:
    """Two sites, two transits, two clients: the smallest interesting case.

    The same topology as ``topologies/two-sites.yaml`` (a test keeps them equal).
    """
    b = TopologyBuilder(
        "two-sites",
        "Two sites behind two transits, one client each: the smallest interesting case",
    )
    b.transit("ta", 65001).transit("tb", 65002).link("ta", "tb", delay="10ms")
    b.anycast(ANYCAST_ASN)
    b.site("east", upstream="ta", link={"delay": "1ms"})
    b.site("west", upstream="tb", link={"delay": "1ms"})
    b.eyeball("ispa", 64512).link("ispa", "ta", delay="2ms").client("ca", "ispa")
    b.eyeball("ispb", 64513).link("ispb", "tb", delay="2ms").client("cb", "ispb")
    return b.build("two-sites")


def _sized(func: Callable[[int], Topology], low: int, high: int) -> Callable[[str], Topology]:
    def make(arg: str) -> Topology:
        try:
            n = int(arg)
        except ValueError:
            raise InputError(f"N must be a whole number, got {arg!r}", func.__name__) from None
        if not low <= n <= high:
            raise InputError(f"N must be between {low} and {high}, got {n}", func.__name__)
        return func(n)

    return make


def _internet(arg: str) -> Topology:
    from testbed.topology.internet import from_arg

    return from_arg(arg)


#: name -> (factory taking the text after the colon, one-line description)
GENERATORS: Dict[str, Tuple[Callable[[str], Topology], str]] = {
    "chain": (
        _sized(chain, 1, 500),
        "N transit ASes in a line; site at one end, client at the other",
    ),
    "clique": (
        _sized(clique, 2, 40),
        "full mesh of N transit ASes with one origin and one observer",
    ),
    "internet": (
        _internet,
        "N ASes (20-4000) with relationships: tier-1 clique, tier-2s, multi-homed stubs; "
        "options internet:N:seed=S,sites=K,clients=C",
    ),
}


def from_spec(spec: str) -> Topology:
    """Build a generated topology from ``NAME:ARG`` (e.g. ``chain:10``)."""
    name, _, arg = spec.partition(":")
    if name not in GENERATORS:
        known = ", ".join(f"{g}:N" for g in GENERATORS)
        raise InputError(f"no generator {name!r} (known: {known})", spec)
    return GENERATORS[name][0](arg)
