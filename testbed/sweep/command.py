"""``anycast-testbed sweep``: run a scenario over a grid of parameters, repeated.

Every grid point is prepared (scenario, overrides, topology) before anything
starts, so a bad ``--param`` value fails at once with one line and exit 2.
The sweep folder ``OUT/YYYYMMDD-HHMMSS-sweep-SCENARIO/`` holds ``sweep.json``
(what was asked), ``sweep.csv`` (one row per run, written as each ends),
``plots/by-KEY.png`` and every run folder under ``runs/``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import click

from testbed.errors import InputError


def sweep_folder(out: Path, name: str) -> Path:
    """Create ``OUT/YYYYMMDD-HHMMSS-NAME/`` (``-2``... if taken).

    Args:
        out: parent folder.
        name: e.g. ``sweep-silent-failure``.

    Returns:
        The new folder.

    Raises:
        InputError: the folder cannot be created (naming it and why).
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = out / f"{stamp}-{name}", 2
    while path.exists():
        path, n = out / f"{stamp}-{name}-{n}", n + 1
    try:
        path.mkdir(parents=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder: {exc.strerror or exc}", str(path)) from None
    return path


def prepare_jobs(
    scenario: str,
    points: Sequence[Any],
    sets: Sequence[str],
    topology: Optional[str],
    swept: Sequence[str],
) -> List[Any]:
    """Prepare every point of the grid; a bad value is blamed on its ``--param``.

    Args:
        scenario: the scenario reference.
        points: :class:`testbed.sweep.grid.Point` list.
        sets: the fixed ``--set`` items.
        topology: ``--topology`` (or None).
        swept: the swept keys.

    Returns:
        :class:`testbed.sweep.runner.Job` list.

    Raises:
        InputError: the scenario or a value is bad (``--param KEY`` named
            for a bad swept value, see :func:`point_error`).
    """
    from testbed.scenario.prepare import prepare_run
    from testbed.sweep.runner import Job

    del swept  # every point names its own swept keys
    jobs, cache = [], {}
    for point in points:
        key = tuple(point.sets())
        if key not in cache:
            try:
                cache[key] = prepare_run(scenario, [*sets, *point.sets()], topology)
            except InputError as exc:
                raise point_error(exc, scenario, point.values, sets, topology) from None
        jobs.append(Job(point.index, dict(point.values), point.repeat, cache[key]))
    return jobs


def point_error(
    exc: InputError,
    scenario: str,
    values: Dict[str, str],
    sets: Sequence[str],
    topology: Optional[str],
) -> InputError:
    """The error of a grid point, blamed on the ``--param`` whose value caused it.

    The swept values reach the scenario as ``--set`` items, so the loader
    blames ``--set`` (``--set: bgp.hold: ...``) or names them as in force
    (``... (with --set duration=5)``).  An error about a swept key is
    blamed on ``--param`` directly; any other is told apart by preparing the
    run again: without the swept values (then it is not theirs and stays as
    it was), then with one swept value at a time (the first that brings the
    same error is blamed).

    Args:
        exc: the error of preparing the point.
        scenario: the scenario reference.
        values: the point's swept values (key -> value as typed).
        sets: the fixed ``--set`` items.
        topology: ``--topology`` (or None).

    Returns:
        ``--param: KEY: problem (value 'V')``, ``--param: KEY: value 'V':
        FILE: field: problem``, or the error without the swept values when
        they are not to blame.
    """
    from testbed.scenario.prepare import prepare_run
    from testbed.sweep.grid import PARAM_SOURCE

    key = _blamed(exc, list(values))
    if key is not None:
        message = without_sets(exc.message)
        if "(got " not in message:
            message += f" (value {values[key]!r})"
        return InputError(message, PARAM_SOURCE, key)
    problem = _core(exc)

    def same_error(items: Sequence[str]) -> Optional[InputError]:
        try:
            prepare_run(scenario, items, topology)
        except InputError as other:
            return other if _core(other) == problem else None
        return None

    fixed = same_error(list(sets))
    if fixed is not None:  # not the swept values' doing: as the fixed --set items say it
        return fixed
    told = str(InputError(without_sets(exc.message), exc.source, exc.field))
    for key, value in values.items():
        if same_error([*sets, f"{key}={value}"]):
            return InputError(f"value {value!r}: {told}", PARAM_SOURCE, key)
    together = " ".join(f"{k}={v}" for k, v in values.items())
    return InputError(f"values {together} together: {told}", PARAM_SOURCE, ", ".join(values))


def without_sets(message: str) -> str:
    """A loader's message without its ``(with --set K=V ...)`` tail."""
    head, sep, _tail = message.rpartition(" (with --set ")
    return head if sep and message.endswith(")") else message


def _core(exc: InputError) -> Tuple[Optional[str], Optional[str], str]:
    """What an error says, whatever ``--set`` items were in force."""
    return exc.source, exc.field, without_sets(exc.message)


def point_warnings(jobs: Sequence[Any]) -> List[str]:
    """The caveats of each grid point once (not once per repeat), before anything runs.

    Args:
        jobs: from :func:`prepare_jobs`.

    Returns:
        ``KEY=VALUE ...: caveat`` lines (each run prints its own again).
    """
    seen: Dict[int, bool] = {}
    out: List[str] = []
    for job in jobs:
        if id(job.prepared) in seen:
            continue
        seen[id(job.prepared)] = True
        point = " ".join(f"{k}={v}" for k, v in job.values.items()) or "every run"
        out += [f"{point}: {caveat}" for caveat in job.prepared.caveats]
    return out


def _blamed(exc: InputError, swept: Sequence[str]) -> Optional[str]:
    """The swept key a ``--set`` error names, None if it names none."""
    if exc.source != "--set" or not exc.field:
        return None
    return next((k for k in swept if exc.field == k or exc.field.startswith(k + ".")), None)


@click.command("sweep")
@click.argument("scenario")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=V1,V2,...",
    help="A parameter to sweep (repeatable; the grid crosses them), any key --set takes, "
    "e.g. bgp.hold=3,9,20 or bfd=off,on.",
)
@click.option(
    "--repeat",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="Runs per grid point.",
)
@click.option(
    "--set", "sets", multiple=True, metavar="KEY=VALUE", help="Fixed override (repeatable)."
)
@click.option("--topology", help="Run on this topology instead of the scenario's.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Parent of the sweep folder.",
)
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Base seed.")
@click.option("--dry-run", is_flag=True, help="Check the grid and print it; run nothing.")
def sweep(
    scenario: str,
    params: Tuple[str, ...],
    repeat: int,
    sets: Tuple[str, ...],
    topology: Optional[str],
    out: Path,
    seed: int,
    dry_run: bool,
) -> int:
    """Run SCENARIO over a grid of --param values, --repeat times each.

    Writes sweep.csv (one row per run: parameters, repeat, status, outage,
    DNS lost, TCP resets, convergence per event, UPDATEs, route changes, run
    folder) row by row, and plots of outage and convergence against each
    parameter.  Ctrl-C stops cleanly and keeps the finished rows.  Exit
    status: 0 every run completed (expectations are in the CSV), 1 some run
    failed with an error, 130 interrupted, 2 bad input.

    A point whose timeline will not show what it seems to (a silent failure
    restored sooner than the hold time) is named in a warning before anything
    runs.

    Example: anycast-testbed sweep silent-failure --param bgp.hold=3,9,20 --param bfd=off,on
    --repeat 3
    """
    from testbed.console import console, require_root
    from testbed.rundir import check_out_dir
    from testbed.sweep import grid
    from testbed.sweep.eta import Eta, human

    grid_params = grid.parse_params(params, sets)
    points = grid.expand(grid_params, repeat)
    jobs = prepare_jobs(scenario, points, sets, topology, [p.key for p in grid_params])
    check_out_dir(out)
    for line in point_warnings(jobs):
        console.print(f"[yellow]warning:[/] {line}")
    estimate = Eta([j.planned_s for j in jobs]).left(0)
    name = jobs[0].prepared.scenario.name
    console.print(
        f"sweep {name}: {len(points) // repeat} grid point(s) x {repeat} = {len(jobs)} runs, "
        f"about {human(estimate)}"
    )
    if dry_run:
        for job in jobs:
            console.print(f"  {job.index:>3}  {job.label()}")
        return 0
    require_root()
    return run_sweep(
        jobs,
        grid_params,
        out,
        name,
        seed,
        meta={"scenario": scenario, "sets": list(sets), "topology": topology, "repeat": repeat},
    )


