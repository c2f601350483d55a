"""The topology resolved into nodes, interfaces, addresses and BGP sessions.

Pure and deterministic: the same topology always gives the same plan, so
addresses are stable across runs.  Address pools (documented in
docs/addressing.md):

| pool | use |
|---|---|
| 100.64.0.0/16  | router-to-router links (site uplinks included), one /30 each, in order |
| 100.65.0.0/16  | site router to server links, one /30 each |
| 100.127.0.0/16 | router IDs (also on each router's loopback) |
| 198.18.0.0/15  | client prefixes: one /24 per access router of an eyeball AS, a /30 per client |
| 192.0.2.0/24   | the anycast prefix (per site: ``prefix``, ``service``) |
| 100.66.0.0/16  | sites' own unicast prefixes (``unicast: auto``), one /24 each, in site order |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Dict, List, Optional, Tuple

from testbed.topology.addressing import CLIENT_POOL, INFRA_POOL, ROUTER_ID_POOL, SERVER_POOL
from testbed.topology.attackers import attack_sources
from testbed.topology.model import PEERS, ActionCommunity, Community, LinkParams, Topology
from testbed.topology.relationships import as_relationships, tag_community, uses_relationships
from testbed.topology.resolution import resolver_hosts, site_anycast_addresses, site_authorities
from testbed.topology.unicast import SiteUnicast, site_unicast
from testbed.topology.validate import router_of


@dataclass
class Interface:
    """One end of a point-to-point link."""

    name: str
    node: str
    address: IPv4Interface
    peer: str
    peer_address: IPv4Address


@dataclass
class LinkPlan:
    """A point-to-point veth link and its shaping."""

    kind: str  # infra | uplink | server | client
    a: Interface
    b: Interface
    params: LinkParams = field(default_factory=LinkParams)


@dataclass
class Timers:
    """Resolved BGP timers of one session (seconds)."""

    keepalive: int
    hold: int
    mrai: int
    connect_retry: int


@dataclass
class CommunityList:
    """A named community list of a router: ``bgp [large-]community-list standard NAME``."""

    name: str
    large: bool
    values: List[str]


#: The community lists a router's policy may match on (the actions' are named
#: after their community: ``ACTION-65001-6001``).
GSHUT_LIST = "GRACEFUL-SHUTDOWN"
NO_PEER_LIST = "NO-PEER"
NOT_CUSTOMER_LIST = "FROM-PEER-OR-PROVIDER"


@dataclass
class RouteMapEntry:
    """One entry of a neighbour's route-map after its entry 10 (which holds the
    session's own prepend, MED, local preference, tag and communities).

    Entry 10 ends with ``on-match next`` when entries follow, and the last
    entry is an empty ``permit`` (FRR denies a route whose last tried entry
    did not match, even after a permit with ``on-match next``).
    """

    seq: int
    permit: bool
    #: what the entry does, one line (a ``!`` comment above it in frr.conf)
    why: str = ""
    #: match on this community list (None: every route)
    match: Optional[CommunityList] = None
    #: set as-path prepend (the router's own AS) this many times
    prepend: int = 0
    local_pref: Optional[int] = None
    #: on-match next: go on to the following entries after a match
    next: bool = False


@dataclass
class NeighborPolicy:
    """Relationships and communities on one BGP session, as seen from one router.

    Present on every neighbour of a topology that declares relationships,
    communities or action communities (None otherwise: frr.conf as before).

    Attributes:
        rel: what the neighbour's AS is to this router's AS (``customer``,
            ``peer``, ``provider``); None on iBGP or without relationships.
        tag: the large community added (additive) to routes learned on the
            session, ``OWNASN:0:1/2/3`` for customer/peer/provider.
        communities: standard and well-known communities added on export.
        large_communities: large communities added on export.
        imports: import route-map entries after 10 (graceful shutdown).
        exports: export route-map entries after 10 (valley-free, no-peer, actions).
    """

    rel: Optional[str] = None
    tag: Optional[str] = None
    communities: List[str] = field(default_factory=list)
    large_communities: List[str] = field(default_factory=list)
    imports: List[RouteMapEntry] = field(default_factory=list)
    exports: List[RouteMapEntry] = field(default_factory=list)


@dataclass
class Neighbor:
    """One BGP session as seen from one router."""

    peer: str
    address: IPv4Address
    remote_as: int
    ebgp: bool
    timers: Timers
    bfd: bool = False
    bfd_interval: int = 100
    bfd_multiplier: int = 3
    prepend: int = 0
    med: Optional[int] = None
    local_pref: Optional[int] = None
    #: the peer is a Ryu (os-ken) speaker, which needs two work-arounds in FRR:
    #: keep its routes (Adj-RIB-In) so inbound policy changes never send it a
    #: ROUTE-REFRESH (Ryu 4.34 drops the session on one), and never send it a
    #: route whose AS path holds its own AS (Ryu logs the loop but keeps the
    #: route; when the site withdraws, that looped route becomes its best path,
    #: which it may not send back, so it sends no withdrawal either; FRR 8.4's
    #: ``sender-as-path-loop-detection`` does not filter it, an as-path list does)
    ryu_peer: bool = False
    #: relationships and communities (None: the topology declares none of them)
    policy: Optional[NeighborPolicy] = None


@dataclass
class RouterPlan:
    """A router: FRR (or BIRD, ``daemon``) in its own namespace."""

    name: str
    asn: int
    as_name: str
    role: str  # transit | eyeball | site
    router_id: IPv4Address
    interfaces: List[Interface] = field(default_factory=list)
    neighbors: List[Neighbor] = field(default_factory=list)
    networks: List[IPv4Network] = field(default_factory=list)
    blackholes: List[IPv4Network] = field(default_factory=list)
    statics: List[Tuple[IPv4Network, IPv4Address]] = field(
        default_factory=list
    )  # (prefix, next hop)
    site: Optional[str] = None
    #: frr | ryu | exabgp (not frr: the site node runs the speaker and the services)
    speaker: str = "frr"
    #: frr | bird: the routing daemon it runs (its AS's ``daemon``; a site router:
    #: ``frr``, its ``speaker`` says what runs there), :mod:`testbed.net.daemons`
    daemon: str = "frr"
    loopbacks: List[IPv4Interface] = field(default_factory=list)
    #: the community lists its neighbours' policies match on
    community_lists: List[CommunityList] = field(default_factory=list)
    #: a site router's own unicast prefix (also in ``networks``: announced and
    #: blackholed like the anycast prefix, but never withdrawn by its speaker)
    unicast: Optional[IPv4Network] = None
    #: the unicast address its servers hold (routed to them like the service address)
    unicast_address: Optional[IPv4Address] = None
    #: a site router's default route through its upstreams (with ``gslb``: the health
    #: checks reach the other sites' unicast addresses, which BGP's AS-path loop check
    #: keeps out of its table, every site being in one AS)
    default_route: bool = False

    @property
    def routed(self) -> bool:
        """True if this router runs a routing daemon, FRR or BIRD (every router but a
        ryu or exabgp site node, which runs its speaker)."""
        return self.speaker == "frr"

    @property
    def frr(self) -> bool:
        """True if this router runs FRR (a routed router whose AS does not run BIRD)."""
        return self.routed and self.daemon == "frr"

    @property
    def bird(self) -> bool:
        """True if this router's config is BIRD's (its AS has ``daemon: bird``)."""
        return self.daemon == "bird"


@dataclass
class HostPlan:
    """A client or a site server."""

    name: str
    kind: str  # client | server | attacker | resolver
    interface: Interface
    gateway: IPv4Address
    loopbacks: List[IPv4Interface] = field(default_factory=list)
    site: Optional[str] = None
    as_name: Optional[str] = None
    on_router: bool = False  # a ryu site: the server is the site node itself
    #: a server's unicast address (its site's ``unicast``), also on its loopback
    unicast: Optional[IPv4Address] = None


@dataclass
class Plan:
    """Everything the builder needs, derived from a topology."""

    topology: Topology
    routers: Dict[str, RouterPlan]
    hosts: Dict[str, HostPlan]
    links: List[LinkPlan]
    #: site -> its unicast prefix and address (sites with ``unicast`` only)
    unicast: Dict[str, SiteUnicast] = field(default_factory=dict)

    def owner_of(self, address: IPv4Address) -> Optional[str]:
        """The node that holds an interface address."""
        for link in self.links:
            for end in (link.a, link.b):
                if end.address.ip == address:
                    return end.node
        return None

    def expected_prefixes(self) -> List[IPv4Network]:
        """Prefixes every router must have a route to once BGP has converged."""
        seen: List[IPv4Network] = []
        for router in self.routers.values():
            for net in router.networks:
                if net not in seen:
                    seen.append(net)
        return seen

    def start_order(self) -> List[str]:
        """The routers that run a daemon (FRR or BIRD), nearest to an origin first.

        Nearest to a router that originates a prefix first.

        Starting routers in this order lets the first routes travel while the
        routers farther away are still starting: each prefix crosses the
        started part of the network hop by hop behind the wave of starts,
        instead of waiting for the last router (bgpd holds every received
        route 50 ms, so a long path costs its length times that).  Ties keep
        the topology's order.
        """
        peers: Dict[str, List[str]] = {
            name: [n.peer for n in router.neighbors] for name, router in self.routers.items()
        }
        distance = {name: 0 for name, router in self.routers.items() if router.networks}
        frontier = list(distance)
        while frontier:
            nxt = []
            for name in frontier:
                for peer in peers.get(name, []):
                    if peer in self.routers and peer not in distance:
                        distance[peer] = distance[name] + 1
                        nxt.append(peer)
            frontier = nxt
        far = len(self.routers)
        place = {name: i for i, name in enumerate(self.routers)}
        ranked = sorted(self.routers, key=lambda n: (distance.get(n, far), place[n]))
        return [name for name in ranked if self.routers[name].routed]

    def routed_routers(self) -> List[str]:
        """Names of the routers that run a routing daemon, FRR or BIRD (all but
        ryu and exabgp site nodes): their kernel tables hold BGP's routes."""
        return [name for name, r in self.routers.items() if r.routed]

    def frr_routers(self) -> List[str]:
        """Names of the routers that run FRR (routed, not on BIRD)."""
        return [name for name, r in self.routers.items() if r.frr]

    def bird_routers(self) -> List[str]:
        """Names of the routers whose AS has ``daemon: bird`` (none by default)."""
        return [name for name, r in self.routers.items() if r.bird]

    def site_routers(self) -> Dict[str, str]:
        """Site name -> site router name."""
        return {r.site: r.name for r in self.routers.values() if r.site}

    def clients(self) -> List[HostPlan]:
        """The client hosts, in topology order."""
        return [h for h in self.hosts.values() if h.kind == "client"]

    def attackers(self) -> List[HostPlan]:
        """The attack source hosts (none without ``attackers``)."""
        return [h for h in self.hosts.values() if h.kind == "attacker"]

    def resolvers(self) -> List[HostPlan]:
        """The per-AS resolver hosts (none without ``service``, or with a public resolver)."""
        return [h for h in self.hosts.values() if h.kind == "resolver"]

    def servers(self, site: Optional[str] = None) -> List[HostPlan]:
        """The server hosts (of one site, or all)."""
        return [h for h in self.hosts.values() if h.kind == "server" and site in (None, h.site)]


