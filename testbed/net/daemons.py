"""Routing daemons of routers, one class per kind behind one interface: FRR and BIRD.

Every router that is not a Ryu or ExaBGP site node runs a routing daemon:
FRR (zebra, bgpd, bfdd) by default, BIRD 2 where its AS says ``daemon:
bird``.  Bring-up (:class:`~testbed.net.build.Testbed`), the BGP recorder,
the policy check and ``up``'s session table talk to a router only through
:func:`daemon_of`, which gives its kind's :class:`RoutingDaemon`:

- the config: its file name, the rendering and the daemon's own parser;
- the life cycle: the runtime directory, the start command, the processes
  it leaves (their PIDs go into the state file), its log;
- what runs: the BGP sessions' states, the BGP table (in FRR's JSON shape,
  which :mod:`testbed.policy.valley` reads) and per-session counters (in the
  shape of :func:`neighbor_stats`).

Kinds register with ``@DAEMONS.register(name)`` (as site speakers do in
:mod:`testbed.speaker.base`).  The text formats are FRR's JSON and BIRD's
``birdc`` tables; the BIRD parsers are pure and unit-tested on BIRD 2.0.12's
own output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar, Dict, List, Optional

from testbed.errors import TestbedError
from testbed.net import bird, frr
from testbed.net.control import run_control
from testbed.registry import Registry
from testbed.topology.plan import Plan, RouterPlan

#: Seconds a query of a running daemon may take.
QUERY_TIMEOUT_S = 20.0


class RoutingDaemon:
    """One kind of routing daemon; stateless, one instance serves every router."""

    name: ClassVar[str] = ""
    #: the rendered config's file name in the run folder
    config_name: ClassVar[str] = ""
    #: the log's file name (in :meth:`runtime_dir`, copied into the run folder)
    log_name: ClassVar[str] = ""

    def render(self, router: RouterPlan, plan: Plan) -> str:
        """The router's configuration text."""
        raise NotImplementedError

    def check(self, paths: Dict[str, Path]) -> None:
        """Check rendered configs with the daemon's own parser.

        Raises:
            TestbedError: naming the file, the line and the daemon's message.
        """
        raise NotImplementedError

    def runtime_dir(self, router: str) -> Path:
        """Where the router's daemon keeps its config, sockets, pids and log."""
        raise NotImplementedError

    def log_file(self, router: str) -> Path:
        """The router's daemon log."""
        return self.runtime_dir(router) / self.log_name

    def prepare(self, router: RouterPlan, config_text: str) -> Path:
        """Create the runtime directory with the config; the directory."""
        raise NotImplementedError

    def start_command(self, router: RouterPlan) -> str:
        """One shell line, run in the router's namespace, that starts its daemons."""
        raise NotImplementedError

    def processes(self, router: RouterPlan) -> List[str]:
        """The names of the processes the start command leaves running."""
        raise NotImplementedError

    def read_pid(self, router: str, process: str) -> Optional[int]:
        """A process's PID from its pid file, if any."""
        raise NotImplementedError

    def sessions(self, router: RouterPlan) -> Dict[str, str]:
        """Peer name -> BGP state (RFC 4271's names: Idle ... Established)."""
        raise NotImplementedError

    def bgp_table(self, router: RouterPlan) -> Dict[str, Any]:
        """The BGP table in FRR's ``show bgp ipv4 unicast json`` shape ({} if no answer)."""
        raise NotImplementedError

    def counters(self, router: RouterPlan) -> Dict[str, Dict[str, Any]]:
        """Neighbour address -> counters (:func:`neighbor_stats`' shape)."""
        raise NotImplementedError

    def enable_debugging(self, router: RouterPlan) -> None:
        """Make the daemon log what the BGP recorder reads (session changes, withdrawals).

        Raises:
            TestbedError: the daemon did not take it.
        """
        raise NotImplementedError


DAEMONS: Registry[RoutingDaemon] = Registry(
    "routing daemon", unknown="unknown {what} {name} (one of {known})"
)
_INSTANCES: Dict[str, RoutingDaemon] = {}


