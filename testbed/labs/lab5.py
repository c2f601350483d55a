"""Lab 5, TCP versus UDP: predict whose TCP streams reset, then compare with a run.

The variant has three sites; one fails (its uplink goes down, or it goes
silent: only the hold timer notices) and later comes back, and another one
prepends its AS path.  Before running anything the student
writes, in ``predictions.yaml``, which clients' TCP streams are reset by the
failure and which by the prepend, and which clients lose DNS (UDP) service
for more than a second.  The checker runs the lab's scenario on the
hand-out topology (the student's copies do not matter) and compares the
predictions with the run: a reset needs a client whose packets reach a
different site, whatever the reason; UDP just carries on, once the routes
lead somewhere that answers (after a silent failure: a hold time later).
"""

from __future__ import annotations

from typing import Any, Dict, List, Set

from testbed.labs import answers
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
#: Prediction keys: (key in predictions.yaml, event index, title).
KEYS = (
    ("site_failure.tcp_reset", 0, "TCP resets when {fails} fails"),
    ("prepend.tcp_reset", 2, "TCP resets when {shifts} prepends {count}"),
)


def timeline(v: Variant) -> List[Dict[str, Any]]:
    """The lab's events (the hand-out's scenario.yaml has the same, later in time)."""
    fails, shifts = v.site[v.params["fails"]].name, v.site[v.params["shifts"]].name
    return [
        {"at": 3, "event": "fail_site", "site": fails, "how": v.params["how"]},
        {"at": 10, "event": "restore", "site": fails},
        {"at": 15, "event": "prepend", "site": shifts, "count": v.params["count"]},
    ]


def expected(v: Variant) -> Dict[str, Set[str]]:
    """The answers by path reasoning: prediction key -> clients."""
    fails, shifts = v.params["fails"], v.params["shifts"]
    base = v.catchment()
    down = v.catchment(*[r for r in v.site if r != fails])
    shifted = v.catchment(prepend={shifts: v.params["count"]})
    lost = {c for c in base if base[c] != down[c]}
    silent = v.params["how"] == "silent"
    return {
        # a silent site's streams time out (3 s) before its hold time (5 s) moves
        # their clients, who then connect elsewhere: no reset
        "site_failure.tcp_reset": set() if silent else lost,
        "prepend.tcp_reset": {c for c in base if base[c] != shifted[c]},
        # a silent site is withdrawn only when the hold time expires
        "udp_outage_over_1s": lost if silent else set(),
    }


def measured(summary: Summary, clients: List[str]) -> Dict[str, Set[str]]:
    """The same sets, from a run of :func:`timeline`."""
    out: Dict[str, Set[str]] = {}
    for key, index, _title in KEYS:
        start, end = window(summary, index)
        out[key] = {c for c, n in resets_in(summary, start, end).items() if n}
    out["udp_outage_over_1s"] = {
        c for c in clients if max_outage_in(summary, c, -1e9, 1e9) > UDP_OUTAGE_S
    }
    return out


def check(ctx: LabContext) -> List[CheckItem]:
    """Check a working copy of lab 5.

    Args:
        ctx: the working copy, the variant and the runner.

    Returns:
        The check items, in order.
    """
    v = ctx.variant
    clients = [c.name for c in v.clients]
    words = {
        "fails": v.site[v.params["fails"]].name,
        "shifts": v.site[v.params["shifts"]].name,
        "count": v.params["count"],
    }
    titles = {key: title.format(**words) for key, _i, title in KEYS}
    titles["udp_outage_over_1s"] = f"DNS (UDP) outages over {UDP_OUTAGE_S:g} s"
    data, problem = ctx.read_answers("predictions.yaml")
    predicted: Dict[str, Any] = {}
    out: List[CheckItem] = []
    for key in titles:
        value, why = (
            (None, problem) if problem else answers.client_set(answers.lookup(data, key), clients)
        )
        predicted[key] = value
        out.append(
            item(
                f"predicted-{key.split('.')[0].replace('_', '-')}",
                f"predictions.yaml: {key}",
                value is not None,
                why or "answered",
                "a list of client names, [] for none",
            )
        )
    later = [
        (f"match-{key.split('.')[0].replace('_', '-')}", f"{t}: prediction matches the run")
        for key, t in titles.items()
    ]
    if not all(i.passed for i in out):
        return out + skip_all([("run", "the testbed ran the lab's scenario")] + later)
    scenario = lab_scenario("lab5-check", 20, timeline(v))
    summary, ran = run_item(
        ctx, starting_topology(ctx), scenario, "the lab's scenario", handout=True
    )
    out.append(ran)
    if summary is None:
        return out + skip_all(later)
    seen = measured(summary, clients)
    for (id_, title), key in zip(later, titles, strict=True):
        wrong = answers.wrong_count(predicted[key], seen[key], clients)
        out.append(
            item(
                id_,
                title,
                wrong == 0,
                f"{len(clients) - wrong}/{len(clients)} clients right",
                HINT_UDP if key.startswith("udp") else HINT_TCP,
                expected=seen[key],
                actual=predicted[key],
            )
        )
    return out
