"""Check a topology or scenario file the way ``up`` and ``run`` do, starting nothing.

:func:`check_file` is what ``anycast-testbed validate`` prints one line of,
and what the labs' checkers use for their file items, so a lab's "valid
file" item and ``validate`` always agree.

A reference is one of:

- a generator spec (``chain:5``, ``clique:4``): a topology;
- a file: ``.py`` is a scenario; a YAML file with ``ases:`` is a topology,
  one with ``timeline:``, ``duration:`` or ``expect:`` a scenario; any other
  file is refused (neither);
- a bare name: ``topologies/NAME.yaml`` or ``scenarios/NAME.yaml`` (or
  ``.py``); a name that is both is refused as ambiguous (give the path).

A topology is loaded and validated and its plan is built (addresses,
sessions).  A scenario goes through :func:`testbed.scenario.prepare.prepare_run`:
the scenario with its ``--set`` overrides, its topology (or ``--topology``)
with the scenario's settings applied, the scenario checked against it, and
the plan.  Every problem is an :class:`~testbed.errors.InputError`, the same
one line ``up`` or ``run`` would print.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Sequence

from testbed.errors import InputError
from testbed.topology.model import Topology
from testbed.topology.plan import Plan, checked_plan

TOPOLOGY = "topology"
SCENARIO = "scenario"
#: Top-level keys that make a YAML file a scenario (``ases:`` makes it a topology).
SCENARIO_KEYS = ("timeline", "duration", "expect")
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class FileCheck:
    """A file that passed every check.

    Attributes:
        ref: the reference as given.
        kind: ``topology`` or ``scenario``.
        topology: the topology (for a scenario: the one it runs on, its
            settings and overrides applied).
        plan: the topology's plan.
        scenario: the validated scenario (None for a topology).
        warnings: legitimate but odd things worth a look (one line each).
    """

    ref: str
    kind: str
    topology: Topology
    plan: Plan
    scenario: Optional[Any] = None
    warnings: List[str] = field(default_factory=list)

    def counts(self) -> str:
        """``16 routers, 4 sites, 8 clients, 18 sessions`` (sessions counted once each)."""
        plan = self.plan
        sessions = sum(len(r.neighbors) for r in plan.routers.values()) // 2
        return (
            f"{_n(len(plan.routers), 'router')}, {_n(len(self.topology.sites), 'site')}, "
            f"{_n(len(plan.clients()), 'client')}, {_n(sessions, 'session')}"
        )

    def line(self) -> str:
        """The one ``ok`` line ``validate`` prints for this file."""
        if self.scenario is None:
            return f"ok {self.ref}: topology {self.topology.name}: {self.counts()}"
        sc = self.scenario
        return (
            f"ok {self.ref}: scenario {sc.name} on {self.topology.name}: "
            f"{_n(len(sc.timeline), 'event')}, {_n(len(sc.expect), 'check')}, "
            f"{sc.duration:g} s ({self.counts()})"
        )


def _n(count: int, what: str) -> str:
    return f"{count} {what}{'' if count == 1 else 's'}"


# ---------------------------------------------------------------------- kind
def file_kind(ref: str) -> str:
    """Whether a reference is a topology or a scenario (see the module docstring).

    Args:
        ref: a generator spec, a file, or a shipped name.

    Returns:
        :data:`TOPOLOGY` or :data:`SCENARIO`.

    Raises:
        InputError: a missing or unreadable file, a file that is neither, a
            name that is both or neither.
    """
    from testbed.scenario import pyfile
    from testbed.topology.generate import GENERATORS
    from testbed.topology.load import read_yaml

    path = Path(ref)
    if path.suffix == pyfile.SUFFIX:
        return SCENARIO
    if path.suffix in YAML_SUFFIXES or "/" in ref or os.sep in ref:
        return _yaml_kind(read_yaml(path), ref)
    if ":" in ref or ref in GENERATORS:
        return TOPOLOGY
    return _name_kind(ref)


def _yaml_kind(data: Any, ref: str) -> str:
    """The kind of a YAML file by its top-level keys."""
    if isinstance(data, dict) and "ases" in data:
        return TOPOLOGY
    if isinstance(data, dict) and any(key in data for key in SCENARIO_KEYS):
        return SCENARIO
    raise InputError(
        "neither a topology (no ases:) nor a scenario (no timeline:, duration: or expect:)",
        ref,
    )


def _name_kind(name: str) -> str:
    """The kind of a bare name: a shipped topology or scenario, not both."""
    from testbed.scenario.load import SCENARIO_DIR, list_scenarios, scenario_path
    from testbed.topology.load import ROOT, TOPOLOGY_DIR, list_topologies, topology_path

    topo, scen = topology_path(name), scenario_path(name)
    is_topo = topo == TOPOLOGY_DIR / f"{name}.yaml" and topo.exists()
    is_scen = scen.parent == SCENARIO_DIR and scen.exists()
    if is_topo and is_scen:
        both = f"{topo.relative_to(ROOT)} and {scen.relative_to(ROOT)}"
        raise InputError(f"both a topology and a scenario ({both}): give the file path", name)
    if is_topo:
        return TOPOLOGY
    if is_scen:
        return SCENARIO
    topologies = ", ".join(t for t, _ in list_topologies())
    scenarios = ", ".join(s for s, _ in list_scenarios())
    raise InputError(
        f"no topology or scenario {name!r} (topologies: {topologies}; scenarios: {scenarios}; "
        "or give a file path)",
        name,
    )


# --------------------------------------------------------------------- check
def warnings_of(topo: Topology) -> List[str]:
    """Warnings about a topology: what its sites' speakers cannot honour, and odd shapes."""
    from testbed.topology.capabilities import speaker_caveats
    from testbed.topology.validate import topology_warnings

    return [*speaker_caveats(topo), *topology_warnings(topo)]


