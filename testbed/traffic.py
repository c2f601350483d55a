"""The traffic of a run (TrafficRun): services on every site server, probes on every client.

:class:`TrafficRun` starts, on a running :class:`~testbed.net.build.Testbed`:

- on every site server, NSD (``python -m testbed.services.dns``, which checks
  its rendered config and execs NSD) and the TCP stream service;
- the run's shared backend, when a health agent checks it (``backend`` in a
  site's ``health.checks``): the stream service on a unix socket,
  ``RUN/backend.sock`` (:func:`backend_argv`), outside the emulated internet
  as a control-plane dependency (a database, a configuration service) is --
  the sites' own addresses are not routed, so no emulated node could answer
  them all;
- the route monitor (netlink, every router) and the BGP recorder;
- on every client, the DNS probe and (if streams > 0) the TCP probe.

Services bind to their site's ``service`` address (the one on the servers'
loopbacks); the probes send to the service address the sites share
(:func:`service_address`).  The command lines are built by pure functions
(:func:`service_argv`, :func:`probe_argvs`), unit-tested without root.

Every process is started with :meth:`Testbed.spawn`, so it is tracked in the
state file and stopped on any exit path.  :meth:`TrafficRun.stop` stops the
probes first (so they write their last records while the services still
answer), then the recorders, then the services.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from ipaddress import ip_network
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

from testbed.errors import TestbedError
from testbed.net.capacity import site_load_plans
from testbed.net.state import Tracked
from testbed.probes import defaults
from testbed.probes.builtin import service_address
from testbed.probes.kinds import (
    DEFAULT_KINDS,
    ProbeContext,
    kind_class,
    service_class,
    services_for,
)
from testbed.probes.naming import topology_services
from testbed.recorders.bgp import BgpRecorder
from testbed.recorders.routes import RouteMonitor


@dataclass
class TrafficParams:
    """What the clients send.

    Attributes:
        dns_rate: DNS queries per second per client (0 < rate <= 200).
        dns_timeout: seconds before a query counts as lost.
        tcp_streams: concurrent TCP streams per client (0: none).
        tcp_interval: seconds between two messages of a stream.
        tcp_timeout: seconds without an answer before a stream is given up.
        tcp_port: the stream service's port.
        http_rate: http-short requests per second per client.
        dnstcp_rate: dns-tcp queries per second per client.
        quic_port: the quic service's UDP port.
        quic_shared_port: the quic-shared service's UDP port.
        quic_connections: long QUIC connections per client (quic, quic-shared).
        resolve_rate: resolve lookups per second per client and published name.
        resolve_streams: resolve's long TCP streams per client and published name
            (0: none), each resolving the name before every connection.
        retry_backoff: tcp-retry's first reconnect delay (s).
        retry_backoff_max: tcp-retry's longest reconnect delay (s).
        seed: the run's seed; each probe draws its DNS query ids and start
            offsets from a generator seeded with it and its client name, so
            the same seed sends the same queries.
    """

    dns_rate: float = defaults.DNS_RATE
    dns_timeout: float = defaults.DNS_TIMEOUT
    tcp_streams: int = defaults.TCP_STREAMS
    tcp_interval: float = defaults.TCP_INTERVAL
    tcp_timeout: float = defaults.TCP_TIMEOUT
    tcp_port: int = defaults.STREAM_PORT
    http_rate: float = defaults.HTTP_RATE
    dnstcp_rate: float = defaults.DNSTCP_RATE
    quic_port: int = defaults.QUIC_PORT
    quic_shared_port: int = defaults.QUIC_SHARED_PORT
    quic_connections: int = defaults.QUIC_CONNECTIONS
    resolve_rate: float = defaults.RESOLVE_RATE
    resolve_streams: int = defaults.RESOLVE_STREAMS
    retry_backoff: float = defaults.RETRY_BACKOFF
    retry_backoff_max: float = defaults.RETRY_BACKOFF_MAX
    seed: int = 0
    kinds: Tuple[str, ...] = DEFAULT_KINDS

    @classmethod
    def of(cls, traffic: Any, seed: int = 0) -> TrafficParams:
        """A run's traffic from its scenario's ``traffic`` block
        (:class:`testbed.scenario.model.Traffic`, every field carried over) and its seed."""
        return cls(**{**traffic.model_dump(), "kinds": tuple(traffic.kinds)}, seed=seed)

    def probe_kinds(self) -> List[str]:
        """The kinds every client runs (no ``tcp-stream`` when ``tcp_streams`` is 0)."""
        return [k for k in self.kinds if not (k == "tcp-stream" and self.tcp_streams <= 0)]


def service_argv(
    topo: Any, host: Any, kind: str, run: Path, params: TrafficParams
) -> Tuple[List[str], str]:
    """The command line of one service on one server, and the process name.

    Args:
        topo: the topology (for the site's service address).
        host: the server's :class:`~testbed.topology.plan.HostPlan`.
        kind: a registered service (:mod:`testbed.probes.kinds`): ``dns``
            (NSD), ``tcp`` (the stream service), ...
        run: the run folder (absolute).
        params: the run's traffic (the stream service's TCP port, the QUIC ports, ...).

    Returns:
        (argv, process name).

    Raises:
        ValueError: no such service.
    """
    try:
        service = service_class(kind)()
    except KeyError:
        raise ValueError(f"unknown service {kind!r}") from None
    return service.argv(topo, host, run, params), service.process


def backend_argv(socket_path: Path) -> List[str]:
    """The command line of the run's shared backend: the stream service on a unix socket."""
    return [
        sys.executable, "-m", "testbed.services.stream", "--site", "backend",
        "--unix", str(socket_path),
    ]  # fmt: skip


