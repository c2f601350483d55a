"""The runs a lab's measured answers need, made as a student makes them, figures written in.

Used by the instructors' ``lab solution --measure`` (:mod:`testbed.labs.solution`)
so that a solution copy passes ``lab check`` straight away, by the lab tests and
by ``bench/labs.py``.  Lab 3 is the only lab with a measured answer: the
link-down outage, which its checker compares with the copy's own runs.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Callable, Dict

import yaml

from testbed.errors import TestbedError
from testbed.labs.variant import Variant

#: Runs one ``anycast-testbed ...`` command line; its exit status.
RunLine = Callable[[str], int]


def measure_lab3(dest: Path, variant: Variant, run: RunLine) -> None:
    """Lab 3: a link-down run in ``dest/runs``, its figure as ``outage_link_down_s``.

    The figure is the longest ``max_outage_s`` of the failing site's clients,
    what a student reads in the run's ``summary.json``.
    """
    runs = dest / "runs"
    before = set(runs.iterdir()) if runs.exists() else set()
    scenario, out = shlex.quote(str(dest / "scenario.yaml")), shlex.quote(str(runs))
    line = f"anycast-testbed run {scenario} --out {out} --set timeline.0.how=link-down"
    code = run(line)
    made = sorted(set(runs.iterdir()) - before) if runs.exists() else []
    if code not in (0, 1) or len(made) != 1:  # 1: the hand-out's expectation failed
        raise TestbedError(f"the link-down run of {dest} failed (exit status {code})")
    summary = json.loads((made[0] / "summary.json").read_text())
    fails = variant.site[variant.params["fails"]].name
    theirs = [c for c, s in variant.catchment().items() if s == fails]
    figure = max(summary["clients"][c]["dns"]["max_outage_s"] for c in theirs)
    path = dest / "answers.yaml"
    text = path.read_text().replace("outage_link_down_s: null", f"outage_link_down_s: {figure}")
    if yaml.safe_load(text).get("outage_link_down_s") != figure:
        raise TestbedError(f"{path}: no 'outage_link_down_s: null' line to fill in")
    path.write_text(text)


#: Per lab, what ``--measure`` does (labs without measured answers: nothing).
MEASURE: Dict[int, Callable[[Path, Variant, RunLine], None]] = {3: measure_lab3}