def check_topology(ref: str) -> FileCheck:
    """Load a topology as ``up`` does and build its plan.

    Raises:
        InputError: as ``up`` would print it.
    """
    from testbed.topology.load import load_topology

    topo = load_topology(ref)
    plan = checked_plan(topo, ref)
    return FileCheck(ref, TOPOLOGY, topo, plan, warnings=warnings_of(topo))


def check_scenario(ref: str, sets: Sequence[str] = (), topology: Optional[str] = None) -> FileCheck:
    """Prepare a scenario as ``run`` does (:func:`~testbed.scenario.prepare.prepare_run`).

    Raises:
        InputError: as ``run`` would print it.
    """
    from testbed.scenario.prepare import prepare_run

    prepared = prepare_run(ref, sets, topology)
    topo = prepared.topology
    plan = prepared.plan or checked_plan(topo, f"topology {topo.name}")
    warnings = [*prepared.caveats]
    warnings += [w for w in warnings_of(topo) if w not in warnings]
    return FileCheck(ref, SCENARIO, topo, plan, prepared.scenario, warnings)


def check_file(
    ref: str,
    sets: Sequence[str] = (),
    topology: Optional[str] = None,
    kind: Optional[str] = None,
) -> FileCheck:
    """Run every check ``up`` (a topology) or ``run`` (a scenario) makes before starting.

    Args:
        ref: a file, a shipped name, or a generator spec.
        sets: ``--set KEY=VALUE`` overrides (scenarios only).
        topology: ``--topology``: run the scenario on this topology instead.
        kind: :data:`TOPOLOGY` or :data:`SCENARIO` to skip guessing (a lab
            knows what its file is meant to be).

    Returns:
        The checked file.  ``--set`` or ``--topology`` given for a topology
        is not applied and says so in a warning.

    Raises:
        InputError: the first problem, the one line ``up`` or ``run`` prints.
    """
    kind = kind or file_kind(ref)
    if kind == TOPOLOGY:
        check = check_topology(ref)
        given = [opt for opt, value in (("--set", sets), ("--topology", topology)) if value]
        if given:
            verb = "apply" if len(given) > 1 else "applies"
            check.warnings.insert(0, f"{' and '.join(given)} {verb} to scenarios only: not used")
        return check
    return check_scenario(ref, sets, topology)
