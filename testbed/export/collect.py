"""The run folder an exported lab fills: what ``anycast-testbed report`` reads (pure).

The testbed's engine writes a run folder (docs/records.md): ``meta.json``,
``scenario.yaml``, ``topology.yaml`` and ``records/``.  An exported lab has
no engine of the testbed's, so the export writes the parts it knows in
advance into the lab's ``shared/`` folder, which becomes the run folder:

- ``shared/meta.json``: what the engine's ``meta.json`` holds, computed at
  export time from the same functions (clients, sites, routers, access
  routers, traffic, load, damping), ``"t0": null`` until ``timeline.sh``
  writes the timeline's start into it (:data:`META_T0`);
- ``shared/scenario.yaml`` and ``shared/topology.yaml``: the scenario (its
  expectations, evaluated again by ``report``) and the effective topology,
  as the engine writes them;
- ``shared/records/``: the probes' records (``traffic.sh``) and the
  timeline's ``events.jsonl``, written while the lab runs.

What the lab does not record (the testbed's route, BGP and load recorders:
``routes.jsonl``, ``bgp.jsonl``, ``load-SITE.jsonl``) is missing from it, and
so are the figures made from them (convergence, BGP updates).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

import yaml

from testbed import __version__
from testbed.topology.plan import Plan

#: The lab's folder that becomes the run folder (Kathará's shared folder, ``/shared`` in a node).
COLLECT = "shared"
#: The line of ``meta.json`` that holds ``t0`` (``timeline.sh`` rewrites it).
META_T0 = '  "t0": '


def run_meta(
    plan: Plan,
    scenario: Any,
    engine: str,
    source: Optional[str] = None,
    sets: Optional[List[str]] = None,
    caveats: Optional[List[str]] = None,
    seed: int = 0,
) -> Dict[str, Any]:
    """``meta.json`` of a run of the exported lab, as the testbed's engine writes it,
    with what only the running network knows left out (``t0``: null until the
    timeline starts; ``frr_version``: the image's; no ``catchment_at_start``).

    Args:
        plan: the plan (the scenario's settings applied).
        scenario: the scenario, or None (the lab's traffic alone).
        engine: the engine exported to (kept as ``exported_to``).
        source: the scenario's file.
        sets: the ``--set`` items.
        caveats: what the run would warn about.
        seed: the probes' seed (the exported command lines use 0).
    """
    from testbed.scenario.engine import dampening_meta, load_meta
    from testbed.scenario.model import Traffic
    from testbed.topology.resolution import resolution_meta

    topo = plan.topology
    traffic = scenario.traffic if scenario is not None else Traffic()
    return {
        "t0": None,
        "duration": scenario.duration if scenario is not None else None,
        "scenario": scenario.name if scenario is not None else None,
        "description": scenario.description if scenario is not None else None,
        "topology": topo.name,
        "frr_version": None,
        "speaker": sorted({s.speaker for s in topo.sites}),
        "speaker_library": None,
        "clients": [c.name for c in plan.clients()],
        "sites": [s.name for s in topo.sites],
        "routers": list(plan.routers),
        "bird_routers": [name for name, r in plan.routers.items() if r.bird],
        "traffic": traffic.model_dump(),
        "access_routers": {c.name: topo.access_router(c) for c in topo.clients},
        "load": load_meta(topo, plan),
        "dampening": dampening_meta(topo),
        **resolution_meta(topo, plan),
        "seed": seed,
        "overrides": list(sets or []),
        "source": source,
        "caveats": list(caveats or []),
        "exported_to": engine,
        "exported_by": f"anycast-testbed {__version__}",
    }


def meta_text(meta: Dict[str, Any]) -> str:
    """``meta.json`` as the testbed writes it (sorted keys, two spaces), ``t0`` on a line
    of its own that ``timeline.sh`` rewrites."""
    text = json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n"
    if f"\n{META_T0}null,\n" not in text:
        raise ValueError("meta.json: t0 is not on a line of its own")  # pragma: no cover
    return text


def yaml_text(data: Dict[str, Any]) -> str:
    """YAML as the engine writes ``scenario.yaml`` and ``topology.yaml``."""
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)


def collect_files(
    plan: Plan,
    scenario: Any,
    engine: str,
    source: Optional[str] = None,
    sets: Optional[List[str]] = None,
    caveats: Optional[List[str]] = None,
) -> Dict[str, str]:
    """The run folder's files known at export time, by their path in the lab's folder."""
    files = {
        f"{COLLECT}/meta.json": meta_text(run_meta(plan, scenario, engine, source, sets, caveats)),
        f"{COLLECT}/topology.yaml": yaml_text(plan.topology.model_dump(mode="json")),
    }
    if scenario is not None:
        files[f"{COLLECT}/scenario.yaml"] = yaml_text(scenario.model_dump(mode="json"))
    return files
