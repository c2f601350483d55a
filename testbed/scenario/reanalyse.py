"""A run folder analysed again from its records alone (``anycast-testbed report``).

The scenario's expectations are read back from ``RUN/scenario.yaml`` and
evaluated again on the records; the old ``summary.json`` gives only why the
run was cut short, never a verdict.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from testbed.errors import InputError


@dataclass
class Reanalysis:
    """What :func:`reanalyse` wrote.

    Attributes:
        summary: the new ``summary.json``.
        checks: the scenario's ``expect`` checks, or None for a folder
            without ``scenario.yaml`` (``up --traffic``).
    """

    summary: Dict[str, Any]
    checks: Optional[List[Any]]

    @property
    def expectations_met(self) -> bool:
        """Every evaluated expectation passed (True when there are none)."""
        return all(e.get("passed") for e in self.summary.get("expect", []))


def run_expectations(run_dir: Path) -> Optional[list]:
    """The ``expect`` checks of the scenario a run folder ran (``RUN/scenario.yaml``).

    Returns:
        The check models, or None for a folder without scenario.yaml (``up --traffic``).

    Raises:
        InputError: scenario.yaml is unreadable or not a valid scenario (naming it).
    """
    from testbed.scenario.load import parse_scenario
    from testbed.topology.load import read_yaml

    path = run_dir / "scenario.yaml"
    if not os.path.lexists(path):
        return None
    return list(parse_scenario(read_yaml(path), str(path)).expect)


def reanalyse(run_dir: Path, plots: bool = True) -> Reanalysis:
    """Re-render ``summary.json``, ``report.md`` and (with ``plots``) ``plots/`` of a run folder.

    Raises:
        InputError: not a run folder, nothing in it, a run stopped before its
            timeline, a corrupt record or meta.json, a folder that cannot be
            read or written (one line naming it).
    """
    from testbed.analysis import analyse
    from testbed.records import BadRecordError
    from testbed.runfolder import check_report_folder, read_json_object
    from testbed.scenario.expect import evaluate

    meta = check_report_folder(run_dir)  # not a run folder, nothing in it: one line
    checks = run_expectations(run_dir)
    if checks is not None and meta is None:
        raise InputError(
            "no such file: the run stopped before its timeline started (nothing to report)",
            str(run_dir / "meta.json"),
        )
    extra = {}
    try:  # only why the run was cut short is kept from the old summary, never a verdict
        old = read_json_object(run_dir / "summary.json")
        if isinstance(old.get("interrupted"), str):
            extra["interrupted"] = old["interrupted"]
    except InputError:
        pass
    try:
        judge = (lambda current: evaluate(checks, current)) if checks else None
        summary = analyse(run_dir, judge=judge, extra=extra, plots=plots)
    except BadRecordError as exc:
        raise InputError(exc.problem, str(exc.path), f"line {exc.line}") from None
    except OSError as exc:
        where = str(exc.filename or run_dir)
        raise InputError(f"cannot read or write: {exc.strerror or exc}", where) from None
    return Reanalysis(summary, checks)