def uses_backend(topo: Any) -> bool:
    """True when some site's health agent checks the shared backend."""
    return any(s.health is not None and "backend" in s.health.checks for s in topo.sites)


def probe_argvs(
    topo: Any, client: str, params: TrafficParams, records: Path, plan: Any = None
) -> Dict[str, List[str]]:
    """The command lines of one client's probes, by record prefix (``dns``, ``tcp``, ...).

    Args:
        topo: the topology (for the service address).
        client: the client name.
        params: what the clients send (the kinds, the seed).
        records: the run's records folder (absolute).
        plan: the topology's plan (kinds that need addresses), if at hand.
    """
    ctx = ProbeContext(topo, plan, client, params, records)
    out = {}
    for name in params.probe_kinds():
        kind = kind_class(name)
        out[kind.record_prefix] = kind().argv(ctx)
    return out


def load_recorder_argv(
    site: str, uplinks: List[str], servers: List[str], records: Path
) -> List[str]:
    """The command line of one site's load recorder (:mod:`testbed.recorders.load`)."""
    return [
        sys.executable, "-m", "testbed.recorders.load", "--site", site,
        "--uplinks", ",".join(uplinks), "--servers", ",".join(servers),
        "--out", str(records / f"load-{site}.jsonl"),
    ]  # fmt: skip


def attack_argv(
    topo: Any,
    host: Any,
    rate: Optional[float],
    ramp: float,
    duration: float,
    seed: int,
    records: Path,
) -> List[str]:
    """The command line of one attack source's sender (:mod:`testbed.attack.sender`).

    Args:
        topo: the topology (its ``attackers`` and the sites' prefix and service).
        host: the attack source's :class:`~testbed.topology.plan.HostPlan`.
        rate: packets/s (None: ``attackers.rate``).
        ramp: seconds to reach the rate.
        duration: seconds at most (the sender stops by itself).
        seed: the run's seed.
        records: the run's records folder (absolute).
    """
    spec = topo.attackers
    return [
        sys.executable, "-m", "testbed.attack.sender", "--source", host.name,
        "--as", host.as_name, "--target", service_address(topo),
        "--prefix", str(topo.sites[0].prefix), "--rate", f"{rate or spec.rate:g}",
        "--ramp", f"{ramp:g}", "--size", str(spec.size), "--kind", spec.kind,
        "--duration", f"{duration:g}", "--seed", str(seed),
        "--out", str(records / f"attack-{host.name}.jsonl"),
    ]  # fmt: skip


#: The services every server runs whatever the probe kinds (the health agents check them).
BASE_SERVICES = ("dns", "tcp")


