"""Lab 1, anycast basics: a second site, and each client's site predicted and verified.

The student adds the variant's second site behind its transit and predicts,
in ``predictions.yaml``, which site each client reaches.  The checker runs
the topology with traffic for a few seconds (the DNS probes read each
answer's NSID, as ``dig +nsid`` does; the hand-out's ``scenario.yaml`` is
the same run) and compares.  Predictions are graded only with that run, and
the detail gives how many are right, never which.
"""

from __future__ import annotations

from typing import Any, Dict, List

from testbed.labs import answers
from testbed.labs.common import internet_item, of, run_item, site_item, skip_all, topology_item
from testbed.labs.items import CheckItem, item
from testbed.labs.runner import LabContext, lab_scenario, sites_before
from testbed.labs.variant import Variant

HINT_PREDICT = (
    "BGP prefers the shortest AS path: count the ASes from each client's ISP to each "
    "site; every router only passes on its own best route"
)


#: How long the check's run lasts (the hand-out's scenario.yaml: the same, a little longer).
DURATION_S = 3


def timeline(_v: Variant) -> List[Dict[str, Any]]:
    """The check's events: none (the hand-out's scenario.yaml has none either)."""
    return []


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
    data, problem = ctx.read_answers("predictions.yaml")
    predicted, why = (
        (None, problem)
        if problem
        else answers.site_map(answers.lookup(data, "catchment"), clients, site_names)
    )
    out.append(
        item(
            "predictions-complete",
            "predictions.yaml gives a site for every client",
            predicted is not None,
            why or "ok",
            "write one line per client: CLIENT: SITE",
        )
    )
    later = [
        ("served", "every client reaches the anycast address"),
        ("predictions", "your predictions match what the clients see"),
    ]
    if topo is None or not all(i.passed for i in out):
        return out + skip_all([("run", "the testbed ran your topology")] + later)
    scenario = lab_scenario("lab1-check", DURATION_S, timeline(v))
    summary, ran = run_item(ctx, topo, scenario, "your topology")
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
    return out
