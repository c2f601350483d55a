"""Kathará: a topology's plan (and a scenario's timeline) as a Kathará lab (pure).

:func:`lab_files` turns a :class:`~testbed.topology.plan.Plan` into the
files of a Kathará lab, as a dict of relative path -> text; nothing here
touches the disk (:func:`testbed.export.write_files` does).  The lab:

- ``lab.conf``: one device per node of the plan (a router on
  :data:`ROUTER_IMAGE`, a client or server on :data:`HOST_IMAGE`), one
  collision domain per link, the testbed's sysctls (``DEVICE[sysctl]``:
  ``/proc/sys`` is read-only inside a container, so they are set when it
  is created);
- ``DEVICE.startup``: the node's addresses and routes
  (:mod:`testbed.net.nodecmds`, the testbed's own), its links' shaping
  (:func:`testbed.net.links.shaping_commands`), then FRR on a router and
  NSD on a site server;
- ``ROUTER/etc/frr/frr.conf``: :func:`testbed.net.frr.render_config`'s text,
  byte for byte, and ``ROUTER/etc/frr/daemons`` with the daemons the
  testbed starts (:func:`testbed.net.frr.daemons_for`);
- ``SERVER/etc/anycast-testbed/nsd/``: :mod:`testbed.services.dns`'s
  ``nsd.conf`` and zone;
- ``traffic.sh``: the stream service and the probes, the testbed's own
  command lines (:mod:`testbed.export.traffic`), started with ``kathara
  exec`` where the image has the package;
- ``timeline.sh`` (with a scenario): every event at its time as ``kathara
  exec`` lines (:mod:`testbed.export.timeline`), a record per event in
  ``shared/records/events.jsonl``;
- ``README.md``: how to run it, what each device is, what is not exported.

Kathará names a device ``[a-z0-9_]{1,30}`` and its interfaces ``eth0``,
``eth1``... in the order of ``DEVICE[N]``: a node's device is its name with
``_`` for ``-``, and its interface ``NODE-eK`` of the plan is ``ethK``.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, Dict, List, Optional, Tuple, Union

from testbed import __version__
from testbed.export.timeline import Action, TimedEvent, TimelinePlanner
from testbed.export.traffic import RECORDS, RUN, TrafficCommands
from testbed.net import frr, links
from testbed.net.nodecmds import host_ip_commands, router_ip_commands
from testbed.probes.builtin import service_address
from testbed.scenario.events import iptables_drop
from testbed.services import dns
from testbed.topology.plan import HostPlan, Interface, Plan, RouterPlan

ENGINE = "kathara"
#: FRR routers: Kathará's FRR image (Debian's FRR package, ``systemctl`` for its init).
ROUTER_IMAGE = "kathara/frr"
#: Clients and site servers: Kathará's base image (network tools, python3; no NSD).
HOST_IMAGE = "kathara/base"
#: A site server's NSD folder in its device (config, zone, pid, log, state).
NSD_DIR = PurePosixPath("/etc/anycast-testbed/nsd")
#: Where a router's FRR keeps its pid files (Debian's FRR package).
FRR_PIDS = PurePosixPath("/var/run/frr")
#: The FRR daemons a router may run (``daemons`` says yes or no to each).
FRR_DAEMONS = ("bgpd", "bfdd")
#: The longest device name Kathará takes.
DEVICE_MAX = 30
#: Names Kathará keeps for itself (``shared`` is also the lab's shared folder).
RESERVED = ("shared", "_test")


@dataclass
class Options:
    """What the lab is made of besides the plan.

    Attributes:
        router_image: the routers' image (FRR from Debian's package, with
            ``systemctl`` and ``/etc/frr``).
        host_image: the clients' and servers' image (NSD and the
            ``anycast-testbed`` package, where it has them, start there).
        name: the lab's name (``LAB_NAME``; Kathará tells labs apart by it).
        command: the command line that made the export (in the files' headers).
    """

    router_image: str = ROUTER_IMAGE
    host_image: str = HOST_IMAGE
    name: str = ""
    command: str = ""


def device(node: str) -> str:
    """A node's Kathará device name: ``east-1`` -> ``east_1``."""
    return node.replace("-", "_")


class Names:
    """A plan's nodes, links and interfaces as the lab names them."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        #: node -> its interfaces in order (``ethK`` is the K-th)
        self.interfaces: Dict[str, List[Interface]] = {
            name: list(r.interfaces) for name, r in plan.routers.items()
        }
        for name, host in plan.hosts.items():
            if not host.on_router:
                self.interfaces[name] = [host.interface]
        self._eth = {
            (node, intf.name): f"eth{k}"
            for node, ends in self.interfaces.items()
            for k, intf in enumerate(ends)
        }
        #: collision domain of each link, in plan order
        self.domains: List[str] = [
            f"l{i}_{device(link.a.node)}_{device(link.b.node)}" for i, link in enumerate(plan.links)
        ]
        self._domain = {
            (end.node, end.name): self.domains[i]
            for i, link in enumerate(plan.links)
            for end in (link.a, link.b)
        }

    def eth(self, intf: Interface) -> str:
        """The interface's name in its device (``ethK``)."""
        return self._eth[(intf.node, intf.name)]

    def eth_of(self, node: str, name: str) -> str:
        """The device's name for the plan's interface ``name`` of ``node``."""
        return self._eth[(node, name)]

    def domain(self, intf: Interface) -> str:
        """The collision domain the interface sits on."""
        return self._domain[(intf.node, intf.name)]

    def nodes(self) -> List[str]:
        """Every node with a device: the routers, then the hosts, in plan order."""
        return list(self.interfaces)

    def refused(self) -> Optional[str]:
        """Why Kathará would not take a node's device name (None: it takes them all)."""
        for node in self.nodes():
            name = device(node)
            if len(name) > DEVICE_MAX:
                return f"{node}: longer than the {DEVICE_MAX} characters of a Kathará device name"
            if name in RESERVED:
                return f"{node}: Kathará keeps the name {name!r} for itself (rename the node)"
        return None


def _q(text: str) -> str:
    """One shell word."""
    return shlex.quote(text)


def _lab_value(text: str) -> str:
    """A lab.conf value: one line, no quotes or ``=`` (Kathará's parser takes neither)."""
    return " ".join(text.replace('"', "").replace("'", "").replace("=", " ").split())


def _header(what: str, opts: Options) -> List[str]:
    lines = [f"# {what}", f"# Exported by anycast-testbed {__version__}"]
    if opts.command:
        lines[-1] += f": {opts.command}"
    return lines


# ------------------------------------------------------------------ lab.conf
def _role(plan: Plan, node: str) -> str:
    if node in plan.routers:
        r = plan.routers[node]
        if r.site:
            return f"site router of site {r.site} (AS {r.as_name}, {r.asn})"
        return f"router of AS {r.as_name} ({r.asn}, {r.role})"
    h = plan.hosts[node]
    if h.kind == "server":
        return f"server of site {h.site}"
    return f"{h.kind} in AS {h.as_name}"


_SYSCTL_NOTE = (
    "# sysctls: Kathara's own (ip_forward=1, rp_filter=0, no IPv6) and lab.conf's "
    "DEVICE[sysctl]\n# lines, set when the container is made (/proc/sys is read-only inside)"
)


def _sysctls(plan: Plan, node: str) -> List[str]:
    """The testbed's sysctls of a node that Kathará's defaults do not set already.

    Kathará sets ``ip_forward=1`` and ``rp_filter=0`` everywhere and turns
    IPv6 off unless told otherwise; the testbed's hosts do not forward, and a
    site router with a default route ignores routes whose link is down.
    """
    if node in plan.hosts:
        return ["net.ipv4.ip_forward=0"]
    router = plan.routers[node]
    if router.default_route:
        return ["net.ipv4.conf.all.ignore_routes_with_linkdown=1"]
    return []


def lab_conf(plan: Plan, names: Names, opts: Options) -> str:
    """The lab's ``lab.conf``: its name, then every device's domains, image and sysctls."""
    topo = plan.topology
    out = _header(f"Kathará lab of topology {topo.name}: see README.md", opts)
    out += [
        f'LAB_NAME="{_lab_value(opts.name)}"',
        f'LAB_DESCRIPTION="{_lab_value(topo.description or topo.name)}"',
        f'LAB_VERSION="{__version__}"',
        'LAB_AUTHOR="anycast-testbed export"',
    ]
    for node in names.nodes():
        dev = device(node)
        out += ["", f"# {node}: {_role(plan, node)}"]
        for k, intf in enumerate(names.interfaces[node]):
            out.append(f'{dev}[{k}]="{names.domain(intf)}"')
        image = opts.router_image if node in plan.routers else opts.host_image
        out.append(f'{dev}[image]="{image}"')
        out.append(f'{dev}[ipv6]="false"')
        out += [f'{dev}[sysctl]="{s}"' for s in _sysctls(plan, node)]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------- startup
def _shaping(plan: Plan, names: Names, node: str) -> List[str]:
    """tc lines of a node's shaped links, as the testbed shapes them: netem for delay,
    jitter and loss, with the testbed's fallback where the host has no netem."""
    out = []
    for link in plan.links:
        if not link.params.shaped():
            continue
        for end in (link.a, link.b):
            if end.node != node:
                continue
            eth = names.eth(end)
            full = links.shaping_commands(eth, link.params, netem=True)
            fallback = links.shaping_commands(eth, link.params, netem=False)
            if not full:
                continue
            if fallback == full:
                out += full
                continue
            skipped = _q(f"anycast-testbed: {eth}: no netem on this host: delay, jitter "
                         "and loss skipped")  # fmt: skip
            alternative = " && ".join(fallback) if fallback else "true"
            out.append(f"{full[0]} 2>/dev/null || {{ echo {skipped} >&2; {alternative}; }}")
    return out


def _interface_comment(names: Names, node: str) -> str:
    parts = [
        f"{names.eth(i)} = {i.name} (to {i.peer}, {names.domain(i)})"
        for i in names.interfaces[node]
    ]
    return "# Interfaces: " + "; ".join(parts)


def router_startup(plan: Plan, names: Names, router: RouterPlan, opts: Options) -> str:
    """A router's startup file: addresses and routes, shaping, then FRR."""
    logdir = frr.runtime_dir(router.name)
    out = _header(f"{router.name}: {_role(plan, router.name)}", opts)
    out += [
        _interface_comment(names, router.name),
        _SYSCTL_NOTE,
        "",
        "# addresses, the blackholes of what it announces and the routes to its",
        "# servers: kernel routes, which zebra reads when it starts (as in the testbed)",
    ]
    out += [f"ip {c}" for c in router_ip_commands(router, names.eth)]
    shaping = _shaping(plan, names, router.name)
    if shaping:
        out += ["", "# link shaping (tc), on both ends of a link as in the testbed", *shaping]
    out += [
        "",
        "# FRR with the testbed's own frr.conf (/etc/frr/frr.conf), which logs into",
        f"# {logdir}/frr.log; /etc/frr/daemons starts {', '.join(frr.daemons_for(router))}",
        f"mkdir -p {logdir}",
        f"chown frr:frr {logdir}",
        "systemctl start frr",
    ]
    return "\n".join(out) + "\n"


def nsd_start() -> List[str]:
    """NSD from the server's rendered files, if the image has it (else one line why not)."""
    missing = _q(
        "anycast-testbed: no nsd in this image: the DNS service is not started "
        "(see README.md: an image with NSD)"
    )
    return [f"if command -v nsd >/dev/null 2>&1; then nsd -c {NSD_DIR / dns.CONF_NAME}; "
            f"else echo {missing} >&2; fi"]  # fmt: skip


def host_startup(plan: Plan, names: Names, host: HostPlan, opts: Options) -> str:
    """A client's or server's startup file: addresses and its default route; NSD on a server."""
    out = _header(f"{host.name}: {_role(plan, host.name)}", opts)
    out += [
        _interface_comment(names, host.name),
        _SYSCTL_NOTE,
        "",
    ]
    out += [f"ip {c}" for c in host_ip_commands(host, names.eth)]
    shaping = _shaping(plan, names, host.name)
    if shaping:
        out += ["", "# link shaping (tc), on both ends of a link as in the testbed", *shaping]
    if host.kind == "server":
        out += [
            "",
            f"# NSD with the testbed's own config and zone ({NSD_DIR})",
            *nsd_start(),
        ]
    return "\n".join(out) + "\n"


def daemons_file(router: RouterPlan, opts: Options) -> str:
    """``/etc/frr/daemons``: the daemons the testbed starts, and its fd limit."""
    running = frr.daemons_for(router)
    out = _header(f"FRR daemons of {router.name}, as the testbed starts them", opts)
    out += ["# zebra (and staticd, mgmtd) always start", "zebra=yes"]
    out += [f"{d}={'yes' if d in running else 'no'}" for d in FRR_DAEMONS]
    out += [
        "vtysh_enable=yes",
        'frr_profile="traditional"',
        'zebra_options="  -A 127.0.0.1 -s 90000000"',
        'mgmtd_options="  -A 127.0.0.1"',
        'staticd_options="-A 127.0.0.1"',
        'bgpd_options="   -A 127.0.0.1"',
        'bfdd_options="   -A 127.0.0.1"',
        "# the testbed's --limit-fds (testbed/net/frr.py fd_limit)",
        f"MAX_FDS={frr.fd_limit(len(router.neighbors))}",
    ]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------- scripts
#: Shell functions both scripts use: ``on DEVICE CMD...`` runs a command in a device;
#: ``spawn``/``halt`` start a background process with a pid file, and signal it.
_FUNCTIONS = r"""LAB=$(cd "$(dirname "$0")" && pwd)
RECORDS="$LAB/shared/records"
# on DEVICE COMMAND...: run a command in a device of the lab (KATHARA: the command that
# runs Kathará, e.g. KATHARA="python3 -m kathara" where it came from pip)
on() { dev=$1; shift; ${KATHARA:-kathara} exec -d "$LAB" "$dev" -- "$@"; }
# spawn DEVICE NAME COMMAND...: start a command in the background in a device (pid file, log)
spawn() {
    dev=$1; name=$2; shift 2
    on "$dev" sh -c 'mkdir -p {run} && nohup "$@" </dev/null >{run}/$0.log 2>&1 &
echo $! >{run}/$0.pid' "$name" "$@"
}
# halt DEVICE NAME [SIGNAL]: signal what spawn started (SIGTERM by default)
halt() {
    on "$1" sh -c '[ -f {run}/$0.pid ] && kill -$1 $(cat {run}/$0.pid); rm -f {run}/$0.pid' \
        "$2" "${3:-TERM}"
}
""".replace("{run}", str(RUN))


#: A command to run in a device: a plain command line (argv), or a line for its shell.
Command = Union[Tuple[str, ...], str]


def _sh_word(script: str) -> str:
    """A shell script as one word of the host's shell: in double quotes when it holds
    single quotes and nothing double quotes would expand (vtysh's ``-c '...'``)."""
    if "'" in script and not any(c in script for c in '$`"\\!'):
        return f'"{script}"'
    return _q(script)


def _action_commands(names: Names, action: Action) -> List[Command]:
    """One action as the commands its device runs (a Python service's: none, see
    :func:`_event_lines`)."""
    node, kind, args = action.node, action.kind, action.args
    if kind == "link":
        return [("ip", "link", "set", names.eth_of(node, args[0]), args[1])]
    if kind == "drop":
        intf = names.eth_of(node, args[0]) if args[0] else None
        return [tuple(line.split()) for line in iptables_drop(intf, delete=args[1] == "delete")]
    if kind == "frr":
        if args[0] == "start":
            return [("systemctl", "restart", "frr")]
        # watchfrr first (it would restart a stopped or killed daemon), then every daemon
        watch = FRR_PIDS / "watchfrr.pid"
        return [
            f"{{ [ ! -f {watch} ] || kill -{args[0]} $(cat {watch}); }}",
            f"for f in {FRR_PIDS}/*.pid; do [ $f = {watch} ] || kill -{args[0]} $(cat $f); done",
        ]
    if kind == "vtysh":
        return [("vtysh", *[w for c in args for w in ("-c", c)])]
    if kind == "service":
        service, what = args
        if service != "dns":
            return []
        if what == "stop":  # NSD's whole process group, as the testbed kills it
            return [f"kill -KILL -$(cat {NSD_DIR / 'nsd.pid'})"]
        return [("nsd", "-c", str(NSD_DIR / dns.CONF_NAME))]
    if kind == "shell":
        return [args[0]]
    raise ValueError(f"unknown action {kind!r}")


def _exec_line(dev: str, commands: List[Command]) -> str:
    """``on DEVICE ...``: one command as it is, several (or a shell line) through ``sh -c``."""
    if len(commands) == 1 and isinstance(commands[0], tuple):
        return f"on {dev} {shlex.join(commands[0])}"
    script = " && ".join(shlex.join(c) if isinstance(c, tuple) else c for c in commands)
    return f"on {dev} sh -c {_sh_word(script)}"


def _event_lines(names: Names, event: TimedEvent, traffic: TrafficCommands) -> List[str]:
    """The script lines of one event: each device's commands in one ``kathara exec``,
    the devices at once (each ``kathara exec`` takes a fraction of a second)."""
    groups: Dict[str, List[Command]] = {}
    python: List[Tuple[str, str]] = []
    for action in event.actions:
        dev = device(action.node)
        if action.kind == "service" and action.args[0] != "dns":
            service, what = action.args
            argv = traffic.servers.get(action.node, {}).get(service)
            if argv is None:
                continue
            if what == "stop":
                python.append((dev, f"halt {dev} {service} KILL"))
            else:
                python.append((dev, f"spawn {dev} {service} {shlex.join(argv)}"))
            continue
        groups.setdefault(dev, []).extend(_action_commands(names, action))
    lines = [f"{{ {_exec_line(dev, cmds)} || failed {dev}; }} &" for dev, cmds in groups.items()]
    lines += [f"{{ {line} || failed {dev}; }} &" for dev, line in python]
    return lines


def timeline_script(
    plan: Plan, names: Names, scenario: Any, events: List[TimedEvent], traffic: TrafficCommands,
    opts: Options,
) -> str:  # fmt: skip
    """``timeline.sh``: the scenario's settle, then every event at its time, recorded."""
    topo = plan.topology
    out = ["#!/bin/sh"]
    out += _header(f"Timeline of scenario {scenario.name} on topology {topo.name}, for the "
                   "Kathará lab in this folder", opts)  # fmt: skip
    out += [
        "# Run it once the lab is up (kathara lstart) and, to measure, the traffic started",
        "# (./traffic.sh start). It waits the scenario's settle (SETTLE=0 skips it), fires",
        "# every event at its time from the timeline's start as the testbed's engine does,",
        "# and appends a record per event to shared/records/events.jsonl (the timeline's",
        "# start in shared/records/t0).",
        "set -u",
        _FUNCTIONS.rstrip("\n"),
        "now() { date +%s.%N; }",
        "# wait_until AT: until AT seconds after T0",
        "wait_until() {",
        '    sleep "$(awk -v t0="$T0" -v at="$1" -v now="$(now)" '
        '\'BEGIN { d = t0 + at - now; printf "%.3f", (d > 0 ? d : 0) }\')"',
        "}",
        'failed() { echo "timeline.sh: a command on $1 failed" >&2; }',
        "# record T JSON: the event's record, as the testbed writes it (t, applied_s added)",
        "record() {",
        "    done_at=$(now)",
        '    applied=$(awk -v a="$1" -v b="$done_at" \'BEGIN { printf "%.6f", b - a }\')',
        '    printf \'{"t": %s, %s, "details": {}, "applied_s": %s}\\n\' "$1" "$2" '
        '"$applied" >>"$RECORDS/events.jsonl"',
        "}",
        "",
        'mkdir -p "$RECORDS"',
        f'echo "settling {scenario.settle:g} s"',
        f'sleep "${{SETTLE:-{scenario.settle:g}}}"',
        "T0=$(now)",
        'echo "$T0" >"$RECORDS/t0"',
    ]
    for event in events:
        fixed = json.dumps(event.record)[1:-1]
        out += [
            "",
            f"# t={event.at:g} s: {event.describe()}",
            f"wait_until {event.at:g}",
            "t=$(now)",
            *_event_lines(names, event, traffic),
            "wait",
            f'record "$t" {_q(fixed)}',
            f'echo "t={event.at:5.1f}s  {event.describe()}"',
        ]
    out += [
        "",
        f"wait_until {scenario.duration:g}",
        f'echo "timeline of {scenario.name} done ({scenario.duration:g} s)"',
    ]
    return "\n".join(out) + "\n"


def traffic_script(plan: Plan, traffic: TrafficCommands, opts: Options) -> str:
    """``traffic.sh start|stop``: the stream service (and the kinds' other services) on
    every site server, the probes on every client, where the image has the package."""
    out = ["#!/bin/sh"]
    out += _header(f"Services and probes of the testbed in the Kathará lab of {plan.topology.name}",
                   opts)  # fmt: skip
    out += [
        "# ./traffic.sh start: the services every site server runs besides NSD (which its",
        "# startup starts), then the probes of every client, their records in shared/records/;",
        "# ./traffic.sh stop: stops them. They are the testbed's own Python programs: the",
        "# devices' image needs the anycast-testbed package (kathara/base has not: README.md).",
        f"# Probe kinds: {', '.join(traffic.kinds)}; services: {', '.join(traffic.services)}.",
        "set -u",
        _FUNCTIONS.rstrip("\n"),
        "",
        'case "${1:-}" in',
        "start)",
    ]
    devices = [device(n) for n in [*traffic.servers, *traffic.probes]]
    out += [
        f"    for dev in {' '.join(devices)}; do",
        "        on \"$dev\" python3 -c 'import testbed' >/dev/null 2>&1 || {",
        '            echo "traffic.sh: the image of $dev has no anycast-testbed package '
        '(see README.md)" >&2',
        "            exit 2",
        "        }",
        "    done",
        '    mkdir -p "$RECORDS"',
    ]
    for server, services in traffic.servers.items():
        out += [
            f"    spawn {device(server)} {kind} {shlex.join(argv)}"
            for kind, argv in services.items()
        ]
    for client, probes in traffic.probes.items():
        out += [
            f"    spawn {device(client)} {prefix}-probe {shlex.join(argv)}"
            for prefix, argv in probes.items()
        ]
    out += ["    ;;", "stop)"]
    for client, probes in traffic.probes.items():
        out += [f"    halt {device(client)} {prefix}-probe" for prefix in probes]
    for server, services in traffic.servers.items():
        out += [f"    halt {device(server)} {kind}" for kind in services]
    out += [
        "    ;;",
        "*)",
        '    echo "usage: $0 start|stop" >&2',
        "    exit 2",
        "    ;;",
        "esac",
    ]
    return "\n".join(out) + "\n"


# -------------------------------------------------------------------- README
def readme(
    plan: Plan, names: Names, opts: Options, traffic: TrafficCommands, scenario: Any = None
) -> str:
    """The lab's README.md: how to run it, its devices, what is and is not in it."""
    topo = plan.topology
    lines = [
        f"# Kathará lab: {topo.name}",
        "",
        f"Exported by anycast-testbed {__version__}"
        + (f" (`{opts.command}`)" if opts.command else "")
        + f" from topology `{topo.name}`"
        + (f" with scenario `{scenario.name}`" if scenario is not None else "")
        + ". Every router runs FRR with the very `frr.conf` the testbed renders for it; "
        "docs/export.md of anycast-testbed says what is exported and what is not.",
        "",
        "## Run it",
        "",
        "```sh",
        "kathara lstart -d DIR --noterminals   # one machine (Docker), or a Kubernetes",
        "                                      # cluster with Kathará's Megalos manager",
        f"kathara exec -d DIR {device(next(iter(plan.routers)))} -- vtysh -c "
        "'show bgp ipv4 unicast summary'",
        "DIR/traffic.sh start                 # services and probes (image with the package)",
    ]
    if scenario is not None:
        lines.append("DIR/timeline.sh                      # the scenario's events at their times")
    lines += [
        "DIR/traffic.sh stop",
        "kathara lclean -d DIR",
        "```",
        "",
        "DIR is this folder. The scripts run `kathara`; where Kathará came from pip, "
        '`KATHARA="python3 -m kathara"` makes them run that instead.',
        "",
        "## Devices",
        "",
        "| node | device | image | what |",
        "|---|---|---|---|",
    ]
    for node in names.nodes():
        image = opts.router_image if node in plan.routers else opts.host_image
        lines.append(f"| {node} | `{device(node)}` | `{image}` | {_role(plan, node)} |")
    lines += [
        "",
        "A node's interface `NODE-eK` of the testbed is `ethK` in its device; each",
        "startup file lists them with their collision domains.",
        "",
        "## Services and probes",
        "",
        f"Each site server's startup starts NSD with the testbed's config and zone "
        f"(`{NSD_DIR}`), if its image has NSD: `{opts.host_image}`"
        + (" has not" if opts.host_image == HOST_IMAGE else " should have it")
        + ". The stream service and the probes are the testbed's own Python programs, so "
        "they run only where the image has the `anycast-testbed` package; `traffic.sh "
        "start` checks for it and starts them with these command lines (records in the "
        f"lab's `shared/records/`, `{RECORDS}` in a device):",
        "",
        "```sh",
    ]
    for server, services in traffic.servers.items():
        lines += [f"{device(server)}: {shlex.join(argv)}" for argv in services.values()]
    for client, probes in traffic.probes.items():
        lines += [f"{device(client)}: {shlex.join(argv)}" for argv in probes.values()]
    lines += [
        "```",
        "",
        "An image with both, built from the anycast-testbed source folder, for "
        "`--host-image anycast-testbed-host`:",
        "",
        "```Dockerfile",
        f"FROM {HOST_IMAGE}",
        "RUN apt-get update && apt-get install -y --no-install-recommends nsd && "
        "rm -rf /var/lib/apt/lists/*",
        "COPY . /opt/anycast-testbed",
        "RUN python3 -m pip install --break-system-packages /opt/anycast-testbed",
        "```",
    ]
    if scenario is not None:
        lines += [
            "",
            "## Timeline",
            "",
            f"`timeline.sh` waits the scenario's settle ({scenario.settle:g} s; `SETTLE=0` "
            "skips it), then runs every event at its time from the timeline's start with "
            "`kathara exec`, and appends its record to `shared/records/events.jsonl`. A "
            "`fail_site` with `link-down` takes both ends of each uplink down: a collision "
            "domain is a bridge, so one end going down is no carrier loss at the other.",
        ]
    lines += [
        "",
        "## Not exported",
        "",
        "Ryu and ExaBGP sites, health agents and the shared backend, capacity queues, "
        "GSLB and resolvers, attack senders and the load recorder: `export` refuses a "
        "topology or scenario that uses them (docs/export.md says why).",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------- files
def lab_files(
    plan: Plan,
    opts: Optional[Options] = None,
    scenario: Any = None,
    traffic: Optional[TrafficCommands] = None,
) -> Dict[str, str]:
    """Every file of the Kathará lab of ``plan`` (and ``scenario``'s timeline).

    Args:
        plan: the plan of the topology (the scenario's settings applied).
        opts: images, name, the command line (defaults: Kathará's images).
        scenario: the scenario, or None (no ``timeline.sh``).
        traffic: the run's services and probes (default: from the scenario).

    Returns:
        Relative path -> text, in a stable order.

    Raises:
        ValueError: a node name too long for a Kathará device.
    """
    from testbed.export.traffic import traffic_commands

    opts = opts or Options()
    if not opts.name:
        name = f"anycast-{plan.topology.name}"
        opts = replace(opts, name=f"{name}-{scenario.name}" if scenario is not None else name)
    names = Names(plan)
    bad = names.refused()
    if bad is not None:
        raise ValueError(bad)
    traffic = traffic or traffic_commands(plan, scenario)
    files: Dict[str, str] = {"lab.conf": lab_conf(plan, names, opts)}
    for name, router in plan.routers.items():
        dev = device(name)
        files[f"{dev}.startup"] = router_startup(plan, names, router, opts)
        files[f"{dev}/etc/frr/frr.conf"] = frr.render_config(router, plan)
        files[f"{dev}/etc/frr/daemons"] = daemons_file(router, opts)
    address = service_address(plan.topology)
    for name, host in plan.hosts.items():
        if host.on_router:
            continue
        dev = device(name)
        files[f"{dev}.startup"] = host_startup(plan, names, host, opts)
        if host.kind == "server" and host.site:
            also = [str(host.unicast)] if host.unicast else []
            nsd = f"{dev}{NSD_DIR}"
            files[f"{nsd}/{dns.CONF_NAME}"] = dns.render_config(
                host.site, Path(NSD_DIR), address, dns.DNS_PORT, also
            )
            files[f"{nsd}/{dns.ZONEFILE_NAME}"] = dns.render_zone(host.site, address)
    files["traffic.sh"] = traffic_script(plan, traffic, opts)
    if scenario is not None:
        planner = TimelinePlanner(
            plan, plan.topology, carrier=False, services=tuple(traffic.services)
        )
        events = planner.plan_timeline(list(scenario.timeline))
        files["timeline.sh"] = timeline_script(plan, names, scenario, events, traffic, opts)
    files["README.md"] = readme(plan, names, opts, traffic, scenario)
    return files
