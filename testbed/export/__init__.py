"""Export: a topology (and a scenario) as a lab for an existing network-emulation engine.

``anycast-testbed export TOPOLOGY [SCENARIO] --to ENGINE --out DIR`` runs
the same experiment on an engine that runs it on one machine or across a
cluster (Kathará: Docker, or Kubernetes with Megalos; containerlab: Docker,
or Kubernetes with clabernetes).  The steps, each in its own module:

- :func:`prepare`: the topology (and the scenario, ``--set`` applied) loaded
  and checked as ``validate`` checks them, and its plan;
- :func:`testbed.export.support.check_exportable`: what the engine cannot
  carry, refused with one line naming the field;
- the engine's module makes the files, pure (:mod:`testbed.export.kathara`,
  :mod:`testbed.export.containerlab`), from the testbed's own renderings
  (frr.conf, bird.conf, NSD, the node's ``ip`` commands, the speaker's vtysh
  commands, the probes' command lines), the engine-neutral part shared
  (:mod:`testbed.export.lab`, :mod:`testbed.export.scripts`,
  :mod:`testbed.export.collect`: the run folder ``report`` reads);
- :func:`write_files` writes them into ``DIR`` (a folder that is empty, or
  ``--force``).

docs/export.md says what is exported, how to run it, and what is not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from testbed.errors import InputError

#: The engines ``--to`` takes.
ENGINES = ("kathara", "containerlab")
#: The file in an export's folder that lists what the export wrote (``--force`` replaces those).
MANIFEST = ".anycast-testbed-export"


@dataclass
class Prepared:
    """A checked topology (and scenario) to export.

    Attributes:
        plan: the plan of the topology, the scenario's settings applied.
        scenario: the scenario, or None.
        topology_source: the topology as given (for messages).
        scenario_source: the scenario's file (for messages), or None.
        caveats: what ``run`` would warn about (one line each).
        sets: the ``--set`` items, as given (recorded in the lab's meta.json).
    """

    plan: Any
    scenario: Any = None
    topology_source: str = ""
    scenario_source: Optional[str] = None
    caveats: List[str] = field(default_factory=list)
    sets: List[str] = field(default_factory=list)


def check_engine(engine: str) -> str:
    """``engine`` if ``--to`` knows it.

    Raises:
        InputError: an unknown engine (naming the known ones).
    """
    if engine not in ENGINES:
        raise InputError(f"--to: no engine {engine!r} (known: {', '.join(ENGINES)})")
    return engine


def prepare(
    topology: str,
    scenario: Optional[str] = None,
    sets: Sequence[str] = (),
    busiest: Optional[str] = None,
) -> Prepared:
    """Load and check what to export, as ``validate`` and ``run`` check it (starts nothing).

    Args:
        topology: a topology name, file or generator spec.
        scenario: a scenario name or file (run on ``topology``), or None.
        sets: ``--set KEY=VALUE`` overrides (with a scenario only).
        busiest: the site the timeline's ``busiest`` stands for (the testbed
            finds it when the timeline starts; an export is told).

    Raises:
        InputError: anything wrong with the files or the overrides.
    """
    if busiest is not None and scenario is None:
        raise InputError("--busiest: needs a SCENARIO (it names a site of its timeline)")
    if scenario is None:
        if sets:
            raise InputError("--set: needs a SCENARIO (the overrides apply to a run)")
        from testbed.checkfile import check_topology

        check = check_topology(topology)
        return Prepared(check.plan, None, topology, None, list(check.warnings))
    loaded, topo, plan, caveats = _prepare_run(scenario, list(sets), topology)
    chosen = loaded.scenario
    if busiest is not None:
        chosen = with_busiest(chosen, busiest, plan)
    return Prepared(plan, chosen, topology, loaded.source, caveats, list(sets))


def _prepare_run(ref: str, sets: List[str], topology: str) -> Any:
    """``run``'s checks of a scenario on a topology (:func:`testbed.scenario.prepare.prepare_run`)
    but for BIRD: the testbed does not start BIRD yet, an exported lab does.

    Returns:
        (the loaded scenario, the effective topology, its plan, the caveats).
    """
    from testbed.scenario.load import load_scenario, scenario_topology
    from testbed.scenario.validate import timeline_warnings
    from testbed.topology.capabilities import speaker_caveats
    from testbed.topology.load import load_topology
    from testbed.topology.plan import checked_plan
    from testbed.topology.validate import topology_warnings

    loaded = load_scenario(ref, sets, topology)
    topo = scenario_topology(loaded, load_topology(topology) if topology else None)
    plan = checked_plan(topo, f"topology {topo.name}")
    caveats = (
        topology_warnings(topo) + speaker_caveats(topo) + timeline_warnings(loaded.scenario, topo)
    )
    return loaded, topo, plan, caveats


def with_busiest(scenario: Any, site: str, plan: Any) -> Any:
    """The scenario with every event's site ``busiest`` replaced by ``site``.

    Raises:
        InputError: ``site`` is not a site of the plan.
    """
    from testbed.scenario.model import BUSIEST

    sites = list(plan.site_routers())
    if site not in sites:
        raise InputError(f"--busiest: no site {site!r} (sites: {', '.join(sites)})")
    timeline = [
        e.model_copy(update={"site": site}) if getattr(e, "site", None) == BUSIEST else e
        for e in scenario.timeline
    ]
    return scenario.model_copy(update={"timeline": timeline})


def export_files(engine: str, prepared: Prepared, options: Any = None) -> Dict[str, str]:
    """Every file of the export of ``prepared`` to ``engine`` (relative path -> text).

    Raises:
        InputError: a field the engine cannot carry, or a name it does not take.
    """
    from testbed.export.support import check_exportable

    check_engine(engine)
    plan = prepared.plan
    check_exportable(
        plan.topology,
        engine,
        prepared.topology_source,
        prepared.scenario,
        prepared.scenario_source,
    )
    from testbed.export.containerlab import lab_files as containerlab_files
    from testbed.export.kathara import lab_files as kathara_files
    from testbed.export.lab import Options

    options = replace(options or Options(), sets=list(prepared.sets))
    make = kathara_files if engine == "kathara" else containerlab_files
    try:
        return make(
            plan,
            options,
            prepared.scenario,
            source=prepared.scenario_source,
            caveats=prepared.caveats,
        )
    except ValueError as exc:
        raise InputError(str(exc), prepared.topology_source) from None


def _earlier(out: Path) -> List[str]:
    """The files an earlier export wrote into ``out`` (its manifest), if any."""
    try:
        text = (out / MANIFEST).read_text(encoding="utf-8")
    except OSError:
        return []
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def write_files(files: Dict[str, str], out: Path, force: bool = False) -> List[Path]:
    """Write an export's files into ``out``, scripts executable, and its manifest.

    ``out`` must be missing or empty, unless ``force``: then the files an
    earlier export listed in its manifest are removed first, and nothing
    else in the folder is touched.

    Returns:
        The paths written.

    Raises:
        InputError: ``out`` is a file, is not empty (without ``force``), or
            cannot be written.
    """
    if out.exists() and not out.is_dir():
        raise InputError("not a folder", str(out))
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError("not empty (use --force to export into it)", str(out))
    written: List[Path] = []
    try:
        for rel in _earlier(out) if out.is_dir() else []:
            old = out / rel
            if old.is_file() and out.resolve() in old.resolve().parents:
                old.unlink()
        for rel, text in files.items():
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            if rel.endswith(".sh"):
                os.chmod(path, 0o755)
            written.append(path)
        (out / MANIFEST).write_text(
            "# written by anycast-testbed export (--force replaces these)\n"
            + "".join(f"{rel}\n" for rel in files),
            encoding="utf-8",
        )
    except OSError as exc:
        where = exc.filename or out
        raise InputError(f"cannot write: {exc.strerror or exc}", str(where)) from None
    return written
