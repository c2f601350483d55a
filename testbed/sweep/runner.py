"""Run a list of prepared runs one after the other, one CSV row each.

Used by ``sweep`` (a grid of ``--param`` values) and ``reproduce`` (an
experiment's runs).  Every run goes through the same engine as ``run``
(:func:`testbed.scenario.prepare.execute`) and keeps its run folder under
``FOLDER/runs/``.  A progress bar shows runs done and left and an estimate
of the time left, with the current run's timeline below it.  Ctrl-C (or
SIGTERM) stops the current run cleanly, writes its row as ``interrupted``,
and ends the sweep with every finished row kept; a run that fails with an
error gets an ``error`` row and the sweep goes on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from testbed.console import Counts
from testbed.scenario.prepare import PreparedRun, execute
from testbed.sweep.eta import Eta, human
from testbed.sweep.figures import figures_of_run
from testbed.sweep.table import SweepCsv

#: A run's traffic time beyond settle + duration is part of the learnt overhead.
RUNS = "runs"


@dataclass
class Job:
    """One run of a sweep.

    Attributes:
        index: its number, from 1.
        values: the columns that identify it (swept parameters, experiment labels).
        repeat: the repetition, from 1.
        prepared: the validated scenario and topology.
    """

    index: int
    values: Dict[str, Any]
    repeat: int
    prepared: PreparedRun

    def label(self) -> str:
        """``bgp.hold=9 bfd=on #2``."""
        shown = (f"{k}={v}" for k, v in self.values.items() if v is not None)
        return " ".join([*shown, f"#{self.repeat}"])

    @property
    def planned_s(self) -> float:
        """Seconds of traffic: settle + duration."""
        sc = self.prepared.scenario
        return float(sc.settle + sc.duration)


@dataclass
class Outcome:
    """What a sweep produced: its rows, and why it stopped early (if it did)."""

    folder: Path
    rows: List[Dict[str, Any]] = field(default_factory=list)
    interrupted: Optional[str] = None
    errors: int = 0


def _row_line(job: Job, total: int, row: Dict[str, Any]) -> str:
    """One line after a run: its figures and status."""

    def s(key: str) -> str:
        value = row.get(key)
        return "-" if value is None else f"{value:.2f} s"

    status = row.get("status")
    colour = {"ok": "green", "failed": "yellow"}.get(str(status), "red")
    return (
        f"[{job.index}/{total}] {job.label()}: outage {s('max_outage_s')}, "
        f"convergence {s('convergence_s')}, [{colour}]{status}[/] ({row.get('run_dir')})"
    )


class Runner:
    """Runs jobs and writes ``sweep.csv`` under a folder."""

    def __init__(
        self,
        jobs: Sequence[Job],
        folder: Path,
        header: Sequence[str],
        console: Console,
        seed: int = 0,
        n_events: Optional[int] = None,
        on_row: Optional[Callable[[Dict[str, Any]], None]] = None,
    ):
        """Args:
        jobs: the runs, in order.
        folder: the sweep folder (created by the caller); runs go to ``FOLDER/runs/``.
        header: the CSV columns (:func:`testbed.sweep.table.columns`).
        console: where progress and one line per run go.
        seed: base seed; run with repeat ``r`` gets ``seed + r - 1``.
        n_events: per-event columns to fill (default: the most events of any job).
        on_row: called with each row after it is written.
        """
        self.jobs = list(jobs)
        self.folder = folder
        self.header = list(header)
        self.console = console
        self.seed = seed
        self.n_events = n_events
        if n_events is None:
            self.n_events = max((len(j.prepared.scenario.timeline) for j in self.jobs), default=0)
        self.on_row = on_row
        self.eta = Eta([j.planned_s for j in self.jobs])
        self._said: set = set()

    def run(self) -> Outcome:
        """Run every job (or until interrupted).

        Returns:
            The rows written and why the sweep stopped early, if it did.
        """
        runs = self.folder / RUNS
        runs.mkdir(parents=True, exist_ok=True)
        outcome = Outcome(self.folder)
        progress = Progress(
            TextColumn("{task.description}"), BarColumn(), Counts(), console=self.console
        )
        total = len(self.jobs)
        with SweepCsv(self.folder / "sweep.csv", self.header) as table, progress:
            task = progress.add_task("sweep", total=total, left=self._left(0))
            for i, job in enumerate(self.jobs):
                progress.update(task, description=f"run {i + 1}/{total}", left=self._left(i))
                started = time.monotonic()
                row = self._one(job, runs, progress)
                self.eta.done(i, time.monotonic() - started)
                table.write(row)
                outcome.rows.append(row)
                if self.on_row:
                    self.on_row(row)
                progress.console.print(_row_line(job, total, row))
                progress.update(task, completed=i + 1, left=self._left(i + 1))
                if row["status"] == "error":
                    outcome.errors += 1
                if row["status"] == "interrupted":
                    outcome.interrupted = row.get("error") or "interrupted"
                    break
        return outcome

    def _left(self, start: int) -> str:
        seconds = self.eta.left(start)
        if not seconds:
            return "done"
        finish = time.strftime("%H:%M", time.localtime(time.time() + seconds))
        return f"about {human(seconds)} left (done ~{finish})"

    def _one(self, job: Job, runs: Path, progress: Progress) -> Dict[str, Any]:
        """Run one job; its row, whatever happened."""
        row: Dict[str, Any] = {"run": job.index, **job.values, "repeat": job.repeat}
        before = set(runs.iterdir())
        tasks = set(progress.task_ids)

        def say(line: str) -> None:
            if line.startswith("warning") and line not in self._said:
                self._said.add(line)  # each warning once per sweep
                progress.console.print(f"  {line}")

        try:
            result = execute(
                job.prepared,
                runs,
                say=say,
                progress=progress,
                seed=self.seed + job.repeat - 1,
                extra_meta={"sweep": {"run": job.index, "repeat": job.repeat, **job.values}},
            )
        except KeyboardInterrupt as exc:  # outside the engine's own handling (analysis)
            row.update(status="interrupted", exit=130, error=str(exc) or "interrupted (Ctrl-C)")
            result = None
        except Exception as exc:  # one broken run must not lose a long sweep
            row.update(status="error", exit=1, error=f"{type(exc).__name__}: {exc}"[:300])
            result = None
        finally:
            for extra in set(progress.task_ids) - tasks:
                progress.remove_task(extra)
        new = sorted(set(runs.iterdir()) - before)
        if new:
            row["run_dir"] = str(new[0].relative_to(self.folder))
        if result is None:
            return row
        if result.interrupted:
            row.update(status="interrupted", exit=130, error=result.interrupted)
        else:
            met = result.expectations_met
            row.update(status="ok" if met else "failed", exit=0 if met else 1)
        if result.summary is not None:
            row["frr_version"] = result.summary.frr_version
            row.update(figures_of_run(result.run_dir, result.summary, self.n_events))
        return row
