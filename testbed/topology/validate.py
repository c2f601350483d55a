"""Whole-topology checks that a single field's schema cannot express.

Every problem is reported as an :class:`~testbed.errors.InputError` naming the
field (``links[3].b``) and what is wrong with it.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Callable, Dict, FrozenSet, List, Mapping, NoReturn, Optional, Set, Tuple

from testbed.attack import limits
from testbed.errors import InputError
from testbed.topology.addressing import (
    CLIENT_POOL,
    MAX_ACCESS_ROUTERS,
    MAX_CLIENTS_PER_ROUTER,
    MAX_LINKS,
    MAX_ROUTERS,
    MAX_SERVERS,
    MAX_UNICAST_SITES,
    UNICAST_POOL,
    prefix_clash,
)
from testbed.topology.attackers import attack_ases, attack_sources
from testbed.topology.model import (
    AS,
    NAME_MAX,
    PEERS,
    RESERVED_NAMES,
    Topology,
    Unicast,
    timer_problem,
)
from testbed.topology.relationships import (
    REVERSE,
    TAG_NUMBER,
    Declaration,
    adjacencies,
    as_relationships,
    declarations,
    end_as,
    provider_cycle,
    resolved,
    tag_community,
    uses_relationships,
    valley_free_reach,
)
from testbed.topology.resolution import check_service
from testbed.topology.unicast import default_address, setting

#: Interfaces are named NODE-eK; Linux allows at most 15 characters.
MAX_INTERFACES = 100

#: Reports one problem (the field, what is wrong with it) and does not return:
#: it raises the :class:`~testbed.errors.InputError`.
Fail = Callable[[str, str], NoReturn]
#: Two routers joined by a link (or a site's uplink), either way round.
RouterPair = FrozenSet[str]


def resolve_router(topo: Topology, name: str) -> Optional[str]:
    """Resolve a router name or an AS name to a router name.

    Args:
        topo: the topology.
        name: a router name, a site name, or an AS name (its first router).

    Returns:
        The router name, or None if nothing has that name.
    """
    routers = topo.router_index()
    if name in routers:
        return name
    asys = topo.as_by_name(name)
    if asys is not None and asys.router_names():
        return asys.router_names()[0]
    return None


def router_of(topo: Topology, name: str) -> str:
    """:func:`resolve_router` on a name that validation has already resolved.

    Args:
        topo: the topology (validated, or checked as far as ``name``'s field).
        name: a router name, a site name, or an AS name that names a router.

    Returns:
        The router name.
    """
    router = resolve_router(topo, name)
    assert router is not None, f"validated: {name!r} names a router"
    return router


def validate(topo: Topology, source: str) -> None:
    """Check cross-references, roles and names of a parsed topology.

    Args:
        topo: the parsed topology.
        source: the file (or generator) it came from, for messages.

    Raises:
        InputError: on the first problem found.
    """

    def fail(field: str, message: str) -> NoReturn:
        raise InputError(message, source, field)

    _check_ases(topo, fail)
    _check_attackers(topo, fail)
    _check_site_ases(topo, fail)
    _check_unique_nodes(topo, fail)
    _check_names_unambiguous(topo, fail)
    routers = topo.router_as()
    links = _check_links(topo, fail)
    _check_sites(topo, fail)
    _check_unicast(topo, fail)
    _check_health(topo, fail)
    _check_clients(topo, fail)
    _check_pool_capacity(topo, len(links), fail)
    _check_sessions(topo, links, fail)
    _check_session_timers(topo, fail)
    _check_intra_as_mesh(topo, links, fail)
    _check_interface_counts(topo, routers, links, fail)
    _check_relationships(topo, fail)
    _check_actions(topo, fail)
    _check_daemons(topo, fail)
    check_service(topo, fail)


def _check_ases(topo: Topology, fail: Fail) -> None:
    seen_names: Set[str] = set()
    seen_asn: Dict[int, str] = {}
    for i, asys in enumerate(topo.ases):
        if asys.name in seen_names:
            fail(f"ases[{i}].name", f"AS name {asys.name!r} is used twice")
        seen_names.add(asys.name)
        if asys.asn in seen_asn:
            fail(f"ases[{i}].asn", f"AS number {asys.asn} is also used by {seen_asn[asys.asn]!r}")
        seen_asn[asys.asn] = asys.name
        if asys.role == "anycast" and asys.routers:
            fail(f"ases[{i}].routers", "an anycast AS has no routers: its sites are its routers")
    anycast = [a for a in topo.ases if a.role == "anycast"]
    if topo.sites and not anycast:
        fail("ases", "sites need an AS with role 'anycast'")


def _node_names(topo: Topology) -> List[Tuple[str, str]]:
    """Every Mininet node name with the field that defines it."""
    out: List[Tuple[str, str]] = []
    for i, asys in enumerate(topo.ases):
        field = f"ases[{i}].routers" if asys.routers else f"ases[{i}].name"
        out.extend((r, field) for r in asys.router_names())
    for i, site in enumerate(topo.sites):
        out.append((site.name, f"sites[{i}].name"))
        if site.speaker != "frr":
            continue  # a ryu or exabgp site's node is its own server
        out.extend((f"{site.name}-{k + 1}", f"sites[{i}].servers") for k in range(site.servers))
    for i, client in enumerate(topo.clients):
        out.append((client.name, f"clients[{i}].name"))
    out.extend((src.name, "attackers") for src in attack_sources(topo))
    return out


def _check_attackers(topo: Topology, fail: Fail) -> None:
    """Attack sources sit in eyeball ASes with routers, within the ceilings of docs/load.md."""
    spec = topo.attackers
    if spec is None:
        return
    for i, name in enumerate(spec.ases):
        asys = topo.as_by_name(name)
        if asys is None:
            fail(f"attackers.ases[{i}]", f"no AS called {name!r}")
        if asys.role != "eyeball":
            fail(f"attackers.ases[{i}]", f"AS {name!r} has role {asys.role!r}, not 'eyeball'")
        if name in spec.ases[:i]:
            fail(f"attackers.ases[{i}]", f"AS {name!r} is named twice")
    if spec.share is not None and not any(a.role == "eyeball" for a in topo.ases):
        fail("attackers.share", "the topology has no eyeball AS to host attack sources")
    sources = len(attack_ases(topo)) * spec.per_as
    for field_, problem in limits.problems(spec.rate, sources, spec.size):
        fail(f"attackers.{'per_as' if field_ == 'sources' else field_}", problem)


def _check_unique_nodes(topo: Topology, fail: Fail) -> None:
    seen: Dict[str, str] = {}
    for name, field in _node_names(topo):
        if len(name) > NAME_MAX:
            fail(field, f"node name {name!r} is longer than {NAME_MAX} characters")
        if name in seen:
            fail(field, f"name {name!r} is already used by {seen[name]}")
        seen[name] = field


def _check_names_unambiguous(topo: Topology, fail: Fail) -> None:
    """No name is a reserved word, and no name means two things.

    A link end, an upstream or a session end may name a router or an AS
    (its first router), so an AS's name may be the name of one of its own
    routers but of nothing else: an AS ``ta`` next to a router ``ta`` of
    another AS would make ``upstream: ta`` peer with the wrong AS.
    """
    nodes = _node_names(topo)
    for name, field_ in [(a.name, f"ases[{i}].name") for i, a in enumerate(topo.ases)] + nodes:
        if name in RESERVED_NAMES:
            fail(
                field_,
                f"{name!r} is a reserved word ({', '.join(RESERVED_NAMES)}): choose another name",
            )
    owner = {r: a.name for a in topo.ases for r in a.router_names()}
    node_field = dict((name, field_) for name, field_ in reversed(nodes))
    for i, asys in enumerate(topo.ases):
        other = node_field.get(asys.name)
        if other is not None and owner.get(asys.name) != asys.name:
            fail(
                f"ases[{i}].name",
                f"{asys.name!r} is also the name of {other}: a reference to {asys.name!r} "
                "would be ambiguous (an AS may share its name only with its own router)",
            )


def _check_links(topo: Topology, fail: Fail) -> Set[RouterPair]:
    links: Set[RouterPair] = set()
    for i, link in enumerate(topo.links):
        ends: List[str] = []
        for end in ("a", "b"):
            name: str = getattr(link, end)
            router = resolve_router(topo, name)
            if router is None:
                fail(f"links[{i}].{end}", f"no router or AS called {name!r}")
            if router in {s.name for s in topo.sites}:
                fail(
                    f"links[{i}].{end}", f"{name!r} is a site: give its uplinks as sites[].upstream"
                )
            ends.append(router)
        if ends[0] == ends[1]:
            fail(f"links[{i}]", f"a link needs two different routers, got {ends[0]!r} twice")
        pair = frozenset(ends)
        if pair in links:
            fail(f"links[{i}]", f"{ends[0]!r} and {ends[1]!r} are already linked")
        links.add(pair)
    return links


def _check_site_ases(topo: Topology, fail: Fail) -> None:
    """Each site's anycast AS exists (checked first: every router lookup needs it)."""
    for i, site in enumerate(topo.sites):
        if site.as_:
            asys = topo.as_by_name(site.as_)
            if asys is None:
                fail(f"sites[{i}].as", f"no AS called {site.as_!r}")
            if asys.role != "anycast":
                fail(f"sites[{i}].as", f"AS {site.as_!r} has role {asys.role!r}, not 'anycast'")
        elif len([a for a in topo.ases if a.role == "anycast"]) > 1:
            fail(f"sites[{i}].as", "several anycast ASes exist: say which one this site is in")


def _check_sites(topo: Topology, fail: Fail) -> None:
    if not topo.sites:
        fail("sites", "no sites: a topology needs at least one anycast site")
    for i, site in enumerate(topo.sites):
        clash = prefix_clash(site.prefix)
        if clash:
            fail(f"sites[{i}].prefix", f"{site.prefix} {clash}: choose another prefix")
        if site.service not in site.prefix:
            if "service" in site.model_fields_set:
                fail(f"sites[{i}].service", f"{site.service} is not inside prefix {site.prefix}")
            fail(
                f"sites[{i}].prefix",
                f"{site.prefix} does not hold the default service address {site.service}: "
                "give service: an address inside the prefix",
            )
        if site.prefix.prefixlen < 31 and site.service in (
            site.prefix.network_address,
            site.prefix.broadcast_address,
        ):
            fail(
                f"sites[{i}].service",
                f"{site.service} is the network or broadcast address of {site.prefix}",
            )
        first = topo.sites[0]
        for name in ("prefix", "service"):
            mine, theirs = getattr(site, name), getattr(first, name)
            if mine != theirs:
                fail(
                    f"sites[{i}].{name}",
                    f"{mine} differs from sites[0].{name} {theirs}: anycast sites "
                    f"announce one prefix and hold one service address",
                )
        if site.speaker != "frr" and site.servers != 1:
            fail(
                f"sites[{i}].servers",
                f"a {site.speaker} site is its own server (the speaker runs on it): "
                "servers must be 1",
            )
        if not site.upstreams():
            fail(f"sites[{i}].upstream", "a site needs at least one upstream")
        seen: Dict[str, str] = {}
        for k, up in enumerate(site.upstreams()):
            field = f"sites[{i}].upstream" + (f"[{k}]" if isinstance(site.upstream, list) else "")
            router = resolve_router(topo, up)
            if router is None or router in {s.name for s in topo.sites}:
                fail(field, f"no transit or eyeball router or AS called {up!r}")
            if router in seen:
                same = f" (both are router {router!r})" if seen[router] != up else ""
                fail(field, f"{up!r} is listed twice{same}: one uplink per upstream router")
            seen[router] = up


def _check_unicast(topo: Topology, fail: Fail) -> None:
    """Sites' unicast prefixes (``sites[].unicast``), whatever the site's speaker: each its
    own, clear of the testbed's pools, the anycast prefix and each other; the pool holds the
    auto ones."""
    taken: List[Tuple[IPv4Network, str]] = []  # (prefix, field)
    n_auto = 0
    for i, site in enumerate(topo.sites):
        wanted = setting(topo, site)
        if wanted is None:
            continue
        field = f"sites[{i}].unicast" if site.unicast is not None else "unicast"
        if not isinstance(wanted, Unicast):
            n_auto += 1
            if n_auto > MAX_UNICAST_SITES:
                fail(
                    field,
                    f"more than {MAX_UNICAST_SITES} sites with unicast: auto: the pool "
                    f"{UNICAST_POOL} holds one /24 each",
                )
            continue
        prefix = wanted.prefix
        clash = prefix_clash(prefix)
        if clash:
            fail(f"{field}.prefix", f"{prefix} {clash}: choose another prefix (or unicast: auto)")
        if prefix.overlaps(site.prefix):
            fail(
                f"{field}.prefix",
                f"{prefix} overlaps the anycast prefix {site.prefix}: a unicast prefix is "
                "announced by its site alone",
            )
        for other, where in taken:
            if prefix.overlaps(other):
                fail(f"{field}.prefix", f"{prefix} overlaps {where}'s {other}: one prefix per site")
        taken.append((prefix, field))
        address = wanted.address or default_address(prefix)
        if address not in prefix:
            fail(f"{field}.address", f"{address} is not inside {prefix}")
        if prefix.prefixlen < 31 and address in (prefix.network_address, prefix.broadcast_address):
            fail(f"{field}.address", f"{address} is the network or broadcast address of {prefix}")


def _check_health(topo: Topology, fail: Fail) -> None:
    """``min_sites`` counts the sites with a health agent: it cannot ask for more."""
    agents = [s.name for s in topo.sites if s.health is not None]
    for i, site in enumerate(topo.sites):
        wanted = site.health.min_sites if site.health is not None else None
        if wanted is not None and wanted > len(agents):
            fail(
                f"sites[{i}].health.min_sites",
                f"must be at most {len(agents)}, the number of sites with a health agent "
                f"({', '.join(agents)}) (got {wanted})",
            )


def _check_clients(topo: Topology, fail: Fail) -> None:
    for i, client in enumerate(topo.clients):
        asys: Optional[AS] = topo.as_by_name(client.as_)
        if asys is None:
            fail(f"clients[{i}].as", f"no AS called {client.as_!r}")
        if asys.role != "eyeball":
            fail(f"clients[{i}].as", f"AS {client.as_!r} has role {asys.role!r}, not 'eyeball'")
        if client.router and client.router not in asys.router_names():
            fail(f"clients[{i}].router", f"{client.router!r} is not a router of AS {asys.name!r}")
    per_router: Dict[str, int] = {}
    hosts = [(topo.access_router(c), f"clients[{i}]") for i, c in enumerate(topo.clients)]
    hosts += [(src.router, "attackers") for src in attack_sources(topo)]
    for router, field_ in hosts:
        per_router[router] = per_router.get(router, 0) + 1
        if per_router[router] > MAX_CLIENTS_PER_ROUTER:
            fail(
                field_,
                f"router {router!r} has more than {MAX_CLIENTS_PER_ROUTER} clients "
                "(its client /24 holds that many /30s): put some on another router of the AS",
            )


def _check_pool_capacity(topo: Topology, n_links: int, fail: Fail) -> None:
    """The testbed's address pools (docs/addressing.md) hold every link, server and router."""
    routers = sum(len(a.router_names()) for a in topo.ases) + len(topo.sites)
    if routers > MAX_ROUTERS:
        fail("ases", f"{routers} routers: the router-ID pool holds at most {MAX_ROUTERS}")
    links = n_links + sum(len(s.upstreams()) for s in topo.sites)
    if links > MAX_LINKS:
        fail("links", f"{links} links and uplinks: the link pool holds at most {MAX_LINKS}")
    servers = sum(s.servers for s in topo.sites if s.speaker == "frr")
    if servers > MAX_SERVERS:
        fail("sites", f"{servers} servers: the server pool holds at most {MAX_SERVERS}")
    access = {(c.as_, topo.access_router(c)) for c in topo.clients}
    access |= {(src.as_name, src.router) for src in attack_sources(topo)}
    if len(access) > MAX_ACCESS_ROUTERS:
        fail(
            "clients",
            f"clients on {len(access)} access routers: the client pool "
            f"{CLIENT_POOL} holds one /24 each, at most {MAX_ACCESS_ROUTERS}",
        )


def topology_warnings(topo: Topology) -> List[str]:
    """What is legitimate but probably not meant, one line each (a validated topology).

    Today: no clients (nothing will probe the service), clients that no
    chain of links joins to any site (they can reach nothing: a legitimate
    experiment, but rarely the intended one), and, with relationships, local
    preferences that do not rank customer over peer over provider routes and
    clients that valley-free export leaves without a route to the service.
    """
    policy = _policy_warnings(topo)
    if not topo.clients:
        return ["no clients: nothing will probe the anycast service"] + policy
    neighbours: Dict[str, Set[str]] = {}

    def join(a: str, b: str) -> None:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)

    for link in topo.links:
        join(router_of(topo, link.a), router_of(topo, link.b))
    for site in topo.sites:
        for up in site.upstreams():
            join(site.name, router_of(topo, up))
    reached: Set[str] = set()
    todo = [s.name for s in topo.sites]
    while todo:
        node = todo.pop()
        if node not in reached:
            reached.add(node)
            todo.extend(neighbours.get(node, ()))
    out = []
    for client in topo.clients:
        router = topo.access_router(client)
        if router not in reached:
            out.append(
                f"client {client.name!r} can reach no site: no chain of links joins "
                f"its router {router!r} to one"
            )
    return out + policy


