"""Check items: one line each, pass or fail, with a hint; and the report they make.

A hint points at the concept a failed item is about, never at the answer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

#: The detail of items that were not run because an earlier item failed.
SKIPPED = "not run: fix the items above first"


@dataclass
class CheckItem:
    """One checked point of a lab."""

    id: str
    title: str
    passed: bool
    detail: str = ""
    hint: str = ""

    def line(self) -> str:
        """``PASS  title: detail`` (and ``hint: ...`` on failure), one line."""
        text = f"{'PASS' if self.passed else 'FAIL'}  {self.title}"
        if self.detail:
            text += f": {self.detail}"
        if not self.passed and self.hint:
            text += f"  (hint: {self.hint})"
        return text


def item(id_: str, title: str, passed: bool, detail: str = "", hint: str = "") -> CheckItem:
    """A check item (a short form of :class:`CheckItem`).

    Args:
        id_: stable identifier for graders (``site-added``).
        title: what is checked, as a sentence fragment.
        passed: the verdict.
        detail: the figures behind it.
        hint: shown on failure: the concept to look at.

    Returns:
        The item.
    """
    return CheckItem(id_, title, bool(passed), detail, hint if not passed else "")


def skipped(id_: str, title: str, hint: str = "") -> CheckItem:
    """A failed item that could not be checked because an earlier one failed."""
    return CheckItem(id_, title, False, SKIPPED, hint)


@dataclass
class Report:
    """The outcome of ``lab check``."""

    lab: int
    slug: str
    student: Optional[str]
    items: List[CheckItem] = field(default_factory=list)
    run_dir: Optional[str] = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """True when every item passed (and there is at least one)."""
        return bool(self.items) and all(i.passed for i in self.items)

    def score(self) -> str:
        """``passed/total``."""
        return f"{sum(i.passed for i in self.items)}/{len(self.items)}"

    def lines(self) -> List[str]:
        """One line per item, then the verdict."""
        out = [i.line() for i in self.items]
        verdict = "all checks passed" if self.passed else "some checks failed"
        who = f"student {self.student}" if self.student else "the reference variant"
        out.append(f"lab {self.lab} ({self.slug}), {who}: {self.score()} -- {verdict}")
        if self.run_dir:
            out.append(f"run: {self.run_dir}")
        return out

    def as_dict(self) -> Dict[str, Any]:
        """Plain data for ``--json`` (graders)."""
        return {
            "lab": self.lab,
            "slug": self.slug,
            "student": self.student,
            "passed": self.passed,
            "score": self.score(),
            "items": [asdict(i) for i in self.items],
            "run_dir": self.run_dir,
            "seconds": round(self.seconds, 1),
        }
