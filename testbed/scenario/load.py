"""Load a scenario from a YAML or Python file, or a shipped name, with ``--set`` overrides.

``load_scenario("site-failure")`` reads ``scenarios/site-failure.yaml``;
``load_scenario("path/to/x.yaml")`` reads that file (a ``.py`` file is a
Python scenario, :mod:`testbed.scenario.pyfile`).  ``--set KEY=VALUE``
overrides (:mod:`testbed.scenario.overrides`) change the scenario before it
is validated; the ones that change the topology instead are returned apart,
and :func:`scenario_topology` applies them with the scenario's settings
(:mod:`testbed.scenario.effective`).  Every error is an
:class:`~testbed.errors.InputError` naming the file (or ``--set``) and the
field, on one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from pydantic import ValidationError

from testbed.errors import InputError
from testbed.pydantic_errors import from_validation_error, union_tags
from testbed.scenario import pyfile
from testbed.scenario.effective import effective_topology
from testbed.scenario.model import Check, Event, Scenario
from testbed.scenario.overrides import (
    SET_SOURCE,
    apply_overrides,
    expand_shorthands,
    parse_overrides,
    reattribute,
    set_origins,
    split_overrides,
    with_sets,
)
from testbed.scenario.validate import validate, validate_against
from testbed.topology.load import ROOT, read_yaml
from testbed.topology.model import Topology

SCENARIO_DIR = ROOT / "scenarios"
#: The default scenario (``anycast-testbed run`` without a name).
DEFAULT_SCENARIO = "site-failure"
#: The scenario's discriminated unions, for errors: discriminator -> its tags.
UNIONS = {"event": union_tags(Event, "event"), "check": union_tags(Check, "check")}


@dataclass
class LoadedScenario:
    """A validated scenario and what it needs from the command line.

    Attributes:
        scenario: the scenario, ``--set`` overrides applied and validated.
        source: the file it came from (for messages).
        topology_ref: the topology to load: the scenario's ``topology``, with a
            relative file path resolved against the scenario's folder.
        topology_overrides: ``--set`` overrides for the topology, keys relative
            to the topology (``speaker``, ``bfd.enabled``), in command-line order.
        overrides: the ``--set`` overrides applied to the scenario (key -> value).
    """

    scenario: Scenario
    source: str
    topology_ref: str
    topology_overrides: Dict[str, Any] = field(default_factory=dict)
    overrides: Dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------- loading
def parse_scenario(data: Any, source: str, overrides: Optional[Dict[str, Any]] = None) -> Scenario:
    """Validate a scenario given as plain data (from YAML or Python), overrides applied.

    Args:
        data: the mapping read from the file (not changed).
        source: where it came from, for messages.
        overrides: scenario ``--set`` overrides (dotted key -> value).

    Returns:
        The validated scenario.

    Raises:
        InputError: naming the file or ``--set``, the field and the problem.
    """
    if not isinstance(data, dict):
        raise InputError("a scenario file must hold a mapping (name:, duration:, ...)", source)
    overrides = expand_shorthands(overrides or {})
    if overrides:
        data = apply_overrides(data, overrides)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        error = from_validation_error(exc, source, UNIONS, plain_words=True)
        raise reattribute(error, set_origins(overrides)) from None
    try:
        validate(scenario, source)
    except InputError as exc:
        raise with_sets(exc, overrides) from None
    return scenario


def scenario_path(ref: str) -> Path:
    """The file for a scenario reference (a path, or a name in scenarios/).

    A name is ``scenarios/NAME.yaml``, or ``scenarios/NAME.py`` when only
    that exists.
    """
    path = Path(ref)
    if path.suffix in (".yaml", ".yml", pyfile.SUFFIX) or "/" in ref:
        return path
    shipped = SCENARIO_DIR / f"{ref}.yaml"
    python = SCENARIO_DIR / f"{ref}{pyfile.SUFFIX}"
    return python if python.exists() and not shipped.exists() else shipped


def load_scenario(
    ref: str = DEFAULT_SCENARIO, overrides: Iterable[str] = (), topology: Optional[str] = None
) -> LoadedScenario:
    """Load a scenario by name or path, with ``--set KEY=VALUE`` overrides.

    Args:
        ref: ``site-failure`` (in scenarios/) or a file path (``.yaml``, or
            ``.py`` for a Python scenario, see :mod:`testbed.scenario.pyfile`).
        overrides: ``KEY=VALUE`` strings: scenario keys (``duration=30``,
            ``traffic.dns_rate=50``, ``timeline.0.at=12``) or topology keys
            (``speaker=ryu``, ``topology.FIELD...=VALUE``).
        topology: the topology the run will use instead of the scenario's
            (``--topology``); a Python scenario is generated for it.

    Returns:
        The validated scenario with its topology reference and topology overrides.

    Raises:
        InputError: unknown name, bad file, bad content, or a bad override.
    """
    scen_over, topo_over = split_overrides(parse_overrides(overrides))
    path = scenario_path(ref)
    if not path.exists():
        if path == SCENARIO_DIR / f"{ref}.yaml":
            known = ", ".join(n for n, _ in list_scenarios())
            raise InputError(f"no scenario {ref!r} (known: {known}; or give a file path)", ref)
        raise InputError("no such file", ref)
    source = _display(path)
    if path.suffix == pyfile.SUFFIX:
        data = _python_scenario(path, source, scen_over, topology)
    else:
        data = read_yaml(path)
    scenario = parse_scenario(data, source, scen_over)
    return LoadedScenario(
        scenario=scenario,
        source=source,
        topology_ref=_topology_ref(scenario.topology, path),
        topology_overrides=topo_over,
        overrides=scen_over,
    )


def _python_scenario(
    path: Path, source: str, overrides: Dict[str, Any], topology: Optional[str]
) -> Dict[str, Any]:
    """Run a Python scenario's ``scenario()`` on the topology it will run on.

    That topology is ``--topology``, else ``--set topology=...``, else the
    file's ``TOPOLOGY`` (``world`` by default), read from its syntax tree.
    The code itself runs confined in a child process
    (:mod:`testbed.scenario.sandbox`); only the data it returns comes back.
    """
    from testbed.scenario import sandbox
    from testbed.topology.load import load_topology

    text = pyfile.read_source(path, source)
    tree = pyfile.parse(text, path, source)
    blame: Tuple[str, Optional[str]]
    if topology:
        ref, blame = topology, ("--topology", None)
    elif "topology" in overrides:
        ref, blame = str(overrides["topology"]), (SET_SOURCE, "topology")
    else:
        ref, blame = pyfile.default_topology(tree, source), (source, "TOPOLOGY")
    try:
        topo = load_topology(_topology_ref(ref, path))
    except InputError as exc:
        raise InputError(str(exc), *blame) from None
    data = sandbox.evaluate(text, path, topo, source)
    data.setdefault("topology", ref)
    return data


def _display(path: Path) -> str:
    """A shipped scenario as ``scenarios/x.yaml``; any other file as given."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _topology_ref(ref: str, scenario_file: Path) -> str:
    """A relative topology file path resolved against the scenario's folder."""
    path = Path(ref)
    looks_like_file = path.suffix in (".yaml", ".yml") or "/" in ref
    if looks_like_file and not path.is_absolute():
        beside = scenario_file.parent / path
        if beside.exists():
            return str(beside)
    return ref