def _policy_warnings(topo: Topology) -> List[str]:
    """With relationships: local preferences out of the Gao-Rexford order (its guarantee
    that BGP settles needs customer > peer > provider), and clients whose AS valley-free
    export leaves without a route to the anycast service."""
    if not uses_relationships(topo):
        return []
    out = []
    lp = topo.local_pref
    if not lp.customer > lp.peer > lp.provider:
        out.append(
            f"local_pref customer {lp.customer}, peer {lp.peer}, provider {lp.provider} does "
            "not prefer customer over peer over provider routes: BGP may then oscillate or "
            "settle on paths that depend on timing"
        )
    reach = valley_free_reach(as_relationships(topo), {topo.site_as(s).name for s in topo.sites})
    for client in topo.clients:
        if client.as_ not in reach:
            out.append(
                f"client {client.name!r} gets no route to the anycast service: valley-free "
                f"export under the declared relationships passes none to AS {client.as_!r}"
            )
    return out


def _check_sessions(topo: Topology, links: Set[RouterPair], fail: Fail) -> None:
    site_links = {
        frozenset((s.name, resolve_router(topo, up))) for s in topo.sites for up in s.upstreams()
    }
    seen: Set[Tuple[str, str]] = set()
    for i, sess in enumerate(topo.sessions):
        a, b = resolve_router(topo, sess.a), resolve_router(topo, sess.b)
        if a is None:
            fail(f"sessions[{i}].a", f"no router or AS called {sess.a!r}")
        if b is None:
            fail(f"sessions[{i}].b", f"no router or AS called {sess.b!r}")
        if frozenset((a, b)) not in links | site_links:
            fail(f"sessions[{i}]", f"there is no link between {a!r} and {b!r}, so no session")
        if (a, b) in seen:
            fail(f"sessions[{i}]", f"the session {a!r} -> {b!r} is given twice")
        seen.add((a, b))


