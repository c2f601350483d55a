"""Lab 8's reasoning: which TCP remedy fits a service, from what each remedy needs.

Each remedy is a probe kind the testbed measures (docs/transport.md).  A
service has *needs*: some are facts about the service and its operator
(the server pushes over one long connection; users sit behind firewalls that
pass TCP only; each site keeps its own keys; no address space beyond the
anycast prefix), the others are figures the lab's run measures (back within
a budget of seconds when a site fails; no connection broken when a
te-shift moves clients although nothing failed).  A remedy fits a service
when it meets every need; :func:`fitting` lists them.

What each remedy does on the lab's two events is known from how it works
(:data:`EXPECTED`): the measured run is compared with it, and a
disagreement is the testbed's problem, not the student's.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

#: The remedies a student chooses from (probe kinds), in the order TASK.md lists them.
REMEDIES = ("tcp-retry", "http-short", "hybrid", "quic", "quic-shared")
#: The services, by answer key: (name in TASK.md, pushes over one long connection).
SERVICES = {
    "video": ("a live video stream", True),
    "api": ("a REST API", False),
    "chat": ("a chat socket", True),
}
#: Budgets (s) a service may be without service when its site fails.
BUDGETS = (1, 2, 10)
#: The lab's stream timeout (s): a long flow on a dead site notices after it
#: (the labs' ``tcp_timeout``; QUIC's idle timeout is the same).
TIMEOUT_S = 3.0
#: What each remedy does on the lab's events, by how it works: its worst time
#: without service when its users' site fails (s), and whether a te-shift
#: breaks its connections.  ``hybrid`` sits on the failed site's unicast
#: address and ``quic`` is not told by the new site: both wait for the
#: timeout; ``tcp-retry`` is reset and reconnects at once, ``quic-shared``
#: recognises the new site's stateless reset and resumes; ``http-short``
#: opens a connection per request and loses at most the one in flight
#: (one request interval at its 5 requests/s).
EXPECTED: Dict[str, Tuple[float, bool]] = {
    "tcp-retry": (0.1, True),
    "http-short": (0.2, False),
    "hybrid": (TIMEOUT_S + 0.3, False),
    "quic": (TIMEOUT_S + 0.3, True),
    "quic-shared": (0.4, True),
}
#: Trait needs: key -> (what TASK.md says, the remedies it rules out).
TRAITS: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    "push": ("the server pushes to the client over one long-lived connection", ("http-short",)),
    "tcp_only": (
        "many users sit behind firewalls that pass TCP only (no UDP)",
        ("quic", "quic-shared"),
    ),
    "own_keys": (
        "every site is run by a different partner and keeps its own keys and secrets",
        ("quic-shared",),
    ),
    "anycast_only": (
        "the service has no address space beyond its anycast prefix",
        ("hybrid",),
    ),
}


@dataclass(frozen=True)
class Needs:
    """What one service needs (see the module docstring)."""

    push: bool = False
    tcp_only: bool = False
    own_keys: bool = False
    anycast_only: bool = False
    budget_s: Optional[float] = None
    """Back within this many seconds when a site fails (None: no budget)."""
    steady: bool = False
    """No connection may break when a te-shift moves clients (nothing failed)."""

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Needs:
        """Needs from plain data (a variant's ``params["needs"][service]``)."""
        budget = data.get("budget_s")
        return cls(
            **{key: bool(data.get(key)) for key in TRAITS},
            budget_s=None if budget is None else float(budget),
            steady=bool(data.get("steady")),
        )

    def lines(self) -> List[str]:
        """The needs as TASK.md's sentences."""
        out = [text for key, (text, _out) in TRAITS.items() if getattr(self, key)]
        if self.budget_s is not None:
            out.append(
                f"its users may go at most {self.budget_s:g} s without service "
                "when their site fails"
            )
        if self.steady:
            out.append(
                "no connection may break when a traffic-engineering change moves users "
                "to another site (nothing failed)"
            )
        return out


@dataclass(frozen=True)
class Behaviour:
    """What a remedy did (or is expected to do) on the lab's two events."""

    worst_s: float
    """Its users' worst time without service when their site failed (inf: not back)."""
    shift_breaks: bool
    """Whether the te-shift broke any of its connections."""


def expected(remedy: str) -> Behaviour:
    """What ``remedy`` does on the lab's events, by how it works."""
    worst, breaks = EXPECTED[remedy]
    return Behaviour(worst, breaks)


def unmet(needs: Needs, remedy: str, behaviour: Optional[Behaviour] = None) -> List[str]:
    """The needs ``remedy`` does not meet (keys of :class:`Needs`), empty when it fits.

    Args:
        needs: the service's needs.
        remedy: a probe kind of :data:`REMEDIES`.
        behaviour: what it did (None: what it is expected to do).
    """
    got = behaviour or expected(remedy)
    out = [
        key
        for key, (_text, ruled_out) in TRAITS.items()
        if getattr(needs, key) and remedy in ruled_out
    ]
    if needs.budget_s is not None and not got.worst_s <= needs.budget_s:
        out.append("budget_s")
    if needs.steady and got.shift_breaks:
        out.append("steady")
    return out


def fitting(needs: Needs) -> List[str]:
    """The remedies that meet every need, by how they work, in :data:`REMEDIES` order."""
    return [r for r in REMEDIES if not unmet(needs, r)]


def measured_needs(needs: Needs, remedy: str, behaviour: Behaviour) -> bool:
    """Whether a measured behaviour agrees with the expected one on the needs that are measured."""
    keys = {"budget_s", "steady"}
    return {k for k in unmet(needs, remedy, behaviour) if k in keys} == {
        k for k in unmet(needs, remedy) if k in keys
    }


def figure_close(given: float, measured: float) -> bool:
    """Whether a student's figure from their own run matches the check's run.

    Two runs of the same events differ by some tenths of a second (when a
    timeout fires, when BGP converges): half a second, or 30 % of the
    check's figure when that is more, is accepted.
    """
    if math.isinf(measured):
        return False
    return abs(given - measured) <= max(0.5, 0.3 * measured)


#: The chance of each trait need being drawn for a service, and of a ``steady`` need.
TRAIT_CHANCE, STEADY_CHANCE = 0.35, 0.5


def draw_needs(rng: random.Random) -> Dict[str, Dict[str, Any]]:
    """Every service's needs for one variant, as plain data (``Needs(**data)``).

    The video stream always has a budget (its player's buffer); the chat
    socket a budget or the ``steady`` need; the API either, or neither.
    Every service has at least one fitting remedy.
    """
    while True:
        out: Dict[str, Dict[str, Any]] = {}
        for service, (_name, push) in SERVICES.items():
            traits = {key: rng.random() < TRAIT_CHANCE for key in TRAITS if key != "push"}
            steady = service != "video" and rng.random() < STEADY_CHANCE
            if service == "video" or (service == "chat" and not steady):
                budget: Optional[float] = float(rng.choice(BUDGETS))
            elif service == "api":
                budget = rng.choice((None, *map(float, BUDGETS)))
            else:
                budget = None
            out[service] = {"push": push, **traits, "budget_s": budget, "steady": steady}
        if all(fitting(Needs.of(data)) for data in out.values()):
            return out
