"""Helpers for the lab tests: working copies and checks with a fake run."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple

from testbed.labs.items import CheckItem
from testbed.labs.registry import get_lab
from testbed.labs.runner import LabContext
from testbed.labs.variant import Variant, make_variant
from testbed.labs.workcopy import render
from tests.unit.labs.fake import FakeRun


def workcopy(
    tmp: Path, lab: int, student: Optional[str] = None, solution: bool = False
) -> Tuple[Path, Variant]:
    """Render a working copy into ``tmp`` and return it with its variant."""
    variant = make_variant(lab, student)
    dest = tmp / f"lab{lab}-{student or 'ref'}-{'sol' if solution else 'start'}"
    render(get_lab(lab), variant, dest, solution=solution)
    return dest, variant


def check(dest: Path, variant: Variant) -> Tuple[List[CheckItem], FakeRun]:
    """Run the lab's checker on a working copy with the fake engine."""
    fake = FakeRun(variant)
    ctx = LabContext(dest, variant, fake)
    return get_lab(variant.lab).checker()(ctx), fake


def failed(items: List[CheckItem]) -> List[str]:
    """The ids of the failed items."""
    return [i.id for i in items if not i.passed]