def _slash30(pool: IPv4Network, index: int, what: str = "links") -> IPv4Network:
    base = int(pool.network_address) + 4 * index
    net = IPv4Network((base, 30))
    if net.broadcast_address not in pool:
        most = pool.num_addresses // 4
        raise ValueError(f"address pool {pool} exhausted: one /30 per {what}, at most {most}")
    return net


def _slash24(pool: IPv4Network, index: int, what: str = "prefix") -> IPv4Network:
    net = IPv4Network((int(pool.network_address) + 256 * index, 24))
    if net.broadcast_address not in pool:
        most = pool.num_addresses // 256
        raise ValueError(f"address pool {pool} exhausted: one /24 per {what}, at most {most}")
    return net


#: Clients one access router can hold: a /30 each in its /24.
CLIENTS_PER_ACCESS_ROUTER = 64


def checked_plan(topo: Topology, source: str) -> Plan:
    """:func:`make_plan`, with a topology too big to address as an InputError.

    Args:
        topo: a validated topology.
        source: where it came from (a file, a generator spec), for the message.

    Returns:
        The plan.

    Raises:
        InputError: an address pool is exhausted (naming the pool and its limit).
    """
    from testbed.errors import InputError

    try:
        return make_plan(topo)
    except ValueError as exc:
        raise InputError(f"cannot allocate addresses: {exc}", source) from None


