"""The labs' answers, by BGP path reasoning on a graph of ASes.

:func:`best_routes` plays BGP out on any graph of ASes.  Labs 1-5, 8 and 9
run it without policy (``policy=False``): nothing sets local preference or
compares MED across neighbours, so every AS takes the shortest AS path (the
transits crossed, the site's own AS and its prepends), whatever the links'
delays.  Their internets are chains of transits (labs 1-5: of varying
length, with a varying number of ISPs per transit, some ISPs on two
neighbouring transits, sometimes one more link between two transits).
Without router IDs a client whose site depends on how a tie is broken has
no site (None): labs 1, 3, 4, 5, 8 and 9 draw variants where no client
does, which a student can check on the drawing.

Lab 6 adds business relationships (Gao-Rexford): local preference by where
a route was learned (customer > peer > provider, before the AS-path length)
and valley-free export.

Labs 2 and 7 need ties resolved: a prepend of 1 moves only clients whose two
paths then have the same length, and the routers decide those by
``bgp bestpath compare-routerid`` (the route from the neighbour with the
lowest router ID wins).  Given the routers' IDs (``router_ids``),
:func:`best_routes` breaks ties the same way and reports none; the lab's
answers then hold for whatever a tie decides, as the network does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple


def moved(before: Mapping[str, Optional[str]], after: Mapping[str, Optional[str]]) -> Sequence[str]:
    """Clients whose site differs between two catchments, sorted.

    Args:
        before: client -> site.
        after: client -> site.

    Returns:
        The names of the clients that changed site.
    """
    return sorted(c for c in before if before[c] != after.get(c))


# ------------------------------------------------------ business relationships
#: Local preference by where a route was learned (the topology's defaults).
LOCAL_PREF: Dict[str, int] = {"customer": 200, "peer": 150, "provider": 100}
#: The AS name the sites' routes start with (the anycast AS, as in lab topologies).
ORIGIN = "anycast"


@dataclass(frozen=True)
class Route:
    """An AS's best route to the anycast prefix.

    Attributes:
        site: the site it leads to.
        path: the AS path as the AS holds it: the neighbour first, the origin
            (repeated once per prepend) last.
        learned: what the neighbour it came from is to the AS: ``customer``,
            ``peer`` or ``provider`` (a site attached to the AS is a customer).
    """

    site: str
    path: Tuple[str, ...]
    learned: str


@dataclass
class Routing:
    """Every AS's best route once BGP has settled (:func:`best_routes`).

    Attributes:
        routes: AS -> its best route (None: no route at all).
        ties: ASes whose two best routes were equally good and led to
            different sites (the routers would break the tie by router ID),
            and the ASes with a best route (or one as good) from one of them:
            every AS whose site depends on how a tie is broken.
    """

    routes: Dict[str, Optional[Route]] = field(default_factory=dict)
    ties: Set[str] = field(default_factory=set)

    def site_of(self, asys: str) -> Optional[str]:
        """The site an AS's best route leads to (None: no route, or a tie)."""
        route = self.routes.get(asys)
        return None if route is None or asys in self.ties else route.site


