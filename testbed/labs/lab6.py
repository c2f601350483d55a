"""Lab 6, business relationships: a catchment that the shortest AS path gets wrong.

The lab internet has relationships (Gao-Rexford): three tier-1s, of which
only the hub peers with both others, and a customer chain below the hub
(:data:`~testbed.labs.variant.LAB6_LINKS`).  One site sits behind a tier-1
that the hub peers with, the other at the end of the hub's customer chain.
Before running anything the student writes, in ``predictions.yaml``, which
site each client reaches, which clients do not follow the shortest AS path
(a customer's route beats a shorter peer route), and which transits get no
route at all to which client's ISP (a route learned from a peer is not
passed to another peer).  The checker runs the hand-out network (the
student's copies do not matter) and compares: the catchment with the
clients' DNS answers, the shortest-path clients with the catchment and the
shortest AS paths of the topology that ran, the missing routes with the
routers' tables after convergence (the run's policy check, ``no_route``).

The student also predicts, for every link between two transits, which
clients change site while that link is down (they reach the other site, or
none: what is left gives their ISP no route valley-free export allows).
After its first phase (no events: the hand-out's ``scenario.yaml``) the
check's run fails :data:`DRAWN` of those links one after the other, drawn
when the check runs (:mod:`testbed.labs.checktime`) among those whose
failure moves someone, so a student cannot run the check's case first and
copy what it showed.  That item says right or wrong, never which clients or
how many; a drawn failure whose outcome contradicts the policy reasoning is
the testbed's failure, not the student's.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from testbed.labs import answers, checktime, reasoning
from testbed.labs.checktime import draw_cases, link_events, link_key
from testbed.labs.common import HINT_TESTBED, of, run_item, skip_all, starting_topology
from testbed.labs.items import CheckItem, item
from testbed.labs.runner import LabContext, Summary, lab_scenario, sites_before
from testbed.labs.variant import Variant
from testbed.topology.model import Topology

HINT_CATCHMENT = (
    "an AS prefers a route learned from a customer to one from a peer to one from a provider, "
    "whatever the AS-path length (the length only decides between routes of the same kind); "
    "each AS passes on only its own best route"
)
HINT_SHORTEST = (
    "for each client, count the ASes to each site as in lab 1 (the shortest AS path wins), "
    "and compare with where its packets really go"
)
HINT_NO_ROUTE = (
    "valley-free export: an AS passes routes learned from a peer or a provider to its customers "
    "only; follow each ISP's prefix up through providers, across at most one peering, then down "
    "to customers"
)
HINT_LINK = (
    "while a link is down no route crosses it: apply the same preferences and valley-free "
    "export to what is left (an ISP whose transit gets no route it may use reaches no site)"
)
HINT_POLICY = "the run's policy check after convergence is in summary.json (policy, no_route)"
#: The check's first phase (s): no events, the clients on their sites (the hand-out's
#: scenario.yaml runs it, a little longer); the catchment is read there.
PLAIN_S = 3.0
#: Link failures the check draws and runs after the first phase, one after the other.
DRAWN = 2
#: Each drawn link goes down at these times (s) and comes back this long after.
DOWN_AT_S, DOWN_FOR_S = (PLAIN_S, PLAIN_S + 8.0), 3.0
#: How long the check's run lasts (s): the clients are back before the next failure.
DURATION_S = 16
#: Prediction keys graded on the first phase, and their titles.
KEYS = (
    ("catchment", "the site each client reaches"),
    ("not_shortest", "the clients that do not take the shortest AS path"),
    ("no_route", "the ISPs each transit has no route to"),
)


def drawn_links(v: Variant, keyring: Any = None) -> List[Tuple[str, str]]:
    """The link failures this check runs (:data:`DRAWN` of those that move someone)."""
    return draw_cases(v, "lab6 links", v.policy_moving_cases(), DRAWN, keyring)


def timeline(links: List[Tuple[str, str]]) -> List[Dict[str, Any]]:
    """The check's events: after the first phase, each drawn link down, then up again."""
    return link_events(links, DOWN_AT_S, DOWN_FOR_S)


def routing_of(
    topo: Topology,
    policy: bool = True,
    sites: Optional[Mapping[str, Tuple[Sequence[str], int]]] = None,
    down: Sequence[Tuple[str, str]] = (),
) -> reasoning.Routing:
    """Every AS's best route to the anycast prefix in a topology, by path reasoning.

    Args:
        topo: a topology (with relationships, for ``policy``).
        policy: Gao-Rexford (the topology's local preferences) or the shortest AS path.
        sites: site -> (upstream ASes, prepend); default: every site of the
            topology with its own prepend.
        down: links that are down, by their routers (or ASes), either order:
            the two ASes they join are left without that adjacency both ways.

    Returns:
        :func:`testbed.labs.reasoning.best_routes` on the topology's ASes.
    """
    from testbed.topology.relationships import as_relationships, end_as

    anycast = {a.name for a in topo.ases if a.role == "anycast"}
    rel = {p: r for p, r in as_relationships(topo).items() if not anycast & set(p)}
    if sites is None:
        sites = {
            s.name: ([a for a in (end_as(topo, up) for up in s.upstreams()) if a], s.prepend)
            for s in topo.sites
        }
    if not policy:  # every neighbouring pair, relationships or not
        for link in topo.links:
            a, b = end_as(topo, link.a), end_as(topo, link.b)
            if a and b and a != b and not anycast & {a, b}:
                rel.setdefault((a, b), "peer")
                rel.setdefault((b, a), "peer")
    for x, y in down:
        a, b = end_as(topo, x) or x, end_as(topo, y) or y
        rel.pop((a, b), None)
        rel.pop((b, a), None)
    prefs = topo.local_pref.model_dump()
    return reasoning.best_routes(rel, sites, policy=policy, local_pref=prefs)


