"""The run's services and probes as command lines for an exported lab (engine-neutral).

The same command lines the testbed's traffic starts
(:func:`testbed.traffic.service_argv`, :func:`testbed.traffic.probe_argvs`),
with ``python3`` for the testbed's interpreter, the records in the lab's
shared folder and the services' folders under ``/run/anycast-testbed``.
They are the testbed's own Python programs, so they run only where the
device's image has the ``anycast-testbed`` package.  NSD is the exception:
it needs nothing of the package once its config and zone are rendered, so
an exporter writes them into the server's files and starts NSD itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List

from testbed.topology.plan import Plan

#: Where the probes write their records in a device (the lab's shared folder).
RECORDS = Path("/shared/records")
#: A device's run folder: the services' own files (the testbed's run folder's place).
RUN = Path("/run/anycast-testbed")
#: The interpreter of the exported command lines.
PYTHON = "python3"


@dataclass
class TrafficCommands:
    """Every service and probe of a run, as command lines per node.

    Attributes:
        services: the services every site server runs, in start order
            (``dns``, NSD, first).
        kinds: the probe kinds every client runs.
        servers: server -> service -> its command line (``dns`` left out: the
            exporter starts NSD from rendered files).
        probes: client -> record prefix (``dns``, ``tcp``, ...) -> its command line.
    """

    services: List[str] = field(default_factory=list)
    kinds: List[str] = field(default_factory=list)
    servers: Dict[str, Dict[str, List[str]]] = field(default_factory=dict)
    probes: Dict[str, Dict[str, List[str]]] = field(default_factory=dict)


def _python3(argv: List[str]) -> List[str]:
    """``argv`` with the testbed's interpreter replaced by ``python3``."""
    return [PYTHON, *argv[1:]] if argv and "python" in Path(argv[0]).name else list(argv)


def traffic_params(scenario: Any = None, seed: int = 0) -> Any:
    """The run's :class:`~testbed.traffic.TrafficParams`: the scenario's ``traffic``
    (the testbed's defaults without a scenario) and the seed."""
    from testbed.traffic import TrafficParams

    if scenario is None:
        return TrafficParams(seed=seed)
    return TrafficParams.of(scenario.traffic, seed)


def traffic_commands(plan: Plan, scenario: Any = None, seed: int = 0) -> TrafficCommands:
    """The services and probes of a run of ``scenario`` (or of ``up --traffic``'s
    defaults) on ``plan``, as the testbed would start them.

    Args:
        plan: the plan of the topology (after the scenario's settings).
        scenario: the scenario, or None.
        seed: the probes' seed (``run --seed``).
    """
    from testbed.probes.kinds import services_for
    from testbed.traffic import BASE_SERVICES, probe_argvs, service_argv

    topo = plan.topology
    params = traffic_params(scenario, seed)
    kinds = params.probe_kinds()
    services = list(BASE_SERVICES)
    services += [s for s in services_for(kinds, topo, params) if s not in services]
    out = TrafficCommands(services=services, kinds=list(kinds))
    for server in plan.servers():
        own: Dict[str, List[str]] = {}
        for kind in services:
            if kind == "dns":
                continue
            argv, _name = service_argv(topo, server, kind, RUN, params)
            own[kind] = _python3(argv)
        out.servers[server.name] = own
    for client in plan.clients():
        argvs = probe_argvs(topo, client.name, params, RECORDS, plan)
        out.probes[client.name] = {prefix: _python3(argv) for prefix, argv in argvs.items()}
    return out