class _Namer:
    """Interface names NODE-eK, K counting per node in link order."""

    def __init__(self) -> None:
        self.count: Dict[str, int] = {}

    def __call__(self, node: str) -> str:
        k = self.count.get(node, 0)
        self.count[node] = k + 1
        return f"{node}-e{k}"


def _pair(
    kind: str,
    net: IPv4Network,
    a: str,
    b: str,
    namer: _Namer,
    params: Optional[LinkParams] = None,
) -> LinkPlan:
    ip_a, ip_b = net.network_address + 1, net.network_address + 2
    end_a = Interface(namer(a), a, IPv4Interface(f"{ip_a}/30"), b, ip_b)
    end_b = Interface(namer(b), b, IPv4Interface(f"{ip_b}/30"), a, ip_a)
    return LinkPlan(kind, end_a, end_b, params or LinkParams())


def make_plan(topo: Topology) -> Plan:
    """Resolve a validated topology into nodes, links, addresses and sessions.

    Args:
        topo: a topology that passed validation.

    Returns:
        The plan.
    """
    namer = _Namer()
    routers: Dict[str, RouterPlan] = {}
    index = 0
    for asys in topo.ases:
        for name in asys.router_names():
            index += 1
            routers[name] = RouterPlan(
                name,
                asys.asn,
                asys.name,
                asys.role,
                ROUTER_ID_POOL.network_address + index,
                daemon=asys.daemon,
            )
    for site in topo.sites:
        index += 1
        asys = topo.site_as(site)
        routers[site.name] = RouterPlan(
            site.name,
            asys.asn,
            asys.name,
            "site",
            ROUTER_ID_POOL.network_address + index,
            site=site.name,
            speaker=site.speaker,
        )

    links: List[LinkPlan] = []
    n_infra = 0
    for spec in topo.links:
        a, b = router_of(topo, spec.a), router_of(topo, spec.b)
        params = spec.params()
        net = _slash30(INFRA_POOL, n_infra, "router-to-router link or site uplink")
        links.append(_pair("infra", net, a, b, namer, params))
        n_infra += 1
    for site in topo.sites:
        for up in site.upstreams():
            upstream = router_of(topo, up)
            net = _slash30(INFRA_POOL, n_infra, "router-to-router link or site uplink")
            links.append(_pair("uplink", net, site.name, upstream, namer, site.link))
            n_infra += 1

    hosts: Dict[str, HostPlan] = {}
    n_server = 0
    unicast = site_unicast(topo)
    anycast_extras = site_anycast_addresses(topo)
    authorities = site_authorities(topo)
    for site in topo.sites:
        site_router = routers[site.name]
        site_router.networks.append(site.prefix)
        site_router.blackholes.append(site.prefix)
        own = unicast.get(site.name)
        addresses = [site.service, *anycast_extras]
        if site.name in authorities:  # its own GSLB authority, in its unicast prefix
            addresses.append(authorities[site.name])
            site_router.default_route = True
        if own is not None:  # announced and blackholed like the anycast prefix
            site_router.networks.append(own.prefix)
            site_router.blackholes.append(own.prefix)
            site_router.unicast, site_router.unicast_address = own.prefix, own.address
            addresses.append(own.address)
        if site.speaker != "frr":
            # the site node is the server: the service address (and the site's
            # unicast address) on its loopback
            on_lo = [IPv4Interface(f"{a}/32") for a in addresses]
            site_router.loopbacks.extend(on_lo)
            uplink = next(lk for lk in links if lk.kind == "uplink" and lk.a.node == site.name)
            hosts[site.name] = HostPlan(
                site.name,
                "server",
                uplink.a,
                uplink.a.peer_address,
                list(on_lo),
                site=site.name,
                as_name=site_router.as_name,
                on_router=True,
                unicast=own.address if own is not None else None,
            )
            continue
        for k in range(site.servers):
            server = f"{site.name}-{k + 1}"
            net = _slash30(SERVER_POOL, n_server, "site server")
            link = _pair("server", net, site.name, server, namer)
            n_server += 1
            links.append(link)
            for address in addresses:
                site_router.statics.append((IPv4Network(f"{address}/32"), link.b.address.ip))
            hosts[server] = HostPlan(
                server,
                "server",
                link.b,
                link.a.address.ip,
                [IPv4Interface(f"{a}/32") for a in addresses],
                site=site.name,
                as_name=site_router.as_name,
                unicast=own.address if own is not None else None,
            )

    # one /24 per access router (an eyeball AS with clients on two routers
    # announces two prefixes), so each router announces and blackholes only
    # the prefix of its own clients, and answers to a client on a sibling
    # router follow that router's announcement instead of a local blackhole
    access_index: Dict[Tuple[str, str], int] = {}
    per_access: Dict[Tuple[str, str], int] = {}
    hangers = [(c.name, c.as_, topo.access_router(c), c.link, "client") for c in topo.clients]
    hangers += [
        (a.name, a.as_name, a.router, LinkParams(), "attacker") for a in attack_sources(topo)
    ]
    hangers += [
        (r.name, r.as_name, r.router, LinkParams(), "resolver") for r in resolver_hosts(topo)
    ]
    for host_name, as_name, access, link_params, kind in hangers:
        host_as = topo.as_by_name(as_name)
        assert host_as is not None, "validated"
        router = routers[access]
        key = (host_as.name, router.name)
        if key not in access_index:
            access_index[key] = len(access_index)
        prefix = _slash24(CLIENT_POOL, access_index[key], "access router of an eyeball AS")
        if prefix not in router.networks:
            router.networks.append(prefix)
            router.blackholes.append(prefix)
        j = per_access.get(key, 0)
        per_access[key] = j + 1
        if j >= CLIENTS_PER_ACCESS_ROUTER:
            raise ValueError(
                f"router {router.name!r} has more than {CLIENTS_PER_ACCESS_ROUTER} clients "
                f"(a /30 each in its /24 {prefix})"
            )
        net = IPv4Network((int(prefix.network_address) + 4 * j, 30))
        link = _pair("client", net, router.name, host_name, namer, link_params)
        links.append(link)
        hosts[host_name] = HostPlan(
            host_name, kind, link.b, link.a.address.ip, as_name=host_as.name
        )

    for link in links:
        for end in (link.a, link.b):
            if end.node in routers:
                routers[end.node].interfaces.append(end)
    _add_sessions(topo, routers, links)
    if uses_policy(topo):
        _add_policies(topo, routers)
    return Plan(topo, routers, hosts, links, unicast)


