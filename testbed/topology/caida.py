"""Import a topology from a CAIDA AS-relationship file (a file the user has; nothing is downloaded).

The format (CAIDA's ``as-rel`` and ``as-rel2`` datasets), one relationship a line::

    # comment lines start with '#'
    3356|64512|-1        AS 3356 is a provider of AS 64512
    3356|174|0           AS 3356 and AS 174 are peers
    3356|64513|-1|bgp    serial-2: a fourth field says how it was inferred (ignored)

A ``.bz2`` file (as CAIDA ships them) is read as well.  Every bad line is
refused with its number (``FILE: line N: problem``); so is a pair given two
different relationships and a chain of providers that comes back to its
start (an AS would be its own provider).

A selection makes a topology of it: the ASes within ``hops`` of named ASes
(:func:`select_around`), or the ``top`` N ASes by customer-cone size
(:func:`select_top`).  :func:`import_topology` writes the plain data of an
ordinary topology file: one router per AS named ``asNNN`` (``ax`` and the
number in base 36 when ``asNNN`` would be longer than 10 characters), the AS
number kept, ``transit`` for an AS with customers in the selection and
``eyeball`` otherwise, a link per relationship with its ``rel``; anycast
sites behind the ASes named (default: the biggest ASes that have both a
provider and customers in the selection, the tier-2s) and clients in stub
ASes (default: the most multi-homed first).
"""

from __future__ import annotations

import bz2
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

from testbed import inputfile
from testbed.errors import InputError
from testbed.topology.asgraph import AsGraph
from testbed.topology.model import NAME_MAX
from testbed.topology.validate import MAX_INTERFACES

#: The largest AS-relationship file read (a whole CAIDA file is about 10 MB).
MAX_BYTES = 64 * 1024 * 1024
#: The most ASes a selection may hold (as ``internet:N``).
MAX_ASES = 1000
#: Relationships one AS may have in a selection: its router's interfaces, less room
#: for a site uplink and clients.
MAX_DEGREE = MAX_INTERFACES - 4
MAX_ASN = 4294967294  # 0 and 4294967295 are reserved (RFC 7607, RFC 7300)
DEFAULT_SITES, DEFAULT_CLIENTS = 3, 8


def as_name(asn: int) -> str:
    """The AS's name in an imported topology: ``as3356``, or ``ax`` + base 36 when longer."""
    name = f"as{asn}"
    if len(name) <= NAME_MAX:
        return name
    digits = ""
    while asn:
        asn, rest = divmod(asn, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
    return f"ax{digits}"


def _asn(text: str, source: str, line: int) -> int:
    text = text.strip()
    if not text.isdigit():
        raise InputError(
            f"AS number must be a whole number (asplain), got {text!r}", source, f"line {line}"
        )
    asn = int(text)
    if not 1 <= asn <= MAX_ASN:
        raise InputError(
            f"AS number must be between 1 and {MAX_ASN}, got {asn}", source, f"line {line}"
        )
    return asn


def parse_as_rel(text: str, source: str) -> AsGraph:
    """Parse CAIDA AS-relationship text.

    Args:
        text: the file's content.
        source: the file, for messages.

    Returns:
        The graph (ASes in order of first mention, named by :func:`as_name`).

    Raises:
        InputError: ``FILE: line N: problem`` for the first bad line, a pair
            related twice in two ways, or a cycle of providers.
    """
    graph = AsGraph({})
    seen: Dict[Tuple[int, int], Tuple[str, int]] = {}  # sorted pair -> (kind, line)
    line_of: Dict[Tuple[int, int], int] = {}  # (provider, customer) -> line
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split("|")
        if len(fields) not in (3, 4):
            raise InputError(
                f"expected AS1|AS2|REL (or AS1|AS2|REL|SOURCE), got {len(fields)} fields: "
                f"{line[:60]!r}",
                source,
                f"line {number}",
            )
        a, b = _asn(fields[0], source, number), _asn(fields[1], source, number)
        rel = fields[2].strip()
        if rel not in ("-1", "0"):
            raise InputError(
                f"relationship must be -1 (AS1 is a provider of AS2) or 0 (peers), got {rel!r}",
                source,
                f"line {number}",
            )
        if a == b:
            raise InputError(f"AS {a} is related to itself", source, f"line {number}")
        kind = f"{a}>{b}" if rel == "-1" else "peer"
        pair = (min(a, b), max(a, b))
        if pair in seen:
            before, first = seen[pair]
            if before == kind:
                continue  # the same relationship again (e.g. a peering listed both ways)
            raise InputError(
                f"AS {a} and AS {b} are already related on line {first} "
                f"({_describe(before)}): one relationship per pair",
                source,
                f"line {number}",
            )
        seen[pair] = (kind, number)
        for asn in (a, b):
            if asn not in graph.names:
                graph.names[asn] = as_name(asn)
                graph.descriptions[asn] = f"AS{asn}"
        if rel == "-1":
            graph.p2c.append((a, b))
            line_of[(a, b)] = number
        else:
            graph.p2p.append((a, b))
    if not graph.names:
        raise InputError("no AS relationships in the file (lines AS1|AS2|-1 or AS1|AS2|0)", source)
    cycle = graph.provider_cycle()
    if cycle:
        chain = " -> ".join(f"AS {a}" for a in cycle)
        last = max(line_of[(p, c)] for p, c in zip(cycle, cycle[1:], strict=False))
        raise InputError(
            f"a cycle of providers ({chain}, each the provider of the next): "
            "an AS would be its own provider",
            source,
            f"line {last}",
        )
    return graph


def _describe(kind: str) -> str:
    if kind == "peer":
        return "peers"
    provider, customer = kind.split(">")
    return f"AS {provider} is a provider of AS {customer}"


def read_as_rel(path: Union[str, Path]) -> AsGraph:
    """Read a CAIDA AS-relationship file (plain or ``.bz2``): regular files only, bounded.

    Raises:
        InputError: unreadable, too large, not text, or a bad line (with its number).
    """
    source = str(path)
    raw = inputfile.read_bytes(path, source, MAX_BYTES)
    if raw.startswith(b"BZh"):
        try:
            unpacker = bz2.BZ2Decompressor()
            raw = unpacker.decompress(raw, max_length=MAX_BYTES + 1)
        except (OSError, ValueError, EOFError):
            raise InputError("not a valid bzip2 file", source) from None
        if len(raw) > MAX_BYTES:
            raise InputError(f"too large once decompressed: more than {MAX_BYTES} bytes", source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be decoded)",
            source,
            f"line {line}",
        ) from None
    return parse_as_rel(text, source)


