"""Which routers should have a route to which prefix, given the relationships.

Without relationships every router ends up with a route to every announced
prefix, and convergence means exactly that.  With them, valley-free export
leaves some routers without a route on purpose (a peer's customer route is
not passed to another peer, a provider's route not to a provider), so
waiting for every router to have every prefix would wait for ever.

:func:`required_routes` says, per router, the prefixes valley-free export
delivers to its AS (:func:`testbed.topology.relationships.valley_free_reach`),
which convergence waits for; a prefix announced with communities that limit
its spread (``no-export``, ``no-advertise``, ``no-peer``, or a transit's
action communities) is required nowhere: its spread is not predicted, and
convergence waits only for the routes to stop changing.
:func:`no_route` then lists, for ``up`` and the report, the routers left
without a route to a prefix and whether the policy explains it.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple

from testbed.topology.model import Topology

#: Well-known communities that keep a route from spreading everywhere.
LIMITING = frozenset({"no-export", "no-advertise", "no-peer"})


def origins(plan: Any) -> Dict[IPv4Network, Set[str]]:
    """prefix -> the routers that announce it (sites, eyeball routers)."""
    out: Dict[IPv4Network, Set[str]] = {}
    for name, router in plan.routers.items():
        for net in router.networks:
            out.setdefault(net, set()).add(name)
    return out


def limited(topo: Topology) -> bool:
    """True when some announcement carries a community that limits where it goes.

    Site and session communities that are well-known limiting ones, and any
    action community a transit offers (a site may use it at any moment).
    """
    if any(a.actions for a in topo.ases):
        return True
    for site in topo.sites:
        if any(str(c) in LIMITING for c in site.communities):
            return True
    return any(str(c) in LIMITING for s in topo.sessions for c in s.communities)


def site_node(site: str) -> str:
    """The node that stands for one site in :func:`per_site` (no AS name has a colon)."""
    return f"site:{site}"


def per_site(topo: Topology, rel: Mapping[Tuple[str, str], str]) -> Dict[Tuple[str, str], str]:
    """The relationships with each site in place of its anycast AS.

    The sites of an anycast AS do not talk to each other (no iBGP between
    them): each learns only what its own upstreams pass it, so for the reach
    of a prefix each is a node of its own (:func:`site_node`), related to its
    upstreams' ASes as the anycast AS is.

    Args:
        topo: the topology.
        rel: :func:`testbed.topology.relationships.as_relationships`.

    Returns:
        ``rel`` without the anycast ASes' pairs, with each site's instead.
    """
    from testbed.topology.relationships import end_as

    anycast = {a.name for a in topo.ases if a.role == "anycast"}
    out = {pair: what for pair, what in rel.items() if not anycast & set(pair)}
    for site in topo.sites:
        me, node = topo.site_as(site).name, site_node(site.name)
        for up in site.upstreams():
            other = end_as(topo, up)
            if other is not None and (me, other) in rel:
                out[(node, other)] = rel[(me, other)]
                out[(other, node)] = rel[(other, me)]
    return out


def own_as_exempt(plan: Any) -> Dict[str, Set[IPv4Network]]:
    """site router -> the prefixes it never gets: the other sites' unicast prefixes.

    The sites of an anycast AS share its number and nothing else (no iBGP
    between them): a route from another site of the AS comes back with that
    number in its AS path and BGP's loop prevention drops it.  A site needs
    none of them (its servers answer, they do not call other sites), so
    convergence does not wait for them, and they are not "left out by policy".
    """
    out: Dict[str, Set[IPv4Network]] = {}
    for name, router in plan.routers.items():
        if not router.site:
            continue
        others = {
            other.unicast
            for other in plan.routers.values()
            if other.site
            and other is not router
            and other.asn == router.asn
            and getattr(other, "unicast", None) is not None
        }
        if others:
            out[name] = others
    return out


def required_routes(topo: Topology, plan: Any) -> Dict[str, Set[IPv4Network]]:
    """router -> the prefixes it must have a route to once BGP has converged.

    Without relationships: every announced prefix, at every FRR router.  With
    them: the prefixes valley-free export brings to the router's AS, or for a
    site router to the site itself (:func:`per_site`: an anycast AS's sites
    share nothing); the anycast prefix not at all when its spread is
    :func:`limited`.  The sites' unicast prefixes (``sites[].unicast``) carry
    the site's communities too: not required anywhere when they are limited,
    and never at the other sites of their AS (:func:`own_as_exempt`).
    """
    from testbed.topology.relationships import (
        as_relationships,
        uses_relationships,
        valley_free_reach,
    )

    routers = list(plan.routed_routers())
    prefixes = origins(plan)
    exempt = own_as_exempt(plan)
    unicast = {r.unicast for r in plan.routers.values() if getattr(r, "unicast", None)}
    if not uses_relationships(topo):
        # every site announces the anycast prefix, but a unicast prefix only one
        unpredicted = unicast if limited(topo) else set()
        return {r: set(prefixes) - exempt.get(r, set()) - unpredicted for r in routers}
    rel = per_site(topo, as_relationships(topo))
    as_of = {name: a.name for name, a in topo.router_as().items()}
    as_of.update({s.name: site_node(s.name) for s in topo.sites})
    # a site's unicast prefix leaves through the same route-maps, with the same communities
    anycast = {s.prefix for s in topo.sites} | unicast
    out: Dict[str, Set[IPv4Network]] = {r: set() for r in routers}
    skip = limited(topo)
    for net, by in prefixes.items():
        if skip and net in anycast:
            continue
        reach = valley_free_reach(rel, {as_of[r] for r in by if r in as_of})
        for r in routers:
            if as_of.get(r) in reach and net not in exempt.get(r, ()):
                out[r].add(net)
    return out


def no_route(
    tables: Mapping[str, Iterable[IPv4Network]],
    announced: Iterable[IPv4Network],
    required: Mapping[str, Set[IPv4Network]],
    exempt: Optional[Mapping[str, Set[IPv4Network]]] = None,
) -> Dict[str, Dict[str, List[str]]]:
    """The routers without a route to an announced prefix.

    Args:
        tables: router -> the prefixes it has a route to.
        announced: every announced prefix.
        required: :func:`required_routes`.
        exempt: router -> prefixes it never gets and is not listed for
            (:func:`own_as_exempt`: other sites' unicast prefixes).

    Returns:
        ``{"policy": {router: [prefix...]}, "missing": {router: [prefix...]}}``:
        left out by valley-free export (or not predicted), and missing although
        required; sorted, routers with nothing left out.
    """
    wanted = sorted(set(announced), key=lambda n: (int(n.network_address), n.prefixlen))
    out: Dict[str, Dict[str, List[str]]] = {"policy": {}, "missing": {}}
    for router in sorted(tables):
        have = set(tables[router]) | set((exempt or {}).get(router, ()))
        for net in wanted:
            if net in have:
                continue
            kind = "missing" if net in required.get(router, set()) else "policy"
            out[kind].setdefault(router, []).append(str(net))
    return out


def no_route_line(no_routes: Mapping[str, Mapping[str, List[str]]], limit: int = 4) -> str:
    """One line: ``3 routers have no route by policy: isp1 (198.18.1.0/24), ...``; '' if none."""
    policy = no_routes.get("policy") or {}
    if not policy:
        return ""
    items = [f"{r} ({', '.join(p)})" for r, p in sorted(policy.items())]
    more = f", and {len(items) - limit} more" if len(items) > limit else ""
    n = len(policy)
    return (
        f"{n} router{'s' if n != 1 else ''} without a route by policy (valley-free export): "
        + ", ".join(items[:limit])
        + more
    )
