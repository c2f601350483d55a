"""containerlab: a topology's plan (and a scenario's timeline) as a containerlab lab (pure).

:func:`lab_files` turns a :class:`~testbed.topology.plan.Plan` into the
files of a containerlab lab, as a dict of relative path -> text (written by
:func:`testbed.export.write_files`).  What every node holds and runs is
engine-neutral (:mod:`testbed.export.lab`, :mod:`testbed.export.scripts`,
:mod:`testbed.export.collect`), as in the Kathará export; containerlab's
way of writing it:

- ``NAME.clab.yml``: the topology file (containerlab's JSON schema,
  ``schemas/clab.schema.json``, takes it: a unit test checks): a ``linux``
  node per node of the plan with ``network-mode: none`` (no management
  interface: its default route would be a second one, around the topology),
  its image (:data:`IMAGES`, ``--image``), sysctls, ``binds`` of its files
  and ``exec``: the node's ``ip`` commands, shaping and daemon start, the
  same lines as a Kathará startup file; one link per link of the plan
  between the testbed's own interface names (``NODE-eK``: at most 15
  characters, which Linux and containerlab require, and never ``eth0``);
- ``NODE/etc/...``: the files bound into a node (``frr.conf`` and
  ``daemons`` or ``bird.conf``, byte for byte the testbed's; NSD's files);
- ``traffic.sh``, ``timeline.sh``: ``docker exec`` into ``clab-NAME-NODE``
  (``CLAB_EXEC`` replaces it, e.g. for clabernetes);
- ``shared/``: the run folder (bound at ``/shared`` into every client);
- ``README.md``.

Every node's container runs ``tail -f /dev/null`` instead of its image's
entrypoint, so that a daemon starts from ``exec`` once the addresses and
routes are set (as in the testbed, and as Kathará's startup files do),
whatever image it is.
"""

from __future__ import annotations

import shlex
from dataclasses import replace
from typing import Any, Dict, List, Optional

import yaml

from testbed import __version__
from testbed.export import lab
from testbed.export.collect import COLLECT, collect_files
from testbed.export.lab import NSD_DIR, Engine, Options, header, image_kind, role
from testbed.export.scripts import timeline_script, traffic_script
from testbed.export.timeline import TimelinePlanner
from testbed.export.traffic import RECORDS, TrafficCommands
from testbed.topology.plan import Plan

ENGINE = "containerlab"
#: FRR routers: FRR's own image, the FRR 8.4 series the testbed renders frr.conf for.
ROUTER_IMAGE = "quay.io/frrouting/frr:8.4.1"
#: BIRD routers: containerlab's BIRD 2 image (Alpine, iproute2).
BIRD_IMAGE = "ghcr.io/srl-labs/bird:2.13"
#: Clients and servers: a Debian image with iproute2, iptables and python3 (Kathará's).
HOST_IMAGE = "kathara/base"
#: What every container runs: nothing, so that ``exec`` starts the daemons.
ENTRYPOINT = "tail -f /dev/null"
#: The interface name containerlab keeps for the management network.
MGMT = "eth0"
#: Characters that make an ``exec`` line a shell line (``sh -c``): containerlab splits
#: a command into words and runs it without a shell.
_SHELL = set("|&;<>(){}$`*?!~#")

CONTAINERLAB = Engine(
    name=ENGINE,
    title="containerlab",
    images={"frr": ROUTER_IMAGE, "bird": BIRD_IMAGE, "host": HOST_IMAGE},
    frr_start="/usr/lib/frr/frrinit.sh start",
    frr_restart=("/usr/lib/frr/frrinit.sh", "restart"),
    carrier=True,
    up="containerlab deploy",
    on="""# on NODE COMMAND...: run a command in a node of the lab, in its container
# clab-{name}-NODE (CLAB_EXEC: a command that takes the node and the command
# instead, e.g. on a cluster: docs/cluster.md)
on() {
    dev=$1; shift
    if [ -n "${CLAB_EXEC:-}" ]; then $CLAB_EXEC "$dev" "$@"
    else ${DOCKER:-docker} exec "clab-{name}-$dev" "$@"; fi
}""",
)


def device(node: str) -> str:
    """A node's containerlab name: the plan's own (``[a-z0-9-]``, which containerlab takes)."""
    return node


def names_of(plan: Plan) -> lab.Names:
    """The plan's nodes and interfaces as the lab names them (the testbed's own names).

    Raises:
        ValueError: an interface name a container would not take.
    """
    names = lab.Names(plan, device, numbered=False)
    bad = lab.checked_interface_names(names, reserved=(MGMT,))
    if bad is not None:
        raise ValueError(bad)
    return names


