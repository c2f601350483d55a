"""Lab 2, path selection: a backup site by AS-path prepending; MED across upstreams.

The student makes the variant's ``backup`` site a backup: every client must
reach ``primary`` while it is up and fail over to ``backup`` when it goes
down.  ``answers.yaml`` asks for the catchment before any policy, the
clients a MED on the backup would leave on it (all of its catchment: MED is
only compared between routes from the same neighbouring AS), and the fewest
prepends that do the job.  The checker runs the student's topology with the
primary failing (the hand-out's ``scenario.yaml`` is the same run, a little
longer); the prepend and the answers are graded only together with that run
(an instant verdict would be an oracle to try numbers against), and details
give counts, never client names.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from testbed.labs import answers
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
#: When the check's run fails the primary, and how long it lasts (seconds).
FAIL_AT_S, DURATION_S = 3, 7


def timeline(v: Variant) -> List[Dict[str, Any]]:
    """The check's events (the hand-out's scenario.yaml has the same, later in time)."""
    return [{"at": FAIL_AT_S, "event": "fail_site", "site": v.site["primary"].name,
             "how": "link-down"}]  # fmt: skip


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
    ]
    if topo is None or not all(i.passed for i in out):
        return out + skip_all([("run", "the testbed ran your topology")] + later)
    summary, ran = run_item(
        ctx, topo, lab_scenario("lab2-check", DURATION_S, timeline(v)), "your topology"
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
    return out + answer_items(ctx, given, titles)


def read(ctx: LabContext) -> Tuple[Dict[str, Any], Optional[str]]:
    """``answers.yaml`` parsed: ({key: value}, the first problem or None)."""
    v = ctx.variant
    clients = [c.name for c in v.clients]
    sites = [s.name for s in v.site.values()]
    return answers.parse_read(
        ctx.read_answers("answers.yaml"),
        {
            "before": lambda x: answers.site_map(x, clients, sites),
            "med_backup_clients": lambda x: answers.client_set(x, clients),
            "min_prepend": lambda x: answers.integer(x, 0, 10),
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