def _add_sessions(topo: Topology, routers: Dict[str, RouterPlan], links: List[LinkPlan]) -> None:
    overrides = {(router_of(topo, s.a), router_of(topo, s.b)): s for s in topo.sessions}
    sites = {s.name: s for s in topo.sites}
    for link in links:
        if link.kind not in ("infra", "uplink"):
            continue
        for near, far in ((link.a, link.b), (link.b, link.a)):
            me, peer = routers[near.node], routers[far.node]
            out = overrides.get((me.name, peer.name))
            back = overrides.get((peer.name, me.name))
            timers = topo.bgp.timers()
            for sess in (back, out):  # this end's own override wins
                if sess and sess.timers:
                    timers.update(
                        {k: v for k, v in sess.timers.model_dump().items() if v is not None}
                    )
            bfd = topo.bfd.enabled
            for sess in (back, out):
                if sess and sess.bfd is not None:
                    bfd = sess.bfd
            neighbor = Neighbor(
                peer=peer.name,
                address=far.address.ip,
                remote_as=peer.asn,
                ebgp=peer.asn != me.asn,
                timers=Timers(**timers),
                bfd=bfd,
                bfd_interval=topo.bfd.interval,
                bfd_multiplier=topo.bfd.multiplier,
                ryu_peer=peer.speaker == "ryu",
            )
            if out:
                neighbor.prepend, neighbor.med, neighbor.local_pref = (
                    out.prepend,
                    out.med,
                    out.local_pref,
                )
            if me.site:
                site = sites[me.site]
                neighbor.prepend = neighbor.prepend or site.prepend
                neighbor.med = neighbor.med if neighbor.med is not None else site.med
            me.neighbors.append(neighbor)


