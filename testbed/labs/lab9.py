"""Lab 9, anycast versus GSLB: GSLB settings that meet a failover target, and which method wins.

The variant's network has three sites, each with its own unicast prefix;
the service name is published both ways (``service.publish: both``):
``svc.anycast.test`` answers the anycast address, ``svc.gslb.test`` the
nearest healthy site's own address (PowerDNS with health checks at every
site), and every client resolves both through its ISP's resolver (unbound).
A site fails, by a link-down or silently (with long BGP timers); TASK.md
gives a target for the worst GSLB failover, a budget of queries to the
authority and one of health checks, and which load to keep lowest.  The
student answers the TTL and the health-check interval, the worst GSLB
failover those settings allow, and which method's clients are back on a
healthy site sooner in this failure.

The checker runs the failure with the student's TTL and interval
(``topology_set``).  Every answer is graded by reasoning
(:mod:`testbed.labs.gslbdesign`): the budgets and the target by arithmetic
on the worst case, the settings against the unique ones with the least
load asked for, the prediction against the worst case of the student's own
settings, the faster method by how each notices the failure.  The run
confirms: the measured worst GSLB failover is reported, and where the run
contradicts the reasoning (a worst case exceeded, the other method faster
with settings that meet the target) the item says so.  No line names the
settings or the method asked for.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

from testbed.labs import answers, gslbdesign
from testbed.labs.common import complete_item, run_item, skip_all, starting_topology
from testbed.labs.items import CheckItem, item
from testbed.labs.runner import LabContext, Summary, lab_scenario
from testbed.labs.variant import Variant

#: The probe kinds of the lab's runs: DNS (for the catchment) and resolve (both names).
KINDS = ["dns", "resolve"]
#: The run's traffic: every client resolves each name ten times a second.
TRAFFIC: Dict[str, Any] = {"kinds": KINDS, "dns_rate": 10, "resolve_rate": 10}
#: When the site fails (s into the timeline).
FAIL_AT = 3
#: The failure's index in the timeline (a restore follows it).
FAIL = 0
#: The largest TTL and the largest predicted figure accepted in answers.yaml (s).
MAX_TTL, MAX_PREDICTED_S = 3600, 3700.0
#: The health-check interval PowerDNS accepts (s, as ``service.health.interval``).
MAX_INTERVAL = 60
HINT_BUDGETS = (
    "every resolver asks the authority again once per TTL, and every site's PowerDNS checks "
    "every site (itself too) once per interval: work out the queries and the checks a "
    "minute your settings cause, and compare them with TASK.md's budgets"
)
HINT_TARGET = (
    "add up the worst case: the next round of health checks and its connect timeout, the "
    "answer a resolver may have cached just before the authority noticed, and the resolver "
    "asking again (README.md, 'How GSLB fails over')"
)
HINT_LEAST = (
    "of all the settings that meet the target within both budgets, TASK.md says which load "
    "to keep lowest: give the target's time to the setting that lowers that load, and "
    "keep the other as short as its budget allows"
)
HINT_PREDICTION = (
    "the worst case of your own settings is the sum of its parts (README.md, 'How GSLB "
    "fails over'); one of them is longer when the failed site goes silent than when its "
    "link goes down"
)
HINT_FASTER = (
    "compare how each method learns of the failure: GSLB by a health check and then every "
    "cache running out; anycast by BGP, which a link-down ends at once but a silent "
    "neighbour only when its hold timer expires"
)
DISAGREE = "; the run disagrees with the lab's reasoning here: check again"


def timeline(v: Variant) -> List[Dict[str, Any]]:
    """The lab's events: the site fails, and is restored when the figures are in."""
    design, site = v.design(), v.site[v.params["fails"]].name
    return [
        {"at": FAIL_AT, "event": "fail_site", "site": site, "how": design.how},
        {"at": FAIL_AT + design.watch_s(), "event": "restore", "site": site},
    ]


def service(ttl: int, interval: int) -> Dict[str, Any]:
    """The topology's ``service`` block with the student's settings."""
    return {"publish": "both", "ttl": ttl, "health": {"interval": interval}}


def scenario(v: Variant, ttl: int, interval: int, name: str = "lab9-check") -> Dict[str, Any]:
    """The check's scenario with the student's settings (the hand-out's, with them set)."""
    design = v.design()
    events = timeline(v)
    bgp = None
    if design.hold is not None and design.keepalive is not None:
        bgp = {"keepalive": design.keepalive, "hold": design.hold}
    return lab_scenario(
        name,
        float(events[-1]["at"]) + 1,
        events,
        bgp=bgp,
        traffic=TRAFFIC,
        topology_set={"service": service(ttl, interval)},
    )


def measured(summary: Summary) -> Dict[str, Optional[float]]:
    """Per method, the worst failover (s) of the clients the failure affected.

    From ``summary.json`` ``resolution.methods[METHOD].failovers``, the
    failure's entry: the largest ``failover_s`` of its affected clients
    (infinite when one never came back in the window); None when the run has
    no such figures.
    """
    out: Dict[str, Optional[float]] = {}
    methods = summary.resolution.methods if summary.resolution is not None else {}
    for method in gslbdesign.METHODS:
        figures = methods.get(method)
        failover = None
        if figures is not None:
            failover = next((f for f in figures.failovers if f.event == FAIL), None)
        if failover is None or not failover.affected:
            out[method] = None
            continue
        times = [a.failover_s for a in failover.affected.values()]
        done = [float(t) for t in times if t is not None]
        out[method] = math.inf if len(done) < len(times) else max(done)
    return out