def parse_asn(text: str, what: str = "AS") -> int:
    """An AS number given on the command line: ``3356`` or ``AS3356``.

    Raises:
        InputError: not a number in range.
    """
    body = text.strip()
    if body[:2].lower() == "as":
        body = body[2:]
    if not body.isdigit() or not 1 <= int(body) <= MAX_ASN:
        raise InputError(f"{what} must be an AS number such as 3356 or AS3356, got {text!r}")
    return int(body)


def _known(graph: AsGraph, asns: Iterable[int], source: str, what: str) -> List[int]:
    out = []
    for asn in asns:
        if asn not in graph.names:
            raise InputError(f"{what}: AS {asn} is not in the file", source)
        out.append(asn)
    return out


def select_around(
    graph: AsGraph, asns: Sequence[int], hops: int, source: str, max_ases: int = MAX_ASES
) -> Set[int]:
    """The ASes within ``hops`` relationships of any of ``asns``.

    Raises:
        InputError: an AS not in the file, or more than ``max_ases`` ASes.
    """
    if not asns:
        raise InputError("--around needs at least one AS", source)
    near = graph.neighbours()
    picked = set(_known(graph, asns, source, "--around"))
    frontier = set(picked)
    for _ in range(hops):
        frontier = {n for asn in frontier for n in near[asn]} - picked
        picked |= frontier
        if len(picked) > max_ases:
            break
    if len(picked) > max_ases:
        names = ", ".join(f"AS {a}" for a in asns)
        raise InputError(
            f"the {hops}-hop neighbourhood of {names} holds more than {max_ases} ASes: "
            "give fewer --hops, or use --top N",
            source,
        )
    return picked


def select_top(graph: AsGraph, n: int, source: str) -> Set[int]:
    """The ``n`` ASes with the biggest customer cones (ties: the smaller AS number).

    Raises:
        InputError: ``n`` out of range.
    """
    if not 2 <= n <= MAX_ASES:
        raise InputError(f"--top must be between 2 and {MAX_ASES}, got {n}", source)
    cones = graph.customer_cones()
    ranked = sorted(graph.names, key=lambda asn: (-cones[asn], asn))
    return set(ranked[:n])