def exec_item(line: str) -> str:
    """One ``exec`` item: the line as it is, or a shell line through ``sh -c`` (in double
    quotes where that needs no escape: containerlab splits the item as a shell would,
    without expanding anything)."""
    if not any(c in _SHELL for c in line):
        return line
    if '"' not in line and "\\" not in line:
        return f'sh -c "{line}"'
    return shlex.join(["sh", "-c", line])


def sysctls(plan: Plan, node: str) -> Dict[str, Any]:
    """A node's sysctls: forwarding on routers only, no reverse-path filter, the testbed's
    others (:func:`testbed.export.lab.extra_sysctls`)."""
    out: Dict[str, Any] = {
        "net.ipv4.ip_forward": 1 if node in plan.routers else 0,
        "net.ipv4.conf.all.rp_filter": 0,
        "net.ipv4.conf.default.rp_filter": 0,
    }
    for item in lab.extra_sysctls(plan, node):
        key, _, value = item.partition("=")
        out[key] = int(value)
    return out


def node_config(plan: Plan, names: lab.Names, node: str, opts: Options) -> Dict[str, Any]:
    """One node of the topology file: image, sysctls, binds, exec."""
    router = plan.routers.get(node)
    if router is not None:
        sections = lab.router_sections(plan, names, router, CONTAINERLAB)
    else:
        sections = lab.host_sections(plan, names, plan.hosts[node])
    config: Dict[str, Any] = {
        "image": opts.image(CONTAINERLAB, image_kind(plan, node)),
        "group": "router" if router is not None else plan.hosts[node].kind,
        "sysctls": sysctls(plan, node),
    }
    binds = [f"{node}{path}:{path}:ro" for path in lab.config_files(plan, node, opts)]
    if node in plan.hosts and plan.hosts[node].kind == "client":
        binds.append(f"{COLLECT}:/{COLLECT}")
    if binds:
        config["binds"] = binds
    config["exec"] = [exec_item(line) for _comment, lines in sections for line in lines]
    return config


def topology_data(plan: Plan, names: lab.Names, opts: Options) -> Dict[str, Any]:
    """The topology file as data: its name, the nodes' defaults, the nodes, the links."""
    nodes = {device(n): node_config(plan, names, n, opts) for n in names.nodes()}
    links = [
        {"endpoints": [f"{device(e.node)}:{names.eth(e)}" for e in (link.a, link.b)]}
        for link in plan.links
    ]
    return {
        "name": opts.name,
        "topology": {
            "defaults": {"kind": "linux", "network-mode": "none", "entrypoint": ENTRYPOINT},
            "nodes": nodes,
            "links": links,
        },
    }


def topology_file(plan: Plan, names: lab.Names, opts: Options) -> str:
    """``NAME.clab.yml``: a comment header, then the topology as YAML."""
    out = [
        "# yaml-language-server: $schema=https://raw.githubusercontent.com/srl-labs/"
        "containerlab/main/schemas/clab.schema.json",
        *header(f"containerlab lab of topology {plan.topology.name}: see README.md", opts),
        "# Every node: no management interface (network-mode: none), its image's entrypoint",
        f"# replaced by `{ENTRYPOINT}`; exec sets its addresses and routes (the testbed's",
        "# own ip commands), shapes its links and starts its daemon, in that order.",
    ]
    body = yaml.safe_dump(
        topology_data(plan, names, opts), sort_keys=False, default_flow_style=False, width=1000
    )
    return "\n".join(out) + "\n" + body


