"""The health state machine (rise/fall counts) and the announcement each action implies.

Pure logic, no I/O: :class:`HealthMachine` turns a stream of check results
into up/down transitions, :func:`announcement` says what the site should
announce in each state for each action (withdraw, MED demotion, prepending),
and :func:`min_sites_hold` / :func:`held_announcement` keep a site announced
when withdrawing it would leave fewer than ``min_sites`` sites announced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

UP, DOWN = "up", "down"


class HealthMachine:
    """Rise/fall hysteresis: ``fall`` failed rounds in a row go down, ``rise`` good ones up.

    The machine starts ``up`` (a site is announced when the testbed starts);
    a round is one set of checks, good only if every check passed.
    """

    def __init__(self, rise: int, fall: int, state: str = UP):
        """Args:
        rise: good rounds in a row needed to go up (>= 1).
        fall: failed rounds in a row needed to go down (>= 1).
        state: the initial state.
        """
        if rise < 1 or fall < 1:
            raise ValueError("rise and fall must be at least 1")
        self.rise, self.fall, self.state = rise, fall, state
        self.streak = 0  # rounds in a row that disagree with the state

    def feed(self, ok: bool) -> Optional[str]:
        """Take one round's result.

        Args:
            ok: True if every check of the round passed.

        Returns:
            The new state if this round changed it, else None.
        """
        agrees = ok == (self.state == UP)
        if agrees:
            self.streak = 0
            return None
        self.streak += 1
        if self.streak >= (self.fall if self.state == UP else self.rise):
            self.state = DOWN if self.state == UP else UP
            self.streak = 0
            return self.state
        return None


@dataclass(frozen=True)
class Announcement:
    """What a site announces: whether at all, with which MED and how many prepends."""

    announced: bool = True
    med: Optional[int] = None
    prepend: int = 0


def announcement(
    state: str, action: str, base: Announcement = Announcement(), med: int = 1000, prepend: int = 3
) -> Announcement:
    """The announcement for a health state under an action.

    Args:
        state: ``up`` or ``down``.
        action: ``withdraw``, ``med`` (demote by MED) or ``prepend``.
        base: the site's normal announcement (its configured MED and prepends).
        med: the MED announced while down (``med``).
        prepend: the prepends while down (``prepend``), added to the base ones.

    Returns:
        The announcement: ``base`` when up.
    """
    if state == UP:
        return base
    if action == "withdraw":
        return Announcement(False, base.med, base.prepend)
    if action == "med":
        return Announcement(True, med, base.prepend)
    if action == "prepend":
        return Announcement(True, base.med, base.prepend + prepend)
    raise ValueError(f"unknown health action {action!r}")


def min_sites_hold(min_sites: Optional[int], others_announced: int) -> Optional[str]:
    """Why a site must stay announced although it should withdraw (None: it may withdraw).

    Args:
        min_sites: the fewest sites that must stay announced (None: no rule).
        others_announced: how many other sites are announced now.

    Returns:
        ``"min_sites 2: 1 site would remain announced"`` when withdrawing
        would leave fewer than ``min_sites``, else None.
    """
    if min_sites is None or others_announced >= min_sites:
        return None
    sites = "site" if others_announced == 1 else "sites"
    return f"min_sites {min_sites}: {others_announced} {sites} would remain announced"


def held_announcement(
    want: Announcement, current: Announcement, min_sites: Optional[int], others_announced: int
) -> Tuple[Announcement, Optional[str]]:
    """The announcement to make, with the ``min_sites`` rule applied.

    Only a withdrawal of an announced route is ever held: the site then keeps
    announcing as it does now (``current``), and the reason says why.

    Args:
        want: what the state and action ask for (:func:`announcement`).
        current: what the site announces now.
        min_sites: the rule's figure (None: no rule).
        others_announced: how many other sites are announced now.

    Returns:
        (the announcement to make, the reason it differs from ``want`` or None).
    """
    if want.announced or not current.announced:
        return want, None
    reason = min_sites_hold(min_sites, others_announced)
    return (current, reason) if reason else (want, None)
