"""``anycast-testbed export``: a topology (and a scenario) as a lab for another engine."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import List, Optional, Tuple

import click

from testbed import console as ui
from testbed.commands.options import CONTEXT, force_option, sets_option


@click.command("export", context_settings=CONTEXT)
@click.argument("topology", metavar="TOPOLOGY")
@click.argument("scenario", required=False, metavar="[SCENARIO]")
@click.option(
    "--to",
    "engine",
    required=True,
    metavar="ENGINE",
    help="The engine: kathara (Kathará) or containerlab.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="The folder to write the lab into (missing or empty, unless --force).",
)
@force_option(
    "Export into a folder that is not empty: the files an earlier export wrote there are "
    "replaced, nothing else is touched."
)
@sets_option("Override a scenario or topology parameter, as `run --set` (needs SCENARIO).")
@click.option(
    "--busiest",
    metavar="SITE",
    help="The site a timeline's `busiest` stands for (the testbed measures it when the "
    "timeline starts; an export must be told).",
)
@click.option(
    "--image",
    "images",
    multiple=True,
    metavar="KIND=IMAGE[,...]",
    help="The image of the FRR routers (frr=), the BIRD routers (bird=) or the clients and "
    "servers (host=); repeatable. Defaults: docs/export.md (kathara: kathara/frr, "
    "kathara/bird2, kathara/base; containerlab: quay.io/frrouting/frr:8.4.1, "
    "ghcr.io/srl-labs/bird:2.13, kathara/base).",
)
@click.option("--router-image", metavar="IMAGE", help="The FRR routers' image (--image frr=).")
@click.option(
    "--host-image",
    metavar="IMAGE",
    help="The clients' and servers' image (--image host=; NSD and the probes start where "
    "the image has them).",
)
def export(
    topology: str,
    scenario: Optional[str],
    engine: str,
    out: Path,
    force: bool,
    sets: List[str],
    busiest: Optional[str],
    images: Tuple[str, ...],
    router_image: Optional[str],
    host_image: Optional[str],
) -> int:
    """Write a lab that runs TOPOLOGY (and SCENARIO's timeline) on another engine.

    --to kathara: a Kathará lab (lab.conf, a startup file per device); --to
    containerlab: a containerlab topology file (NAME.clab.yml, exec lines per
    node). Both: every router's frr.conf (or bird.conf) as the testbed renders
    it, NSD's config and zone on every site server, traffic.sh for the
    services and probes, with a SCENARIO timeline.sh (its events as `kathara
    exec` or `docker exec` commands), and shared/, the run folder `report`
    reads once the records are in it. Kathará runs the lab on one machine
    with Docker or on a Kubernetes cluster (Megalos), containerlab with
    Docker or on Kubernetes (clabernetes): docs/export.md, docs/cluster.md.
    What the engine cannot carry (Ryu and ExaBGP sites, health agents,
    capacity queues, GSLB, attacks) is refused with one line naming the
    field. Starts nothing; no root needed.
    """
    from testbed.errors import InputError
    from testbed.export import check_engine, export_files, prepare, write_files
    from testbed.export.lab import Options, parse_images

    check_engine(engine)
    try:
        chosen = parse_images(list(images))
    except ValueError as exc:
        raise InputError(str(exc), None, "--image") from None
    chosen.setdefault("frr", router_image or "")
    chosen.setdefault("host", host_image or "")
    prepared = prepare(topology, scenario, sets, busiest)
    options = Options(
        router_image=chosen["frr"],
        host_image=chosen["host"],
        bird_image=chosen.get("bird", ""),
        command=_command_line(topology, scenario, engine, sets, busiest),
    )
    files = export_files(engine, prepared, options)
    write_files(files, out, force)
    for caveat in prepared.caveats:
        ui.say(f"warning: {caveat}", err=True)
    plan = prepared.plan
    devices = len(plan.routers) + len([h for h in plan.hosts.values() if not h.on_router])
    if engine == "kathara":
        what = f"{devices} devices, {len(plan.links)} collision domains"
    else:
        what = f"{devices} nodes, {len(plan.links)} links"
    if prepared.scenario is not None:
        what += f", timeline of {len(prepared.scenario.timeline)} events (timeline.sh)"
    ui.say(f"exported {plan.topology.name} to {engine}: {what}: {out}")
    if engine == "kathara":
        ui.say(f"run it: kathara lstart -d {out} --noterminals (see {out / 'README.md'})")
    else:
        clab = next(name for name in files if name.endswith(".clab.yml"))
        ui.say(f"run it: sudo containerlab deploy -t {out / clab} (see {out / 'README.md'})")
    return 0


def _command_line(
    topology: str, scenario: Optional[str], engine: str, sets: List[str], busiest: Optional[str]
) -> str:
    """The export's command line, for the files' headers (no --out: it moves with the folder)."""
    words = ["anycast-testbed", "export", topology, *([scenario] if scenario else [])]
    words += ["--to", engine]
    for item in sets:
        words += ["--set", item]
    if busiest:
        words += ["--busiest", busiest]
    return shlex.join(words)