def readme(
    plan: Plan,
    names: lab.Names,
    opts: Options,
    traffic: TrafficCommands,
    topo_file: str,
    scenario: Any = None,
) -> str:
    """The lab's README.md: how to run it, its nodes, what is and is not in it."""
    topo = plan.topology
    first = device(next(iter(plan.routers)))
    lines = [
        f"# containerlab lab: {topo.name}",
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
        f"sudo containerlab deploy -t DIR/{topo_file}",
        f"docker exec clab-{opts.name}-{first} vtysh -c 'show bgp ipv4 unicast summary'",
        "DIR/traffic.sh start                 # services and probes (image with the package)",
    ]
    if scenario is not None:
        lines.append("DIR/timeline.sh                      # the scenario's events at their times")
    lines += [
        "DIR/traffic.sh stop",
        f"anycast-testbed report DIR/{COLLECT}    # summary.json, report.md (the run folder)",
        f"sudo containerlab destroy -t DIR/{topo_file}",
        "```",
        "",
        "DIR is this folder. The scripts `docker exec` into `clab-"
        f"{opts.name}-NODE`; `CLAB_EXEC=CMD` makes them run `CMD NODE COMMAND...` "
        "instead (a cluster: docs/cluster.md).",
        "",
        "## Nodes",
        "",
        "| node | image | what |",
        "|---|---|---|",
    ]
    for node in names.nodes():
        image = opts.image(CONTAINERLAB, image_kind(plan, node))
        lines.append(f"| {node} | `{image}` | {role(plan, node)} |")
    lines += [
        "",
        "Interfaces keep the testbed's names (`NODE-eK`); no node has a management "
        "interface (`network-mode: none`).",
        "",
        "## Services and probes",
        "",
        f"Each site server's `exec` starts NSD with the testbed's config and zone "
        f"(`{NSD_DIR}`) if its image has NSD; the stream service and the probes need the "
        "`anycast-testbed` package in the image (`--image host=IMAGE`: docs/export.md "
        "has a Dockerfile). `traffic.sh start` checks for it and starts them with these "
        f"command lines (records in `{COLLECT}/records/`, `{RECORDS}` in a client):",
        "",
        "```sh",
    ]
    for server, services in traffic.servers.items():
        lines += [f"{server}: {shlex.join(argv)}" for argv in services.values()]
    for client, probes in traffic.probes.items():
        lines += [f"{client}: {shlex.join(argv)}" for argv in probes.values()]
    lines += ["```"]
    if scenario is not None:
        lines += [
            "",
            "## Timeline",
            "",
            f"`timeline.sh` waits the scenario's settle ({scenario.settle:g} s; `SETTLE=0` "
            "skips it), then runs every event at its time from the timeline's start with "
            f"`docker exec`, and appends its record to `{COLLECT}/records/events.jsonl`. "
            "Links are veth pairs, as in the testbed: a link taken down at one end is down "
            "at the other.",
        ]
    lines += [
        "",
        "## The run folder",
        "",
        f"`{COLLECT}/` is the run folder `anycast-testbed report` reads: `meta.json`, "
        "`scenario.yaml` and `topology.yaml` written by the export (`timeline.sh` writes "
        f"the timeline's start into `meta.json`), the clients' records in `{COLLECT}/records/` "
        f"(bound at `/{COLLECT}` into every client).",
    ]
    return "\n".join(lines) + "\n"


def lab_files(
    plan: Plan,
    opts: Optional[Options] = None,
    scenario: Any = None,
    traffic: Optional[TrafficCommands] = None,
    source: Optional[str] = None,
    caveats: Optional[List[str]] = None,
) -> Dict[str, str]:
    """Every file of the containerlab lab of ``plan`` (and ``scenario``'s timeline).

    Args:
        plan: the plan of the topology (the scenario's settings applied).
        opts: images, name, the command line (defaults: :data:`CONTAINERLAB`'s images).
        scenario: the scenario, or None (no ``timeline.sh``).
        traffic: the run's services and probes (default: from the scenario).
        source: the scenario's file (for meta.json).
        caveats: what the run would warn about (for meta.json).

    Returns:
        Relative path -> text, in a stable order.

    Raises:
        ValueError: an interface name a container would not take.
    """
    from testbed.export.traffic import traffic_commands

    opts = opts or Options()
    opts = replace(opts, name=lab.lab_name(plan, scenario, opts))
    names = names_of(plan)
    traffic = traffic or traffic_commands(plan, scenario)
    topo_file = f"{opts.name}.clab.yml"
    files: Dict[str, str] = {topo_file: topology_file(plan, names, opts)}
    for node in names.nodes():
        for path, text in lab.config_files(plan, node, opts).items():
            files[f"{device(node)}{path}"] = text
    files["traffic.sh"] = traffic_script(plan, names, traffic, opts, CONTAINERLAB, opts.name)
    if scenario is not None:
        planner = TimelinePlanner(
            plan, plan.topology, carrier=CONTAINERLAB.carrier, services=tuple(traffic.services)
        )
        events = planner.plan_timeline(list(scenario.timeline))
        files["timeline.sh"] = timeline_script(
            plan, names, scenario, events, traffic, opts, CONTAINERLAB, opts.name
        )
    files["README.md"] = readme(plan, names, opts, traffic, topo_file, scenario)
    files.update(collect_files(plan, scenario, ENGINE, source, opts.sets, caveats))
    return files
