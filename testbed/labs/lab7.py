"""Lab 7, load steering: the one playbook action that sheds an attack from an overloaded site.

The lab's network has site capacities (packets/s), client weights and attack
sources in a few ISPs; together they overload one site.  The student runs
``anycast-testbed playbook`` on the hand-out, reads the table (which clients,
and so which attack sources, each action moves) and writes in
``answers.yaml`` the one action (a site and ``prepend1``..``prepend3`` or
``withdraw``) that brings the attacked site under capacity while moving the
least legitimate weight, and which other sites the attack will then
overload.

The checker computes the answer itself by reasoning
(:mod:`testbed.labs.steering`: each action's catchment, the attack's
packets/s at every site against its capacity, the weight moved; equal
weights tie) and grades the choice against it; then it runs the attack on
the hand-out network with the student's action a few seconds in (real FRR,
real queues and policers) and reads ``summary.json``'s ``load``: the
attacked site must no longer be overloaded after the action, and the other
sites the run found overloaded must be the ones predicted.  As in the other
labs the answers are graded only together with that run, and no line names
a site or counts anything that would give the answer away.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Tuple

from testbed.labs import answers, steering
from testbed.labs.common import complete_item, run_item, skip_all, starting_topology
from testbed.labs.items import CheckItem, item
from testbed.labs.runner import LabContext, Summary, lab_scenario

HINT_ACTION = (
    "for each action in the playbook table, follow the attack: its sources sit in the ISPs "
    "TASK.md names and go wherever their ISP's clients go; add up the attack each site then "
    "receives and compare it with the site's capacity. Of the actions that bring the attacked "
    "site under capacity, take the one that moves the least weight"
)
HINT_RELIEVED = (
    "after your action the attack the attacked site still receives must be below its "
    "capacity: count the attack sources that stay (see the hint above)"
)
HINT_CASCADE = (
    "the attack moves with its sources' ISPs: for every other site, add up the attack it "
    "receives once your action has taken effect and compare it with its capacity"
)
HINT_ATTACK = (
    "the attack did not overload the network as the lab's numbers say: that is a testbed "
    "problem (a busy machine?), not your answer; check again"
)
#: Said when the run and the reasoning disagree about something measured.
DISAGREE = "; the run disagrees with the lab's reasoning here: check again"
#: When the check's run starts the attack, takes the student's action, stops the
#: attack, and how long it lasts (seconds); the attack reaches its rate over RAMP_S.
ATTACK_AT_S, ACTION_AT_S, STOP_AT_S, DURATION_S = 1, 6, 16, 17
RAMP_S = 1.0
#: A site counts as overloaded in a stretch of the run when it was overloaded for at
#: least this share of it (BGP takes up to a second or so to move the attack).
OVERLOADED_SHARE = 0.5
#: The scenario events the actions are.
ACTION_EVENTS = ("prepend", "withdraw")


def action_event(site: str, action: str, at: float = ACTION_AT_S) -> Dict[str, Any]:
    """A playbook action as a scenario event (``prepend2`` -> ``prepend`` with ``count: 2``)."""
    if action == "withdraw":
        return {"at": at, "event": "withdraw", "site": site}
    count = int(action.removeprefix("prepend"))
    return {"at": at, "event": "prepend", "site": site, "count": count}


def timeline(site: str, action: str) -> List[Dict[str, Any]]:
    """The check's events: the attack, the student's action during it, the attack's end."""
    return [
        {"at": ATTACK_AT_S, "event": "attack_start", "ramp": RAMP_S},
        action_event(site, action),
        {"at": STOP_AT_S, "event": "attack_stop"},
    ]


def read(ctx: LabContext) -> Tuple[Dict[str, Any], Optional[str]]:
    """``answers.yaml`` parsed: ({key: value}, the first problem or None)."""
    sites = [s.name for s in ctx.variant.site.values()]
    return answers.parse_read(
        ctx.read_answers("answers.yaml"),
        {
            "site": lambda x: answers.choice(x, sites, "site"),
            "action": lambda x: answers.choice(x, steering.ACTIONS, "playbook action"),
            "overloaded_after": lambda x: answers.name_set(x, sites, "site"),
        },
    )


