"""Lab 8, TCP remedies: pick the remedy for three services and justify it with a measured figure.

The variant's network has three sites with a unicast prefix each.  The
hand-out's scenario runs every remedy side by side (probe kinds
``tcp-stream``, ``tcp-retry``, ``http-short``, ``hybrid``, ``quic``,
``quic-shared``): a te-shift (a site prepends, clients move although
nothing failed), its undoing, then a link-down failure of another site.
TASK.md describes three services (a live video stream, a REST API, a chat
socket), each with needs drawn for the variant: facts about the service
(the server pushes; TCP only; no shared keys; no unicast space) and figures
(a budget of seconds without service on a failure; no break on a
te-shift).  The student runs the scenario, reads the report's "Transport
remedies" table and writes per service a remedy and, as the justification,
the worst time its users went without service on the failure.

The checker runs the same scenario on the hand-out network.  The remedies are
graded by reasoning (:mod:`testbed.labs.remedies`: what each remedy needs
and does), the figure against the check's run.  When the run disagrees with
the reasoning about a remedy, the item says so (a testbed problem: check
again).  No line names a remedy that would fit or a need that was missed.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Set, Tuple

from testbed.labs import answers, remedies
from testbed.labs.common import complete_item, run_item, skip_all, starting_topology
from testbed.labs.items import CheckItem, item
from testbed.labs.runner import LabContext, Summary, lab_scenario
from testbed.labs.variant import Variant

#: The probe kinds of the lab's runs: the remedies, the plain stream and DNS (for the catchment).
KINDS = ["dns", "tcp-stream", *remedies.REMEDIES]
#: The timeline: te-shift at SHIFT_AT, undone at UNDO_AT, the failure at FAIL_AT; DURATION.
SHIFT_AT, UNDO_AT, FAIL_AT, DURATION_S = 3, 8, 13, 23
#: Event indexes of the te-shift and the failure in the timeline.
SHIFT, FAIL = 0, 2
#: Largest figure accepted in answers.yaml (s).
MAX_FIGURE_S = 60.0
HINT_REMEDY = (
    "read each need of the service in TASK.md against what the remedy requires (a client "
    "that reconnects, request/response, UDP, shared keys, a unicast address per site) and "
    "against your run's table: how long its users were without service when their site "
    "failed, and whether the te-shift broke its connections"
)
HINT_FIGURE = (
    "the figures are in your run's report.md, section 'Transport remedies', the failure's "
    "table: in the rows of the remedies you listed, 'recovery median / worst (s)', the "
    "largest worst (0 for a row with '-': nothing broke)"
)
DISAGREE = "; the run disagrees with the lab's reasoning about a remedy: check again"


def timeline(v: Variant) -> List[Dict[str, Any]]:
    """The lab's events: a te-shift, its undoing, a link-down failure."""
    fails, shifts = v.site[v.params["fails"]].name, v.site[v.params["shifts"]].name
    return [
        {"at": SHIFT_AT, "event": "prepend", "site": shifts, "count": v.params["count"]},
        {"at": UNDO_AT, "event": "restore", "site": shifts},
        {"at": FAIL_AT, "event": "fail_site", "site": fails, "how": "link-down"},
    ]


def scenario(v: Variant, name: str = "lab8-check") -> Dict[str, Any]:
    """The check's scenario (the hand-out's scenario.yaml is the same)."""
    return lab_scenario(name, DURATION_S, timeline(v), traffic={"kinds": KINDS})


def behaviour(summary: Summary, remedy: str) -> Optional[remedies.Behaviour]:
    """What ``remedy`` did in a run of :func:`timeline`; None if the run lacks its figures.

    The failure's worst time without service is the largest ``recover_s`` of
    the moved clients' flows (0 when nothing broke, infinite when they broke
    and none came back); the te-shift broke it when any flow was reset,
    timed out or failed.
    """
    if len(summary.events) <= FAIL:
        return None
    fail = summary.events[FAIL].transport.get(remedy)
    shift = summary.events[SHIFT].transport.get(remedy)
    if fail is None or shift is None:
        return None
    broke = fail.reset + fail.timed_out + fail.failed
    worst = max(map(float, fail.recover_s), default=0.0)
    if broke and not fail.recovered:
        worst = math.inf
    return remedies.Behaviour(worst, bool(shift.reset + shift.timed_out + shift.failed))