def uses_policy(topo: Topology) -> bool:
    """True when frr.conf needs route-map policy: relationships, communities or actions.

    A topology with none of them renders exactly as before relationships existed.
    """
    return (
        uses_relationships(topo)
        or any(s.communities for s in topo.sites)
        or any(s.communities for s in topo.sessions)
        or any(a.actions for a in topo.ases)
    )


def _split(communities: List[Community]) -> Tuple[List[str], List[str]]:
    """(standard and well-known, large) communities, each once, in order."""
    standard: List[str] = []
    large: List[str] = []
    for c in communities:
        out = large if c.large else standard
        if str(c) not in out:
            out.append(str(c))
    return standard, large


def _add_policies(topo: Topology, routers: Dict[str, RouterPlan]) -> None:
    """Fill every neighbour's :class:`NeighborPolicy` and every router's community lists.

    On an eBGP session with a relationship: import tags the route
    (``ASN:0:1/2/3``, additive) and sets the class's local preference (a
    session's ``local_pref`` wins); export to a peer or a provider denies
    routes tagged as learned from a peer or a provider (valley-free), and
    to a peer also routes carrying ``no-peer``.  On every eBGP session:
    ``graceful-shutdown`` on import sets local preference 0, and the AS's
    action communities act on export (prepend towards peers, or no export
    to peers or to one AS).  iBGP sessions only add their communities.
    """
    rel = as_relationships(topo)
    overrides = {(router_of(topo, s.a), router_of(topo, s.b)): s for s in topo.sessions}
    sites = {s.name: s for s in topo.sites}
    ases = {a.name: a for a in topo.ases}
    for me in routers.values():
        lists = _Lists()
        for n in me.neighbors:
            peer = routers[n.peer]
            out = overrides.get((me.name, peer.name))
            communities: List[Community] = list(sites[me.site].communities) if me.site else []
            communities += out.communities if out else []
            standard, large = _split(communities)
            n.policy = NeighborPolicy(communities=standard, large_communities=large)
            if n.ebgp:
                n.policy.rel = rel.get((me.as_name, peer.as_name))
                _ebgp_policy(topo, me, n, peer.as_name, ases[me.as_name].actions, lists)
        me.community_lists = list(lists.values())