def measured_overload(summary: Summary) -> Tuple[Optional[Set[str]], Optional[Set[str]]]:
    """The sites the run found overloaded before the action and after it.

    From ``summary.json`` ``load.phases``: the attack's first phase (begun by
    its start) and the phase the action began; a site counts when it was
    overloaded for at least :data:`OVERLOADED_SHARE` of the phase.

    Returns:
        (before, after); None for a phase the run does not have.
    """
    load = summary.load
    if load is None:
        return None, None

    def over(phase: Any) -> Set[str]:
        length = float(phase.stop) - float(phase.start)
        return {s for s, sec in phase.overloaded.items() if sec >= OVERLOADED_SHARE * length}

    first = next((p for p in load.phases if p.after == "attack start"), None)
    acted = next(
        (
            p
            for p in load.phases
            if p.event is not None
            and p.event < len(summary.events)
            and summary.events[p.event].kind in ACTION_EVENTS
        ),
        None,
    )
    return (over(first) if first else None), (over(acted) if acted else None)


def check(ctx: LabContext) -> List[CheckItem]:
    """Check a working copy of lab 7.

    Args:
        ctx: the working copy, the variant and the runner.

    Returns:
        The check items, in order.
    """
    given, problem = read(ctx)
    out = [complete_item("answers-complete", "answers.yaml", problem)]
    later = [
        ("attack-overloads", "before your action, the attack overloads the site it is aimed at"),
        ("answer-action", "answers.yaml: the action that relieves it moving the least weight"),
        ("relieved", "after your action, the attacked site is under capacity (measured)"),
        ("match-cascade", "answers.yaml: the other sites overloaded after it match the run"),
    ]
    if problem is not None:
        return out + skip_all([("run", "the testbed ran the attack with your action")] + later)
    topo = starting_topology(ctx)
    scenario = lab_scenario("lab7-check", DURATION_S, timeline(given["site"], given["action"]))
    summary, ran = run_item(ctx, topo, scenario, "the attack with your action", handout=True)
    out.append(ran)
    if summary is None:
        return out + skip_all(later)
    return out + graded(steering.net_of(topo), given, summary, dict(later))


def graded(
    net: steering.Net,
    given: Dict[str, Any],
    summary: Summary,
    titles: Dict[str, str],
) -> List[CheckItem]:
    """The graded items (only ever built after the check's run).

    Args:
        net: the network the run used (the hand-out's), for the reasoning.
        given: the parsed answers (all present).
        summary: the run's summary.
        titles: item id -> title.

    Returns:
        Four items: the attack landed as reasoned, the action, relieved, the cascade.
    """
    outcomes = steering.every_outcome(net)
    target = steering.attacked(net)[0]
    best = steering.best_actions(outcomes, target)
    chosen = steering.find(outcomes, given["site"], given["action"])
    assert chosen is not None
    before, after = measured_overload(summary)
    landed = before == {target}
    out = [
        item(
            "attack-overloads",
            titles["attack-overloads"],
            landed,
            "as the lab's numbers say" if landed else "not as the lab's numbers say",
            HINT_ATTACK,
            testbed=not landed,
            expected=[target],
            actual=before,
        )
    ]
    right = (given["site"], given["action"]) in best
    out.append(
        item(
            "answer-action",
            titles["answer-action"],
            right,
            "right" if right else "not the action asked for",
            HINT_ACTION,
            expected=[list(b) for b in best],
            actual=[given["site"], given["action"]],
        )
    )
    if after is None:
        return out + [
            item(
                i,
                titles[i],
                False,
                "the run has no load figures after your action",
                HINT_ATTACK,
                testbed=True,
            )
            for i in ("relieved", "match-cascade")
        ]
    relieved = target not in after
    detail = "yes" if relieved else "no: still overloaded"
    against = relieved != (target not in chosen.overloaded)
    if against:
        detail += DISAGREE
    out.append(
        item(
            "relieved",
            titles["relieved"],
            relieved,
            detail,
            HINT_RELIEVED,
            testbed=against,
            expected=target not in chosen.overloaded,
            actual=relieved,
        )
    )
    seen = after - {target}
    match = given["overloaded_after"] == seen
    detail = "right" if match else "not what the run measured"
    reasoned = steering.cascade(chosen, target)
    if seen != reasoned:
        detail += DISAGREE
    out.append(
        item(
            "match-cascade",
            titles["match-cascade"],
            match,
            detail,
            HINT_CASCADE,
            testbed=seen != reasoned,
            expected=seen,
            actual=given["overloaded_after"],
        )
    )
    return out
