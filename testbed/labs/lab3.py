"""Lab 3, failover: link-down versus silent failure, and BFD for a sub-second failover.

The student measures the outage of the variant's failing site's clients when
the site's uplink goes down and when the site goes silent (links up, nothing
answers: only the hold timer notices), writes both in ``answers.yaml``, then
enables BFD (topology ``bfd:`` block, per-session ``bfd: true``, or the
scenario's ``bfd:``) and tunes it so that a silent failure costs less than a
second.  The checker runs a silent failure with the student's settings.
"""

from __future__ import annotations

from typing import List

from testbed.labs import answers
from testbed.labs.common import (
    internet_item,
    names,
    run_item,
    scenario_topology_item,
    site_item,
    skip_all,
    uplink_neighbors,
)
from testbed.labs.items import CheckItem, item
from testbed.labs.runner import LabContext, lab_scenario, max_outage_in, sites_after_event, window

#: The outage a silent failure must stay under, in seconds.
TARGET_S = 1.0
HINT_BFD = (
    "a silent peer is only noticed when a timer expires; BGP's hold time is at least 3 s, "
    "a protocol built to detect dead neighbours in milliseconds is not"
)
HINT_FAST = (
    "detection time is interval x multiplier, then BGP withdraws and the others converge; "
    "leave room for both"
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
    if len(out) == 4 and all(i.passed for i in out):
        ups = uplink_neighbors(topo, fails.name)
        on = [n for n in ups if n.bfd]
        detect = max((n.bfd_interval * n.bfd_multiplier for n in on), default=0)
        out.append(
            item(
                "bfd",
                f"BFD watches {fails.name}'s BGP session",
                bool(ups) and len(on) == len(ups),
                f"BFD detection {detect} ms" if on else "BFD is off",
                HINT_BFD,
            )
        )
    structure_ok = len(out) == 5 and all(i.passed for i in out)
    out += answer_items(ctx, topo if structure_ok else None)
    moved_title = f"{fails.name}'s clients fail over to {other.name}"
    fast_title = f"a silent failure of {fails.name} costs its clients < {TARGET_S:g} s"
    later = [("moved", moved_title), ("sub-second", fast_title)]
    if not structure_ok:
        return out + skip_all([("run", "the testbed ran a silent failure")] + later)
    timeline = [
        {"at": 3, "event": "fail_site", "site": fails.name, "how": "silent"},
        {"at": 8, "event": "restore", "site": fails.name},
    ]
    summary, ran = run_item(
        ctx, topo, lab_scenario("lab3-check", 10, timeline), "a silent failure on your settings"
    )
    out.append(ran)
    if summary is None:
        return out + skip_all(later)
    theirs = [c for c, s in v.catchment().items() if s == fails.name]
    after = sites_after_event(summary, 0)
    stuck = [c for c in theirs if after.get(c) != other.name]
    out.append(
        item(
            "moved",
            moved_title,
            not stuck,
            f"moved: {names(c for c in theirs if c not in stuck)}"
            + (f"; did not: {names(stuck)}" if stuck else ""),
            HINT_BFD,
        )
    )
    start, end = window(summary, 0)
    worst = max((max_outage_in(summary, c, start - 1.0, end) for c in theirs), default=0.0)
    out.append(
        item("sub-second", fast_title, worst < TARGET_S, f"worst outage {worst:.2f} s", HINT_FAST)
    )
    return out


def answer_items(ctx: LabContext, topo: object) -> List[CheckItem]:
    """The items of ``answers.yaml`` (pure: no network needed).

    Args:
        ctx: the lab context.
        topo: the effective topology (for the BFD question), or None.

    Returns:
        Three items: link-down outage, silent outage with the handed-out hold
        time, BFD detection time with the student's settings.
    """
    v = ctx.variant
    hold = v.params["hold"]
    data, problem = answers.read_answers(ctx.workdir / "answers.yaml")
    out = []
    down, why = (
        (None, problem) if problem else answers.number(data.get("outage_link_down_s"), 0, 600)
    )
    ok = down is not None and down < TARGET_S
    out.append(
        item(
            "answer-link-down",
            "answers.yaml: outage when the uplink goes down",
            ok,
            why or (f"{down:g} s" if ok else f"{down:g} s is not what a link-down failure costs"),
            "carrier loss ends the directly connected BGP session at once; measure with "
            "max_outage_s in the run's summary.json",
        )
    )
    silent, why = (
        (None, problem) if problem else answers.number(data.get("outage_silent_s"), 0, 600)
    )
    ok = silent is not None and hold - 1.5 <= silent <= hold + 1.0
    out.append(
        item(
            "answer-silent",
            f"answers.yaml: outage of a silent failure with hold {hold} s and no BFD",
            ok,
            why or (f"{silent:g} s" if ok else f"{silent:g} s does not fit the hold time"),
            "a silent neighbour is declared dead when the hold timer expires, counted from "
            "the last keepalive received",
        )
    )
    ms, why = (None, problem) if problem else answers.number(data.get("bfd_detection_ms"), 0, 1e7)
    want = None
    if topo is not None:
        on = [n for n in uplink_neighbors(topo, v.site[v.params["fails"]].name) if n.bfd]
        want = max((n.bfd_interval * n.bfd_multiplier for n in on), default=None)
    ok = ms is not None and want is not None and abs(ms - want) < 0.5
    detail = why or (
        f"{ms:g} ms" if ok else "BFD is not on yet" if want is None else f"{ms:g} ms does not fit"
    )
    out.append(
        item(
            "answer-bfd",
            "answers.yaml: BFD detection time with your settings",
            ok,
            detail,
            "BFD declares a neighbour down after `multiplier` missed packets, one per interval",
        )
    )
    return out
