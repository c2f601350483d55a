"""Helpers for the lab tests: working copies and checks with a fake run."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple

import yaml

from testbed.labs.items import CheckItem
from testbed.labs.registry import get_lab
from testbed.labs.runner import LabContext
from testbed.labs.variant import Variant, make_variant
from testbed.labs.workcopy import render
from tests.unit.labs.fake import FakeRun, measured, student_run

#: ``--set`` for lab 3's two measured failures on the solution's scenario (silent, with BFD).
LINK_DOWN = ("timeline.0.how=link-down",)
SILENT_NO_BFD = ("timeline.0.how=silent", "bfd=off")


def workcopy(
    tmp: Path, lab: int, student: Optional[str] = None, solution: bool = False
) -> Tuple[Path, Variant]:
    """Render a working copy into ``tmp`` and return it with its variant.

    A lab 3 solution also gets what its student would have done by then: the
    two measured runs in ``runs/`` and their figures in ``answers.yaml``.
    """
    variant = make_variant(lab, student)
    dest = tmp / f"lab{lab}-{student or 'ref'}-{'sol' if solution else 'start'}"
    render(get_lab(lab), variant, dest, solution=solution)
    if solution and lab == 3:
        measure_lab3(dest, variant)
    return dest, variant


def measure_lab3(dest: Path, variant: Variant) -> None:
    """Lab 3's measurement, as a student makes it: a link-down run, its figure in answers.yaml."""
    fails = variant.site[variant.params["fails"]].name
    theirs = [c for c, s in variant.catchment().items() if s == fails]
    down = measured(student_run(dest, variant, LINK_DOWN), theirs)
    path = dest / "answers.yaml"
    data = yaml.safe_load(path.read_text())
    data.update(outage_link_down_s=down)
    path.write_text(yaml.safe_dump(data))


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
