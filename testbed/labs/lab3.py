"""Lab 3, failover: link-down versus silent failure, and BFD for a sub-second failover.

The student measures the outage of the variant's failing site's clients when
the site's uplink goes down and when the site goes silent (links up, nothing
answers: only the hold timer notices), writes both in ``answers.yaml``, then
enables BFD (topology ``bfd:`` block, per-session ``bfd: true``, or the
scenario's ``bfd:``) and tunes it so that a silent failure costs less than a
second.  The checker runs a silent failure with the student's settings.

The two outages are measurements, so they are checked against the
student's **own runs** (the run folders in ``WORKDIR/runs/``): a figure
passes when one of their runs of their variant (its sites, a link-down or a
silent failure of its failing site; for the silent one without BFD and with
the variant's hold time) measured it.  A copied ``answers.yaml`` fails: the
other student's figures are not what this student's runs measured.  Every
answer is graded only together with the check's own run.
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
    window,
)
from testbed.labs.variant import Variant

#: The outage a silent failure must stay under, in seconds.
TARGET_S = 1.0
#: A stated outage matches a run's when within this (summary.json has ms; 10 ms rounding is fine).
MATCH_S = 0.011
#: When the check's run fails the site, restores it, and how long it lasts (seconds).
FAIL_AT_S, RESTORE_AT_S, DURATION_S = 3, 8, 10
HINT_BFD = (
    "a silent peer is only noticed when a timer expires; BGP's hold time is at least 3 s, "
    "a protocol built to detect dead neighbours in milliseconds is not"
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
    "state what one of your own silent-failure runs (no BFD, the hold time of TASK.md) "
    "measured; a silent neighbour is declared dead when the hold timer expires, counted "
    "from the last keepalive received"
)
HINT_BFD_ANSWER = (
    "BFD detection time depends on the transmit interval and the detect multiplier you "
    "configured (RFC 5880 section 6.8.4; docs/topology.md, bfd)"
)


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
    out: List[CheckItem] = []
    _scenario, topo, first = scenario_topology_item(ctx)
    out.append(first)
    if topo is not None:
        out.append(internet_item(ctx, topo))
        out.append(site_item(ctx, topo, "a", "site-a"))
        out.append(site_item(ctx, topo, "b", "site-b"))
    if topo is not None and all(i.passed for i in out):
        ups = uplink_neighbors(topo, fails.name)
        on = [n for n in ups if n.bfd]
        out.append(
            item(
                "bfd",
                f"BFD watches {fails.name}'s BGP session",
                bool(ups) and len(on) == len(ups),
                of(len(on), len(ups), "uplink session(s) with BFD"),
                HINT_BFD,
            )
        )
    given, problem = read(ctx)
    out.append(complete_item("answers-complete", "answers.yaml", problem))
    later = [
        ("moved", f"{fails.name}'s clients fail over to {other.name}"),
        ("sub-second", f"a silent failure of {fails.name} costs its clients < {TARGET_S:g} s"),
        ("answer-link-down", "answers.yaml: outage when the uplink goes down, as you measured it"),
        (
            "answer-silent",
            f"answers.yaml: outage of a silent failure with hold {v.params['hold']} s and no "
            "BFD, as you measured it",
        ),
        ("answer-bfd", "answers.yaml: BFD detection time with your settings"),
    ]
    if topo is None or len(out) < 6 or not all(i.passed for i in out):
        return out + skip_all([("run", "the testbed ran a silent failure")] + later)
    timeline = [
        {"at": FAIL_AT_S, "event": "fail_site", "site": fails.name, "how": "silent"},
        {"at": RESTORE_AT_S, "event": "restore", "site": fails.name},
    ]
    summary, ran = run_item(
        ctx,
        topo,
        lab_scenario("lab3-check", DURATION_S, timeline),
        "a silent failure on your settings",
    )
    out.append(ran)
    if summary is None:
        return out + skip_all(later)
    titles = dict(later)
    theirs = catchment_of(v, fails.name)
    after = sites_after_event(summary, 0)
    moved = sum(1 for c in theirs if after.get(c) == other.name)
    out.append(
        item(
            "moved",
            titles["moved"],
            moved == len(theirs),
            of(moved, len(theirs), f"of {fails.name}'s clients moved"),
            HINT_BFD,
        )
    )
    start, end = window(summary, 0)
    worst = max((max_outage_in(summary, c, start - 1.0, end) for c in theirs), default=0.0)
    out.append(
        item(
            "sub-second",
            titles["sub-second"],
            worst < TARGET_S,
            f"worst outage {worst:.2f} s",
            HINT_FAST,
            expected=f"< {TARGET_S:g}",
            actual=round(worst, 3),
        )
    )
    return out + answer_items(ctx, topo, given, titles)


def read(ctx: LabContext) -> Tuple[Dict[str, Any], Optional[str]]:
    """``answers.yaml`` parsed: ({key: number}, the first problem or None)."""
    return answers.parse_read(
        ctx.read_answers("answers.yaml"),
        {
            "outage_link_down_s": lambda x: answers.number(x, 0, 600),
            "outage_silent_s": lambda x: answers.number(x, 0, 600),
            "bfd_detection_ms": lambda x: answers.number(x, 0, 1e7),
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
    """(run folder name, figures) of the student's runs of ``how`` failures that count.

    A silent failure only counts without BFD on the failing site's sessions
    and with the variant's hold time on them (what ``answers.yaml`` asks).
    """
    v = ctx.variant
    fails = v.site[v.params["fails"]].name
    out = []
    for run in past_runs(ctx.workdir / "runs", ctx.keyring):
        found = run_failure(v, run)
        if found is None or found[0] != how:
            continue
        if how == "silent":
            ups = uplink_neighbors(run.topology, fails)
            if any(n.bfd for n in ups) or any(n.timers.hold != v.params["hold"] for n in ups):
                continue
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
            "with --out runs in your working copy (README, steps 2-3)"
        )
    elif match is None:
        detail = f"{stated:g} s is not what your {len(runs)} {how} run(s) in runs/ measured"
    else:
        detail = f"{stated:g} s, as runs/{match} measured"
    expected = {name: sorted(figs) for name, figs in runs}
    return item(id_, title, match is not None, detail, hint, expected=expected, actual=stated)


def answer_items(
    ctx: LabContext, topo: Any, given: Dict[str, Any], titles: Dict[str, str]
) -> List[CheckItem]:
    """The graded items of ``answers.yaml`` (only ever built after the check's run).

    Args:
        ctx: the lab context.
        topo: the effective topology (for the BFD question).
        given: the parsed answers (all present: ``answers-complete`` passed).
        titles: item id -> title.

    Returns:
        Three items: link-down outage and silent outage (each against the
        student's own runs), BFD detection time with the student's settings.
    """
    v = ctx.variant
    on = [n for n in uplink_neighbors(topo, v.site[v.params["fails"]].name) if n.bfd]
    want = max((n.bfd_interval * n.bfd_multiplier for n in on), default=None)
    ms = given["bfd_detection_ms"]
    ok = want is not None and abs(ms - want) < 0.5
    return [
        figure_item(
            ctx,
            "answer-link-down",
            titles["answer-link-down"],
            "link-down",
            given["outage_link_down_s"],
            HINT_LINK_DOWN,
        ),
        figure_item(
            ctx,
            "answer-silent",
            titles["answer-silent"],
            "silent",
            given["outage_silent_s"],
            HINT_SILENT,
        ),
        item(
            "answer-bfd",
            titles["answer-bfd"],
            ok,
            f"{ms:g} ms" if ok else f"{ms:g} ms does not fit your BFD settings",
            HINT_BFD_ANSWER,
            expected=want,
            actual=ms,
        ),
    ]
