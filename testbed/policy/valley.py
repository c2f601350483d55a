"""The valley-free check: is every BGP path a router holds allowed by Gao–Rexford export rules?

Pure, no I/O.  The input is a relationship map keyed by AS *numbers*
(``(a, b) -> what b is to a``: ``"customer"``, ``"peer"`` or ``"provider"``;
one direction is enough, the other is inferred) and, per router, its BGP
table as FRR prints it with ``show bgp ipv4 unicast json`` (FRR 8.4)::

    {"routerId": "100.127.0.3", "localAS": 64514,
     "routes": {"192.0.2.0/24": [
        {"valid": true, "bestpath": true, "pathFrom": "external",
         "peerId": "100.64.0.5", "path": "64513 64500", ...}, ...]}}

(``valid`` and ``bestpath`` are only present when true; a route the router
originates has ``"path": ""``.)  The ``detail`` shape of newer FRR releases
(``{"paths": [...]}`` per prefix, ``"aspath": {"string": ...}``,
``"bestpath": {"overall": true}``) is read too.

Which paths: every *valid* path by default (``best_only=False``): each one
is a route a neighbour exported to this router, so a path that is not best
still shows a neighbour's export policy; ``best_only=True`` judges only the
selected paths.  Invalid paths (an unreachable next hop) are not installable
and are skipped.

The rule: walked from the router's own AS towards the origin, a path is
zero or more customer→provider hops (up), at most one peer hop, then zero or
more provider→customer hops (down).  Equivalently, no AS in the path passed a
route learned from a provider or a peer on to a provider or a peer, which is
what is checked, AS by AS, so the offending AS and both of its neighbours in
the path are named.  Prepending (an AS repeated next to itself) is not a hop.
A hop between two ASes with no declared relationship is *unknown*: it is not
a violation, and a path with an unknown hop and no violation is counted as
not judged (``unknown``), with the pairs listed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Literal,
    Mapping,
    Optional,
    Set,
    Tuple,
)

if TYPE_CHECKING:
    from testbed.topology.model import Topology

Rel = Literal["customer", "peer", "provider"]
#: ``(a, b) -> what b is to a``, by AS number.
RelMap = Mapping[Tuple[int, int], Rel]
#: How an AS exported a route against the rules: (learned from, exported to).
Kind = Literal["valley", "peer-peer", "provider-to-peer", "peer-to-provider"]

_INVERSE: Dict[str, Rel] = {"customer": "provider", "provider": "customer", "peer": "peer"}
_KINDS: Dict[Tuple[str, str], Kind] = {
    ("provider", "provider"): "valley",
    ("peer", "peer"): "peer-peer",
    ("provider", "peer"): "provider-to-peer",
    ("peer", "provider"): "peer-to-provider",
}


def relationship(rels: RelMap, a: int, b: int) -> Optional[Rel]:
    """What AS ``b`` is to AS ``a`` (``customer``, ``peer``, ``provider``), None if undeclared."""
    found = rels.get((a, b))
    if found is not None:
        return found
    back = rels.get((b, a))
    return _INVERSE[back] if back is not None else None


def parse_as_path(text: str) -> Optional[List[int]]:
    """The AS numbers of an AS path as FRR prints it (``"65002 64500"``; ``""``: local).

    Returns:
        The numbers in order, or None when the path holds an AS_SET
        (``{1,2}``) or a confederation segment (``(1 2)``), which have no
        order to judge.
    """
    out = []
    for token in text.split():
        if not token.isdigit():
            return None
        out.append(int(token))
    return out


def collapse(asns: Iterable[int]) -> List[int]:
    """The path without prepends: an AS repeated next to itself counts once."""
    out: List[int] = []
    for asn in asns:
        if not out or out[-1] != asn:
            out.append(asn)
    return out


@dataclass(frozen=True)
class Offence:
    """An AS in a path that exported a route against the Gao–Rexford rules."""

    at_as: int
    learned_from: int
    learned_from_is: Rel  # what learned_from is to at_as
    exported_to: int
    exported_to_is: Rel  # what exported_to is to at_as
    kind: Kind

    @property
    def reason(self) -> str:
        """One sentence: who exported what to whom."""
        return (
            f"{self.kind}: AS {self.at_as} exported a route learned from its "
            f"{self.learned_from_is} AS {self.learned_from} to its {self.exported_to_is} "
            f"AS {self.exported_to} (only customer routes go to peers and providers)"
        )


@dataclass(frozen=True)
class PathVerdict:
    """What the check says of one path."""

    status: Literal["ok", "violation", "unknown"]
    offence: Optional[Offence] = None
    #: hops with no declared relationship, as (AS nearer the router, AS nearer the origin)
    unknown_pairs: Tuple[Tuple[int, int], ...] = ()


def judge_path(local_as: int, path: Iterable[int], rels: RelMap) -> PathVerdict:
    """Judge one AS path held by a router of ``local_as``.

    Args:
        local_as: the router's own AS.
        path: the path's AS numbers, nearest first (origin last), prepends allowed.
        rels: the relationship map.

    Returns:
        ``violation`` with the first offending AS (nearest the router),
        else ``unknown`` if a hop has no declared relationship, else ``ok``.
    """
    seq = collapse([local_as, *path])
    pairs = list(zip(seq, seq[1:], strict=False))
    hops: List[Optional[Rel]] = [relationship(rels, x, y) for x, y in pairs]
    unknown = tuple(pair for pair, rel in zip(pairs, hops, strict=True) if rel is None)
    for i in range(len(hops) - 1):
        towards_router, towards_origin = hops[i], hops[i + 1]
        if towards_router is None or towards_origin is None:
            continue
        x, y, z = seq[i], seq[i + 1], seq[i + 2]
        # y learned from z (z is y's `learned`) and exported to x (x is y's `sent`)
        learned, sent = towards_origin, _INVERSE[towards_router]
        kind = _KINDS.get((learned, sent))
        if kind is not None:
            return PathVerdict("violation", Offence(y, z, learned, x, sent, kind), unknown)
    return PathVerdict("unknown" if unknown else "ok", None, unknown)


@dataclass(frozen=True)
class Violation:
    """A path in a router's table that is not valley-free."""

    router: str
    prefix: str
    as_path: str  # as FRR printed it, prepends included
    best: bool
    offence: Offence

    @property
    def reason(self) -> str:
        """The offence in one sentence."""
        return self.offence.reason

    def line(self) -> str:
        """One line for a report: where, the path, and why."""
        best = " (best)" if self.best else ""
        return f"{self.router} {self.prefix} via [{self.as_path}]{best}: {self.reason}"