def _check_session_timers(topo: Topology, fail: Fail) -> None:
    """Each end's timers, the topology's ``bgp`` merged with the overrides, obey the rule.

    An end of the session a -> b takes the defaults, then b -> a's timers,
    then a -> b's (its own win), as the plan does; both ends are checked.
    """
    index = {
        (resolve_router(topo, s.a), resolve_router(topo, s.b)): i
        for i, s in enumerate(topo.sessions)
    }
    for i, sess in enumerate(topo.sessions):
        if sess.timers is None or not sess.timers.given():
            continue
        j = index.get((resolve_router(topo, sess.b), resolve_router(topo, sess.a)))
        other = topo.sessions[j].timers if j is not None else None
        mine = (f"sessions[{i}].timers", sess.timers.given())
        theirs = (f"sessions[{j}].timers", other.given() if other else {})
        for layers in ((theirs, mine), (mine, theirs)):  # end a, end b
            merged = {k: ("bgp", v) for k, v in topo.bgp.timers().items()}
            for where, given in layers:
                merged.update({k: (where, v) for k, v in given.items()})
            (k_from, keepalive), (h_from, hold) = merged["keepalive"], merged["hold"]
            problem = timer_problem(keepalive, hold)
            if problem:
                fail(
                    f"sessions[{i}].timers",
                    f"{problem} (keepalive from {k_from}, hold from {h_from})",
                )