def read(ctx: LabContext) -> Tuple[Dict[str, Any], Optional[str]]:
    """``answers.yaml`` parsed: ({key: value}, the first problem or None)."""
    return answers.parse_read(
        ctx.read_answers("answers.yaml"),
        {
            "ttl": lambda x: answers.integer(x, 1, MAX_TTL),
            "interval": lambda x: answers.integer(x, 1, MAX_INTERVAL),
            "predicted_gslb_worst_s": lambda x: answers.number(x, 0.0, MAX_PREDICTED_S),
            "faster": lambda x: answers.choice(x, gslbdesign.METHODS, "method"),
        },
    )


def titles(v: Variant) -> Dict[str, str]:
    """Item id -> title, for the items graded after the run."""
    target = v.design().target_s
    return {
        "answer-budgets": "answers.yaml: your TTL and interval stay within both budgets",
        "meets-target": f"your settings bring GSLB clients back within {target} s, worst case",
        "answer-least-load": (
            "answers.yaml: of the settings that meet the target within the budgets, "
            "the one with the least load TASK.md asks for"
        ),
        "answer-prediction": "answers.yaml: the worst GSLB failover your settings allow",
        "answer-faster": "answers.yaml: which method's clients are back sooner in this failure",
    }


def check(ctx: LabContext) -> List[CheckItem]:
    """Check a working copy of lab 9.

    Args:
        ctx: the working copy, the variant and the runner.

    Returns:
        The check items, in order.
    """
    given, problem = read(ctx)
    out = [complete_item("answers-complete", "answers.yaml", problem)]
    later = list(titles(ctx.variant).items())
    if problem is not None:
        return out + skip_all([("run", "the testbed ran the failure with your settings")] + later)
    data = scenario(ctx.variant, given["ttl"], given["interval"])
    summary, ran = run_item(
        ctx, starting_topology(ctx), data, "the failure with your settings", handout=True
    )
    out.append(ran)
    if summary is None:
        return out + skip_all(later)
    return out + graded(ctx.variant, given, summary)


def _figure(seconds: Optional[float]) -> str:
    if seconds is None:
        return "no figures"
    return "never back" if math.isinf(seconds) else f"worst {seconds:.1f} s"


def graded(v: Variant, given: Dict[str, Any], summary: Summary) -> List[CheckItem]:
    """The graded items (only ever built after the check's run).

    Args:
        v: the variant (its design).
        given: the parsed answers (all present).
        summary: the run's summary.

    Returns:
        The budgets, the target (with the run's figure), the least load, the
        prediction, the faster method.
    """
    names, design = titles(v), v.design()
    ttl, interval = given["ttl"], given["interval"]
    worst = gslbdesign.worst_gslb_s(ttl, interval, design.how)
    seen = measured(summary)
    gslb = seen["gslb"]
    exceeded = gslb is not None and gslb > worst + gslbdesign.MEASURED_SLACK_S
    out: List[CheckItem] = []

    met = design.budgets_met(ttl, interval)
    detail = "within both" if met == 2 else f"within {met}/2"
    out.append(
        item(
            "answer-budgets",
            names["answer-budgets"],
            met == 2,
            detail,
            HINT_BUDGETS,
            expected=2,
            actual=met,
        )
    )

    meets = design.meets(ttl, interval)
    detail = f"{'met' if meets else 'not met'} in the worst case; the check's run: {_figure(gslb)}"
    against = gslb is None or (meets and gslb > design.target_s)
    if gslb is None:
        detail += "; the run has no GSLB failover figures: check again"
    elif meets and gslb > design.target_s:
        detail += DISAGREE
    elif not meets and gslb <= design.target_s:
        detail += " (this run did not hit the worst case)"
    out.append(
        item(
            "meets-target",
            names["meets-target"],
            meets,
            detail,
            HINT_TARGET,
            testbed=against,
            expected=f"<= {design.target_s:g}",
            actual={"worst_case_s": worst, "measured_s": gslb},
        )
    )

    right = (ttl, interval) == design.best()
    detail = "right" if right else "not the settings asked for"
    out.append(
        item(
            "answer-least-load",
            names["answer-least-load"],
            right,
            detail,
            HINT_LEAST,
            expected=list(design.best()),
            actual=[ttl, interval],
        )
    )

    close = gslbdesign.prediction_close(given["predicted_gslb_worst_s"], worst)
    detail = "right for your settings" if close else "not the worst case of your settings"
    if exceeded:
        detail += DISAGREE
    out.append(
        item(
            "answer-prediction",
            names["answer-prediction"],
            close,
            detail,
            HINT_PREDICTION,
            testbed=exceeded,
            expected=worst,
            actual=given["predicted_gslb_worst_s"],
        )
    )

    right = given["faster"] == design.faster()
    detail = "right" if right else "not the method asked for"
    ran = gslbdesign.measured_faster(seen["anycast"], gslb)
    against = design.fits(ttl, interval) and ran is not None and ran != design.faster()
    if against:
        detail += DISAGREE
    out.append(
        item(
            "answer-faster",
            names["answer-faster"],
            right,
            detail,
            HINT_FASTER,
            testbed=against,
            expected=design.faster(),
            actual=given["faster"],
        )
    )
    return out
