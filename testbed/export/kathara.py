"""Kathará: a topology's plan (and a scenario's timeline) as a Kathará lab (pure).

:func:`lab_files` turns a :class:`~testbed.topology.plan.Plan` into the
files of a Kathará lab, as a dict of relative path -> text; nothing here
touches the disk (:func:`testbed.export.write_files` does).  What every
node holds and runs is engine-neutral (:mod:`testbed.export.lab`,
:mod:`testbed.export.scripts`, :mod:`testbed.export.collect`); here is
Kathará's way of writing it:

- ``lab.conf``: one device per node of the plan (an FRR router on
  :data:`ROUTER_IMAGE`, a BIRD router on :data:`BIRD_IMAGE`, a client or
  server on :data:`HOST_IMAGE`), one collision domain per link, the
  testbed's sysctls (``DEVICE[sysctl]``: ``/proc/sys`` is read-only inside a
  container, so they are set when it is created);
- ``DEVICE.startup``: the node's addresses and routes, its links' shaping,
  then FRR or BIRD on a router and NSD on a site server;
- ``DEVICE/etc/...``: the files the device holds (``frr.conf`` and
  ``daemons``, or ``bird.conf``; NSD's config and zone), copied in by Kathará;
- ``traffic.sh``, ``timeline.sh`` (with a scenario): ``kathara exec`` lines;
- ``shared/``: the run folder ``anycast-testbed report`` reads (meta.json,
  scenario.yaml, topology.yaml; the records once the lab ran);
- ``README.md``: how to run it, what each device is, what is not exported.

Kathará names a device ``[a-z0-9_]{1,30}`` and its interfaces ``eth0``,
``eth1``... in the order of ``DEVICE[N]``: a node's device is its name with
``_`` for ``-``, and its interface ``NODE-eK`` of the plan is ``ethK``.
"""

from __future__ import annotations

import shlex
from typing import Any, Dict, List, Optional

from testbed import __version__
from testbed.export import lab
from testbed.export.collect import COLLECT, collect_files
from testbed.export.lab import NSD_DIR, Engine, Options, Section, header, image_kind, role
from testbed.export.scripts import timeline_script, traffic_script
from testbed.export.timeline import TimelinePlanner
from testbed.export.traffic import RECORDS, TrafficCommands
from testbed.topology.plan import HostPlan, Plan, RouterPlan

__all__ = ["BIRD_IMAGE", "HOST_IMAGE", "KATHARA", "ROUTER_IMAGE", "Names", "Options"]

ENGINE = "kathara"
#: FRR routers: Kathará's FRR image (Debian's FRR package, ``systemctl`` for its init).
ROUTER_IMAGE = "kathara/frr"
#: BIRD routers: Kathará's BIRD 2 image (``kathara/bird`` is BIRD 1.6, which does not
#: read a BIRD 2 config).
BIRD_IMAGE = "kathara/bird2"
#: Clients and site servers: Kathará's base image (network tools, python3; no NSD).
HOST_IMAGE = "kathara/base"
#: The longest device name Kathará takes.
DEVICE_MAX = 30
#: Names Kathará keeps for itself (``shared`` is also the lab's shared folder).
RESERVED = ("shared", "_test")

KATHARA = Engine(
    name=ENGINE,
    title="Kathará",
    images={"frr": ROUTER_IMAGE, "bird": BIRD_IMAGE, "host": HOST_IMAGE},
    frr_start="systemctl start frr",
    frr_restart=("systemctl", "restart", "frr"),
    carrier=False,
    up="kathara lstart",
    on="""# on DEVICE COMMAND...: run a command in a device of the lab (KATHARA: the command that
# runs Kathará, e.g. KATHARA="python3 -m kathara" where it came from pip)
on() { dev=$1; shift; ${KATHARA:-kathara} exec -d "$LAB" "$dev" -- "$@"; }""",
)


def device(node: str) -> str:
    """A node's Kathará device name: ``east-1`` -> ``east_1``."""
    return node.replace("-", "_")