class _Lists(Dict[str, CommunityList]):
    """A router's community lists, each made once, in order of first use."""

    def use(self, name: str, large: bool, values: List[str]) -> CommunityList:
        return self.setdefault(name, CommunityList(name, large, values))


def _ebgp_policy(
    topo: Topology,
    me: RouterPlan,
    n: Neighbor,
    peer_as: str,
    actions: List[ActionCommunity],
    lists: _Lists,
) -> None:
    """The import and export entries of one eBGP session (``n.policy.rel`` is set)."""
    policy = n.policy
    assert policy is not None
    if policy.rel is not None:
        policy.tag = tag_community(me.asn, policy.rel)
        if n.local_pref is None:  # a session's own local_pref wins
            n.local_pref = getattr(topo.local_pref, policy.rel)
    gshut = lists.use(GSHUT_LIST, False, ["graceful-shutdown"])
    policy.imports.append(
        RouteMapEntry(0, True, "graceful shutdown: least preferred", gshut, local_pref=0)
    )
    exports = policy.exports
    if policy.rel in ("peer", "provider"):
        tags = [tag_community(me.asn, r) for r in ("peer", "provider")]
        match = lists.use(NOT_CUSTOMER_LIST, True, tags)
        why = f"valley-free: to a {policy.rel} only own and customer routes"
        exports.append(RouteMapEntry(0, False, why, match))
    if policy.rel == "peer":
        match = lists.use(NO_PEER_LIST, False, ["no-peer"])
        exports.append(RouteMapEntry(0, False, "no-peer: not to peers", match))
    for action in actions:
        to_peers = action.no_export_to in (None, PEERS)  # prepend, or no export to peers
        if not (policy.rel == "peer" if to_peers else action.no_export_to == peer_as):
            continue
        name = "ACTION-" + action.community.replace(":", "-")
        match = lists.use(name, action.community.large, [str(action.community)])
        if action.prepend:
            why = f"action {action.community}: prepend {action.prepend} towards peers"
            exports.append(RouteMapEntry(0, True, why, match, prepend=action.prepend, next=True))
        else:
            where = "peers" if to_peers else f"AS {peer_as}"
            exports.append(
                RouteMapEntry(0, False, f"action {action.community}: not to {where}", match)
            )
    for entries in (policy.imports, exports):
        if entries:
            entries.append(RouteMapEntry(0, True, "everything else"))
        for k, entry in enumerate(entries):
            entry.seq = 20 + 10 * k
