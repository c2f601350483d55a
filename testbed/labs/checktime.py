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
"""

from __future__ import annotations

import random
from typing import List, Optional, Sequence, TypeVar

from testbed.labs.signing import Keyring
from testbed.labs.variant import REFERENCE, Variant

T = TypeVar("T")


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
