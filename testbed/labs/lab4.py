"""Lab 4, health checks: turn a blackhole into a clean withdrawal.

When the variant's failing site's servers die, its route stays announced and
its clients lose service without moving (a blackhole).  The student gives
the site a health agent (a ``health:`` block on the site in
``topology.yaml``, or the scenario's ``health:``) that withdraws the route
after a few failed checks, and answers in ``answers.yaml`` who is
blackholed without it and how long the agent takes with their settings.
The checker kills the site's services with the student's settings.
"""

from __future__ import annotations

from typing import List, Optional

from testbed.labs import answers
from testbed.labs.common import (
    find_site,
    internet_item,
    names,
    run_item,
    scenario_topology_item,
    site_item,
    skip_all,
)
from testbed.labs.items import CheckItem, item
from testbed.labs.runner import (
    LabContext,
    lab_scenario,
    max_outage_in,
    resets_in,
    sites_after_event,
    window,
)
from testbed.topology.model import Topology

#: The outage the failing site's clients may see, in seconds.
TARGET_S = 3.0
HINT_HEALTH = (
    "BGP only knows whether the router is alive, not the service behind it; something "
    "must test the service and stop the announcement when it fails"
)


def check(ctx: LabContext) -> List[CheckItem]:
    """Check a working copy of lab 4.

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
        health = find_site(topo, fails.name).health
        ok = health is not None and health.action == "withdraw"
        detail = "no health agent" if health is None else f"action: {health.action}"
        out.append(
            item(
                "health",
                f"a health agent withdraws {fails.name}'s route when its service dies",
                ok,
                detail,
                HINT_HEALTH
                if health is None
                else "a demoted route still attracts the clients that have no other path "
                "as good: only a withdrawal sends every client elsewhere",
            )
        )
    structure_ok = len(out) == 5 and all(i.passed for i in out)
    out += answer_items(ctx, topo if structure_ok else None)
    later = [
        ("moved", f"{fails.name}'s clients move to {other.name} when its servers die"),
        ("outage", f"their outage stays under {TARGET_S:g} s"),
        ("others", "the other clients notice nothing"),
    ]
    if not structure_ok:
        return out + skip_all([("run", "the testbed ran the servers' death")] + later)
    timeline = [
        {"at": 3, "event": "kill_service", "site": fails.name, "service": "all"},
        {"at": 9, "event": "restore", "site": fails.name},
    ]
    summary, ran = run_item(
        ctx, topo, lab_scenario("lab4-check", 12, timeline), "the servers' death on your settings"
    )
    out.append(ran)
    if summary is None:
        return out + skip_all(later)
    base = v.catchment()
    theirs = [c for c, s in base.items() if s == fails.name]
    others = [c for c in base if c not in theirs]
    after = sites_after_event(summary, 0)
    stuck = [c for c in theirs if after.get(c) != other.name]
    out.append(
        item(
            "moved",
            later[0][1],
            not stuck,
            f"moved: {names(c for c in theirs if c not in stuck)}"
            + (f"; did not: {names(stuck)}" if stuck else ""),
            HINT_HEALTH,
        )
    )
    start, end = window(summary, 0)
    worst = max((max_outage_in(summary, c, start - 1.0, end) for c in theirs), default=0.0)
    out.append(
        item(
            "outage",
            later[1][1],
            worst < TARGET_S,
            f"worst outage {worst:.2f} s",
            "the outage is the agent's detection time (interval x fall) plus BGP convergence",
        )
    )
    hurt = [
        c
        for c in others
        if max_outage_in(summary, c, -1e9, 1e9) >= 0.5 or resets_in(summary, -1e9, 1e9).get(c)
    ]
    out.append(
        item(
            "others",
            later[2][1],
            not hurt,
            f"disturbed: {names(hurt)}",
            "clients of another site should see no change: did the policy touch their routes?",
        )
    )
    return out


def answer_items(ctx: LabContext, topo: Optional[Topology]) -> List[CheckItem]:
    """The items of ``answers.yaml`` (pure: no network needed).

    Args:
        ctx: the lab context.
        topo: the effective topology (for the timing question), or None.

    Returns:
        Two items: the blackholed clients, the agent's worst-case reaction time.
    """
    v = ctx.variant
    fails = v.site[v.params["fails"]]
    clients = [c.name for c in v.clients]
    data, problem = answers.read_answers(ctx.workdir / "answers.yaml")
    out = []
    black, why = (
        (None, problem) if problem else answers.client_set(data.get("blackholed_clients"), clients)
    )
    want = {c for c, s in v.catchment().items() if s == fails.name}
    out.append(
        item(
            "answer-blackholed",
            f"answers.yaml: who loses service when {fails.name}'s servers die (no agent)",
            black is not None and black == want,
            why or ("right" if black == want else "not what happens"),
            "a route that stays announced keeps its catchment, working servers or not",
        )
    )
    secs, why = (None, problem) if problem else answers.number(data.get("withdraw_after_s"), 0, 600)
    health = find_site(topo, fails.name).health if topo is not None else None
    ok = False
    if secs is not None and health is not None:
        worst = health.interval * health.fall + health.timeout
        ok = health.interval * (health.fall - 1) <= secs <= worst + 1e-6
    detail = why or (
        f"{secs:g} s"
        if ok
        else "no health agent yet"
        if health is None
        else f"{secs:g} s does not fit"
    )
    out.append(
        item(
            "answer-timing",
            "answers.yaml: at most how long until your agent withdraws the route",
            ok,
            detail,
            "the agent needs `fall` failed rounds in a row, one round every `interval`, "
            "and a check fails after `timeout`",
        )
    )
    return out