def best_routes(
    rel: Mapping[Tuple[str, str], str],
    sites: Mapping[str, Tuple[Sequence[str], int]],
    policy: bool = True,
    local_pref: Mapping[str, int] = LOCAL_PREF,
    router_ids: Optional[Mapping[str, int]] = None,
) -> Routing:
    """Play BGP out for the anycast prefix until no AS changes its best route.

    Every AS announces its best route to its neighbours (never back into a
    path that holds the neighbour).  With ``policy``: an AS prefers routes by
    ``local_pref`` of where it learned them, then by AS-path length, and
    passes routes learned from a peer or a provider to its customers only
    (valley-free).  Without: the shortest AS path, exported to everyone.

    Args:
        rel: (AS, neighbour AS) -> what the neighbour is to the AS, both ways
            (:func:`testbed.topology.relationships.as_relationships`, without the
            anycast AS).
        sites: site -> (the ASes it is a customer of, its prepend count).
        policy: Gao-Rexford preferences and export, or plain shortest paths.
        local_pref: preference by relationship (with ``policy``).
        router_ids: AS or site -> its router's ID as a number (each AS one
            router): with them, two equally good routes are decided as the
            routers decide them (``bgp bestpath compare-routerid``: the one
            from the neighbour with the lowest ID; a site's own route comes
            from the site's router), and no tie is reported.

    Returns:
        The routes, and the ASes with a tie between two sites.

    Raises:
        ValueError: the routes never settle (not with relationships that have
            no customer-provider cycle, nor without policy).
    """
    ases = sorted({a for a, _ in rel} | {up for ups, _ in sites.values() for up in ups})
    neighbours: Dict[str, List[str]] = {a: [] for a in ases}
    for me, them in sorted(rel):
        neighbours[me].append(them)
    own: Dict[str, List[Route]] = {a: [] for a in ases}
    for site, (ups, prepend) in sorted(sites.items()):
        for up in ups:
            own[up].append(Route(site, (ORIGIN,) * (1 + prepend), "customer"))

    def neighbour_id(route: Route) -> int:
        if router_ids is None:
            return 0
        hop = route.site if route.path[0] == ORIGIN else route.path[0]
        return router_ids[hop]

    def rank(route: Route) -> Tuple[int, int, int, Tuple[str, ...], str]:
        pref = local_pref[route.learned] if policy else 0
        return (-pref, len(route.path), neighbour_id(route), route.path, route.site)

    decided = 3 if router_ids is not None else 2  # the rank's parts a tie is judged on

    best: Dict[str, Optional[Route]] = {a: None for a in ases}
    ties: Set[str] = set()
    for _round in range(4 * len(ases) + 4):
        new: Dict[str, Optional[Route]] = {}
        ties = set()
        equal: Dict[str, Set[str]] = {}  # AS -> the neighbours of its equally good best routes
        for me in ases:
            offers = list(own[me])
            for them in neighbours[me]:
                theirs = best[them]
                if theirs is None or me in theirs.path:
                    continue
                if policy and theirs.learned != "customer" and rel[(them, me)] != "customer":
                    continue  # valley-free: peer and provider routes go to customers only
                offers.append(Route(theirs.site, (them, *theirs.path), rel[(me, them)]))
            if not offers:
                new[me], equal[me] = None, set()
                continue
            ranked = sorted((rank(o), i, o) for i, o in enumerate(offers))
            new[me] = ranked[0][2]
            top = [o for r, _i, o in ranked if r[:decided] == ranked[0][0][:decided]]
            if len({o.site for o in top}) > 1:
                ties.add(me)
            equal[me] = {o.path[0] for o in top if o.path[0] != ORIGIN}
        if new == best:
            return Routing(best, _downstream(equal, ties))
        best = new
    raise ValueError("the routes never settle")


def _downstream(equal: Mapping[str, Set[str]], ties: Set[str]) -> Set[str]:
    """``ties`` and every AS with a best route (or one as good) from an AS among them."""
    out = set(ties)
    grown = True
    while grown:
        grown = False
        for asys, via in equal.items():
            if asys not in out and via & out:
                out.add(asys)
                grown = True
    return out


def reach(rel: Mapping[Tuple[str, str], str], origin: str) -> Set[str]:
    """The ASes that get a route to a prefix ``origin`` announces, under valley-free export.

    Args:
        rel: as for :func:`best_routes`.
        origin: the AS that announces the prefix.

    Returns:
        The ASes with a route, the origin included.
    """
    from testbed.topology.relationships import valley_free_reach

    return valley_free_reach(rel, [origin])


def without_route(
    rel: Mapping[Tuple[str, str], str], origins: Mapping[str, str], among: Iterable[str]
) -> Dict[str, List[str]]:
    """For each AS of ``among``: the prefixes (by name) it gets no route to.

    Args:
        rel: as for :func:`best_routes`.
        origins: a name for each prefix (a client) -> the AS that announces it.
        among: the ASes asked about.

    Returns:
        AS -> the sorted names it has no route to (every AS of ``among``, [] when none).
    """
    reached = {name: reach(rel, asys) for name, asys in origins.items()}
    return {a: sorted(n for n in origins if a not in reached[n]) for a in among}
