"""One ``lab check``: open the working copy, run the lab's checker, freeze the answers.

:func:`check_copy` ties the pieces together: the working copy's variant
(``.lab.json`` checked against its digest and signature), the answers frozen
at the first graded check (:mod:`testbed.labs.attempts`), the checker with a
``run`` function, and the report.  Printing and exit statuses are the CLI's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from testbed.labs import attempts
from testbed.labs.items import Report
from testbed.labs.registry import Lab
from testbed.labs.runner import LabContext, RunFn, Say, Summary
from testbed.labs.signing import Keyring, check_folder
from testbed.labs.workcopy import WorkingCopy, open_copy

#: Said when an answer file differs from the answers frozen at the first graded check.
CHANGED = "{name} changed after first check ({at}): graded on the answers frozen then"
NOT_VERIFIED = "note: {name} was signed on another machine: not verified here"
NOT_SIGNED = "note: {name} is not signed"


@dataclass
class Checked:
    """What a check found: the report, the working copy, the attempts' record."""

    report: Report
    copy: WorkingCopy
    record: attempts.Record
    changed: List[str]

    def instructor(self) -> Dict[str, Any]:
        """The instructor's JSON (:meth:`~testbed.labs.items.Report.instructor_dict`)."""
        return self.report.instructor_dict(
            {
                "salted": self.copy.salted,
                "changed_after_first_check": self.changed,
                "first_checked": {n: self.record.first_at(n) for n in self.record.files},
                "attempts": self.record.attempts(),
                "attempts_verified": self.record.verified,
            }
        )


def check_copy(
    lab: Lab,
    dest: Path,
    student: Optional[str],
    ring: Keyring,
    run: RunFn,
    say: Say,
    run_dirs: List[str],
) -> Checked:
    """Check a working copy.

    Args:
        lab: the lab.
        dest: the working copy.
        student: ``--student`` (the copy must be this student's), or None.
        ring: the course secret and this install's key.
        run: runs a scenario (the engine, or a fake in tests).
        say: progress lines.
        run_dirs: the run folders made (the runner appends to it).

    Returns:
        The outcome.

    Raises:
        InputError: not a working copy, someone else's, made with another
            course secret or without the one given.
        Tampered: ``.lab.json``, ``.lab-attempts.json`` or a signed run folder
            was edited (all checked before anything runs).
    """
    copy = open_copy(lab, dest, student, ring)
    record = attempts.load(dest, ring)
    runs = dest / "runs"
    for folder in sorted(runs.iterdir()) if runs.is_dir() else []:
        if folder.is_dir():
            check_folder(ring, folder)  # a tampered run is refused before anything runs
    graded: List[bool] = []

    def counted(topo: Any, data: Dict[str, Any]) -> Summary:
        summary = run(topo, data)
        graded.append(True)
        return summary

    ctx = LabContext(dest, copy.variant, counted, say, run_dirs, ring, record.frozen())
    started = time.monotonic()
    items = lab.checker()(ctx)
    changed = sorted(ctx.changed())
    notes = [CHANGED.format(name=n, at=record.first_at(n)) for n in changed]
    if record.files and record.verified is None:
        notes.append(NOT_VERIFIED.format(name=attempts.ATTEMPTS))
    elif record.files and record.verified is False:
        notes.append(NOT_SIGNED.format(name=attempts.ATTEMPTS))
    if graded and ctx.answers_now:
        for name, data in sorted(ctx.answers_now.items()):
            record.add(name, data)
        record.save(ring.signer)
    report = Report(
        lab.number, lab.slug, copy.variant.student, items, None, time.monotonic() - started, notes
    )
    report.run_dir = run_dirs[-1] if run_dirs else None
    return Checked(report, copy, record, changed)
