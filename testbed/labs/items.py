"""Check items: one line each, pass or fail, with a hint; and the report they make.

A hint points at the concept a failed item is about, never at the answer.
An item also carries, for the instructor's JSON only, the expected and the
actual value, and whether what failed is the testbed (a run that broke, or a
measurement that contradicts the lab's reasoning) rather than the student.

``lab check``'s exit status (:meth:`Report.status`): :data:`PASSED`,
:data:`WRONG`, :data:`BAD_INPUT`, :data:`TESTBED_FAILED`, :data:`TAMPERED`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

#: The detail of items that were not run because an earlier item failed.
SKIPPED = "not run: fix the items above first"
#: Exit statuses of ``lab check``: every item passed; an answer or file is wrong; bad input
#: (one line); the testbed failed (check again); a signed file was tampered with (one line).
PASSED, WRONG, BAD_INPUT, TESTBED_FAILED, TAMPERED = 0, 1, 2, 3, 4


@dataclass
class CheckItem:
    """One checked point of a lab."""

    id: str
    title: str
    passed: bool
    detail: str = ""
    hint: str = ""
    testbed: bool = False  # the testbed's problem (a broken run, a run against the reasoning)
    expected: Any = None  # instructors only: what was asked for
    actual: Any = None  # instructors only: what the student gave or the run did

    def public(self) -> Dict[str, Any]:
        """What ``--json`` shows (never the expected value)."""
        return {
            "id": self.id,
            "title": self.title,
            "passed": self.passed,
            "detail": self.detail,
            "hint": self.hint,
            "testbed_failed": self.testbed,
        }

    def line(self) -> str:
        """``PASS  title: detail`` (and ``hint: ...`` on failure), one line."""
        text = f"{'PASS' if self.passed else 'FAIL'}  {self.title}"
        if self.detail:
            text += f": {self.detail}"
        if not self.passed and self.hint:
            text += f"  (hint: {self.hint})"
        return text


def item(
    id_: str,
    title: str,
    passed: bool,
    detail: str = "",
    hint: str = "",
    *,
    testbed: bool = False,
    expected: Any = None,
    actual: Any = None,
) -> CheckItem:
    """A check item (a short form of :class:`CheckItem`).

    Args:
        id_: stable identifier for graders (``site-added``).
        title: what is checked, as a sentence fragment.
        passed: the verdict.
        detail: the figures behind it (never the answer).
        hint: shown on failure: the concept to look at.
        testbed: the testbed failed here, not the student.
        expected: for the instructor's JSON: what was asked for.
        actual: for the instructor's JSON: what the student gave or the run did.

    Returns:
        The item.
    """
    return CheckItem(
        id_,
        title,
        bool(passed),
        detail,
        hint if not passed else "",
        bool(testbed),
        plain(expected),
        plain(actual),
    )


def plain(value: Any) -> Any:
    """JSON-friendly: sets as sorted lists, tuples as lists, mappings recursively."""
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return str(value)
    return value


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
    notes: List[str] = field(default_factory=list)

    @property
    def testbed_failed(self) -> bool:
        """True when an item says the testbed failed (its verdicts cannot be trusted)."""
        return any(i.testbed for i in self.items)

    @property
    def passed(self) -> bool:
        """True when every item passed (and there is at least one) on a working testbed."""
        return bool(self.items) and all(i.passed for i in self.items) and not self.testbed_failed

    def status(self) -> int:
        """The exit status: :data:`PASSED`, :data:`TESTBED_FAILED` or :data:`WRONG`."""
        if self.testbed_failed:
            return TESTBED_FAILED
        return PASSED if self.passed else WRONG

    def score(self) -> str:
        """``passed/total``."""
        return f"{sum(i.passed for i in self.items)}/{len(self.items)}"

    def lines(self) -> List[str]:
        """One line per item, then the verdict."""
        out = [i.line() for i in self.items] + list(self.notes)
        verdict = "all checks passed" if self.passed else "some checks failed"
        if self.testbed_failed:
            verdict = "the testbed failed, not necessarily your work: check again"
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
            "status": self.status(),
            "testbed_failed": self.testbed_failed,
            "score": self.score(),
            "items": [i.public() for i in self.items],
            "notes": list(self.notes),
            "run_dir": self.run_dir,
            "seconds": round(self.seconds, 1),
        }

    def instructor_dict(self, extra: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """The instructor's JSON: per item expected, actual, points, pass/fail.

        Args:
            extra: more top-level fields (the answers' attempts, signatures).
        """
        items = [
            {
                **asdict(i),
                "testbed_failed": i.testbed,
                "points": int(i.passed and not i.testbed),
                "max_points": 1,
            }
            for i in self.items
        ]
        for entry in items:
            entry.pop("testbed")
        return {
            **self.as_dict(),
            "points": sum(e["points"] for e in items),
            "max_points": len(items),
            "items": items,
            **(extra or {}),
        }
