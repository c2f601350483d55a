"""``anycast-testbed reproduce NAME``: run an experiment, compare with the literature.

Writes ``OUT/YYYYMMDD-HHMMSS-reproduce-NAME/``: ``sweep.csv`` (one row per
run), ``runs/`` (every run folder), ``plots/``, ``verdict.json`` and
``report.md``.  ``--quick`` runs a reduced version that checks the shape of
the result, not its absolute numbers (small N, short MRAI and timers).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import click

from testbed.errors import InputError


def _jobs(planned: List[Any], name: str = "") -> List[Any]:
    """Prepare each planned run (scenario, overrides, topology).

    Raises:
        InputError: a run cannot be prepared (see :func:`experiment_error`).
    """
    from testbed.scenario.prepare import prepare_run
    from testbed.sweep.runner import Job

    cache: Dict[tuple, Any] = {}
    jobs = []
    for i, p in enumerate(planned, start=1):
        key = (p.scenario, *p.sets)
        if key not in cache:
            try:
                cache[key] = prepare_run(p.scenario, p.sets)
            except InputError as exc:
                raise experiment_error(exc, name, p.sets) from None
        jobs.append(Job(i, dict(p.labels), p.repeat, cache[key]))
    return jobs


def experiment_error(exc: InputError, name: str, sets: List[str]) -> InputError:
    """An error of preparing one of an experiment's runs, blamed on the experiment.

    Its overrides are the experiment's own, not ``--set`` items anyone
    typed: ``--set: bgp.mrai: ...`` becomes ``experiment NAME: bgp.mrai:
    ...``, and ``(with --set ...)`` names the run's settings as the experiment's.
    """
    from testbed.scenario.overrides import SET_SOURCE
    from testbed.sweep.command import without_sets

    source = f"experiment {name}" if name else "experiment"
    if exc.source == SET_SOURCE:
        return InputError(exc.message, source, exc.field)
    message = without_sets(exc.message)
    if message != exc.message:
        message += f" (with the {source}'s settings: {' '.join(sets)})"
    return InputError(message, exc.source, exc.field)


def list_experiments(console: Any) -> None:
    """Print every experiment with its source and run counts."""
    from rich.table import Table

    from testbed.reproduce import EXPERIMENTS

    table = Table(show_header=True, header_style="bold", box=None)
    for col in ("experiment", "what it reproduces", "runs (quick / full)"):
        table.add_column(col)
    for exp in EXPERIMENTS.values():
        counts = f"{len(exp.plan(True))} / {len(exp.plan(False))}"
        table.add_row(exp.name, f"{exp.title}\n[dim]{exp.source}[/]", counts)
    console.print(table)


@click.command("reproduce")
@click.argument("name", required=False)
@click.option("--quick", is_flag=True, help="A reduced version that checks the shape (minutes).")
@click.option(
    "--repeat",
    type=click.IntRange(1, 20),
    default=None,
    help="Runs per case (default: per experiment).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Parent of the experiment's folder.",
)
@click.option("--dry-run", is_flag=True, help="Print the runs and an estimate; run nothing.")
def reproduce(
    name: Optional[str], quick: bool, repeat: Optional[int], out: Path, dry_run: bool
) -> int:
    """Reproduce a published result: NAME is failure-detection, delayed-convergence or
    mrai-multiples (without NAME: list them).

    Prints what the literature or the standard says next to what was
    measured, and a verdict.  Exit status: 0 agrees, 1 disagrees (or
    nothing could be judged), 130 interrupted, 2 bad input.
    """
    from testbed.console import console, require_root
    from testbed.reproduce import EXPERIMENTS
    from testbed.rundir import check_out_dir
    from testbed.sweep.eta import Eta, human

    if name is None:
        list_experiments(console)
        return 0
    if name not in EXPERIMENTS:
        raise InputError(f"no experiment {name!r} (known: {', '.join(EXPERIMENTS)})", "reproduce")
    exp = EXPERIMENTS[name]
    jobs = _jobs(exp.plan(quick, repeat), exp.name)
    check_out_dir(out)
    mode = "quick" if quick else "full"
    estimate = Eta([j.planned_s for j in jobs]).left(0)
    console.print(f"{exp.name} ({mode}): {len(jobs)} runs, about {human(estimate)}")
    console.print(f"[dim]{exp.source}[/]")
    if dry_run:
        for job in jobs:
            console.print(f"  {job.index:>3}  {job.label()}")
        return 0
    require_root()
    return run_experiment(exp, jobs, quick, out)


def run_experiment(exp: Any, jobs: List[Any], quick: bool, out: Path) -> int:
    """Run the jobs, judge, plot, and write the report.

    Args:
        exp: the experiment.
        jobs: its prepared runs.
        quick: reduced mode.
        out: parent of the experiment's folder.

    Returns:
        The exit status.
    """
    from testbed import signals
    from testbed.console import console
    from testbed.reproduce.report import headline, print_verdict, render_markdown
    from testbed.rundir import write_json
    from testbed.sweep.command import sweep_folder
    from testbed.sweep.runner import Runner
    from testbed.sweep.table import columns

    signals.install()
    folder = sweep_folder(out, f"reproduce-{exp.name}")
    n_events = max(len(j.prepared.scenario.timeline) for j in jobs)
    header = columns(list(exp.labels), n_events)
    outcome = Runner(jobs, folder, header, console).run()
    with signals.shielded():
        verdict = exp.judge(outcome.rows, quick)
        pngs = exp.plots(outcome.rows, folder / "plots", quick)
        frr = next((r.get("frr_version") for r in outcome.rows if r.get("frr_version")), None)
        info = {
            "experiment": exp.name,
            "mode": "quick" if quick else "full",
            "runs": len(jobs),
            "done": len(outcome.rows),
            "interrupted": outcome.interrupted,
            "frr_version": frr,
            "finished": time.time(),
        }
        rel = [p.relative_to(folder) for p in pngs]
        (folder / "report.md").write_text(
            render_markdown(exp, verdict, info, rel), encoding="utf-8"
        )
        write_json(
            folder / "verdict.json",
            {
                **info,
                "verdict": headline(verdict),
                "findings": [f.__dict__ for f in verdict.findings],
                "notes": verdict.notes,
            },
        )
    print_verdict(exp, verdict, console)
    console.print(f"report: {folder / 'report.md'}")
    if outcome.interrupted:
        return 130
    return 0 if verdict.passed else 1
