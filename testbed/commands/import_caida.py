"""``anycast-testbed topology import-caida``: a topology from a CAIDA AS-relationship file."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple

import click
from click.core import ParameterSource

from testbed.commands.options import CONTEXT, force_option, topology_out_option
from testbed.errors import InputError


@click.command("import-caida", context_settings=CONTEXT)
@click.argument("file", type=click.Path(path_type=Path), metavar="FILE")
@click.option(
    "--around",
    multiple=True,
    metavar="AS",
    help="Take the ASes within --hops of this AS (3356 or AS3356; repeat or give a comma list).",
)
@click.option(
    "--hops",
    type=click.IntRange(0, 10),
    default=1,
    show_default=True,
    help="How many relationships away from the --around ASes.",
)
@click.option(
    "--top",
    type=click.IntRange(2, 1000),
    help="Take the N ASes with the biggest customer cones instead.",
)
@click.option(
    "--site-at",
    multiple=True,
    metavar="AS",
    help="An AS whose router is a site's upstream (repeat; default: the biggest tier-2s).",
)
@click.option(
    "--sites",
    type=click.IntRange(1, 16),
    default=3,
    show_default=True,
    help="How many sites when no --site-at is given.",
)
@click.option(
    "--clients",
    type=click.IntRange(1, 20),
    default=8,
    show_default=True,
    help="How many clients, one per stub AS (the most multi-homed first).",
)
@click.option("--name", help="The topology's name (default: caida-topN or caida-asNNN-Khop).")
@topology_out_option()
@force_option()
def import_caida(
    file: Path,
    around: Tuple[str, ...],
    hops: int,
    top: Optional[int],
    site_at: Tuple[str, ...],
    sites: int,
    clients: int,
    name: Optional[str],
    out: Optional[Path],
    force: bool,
) -> int:
    """Write a topology made from FILE, a CAIDA AS-relationship file you have.

    FILE holds lines AS1|AS2|-1 (AS1 is a provider of AS2) and AS1|AS2|0
    (peers), an optional fourth field, and # comments (.bz2 read as well);
    nothing is downloaded.  Select ASes with --around AS [--hops K] or --top
    N.  Each AS becomes one router; each relationship a link with its rel;
    anycast sites go behind --site-at ASes, clients into stub ASes.  A sample:
    topologies/sample.as-rel.txt.
    """
    from testbed.commands.topology import emit
    from testbed.topology import caida
    from testbed.topology.load import parse_topology

    source = str(file)
    if bool(around) == (top is not None):
        raise InputError("give either --around AS (with --hops K) or --top N", source)
    ctx = click.get_current_context()
    if top is not None and ctx.get_parameter_source("hops") != ParameterSource.DEFAULT:
        raise InputError("--hops goes with --around, not with --top", source)
    centre = _asns(around, "--around")
    hosts = _asns(site_at, "--site-at")
    graph = caida.read_as_rel(file)
    if centre:
        selected = caida.select_around(graph, centre, hops, source)
        what = f"the ASes within {hops} hops of " + ", ".join(f"AS{a}" for a in centre)
        default_name = f"caida-as{centre[0]}-{hops}hop"
    else:
        assert top is not None
        selected = caida.select_top(graph, top, source)
        what = f"the top {top} ASes by customer cone"
        default_name = f"caida-top{top}"
    imported = caida.import_topology(
        graph,
        selected,
        source,
        name or default_name,
        f"imported from {file.name}: {what}",
        site_ases=hosts or None,
        sites=sites,
        clients=clients,
        around=centre,
    )
    topo = parse_topology(imported.data, f"import-caida {source}")
    header = [f"imported from {file.name}: {what}", imported.line()]
    return emit(topo, header, out, force)


def _asns(values: Tuple[str, ...], what: str) -> List[int]:
    """AS numbers from repeated options and comma lists, in order, each once."""
    from testbed.topology.caida import parse_asn

    out: List[int] = []
    for value in values:
        for item in value.split(","):
            if item.strip():
                asn = parse_asn(item, what)
                if asn not in out:
                    out.append(asn)
    return out
