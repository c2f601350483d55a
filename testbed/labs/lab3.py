"""Lab 3, failover: link-down versus silent failure, and a BFD design within a budget.

The student measures the outage of the variant's failing site's clients when
the site's uplink goes down, predicts the outage of a silent failure (links
up, nothing answers: only the hold timer notices) from the hold time, and
designs BFD for the failing site's sessions: with the operator's detect
multiplier, the largest transmit interval whose silent failure stays within
the variant's outage budget.  Every BFD packet costs both routers work, so a
detection time that leaves more of the budget unused than the variant's
is too cautious (``slack_ms``), and one that leaves BGP less than it needs fails the run.

Graded against reasoning where the answer is a property of the variant (the
predicted silent outage, the largest interval); against the student's **own
runs** (the run folders in ``WORKDIR/runs/``) where it is a measurement (the
link-down outage: a copied ``answers.yaml`` fails); and against the check's
own run, which fails the site silently twice (a threshold is checked more
than once).  A run that contradicts the reasoning (the clients did not come
back between the two failures, or an outage shorter than BFD can detect) is
the testbed's failure, not the student's.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Tuple

from testbed.labs import answers
from testbed.labs.common import (
    complete_item,
    internet_item,
    of,
    run_item,
    scenario_topology_item,
    site_item,
    skip_all,
    uplink_neighbors,
)
from testbed.labs.items import CheckItem, item
from testbed.labs.runner import (
    LabContext,
    PastRun,
    lab_scenario,
    max_outage_in,
    past_runs,
    sites_after_event,
    sites_before,
    window,
)
from testbed.labs.variant import Variant

#: The keepalive (s) the lab's scenario runs with.
KEEPALIVE_S = 1
#: A predicted silent outage may exceed the hold time by this much (s): BGP's own time.
CONVERGE_S = 0.5
#: A stated outage matches a run's when within this (summary.json has ms; 10 ms rounding is fine).
MATCH_S = 0.011
#: The check's run: two silent failures of the failing site (fail, restore, fail,
#: restore) and its length (seconds); the clients are back before the second.
FAILS_AT_S, RESTORES_AT_S, DURATION_S = (3, 11), (6, 14), 17
HINT_BFD = (
    "a silent peer is only noticed when a timer expires; BGP's hold time is at least 3 s, "
    "a protocol built to detect dead neighbours in milliseconds is not"
)
HINT_MULTIPLIER = (
    "the operator's detect multiplier (TASK.md) is how many packets in a row may be lost "
    "before a session goes down; keep it and design the interval"
)
HINT_CAUTIOUS = (
    "every BFD packet costs both routers work: the detection time (RFC 5880 section 6.8.4) "
    "should use the budget, leaving BGP only what it needs to withdraw and converge"
)
HINT_FAST = (
    "BFD detection time depends on the transmit interval and the detect multiplier "
    "(RFC 5880 section 6.8.4); after detection BGP still withdraws and the other routers "
    "converge: leave room for both"
)
HINT_LINK_DOWN = (
    "state what one of your own link-down runs measured: the longest DNS outage of the "
    "failing site's clients (max_outage_s in runs/*/summary.json, or report.md); carrier "
    "loss ends the directly connected BGP session at once"
)
HINT_SILENT = (
    "a silent neighbour is declared dead when the hold timer expires, counted from the "
    "last keepalive received; then BGP withdraws and converges"
)
HINT_INTERVAL = (
    "the detection time is interval x multiplier (RFC 5880 section 6.8.4); the budget "
    "must also hold what BGP needs after detection (TASK.md)"
)
HINT_RERUN = "the run contradicts how BGP and BFD work here: check again"


def largest_interval_ms(v: Variant) -> int:
    """The largest BFD interval (ms) whose silent failure fits the variant's budget."""
    return int((v.params["budget_ms"] - v.params["reserve_ms"]) // v.params["multiplier"])


def silent_window(hold: float) -> Tuple[float, float]:
    """The outage (s) a silent failure without BFD causes: [earliest, latest].

    The hold timer runs from the last keepalive received (up to one keepalive
    before the failure); BGP then withdraws and converges.
    """
    return hold - KEEPALIVE_S, hold + CONVERGE_S


def check(ctx: LabContext) -> List[CheckItem]:
    """Check a working copy of lab 3.

    Args:
        ctx: the working copy, the variant and the runner.

    Returns:
        The check items, in order.
    """
    v = ctx.variant
    fails = v.site[v.params["fails"]]
    other = next(s for r, s in v.site.items() if r != v.params["fails"])
    budget_s = v.params["budget_ms"] / 1000
    out: List[CheckItem] = []
    _scenario, topo, first = scenario_topology_item(ctx)
    out.append(first)
    if topo is not None:
        out.append(internet_item(ctx, topo))
        out.append(site_item(ctx, topo, "a", "site-a"))
        out.append(site_item(ctx, topo, "b", "site-b"))
    if topo is not None and all(i.passed for i in out):
        out += design_items(v, topo)
    given, problem = read(ctx)
    out.append(complete_item("answers-complete", "answers.yaml", problem))
    later = [
        ("moved", f"{fails.name}'s clients fail over to {other.name}, both times"),
        (
            "budget",
            f"a silent failure of {fails.name} costs its clients < {budget_s:g} s, both times",
        ),
        ("answer-link-down", "answers.yaml: outage when the uplink goes down, as you measured it"),
        (
            "answer-silent",
            f"answers.yaml: predicted outage of a silent failure with hold {v.params['hold']} s "
            "and no BFD",
        ),
        ("answer-interval", "answers.yaml: the largest BFD interval your budget allows"),
    ]
    if topo is None or len(out) < 8 or not all(i.passed for i in out):
        return out + skip_all([("run", "the testbed ran two silent failures")] + later)
    timeline: List[Dict[str, Any]] = []
    for fail_at, restore_at in zip(FAILS_AT_S, RESTORES_AT_S, strict=True):
        timeline.append({"at": fail_at, "event": "fail_site", "site": fails.name, "how": "silent"})
        timeline.append({"at": restore_at, "event": "restore", "site": fails.name})
    summary, ran = run_item(
        ctx,
        topo,
        lab_scenario("lab3-check", DURATION_S, timeline),
        "two silent failures on your settings",
    )
    out.append(ran)
    if summary is None:
        return out + skip_all(later)
    titles = dict(later)
    out += run_items(v, topo, summary, titles)
    return out + answer_items(ctx, given, titles)


def design_items(v: Variant, topo: Any) -> List[CheckItem]:
    """BFD on the failing site's sessions, the operator's multiplier, an interval not too small."""
    fails = v.site[v.params["fails"]].name
    ups = uplink_neighbors(topo, fails)
    on = [n for n in ups if n.bfd]
    out = [
        item(
            "bfd",
            f"BFD watches {fails}'s BGP session",
            bool(ups) and len(on) == len(ups),
            of(len(on), len(ups), "uplink session(s) with BFD"),
            HINT_BFD,
        )
    ]
    want = v.params["multiplier"]
    if not out[0].passed:
        return out + skip_all(
            [
                ("bfd-multiplier", f"BFD keeps the operator's detect multiplier ({want})"),
                ("bfd-not-too-cautious", "BFD's detection time uses the budget"),
            ]
        )
    multipliers = sorted({n.bfd_multiplier for n in on})
    out.append(
        item(
            "bfd-multiplier",
            f"BFD keeps the operator's detect multiplier ({want})",
            multipliers == [want],
            f"multiplier {', '.join(map(str, multipliers))}",
            HINT_MULTIPLIER,
            expected=want,
            actual=multipliers,
        )
    )
    detection = min(n.bfd_interval * n.bfd_multiplier for n in on)
    slack = v.params["slack_ms"]
    floor = v.params["budget_ms"] - slack
    out.append(
        item(
            "bfd-not-too-cautious",
            f"BFD's detection time uses the budget (leaves at most {slack} ms of it unused)",
            detection >= floor,
            f"detection {detection:g} ms of a {v.params['budget_ms']} ms budget",
            HINT_CAUTIOUS,
            expected=f">= {floor}",
            actual=detection,
        )
    )
    return out


def run_items(v: Variant, topo: Any, summary: Any, titles: Dict[str, str]) -> List[CheckItem]:
    """The check run's two silent failures: everybody moved, each outage within budget."""
    fails = v.site[v.params["fails"]]
    other = next(s for r, s in v.site.items() if r != v.params["fails"])
    theirs = catchment_of(v, fails.name)
    base = sites_before(summary)
    failures = range(0, 2 * len(FAILS_AT_S), 2)
    moved = [sum(1 for c in theirs if sites_after_event(summary, i).get(c) == other.name)
             for i in failures]  # fmt: skip
    back = sites_after_event(summary, 1)
    came_back = all(back.get(c) == base.get(c) for c in theirs)
    worst = []
    for i in failures:
        start, end = window(summary, i)
        worst.append(max((max_outage_in(summary, c, start - 1.0, end) for c in theirs), default=0))
    on = [n for n in uplink_neighbors(topo, fails.name) if n.bfd]
    # BFD counts its multiplier from the last packet it received, up to one interval
    # before the failure: no outage can be shorter than (multiplier - 1) x interval
    earliest_s = min((n.bfd_multiplier - 1) * n.bfd_interval for n in on) / 1000
    # a move every time, back in between, no outage shorter than that: else the testbed
    odd = not came_back or any(0 < w < earliest_s - 0.05 for w in worst)
    all_moved = all(m == len(theirs) for m in moved)
    budget_s = v.params["budget_ms"] / 1000
    return [
        item(
            "moved",
            titles["moved"],
            all_moved and came_back,
            ", ".join(of(m, len(theirs), "moved") for m in moved)
            + ("" if came_back else "; they did not come back in between"),
            HINT_BFD if came_back else HINT_RERUN,
            testbed=not came_back,
        ),
        item(
            "budget",
            titles["budget"],
            all(w < budget_s for w in worst) and not odd,
            "worst outage " + ", ".join(f"{w:.2f} s" for w in worst) + f" (budget {budget_s:g} s)",
            HINT_RERUN if odd else HINT_FAST,
            testbed=odd,
            expected=f"< {budget_s:g}",
            actual=[round(w, 3) for w in worst],
        ),
    ]


def read(ctx: LabContext) -> Tuple[Dict[str, Any], Optional[str]]:
    """``answers.yaml`` parsed: ({key: number}, the first problem or None)."""
    return answers.parse_read(
        ctx.read_answers("answers.yaml"),
        {
            "outage_link_down_s": lambda x: answers.number(x, 0, 600),
            "predicted_outage_silent_s": lambda x: answers.number(x, 0, 600),
            "largest_interval_ms": lambda x: answers.number(x, 1, 1e6),
        },
    )


def catchment_of(v: Variant, site: str) -> List[str]:
    """The clients a site serves when both sites are up."""
    return [c for c, s in v.catchment().items() if s == site]


def run_failure(v: Variant, run: PastRun) -> Optional[Tuple[str, Set[float]]]:
    """What one of the student's runs measured, if it is a run of their variant's failure.

    Args:
        v: the variant.
        run: a run folder of the working copy.

    Returns:
        (``link-down`` or ``silent``, the figures a student may have read: the
        longest outage of the failing site's clients after the failure, and
        the largest ``max_outage_s`` among them), or None when the run is not
        one of this variant's sites failing (another variant's run, another
        lab, or no failure of that site).
    """
    fails = v.site[v.params["fails"]]
    sites = {(s.name, tuple(s.upstreams())) for s in run.topology.sites}
    if sites != {(s.name, (s.upstream,)) for s in v.site.values()}:
        return None
    events = run.summary.events
    index = next(
        (
            i
            for i, e in enumerate(events)
            if e.kind == "fail_site" and e.params.get("site") == fails.name
        ),
        None,
    )
    theirs = catchment_of(v, fails.name)
    figures = run.summary.clients
    if index is None or not all(c in figures for c in theirs):
        return None
    how = events[index].params.get("how", "link-down")
    start, end = window(run.summary, index)
    in_window = max(max_outage_in(run.summary, c, start - 1.0, end) for c in theirs)
    whole = max(float(figures[c].dns.max_outage_s) for c in theirs)
    return str(how), {round(in_window, 3), round(whole, 3)}


def own_figures(ctx: LabContext, how: str) -> List[Tuple[str, Set[float]]]:
    """(run folder name, figures) of the student's runs of ``how`` failures."""
    out = []
    for run in past_runs(ctx.workdir / "runs", ctx.keyring):
        found = run_failure(ctx.variant, run)
        if found is not None and found[0] == how:
            out.append((run.path.name, found[1]))
    return out


def figure_item(
    ctx: LabContext, id_: str, title: str, how: str, stated: float, hint: str
) -> CheckItem:
    """A measured figure of ``answers.yaml`` against the student's own runs of ``how``."""
    runs = own_figures(ctx, how)
    match = next(
        (name for name, figs in runs if any(abs(stated - f) <= MATCH_S for f in figs)), None
    )
    fails = ctx.variant.site[ctx.variant.params["fails"]].name
    if not runs:
        detail = (
            f"no {how} failure of {fails} for your sites in runs/ yet: run scenario.yaml "
            "with --out runs in your working copy (README, step 2)"
        )
    elif match is None:
        detail = f"{stated:g} s is not what your {len(runs)} {how} run(s) in runs/ measured"
    else:
        detail = f"{stated:g} s, as runs/{match} measured"
    expected = {name: sorted(figs) for name, figs in runs}
    return item(id_, title, match is not None, detail, hint, expected=expected, actual=stated)


def answer_items(ctx: LabContext, given: Dict[str, Any], titles: Dict[str, str]) -> List[CheckItem]:
    """The graded items of ``answers.yaml`` (only ever built after the check's run).

    Args:
        ctx: the lab context.
        given: the parsed answers (all present: ``answers-complete`` passed).
        titles: item id -> title.

    Returns:
        Three items: the link-down outage (against the student's own runs), the
        predicted silent outage and the largest interval (against reasoning).
    """
    v = ctx.variant
    low, high = silent_window(v.params["hold"])
    silent = given["predicted_outage_silent_s"]
    silent_ok = low <= silent <= high
    largest = largest_interval_ms(v)
    interval = given["largest_interval_ms"]
    interval_ok = abs(interval - largest) <= 1
    return [
        figure_item(
            ctx,
            "answer-link-down",
            titles["answer-link-down"],
            "link-down",
            given["outage_link_down_s"],
            HINT_LINK_DOWN,
        ),
        item(
            "answer-silent",
            titles["answer-silent"],
            silent_ok,
            f"{silent:g} s" + ("" if silent_ok else " is not what the hold timer gives"),
            HINT_SILENT,
            expected=[low, high],
            actual=silent,
        ),
        item(
            "answer-interval",
            titles["answer-interval"],
            interval_ok,
            f"{interval:g} ms" + ("" if interval_ok else " does not fit the budget as asked"),
            HINT_INTERVAL,
            expected=largest,
            actual=interval,
        ),
    ]