@dataclass
class Imported:
    """What :func:`import_topology` made: the topology data and what it chose."""

    data: Dict[str, object]
    graph: AsGraph
    #: AS numbers of the sites' upstreams, in site order
    site_ases: List[int]
    #: AS numbers of the clients' eyeball ASes, in client order
    client_ases: List[int]
    #: selected ASes left out because no relationship joined them to the rest
    dropped: int

    def line(self) -> str:
        """One line: what the topology holds."""
        g = self.graph
        dropped = f"; {self.dropped} unconnected ASes left out" if self.dropped else ""
        sites, clients = len(self.site_ases), len(self.client_ases)
        return (
            f"{len(g.names)} ASes, {len(g.p2c)} customer-provider and {len(g.p2p)} peer links, "
            f"{sites} site{'s' if sites != 1 else ''}, "
            f"{clients} client{'s' if clients != 1 else ''}{dropped}"
        )


def _default_sites(graph: AsGraph, k: int) -> List[int]:
    """The tier-2s first (a provider and customers), then by cone size and AS number."""
    below, above, cones = graph.customers(), graph.providers(), graph.customer_cones()

    def rank(asn: int) -> Tuple[int, int, int]:
        has_both = bool(below[asn]) and bool(above[asn])
        tier = 0 if has_both else 1 if below[asn] else 2
        return (tier, -cones[asn], asn)

    return sorted(graph.names, key=rank)[:k]


def _default_clients(graph: AsGraph, k: int) -> List[int]:
    """Stubs (no customers) first, the most multi-homed first, then by AS number."""
    below, above = graph.customers(), graph.providers()
    ranked = sorted(graph.names, key=lambda a: (len(below[a]), -len(above[a]), a))
    return ranked[:k]


def import_topology(
    graph: AsGraph,
    selected: Set[int],
    source: str,
    name: str,
    description: str,
    site_ases: Optional[Sequence[int]] = None,
    sites: int = DEFAULT_SITES,
    clients: int = DEFAULT_CLIENTS,
    around: Sequence[int] = (),
) -> Imported:
    """Make the data of a topology file from the selected ASes.

    Args:
        graph: the whole file's graph.
        selected: the AS numbers chosen (:func:`select_around`, :func:`select_top`).
        source: the file, for messages.
        name: the topology's name.
        description: its one-line description.
        site_ases: the ASes whose routers host a site each (their upstream);
            None: ``sites`` chosen as :func:`_default_sites` says.
        sites: how many sites when ``site_ases`` is None.
        clients: how many clients, one per AS, in stubs.
        around: ASes the selection was made around: they must stay in it.

    Returns:
        The data and what was chosen.

    Raises:
        InputError: a named AS outside the selection, an AS with more
            relationships than a router has interfaces, named ASes that the
            selection does not join, counts out of range.
    """
    sub = graph.subgraph(selected)
    parts = sub.connected_components()
    keep = parts[0] if parts else set()
    for what, asns in (("--site-at", site_ases or ()), ("--around", around)):
        for asn in asns:
            if asn not in sub.names:
                raise InputError(f"{what}: AS {asn} is not in the selection", source)
            if asn not in keep:
                raise InputError(
                    f"{what}: AS {asn} is not joined to the rest of the selection "
                    "(no chain of relationships within it)",
                    source,
                )
    dropped = len(sub.names) - len(keep)
    sub = sub.subgraph(keep)
    sub.names = dict(sorted(sub.names.items()))  # the file lists ASes by number
    if len(sub.names) < 2:
        raise InputError("the selection holds fewer than 2 related ASes", source)
    degree: Dict[int, int] = {asn: len(n) for asn, n in sub.neighbours().items()}
    busiest = max(sub.names, key=lambda a: (degree[a], -a))
    if degree[busiest] > MAX_DEGREE:
        raise InputError(
            f"AS {busiest} has {degree[busiest]} relationships in the selection; a router "
            f"takes at most {MAX_DEGREE} links here ({MAX_INTERFACES} interfaces): "
            "select fewer ASes",
            source,
        )
    if site_ases:
        if len(set(site_ases)) != len(site_ases):
            raise InputError("--site-at: an AS is named twice", source)
        ups = list(site_ases)
    else:
        if not 1 <= sites <= 16:
            raise InputError(f"--sites must be between 1 and 16, got {sites}", source)
        ups = _default_sites(sub, min(sites, len(sub.names)))
    if not 1 <= clients <= 20:
        raise InputError(f"--clients must be between 1 and 20, got {clients}", source)
    homes = _default_clients(sub, min(clients, len(sub.names)))
    data = sub.topology_data(
        name,
        description,
        sites=[(f"s{i}", up) for i, up in enumerate(ups, start=1)],
        clients=[(f"c{i}", home) for i, home in enumerate(homes, start=1)],
    )
    return Imported(data, sub, ups, homes, dropped)
