"""Name resolution in a topology: the resolvers, who uses which, and where is near (pure).

With a ``service`` block, clients resolve the service name through recursive
resolvers (unbound) before they use it.  ``resolvers.placement: per-as`` puts
one resolver host in every eyeball AS that has clients (``res1``, ``res2``,
... in AS order, hanging off the AS's first client's access router like its
clients); ``public`` makes the resolver the operator's own anycast service,
unbound at every site server on :data:`~testbed.topology.model.PUBLIC_RESOLVER`.
A ``violating.share`` of the per-AS resolvers, picked by a fixed hash of their
AS names (as attack sources are), keeps every answer at least
``violating.min_ttl`` seconds.

"Near" is by the topology's link delays (a hop with no delay counts as a
microsecond, so without delays the fewest hops win; ties go to the site
listed first): :func:`site_order` ranks the sites from a router, which is
what a GSLB's location database answers for a resolver (or an EDNS Client
Subnet) there, and :func:`nearest_sites` gives each client its nearest site
for the steady-state accuracy of both methods.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

import networkx as nx

from testbed.topology.model import PUBLIC_RESOLVER, Topology

if TYPE_CHECKING:
    from testbed.topology.validate import Fail

#: Resolver hosts are called ``res1``, ``res2``, ...
PREFIX = "res"
#: The weight of a link without a delay (ms): fewest hops win when no link has one.
HOP_MS = 0.001


@dataclass(frozen=True)
class ResolverHost:
    """One per-AS resolver host.

    Attributes:
        name: the host (node) name.
        as_name: the eyeball AS it serves.
        router: its access router (that of the AS's first client).
        min_ttl: the shortest time it caches an answer (s).
        max_ttl: the longest (s).
        violating: whether it is one of the TTL-violating resolvers.
    """

    name: str
    as_name: str
    router: str
    min_ttl: int
    max_ttl: int
    violating: bool = False


def _hash(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def resolver_hosts(topo: Topology) -> List[ResolverHost]:
    """The per-AS resolver hosts, in AS order (none without ``service`` or when ``public``)."""
    if topo.service is None:
        return []
    settings = topo.resolvers
    placement = settings.placement if settings else "per-as"
    if placement != "per-as":
        return []
    first: Dict[str, str] = {}
    for client in topo.clients:
        first.setdefault(client.as_, topo.access_router(client))
    ases = [a.name for a in topo.ases if a.name in first]
    min_ttl, max_ttl = (settings.min_ttl, settings.max_ttl) if settings else (0, 86400)
    violating: set = set()
    if settings is not None and settings.violating.ases:
        violating = set(settings.violating.ases)
    elif settings is not None and settings.violating.share > 0:
        count = math.ceil(settings.violating.share * len(ases) - 1e-9)
        violating = set(sorted(ases, key=_hash)[:count])
    out: List[ResolverHost] = []
    for as_name in ases:
        bad = as_name in violating
        assert settings is not None or not bad
        low = max(min_ttl, settings.violating.min_ttl) if bad and settings else min_ttl
        out.append(
            ResolverHost(
                f"{PREFIX}{len(out) + 1}",
                as_name,
                first[as_name],
                low,
                max(max_ttl, low),
                bad,
            )
        )
    return out


def client_resolvers(topo: Topology) -> Dict[str, Optional[str]]:
    """Client -> the resolver host it asks (None: the public anycast resolver)."""
    by_as = {r.as_name: r.name for r in resolver_hosts(topo)}
    return {c.name: by_as.get(c.as_) for c in topo.clients}


def public_resolver(topo: Topology) -> Optional[str]:
    """The public resolver's anycast address when the clients use it, else None."""
    if topo.service is None or topo.resolvers is None:
        return None
    return str(PUBLIC_RESOLVER) if topo.resolvers.placement == "public" else None


def router_graph(topo: Topology) -> nx.Graph:
    """Routers (site routers included) joined by links and uplinks, weighted by delay (ms)."""
    from testbed.topology.validate import resolve_router

    graph = nx.Graph()
    for link in topo.links:
        a, b = resolve_router(topo, link.a), resolve_router(topo, link.b)
        delay = link.params().delay_ms()
        graph.add_edge(a, b, ms=max(float(delay or 0.0), HOP_MS))
    for site in topo.sites:
        for up in site.upstreams():
            router = resolve_router(topo, up)
            graph.add_edge(site.name, router, ms=max(float(site.link.delay_ms() or 0.0), HOP_MS))
    return graph


def site_order(topo: Topology, graph: Optional[nx.Graph] = None) -> Dict[str, List[str]]:
    """Router -> every site, nearest first by delay (unreachable sites last, in site order)."""
    graph = graph if graph is not None else router_graph(topo)
    sites = [s.name for s in topo.sites]
    place = {s: i for i, s in enumerate(sites)}
    out: Dict[str, List[str]] = {}
    for router in graph.nodes:
        far = nx.single_source_dijkstra_path_length(graph, router, weight="ms")
        out[router] = sorted(sites, key=lambda s: (far.get(s, math.inf), place[s]))
    return out


def nearest_sites(topo: Topology) -> Dict[str, str]:
    """Client -> its nearest site by the topology's delays (from its access router)."""
    if not topo.sites:
        return {}
    order = site_order(topo)
    fallback = [s.name for s in topo.sites]
    return {c.name: order.get(topo.access_router(c), fallback)[0] for c in topo.clients}


def client_resolver_address(topo: Topology, plan: object, client: str) -> Tuple[str, str]:
    """The address and name of the resolver a client asks: its AS's host, or the public one.

    Args:
        topo: the topology (with ``service``).
        plan: its :class:`~testbed.topology.plan.Plan` (the resolver hosts' addresses).
        client: the client's name.

    Returns:
        (address, resolver name): ``("192.0.2.55", "public")`` for the public resolver.
    """
    name = client_resolvers(topo).get(client)
    if name is None:
        return str(PUBLIC_RESOLVER), "public"
    host = plan.hosts[name]  # type: ignore[attr-defined]
    return str(host.interface.address.ip), name


def site_anycast_addresses(topo: Topology) -> List[IPv4Address]:
    """The anycast addresses every site's servers hold besides the service address:
    the GSLB authority (``gslb`` published) and the public resolver (``public``)."""
    out: List[IPv4Address] = []
    if topo.service is not None and "gslb" in topo.service.methods():
        out.append(topo.service.authority)
    if public_resolver(topo) is not None:
        out.append(PUBLIC_RESOLVER)
    return out


def check_service(topo: Topology, fail: Fail) -> None:
    """``service`` and ``resolvers`` against the rest of the topology (``fail(field, why)``).

    ``resolvers`` needs ``service`` (the names they resolve); ``gslb`` needs a
    unicast address at every site (what PowerDNS answers); the GSLB authority
    and the public resolver are anycast addresses inside every site's prefix,
    none of them the service address.
    """
    from testbed.topology.unicast import setting

    if topo.service is None:
        if topo.resolvers is not None:
            fail("resolvers", "needs a 'service' block: the name the resolvers resolve")
        return
    spec = topo.resolvers
    violators = spec is not None and bool(spec.violating.ases or spec.violating.share)
    if spec is not None and spec.placement != "per-as" and violators:
        fail("resolvers.violating", "only per-AS resolvers violate TTLs (placement: per-as)")
    with_clients = {c.as_ for c in topo.clients}
    for i, name in enumerate(spec.violating.ases if spec is not None else []):
        field = f"resolvers.violating.ases[{i}]"
        if topo.as_by_name(name) is None:
            fail(field, f"no AS called {name!r}")
        if name not in with_clients:
            fail(field, f"AS {name!r} has no clients, so no resolver")
    if "gslb" in topo.service.methods():
        bare = [s.name for s in topo.sites if setting(topo, s) is None]
        if bare:
            fail(
                "service.publish",
                f"{topo.service.publish} needs every site's unicast address, and "
                f"{', '.join(bare)} has none: set 'unicast: true' (or sites[].unicast)",
            )
        cramped = [s for s in topo.sites if s.name not in site_authorities(topo)]
        if cramped:
            fail(
                "service.publish",
                f"{cramped[0].name}'s unicast prefix has no room for its GSLB authority's "
                f"address (.{AUTHORITY_HOST}): give it a /25 or larger",
            )
    wanted = (
        [("service.authority", topo.service.authority)] if "gslb" in topo.service.methods() else []
    )
    if public_resolver(topo) is not None:
        wanted.append(("resolvers.placement", PUBLIC_RESOLVER))
    for field, address in wanted:
        for i, site in enumerate(topo.sites):
            if address not in site.prefix:
                fail(
                    field, f"{address} is not inside sites[{i}] {site.name}'s prefix {site.prefix}"
                )
            if address == site.service:
                fail(
                    field, f"{address} is sites[{i}] {site.name}'s service address: choose another"
                )
    if len(wanted) == 2 and wanted[0][1] == wanted[1][1]:
        fail("service.authority", f"{PUBLIC_RESOLVER} is the public resolver's address")


def resolution_meta(topo: Topology, plan: object) -> Dict[str, object]:
    """meta.json's ``service``, ``resolvers`` (per client) and ``nearest_site`` (docs/records.md).

    Empty without a ``service`` block.
    """
    if topo.service is None:
        return {}
    service = topo.service
    unicast = getattr(plan, "unicast", {})
    hosts = {r.name: r for r in resolver_hosts(topo)}
    settings = topo.resolvers
    per_client: Dict[str, Dict[str, object]] = {}
    for client, name in client_resolvers(topo).items():
        host = hosts.get(name) if name else None
        per_client[client] = {
            "resolver": name or "public",
            "min_ttl": host.min_ttl if host else (settings.min_ttl if settings else 0),
            "max_ttl": host.max_ttl if host else (settings.max_ttl if settings else 86400),
            "serve_stale": bool(settings and settings.serve_stale),
            "prefetch": bool(settings and settings.prefetch),
            "ecs": bool(settings and settings.ecs),
            "violating": bool(host and host.violating),
        }
    return {
        "service": {
            "publish": service.publish,
            "methods": service.methods(),
            "ttl": service.ttl,
            "health_interval": service.health.interval,
            "authority": str(service.authority),
            "addresses": {site: str(u.address) for site, u in unicast.items()},
        },
        "resolvers": per_client,
        "nearest_site": nearest_sites(topo),
    }


#: The daemons name resolution needs, and the Debian packages that hold them.
DAEMONS = {"unbound": "unbound", "pdns_server": "pdns-server pdns-backend-bind"}


def daemons_missing(topo: Topology) -> Optional[str]:
    """Why this machine cannot run the topology's name resolution (None: it can).

    unbound for the resolvers whenever there is a ``service``; PowerDNS when
    ``gslb`` is published.
    """
    import shutil

    if topo.service is None:
        return None
    wanted = ["unbound"] + (["pdns_server"] if "gslb" in topo.service.methods() else [])
    gone = [d for d in wanted if not (shutil.which(d) or Path(f"/usr/sbin/{d}").exists())]
    if not gone:
        return None
    packages = " ".join(DAEMONS[d] for d in gone)
    return f"{', '.join(gone)} not installed: apt-get install {packages} (or sudo make install)"


def gslb_views(topo: Topology, plan: object) -> List[Tuple[List[str], List[str]]]:
    """What the GSLB's location database answers: (subnets, sites nearest first) per place.

    Every access router's /24 (its clients and its AS's resolver) ranks the
    sites from that router; every site's own server links (where a public
    resolver's queries come from) rank the sites from that site, itself
    first.  PowerDNS matches the resolver's address, or the EDNS Client
    Subnet when the resolver sends one.
    """
    from testbed.topology.addressing import CLIENT_POOL

    order = site_order(topo)
    views: List[Tuple[List[str], List[str]]] = []
    routers = getattr(plan, "routers", {})
    for name, router in routers.items():
        if router.site:
            continue
        nets = [str(n) for n in router.networks if n.subnet_of(CLIENT_POOL)]
        if nets and name in order:
            views.append((nets, order[name]))
    for site in topo.sites:
        nets = sorted(
            {
                str(link.a.address.network)
                for link in getattr(plan, "links", [])
                if link.a.node == site.name and link.kind in ("server", "uplink")
            }
        )
        if nets and site.name in order:
            views.append((nets, order[site.name]))
    return views


#: The host part of a site's own GSLB authority address in its unicast prefix (.54),
#: next to the unicast service address (.53 by default; .55 when that is .54).
AUTHORITY_HOST = 54


def site_authority(prefix: IPv4Network, service: IPv4Address) -> Optional[IPv4Address]:
    """A site's own address for its GSLB authority in its unicast prefix (None: no room).

    Resolvers list every site's as well as the anycast authority, so a site
    that fails silently (its routes stay) does not take name resolution down
    with it: the resolver tries another name server.
    """
    for host in (AUTHORITY_HOST, AUTHORITY_HOST + 1):
        if host >= prefix.num_addresses - 1:
            return None
        candidate = prefix.network_address + host
        if candidate != service:
            return candidate
    return None


def site_authorities(topo: Topology) -> Dict[str, IPv4Address]:
    """Site -> its own GSLB authority address, when ``gslb`` is published (else empty)."""
    from testbed.topology.unicast import site_unicast

    if topo.service is None or "gslb" not in topo.service.methods():
        return {}
    out: Dict[str, IPv4Address] = {}
    for site, own in site_unicast(topo).items():
        address = site_authority(own.prefix, own.address)
        if address is not None:
            out[site] = address
    return out
