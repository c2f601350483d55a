"""Lab 1, anycast basics: a second site, each client's site predicted and verified.

The student adds the variant's second site behind its transit and predicts,
in ``predictions.yaml``, which site each client reaches, and, for every link
between two transits, which clients change site while that link is down
(they reach the other site, or none at all).  The checker runs the topology
with traffic (the DNS probes read each answer's NSID, as ``dig +nsid``
does): first with every link up, then with :data:`DRAWN` of those links
failing one after the other -- links the check draws when it runs
(:mod:`testbed.labs.checktime`) among those whose failure moves someone, so
a student cannot run the check's case first and copy what it showed.  The
hand-out's ``scenario.yaml`` is the first part of that run.

Predictions are graded only with that run; the details say right or
wrong, never which clients or how many.  A link failure whose outcome
contradicts the path reasoning is the testbed's failure, not the student's.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Tuple

from testbed.analysis.model import Summary
from testbed.labs import answers, checktime
from testbed.labs.checktime import draw_cases, link_events, link_key
from testbed.labs.common import internet_item, of, run_item, site_item, skip_all, topology_item
from testbed.labs.items import CheckItem, item
from testbed.labs.runner import LabContext, lab_scenario, sites_before
from testbed.labs.variant import Variant

HINT_PREDICT = (
    "BGP prefers the shortest AS path: count the ASes from each client's ISP to each "
    "site; every router only passes on its own best route"
)


HINT_LINK = (
    "while a link is down no route crosses it: count the AS hops again on what is left "
    "(a client whose ISP is cut off from both sites reaches none)"
)

#: Link failures the check draws and runs, one after the other.
DRAWN = 2
#: Each drawn link goes down at these times (s) and comes back this long after.
DOWN_AT_S, DOWN_FOR_S = (3.0, 11.0), 3.0
#: How long the check's run lasts (s): the clients are back before the next failure.
DURATION_S = 16


def drawn_links(v: Variant, keyring: Any = None) -> List[Tuple[str, str]]:
    """The link failures this check runs (:data:`DRAWN` of those that move someone)."""
    return draw_cases(v, "lab1 links", v.moving_cases(), DRAWN, keyring)


def timeline(links: List[Tuple[str, str]]) -> List[Dict[str, Any]]:
    """The check's events: each drawn link down, then up again."""
    return link_events(links, DOWN_AT_S, DOWN_FOR_S)


def check(ctx: LabContext) -> List[CheckItem]:
    """Check a working copy of lab 1.

    Args:
        ctx: the working copy, the variant and the runner.

    Returns:
        The check items, in order.
    """
    v = ctx.variant
    clients = [c.name for c in v.clients]
    site_names = [s.name for s in v.site.values()]
    out: List[CheckItem] = []
    topo, first = topology_item(ctx)
    out.append(first)
    if topo is not None:
        out.append(internet_item(ctx, topo))
        out.append(site_item(ctx, topo, "first", "first-site"))
        out.append(site_item(ctx, topo, "second", "second-site"))
    predicted, if_down, why = read(ctx)
    out.append(
        item(
            "predictions-complete",
            "predictions.yaml gives a site for every client, and who changes site for every link",
            why is None,
            why or "ok",
            "write one line per client (CLIENT: SITE) and one list per link (LINK: [CLIENT, ...])",
        )
    )
    later = [
        ("served", "every client reaches the anycast address"),
        ("predictions", "your predictions match what the clients see"),
        ("if-link-down", "your predictions hold for the link failures the check drew"),
    ]
    if topo is None or not all(i.passed for i in out):
        return out + skip_all([("run", "the testbed ran your topology")] + later)
    links = drawn_links(v, ctx.keyring)
    scenario = lab_scenario("lab1-check", DURATION_S, timeline(links))
    summary, ran = run_item(ctx, topo, scenario, "your topology, then link failures")
    out.append(ran)
    if summary is None:
        return out + skip_all(later)
    seen = sites_before(summary)
    served = [c for c in clients if seen.get(c) in site_names]
    idle = [s for s in site_names if not any(seen.get(c) == s for c in clients)]
    # No count per site: with two sites it would give the predictions away.
    problems = []
    if len(served) < len(clients):
        problems.append("a client reached no site")
    if idle:
        problems.append("a site served no client")
    out.append(
        item(
            "served",
            later[0][1],
            not problems,
            "; ".join(problems) or "every client reached a site, and every site serves someone",
            "each site must serve someone: is the second site where TASK.md puts it?",
            actual={c: seen.get(c) for c in clients},
        )
    )
    wrong = answers.wrong_count(predicted or {}, seen, clients)  # complete: the run needs it
    out.append(
        item(
            "predictions",
            later[1][1],
            wrong == 0,
            of(len(clients) - wrong, len(clients), "right"),
            HINT_PREDICT,
            expected={c: seen.get(c) for c in clients},
            actual=predicted,
        )
    )
    out.append(link_item(v, summary, links, if_down or {}, later[2][1]))
    return out


def link_item(
    v: Variant,
    summary: Summary,
    links: List[Tuple[str, str]],
    predicted: Dict[str, Set[str]],
    title: str,
) -> CheckItem:
    """The drawn link failures: who changed site, against the predictions and the reasoning."""
    clients = [c.name for c in v.clients]
    reasoned = {link_key(link): set(v.changed_if_down(link)) for link in links}
    return checktime.link_item(summary, links, 0, clients, reasoned, predicted, title, HINT_LINK)


def read(ctx: LabContext) -> Tuple[Optional[Dict[str, str]], Optional[Dict[str, Set[str]]], Any]:
    """``predictions.yaml``: (catchment, link -> clients that change site, the first problem)."""
    v = ctx.variant
    clients = [c.name for c in v.clients]
    data, problem = ctx.read_answers("predictions.yaml")
    if problem:
        return None, None, problem
    sites = [s.name for s in v.site.values()]
    predicted, why = answers.site_map(answers.lookup(data, "catchment"), clients, sites)
    if why:
        return None, None, f"catchment: {why}"
    keys = [link_key(link) for link in v.link_cases()]
    if_down, why = answers.client_sets(answers.lookup(data, "if_link_down"), keys, clients, "link")
    if why:
        return predicted, None, f"if_link_down: {why}"
    return predicted, if_down, None
