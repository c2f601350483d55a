"""Lab 2, path selection: a backup site by AS-path prepending; MED across upstreams.

The student makes the variant's ``backup`` site a backup: every client must
reach ``primary`` while it is up and fail over to ``backup`` when it goes
down.  ``answers.yaml`` asks for the catchment before any policy, the
clients a MED on the backup would leave on it (all of its catchment: MED is
only compared between routes from the same neighbouring AS), and the fewest
prepends that do the job.  The checker computes these from the variant and
runs the student's topology with the primary failing.
"""

from __future__ import annotations

from typing import List

from testbed.labs import answers
from testbed.labs.common import (
    announced_prepend,
    internet_item,
    names,
    run_item,
    site_item,
    skip_all,
    topology_item,
)
from testbed.labs.items import CheckItem, item
from testbed.labs.runner import LabContext, lab_scenario, sites_after_event, sites_before

HINT_PREPEND = (
    "prepending makes the backup's AS path longer; it must be longer than the primary's "
    "path for every client, even the one right next to the backup (a tie is not enough)"
)
HINT_BEFORE = "with no policy, each client takes the shortest AS path: count the ASes"
HINT_MED = (
    "BGP compares MED only between routes learned from the same neighbouring AS, and only "
    "after AS-path length; where do the two sites' routes enter each transit?"
)
HINT_MIN = "the worst case is the client closest to the backup: compare its two path lengths"


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
        if all(i.passed for i in out):
            extra = announced_prepend(topo, backup.name) - announced_prepend(topo, primary.name)
            need = v.params["min_prepend"]
            out.append(
                item(
                    "backup-prepend",
                    f"{backup.name}'s path is longer than {primary.name}'s for every client",
                    extra >= need,
                    f"{backup.name} prepends {extra} more than {primary.name}",
                    HINT_PREPEND,
                )
            )
    structure_ok = len(out) == 5 and all(i.passed for i in out)
    out += answer_items(ctx)
    later = [
        ("primary-serves", f"every client reaches {primary.name}"),
        ("failover", f"every client fails over to {backup.name} when {primary.name} fails"),
    ]
    if topo is None or not structure_ok:
        return out + skip_all([("run", "the testbed ran your topology")] + later)
    timeline = [{"at": 3, "event": "fail_site", "site": primary.name, "how": "link-down"}]
    summary, ran = run_item(ctx, topo, lab_scenario("lab2-check", 7, timeline), "your topology")
    out.append(ran)
    if summary is None:
        return out + skip_all(later)
    before, after = sites_before(summary), sites_after_event(summary, 0)
    elsewhere = [c for c in clients if before.get(c) != primary.name]
    out.append(
        item(
            "primary-serves",
            later[0][1],
            not elsewhere,
            f"{len(clients) - len(elsewhere)}/{len(clients)} on {primary.name}"
            + (f" (elsewhere: {names(elsewhere)})" if elsewhere else ""),
            HINT_PREPEND,
        )
    )
    stranded = [c for c in clients if after.get(c) != backup.name]
    out.append(
        item(
            "failover",
            later[1][1],
            not stranded,
            f"{len(clients) - len(stranded)}/{len(clients)} on {backup.name} after the failure"
            + (f" (not: {names(stranded)})" if stranded else ""),
            "a backup must still be announced: prepending keeps the route, a withdrawal does not",
        )
    )
    return out


def answer_items(ctx: LabContext) -> List[CheckItem]:
    """The items of ``answers.yaml`` (pure: no network needed).

    Args:
        ctx: the lab context.

    Returns:
        Three items: the catchment before, the MED question, the fewest prepends.
    """
    v = ctx.variant
    backup = v.site["backup"]
    clients = [c.name for c in v.clients]
    sites = [s.name for s in v.site.values()]
    base = v.catchment()
    data, problem = answers.read_answers(ctx.workdir / "answers.yaml")
    out = []
    before, why = (
        (None, problem) if problem else answers.site_map(data.get("before"), clients, sites)
    )
    wrong = answers.wrong_count(before, base, clients) if before is not None else None
    out.append(
        item(
            "answer-before",
            "answers.yaml: each client's site with no policy",
            wrong == 0,
            why or f"{len(clients) - (wrong or 0)}/{len(clients)} right",
            HINT_BEFORE,
        )
    )
    med, why = (
        (None, problem) if problem else answers.client_set(data.get("med_backup_clients"), clients)
    )
    on_backup = {c for c, s in base.items() if s == backup.name}
    out.append(
        item(
            "answer-med",
            f"answers.yaml: who stays on {backup.name} with med: {v.params['med']} on it",
            med is not None and med == on_backup,
            why or ("right" if med == on_backup else "not what BGP does"),
            HINT_MED,
        )
    )
    count, why = (None, problem) if problem else answers.number(data.get("min_prepend"), 0, 10)
    right = count is not None and int(count) == v.params["min_prepend"]
    out.append(
        item(
            "answer-prepend",
            "answers.yaml: the fewest prepends that make a backup",
            right,
            why or ("right" if right else f"{count:g} is not the fewest that works"),
            HINT_MIN,
        )
    )
    return out