@dataclass
class PolicyCheck:
    """The outcome of the valley-free check over every router's table."""

    #: paths looked at (valid ones, or best ones with ``best_only``)
    paths: int = 0
    #: paths judged valley-free, every hop known
    ok: int = 0
    violations: List[Violation] = field(default_factory=list)
    #: paths with no violation but a hop without a declared relationship (not judged)
    unknown: int = 0
    #: the hops that had no relationship, (AS nearer the router, AS nearer the origin)
    unknown_pairs: List[Tuple[int, int]] = field(default_factory=list)
    #: paths with an AS_SET or a confederation segment (not judged; also in ``unknown``)
    unparsed: int = 0
    #: routers whose table could not be read (no ``localAS``: bgpd not answering)
    unreadable: List[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when no path violates the rules (unknown paths do not fail it)."""
        return not self.violations

    def line(self) -> str:
        """One line: ``policy check passed: ...`` or ``policy check: N violations ...``."""
        extra = []
        if self.unknown:
            extra.append(f"{self.unknown} not judged (no relationship declared)")
        if self.unreadable:
            n = len(self.unreadable)
            extra.append(f"{n} router{'s' if n != 1 else ''} unreadable")
        tail = f" ({'; '.join(extra)})" if extra else ""
        if self.passed:
            return f"policy check passed: {self.ok} of {self.paths} paths valley-free{tail}"
        n = len(self.violations)
        return f"policy check: {n} violation{'s' if n != 1 else ''} in {self.paths} paths{tail}"

    def to_dict(self) -> Dict[str, Any]:
        """Plain data (JSON-ready): counts, the violations with their reasons, unknown pairs."""
        return {
            "passed": self.passed,
            "paths": self.paths,
            "ok": self.ok,
            "unknown": self.unknown,
            "unparsed": self.unparsed,
            "unknown_pairs": [list(p) for p in self.unknown_pairs],
            "unreadable": list(self.unreadable),
            "violations": [
                {
                    "router": v.router,
                    "prefix": v.prefix,
                    "as_path": v.as_path,
                    "best": v.best,
                    **asdict(v.offence),
                    "reason": v.reason,
                }
                for v in self.violations
            ],
        }


def _flag(value: Any, key: str = "overall") -> bool:
    """FRR's ``true`` flag, or the ``detail`` shape's ``{"overall": true}``."""
    if isinstance(value, dict):
        return bool(value.get(key))
    return value is True


def _path_text(entry: Mapping[str, Any]) -> Optional[str]:
    text = entry.get("path")
    if isinstance(text, str):
        return text
    aspath = entry.get("aspath")
    if isinstance(aspath, dict) and isinstance(aspath.get("string"), str):
        return "" if aspath["string"] == "Local" else aspath["string"]
    return None


def _entries(routes: Any) -> Iterator[Tuple[str, Mapping[str, Any]]]:
    """(prefix, path entry) of a table's ``routes``, in both FRR shapes."""
    if not isinstance(routes, dict):
        return
    for prefix, value in routes.items():
        paths = value.get("paths") if isinstance(value, dict) else value
        if not isinstance(paths, list):
            continue
        for entry in paths:
            # the detail shape of some releases nests each path in a one-element list
            items = entry if isinstance(entry, list) else [entry]
            for item in items:
                if isinstance(item, dict):
                    yield prefix, item


def _local_as(table: Mapping[str, Any]) -> Optional[int]:
    value = table.get("localAS")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def check_tables(
    tables: Mapping[str, Mapping[str, Any]],
    rels: RelMap,
    prefixes: Optional[Iterable[Any]] = None,
    best_only: bool = False,
) -> PolicyCheck:
    """Check every router's BGP table against the relationships.

    Args:
        tables: router name -> its parsed ``show bgp ipv4 unicast json``.
        rels: the relationship map, by AS number.
        prefixes: only these prefixes (``str()`` of each, e.g. ``"192.0.2.0/24"``
            or an ``IPv4Network``); None: every prefix in the tables.
        best_only: judge only best paths (default: every valid path).

    Returns:
        The counts, the violations (router order, then prefix order, as given)
        and the unknown pairs.
    """
    wanted: Optional[Set[str]] = {str(p) for p in prefixes} if prefixes is not None else None
    out = PolicyCheck()
    pairs: Set[Tuple[int, int]] = set()
    for router, table in tables.items():
        local = _local_as(table) if isinstance(table, Mapping) else None
        if local is None:
            out.unreadable.append(router)
            continue
        for prefix, entry in _entries(table.get("routes")):
            if wanted is not None and prefix not in wanted:
                continue
            best = _flag(entry.get("bestpath"))
            if not _flag(entry.get("valid")) or (best_only and not best):
                continue
            text = _path_text(entry)
            out.paths += 1
            asns = parse_as_path(text) if text is not None else None
            if asns is None:
                out.unparsed += 1
                out.unknown += 1
                continue
            verdict = judge_path(local, asns, rels)
            pairs.update(verdict.unknown_pairs)
            if verdict.status == "ok":
                out.ok += 1
            elif verdict.status == "unknown":
                out.unknown += 1
            else:
                assert verdict.offence is not None
                out.violations.append(Violation(router, prefix, text or "", best, verdict.offence))
    out.unknown_pairs = sorted(pairs)
    return out


def relationships_from_topology(topo: Topology) -> Dict[Tuple[int, int], Rel]:
    """The relationship map of a topology by AS number (from its names' map).

    A thin adapter over :func:`testbed.topology.relationships.as_relationships`
    (keyed by AS names); a topology without relationships gives an empty map,
    so every hop is unknown and nothing is a violation.
    """
    from testbed.topology.relationships import as_relationships

    asn = {a.name: a.asn for a in topo.ases}
    return {(asn[a], asn[b]): rel for (a, b), rel in as_relationships(topo).items()}
