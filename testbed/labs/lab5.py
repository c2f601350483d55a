"""Lab 5, TCP versus UDP: predict whose TCP streams reset, for every site, then a drawn run.

The variant has three sites, a failure kind (its uplink goes down, or it
goes silent: only the hold timer notices) and a prepend count.  Before
running anything the student writes, in ``predictions.yaml``, for **every**
site: which clients' TCP streams are reset when that site fails, which when
it prepends its AS path, and which clients lose DNS (UDP) service for more
than a second when it fails.  The checker draws, when it runs
(:mod:`testbed.labs.checktime`), one site whose failure and one whose
prepend moves somebody (no tie deciding any client's site), runs the
failure, the site's return and the prepend on the hand-out topology (the
student's copies do not matter) and grades the predictions for those two
sites only.  A reset needs a client whose packets reach a different site,
whatever the reason; UDP just carries on, once the routes lead somewhere
that answers (after a silent failure: a hold time later).  The hand-out's
``scenario.yaml`` runs one of the cases (the variant's own failure and
prepend), so a student cannot copy the check's run from it.

The details say right or wrong, never which clients or how many; a run
that contradicts the reasoning for a drawn case is the testbed's failure,
not the student's.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Tuple

from testbed.labs import answers
from testbed.labs.checktime import draw_cases
from testbed.labs.common import run_item, skip_all, starting_topology
from testbed.labs.items import CheckItem, item
from testbed.labs.runner import LabContext, Summary, lab_scenario, max_outage_in, resets_in, window
from testbed.labs.variant import Variant

#: A DNS outage longer than this counts as "lost service" (seconds).
UDP_OUTAGE_S = 1.0
HINT_TCP = (
    "a TCP connection exists only in the kernel of the server that accepted it; "
    "which clients' packets land on a different site after the event?"
)
HINT_UDP = (
    "a DNS query over UDP is one packet and one answer: the next query simply goes to "
    "whichever site the routes lead to; until the routes change, queries go where they "
    "led before (how does each kind of failure end that route?)"
)
HINT_RERUN = "the run contradicts how BGP and TCP work here: check again"
#: The prediction keys, each a mapping site -> clients.
KEYS = ("site_failure", "prepend", "udp_outage_over_1s")
#: The check's events: the drawn site fails, comes back, the drawn site prepends (s).
FAIL_AT_S, RESTORE_AT_S, PREPEND_AT_S = 3, 10, 15
#: How long the check's run lasts (s).
DURATION_S = 20
#: What the check's run is, for its item.
RUN = "a site failure and a prepend drawn as the check runs"
#: Outages that start up to this long before their event still count as its own (s).
EARLY_S = 0.5


def item_id(key: str) -> str:
    """The check item of a prediction key (``site_failure`` -> ``site-failure``)."""
    return "udp-outage" if key.startswith("udp") else key.replace("_", "-")


def drawn(v: Variant, keyring: Any = None) -> Tuple[str, str]:
    """The site roles this check fails and makes prepend: one of each kind of case."""
    fails = draw_cases(v, "lab5 failure", v.failure_cases(), 1, keyring)[0]
    shifts = draw_cases(v, "lab5 prepend", v.prepend_cases(), 1, keyring)[0]
    return fails, shifts


def timeline(
    v: Variant, fails: Optional[str] = None, shifts: Optional[str] = None
) -> List[Dict[str, Any]]:
    """The events of a run: ``fails`` fails and comes back, then ``shifts`` prepends.

    Without roles, the variant's own (the hand-out's ``scenario.yaml`` has
    those, later in time).
    """
    fail = v.site[fails or v.params["fails"]].name
    shift = v.site[shifts or v.params["shifts"]].name
    return [
        {"at": FAIL_AT_S, "event": "fail_site", "site": fail, "how": v.params["how"]},
        {"at": RESTORE_AT_S, "event": "restore", "site": fail},
        {"at": PREPEND_AT_S, "event": "prepend", "site": shift, "count": v.params["count"]},
    ]


def expected(v: Variant) -> Dict[str, Dict[str, Set[str]]]:
    """The answers by path reasoning: prediction key -> site name -> clients."""
    silent = v.params["how"] == "silent"
    out: Dict[str, Dict[str, Set[str]]] = {key: {} for key in KEYS}
    for role, site in v.site.items():
        lost = set(v.moved_if_fails(role))
        # a silent site's streams time out (3 s) before its hold time (5 s) moves
        # their clients, who then connect elsewhere: no reset
        out["site_failure"][site.name] = set() if silent else lost
        out["prepend"][site.name] = set(v.moved_if_prepends(role))
        # a silent site is withdrawn only when the hold time expires
        out["udp_outage_over_1s"][site.name] = lost if silent else set()
    return out


def measured(summary: Summary, clients: List[str]) -> Dict[str, Set[str]]:
    """The same sets for the sites of a run of :func:`timeline` (prediction key -> clients)."""
    fail_start, fail_end = window(summary, 0)
    out: Dict[str, Set[str]] = {}
    for key, index in (("site_failure", 0), ("prepend", 2)):
        start, end = window(summary, index)
        out[key] = {c for c, n in resets_in(summary, start, end).items() if n}
    out["udp_outage_over_1s"] = {
        c
        for c in clients
        if max_outage_in(summary, c, fail_start - EARLY_S, fail_end) > UDP_OUTAGE_S
    }
    return out


def read(ctx: LabContext) -> Tuple[Dict[str, Optional[Dict[str, Set[str]]]], List[CheckItem]]:
    """``predictions.yaml``: prediction key -> site -> clients (None: unusable), one item each."""
    v = ctx.variant
    clients = [c.name for c in v.clients]
    sites = [s.name for s in v.site.values()]
    data, problem = ctx.read_answers("predictions.yaml")
    predicted: Dict[str, Optional[Dict[str, Set[str]]]] = {}
    out: List[CheckItem] = []
    for key in KEYS:
        value, why = (
            (None, problem)
            if problem
            else answers.client_sets(answers.lookup(data, key), sites, clients, "site")
        )
        predicted[key] = value
        out.append(
            item(
                f"predicted-{key.replace('_', '-')}",
                f"predictions.yaml: {key}",
                value is not None,
                why or "answered",
                "one list of client names for every site (SITE: [a, b]), [] for none",
            )
        )
    return predicted, out


def check(ctx: LabContext) -> List[CheckItem]:
    """Check a working copy of lab 5.

    Args:
        ctx: the working copy, the variant and the runner.

    Returns:
        The check items, in order.
    """
    v = ctx.variant
    clients = [c.name for c in v.clients]
    count = v.params["count"]
    titles = {
        "site_failure": f"TCP resets when the drawn site fails ({v.params['how']})",
        "prepend": f"TCP resets when the drawn site prepends {count} time(s)",
        "udp_outage_over_1s": f"DNS (UDP) outages over {UDP_OUTAGE_S:g} s when it fails",
    }
    predicted, out = read(ctx)
    later = [(f"match-{item_id(k)}", f"{t}: prediction matches the run") for k, t in titles.items()]
    if not all(i.passed for i in out):
        return out + skip_all([("run", f"the testbed ran {RUN}")] + later)
    fails, shifts = drawn(v, ctx.keyring)
    scenario = lab_scenario("lab5-check", DURATION_S, timeline(v, fails, shifts))
    summary, ran = run_item(ctx, starting_topology(ctx), scenario, RUN, handout=True)
    out.append(ran)
    if summary is None:
        return out + skip_all(later)
    seen = measured(summary, clients)
    reasoned = expected(v)
    site = {"site_failure": fails, "prepend": shifts, "udp_outage_over_1s": fails}
    for (id_, title), key in zip(later, KEYS, strict=True):
        name = v.site[site[key]].name
        given = predicted[key] or {}
        out.append(match_item(id_, title, key, given.get(name), seen[key], reasoned[key][name]))
    return out


def match_item(
    id_: str,
    title: str,
    key: str,
    predicted: Optional[Set[str]],
    seen: Set[str],
    reasoned: Set[str],
) -> CheckItem:
    """One drawn case: the prediction against the run, the run against the reasoning."""
    if seen != reasoned:  # the network did not do what BGP and TCP do: the testbed's failure
        return item(
            id_, title, False, "the run disagrees with the path reasoning", HINT_RERUN,
            testbed=True, expected=reasoned, actual=seen,
        )  # fmt: skip
    right = predicted == seen
    return item(
        id_,
        title,
        right,
        "right" if right else "not what the network did",
        HINT_UDP if key.startswith("udp") else HINT_TCP,
        expected=seen,
        actual=predicted,
    )