class Names(lab.Names):
    """A plan's nodes, links and interfaces as a Kathará lab names them: devices with
    ``_`` for ``-``, interfaces ``ethK``, a collision domain per link."""

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan, device, numbered=True)

    def refused(self) -> Optional[str]:
        """Why Kathará would not take a node's device name (None: it takes them all)."""
        for node in self.nodes():
            name = device(node)
            if len(name) > DEVICE_MAX:
                return f"{node}: longer than the {DEVICE_MAX} characters of a Kathará device name"
            if name in RESERVED:
                return f"{node}: Kathará keeps the name {name!r} for itself (rename the node)"
        return None


def _lab_value(text: str) -> str:
    """A lab.conf value: one line, no quotes or ``=`` (Kathará's parser takes neither)."""
    return " ".join(text.replace('"', "").replace("'", "").replace("=", " ").split())


# ------------------------------------------------------------------ lab.conf
_SYSCTL_NOTE = (
    "# sysctls: Kathara's own (ip_forward=1, rp_filter=0, no IPv6) and lab.conf's "
    "DEVICE[sysctl]\n# lines, set when the container is made (/proc/sys is read-only inside)"
)


def lab_conf(plan: Plan, names: Names, opts: Options) -> str:
    """The lab's ``lab.conf``: its name, then every device's domains, image and sysctls.

    Kathará sets ``ip_forward=1`` and ``rp_filter=0`` everywhere and turns IPv6
    off unless told otherwise: ``DEVICE[sysctl]`` lines set the testbed's others.
    """
    topo = plan.topology
    out = header(f"Kathará lab of topology {topo.name}: see README.md", opts)
    out += [
        f'LAB_NAME="{_lab_value(opts.name)}"',
        f'LAB_DESCRIPTION="{_lab_value(topo.description or topo.name)}"',
        f'LAB_VERSION="{__version__}"',
        'LAB_AUTHOR="anycast-testbed export"',
    ]
    for node in names.nodes():
        dev = device(node)
        out += ["", f"# {node}: {role(plan, node)}"]
        for k, intf in enumerate(names.interfaces[node]):
            out.append(f'{dev}[{k}]="{names.domain(intf)}"')
        out.append(f'{dev}[image]="{opts.image(KATHARA, image_kind(plan, node))}"')
        out.append(f'{dev}[ipv6]="false"')
        out += [f'{dev}[sysctl]="{s}"' for s in lab.extra_sysctls(plan, node)]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------- startup
def _interface_comment(names: Names, node: str) -> str:
    parts = [
        f"{names.eth(i)} = {i.name} (to {i.peer}, {names.domain(i)})"
        for i in names.interfaces[node]
    ]
    return "# Interfaces: " + "; ".join(parts)


def _startup(plan: Plan, names: Names, node: str, sections: List[Section], opts: Options) -> str:
    out = header(f"{node}: {role(plan, node)}", opts)
    out += [_interface_comment(names, node), _SYSCTL_NOTE]
    for comment, lines in sections:
        out += ["", *[f"# {c}" for c in comment], *lines]
    return "\n".join(out) + "\n"


def router_startup(plan: Plan, names: Names, router: RouterPlan, opts: Options) -> str:
    """A router's startup file: addresses and routes, shaping, then FRR or BIRD."""
    sections = lab.router_sections(plan, names, router, KATHARA)
    return _startup(plan, names, router.name, sections, opts)


def host_startup(plan: Plan, names: Names, host: HostPlan, opts: Options) -> str:
    """A client's or server's startup file: addresses and its default route; NSD on a server."""
    return _startup(plan, names, host.name, lab.host_sections(plan, names, host), opts)