def run_sweep(
    jobs: Sequence[Any], params: Sequence[Any], out: Path, name: str, seed: int, meta: Dict
) -> int:
    """Run prepared jobs into a new sweep folder; write CSV, sweep.json and plots.

    Args:
        jobs: the prepared runs.
        params: the swept :class:`~testbed.sweep.grid.Param` list.
        out: parent of the sweep folder.
        name: the scenario's name.
        seed: base seed.
        meta: what was asked (written to sweep.json).

    Returns:
        The exit status.
    """
    from testbed import signals
    from testbed.console import console
    from testbed.rundir import write_json
    from testbed.sweep.plots import plot_sweep
    from testbed.sweep.runner import Runner
    from testbed.sweep.table import columns

    signals.install()
    folder = sweep_folder(out, f"sweep-{name}")
    keys = [p.key for p in params]
    info = {
        **meta,
        "params": {p.key: list(p.values) for p in params},
        "runs": len(jobs),
        "started": time.time(),
    }
    write_json(folder / "sweep.json", info)
    n_events = max(len(j.prepared.scenario.timeline) for j in jobs)
    runner = Runner(jobs, folder, columns(keys, n_events), console, seed=seed)
    outcome = runner.run()
    with signals.shielded():
        pngs = plot_sweep(outcome.rows, [(p.key, p.values) for p in params], folder / "plots")
        info.update(
            finished=time.time(),
            done=len(outcome.rows),
            errors=outcome.errors,
            interrupted=outcome.interrupted,
            plots=[p.name for p in pngs],
        )
        write_json(folder / "sweep.json", info)
    console.print(f"sweep: {len(outcome.rows)}/{len(jobs)} runs, csv: {folder / 'sweep.csv'}")
    if outcome.interrupted:
        console.print(f"[yellow]stopped[/]: {outcome.interrupted}; finished rows kept")
        return 130
    return 1 if outcome.errors else 0
