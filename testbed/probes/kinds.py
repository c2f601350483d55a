"""Probe kinds and the services they need: one registry, one class per kind.

A run's ``traffic.kinds`` names what every client runs: ``dns`` and
``tcp-stream`` (the long bidirectional stream) by default, and the transport
remedies (``tcp-retry``, ``http-short``, ``hybrid``, ``quic``, ``dns-tcp``).
Each kind is a :class:`ProbeKind` registered with ``@register("name")``:
it builds its probe's command line, names the services every site server
must run for it, says why a run's sites cannot serve it (bad input, checked
before anything starts), and turns its records into a
:class:`~testbed.analysis.model.TransportOutcome` (pure).  Services are
:class:`ServiceKind` classes in a registry of their own
(``@register_service("name")``), so the traffic starts each one once per
server whatever the kinds that need it.

Both registries are :class:`testbed.registry.Registry` objects, as the
speaker kinds' (:mod:`testbed.speaker.base`) are; model: ExaBGP's
``@Message.register``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ClassVar, Dict, List, Optional, Tuple, Type, TypeVar

from testbed.registry import Registry

#: The kinds a run has unless told otherwise.
DEFAULT_KINDS: Tuple[str, ...] = ("dns", "tcp-stream")
#: Modules that register the built-in kinds (imported on first lookup).
BUILTIN_MODULES: Tuple[str, ...] = (
    "testbed.probes.builtin",
    "testbed.probes.retry",
    "testbed.probes.dnstcp",
    "testbed.probes.http",
    "testbed.probes.hybrid",
    "testbed.probes.quic",
    "testbed.probes.resolve",
)

Record = Dict[str, Any]


@dataclass
class ProbeContext:
    """What a probe's command line is built from.

    Attributes:
        topo: the topology (service address, sites, unicast addresses).
        plan: its plan (hosts, addresses), or None in pure tests.
        client: the client's name.
        params: the run's :class:`~testbed.traffic.TrafficParams`.
        records: the run's records folder (absolute).
    """

    topo: Any
    plan: Any
    client: str
    params: Any
    records: Path

    def out(self, prefix: str) -> str:
        """The client's record file for ``prefix``: ``RECORDS/PREFIX-CLIENT.jsonl``."""
        return str(self.records / f"{prefix}-{self.client}.jsonl")


class ProbeKind(ABC):
    """One kind of probe: its command line, its services, its checks, its analysis."""

    #: The kind's name in ``traffic.kinds`` (set by :func:`register`).
    name: ClassVar[str] = ""
    #: Its records: ``records/PREFIX-CLIENT.jsonl``.
    record_prefix: ClassVar[str] = ""
    #: Service kinds every site server must run for it.
    services: ClassVar[Tuple[str, ...]] = ()
    #: The process name its probe runs under (logs, the watchdog).
    process: ClassVar[str] = ""
    #: Whether its flows outlive an event (streams, connections) or are short
    #: (queries, requests): an event's window counts the flows up when it began.
    long_lived: ClassVar[bool] = False
    #: What the remedy tables say it stands for (the primer's claim).
    claim: ClassVar[str] = ""

    @classmethod
    def unavailable(cls, topo: Any) -> Optional[str]:
        """Why the topology's sites cannot serve this kind (None: they can)."""
        return None

    @classmethod
    def services_on(cls, topo: Any, params: Any) -> Tuple[str, ...]:
        """The service kinds every site server must run for it on ``topo`` with the run's
        traffic ``params`` (:class:`~testbed.traffic.TrafficParams`): :attr:`services`
        unless the kind's needs depend on them."""
        return cls.services

    @abstractmethod
    def argv(self, ctx: ProbeContext) -> List[str]:
        """The probe's command line for one client."""

    @classmethod
    def outcome(cls, records: List[Record]) -> Any:
        """One client's :class:`~testbed.analysis.model.TransportOutcome` (None: the
        kind has its own summary part, as ``dns`` and ``tcp-stream`` do)."""
        return None


class ServiceKind(ABC):
    """One service a site server runs: its command line and its readiness check."""

    name: ClassVar[str] = ""
    #: The process name (logs, the watchdog).
    process: ClassVar[str] = ""

    @abstractmethod
    def argv(self, topo: Any, host: Any, run: Path, params: Any) -> List[str]:
        """The service's command line on one server.

        Args:
            topo: the topology.
            host: the server's :class:`~testbed.topology.plan.HostPlan`.
            run: the run folder (absolute).
            params: the run's :class:`~testbed.traffic.TrafficParams`.
        """

    def problem(self, testbed: Any, host: Any, params: Any) -> Optional[str]:
        """Why the service does not answer on this server yet (None: it does)."""
        return None

    def cleanup(self, host: Any, run: Path) -> None:
        """Remove what the service left outside the run folder once it stopped (default:
        nothing; every service keeps its files in the run folder)."""
        return None


P = TypeVar("P", bound=Type[ProbeKind])
S = TypeVar("S", bound=Type[ServiceKind])
#: The probe kinds, by name (``@register``).
PROBE_KINDS: Registry[ProbeKind] = Registry("probe kind", BUILTIN_MODULES)
#: The service kinds, by name (``@register_service``).
SERVICE_KINDS: Registry[ServiceKind] = Registry("service", BUILTIN_MODULES)
#: Name -> probe kind class (the registry's own dict).
KINDS: Dict[str, Type[ProbeKind]] = PROBE_KINDS.entries
#: Name -> service kind class (the registry's own dict).
SERVICES: Dict[str, Type[ServiceKind]] = SERVICE_KINDS.entries


def register(name: str) -> Callable[[P], P]:
    """Class decorator: register a probe kind under ``name``."""
    return PROBE_KINDS.register(name)


def register_service(name: str) -> Callable[[S], S]:
    """Class decorator: register a service kind under ``name``."""
    return SERVICE_KINDS.register(name)


def kinds() -> List[str]:
    """Every registered probe kind, sorted."""
    return PROBE_KINDS.names()


def kind_class(name: str) -> Type[ProbeKind]:
    """The probe kind called ``name``.

    Raises:
        KeyError: no such kind (the message lists the known ones).
    """
    return PROBE_KINDS.get(name)


def service_class(name: str) -> Type[ServiceKind]:
    """The service kind called ``name``.

    Raises:
        KeyError: no such service (the message lists the known ones).
    """
    return SERVICE_KINDS.get(name)


def services_for(names: List[str], topo: Any = None, params: Any = None) -> List[str]:
    """The services the probe kinds ``names`` need, each once, in first-needed order
    (with ``topo`` and ``params``: :meth:`ProbeKind.services_on` them)."""
    out: List[str] = []
    for name in names:
        kind = kind_class(name)
        needed = kind.services if topo is None else kind.services_on(topo, params)
        for service in needed:
            if service not in out:
                out.append(service)
    return out
