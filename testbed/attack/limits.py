"""The hard ceilings on attack traffic, enforced in code (documented in docs/load.md).

Attack sources send real packets as fast as one process can (about 200,000
packets/s here), on a 2-core machine that also runs every router, server
and probe of the testbed.  These ceilings keep an attack inside what the
machine can carry while the legitimate probes still measure truthfully, and
keep any run finite.  No option lifts them: the topology and scenario checks
call :func:`problems` (nothing starts), and the sender
(:mod:`testbed.attack.sender`) checks its own arguments again before it
sends anything.
"""

from __future__ import annotations

import math
from typing import List, Optional, Tuple

#: Packets/s one attack source may send.
MAX_SOURCE_RATE = 100_000
#: Packets/s all attack sources of a run may send together.
MAX_TOTAL_RATE = 200_000
#: Seconds one sender may run (and one attack may last).
MAX_DURATION = 600
#: UDP payload bytes per packet at most (an IPv4 packet under 1500 bytes).
MAX_SIZE = 1400
#: UDP payload bytes per packet at least (a DNS header).
MIN_SIZE = 12
#: Attack sources per run.
MAX_SOURCES = 64
#: Seconds a ramp (0 to the full rate) may take.
MAX_RAMP = 60

#: Where the ceilings are explained; every problem ends with it.
DOC = "docs/load.md"


def _finite(value: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def problems(
    rate: float,
    sources: int = 1,
    size: Optional[int] = None,
    duration: Optional[float] = None,
    ramp: Optional[float] = None,
) -> List[Tuple[str, str]]:
    """What in an attack exceeds a ceiling, as ``(field, problem)`` pairs.

    Args:
        rate: packets/s per source.
        sources: how many sources send at ``rate``.
        size: UDP payload bytes (None: not checked).
        duration: seconds the attack lasts (None: not checked).
        ramp: seconds to reach the full rate (None: not checked).

    Returns:
        ``(field, problem)`` for every ceiling exceeded, field one of ``rate``,
        ``sources``, ``size``, ``duration``, ``ramp``; empty if all is well.
    """
    out: List[Tuple[str, str]] = []
    if not (_finite(rate) and 0 < rate <= MAX_SOURCE_RATE):
        out.append(
            ("rate", f"{rate:g} packets/s per source: more than 0 and at most {MAX_SOURCE_RATE}")
        )
    elif sources > 0 and rate * sources > MAX_TOTAL_RATE:
        out.append(
            (
                "rate",
                f"{sources} sources x {rate:g} packets/s = {rate * sources:g} packets/s in all: "
                f"at most {MAX_TOTAL_RATE}",
            )
        )
    if not 0 <= sources <= MAX_SOURCES:
        out.append(("sources", f"{sources} attack sources: at most {MAX_SOURCES}"))
    if size is not None and not MIN_SIZE <= size <= MAX_SIZE:
        out.append(("size", f"{size} bytes of payload: from {MIN_SIZE} to {MAX_SIZE}"))
    if duration is not None and not (_finite(duration) and 0 < duration <= MAX_DURATION):
        out.append(("duration", f"{duration:g} s: more than 0 and at most {MAX_DURATION} s"))
    if ramp is not None and not (_finite(ramp) and 0 <= ramp <= MAX_RAMP):
        out.append(("ramp", f"a ramp of {ramp:g} s: from 0 to {MAX_RAMP} s"))
    return [(field, f"{problem} ({DOC})") for field, problem in out]


def check(
    rate: float,
    sources: int = 1,
    size: Optional[int] = None,
    duration: Optional[float] = None,
    ramp: Optional[float] = None,
) -> List[str]:
    """:func:`problems` as ``"field: problem"`` lines (empty if all is well)."""
    return [
        f"{field}: {problem}" for field, problem in problems(rate, sources, size, duration, ramp)
    ]
