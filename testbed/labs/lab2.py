"""Lab 2, path selection: a backup site by AS-path prepending; MED across upstreams.

The student makes the variant's ``backup`` site a backup: every client must
reach ``primary`` while it is up and fail over to ``backup`` when it goes
down.  ``answers.yaml`` asks for the catchment before any policy, the
clients a MED on the backup would leave on it (all of its catchment: MED is
only compared between routes from the same neighbouring AS), the fewest
prepends that do the job, and, for every link between two transits, which
clients change site while that link is down with those prepends in place
(they reach the backup, or no site at all).  The checker runs the student's
topology with the primary failing and coming back (the hand-out's
``scenario.yaml`` is the failure, a little later), then :data:`DRAWN` of
those links failing one after the other -- links the check draws when it
runs (:mod:`testbed.labs.checktime`) among those whose failure moves
someone, so a student cannot run the check's case first and copy what it
showed.  The prepend and the answers are graded only together with that run
(an instant verdict would be an oracle to try numbers against); details
give counts of the primary's clients, never client names, and the link
failures only right or wrong.  A drawn failure whose outcome contradicts the
path reasoning is the testbed's failure, not the student's.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Tuple

from testbed.analysis.model import Summary
from testbed.labs import answers, checktime
from testbed.labs.checktime import draw_cases, link_events, link_key
from testbed.labs.common import (
    announced_prepend,
    complete_item,
    internet_item,
    of,
    run_item,
    site_item,
    skip_all,
    topology_item,
)
from testbed.labs.items import CheckItem, item
from testbed.labs.runner import LabContext, lab_scenario, sites_after_event, sites_before
from testbed.labs.variant import Variant
from testbed.topology.model import Topology

HINT_PREPEND = (
    "prepending lengthens every path via the backup; BGP compares AS-path length before "
    "anything else you influence, and an equal length is a tie that the routers break by "
    "router ID, not by you (README: how BGP picks a path)"
)
HINT_BEFORE = "with no policy, each client takes the shortest AS path: count the ASes"
HINT_MED = (
    "BGP compares MED only between routes learned from the same neighbouring AS, and only "
    "after AS-path length; where do the two sites' routes enter each transit?"
)
HINT_MIN = (
    "find it in the network rather than by formula: bring the topology up with a few prepend "
    "counts and read `show ip bgp 192.0.2.0/24` on each transit; the fewest is the smallest "
    "count that leaves no transit preferring (or tying with) the backup's path"
)
HINT_FAILOVER = (
    "a backup must still be announced: prepending keeps the route, a withdrawal does not"
)
#: How the routers break a tie (TASK.md says the same).
TIES = (
    "Where two paths are equally short, the routers take the one from the neighbour with the "
    "lowest router ID: routers are numbered in the topology's order, the transits from left to "
    "right first, then the ISPs, then the sites."
)
HINT_LINK = (
    "with the backup's fewest prepends in place, while a link is down no route crosses it: "
    "count the AS hops to each site again on what is left, the backup's prepends included "
    "(a client whose ISP is cut off from both sites reaches none)"
)
HINT_LINK_PREPEND = (
    "the link failures are graded on a run with the fewest prepends in topology.yaml: the "
    "backup's path that much longer than the primary's, no more"
)
#: The link failures' detail when the student's topology does not prepend the fewest.
GRADED_WITH_FEWEST = "graded only on a run with the fewest prepends"
#: When the check's run fails the primary and restores it (s).
FAIL_AT_S, RESTORE_AT_S = 3.0, 7.0
#: Link failures the check draws and runs after the restore, one after the other.
DRAWN = 2
#: Each drawn link goes down at these times (s) and comes back this long after.
DOWN_AT_S, DOWN_FOR_S = (11.0, 19.0), 3.0
#: How long the check's run lasts (s): the clients are back before the next failure.
DURATION_S = 24
#: The timeline index of the first drawn link's ``down`` event.
FIRST_LINK = 2


def drawn_links(v: Variant, keyring: Any = None) -> List[Tuple[str, str]]:
    """The link failures this check runs (:data:`DRAWN` of those that move someone with the
    backup's fewest prepends in place)."""
    return draw_cases(v, "lab2 links", v.moving_cases(v.backup_prepend()), DRAWN, keyring)


def timeline(v: Variant, links: List[Tuple[str, str]]) -> List[Dict[str, Any]]:
    """The check's events: the primary fails and comes back, then each drawn link goes
    down and up again (the hand-out's scenario.yaml has the failure, later in time)."""
    primary = v.site["primary"].name
    return [
        {"at": FAIL_AT_S, "event": "fail_site", "site": primary, "how": "link-down"},
        {"at": RESTORE_AT_S, "event": "restore", "site": primary},
        *link_events(links, DOWN_AT_S, DOWN_FOR_S),
    ]


def check(ctx: LabContext) -> List[CheckItem]:
    """Check a working copy of lab 2.

    Args:
        ctx: the working copy, the variant and the runner.

    Returns:
        The check items, in order.
    """
    v = ctx.variant
    primary, backup = v.site["primary"], v.site["backup"]
    clients = [c.name for c in v.clients]
    out: List[CheckItem] = []
    topo, first = topology_item(ctx)
    out.append(first)
    if topo is not None:
        out.append(internet_item(ctx, topo))
        out.append(site_item(ctx, topo, "primary", "primary-site"))
        out.append(site_item(ctx, topo, "backup", "backup-site"))
    given, problem = read(ctx)
    out.append(complete_item("answers-complete", "answers.yaml", problem))
    later = [
        ("primary-serves", f"every client reaches {primary.name}"),
        ("failover", f"every client fails over to {backup.name} when {primary.name} fails"),
        (
            "backup-prepend",
            f"{backup.name}'s path is longer than {primary.name}'s for every client",
        ),
        ("answer-before", "answers.yaml: each client's site with no policy"),
        (
            "answer-med",
            f"answers.yaml: who stays on {backup.name} with med: {v.params['med']} on it",
        ),
        ("answer-prepend", "answers.yaml: the fewest prepends that make a backup"),
        ("if-link-down", "your predictions hold for the link failures the check drew"),
    ]
    if topo is None or not all(i.passed for i in out):
        return out + skip_all([("run", "the testbed ran your topology")] + later)
    links = drawn_links(v, ctx.keyring)
    scenario = lab_scenario("lab2-check", DURATION_S, timeline(v, links))
    summary, ran = run_item(
        ctx, topo, scenario, "your topology: the primary failing, then link failures"
    )
    out.append(ran)
    if summary is None:
        return out + skip_all(later)
    titles = dict(later)
    before, after = sites_before(summary), sites_after_event(summary, 0)
    on_primary = sum(1 for c in clients if before.get(c) == primary.name)
    out.append(
        item(
            "primary-serves",
            titles["primary-serves"],
            on_primary == len(clients),
            of(on_primary, len(clients), f"clients on {primary.name}"),
            HINT_PREPEND,
        )
    )
    moved = sum(1 for c in clients if after.get(c) == backup.name)
    out.append(
        item(
            "failover",
            titles["failover"],
            moved == len(clients),
            of(moved, len(clients), f"clients on {backup.name} after the failure"),
            HINT_FAILOVER,
        )
    )
    extra = announced_prepend(topo, backup.name) - announced_prepend(topo, primary.name)
    out.append(
        item(
            "backup-prepend",
            titles["backup-prepend"],
            extra >= v.params["min_prepend"],
            f"{backup.name} prepends {extra} more than {primary.name}",
            HINT_PREPEND,
            expected=f">= {v.params['min_prepend']}",
            actual=extra,
        )
    )
    out += answer_items(ctx, given, titles)
    out.append(link_item(ctx, topo, summary, links, given["if_link_down"], titles["if-link-down"]))
    return out


def link_item(
    ctx: LabContext,
    topo: Topology,
    summary: Summary,
    links: List[Tuple[str, str]],
    predicted: Dict[str, Set[str]],
    title: str,
) -> CheckItem:
    """The drawn link failures: who changed site, against the predictions and the reasoning.

    The run is reasoned about with the prepends the student's topology
    announces (a disagreement is the testbed's failure); the predictions,
    made with the backup's fewest prepends, are graded only on a run that
    has them (the backup's path exactly that much longer than the primary's).
    """
    v = ctx.variant
    clients = [c.name for c in v.clients]
    counts = {r: announced_prepend(topo, s.name) for r, s in v.site.items()}
    reasoned = {link_key(link): set(v.changed_if_down(link, counts)) for link in links}
    graded = checktime.link_item(
        summary, links, FIRST_LINK, clients, reasoned, predicted, title, HINT_LINK
    )
    if graded.testbed or counts["backup"] - counts["primary"] == v.params["min_prepend"]:
        return graded
    return item(
        "if-link-down",
        title,
        False,
        GRADED_WITH_FEWEST,
        HINT_LINK_PREPEND,
        expected=v.params["min_prepend"],
        actual=counts["backup"] - counts["primary"],
    )


def read(ctx: LabContext) -> Tuple[Dict[str, Any], Optional[str]]:
    """``answers.yaml`` parsed: ({key: value}, the first problem or None)."""
    v = ctx.variant
    clients = [c.name for c in v.clients]
    sites = [s.name for s in v.site.values()]
    links = [link_key(link) for link in v.link_cases(v.backup_prepend())]
    return answers.parse_read(
        ctx.read_answers("answers.yaml"),
        {
            "before": lambda x: answers.site_map(x, clients, sites),
            "med_backup_clients": lambda x: answers.client_set(x, clients),
            "min_prepend": lambda x: answers.integer(x, 0, 10),
            "if_link_down": lambda x: answers.client_sets(x, links, clients, "link"),
        },
    )


def answer_items(ctx: LabContext, given: Dict[str, Any], titles: Dict[str, str]) -> List[CheckItem]:
    """The graded items of ``answers.yaml`` (only ever built after the check's run).

    Args:
        ctx: the lab context.
        given: the parsed answers (all present: ``answers-complete`` passed).
        titles: item id -> title.

    Returns:
        Three items: the catchment before, the MED question, the fewest prepends.
    """
    v = ctx.variant
    clients = [c.name for c in v.clients]
    base = v.catchment()
    wrong = answers.wrong_count(given["before"], base, clients)
    on_backup = {c for c, s in base.items() if s == v.site["backup"].name}
    med_ok = given["med_backup_clients"] == on_backup
    count: Optional[int] = given["min_prepend"]
    count_ok = count == v.params["min_prepend"]
    return [
        item(
            "answer-before",
            titles["answer-before"],
            wrong == 0,
            of(len(clients) - wrong, len(clients), "right"),
            HINT_BEFORE,
            expected=base,
            actual=given["before"],
        ),
        item(
            "answer-med",
            titles["answer-med"],
            med_ok,
            "right" if med_ok else "not what BGP does",
            HINT_MED,
            expected=on_backup,
            actual=given["med_backup_clients"],
        ),
        item(
            "answer-prepend",
            titles["answer-prepend"],
            count_ok,
            "right" if count_ok else f"{count} is not the fewest that works",
            HINT_MIN,
            expected=v.params["min_prepend"],
            actual=count,
        ),
    ]