def catchment_of(topo: Topology, policy: bool = True) -> Dict[str, Optional[str]]:
    """Each client's site in a topology (None: no route, or a tie), by path reasoning."""
    routing = routing_of(topo, policy)
    return {c.name: routing.site_of(c.as_) for c in topo.clients}


def missing_routes(summary: Summary, topo: Topology) -> Optional[Dict[str, Set[str]]]:
    """Transit -> the clients whose ISP's prefix it had no route to, after convergence.

    From the run's policy check (``summary.json`` ``policy``, phase
    ``converged``, ``no_route``); a client's prefix is its ISP's
    announcement in the plan.

    Returns:
        The sets, or None when the run recorded no check after convergence.
    """
    from testbed.topology.plan import make_plan

    check = next((p for p in summary.policy if p.phase == "converged"), None)
    if check is None:
        return None
    plan = make_plan(topo)
    prefix = {c.name: {str(n) for n in plan.routers[c.as_].networks} for c in topo.clients}
    transits = [r for a in topo.ases if a.role == "transit" for r in a.router_names()]
    return {
        t: {c for c, nets in prefix.items() if nets & set(check.no_route.get(t, []))}
        for t in transits
    }


def check(ctx: LabContext) -> List[CheckItem]:
    """Check a working copy of lab 6.

    Args:
        ctx: the working copy, the variant and the runner.

    Returns:
        The check items, in order.
    """
    v = ctx.variant
    clients = [c.name for c in v.clients]
    transits = [t.name for t in v.transits]
    site_names = [s.name for s in v.site.values()]
    links = [link_key(link) for link in v.policy_link_cases()]
    data, problem = ctx.read_answers("predictions.yaml")
    parsers = {
        "catchment": lambda x: answers.site_map(x, clients, site_names),
        "not_shortest": lambda x: answers.client_set(x, clients),
        "no_route": lambda x: answers.client_sets(x, transits, clients, "transit"),
        "if_link_down": lambda x: answers.client_sets(x, links, clients, "link"),
    }
    formats = {
        "catchment": "one line per client: CLIENT: SITE",
        "not_shortest": "a list of client names, [] for none",
        "no_route": "one line per transit: TRANSIT: [clients], [] for none",
        "if_link_down": "one line per link: LINK: [clients], [] for none",
    }
    predicted: Dict[str, Any] = {}
    out: List[CheckItem] = []
    for key in parsers:
        value, why = (None, problem) if problem else parsers[key](answers.lookup(data, key))
        predicted[key] = value
        out.append(
            item(
                f"predicted-{key.replace('_', '-')}",
                f"predictions.yaml: {key}",
                value is not None,
                why or "answered",
                formats[key],
            )
        )
    later = [
        (f"match-{key.replace('_', '-')}", f"{t}: prediction matches the run") for key, t in KEYS
    ]
    later.append(("if-link-down", "your predictions hold for the link failures the check drew"))
    if not all(i.passed for i in out):
        return out + skip_all([("run", "the testbed ran the lab's network")] + later)
    topo = starting_topology(ctx)
    drawn = drawn_links(v, ctx.keyring)
    scenario = lab_scenario("lab6-check", DURATION_S, timeline(drawn))
    summary, ran = run_item(
        ctx, topo, scenario, "the lab's network, then link failures", handout=True
    )
    out.append(ran)
    if summary is None:
        return out + skip_all(later)
    seen = sites_before(summary)
    wrong = answers.wrong_count(predicted["catchment"], seen, clients)
    right = of(len(clients) - wrong, len(clients), "right")
    out.append(
        item(
            *later[0],
            wrong == 0,
            right,
            HINT_CATCHMENT,
            expected={c: seen.get(c) for c in clients},
            actual=predicted["catchment"],
        )
    )
    shortest = catchment_of(topo, policy=False)
    elsewhere = {c for c in clients if seen.get(c) != shortest.get(c)}
    wrong = answers.wrong_count(predicted["not_shortest"], elsewhere, clients)
    right = of(len(clients) - wrong, len(clients), "right")
    out.append(
        item(
            *later[1],
            wrong == 0,
            right,
            HINT_SHORTEST,
            expected=elsewhere,
            actual=predicted["not_shortest"],
        )
    )
    out.append(no_route_item(summary, topo, transits, predicted["no_route"], later[2]))
    reasoned = {link_key(link): set(v.policy_changed_if_down(link)) for link in drawn}
    out.append(
        checktime.link_item(
            summary, drawn, 0, clients, reasoned, predicted["if_link_down"], later[3][1], HINT_LINK
        )
    )
    return out


def no_route_item(
    summary: Summary,
    topo: Topology,
    transits: List[str],
    predicted: Dict[str, Set[str]],
    id_title: Tuple[str, str],
) -> CheckItem:
    """The missing routes after convergence (the run's policy check) against the predictions."""
    measured = missing_routes(summary, topo)
    if measured is None:
        return item(*id_title, False, "the run has no policy check", HINT_TESTBED, testbed=True)
    good = sum(1 for t in transits if predicted[t] == measured.get(t, set()))
    return item(
        *id_title,
        good == len(transits),
        of(good, len(transits), "transits right"),
        HINT_NO_ROUTE,
        expected={t: measured.get(t, set()) for t in transits},
        actual=predicted,
    )