def _check_intra_as_mesh(topo: Topology, links: Set[RouterPair], fail: Fail) -> None:
    """iBGP runs on direct links only, so an AS's routers must be fully meshed."""
    for i, asys in enumerate(topo.ases):
        routers = asys.router_names()
        for x, r1 in enumerate(routers):
            for r2 in routers[x + 1 :]:
                if frozenset((r1, r2)) not in links:
                    fail(
                        f"ases[{i}].routers",
                        f"routers of one AS must be linked in a full mesh (iBGP): "
                        f"add a link between {r1!r} and {r2!r}",
                    )


def _check_interface_counts(
    topo: Topology, routers: Mapping[str, AS], links: Set[RouterPair], fail: Fail
) -> None:
    count: Dict[str, int] = {}
    for pair in links:
        for r in pair:
            count[r] = count.get(r, 0) + 1
    for site in topo.sites:
        for up in site.upstreams():
            router = router_of(topo, up)  # _check_sites resolved it
            count[router] = count.get(router, 0) + 1
    for client in topo.clients:
        router = topo.access_router(client)
        count[router] = count.get(router, 0) + 1
    for router, n in sorted(count.items()):
        if n > MAX_INTERFACES:
            fail("links", f"router {router!r} has {n} interfaces; at most {MAX_INTERFACES}")


