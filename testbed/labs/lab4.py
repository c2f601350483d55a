"""Lab 4, health checks: a withdrawal that rides out a restart and still beats a budget.

When the variant's failing site's servers die, its route stays announced and
its clients lose service without moving (a blackhole).  The student gives
the site a health agent (a ``health:`` block on the site in
``topology.yaml``, or the scenario's ``health:``) that checks DNS and
withdraws the route, and chooses ``interval`` and ``fall`` so that a short
DNS restart of the variant's ``blip`` seconds does not withdraw the site
while the servers' real death costs its clients less than the variant's
``target`` (the rules: :mod:`testbed.labs.healthdesign`).  In
``answers.yaml`` the student says who is blackholed without an agent and
answers two questions about the variant's ``ask`` agent (its worst
withdrawal time; the smallest fall that rides out the blip at its
interval): about a fixed agent, not the student's own, because the answers
are frozen at the first graded check while the settings may still change.

The checker runs the restart, then the death, with the student's settings;
the answers are graded only together with that run, and details give no
client names or counts (who moves is who was blackholed).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from testbed.analysis.model import HealthState, Summary
from testbed.labs import answers
from testbed.labs.common import (
    HINT_TESTBED,
    complete_item,
    find_site,
    internet_item,
    run_item,
    scenario_topology_item,
    site_item,
    skip_all,
)
from testbed.labs.healthdesign import BLIP_MARGIN_S, Design, min_fall, timing_right
from testbed.labs.items import CheckItem, item
from testbed.labs.runner import (
    LabContext,
    lab_scenario,
    max_outage_in,
    resets_in,
    sites_after_event,
    sites_before,
    window,
)
from testbed.labs.variant import Variant
from testbed.topology.model import Health

#: When the check's run kills the failing site's DNS service (the restart), seconds.
KILL_AT_S = 3.0
#: How much sooner than the blip's end the restart is restored (s): NSD takes about
#: this long to answer again, so the service is away for about the blip.
BLIP_EARLY = 0.3
#: Seconds between the restart's end and the servers' death (the agent has good rounds again).
GOOD_S = 3.0
#: Seconds the run watches the death beyond the target, and after the services are back.
AFTER_TARGET_S, TAIL_S = 1.5, 2.0
#: A restart measured this much longer than the blip (s) can withdraw even a design with
#: the margin the solution keeps: then the testbed failed, not the student.
LONG_BLIP_S = BLIP_MARGIN_S
HINT_HEALTH = (
    "BGP only knows whether the router is alive, not the service behind it; something "
    "must test the service and stop the announcement when it fails"
)
HINT_DEMOTE = (
    "a demoted route still attracts the clients that have no other path as good: only a "
    "withdrawal sends every client elsewhere"
)
HINT_DNS = (
    "the clients use DNS: an agent sees a failure only in what it checks (docs/topology.md, "
    "health: checks)"
)
HINT_BLIP = (
    "a short restart fails every round that starts while the service is away: count how "
    "many rounds in a row a restart that long can fail at your interval, and need more "
    "than that to withdraw (README.md, Background)"
)
HINT_MOVED = (
    "only a withdrawal moves the clients, and the agent withdraws only after enough failed "
    "rounds in a row: follow it round by round from the servers' death (README.md, Background)"
)
HINT_OUTAGE = (
    "the outage is the agent's reaction time plus BGP's convergence: follow your agent "
    "round by round from the servers' death and make it react sooner, without giving up "
    "the restart (README.md, Background)"
)
HINT_OTHERS = "clients of another site should see no change: did the policy touch their routes?"
HINT_BLACKHOLED = "a route that stays announced keeps its catchment, working servers or not"
HINT_TIMING = (
    "follow the agent round by round from the moment the servers die: when does the first "
    "failing round start, how long may a failing DNS check take, how many failures in a "
    "row does it need? (README.md, Background)"
)
HINT_FALL = (
    "count the rounds that start while the service is away, at most: the agent must need "
    "one more failure in a row than that (README.md, Background)"
)


def timeline(v: Variant) -> List[Dict[str, Any]]:
    """The check's events: the DNS restart, the servers' death, their return (seconds)."""
    d = v.health_design()
    site = v.site[v.params["fails"]].name
    death = KILL_AT_S + d.blip + GOOD_S
    back = death + d.target + AFTER_TARGET_S
    return [
        {"at": KILL_AT_S, "event": "kill_service", "site": site, "service": "dns"},
        {"at": round(KILL_AT_S + d.blip - BLIP_EARLY, 3), "event": "restore", "site": site},
        {"at": death, "event": "kill_service", "site": site, "service": "all"},
        {"at": back, "event": "restore", "site": site},
    ]


def scenario(v: Variant) -> Dict[str, Any]:
    """The check's run as scenario data (:func:`timeline`, then :data:`TAIL_S` more)."""
    events = timeline(v)
    return lab_scenario("lab4-check", events[-1]["at"] + TAIL_S, events)


