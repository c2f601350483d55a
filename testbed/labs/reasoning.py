"""The labs' answers, by BGP path reasoning on a chain of transit ASes.

Every lab runs on the same kind of internet: transit ASes in a line, one
eyeball AS (with one client) on each transit, anycast sites behind some of
the transits.  Nothing sets local preference or compares MED across
neighbours, so each client's route is the one with the shortest AS path: a
client on transit ``i`` reaches a site behind transit ``j`` over
``|i - j|`` transit-to-transit hops, plus the site's own AS and its
prepends.  Variants are chosen so that no client ever has two equally short
paths: a tie would be broken by router ID (the routers run ``bgp bestpath
compare-routerid``), which a student cannot read from the drawing.
"""

from __future__ import annotations

from typing import Dict, Mapping, Optional, Sequence, Tuple

#: A site for the reasoning: (transit position, prepend count).
SitePos = Tuple[int, int]


def path_length(client_pos: int, site: SitePos) -> int:
    """AS-path length from a client's transit to a site (transits crossed + origin + prepends).

    Args:
        client_pos: position of the client's transit in the chain.
        site: (position of the site's transit, prepend count).

    Returns:
        The number of AS numbers in the path the client's transit selects.
    """
    pos, prepend = site
    return abs(client_pos - pos) + 1 + 1 + prepend


def best_site(client_pos: int, sites: Mapping[str, SitePos]) -> Optional[str]:
    """The site a client reaches, or None when two sites tie (or there is none).

    Args:
        client_pos: position of the client's transit.
        sites: site name -> (position, prepend).

    Returns:
        The site with the strictly shortest AS path, else None.
    """
    if not sites:
        return None
    ranked = sorted(sites, key=lambda s: path_length(client_pos, sites[s]))
    if len(ranked) > 1 and path_length(client_pos, sites[ranked[0]]) == path_length(
        client_pos, sites[ranked[1]]
    ):
        return None
    return ranked[0]


def catchment(clients: Mapping[str, int], sites: Mapping[str, SitePos]) -> Dict[str, Optional[str]]:
    """Each client's site.

    Args:
        clients: client name -> position of its transit.
        sites: site name -> (position, prepend).

    Returns:
        client -> site (None where two paths tie).
    """
    return {name: best_site(pos, sites) for name, pos in clients.items()}


def has_ties(clients: Mapping[str, int], sites: Mapping[str, SitePos]) -> bool:
    """True when some client has two equally short paths to different sites."""
    return any(site is None for site in catchment(clients, sites).values())


def moved(before: Mapping[str, Optional[str]], after: Mapping[str, Optional[str]]) -> Sequence[str]:
    """Clients whose site differs between two catchments, sorted.

    Args:
        before: client -> site.
        after: client -> site.

    Returns:
        The names of the clients that changed site.
    """
    return sorted(c for c in before if before[c] != after.get(c))


def min_prepend(clients: Mapping[str, int], primary: int, backup: int) -> int:
    """The fewest prepends on the backup site that send every client to the primary.

    Args:
        clients: client name -> transit position.
        primary: the primary site's transit position.
        backup: the backup site's transit position.

    Returns:
        The smallest count with every client's path via the primary strictly shorter.
    """
    worst = max(abs(pos - primary) - abs(pos - backup) for pos in clients.values())
    return max(0, worst + 1)