def _check_relationships(topo: Topology, fail: Fail) -> None:
    """Relationships name neighbouring ASes, agree with each other, and form no cycle.

    With any relationship declared, every pair of neighbouring ASes needs one
    (declared, or implied for sites and eyeballs: see
    :mod:`testbed.topology.relationships`).
    """
    for i, link in enumerate(topo.links):
        a, b = end_as(topo, link.a), end_as(topo, link.b)
        if link.rel is not None and a == b:
            fail(
                f"links[{i}].rel",
                f"a relationship needs two different ASes: {link.a!r} and {link.b!r} "
                f"are both in AS {a!r}",
            )
    neighbours = adjacencies(topo)
    for i, asys in enumerate(topo.ases):
        for kind in ("customers", "peers"):
            seen: Dict[str, int] = {}
            for j, name in enumerate(getattr(asys, kind)):
                field = f"ases[{i}].{kind}[{j}]"
                if topo.as_by_name(name) is None:
                    fail(field, f"no AS called {name!r}")
                if name == asys.name:
                    what = "its own customer" if kind == "customers" else "its own peer"
                    fail(field, f"an AS cannot be {what}")
                if name in seen:
                    fail(field, f"{name!r} is already {kind}[{seen[name]}]")
                seen[name] = j
                if frozenset((asys.name, name)) not in neighbours:
                    fail(
                        field,
                        f"AS {name!r} is not a neighbour of {asys.name!r}: "
                        "no link or site uplink joins them",
                    )
    first: Dict[frozenset, Declaration] = {}
    for decl in declarations(topo):
        pair = frozenset((decl.me, decl.them))
        earlier = first.get(pair)
        if earlier is None:
            first[pair] = decl
            continue
        same = (earlier.me, earlier.rel) == (decl.me, decl.rel) or (
            earlier.me == decl.them and earlier.rel == REVERSE[decl.rel]
        )
        if not same:
            fail(decl.field, f"{decl.sentence()}, but {earlier.field} says {earlier.sentence()}")
    if not uses_relationships(topo):
        return
    decided = resolved(topo)
    for pair, field in neighbours.items():
        x, y = sorted(pair)
        if (x, y) not in decided:
            fail(
                f"{field}.rel" if field.startswith("links") else field,
                f"AS {x!r} and AS {y!r} have no relationship: with relationships declared, "
                "every pair of neighbouring ASes needs one (a link's rel: "
                "customer-provider or peer, or an AS's customers or peers)",
            )
    cycle = provider_cycle(as_relationships(topo))
    if cycle:
        chain = " -> ".join(repr(a) for a in cycle)
        fail(
            decided[(cycle[-2], cycle[-1])].field,
            f"customer-provider cycle {chain} (each a customer of the next): "
            f"{cycle[0]!r} would be its own indirect provider",
        )