@dataclass
class TrafficRun:
    """Services, probes and recorders of one run."""

    testbed: object
    params: TrafficParams = field(default_factory=TrafficParams)
    services: Dict[str, Dict[str, Tracked]] = field(default_factory=dict)  # server -> kind -> proc
    probes: Dict[str, Dict[str, Tracked]] = field(default_factory=dict)  # client -> kind -> proc
    routes: Optional[RouteMonitor] = None
    bgp: Optional[BgpRecorder] = None
    agents: Dict[str, Tracked] = field(default_factory=dict)  # site -> health agent
    loads: Dict[str, Tracked] = field(default_factory=dict)  # site -> load recorder
    attacks: Dict[str, Tracked] = field(default_factory=dict)  # attack source -> sender
    backend: Optional[Tracked] = None  # the shared backend, while it runs

    # ---------------------------------------------------------------- paths
    @property
    def records(self) -> Path:
        """The run's records folder."""
        path = Path(self.testbed.run_dir) / "records"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def logs(self) -> Path:
        """Folder of the services' and probes' own logs."""
        path = Path(self.testbed.run_dir) / "logs"
        path.mkdir(parents=True, exist_ok=True)
        return path

    # ------------------------------------------------------------- services
    def start_services(self, timeout: float = 20.0) -> None:
        """Start the services on every server, and the resolver on every resolver host;
        wait until they answer.

        Raises:
            TestbedError: a service did not come up within ``timeout``.
        """
        for server in self.testbed.plan.servers():
            for service in self.service_kinds():
                self.start_service(server.name, service)
        for resolver in self.testbed.plan.resolvers():
            self.start_service(resolver.name, "resolver")
        self.wait_services(timeout)

    def service_kinds(self) -> List[str]:
        """The services every server runs: NSD and the stream service (the health
        agents check both), whatever the run's probe kinds need, and the topology's
        name resolution (PowerDNS, a public resolver: :mod:`testbed.probes.naming`)."""
        out = list(BASE_SERVICES)
        kinds = services_for(self.params.probe_kinds(), self.testbed.topo, self.params)
        out += [s for s in kinds if s not in out]
        out += [s for s in topology_services(self.testbed.topo) if s not in out]
        return out

    def start_service(self, server: str, kind: str) -> Tracked:
        """Start one service (``dns`` or ``tcp``) on one server."""
        host = self.testbed.plan.hosts[server]
        run = Path(self.testbed.run_dir).resolve()
        argv, name = service_argv(self.testbed.topo, host, kind, run, self.params)
        tracked = self.testbed.spawn(server, argv, name, self.logs / f"{name}-{server}.log")
        self.services.setdefault(server, {})[kind] = tracked
        return tracked

    def stop_service(self, server: str, kind: str, kill: bool = False) -> bool:
        """Stop one service; ``kill`` uses SIGKILL (a crash) instead of SIGTERM.

        Returns:
            True if it was running.
        """
        import signal

        tracked = self.services.get(server, {}).pop(kind, None)
        if tracked is None:
            return False
        stopped = self.testbed.stop_process(
            tracked, signal.SIGKILL if kill else signal.SIGTERM, kill_group=True
        )
        host = self.testbed.plan.hosts[server]
        service_class(kind)().cleanup(host, Path(self.testbed.run_dir).resolve())
        return stopped

    def service_problems(self, only: Optional[Set[Tuple[str, str]]] = None) -> List[str]:
        """Services that do not answer on their server (empty: all answer).

        Args:
            only: ``(server, kind)`` pairs to check (default: every service).
        """
        problems = []
        for server, all_kinds in self.services.items():
            host = self.testbed.plan.hosts[server]
            for kind in all_kinds:
                if only is not None and (server, kind) not in only:
                    continue
                problem = service_class(kind)().problem(self.testbed, host, self.params)
                if problem is not None:
                    problems.append(problem)
        return problems

    def wait_services(
        self, timeout: float = 20.0, only: Optional[Set[Tuple[str, str]]] = None
    ) -> None:
        """Wait until every started service (or those in ``only``) answers.

        Args:
            timeout: seconds.
            only: ``(server, kind)`` pairs to wait for (default: every service),
                e.g. the one an event just restarted: another that died on its
                own meanwhile is the watchdog's to report, not a reason to fail.

        Raises:
            TestbedError: one still does not after ``timeout`` (its log is named).
        """
        deadline = time.monotonic() + timeout
        while True:
            problems = self.service_problems(only)
            if not problems:
                return
            for server, kinds in self.services.items():
                for kind, tracked in kinds.items():
                    if only is not None and (server, kind) not in only:
                        continue
                    if not tracked.alive():
                        log = self.logs / f"{tracked.name}-{tracked.node}.log"
                        raise TestbedError(
                            f"{tracked.name} on {tracked.node} exited: "
                            f"{_last_line(log) or 'see ' + str(log)}"
                        )
            if time.monotonic() > deadline:
                raise TestbedError("services not up: " + "; ".join(problems))
            time.sleep(0.2)

    # ------------------------------------------------------------- backend
    @property
    def backend_socket(self) -> Path:
        """The shared backend's unix socket (``RUN/backend.sock``)."""
        return Path(self.testbed.run_dir).resolve() / "backend.sock"

    def start_backend(self, timeout: float = 10.0) -> Tracked:
        """Start the shared backend and wait until it answers on its socket.

        It runs in the first client's namespace (any would do: the health
        agents reach it over its unix socket, not the emulated network).

        Raises:
            TestbedError: it did not answer within ``timeout`` seconds.
        """
        from testbed.health.agent import check_unix

        node = self.testbed.plan.clients()[0].name
        argv = backend_argv(self.backend_socket)
        self.backend = self.testbed.spawn(node, argv, "backend", self.logs / "backend.log")
        deadline = time.monotonic() + timeout
        while (problem := check_unix(str(self.backend_socket), 1.0)) is not None:
            if not self.backend.alive() or time.monotonic() > deadline:
                raise TestbedError(
                    f"the shared backend does not answer ({problem}): see logs/backend.log"
                )
            time.sleep(0.1)
        return self.backend

    def stop_backend(self, kill: bool = False) -> bool:
        """Stop the shared backend (``kill``: SIGKILL, a crash).

        Returns:
            True if it was running.
        """
        import signal

        tracked, self.backend = self.backend, None
        if tracked is None:
            return False
        return self.testbed.stop_process(
            tracked, signal.SIGKILL if kill else signal.SIGTERM, kill_group=True
        )

    # -------------------------------------------------------- health agents
    def health_config(self, site) -> Dict[str, object]:
        """The health agent's configuration for one site (written as JSON for the agent)."""
        tb = self.testbed
        router = tb.plan.routers[tb.plan.site_routers()[site.name]]
        speaker = tb.speaker(router.name)
        health = site.health
        return {
            "site": site.name,
            "router": router.name,
            "speaker": speaker.kind,
            "control": speaker.spec.control,
            "asn": router.asn,
            "prefix": str(site.prefix),
            "peers": [n.peer for n in router.neighbors],
            "service": str(site.service),
            "tcp_port": self.params.tcp_port,
            "base_med": site.med,
            "base_prepend": site.prepend,
            "base_communities": [str(c) for c in site.communities],
            # what every agent announces, for min_sites (testbed.health.shared)
            "shared": str(Path(tb.run_dir).resolve() / "health" / "announced.json"),
            "backend": str(self.backend_socket),
            # removed from the servers' loopbacks on a graceful stop, after the withdrawal
            "addresses": [
                {"node": h.name, "pid": tb.nodes[h.name].pid, "address": f"{site.service}/32"}
                for h in tb.plan.servers(site.name)
            ],
            **health.model_dump(),
        }

    def start_health(self) -> None:
        """Start a health agent for every site that has a ``health`` block."""
        import json

        folder = Path(self.testbed.run_dir).resolve() / "health"
        for site in self.testbed.topo.sites:
            if site.health is None:
                continue
            folder.mkdir(exist_ok=True)
            config = folder / f"{site.name}.json"
            config.write_text(json.dumps(self.health_config(site), indent=1))
            router = self.testbed.plan.site_routers()[site.name]
            argv = [
                sys.executable,
                "-m",
                "testbed.health.agent",
                "--config",
                str(config),
                "--out",
                str((self.records / "health.jsonl").resolve()),
            ]
            self.agents[site.name] = self.testbed.spawn(
                router, argv, "health-agent", self.logs / f"health-{site.name}.log"
            )

    # ------------------------------------------------------------ recorders
    def start_recorders(self) -> None:
        """Start the route monitor, the BGP recorder and a load recorder per site."""
        prefixes = sorted({ip_network(s.prefix) for s in self.testbed.topo.sites})
        self.routes = RouteMonitor(self.testbed, prefixes, self.records / "routes.jsonl").start()
        self.bgp = BgpRecorder(self.testbed, self.records / "bgp.jsonl").start()
        records = self.records.resolve()
        for site in site_load_plans(self.testbed.plan):
            servers = [name for name, _intf in site.servers]
            argv = load_recorder_argv(site.site, site.uplinks, servers, records)
            self.loads[site.site] = self.testbed.spawn(
                site.site, argv, "load-recorder", self.logs / f"load-{site.site}.log"
            )

    # -------------------------------------------------------------- attack
    def start_attack(self, rate: Optional[float], ramp: float, duration: float) -> List[str]:
        """Start every attack source's sender (:mod:`testbed.attack.sender`).

        Args:
            rate: packets/s per source (None: the topology's ``attackers.rate``).
            ramp: seconds to reach the rate.
            duration: seconds the senders may run at most (they stop by themselves).

        Returns:
            The sources started.
        """
        tb = self.testbed
        records = self.records.resolve()
        for host in tb.plan.attackers():
            if host.name in self.attacks:
                continue
            argv = attack_argv(tb.topo, host, rate, ramp, duration, self.params.seed, records)
            self.attacks[host.name] = tb.spawn(
                host.name, argv, "attack-sender", self.logs / f"attack-{host.name}.log"
            )
        return sorted(self.attacks)

    def stop_attack(self) -> List[str]:
        """Stop every running attack sender (SIGTERM: each writes its last record).

        Returns:
            The sources that were running.
        """
        stopped = sorted(self.attacks)
        for tracked in self.attacks.values():
            self.testbed.send_signal(tracked)
        for tracked in self.attacks.values():
            self.testbed.stop_process(tracked, grace=3.0)
        self.attacks.clear()
        return stopped

    # --------------------------------------------------------------- probes
    def start_probes(self) -> None:
        """Start every probe kind of the run (``traffic.kinds``) on every client."""
        records = self.records.resolve()
        tb = self.testbed
        for client in tb.plan.clients():
            name = client.name
            ctx = ProbeContext(tb.topo, tb.plan, name, self.params, records)
            kinds = {}
            for kind_name in self.params.probe_kinds():
                kind = kind_class(kind_name)
                process = kind.process or f"{kind.record_prefix}-probe"
                kinds[kind.record_prefix] = tb.spawn(
                    name, kind().argv(ctx), process, self.logs / f"{process}-{name}.log"
                )
            self.probes[name] = kinds

    def dead(self) -> List[str]:
        """Probes, services, health agents and recorders that were started and
        have died since (``kind on node``, ``route recorder``, ``bgp recorder``)."""
        out = []
        for group in (self.probes, self.services):
            for kinds in group.values():
                out += [f"{t.name} on {t.node}" for t in kinds.values() if not t.alive()]
        out += [f"{t.name} on {t.node}" for t in self.agents.values() if not t.alive()]
        out += [f"{t.name} on {t.node}" for t in self.loads.values() if not t.alive()]
        for name, recorder in (("route recorder", self.routes), ("bgp recorder", self.bgp)):
            if recorder is not None and not recorder.alive():
                out.append(name)
        return out

    # ----------------------------------------------------------------- all
    def start(self) -> None:
        """Services (waited for), the backend if used, health agents, recorders, then probes."""
        self.start_services()
        if uses_backend(self.testbed.topo):
            self.start_backend()
        self.start_health()
        self.start_recorders()
        self.start_probes()

    def stop(self) -> None:
        """The attack first, probes (they flush their last records), health agents,
        the backend, recorders, then services."""
        self.stop_attack()
        for kinds in self.probes.values():
            for tracked in kinds.values():
                self.testbed.send_signal(tracked)
        for kinds in self.probes.values():
            for tracked in kinds.values():
                self.testbed.stop_process(tracked, grace=max(3.0, self.params.dns_timeout + 2))
        self.probes.clear()
        for tracked in self.agents.values():  # all drain their sites at once before exiting
            self.testbed.send_signal(tracked)
        for tracked in self.agents.values():
            self.testbed.stop_process(tracked, grace=10.0)
        self.agents.clear()
        self.stop_backend()
        self.backend_socket.unlink(missing_ok=True)  # no socket file left in the run folder
        for recorder in (self.routes, self.bgp):
            if recorder is not None:
                recorder.stop()
        for tracked in self.loads.values():
            self.testbed.send_signal(tracked)
        for tracked in self.loads.values():
            self.testbed.stop_process(tracked, grace=3.0)
        self.loads.clear()
        for server in list(self.services):
            for kind in list(self.services[server]):
                self.stop_service(server, kind)
        self.services.clear()


def _last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""
