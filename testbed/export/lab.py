"""What every node of an exported lab holds and runs, whatever the engine (pure).

An engine's exporter (:mod:`testbed.export.kathara`,
:mod:`testbed.export.containerlab`) writes these in its own format; the
content is the testbed's own, from the same functions the testbed uses:

- a node's addresses, loopback, blackholes and routes
  (:mod:`testbed.net.nodecmds`) and its links' shaping
  (:func:`testbed.net.links.shaping_commands`), on the interface names the
  engine gives them (:class:`Names`);
- a router's daemon: FRR with :func:`testbed.net.frr.render_config`'s
  ``frr.conf`` byte for byte and the daemons the testbed starts, or BIRD
  with :func:`testbed.net.bird.render_config`'s ``bird.conf`` byte for byte
  (:func:`config_files`, :func:`router_commands`);
- a site server's NSD config and zone (:mod:`testbed.services.dns`).

:class:`Engine` says what differs between engines here: the default
images, how FRR is started and restarted, and whether taking one end of a
link down takes the other's carrier.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Dict, List, Optional, Tuple

from testbed import __version__
from testbed.net import bird, frr, links
from testbed.net.nodecmds import host_ip_commands, router_ip_commands
from testbed.probes.builtin import service_address
from testbed.services import dns
from testbed.topology.plan import HostPlan, Interface, Plan, RouterPlan

#: A site server's NSD folder in its container (config, zone, pid, log, state).
NSD_DIR = PurePosixPath("/etc/anycast-testbed/nsd")
#: Where a router's FRR keeps its pid files (FRR's packages: ``--localstatedir=/var``).
FRR_PIDS = PurePosixPath("/var/run/frr")
#: The FRR daemons a router may run (``daemons`` says yes or no to each).
FRR_DAEMONS = ("bgpd", "bfdd")
#: Where a BIRD router's ``bird.conf`` goes: the path BIRD's packages read by default.
BIRD_CONF = PurePosixPath("/etc/bird/bird.conf")
#: A BIRD router's control socket and pid file in its container (``birdc -s``).
BIRD_CTL = PurePosixPath("/run/bird/bird.ctl")
BIRD_PID = PurePosixPath("/run/bird/bird.pid")
#: The image kinds ``--image`` sets.
IMAGE_KINDS = ("frr", "bird", "host")


@dataclass(frozen=True)
class Engine:
    """What an engine's lab does its own way.

    Attributes:
        name: ``--to``'s name (``kathara``).
        title: its name in the files (``Kathará``).
        images: the default image of each kind (``frr``, ``bird``, ``host``).
        frr_start: the shell line that starts FRR once the addresses are set.
        frr_restart: the command that starts FRR again after a crash.
        carrier: taking one end of a link down takes the other's carrier (a veth
            pair); False for a bridge between the two (Kathará's collision domains).
        up: the command that starts the lab (for the scripts' comments).
        on: the shell lines defining ``on NODE COMMAND...``, which runs a command in a
            node's container (``{name}``: the lab's name).
    """

    name: str
    title: str
    images: Dict[str, str]
    frr_start: str
    frr_restart: Tuple[str, ...]
    carrier: bool
    up: str
    on: str


@dataclass
class Options:
    """What the lab is made of besides the plan.

    Attributes:
        router_image: the FRR routers' image ("": the engine's default).
        host_image: the clients' and servers' image ("": the engine's default);
            NSD and the ``anycast-testbed`` package start where it has them.
        bird_image: the BIRD routers' image ("": the engine's default).
        name: the lab's name ("": ``anycast-TOPOLOGY[-SCENARIO]``).
        command: the command line that made the export (in the files' headers).
        sets: the ``--set`` items (recorded in the run's meta.json).
    """

    router_image: str = ""
    host_image: str = ""
    bird_image: str = ""
    name: str = ""
    command: str = ""
    sets: List[str] = field(default_factory=list)

    def image(self, engine: Engine, kind: str) -> str:
        """The image of ``kind`` (``frr``, ``bird``, ``host``): given, or the engine's."""
        given = {"frr": self.router_image, "bird": self.bird_image, "host": self.host_image}
        return given[kind] or engine.images[kind]


def parse_images(items: List[str]) -> Dict[str, str]:
    """``--image frr=IMG,bird=IMG`` (repeatable) as kind -> image.

    Raises:
        ValueError: an item that is not ``KIND=IMAGE`` with a known kind.
    """
    out: Dict[str, str] = {}
    for item in items:
        for part in filter(None, (p.strip() for p in item.split(","))):
            kind, sep, image = part.partition("=")
            if not sep or not image or kind not in IMAGE_KINDS:
                raise ValueError(
                    f"{part!r}: expected KIND=IMAGE with KIND one of {', '.join(IMAGE_KINDS)}"
                )
            out[kind] = image
    return out


def image_kind(plan: Plan, node: str) -> str:
    """A node's image kind: ``bird`` for a BIRD router, ``frr`` for another, else ``host``."""
    router = plan.routers.get(node)
    if router is None:
        return "host"
    return "bird" if router.bird else "frr"


def lab_name(plan: Plan, scenario: Any, opts: Options) -> str:
    """The lab's name: given, or ``anycast-TOPOLOGY[-SCENARIO]``."""
    if opts.name:
        return opts.name
    name = f"anycast-{plan.topology.name}"
    return f"{name}-{scenario.name}" if scenario is not None else name


class Names:
    """A plan's nodes, links and interfaces as a lab names them.

    Args:
        plan: the plan.
        device: a node's name in the lab (its container).
        numbered: interface ``K`` of a node is ``ethK`` (Kathará names them so);
            otherwise it keeps the plan's name (``NODE-eK``).
    """

    def __init__(self, plan: Plan, device: Callable[[str], str], numbered: bool) -> None:
        self.plan = plan
        self.device = device
        #: node -> its interfaces in order
        self.interfaces: Dict[str, List[Interface]] = {
            name: list(r.interfaces) for name, r in plan.routers.items()
        }
        for name, host in plan.hosts.items():
            if not host.on_router:
                self.interfaces[name] = [host.interface]
        self._eth = {
            (node, intf.name): (f"eth{k}" if numbered else intf.name)
            for node, ends in self.interfaces.items()
            for k, intf in enumerate(ends)
        }
        #: a label per link, in plan order (Kathará's collision domains)
        self.domains: List[str] = [
            f"l{i}_{device(link.a.node)}_{device(link.b.node)}" for i, link in enumerate(plan.links)
        ]
        self._domain = {
            (end.node, end.name): self.domains[i]
            for i, link in enumerate(plan.links)
            for end in (link.a, link.b)
        }

    def eth(self, intf: Interface) -> str:
        """The interface's name in its container."""
        return self._eth[(intf.node, intf.name)]

    def eth_of(self, node: str, name: str) -> str:
        """The container's name for the plan's interface ``name`` of ``node``."""
        return self._eth[(node, name)]

    def domain(self, intf: Interface) -> str:
        """The label of the link the interface sits on."""
        return self._domain[(intf.node, intf.name)]

    def nodes(self) -> List[str]:
        """Every node with a container: the routers, then the hosts, in plan order."""
        return list(self.interfaces)


def q(text: str) -> str:
    """One shell word."""
    return shlex.quote(text)


def header(what: str, opts: Options) -> List[str]:
    """A file's first comment lines: what it is, and the export that wrote it."""
    lines = [f"# {what}", f"# Exported by anycast-testbed {__version__}"]
    if opts.command:
        lines[-1] += f": {opts.command}"
    return lines


def role(plan: Plan, node: str) -> str:
    """What a node is, in words (``router of AS ta (65001, transit)``)."""
    if node in plan.routers:
        r = plan.routers[node]
        if r.site:
            return f"site router of site {r.site} (AS {r.as_name}, {r.asn})"
        on = ", BIRD" if r.bird else ""
        return f"router of AS {r.as_name} ({r.asn}, {r.role}{on})"
    h = plan.hosts[node]
    if h.kind == "server":
        return f"server of site {h.site}"
    return f"{h.kind} in AS {h.as_name}"


def extra_sysctls(plan: Plan, node: str) -> List[str]:
    """The testbed's sysctls of a node beyond forwarding on routers, ``rp_filter=0`` and no
    IPv6: hosts do not forward, and a site router with a default route ignores routes
    whose link is down."""
    if node in plan.hosts:
        return ["net.ipv4.ip_forward=0"]
    if plan.routers[node].default_route:
        return ["net.ipv4.conf.all.ignore_routes_with_linkdown=1"]
    return []


# --------------------------------------------------------------- node commands
def shaping(plan: Plan, names: Names, node: str) -> List[str]:
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
            skipped = q(f"anycast-testbed: {eth}: no netem on this host: delay, jitter "
                        "and loss skipped")  # fmt: skip
            alternative = " && ".join(fallback) if fallback else "true"
            out.append(f"{full[0]} 2>/dev/null || {{ echo {skipped} >&2; {alternative}; }}")
    return out


def frr_start(router: RouterPlan, engine: Engine) -> List[str]:
    """The lines that start a router's FRR: its log folder (frr.conf logs into
    ``/run/frr/ROUTER/frr.log``, as in the testbed), then FRR."""
    logdir = frr.runtime_dir(router.name)
    return [f"mkdir -p {logdir}", f"chown frr:frr {logdir}", engine.frr_start]


def bird_argv() -> List[str]:
    """The command line that starts a router's BIRD in its container (it daemonizes)."""
    return ["bird", "-c", str(BIRD_CONF), "-s", str(BIRD_CTL), "-P", str(BIRD_PID)]


def bird_start(router: RouterPlan) -> List[str]:
    """The lines that start a router's BIRD: its log folder (bird.conf logs into
    ``/run/bird/ROUTER/bird.log``, as in the testbed), then BIRD."""
    return [f"mkdir -p {bird.runtime_dir(router.name)}", shlex.join(bird_argv())]


#: A part of a node's startup: (its comment lines, without ``#``; its shell lines).
Section = Tuple[List[str], List[str]]


def router_sections(plan: Plan, names: Names, router: RouterPlan, engine: Engine) -> List[Section]:
    """A router's startup in parts: addresses and routes, shaping, then its daemon."""
    reads = (
        "BIRD announces them from its own static protocol"
        if router.bird
        else ("which zebra reads when it starts")
    )
    out: List[Section] = [
        (
            [
                "addresses, the blackholes of what it announces and the routes to its",
                f"servers: kernel routes, {reads} (as in the testbed)",
            ],
            [f"ip {c}" for c in router_ip_commands(router, names.eth)],
        )
    ]
    shaped = shaping(plan, names, router.name)
    if shaped:
        out.append((["link shaping (tc), on both ends of a link as in the testbed"], shaped))
    if router.bird:
        comment = [
            f"BIRD with the testbed's own bird.conf ({BIRD_CONF}), which logs into",
            f"{bird.runtime_dir(router.name)}/bird.log; birdc -s {BIRD_CTL} talks to it",
        ]
        out.append((comment, bird_start(router)))
    else:
        comment = [
            "FRR with the testbed's own frr.conf (/etc/frr/frr.conf), which logs into",
            f"{frr.runtime_dir(router.name)}/frr.log; /etc/frr/daemons starts "
            f"{', '.join(frr.daemons_for(router))}",
        ]
        out.append((comment, frr_start(router, engine)))
    return out


def nsd_start() -> List[str]:
    """NSD from the server's rendered files, if the image has it (else one line why not)."""
    missing = q(
        "anycast-testbed: no nsd in this image: the DNS service is not started "
        "(see README.md: an image with NSD)"
    )
    return [f"if command -v nsd >/dev/null 2>&1; then nsd -c {NSD_DIR / dns.CONF_NAME}; "
            f"else echo {missing} >&2; fi"]  # fmt: skip


def host_sections(plan: Plan, names: Names, host: HostPlan) -> List[Section]:
    """A client's or server's startup in parts: addresses and its default route,
    shaping, NSD on a server."""
    out: List[Section] = [([], [f"ip {c}" for c in host_ip_commands(host, names.eth)])]
    shaped = shaping(plan, names, host.name)
    if shaped:
        out.append((["link shaping (tc), on both ends of a link as in the testbed"], shaped))
    if host.kind == "server":
        out.append(([f"NSD with the testbed's own config and zone ({NSD_DIR})"], nsd_start()))
    return out


def daemons_file(router: RouterPlan, opts: Options) -> str:
    """``/etc/frr/daemons``: the daemons the testbed starts, and its fd limit."""
    running = frr.daemons_for(router)
    out = header(f"FRR daemons of {router.name}, as the testbed starts them", opts)
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


def config_files(plan: Plan, node: str, opts: Options) -> Dict[PurePosixPath, str]:
    """The files a node holds, by their path in its container: a router's daemon
    config (the testbed's own rendering, byte for byte), a site server's NSD files."""
    router = plan.routers.get(node)
    if router is not None:
        if router.bird:
            return {BIRD_CONF: bird.render_config(router, plan)}
        return {
            PurePosixPath("/etc/frr/frr.conf"): frr.render_config(router, plan),
            PurePosixPath("/etc/frr/daemons"): daemons_file(router, opts),
        }
    host = plan.hosts[node]
    if host.kind != "server" or not host.site:
        return {}
    address = service_address(plan.topology)
    also = [str(host.unicast)] if host.unicast else []
    return {
        NSD_DIR / dns.CONF_NAME: dns.render_config(
            host.site, Path(NSD_DIR), address, dns.DNS_PORT, also
        ),
        NSD_DIR / dns.ZONEFILE_NAME: dns.render_zone(host.site, address),
    }


def checked_interface_names(names: Names, reserved: Tuple[str, ...] = ()) -> Optional[str]:
    """Why a container would not take an interface name (None: it takes them all):
    longer than Linux's 15 characters, a space or a slash, or a name the engine keeps."""
    for node in names.nodes():
        for intf in names.interfaces[node]:
            eth = names.eth(intf)
            if len(eth) > 15:
                return f"{node}: interface {eth}: longer than Linux's 15 characters"
            if any(c in eth for c in " /:"):
                return f"{node}: interface {eth}: a space, slash or colon in its name"
            if eth in reserved:
                return f"{node}: interface {eth}: the engine keeps that name for itself"
    return None