# -------------------------------------------------------------------- README
def readme(
    plan: Plan, names: Names, opts: Options, traffic: TrafficCommands, scenario: Any = None
) -> str:
    """The lab's README.md: how to run it, its devices, what is and is not in it."""
    topo = plan.topology
    host_image = opts.image(KATHARA, "host")
    lines = [
        f"# Kathará lab: {topo.name}",
        "",
        f"Exported by anycast-testbed {__version__}"
        + (f" (`{opts.command}`)" if opts.command else "")
        + f" from topology `{topo.name}`"
        + (f" with scenario `{scenario.name}`" if scenario is not None else "")
        + ". Every router runs FRR with the very `frr.conf` the testbed renders for it "
        "(BIRD with its `bird.conf` where its AS has `daemon: bird`); "
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
        f"anycast-testbed report DIR/{COLLECT}    # summary.json, report.md (the run folder)",
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
        image = opts.image(KATHARA, image_kind(plan, node))
        lines.append(f"| {node} | `{device(node)}` | `{image}` | {role(plan, node)} |")
    lines += [
        "",
        "A node's interface `NODE-eK` of the testbed is `ethK` in its device; each",
        "startup file lists them with their collision domains.",
        "",
        "## Services and probes",
        "",
        f"Each site server's startup starts NSD with the testbed's config and zone "
        f"(`{NSD_DIR}`), if its image has NSD: `{host_image}`"
        + (" has not" if host_image == HOST_IMAGE else " should have it")
        + ". The stream service and the probes are the testbed's own Python programs, so "
        "they run only where the image has the `anycast-testbed` package; `traffic.sh "
        "start` checks for it and starts them with these command lines (records in the "
        f"lab's `{COLLECT}/records/`, `{RECORDS}` in a device):",
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
        "`--image host=anycast-testbed-host`:",
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
            f"`kathara exec`, and appends its record to `{COLLECT}/records/events.jsonl`. A "
            "`fail_site` with `link-down` takes both ends of each uplink down: a collision "
            "domain is a bridge, so one end going down is no carrier loss at the other.",
        ]
    lines += [
        "",
        "## The run folder",
        "",
        f"`{COLLECT}/` is the run folder `anycast-testbed report` reads: `meta.json`, "
        "`scenario.yaml` and `topology.yaml` written by the export (`timeline.sh` writes "
        f"the timeline's start into `meta.json`), the records in `{COLLECT}/records/`. "
        f"On Docker it fills as the lab runs; on a cluster, copy every client's "
        f"`{RECORDS}/*.jsonl` into it (docs/export.md).",
        "",
        "## Not exported",
        "",
        "Ryu and ExaBGP sites, health agents and the shared backend, capacity queues, "
        "GSLB and resolvers, attack senders and the route, BGP and load recorders: `export` "
        "refuses a topology or scenario that uses them (docs/export.md says why).",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------- files
def lab_files(
    plan: Plan,
    opts: Optional[Options] = None,
    scenario: Any = None,
    traffic: Optional[TrafficCommands] = None,
    source: Optional[str] = None,
    caveats: Optional[List[str]] = None,
) -> Dict[str, str]:
    """Every file of the Kathará lab of ``plan`` (and ``scenario``'s timeline).

    Args:
        plan: the plan of the topology (the scenario's settings applied).
        opts: images, name, the command line (defaults: Kathará's images).
        scenario: the scenario, or None (no ``timeline.sh``).
        traffic: the run's services and probes (default: from the scenario).
        source: the scenario's file (for meta.json).
        caveats: what the run would warn about (for meta.json).

    Returns:
        Relative path -> text, in a stable order.

    Raises:
        ValueError: a node name too long for a Kathará device.
    """
    from dataclasses import replace

    from testbed.export.traffic import traffic_commands

    opts = opts or Options()
    opts = replace(opts, name=lab.lab_name(plan, scenario, opts))
    names = Names(plan)
    bad = names.refused()
    if bad is not None:
        raise ValueError(bad)
    traffic = traffic or traffic_commands(plan, scenario)
    files: Dict[str, str] = {"lab.conf": lab_conf(plan, names, opts)}
    for name, router in plan.routers.items():
        dev = device(name)
        files[f"{dev}.startup"] = router_startup(plan, names, router, opts)
        for path, text in lab.config_files(plan, name, opts).items():
            files[f"{dev}{path}"] = text
    for name, host in plan.hosts.items():
        if host.on_router:
            continue
        dev = device(name)
        files[f"{dev}.startup"] = host_startup(plan, names, host, opts)
        for path, text in lab.config_files(plan, name, opts).items():
            files[f"{dev}{path}"] = text
    files["traffic.sh"] = traffic_script(plan, names, traffic, opts, KATHARA, opts.name)
    if scenario is not None:
        planner = TimelinePlanner(
            plan, plan.topology, carrier=KATHARA.carrier, services=tuple(traffic.services)
        )
        events = planner.plan_timeline(list(scenario.timeline))
        files["timeline.sh"] = timeline_script(
            plan, names, scenario, events, traffic, opts, KATHARA, opts.name
        )
    files["README.md"] = readme(plan, names, opts, traffic, scenario)
    files.update(collect_files(plan, scenario, ENGINE, source, opts.sets, caveats))
    return files