def health_item(health: Optional[Health], site: str) -> CheckItem:
    """The failing site has an agent that withdraws and checks DNS."""
    title = f"a health agent checks {site}'s DNS and withdraws its route when it dies"
    if health is None:
        return item("health", title, False, "no health agent", HINT_HEALTH)
    if health.action != "withdraw":
        return item("health", title, False, f"action: {health.action}", HINT_DEMOTE)
    if "dns" not in health.checks:
        return item("health", title, False, f"checks: {', '.join(health.checks)}", HINT_DNS)
    return item("health", title, True, f"action withdraw, checks {', '.join(health.checks)}")


def check(ctx: LabContext) -> List[CheckItem]:
    """Check a working copy of lab 4.

    Args:
        ctx: the working copy, the variant and the runner.

    Returns:
        The check items, in order.
    """
    v = ctx.variant
    d = v.health_design()
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
        site = find_site(topo, fails.name)
        out.append(health_item(site.health if site is not None else None, fails.name))
    given, problem = read(ctx)
    out.append(complete_item("answers-complete", "answers.yaml", problem))
    ask = d.ask
    later = [
        ("rides-out", f"the DNS restart of {d.blip:g} s does not withdraw {fails.name}"),
        ("moved", f"{fails.name}'s clients move to {other.name} when its servers die"),
        ("outage", f"their outage stays under {d.target:g} s"),
        ("others", "the other clients notice nothing"),
        ("answer-blackholed", f"answers.yaml: who loses service when {fails.name}'s servers die "
         "(no agent)"),
        ("answer-timing", f"answers.yaml: at most how long until an agent with interval "
         f"{ask.interval:g} s, timeout {ask.timeout:g} s, fall {ask.fall} withdraws"),
        ("answer-fall", f"answers.yaml: the smallest fall at interval {ask.interval:g} s that "
         f"rides out a {d.blip:g} s restart"),
    ]  # fmt: skip
    if topo is None or len(out) < 6 or not all(i.passed for i in out):
        return out + skip_all([("run", "the testbed ran the restart and the death")] + later)
    summary, ran = run_item(
        ctx, topo, scenario(v), "the DNS restart and the servers' death on your settings"
    )
    out.append(ran)
    if summary is None:
        return out + skip_all(later)
    titles = dict(later)
    base = v.catchment()
    theirs = [c for c, s in base.items() if s == fails.name]
    others = [c for c in base if c not in theirs]
    out.append(rides_out_item(summary, fails.name, theirs, d, titles["rides-out"]))
    after = sites_after_event(summary, 2)
    moved = sum(1 for c in theirs if after.get(c) == other.name)
    out.append(
        item(
            "moved",
            titles["moved"],
            moved == len(theirs),
            # no count: how many clients the site serves is half of answer-blackholed
            "all moved" if moved == len(theirs) else "not all moved",
            HINT_MOVED,
        )
    )
    start, end = window(summary, 2)
    worst = max((max_outage_in(summary, c, start - 1.0, end) for c in theirs), default=0.0)
    out.append(
        item(
            "outage", titles["outage"], worst < d.target, f"worst outage {worst:.2f} s", HINT_OUTAGE
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
    return out + answer_items(ctx, given, titles)


def rides_out_item(
    summary: Summary, site: str, theirs: List[str], d: Design, title: str
) -> CheckItem:
    """The restart (events 0 and 1, up to the death) left the site announced and its clients be.

    The agent went down, a client of the site moved or had a TCP stream reset
    in that window: the agent withdrew.  The detail gives the restart as the
    clients measured it (their longest DNS outage in the window); a withdrawal
    during a restart measured more than :data:`LONG_BLIP_S` longer than the
    blip is the testbed's failure.

    Args:
        summary: the check's run.
        site: the failing site.
        theirs: its clients.
        d: the variant's design.
        title: the item's title.
    """
    start, _ = window(summary, 0)
    end, _ = window(summary, 2)
    downs = [
        h
        for h in summary.health
        if isinstance(h, HealthState)
        and h.site == site
        and h.state == "down"
        and h.t is not None
        and start <= float(h.t) < end
    ]
    before = sites_before(summary)
    after = [sites_after_event(summary, i) for i in (0, 1)]
    moved = any(sites.get(c) != before.get(c) for sites in after for c in theirs)
    resets = resets_in(summary, start, end)
    reset = any(resets.get(c) for c in theirs)
    measured = max((max_outage_in(summary, c, start - 1.0, end) for c in theirs), default=0.0)
    detail = f"measured restart {measured:.1f} s"
    why = [
        text
        for text, bad in (
            ("the agent went down", downs),
            ("the clients moved", moved),
            ("TCP streams were reset", reset),
        )
        if bad
    ]
    if not why:
        return item("rides-out", title, True, f"{detail}, the route stayed")
    if measured > d.blip + LONG_BLIP_S:
        return item(
            "rides-out",
            title,
            False,
            f"{detail}, longer than the {d.blip:g} s planned: the testbed's fault, not "
            "yours; check again",
            HINT_TESTBED,
            testbed=True,
            expected=d.blip,
            actual=measured,
        )
    return item(
        "rides-out", title, False, f"{detail}: {', '.join(why)}", HINT_BLIP, actual=measured
    )


def read(ctx: LabContext) -> Tuple[Dict[str, Any], Optional[str]]:
    """``answers.yaml`` parsed: ({key: value}, the first problem or None)."""
    clients = [c.name for c in ctx.variant.clients]
    return answers.parse_read(
        ctx.read_answers("answers.yaml"),
        {
            "blackholed_clients": lambda x: answers.client_set(x, clients),
            "withdraw_after_s": lambda x: answers.number(x, 0, 600),
            "min_fall": lambda x: answers.integer(x, 1, 100),
        },
    )


def timing_window(d: Design) -> List[float]:
    """The ``ask`` agent's withdrawal answer must fall in: [fall * interval, worst case] (s)."""
    return [round(d.ask.interval * d.ask.fall, 6), d.ask_worst_s()]


def answer_items(ctx: LabContext, given: Dict[str, Any], titles: Dict[str, str]) -> List[CheckItem]:
    """The graded items of ``answers.yaml`` (only ever built after the check's run).

    Args:
        ctx: the lab context.
        given: the parsed answers (all present: ``answers-complete`` passed).
        titles: item id -> title.

    Returns:
        Three items: the blackholed clients, the ``ask`` agent's worst-case
        withdrawal, the smallest fall that rides out the restart.
    """
    v = ctx.variant
    d = v.health_design()
    fails = v.site[v.params["fails"]]
    want = {c for c, s in v.catchment().items() if s == fails.name}
    black_ok = given["blackholed_clients"] == want
    secs = given["withdraw_after_s"]
    ask = d.ask
    timing_ok = timing_right(secs, ask.interval, ask.fall, ask.timeout)
    fall = given["min_fall"]
    fall_want = min_fall(d.blip, ask.interval)
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
            timing_ok,
            f"{secs:g} s" if timing_ok else f"{secs:g} s does not fit that agent's settings",
            HINT_TIMING,
            expected=timing_window(d),
            actual=secs,
        ),
        item(
            "answer-fall",
            titles["answer-fall"],
            fall == fall_want,
            "right" if fall == fall_want else f"fall {fall}: not the smallest that rides it out",
            HINT_FALL,
            expected=fall_want,
            actual=fall,
        ),
    ]
