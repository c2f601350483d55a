"""Inputs a check draws when it runs: what the student predicts for, but cannot run first.

A lab whose answers could be read off a run of the hand-out asks for
predictions over several cases (every link between two transits, say), and
its check draws the cases it runs only when it runs.  The draw is keyed by
the check's signing key (:mod:`testbed.labs.signing`): with the course
secret, the instructor's check draws cases nobody can compute without the
secret, the same ones on every check of that student's copy (grading is
reproducible); a student's own check (this install's key) draws its own.
Without any key (unit tests) the draw depends on the variant alone.
Predictions are frozen at the first graded check (:mod:`testbed.labs.attempts`),
so drawing again cannot help a student either.

Labs 1 and 6 draw link failures between transits: :func:`link_events` puts
the drawn links down and up again in the check's run, :func:`changed_in`
reads who changed site while each was down, and :func:`link_item` grades
that against the predictions and the lab's reasoning.
"""

from __future__ import annotations

import random
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple, TypeVar

from testbed.analysis.model import Summary
from testbed.labs.items import CheckItem, item
from testbed.labs.runner import sites_after_event, sites_before, window
from testbed.labs.signing import Keyring
from testbed.labs.variant import REFERENCE, Variant

T = TypeVar("T")
Link = Tuple[str, str]

#: A drawn failure's outcome contradicts the lab's reasoning: the testbed's failure.
HINT_RERUN = "the run contradicts how BGP works here: check again"


def check_rng(variant: Variant, what: str, keyring: Optional[Keyring] = None) -> random.Random:
    """A generator for ``what`` (``lab1 links``) in ``variant``'s check, keyed as above."""
    text = f"anycast-testbed check inputs|{what}|lab {variant.lab}|{variant.student or REFERENCE}"
    signer = keyring.signer if keyring is not None else None
    seed = signer.salt(text) if signer is not None else text.encode()
    return random.Random(seed)


def draw_cases(
    variant: Variant, what: str, cases: Sequence[T], count: int, keyring: Optional[Keyring] = None
) -> List[T]:
    """``count`` of ``cases`` (all of them when there are no more), in their own order."""
    if len(cases) <= count:
        return list(cases)
    picked = set(check_rng(variant, what, keyring).sample(range(len(cases)), count))
    return [c for i, c in enumerate(cases) if i in picked]


# ------------------------------------------------------- link failures between transits
def link_key(link: Link) -> str:
    """A link between two transits as ``predictions.yaml`` names it (``umbra-ember``)."""
    return f"{link[0]}-{link[1]}"


def link_events(
    links: Sequence[Link], down_at: Sequence[float], down_for: float
) -> List[Dict[str, Any]]:
    """Timeline events: each link down at its time of ``down_at``, up ``down_for`` s later."""
    events: List[Dict[str, Any]] = []
    for (a, b), at in zip(links, down_at, strict=False):
        events.append({"at": at, "event": "link", "a": a, "b": b, "state": "down"})
        events.append({"at": at + down_for, "event": "link", "a": a, "b": b, "state": "up"})
    return events


def changed_in(summary: Summary, index: int, clients: Sequence[str]) -> Set[str]:
    """The clients whose site event ``index`` changed: moved elsewhere, or left without any.

    A client is left without a site when its DNS outage that starts with the
    event lasts until the next event (no answer while the link was down).
    """
    before = sites_before(summary)
    after = sites_after_event(summary, index)
    start, end = window(summary, index)
    out = {c for c in clients if after.get(c) != before.get(c)}
    for c in clients:
        figures = summary.clients.get(c)
        outages = figures.dns.outages if figures is not None else []
        if any(start - 0.5 <= o.start < end and o.start + o.duration >= end - 0.5 for o in outages):
            out.add(c)
    return out


def link_item(
    summary: Summary,
    links: Sequence[Link],
    first: int,
    clients: Sequence[str],
    reasoned: Mapping[str, Set[str]],
    predicted: Mapping[str, Set[str]],
    title: str,
    hint: str,
) -> CheckItem:
    """The item ``if-link-down``: who changed site while each drawn link was down.

    Args:
        summary: the check's run.
        links: the drawn links, in the order the run failed them.
        first: the index of the first link's ``down`` event (each is followed by its ``up``).
        clients: the variant's client names.
        reasoned: link key -> the clients the lab's reasoning says change site.
        predicted: link key -> the student's clients (every link of the lab).
        title: the item's title.
        hint: shown when the predictions are wrong.

    Returns:
        Right or "not what the network did" (never which link, client or how many);
        a run that contradicts the reasoning is the testbed's failure.
    """
    seen = {
        link_key(link): changed_in(summary, first + 2 * i, clients) for i, link in enumerate(links)
    }
    if seen != dict(reasoned):  # the network did not do what BGP does: the testbed's failure
        return item(
            "if-link-down", title, False, "the run disagrees with the path reasoning", HINT_RERUN,
            testbed=True, expected=dict(reasoned), actual=seen,
        )  # fmt: skip
    right = all(predicted.get(k) == changed for k, changed in seen.items())
    return item(
        "if-link-down",
        title,
        right,
        "right" if right else "not what the network did",
        hint,
        expected=seen,
        actual={k: predicted.get(k) for k in seen},
    )