def _check_actions(topo: Topology, fail: Fail) -> None:
    """Action communities: offered by transits, one action each, towards real neighbours."""
    neighbours = adjacencies(topo)
    for i, asys in enumerate(topo.ases):
        if not asys.actions:
            continue
        if asys.role != "transit":
            fail(
                f"ases[{i}].actions",
                f"only a transit AS offers action communities ({asys.name!r} has role "
                f"{asys.role!r})",
            )
        seen: Dict[str, int] = {}
        tags = {tag_community(asys.asn, rel) for rel in TAG_NUMBER}
        for j, action in enumerate(asys.actions):
            field = f"ases[{i}].actions[{j}]"
            if action.community in seen:
                k = seen[action.community]
                fail(f"{field}.community", f"{action.community} is also actions[{k}]'s community")
            seen[action.community] = j
            if action.community in tags:
                fail(
                    f"{field}.community",
                    f"{action.community} is {asys.name!r}'s own relationship tag (ASN:0:1, :0:2 "
                    "and :0:3 mark routes learned from customers, peers, providers): "
                    "choose another",
                )
            target = action.no_export_to
            if target is not None and target != PEERS:
                if topo.as_by_name(target) is None:
                    fail(f"{field}.no_export_to", f"no AS called {target!r}")
                if frozenset((asys.name, target)) not in neighbours:
                    fail(
                        f"{field}.no_export_to",
                        f"AS {target!r} is not a neighbour of {asys.name!r}: "
                        "no link or site uplink joins them",
                    )
            elif not uses_relationships(topo):
                what = "prepend" if action.prepend is not None else "no_export_to: peers"
                fail(
                    field,
                    f"{what} acts towards peers, and this topology declares no relationships "
                    "(links[].rel, ases[].customers, ases[].peers)",
                )


