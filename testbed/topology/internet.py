"""The ``internet:N`` generator: an internet of N ASes with business relationships.

``internet:N`` (N from 20 to 4000; past 1000 the ASes take private 32-bit numbers)
builds, deterministically for a seed:

- a **tier-1 clique**: 3 to 12 ASes (about sqrt(N)/2.5), every pair peers;
- **tier-2** ASes (15 % of N, at least 4), each buying transit from 1 to 3
  tier-1s and peering with a few other tier-2s;
- **stub** (eyeball) ASes, the rest, each multi-homed to 1 or 2 tier-2s;
  a few tier-2s are much bigger than the others (a provider is drawn with a
  weight falling as 1/sqrt of its rank), as in the real internet;
- the anycast AS (not counted in N) with ``sites`` sites (default 3), each
  behind its own tier-2; ``clients`` clients (default 8), each in its own stub.

Every link has a relationship (``rel``), so every AS has them; sites are
customers of their upstreams.  No router gets more links than an interface
budget below the validator's limit.  Options follow the size after a second
colon: ``internet:200:seed=7,sites=5,clients=12``.  AS numbers are the
private 16-bit ones from 64512 up (tier-1s first), so every AS number fits a
standard community; names: tier-1s ``t1``..., tier-2s ``r1``..., stubs
``e1``..., sites ``s1``..., clients ``c1``...
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Dict, List, Sequence, Set, Tuple

from testbed.errors import InputError
from testbed.topology.asgraph import AsGraph
from testbed.topology.load import parse_topology
from testbed.topology.model import Topology
from testbed.topology.validate import MAX_INTERFACES

MIN_ASES, MAX_ASES = 20, 4000
#: The first AS number: the private 16-bit range (RFC 6996) holds 64512-65534.
ASN_BASE = 64512
#: Up to this many ASes take 16-bit numbers; more take the private 32-bit range
#: (RFC 6996: 4200000000-4294967294), from :data:`ASN_BASE_32`.
MAX_16BIT = 1000
ASN_BASE_32 = 4200000000
DEFAULT_SITES, MAX_SITES = 3, 16
DEFAULT_CLIENTS, MAX_CLIENTS = 8, 20
MAX_SEED = 2**32 - 1
#: Links one AS's router may get, leaving room for a site uplink and clients.
LINK_BUDGET = MAX_INTERFACES - 4
#: The options after ``internet:N:``.
OPTIONS = ("seed", "sites", "clients")

TIER1, TIER2, STUB = 1, 2, 3


@dataclass(frozen=True)
class InternetSpec:
    """What ``internet:N[:seed=S,sites=K,clients=C]`` asks for."""

    n: int
    seed: int = 0
    sites: int = DEFAULT_SITES
    clients: int = DEFAULT_CLIENTS

    def spec(self) -> str:
        """The spec text that gives this topology again (defaults left out)."""
        defaults = {"seed": 0, "sites": DEFAULT_SITES, "clients": DEFAULT_CLIENTS}
        opts = [f"{k}={getattr(self, k)}" for k, v in defaults.items() if getattr(self, k) != v]
        return f"internet:{self.n}" + (f":{','.join(opts)}" if opts else "")


def tier_sizes(n: int) -> Tuple[int, int, int]:
    """(tier-1, tier-2, stub) AS counts for N ASes."""
    tier1 = min(12, max(3, round(math.sqrt(n) / 2.5)))
    tier2 = max(4, round(n * 0.15))
    return tier1, tier2, n - tier1 - tier2


def parse_arg(arg: str) -> InternetSpec:
    """Read what follows ``internet:``: ``N`` or ``N:key=value,...``.

    Raises:
        InputError: one line naming the spec and the problem.
    """
    source = f"internet:{arg}"
    size, _, options = arg.partition(":")
    try:
        n = int(size)
    except ValueError:
        raise InputError(f"N must be a whole number, got {size!r}", source) from None
    values: Dict[str, int] = {}
    for item in filter(None, options.split(",")) if options else ():
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or key not in OPTIONS:
            raise InputError(
                f"unknown option {item!r}: give {', '.join(k + '=N' for k in OPTIONS)}", source
            )
        if key in values:
            raise InputError(f"option {key!r} is given twice", source)
        try:
            values[key] = int(text.strip())
        except ValueError:
            raise InputError(f"{key} must be a whole number, got {text!r}", source) from None
    spec = InternetSpec(n, **values)
    check_spec(spec, source)
    return spec


def check_spec(spec: InternetSpec, source: str) -> None:
    """Refuse N or an option out of range (the options' ranges depend on N)."""
    if not MIN_ASES <= spec.n <= MAX_ASES:
        raise InputError(f"N must be between {MIN_ASES} and {MAX_ASES}, got {spec.n}", source)
    _, tier2, stubs = tier_sizes(spec.n)
    bounds = {
        "seed": (0, MAX_SEED),
        "sites": (1, min(MAX_SITES, tier2)),
        "clients": (1, min(MAX_CLIENTS, stubs)),
    }
    for key, (low, high) in bounds.items():
        value = getattr(spec, key)
        if not low <= value <= high:
            raise InputError(f"{key} must be between {low} and {high}, got {value}", source)


def _weighted_pick(
    rng: random.Random, candidates: Sequence[int], weights: Dict[int, float], k: int
) -> List[int]:
    """``k`` distinct candidates, each drawn with its weight (fewer if fewer exist)."""
    pool = list(candidates)
    out: List[int] = []
    while pool and len(out) < k:
        pick = rng.choices(pool, weights=[weights[c] for c in pool])[0]
        pool.remove(pick)
        out.append(pick)
    return out


def internet_graph(n: int, seed: int = 0) -> Tuple[AsGraph, Dict[int, int]]:
    """The AS graph of ``internet:N`` for a seed, and each AS's tier (1, 2 or 3 = stub).

    Args:
        n: the number of ASes (the anycast AS not counted).
        seed: the seed of every random choice.
    """
    rng = random.Random(seed)
    n1, n2, n3 = tier_sizes(n)
    base = ASN_BASE if n <= MAX_16BIT else ASN_BASE_32
    tier1 = [base + i for i in range(n1)]
    tier2 = [base + n1 + i for i in range(n2)]
    stubs = [base + n1 + n2 + i for i in range(n3)]
    names: Dict[int, str] = {}
    tiers: Dict[int, int] = {}
    descriptions: Dict[int, str] = {}
    for tier, members, prefix, what in (
        (TIER1, tier1, "t", "tier-1 transit"),
        (TIER2, tier2, "r", "tier-2 (regional) transit"),
        (STUB, stubs, "e", "stub (eyeball) AS"),
    ):
        for i, asn in enumerate(members, start=1):
            names[asn], tiers[asn], descriptions[asn] = f"{prefix}{i}", tier, what
    graph = AsGraph(names, descriptions=descriptions)
    degree = {asn: 0 for asn in names}
    linked: Set[frozenset] = set()

    def join(a: int, b: int, peer: bool) -> None:
        (graph.p2p if peer else graph.p2c).append((a, b))
        linked.add(frozenset((a, b)))
        degree[a] += 1
        degree[b] += 1

    for i, a in enumerate(tier1):
        for b in tier1[i + 1 :]:
            join(a, b, peer=True)
    for asn in tier2:
        room = [t for t in tier1 if degree[t] < LINK_BUDGET]
        for provider in sorted(rng.sample(room, min(len(room), rng.randint(1, 3)))):
            join(provider, asn, peer=False)
    for asn in tier2:
        wanted = rng.randint(0, 2)
        others = [
            t
            for t in tier2
            if t != asn and frozenset((asn, t)) not in linked and degree[t] < LINK_BUDGET
        ]
        for other in sorted(rng.sample(others, min(len(others), wanted))):
            if degree[asn] < LINK_BUDGET and degree[other] < LINK_BUDGET:
                join(asn, other, peer=True)
    weight = {asn: 1 / math.sqrt(rank + 1) for rank, asn in enumerate(tier2)}
    for asn in stubs:
        room = [t for t in tier2 if degree[t] < LINK_BUDGET]
        count = 2 if rng.random() < 0.5 else 1
        for provider in sorted(_weighted_pick(rng, room, weight, count)):
            join(provider, asn, peer=False)
    return graph, tiers


def internet_data(spec: InternetSpec) -> Dict[str, object]:
    """The plain topology data of an ``internet:`` spec (what the file would hold).

    Raises:
        InputError: an option out of range.
    """
    source = spec.spec()
    check_spec(spec, source)
    graph, tiers = internet_graph(spec.n, spec.seed)
    n1, n2, n3 = tier_sizes(spec.n)
    rng = random.Random(f"internet-places:{spec.seed}")
    tier2 = [asn for asn, t in tiers.items() if t == TIER2]
    stubs = [asn for asn, t in tiers.items() if t == STUB]
    ups = sorted(rng.sample(tier2, spec.sites))
    homes = sorted(rng.sample(stubs, spec.clients))
    roles = {asn: "eyeball" if t == STUB else "transit" for asn, t in tiers.items()}
    name = f"internet{spec.n}" + (f"-seed{spec.seed}" if spec.seed else "")
    description = (
        f"{source}: {n1} tier-1, {n2} tier-2 and {n3} stub ASes with relationships; "
        f"{spec.sites} sites, {spec.clients} clients (generated)"
    )
    return graph.topology_data(
        name,
        description,
        sites=[(f"s{i}", up) for i, up in enumerate(ups, start=1)],
        clients=[(f"c{i}", home) for i, home in enumerate(homes, start=1)],
        roles=roles,
    )


def internet(
    n: int, seed: int = 0, sites: int = DEFAULT_SITES, clients: int = DEFAULT_CLIENTS
) -> Topology:
    """The validated topology of ``internet:N`` (see the module docstring).

    Raises:
        InputError: N or an option out of range.
    """
    spec = InternetSpec(n, seed, sites, clients)
    return parse_topology(internet_data(spec), spec.spec())


def from_arg(arg: str) -> Topology:
    """The generator's entry for ``internet:ARG`` (``testbed.topology.generate.GENERATORS``)."""
    spec = parse_arg(arg)
    return parse_topology(internet_data(spec), spec.spec())


def with_seed(spec: str, seed: int) -> str:
    """An ``internet:`` spec with ``seed`` set (``topology generate SPEC --seed S``).

    Raises:
        InputError: the spec gives another seed already.
    """
    parsed = parse_arg(spec.partition(":")[2])
    if "seed=" in spec and parsed.seed != seed:
        raise InputError(f"--seed {seed} differs from the spec's seed={parsed.seed}", spec)
    return InternetSpec(parsed.n, seed, parsed.sites, parsed.clients).spec()


#: The sample AS-relationship file shipped for the CAIDA importer, and what makes it.
SAMPLE_FILE = "topologies/sample.as-rel.txt"
SAMPLE = InternetSpec(200)


def sample_as_rel() -> str:
    """The text of :data:`SAMPLE_FILE`: ``internet:200``'s relationships in CAIDA's format."""
    graph, _ = internet_graph(SAMPLE.n, SAMPLE.seed)
    n1, n2, n3 = tier_sizes(SAMPLE.n)
    return graph.as_rel_text(
        [
            "anycast-testbed sample AS relationships, in CAIDA's as-rel format: made up, "
            "not measured",
            f"the relationships of {SAMPLE.spec()} (seed {SAMPLE.seed}): {n1} tier-1, "
            f"{n2} tier-2 and {n3} stub ASes",
            "made by: python scripts/make_sample_as_rel.py (a unit test keeps it equal)",
            "<provider-as>|<customer-as>|-1",
            "<peer-as>|<peer-as>|0",
        ]
    )