def read(ctx: LabContext) -> Tuple[Dict[str, Any], Optional[str]]:
    """``answers.yaml`` parsed: ({key: value}, the first problem or None)."""
    questions: Dict[str, answers.Parser] = {}
    for service in remedies.SERVICES:
        questions[service] = lambda x: answers.name_set(x, remedies.REMEDIES, "remedy")
        questions[f"{service}_recovery_s"] = lambda x: answers.number(x, 0.0, MAX_FIGURE_S)
    return answers.parse_read(ctx.read_answers("answers.yaml"), questions)


def titles() -> Dict[str, str]:
    """Item id -> title, for the items graded after the run."""
    out: Dict[str, str] = {}
    for service, (name, _push) in remedies.SERVICES.items():
        out[f"answer-{service}"] = f"answers.yaml: the remedies that meet every need of {name}"
        out[f"answer-{service}-recovery"] = (
            f"answers.yaml: {name}, their worst recovery matches the check's run"
        )
    return out


def check(ctx: LabContext) -> List[CheckItem]:
    """Check a working copy of lab 8.

    Args:
        ctx: the working copy, the variant and the runner.

    Returns:
        The check items, in order.
    """
    given, problem = read(ctx)
    out = [complete_item("answers-complete", "answers.yaml", problem)]
    later = list(titles().items())
    if problem is not None:
        return out + skip_all([("run", "the testbed ran the lab's scenario")] + later)
    summary, ran = run_item(
        ctx, starting_topology(ctx), scenario(ctx.variant), "the lab's scenario", handout=True
    )
    out.append(ran)
    if summary is None:
        return out + skip_all(later)
    return out + graded(ctx.variant, given, summary)


def worst_of(listed: Set[str], seen: Dict[str, Optional[remedies.Behaviour]]) -> Optional[float]:
    """The worst recovery (s) on the failure of the remedies listed; None if one lacks figures."""
    figures = [seen[r] for r in listed]
    if any(b is None for b in figures):
        return None
    return max((b.worst_s for b in figures if b is not None), default=0.0)


def graded(v: Variant, given: Dict[str, Any], summary: Summary) -> List[CheckItem]:
    """The graded items, two per service (only ever built after the check's run).

    Args:
        v: the variant (the services' needs).
        given: the parsed answers (all present).
        summary: the run's summary.

    Returns:
        Per service: the remedies that meet every need (by reasoning; a run
        that disagrees is said so), and the worst recovery among the
        remedies listed (against the check's run).
    """
    names = titles()
    seen = {r: behaviour(summary, r) for r in remedies.REMEDIES}
    measured = {
        service: [
            r
            for r in remedies.REMEDIES
            if (b := seen[r]) is not None and not remedies.unmet(needs, r, b)
        ]
        for service, needs in v.needs().items()
    }
    out: List[CheckItem] = []
    for service, needs in v.needs().items():
        listed: Set[str] = given[service]
        right = listed == set(remedies.fitting(needs))
        detail = "right" if right else "not the remedies asked for"
        against = measured[service] != remedies.fitting(needs)
        if against:
            detail += DISAGREE
        key = f"answer-{service}"
        out.append(
            item(
                key,
                names[key],
                right,
                detail,
                HINT_REMEDY,
                testbed=against,
                expected=remedies.fitting(needs),
                actual=listed,
            )
        )
        worst = worst_of(listed, seen)
        figure = given[f"{service}_recovery_s"]
        close = worst is not None and remedies.figure_close(figure, worst)
        broken = worst is None or math.isinf(worst)
        if worst is None:
            detail = "the run has no figures for a remedy listed: check again"
        elif math.isinf(worst):
            detail = "in the check's run the users of a remedy listed did not come back" + DISAGREE
        else:
            detail = "close to the check's run" if close else "not close to the check's run"
        key = f"answer-{service}-recovery"
        out.append(
            item(
                key,
                names[key],
                close,
                detail,
                HINT_FIGURE,
                testbed=broken,
                expected=worst,
                actual=figure,
            )
        )
    return out