def _check_daemons(topo: Topology, fail: Fail) -> None:
    """``daemon: bird``: what the BIRD rendering (:mod:`testbed.net.bird`) cannot do, refused.

    An anycast AS has no routers of its own (its sites choose a ``speaker``);
    BIRD 2 has no route-flap damping and no advertisement interval (MRAI),
    so neither may apply to a BIRD router; and a Ryu site's prepends and
    work-arounds live in its upstreams' FRR (``route-map SITE-in`` through
    vtysh), so its upstreams must run FRR.
    """
    bird: Dict[str, int] = {}  # router -> its AS's index
    for i, asys in enumerate(topo.ases):
        if asys.daemon != "bird":
            continue
        if asys.role == "anycast":
            fail(
                f"ases[{i}].daemon",
                "bird: an anycast AS has no routers of its own (each site is one): "
                "choose each site's speaker (sites[].speaker) instead",
            )
        bird.update((router, i) for router in asys.router_names())
    if not bird:
        return
    first = topo.ases[min(bird.values())].name
    if topo.bgp.dampening is not None and topo.bgp.dampening.enabled:
        fail(
            "bgp.dampening",
            f"route-flap damping is not rendered for BIRD (BIRD 2 has none), and AS {first!r} "
            "has daemon: bird: turn damping off, or run that AS on FRR",
        )
    index = {
        (resolve_router(topo, s.a), resolve_router(topo, s.b)): i
        for i, s in enumerate(topo.sessions)
    }
    ends = [(resolve_router(topo, lk.a), resolve_router(topo, lk.b)) for lk in topo.links]
    ends += [(s.name, resolve_router(topo, up)) for s in topo.sites for up in s.upstreams()]
    for a, b in ends:
        for me, peer in ((a, b), (b, a)):
            if me not in bird:
                continue
            where, mrai = "bgp.mrai", topo.bgp.mrai
            for k in (index.get((peer, me)), index.get((me, peer))):  # its own override wins
                timers = topo.sessions[k].timers if k is not None else None
                if timers is not None and timers.mrai is not None:
                    where, mrai = f"sessions[{k}].timers.mrai", timers.mrai
            if mrai:
                fail(
                    where,
                    f"{mrai} s: BIRD has no advertisement interval (MRAI), and router {me!r} "
                    f"(AS {topo.ases[bird[me]].name!r}) has daemon: bird: use mrai 0 on its "
                    "sessions, or run that AS on FRR",
                )
    for i, site in enumerate(topo.sites):
        if site.speaker != "ryu":
            continue
        for up in site.upstreams():
            router = resolve_router(topo, up)
            if router in bird:
                fail(
                    f"sites[{i}].speaker",
                    f"ryu: a Ryu site's prepends are set in its upstreams' FRR "
                    f"(route-map {site.name}-in, through vtysh), and its upstream {router!r} "
                    f"(AS {topo.ases[bird[router]].name!r}) has daemon: bird: use speaker "
                    "frr or exabgp, or FRR upstreams",
                )
