"""Helpers for the lab tests: working copies and checks with a fake run."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple

import yaml

from testbed.labs import measure
from testbed.labs.items import CheckItem
from testbed.labs.registry import get_lab
from testbed.labs.runner import LabContext
from testbed.labs.variant import Variant, make_variant
from testbed.labs.workcopy import render
from tests.unit.labs.fake import FakeRun, student_run

#: ``--set`` for lab 3's measured failure on the hand-out's scenario.
LINK_DOWN = ("timeline.0.how=link-down",)


def workcopy(
    tmp: Path, lab: int, student: Optional[str] = None, solution: bool = False
) -> Tuple[Path, Variant]:
    """Render a working copy into ``tmp`` and return it with its variant.

    A lab 3 solution also gets what its student would have done by then: the
    link-down run in ``runs/`` and its figure in ``answers.yaml``.
    """
    variant = make_variant(lab, student)
    dest = tmp / f"lab{lab}-{student or 'ref'}-{'sol' if solution else 'start'}"
    render(get_lab(lab), variant, dest, solution=solution)
    if solution and lab == 3:
        measure_lab3(dest, variant)
    return dest, variant


def measure_lab3(dest: Path, variant: Variant) -> None:
    """Lab 3's measurement, as ``lab solution --measure`` makes it, on the fake engine."""

    def run(_line: str) -> int:
        student_run(dest, variant, LINK_DOWN)
        return 0

    measure.measure_lab3(dest, variant, run)


def check(
    dest: Path, variant: Variant, fake: Optional[FakeRun] = None
) -> Tuple[List[CheckItem], FakeRun]:
    """Run the lab's checker on a working copy with the fake engine."""
    fake = fake or FakeRun(variant)
    ctx = LabContext(dest, variant, fake)
    return get_lab(variant.lab).checker()(ctx), fake


def failed(items: List[CheckItem]) -> List[str]:
    """The ids of the failed items."""
    return [i.id for i in items if not i.passed]


def edit(path: Path, change: Callable[[Any], None]) -> None:
    """Load a YAML file, change its data in place, write it back."""
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))
