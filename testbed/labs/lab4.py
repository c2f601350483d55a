"""Lab 4, health checks: turn a blackhole into a clean withdrawal.

When the variant's failing site's servers die, its route stays announced and
its clients lose service without moving (a blackhole).  The student gives
the site a health agent (a ``health:`` block on the site in
``topology.yaml``, or the scenario's ``health:``) that withdraws the route
after a few failed checks, and answers in ``answers.yaml`` who is
blackholed without it and how long the agent takes with their settings.
The checker kills the site's services with the student's settings; the
answers are graded only together with that run, and details give counts,
never client names (who moves is who was blackholed).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from testbed.labs import answers
from testbed.labs.common import (
    complete_item,
    find_site,
    internet_item,
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
#: When the check's run kills the services, restores them, and how long it lasts (seconds).
KILL_AT_S, RESTORE_AT_S, DURATION_S = 3, 9, 12
HINT_HEALTH = (
    "BGP only knows whether the router is alive, not the service behind it; something "
    "must test the service and stop the announcement when it fails"
)
HINT_DEMOTE = (
    "a demoted route still attracts the clients that have no other path as good: only a "
    "withdrawal sends every client elsewhere"
)
HINT_OUTAGE = (
    "the outage is the agent's reaction time plus BGP's convergence: follow your agent "
    "round by round and make it react sooner (docs/topology.md, health)"
)
HINT_OTHERS = "clients of another site should see no change: did the policy touch their routes?"
HINT_BLACKHOLED = "a route that stays announced keeps its catchment, working servers or not"
HINT_TIMING = (
    "follow your agent round by round from the moment the servers die: when does each round "
    "start, how long may a failing check take, how many failures in a row does it need? "
    "(docs/topology.md, health)"
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
    if topo is not None and all(i.passed for i in out):
        health = find_site(topo, fails.name).health
        ok = health is not None and health.action == "withdraw"
        out.append(
            item(
                "health",
                f"a health agent withdraws {fails.name}'s route when its service dies",
                ok,
                "no health agent" if health is None else f"action: {health.action}",
                HINT_HEALTH if health is None else HINT_DEMOTE,
            )
        )
    given, problem = read(ctx)
    out.append(complete_item("answers-complete", "answers.yaml", problem))
    later = [
        ("moved", f"{fails.name}'s clients move to {other.name} when its servers die"),
        ("outage", f"their outage stays under {TARGET_S:g} s"),
        ("others", "the other clients notice nothing"),
        ("answer-blackholed", f"answers.yaml: who loses service when {fails.name}'s servers die "
         "(no agent)"),
        ("answer-timing", "answers.yaml: at most how long until your agent withdraws the route"),
    ]  # fmt: skip
    if topo is None or len(out) < 6 or not all(i.passed for i in out):
        return out + skip_all([("run", "the testbed ran the servers' death")] + later)
    timeline = [
        {"at": KILL_AT_S, "event": "kill_service", "site": fails.name, "service": "all"},
        {"at": RESTORE_AT_S, "event": "restore", "site": fails.name},
    ]
    summary, ran = run_item(
        ctx,
        topo,
        lab_scenario("lab4-check", DURATION_S, timeline),
        "the servers' death on your settings",
    )
    out.append(ran)
    if summary is None:
        return out + skip_all(later)
    titles = dict(later)
    base = v.catchment()
    theirs = [c for c, s in base.items() if s == fails.name]
    others = [c for c in base if c not in theirs]
    after = sites_after_event(summary, 0)
    moved = sum(1 for c in theirs if after.get(c) == other.name)
    out.append(
        item(
            "moved",
            titles["moved"],
            moved == len(theirs),
            # no count: how many clients the site serves is half of answer-blackholed
            "all moved" if moved == len(theirs) else "not all moved",
            HINT_HEALTH,
        )
    )
    start, end = window(summary, 0)
    worst = max((max_outage_in(summary, c, start - 1.0, end) for c in theirs), default=0.0)
    out.append(
        item(
            "outage", titles["outage"], worst < TARGET_S, f"worst outage {worst:.2f} s", HINT_OUTAGE
        )
    )
    resets = resets_in(summary, -1e9, 1e9)
    hurt = sum(1 for c in others if max_outage_in(summary, c, -1e9, 1e9) >= 0.5 or resets.get(c))
    out.append(
        item(
            "others",
            titles["others"],
            not hurt,
            "none disturbed" if not hurt else "some disturbed",
            HINT_OTHERS,
        )
    )
    return out + answer_items(ctx, topo, given, titles)


def read(ctx: LabContext) -> Tuple[Dict[str, Any], Optional[str]]:
    """``answers.yaml`` parsed: ({key: value}, the first problem or None)."""
    clients = [c.name for c in ctx.variant.clients]
    return answers.parse_read(
        ctx.read_answers("answers.yaml"),
        {
            "blackholed_clients": lambda x: answers.client_set(x, clients),
            "withdraw_after_s": lambda x: answers.number(x, 0, 600),
        },
    )


def window_of(health: Any) -> Optional[List[float]]:
    """The agent's withdrawal time the timing answer must fall in: [earliest, worst] (s)."""
    if health is None:
        return None
    return [health.interval * (health.fall - 1), health.interval * health.fall + health.timeout]


def answer_items(
    ctx: LabContext, topo: Topology, given: Dict[str, Any], titles: Dict[str, str]
) -> List[CheckItem]:
    """The graded items of ``answers.yaml`` (only ever built after the check's run).

    Args:
        ctx: the lab context.
        topo: the effective topology (for the timing question).
        given: the parsed answers (all present: ``answers-complete`` passed).
        titles: item id -> title.

    Returns:
        Two items: the blackholed clients, the agent's worst-case reaction time.
    """
    v = ctx.variant
    fails = v.site[v.params["fails"]]
    want = {c for c, s in v.catchment().items() if s == fails.name}
    black_ok = given["blackholed_clients"] == want
    secs = given["withdraw_after_s"]
    health = find_site(topo, fails.name).health
    ok = False
    if health is not None:
        worst = health.interval * health.fall + health.timeout
        ok = health.interval * (health.fall - 1) <= secs <= worst + 1e-6
    return [
        item(
            "answer-blackholed",
            titles["answer-blackholed"],
            black_ok,
            "right" if black_ok else "not what happens",
            HINT_BLACKHOLED,
            expected=want,
            actual=given["blackholed_clients"],
        ),
        item(
            "answer-timing",
            titles["answer-timing"],
            ok,
            f"{secs:g} s" if ok else f"{secs:g} s does not fit your agent's settings",
            HINT_TIMING,
            expected=window_of(health),
            actual=secs,
        ),
    ]