def list_scenarios() -> List[Tuple[str, str]]:
    """Shipped scenario files: (name, one-line description)."""
    out: List[Tuple[str, str]] = []
    for path in sorted(SCENARIO_DIR.glob(f"*{pyfile.SUFFIX}")):
        out.append((path.stem, pyfile.description(path)))
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        try:
            data: Dict[str, Any] = read_yaml(path) or {}
            desc = str(data.get("description", "")).strip().splitlines()
        except InputError as exc:
            desc = [f"(invalid: {exc})"]
        out.append((path.stem, desc[0] if desc else ""))
    return sorted(out)


# ------------------------------------------------------------------ topology
def _load_scenario_topology(loaded: LoadedScenario) -> Topology:
    """Load the topology the scenario's ``topology`` field names.

    An error is blamed on that field: ``scenarios/x.yaml: topology: chain: N
    must be between 1 and 500, got 0`` (or ``--set: topology: ...`` when
    ``--set topology=...`` gave the reference), the topology's own file and
    field following.

    Raises:
        InputError: the topology cannot be loaded.
    """
    from testbed.topology.load import load_topology

    try:
        return load_topology(loaded.topology_ref)
    except InputError as exc:
        source = SET_SOURCE if "topology" in loaded.overrides else loaded.source
        raise InputError(str(exc), source, "topology") from None


def scenario_topology(loaded: LoadedScenario, topology: Optional[Topology] = None) -> Topology:
    """Load the scenario's topology, apply timers and overrides, check the scenario against it.

    Args:
        loaded: from :func:`load_scenario`.
        topology: the topology to use instead of loading ``loaded.topology_ref``.

    Returns:
        The topology to build.

    Raises:
        InputError: the topology cannot be loaded, overrides break it, or the
            scenario names sites, clients or links it does not have.
    """
    topo = topology if topology is not None else _load_scenario_topology(loaded)
    topo = effective_topology(
        topo, loaded.scenario, loaded.topology_overrides, loaded.source, loaded.overrides
    )
    try:
        validate_against(loaded.scenario, topo, loaded.source)
    except InputError as exc:
        raise with_sets(exc, loaded.overrides, loaded.topology_overrides) from None
    return topo


__all__ = [
    "DEFAULT_SCENARIO",
    "SCENARIO_DIR",
    "LoadedScenario",
    "list_scenarios",
    "load_scenario",
    "parse_scenario",
    "scenario_path",
    "scenario_topology",
]
