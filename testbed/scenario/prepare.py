"""One run, from a scenario reference and ``--set`` overrides to its run folder.

``run``, ``sweep``, ``reproduce`` and ``validate`` share this: :func:`prepare_run`
loads and validates everything (bad input fails here, before anything
starts) and is pure: it reads files and starts nothing, so ``validate`` and
the labs' file checks call it without root.  :func:`pcap_links` checks
``run --pcap``'s links against the topology.  :func:`execute` runs a prepared
run with :func:`testbed.scenario.engine.run_scenario` (imported only then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence

from testbed.errors import InputError
from testbed.scenario.load import LoadedScenario, load_scenario, scenario_topology
from testbed.scenario.model import Scenario
from testbed.scenario.validate import timeline_warnings
from testbed.topology.capabilities import speaker_caveats
from testbed.topology.model import Topology
from testbed.topology.plan import Plan, checked_plan, make_plan
from testbed.topology.validate import topology_warnings

if TYPE_CHECKING:
    from rich.progress import Progress

    from testbed.scenario.engine import RunResult


@dataclass
class PreparedRun:
    """A validated scenario and the topology it runs on.

    Attributes:
        loaded: the scenario with its overrides.
        topology: the topology, scenario timers, BFD and overrides applied.
        sets: the ``--set`` items, as given (recorded in meta.json).
        caveats: knobs a site's speaker cannot honour, and timeline events
            that will not show what they seem to (one line each).
        plan: the topology's plan (nodes, addresses, sessions), or None
            when the run was made without one.
    """

    loaded: LoadedScenario
    topology: Topology
    sets: List[str] = field(default_factory=list)
    caveats: List[str] = field(default_factory=list)
    plan: Optional[Plan] = None

    @property
    def scenario(self) -> Scenario:
        """The validated scenario."""
        return self.loaded.scenario


def prepare_run(ref: str, sets: Sequence[str] = (), topology: Optional[str] = None) -> PreparedRun:
    """Load a scenario with overrides and its topology; check everything (starts nothing).

    The checks: the scenario file, the ``--set`` overrides, its topology
    (loaded, or ``--topology``) with the scenario's settings applied, the
    scenario against that topology, and the topology's plan (addresses,
    sessions).

    Args:
        ref: a scenario name (in scenarios/) or file.
        sets: ``KEY=VALUE`` overrides (as ``--set``).
        topology: a topology to run on instead of the scenario's (as ``--topology``).

    Returns:
        The prepared run.

    Raises:
        InputError: anything wrong with the scenario, the topology or the overrides.
    """
    from testbed.net.bird import require_bird
    from testbed.topology.load import load_topology

    loaded = load_scenario(ref, list(sets), topology)
    topo = scenario_topology(loaded, load_topology(topology) if topology else None)
    require_bird(topo, f"topology {topo.name}")  # daemon: bird needs BIRD 2 installed
    plan = checked_plan(topo, f"topology {topo.name}")
    caveats = (
        topology_warnings(topo) + speaker_caveats(topo) + timeline_warnings(loaded.scenario, topo)
    )
    return PreparedRun(loaded, topo, list(sets), caveats, plan)


def pcap_links(option: Optional[str], topology: Topology) -> Optional[List[str]]:
    """The links ``run --pcap`` captures on, checked against the topology.

    Args:
        option: ``--pcap``'s value: None (no capture), ``uplinks`` (every site
            uplink), or link names ``A-B[,C-D...]``.
        topology: the topology the run is on.

    Returns:
        None, [] (every site uplink) or the link names, as :func:`execute` takes them.

    Raises:
        InputError: a name is not a link of the topology (either way round).
    """
    links = None if option is None else ([] if option == "uplinks" else option.split(","))
    if links:
        ends = [(lk.a.node, lk.b.node) for lk in make_plan(topology).links]
        known = {f"{a}-{b}" for a, b in ends} | {f"{b}-{a}" for a, b in ends}
        bad = [name for name in links if name not in known]
        if bad:
            raise InputError(f"--pcap: no link {bad[0]!r} in topology {topology.name} (use A-B)")
    return links


def execute(
    prepared: PreparedRun,
    out: Path,
    say: Callable[[str], None],
    progress: Optional[Progress] = None,
    seed: int = 0,
    pcap: Optional[List[str]] = None,
    extra_meta: Optional[Dict[str, Any]] = None,
) -> RunResult:
    """Run a prepared scenario (root) and write its run folder under ``out``.

    Args:
        prepared: from :func:`prepare_run`.
        out: parent folder of the run folder.
        say: prints one line.
        progress: a rich Progress for the timeline (optional).
        seed: seed of the probes' random choices (DNS query ids, start offsets),
            so a run sends the same queries again; recorded in meta.json.
        pcap: None, [] (every site uplink) or link names ``a-b``.
        extra_meta: more keys for meta.json.

    Returns:
        The run's result.
    """
    from testbed.scenario.engine import run_scenario

    for caveat in prepared.caveats:
        say(f"warning: {caveat}")
    meta = {
        "seed": seed,
        "overrides": list(prepared.sets),
        "source": prepared.loaded.source,
        "caveats": prepared.caveats,
        **(extra_meta or {}),
    }
    return run_scenario(
        prepared.scenario,
        prepared.topology,
        out,
        say=say,
        progress=progress,
        pcap=pcap,
        extra_meta=meta,
    )