def daemon_named(name: str) -> RoutingDaemon:
    """The routing daemon registered under ``name`` (``frr``, ``bird``)."""
    if name not in _INSTANCES:
        _INSTANCES[name] = DAEMONS.get(name)()
    return _INSTANCES[name]


def daemon_of(router: RouterPlan) -> RoutingDaemon:
    """The routing daemon a router runs.

    Raises:
        TestbedError: the router is a Ryu or ExaBGP site node (it runs a speaker).
    """
    if not router.routed:
        raise TestbedError(f"{router.name} runs the {router.speaker} speaker, not a daemon")
    return daemon_named(router.daemon)


# ------------------------------------------------------------------------ FRR

#: vtysh commands that make FRR log every prefix a peer withdraws (FILE: its log file).
DEBUG_COMMANDS = ("debug bgp updates in", "configure terminal", "log file {file} debugging")
#: The vtysh command that makes bfdd log its sessions' state changes (routers running bfdd).
BFD_DEBUG = "debug bfd peer"


def _seconds(msecs: Any) -> Optional[float]:
    return msecs / 1000 if isinstance(msecs, (int, float)) else None


def neighbor_stats(data: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """What the recorder keeps of ``show bgp neighbors json``, per neighbor address.

    Args:
        data: the parsed JSON (neighbor address -> FRR's neighbor object).

    Returns:
        address -> ``state`` (FRR's ``bgpState``), ``updates_in``/``updates_out``
        (``messageStats``), ``prefixes_in``/``prefixes_out`` (IPv4 unicast
        accepted and sent prefixes, None if the family is not up),
        ``established``/``dropped`` (connections) and ``hold``/``keepalive``
        (the session's timers in seconds, negotiated once Established).
    """
    out: Dict[str, Dict[str, Any]] = {}
    for addr, info in data.items():
        if not isinstance(info, dict) or "bgpState" not in info:
            continue
        stats = info.get("messageStats", {})
        family = info.get("addressFamilyInfo", {}).get("ipv4Unicast", {})

        out[addr] = {
            "state": info.get("bgpState"),
            "updates_in": int(stats.get("updatesRecv", 0)),
            "updates_out": int(stats.get("updatesSent", 0)),
            "prefixes_in": family.get("acceptedPrefixCounter"),
            "prefixes_out": family.get("sentPrefixCounter"),
            "established": int(info.get("connectionsEstablished", 0)),
            "dropped": int(info.get("connectionsDropped", 0)),
            "hold": _seconds(info.get("bgpTimerHoldTimeMsecs")),
            "keepalive": _seconds(info.get("bgpTimerKeepAliveIntervalMsecs")),
        }
    return out


@DAEMONS.register("frr")
class FrrDaemon(RoutingDaemon):
    """FRR: zebra, bgpd (and bfdd), each with the router's pathspace (``-N``); vtysh."""

    config_name = "frr.conf"
    log_name = "frr.log"

    def render(self, router: RouterPlan, plan: Plan) -> str:
        return frr.render_config(router, plan)

    def check(self, paths: Dict[str, Path]) -> None:
        if paths:
            frr.check_configs(paths)

    def runtime_dir(self, router: str) -> Path:
        return frr.runtime_dir(router)

    def prepare(self, router: RouterPlan, config_text: str) -> Path:
        return frr.prepare_runtime_dir(router, config_text)

    def start_command(self, router: RouterPlan) -> str:
        return frr.start_command(router)

    def processes(self, router: RouterPlan) -> List[str]:
        return frr.daemons_for(router)

    def read_pid(self, router: str, process: str) -> Optional[int]:
        return frr.read_pid(router, process)

    def _json(self, router: str, command: str) -> Dict[str, Any]:
        data = json.loads(frr.vtysh(router, command, timeout=QUERY_TIMEOUT_S) or "{}")
        return data if isinstance(data, dict) else {}

    def sessions(self, router: RouterPlan) -> Dict[str, str]:
        names = {str(n.address): n.peer for n in router.neighbors}
        return frr.bgp_sessions(router.name, names, QUERY_TIMEOUT_S)

    def bgp_table(self, router: RouterPlan) -> Dict[str, Any]:
        try:
            return self._json(router.name, "show bgp ipv4 unicast json")
        except (TestbedError, OSError, ValueError):
            return {}

    def counters(self, router: RouterPlan) -> Dict[str, Dict[str, Any]]:
        return neighbor_stats(self._json(router.name, "show bgp neighbors json"))

    def enable_debugging(self, router: RouterPlan) -> None:
        log = self.log_file(router.name)
        commands = [c.format(file=log) for c in DEBUG_COMMANDS]
        if "bfdd" in frr.daemons_for(router):
            commands.insert(0, BFD_DEBUG)
        frr.vtysh(router.name, *commands)


# ----------------------------------------------------------------------- BIRD

#: ``show protocols``' Info column for a BGP protocol: its FSM state first.
BGP_STATES = ("Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established")
#: What the BGP recorder needs BIRD to log beyond the config's ``states``: the
#: sessions' events (``BGP session established``, ``BFD session down``, the
#: error that closed one), every route a peer adds or removes, BFD's sessions.
BIRD_DEBUG = (
    ("peer_*", "{ states, events, routes }"),
    ("bfd*", "{ states, events }"),
)

_PROTO_LINE = re.compile(r"^(?P<name>\S+)\s+(?P<proto>\S+)\s+(?P<table>\S+)\s+(?P<state>\S+)\s+")
_ROUTE_HEAD = re.compile(r"^(?P<prefix>\d+\.\d+\.\d+\.\d+/\d+)?\s+\S+\s+\[(?P<proto>\S+)[^\]]*\]")


def fsm_state(line: str) -> str:
    """A BGP protocol's FSM state from its ``show protocols`` line.

    The Info column holds the state (``Established``, ``Active``,
    ``Connect``...) and, after it, the last error; a protocol BIRD stopped
    (disabled, or down after an error and not started again yet) is ``Idle``.
    """
    return next((word for word in line.split() if word in BGP_STATES), "Idle")


def parse_protocols(text: str) -> Dict[str, str]:
    """``birdc show protocols``: BGP protocol name -> its FSM state (:func:`fsm_state`)."""
    out: Dict[str, str] = {}
    for line in text.splitlines():
        m = _PROTO_LINE.match(line)
        if m and m.group("proto") == "BGP":
            out[m.group("name")] = fsm_state(line)
    return out


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0


def parse_protocol_details(text: str) -> Dict[str, Dict[str, Any]]:
    """``birdc show protocols all``: neighbour address -> the recorder's counters.

    BIRD counts routes, not UPDATE messages: ``updates_in``/``updates_out``
    are the routes received and sent (``Import updates`` and ``Export
    updates``, their ``received`` and ``accepted`` columns) and
    ``withdrawals_in`` the withdrawals received (``Import withdraws``,
    which FRR does not count).  ``established``/``dropped`` are not kept by
    BIRD (None).
    """
    out: Dict[str, Dict[str, Any]] = {}
    current: Optional[Dict[str, Any]] = None
    for line in text.splitlines():
        m = _PROTO_LINE.match(line)
        if m and not line.startswith(" "):
            current = None
            if m.group("proto") == "BGP":
                current = {
                    "state": fsm_state(line),
                    "updates_in": 0,
                    "updates_out": 0,
                    "withdrawals_in": 0,
                    "prefixes_in": None,
                    "prefixes_out": None,
                    "established": None,
                    "dropped": None,
                    "hold": None,
                    "keepalive": None,
                }
            continue
        if current is None:
            continue
        field, _, value = line.strip().partition(":")
        value = value.strip()
        if field == "Neighbor address":
            out[value] = current
        elif field == "Hold timer":
            current["hold"] = float(value.split("/")[-1])
        elif field == "Keepalive timer":
            current["keepalive"] = float(value.split("/")[-1])
        elif field == "Routes":
            counts = re.findall(r"(\d+) (imported|exported)", value)
            for number, what in counts:
                current["prefixes_in" if what == "imported" else "prefixes_out"] = int(number)
        elif field in ("Import updates", "Export updates", "Import withdraws"):
            columns = value.split()
            received = _int(columns[0]) if columns else 0
            key = {
                "Import updates": "updates_in",
                "Export updates": "updates_out",
                "Import withdraws": "withdrawals_in",
            }[field]
            # exports: what was accepted by the filter is what went out
            current[key] = _int(columns[-1]) if field == "Export updates" else received
    return out


def parse_routes(text: str, asn: int, router_id: str) -> Dict[str, Any]:
    """``birdc show route all``, as FRR's ``show bgp ipv4 unicast json`` shape.

    Every route of the table: ``valid``, ``bestpath`` (BIRD's ``*``), the AS
    path (``BGP.as_path``, empty for the router's own) and the protocol it
    came from; a route BIRD originates (static) has ``"path": ""``.
    """
    routes: Dict[str, List[Dict[str, Any]]] = {}
    prefix: Optional[str] = None
    entry: Optional[Dict[str, Any]] = None
    for line in text.splitlines():
        head = _ROUTE_HEAD.match(line)
        if head and not line.startswith("\t"):
            if head.group("prefix"):
                prefix = head.group("prefix")
            if prefix is None:
                continue
            entry = {
                "valid": True,
                "path": "",
                "protocol": head.group("proto"),
            }
            if "] * (" in line or line.rstrip().endswith("] *"):
                entry["bestpath"] = True
            routes.setdefault(prefix, []).append(entry)
            continue
        stripped = line.strip()
        if entry is not None and stripped.startswith("BGP.as_path:"):
            entry["path"] = stripped.partition(":")[2].strip()
            entry["pathFrom"] = "external"
    return {"routerId": router_id, "localAS": asn, "routes": routes}


@DAEMONS.register("bird")
class BirdDaemon(RoutingDaemon):
    """BIRD 2: one ``bird`` process per router, its control socket for ``birdc``."""

    config_name = "bird.conf"
    log_name = "bird.log"

    def render(self, router: RouterPlan, plan: Plan) -> str:
        return bird.render_config(router, plan)

    def check(self, paths: Dict[str, Path]) -> None:
        if paths:
            bird.check_configs(paths)

    def runtime_dir(self, router: str) -> Path:
        return bird.runtime_dir(router)

    def prepare(self, router: RouterPlan, config_text: str) -> Path:
        return bird.prepare_runtime_dir(router.name, config_text)

    def start_command(self, router: RouterPlan) -> str:
        return " ".join(bird.daemon_argv(router.name))

    def processes(self, router: RouterPlan) -> List[str]:
        return ["bird"]

    def read_pid(self, router: str, process: str) -> Optional[int]:
        return bird.read_pid(router)

    def birdc(self, router: str, command: str, timeout: float = QUERY_TIMEOUT_S) -> str:
        """Run one ``birdc`` command on a router; its output.

        Raises:
            TestbedError: birdc failed or did not answer within ``timeout`` s.
        """
        out = run_control(bird.birdc_argv(router, command), "birdc", router, "its BIRD", timeout)
        if "syntax error" in out:  # birdc exits 0 on a command it does not take
            raise TestbedError(f"birdc on {router} failed: {out.strip()}")
        return out

    def sessions(self, router: RouterPlan) -> Dict[str, str]:
        names = {f"peer_{bird.symbol(n.peer)}": n.peer for n in router.neighbors}
        states = parse_protocols(self.birdc(router.name, "show protocols"))
        return {names.get(proto, proto): state for proto, state in states.items()}

    def bgp_table(self, router: RouterPlan) -> Dict[str, Any]:
        try:
            text = self.birdc(router.name, "show route all")
        except (TestbedError, OSError):
            return {}
        return parse_routes(text, router.asn, str(router.router_id))

    def counters(self, router: RouterPlan) -> Dict[str, Dict[str, Any]]:
        return parse_protocol_details(self.birdc(router.name, "show protocols all"))

    def enable_debugging(self, router: RouterPlan) -> None:
        for pattern, what in BIRD_DEBUG:
            self.birdc(router.name, f'debug "{pattern}" {what}')
