"""Per-student variants: the same lab with other names, numbers and roles.

``make_variant(lab, student)`` seeds a random generator from a hash of the
lab number and the student ID, so a student always gets the same variant and
two students (almost always) get different ones: other transit, client and
site names, other AS numbers, sites behind other transits, another site that
fails, another hold time or prepend count.  Every variant is equivalent: the
same lesson, the same number of steps, and answers that the checker computes
from the variant (see :mod:`testbed.labs.reasoning`).  Without a student ID
the reference variant is used (the same for everyone: for a demo in class);
``reference`` itself, an empty ID and IDs with blanks are refused
(:func:`check_student`), so no ID can stand for the reference variant.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from testbed.errors import InputError
from testbed.labs import reasoning

#: Transit ASes in the chain, and so clients (one per transit).
CHAIN = 5
TRANSIT_NAMES = (
    "atlas", "boreal", "cobalt", "delta", "ember", "fjord", "garnet", "helix", "indigo",
    "jade", "krypton", "lumen", "nimbus", "onyx", "pulsar", "quartz", "raven", "sierra",
    "tundra", "umbra", "vertex", "willow", "xenon", "yukon", "zephyr",
)  # fmt: skip
CLIENT_NAMES = (
    "oslo", "lima", "cairo", "delhi", "quito", "dakar", "perth", "hanoi", "sofia", "riga",
    "accra", "kyiv", "dubai", "seoul", "miami", "boston", "denver", "austin", "vienna",
    "prague", "madrid", "lisbon", "dublin", "manila", "taipei", "osaka", "tunis",
)  # fmt: skip
SITE_NAMES = (
    "ams", "fra", "cdg", "lhr", "mad", "arn", "waw", "jnb", "nbo", "bom", "sin", "syd",
    "nrt", "icn", "sea", "ord", "mia", "gru", "scl", "yyz", "dfw", "lax", "hkg", "dxb",
)  # fmt: skip
REFERENCE = "reference"
#: Longest student ID accepted.
STUDENT_MAX = 64
#: Hold times (s) lab 3 draws from: keepalive 1 s, silent outage about the hold.
HOLD_TIMES = (3, 4, 5, 6, 7, 8)


@dataclass(frozen=True)
class Transit:
    """A transit AS of the chain (its router has the same name)."""

    name: str
    asn: int
    pos: int


@dataclass(frozen=True)
class Client:
    """A client, in its own eyeball AS on one transit."""

    name: str
    isp: str
    isp_asn: int
    pos: int
    transit: str


@dataclass(frozen=True)
class Site:
    """An anycast site behind one transit."""

    name: str
    pos: int
    upstream: str


@dataclass(frozen=True)
class Variant:
    """One student's version of one lab.

    ``site`` maps the lab's roles (``first``/``second``, ``primary``/``backup``,
    ``a``/``b``/``c``) to sites; ``fails`` (a role) and ``params`` (hold time,
    prepend count...) are the lab's own choices.
    """

    lab: int
    student: Optional[str]
    transits: Tuple[Transit, ...]
    clients: Tuple[Client, ...]
    anycast_asn: int
    site: Dict[str, Site] = field(default_factory=dict)
    params: Dict[str, Any] = field(default_factory=dict)

    def client_positions(self) -> Dict[str, int]:
        """client name -> position of its transit."""
        return {c.name: c.pos for c in self.clients}

    def sites_at(self, *roles: str, prepend: Optional[Dict[str, int]] = None) -> Dict[str, Any]:
        """Sites of the given roles for :mod:`reasoning`: name -> (position, prepend).

        Args:
            roles: site roles (all the variant's sites when none is given).
            prepend: prepend count per role (default 0).

        Returns:
            site name -> (position, prepend).
        """
        prepend = prepend or {}
        return {
            self.site[r].name: (self.site[r].pos, prepend.get(r, 0)) for r in roles or self.site
        }

    def catchment(self, *roles: str, prepend: Optional[Dict[str, int]] = None) -> Dict[str, Any]:
        """Each client's site with only the given sites announcing (see :meth:`sites_at`)."""
        return reasoning.catchment(self.client_positions(), self.sites_at(*roles, prepend=prepend))

    # ------------------------------------------- lab 6: business relationships
    def transit_of(self, role: str) -> Transit:
        """Lab 6: the transit that plays ``role`` (:data:`LAB6_ROLES`)."""
        return self.transits[self.params["roles"][role]]

    def relationships(self) -> Dict[Tuple[str, str], str]:
        """Lab 6: (AS, neighbour AS) -> what the neighbour is to the AS, both ways.

        The transits' links as :data:`LAB6_LINKS` declares them, and every ISP
        a customer of its transit (the anycast AS is left out: its sites are
        the origins of :func:`reasoning.best_routes`).
        """
        rel: Dict[Tuple[str, str], str] = {}
        for a, b, what in self.params.get("links", []):
            x, y = self.transits[a].name, self.transits[b].name
            if what == "peer":
                rel[(x, y)] = rel[(y, x)] = "peer"
            else:  # customer-provider: x buys transit from y
                rel[(x, y)], rel[(y, x)] = "provider", "customer"
        for c in self.clients:
            rel[(c.isp, c.transit)], rel[(c.transit, c.isp)] = "provider", "customer"
        return rel

    def routing(self, policy: bool = True) -> reasoning.Routing:
        """Lab 6: every AS's best route, with relationships or by the shortest AS path alone."""
        sites = {s.name: ([s.upstream], 0) for s in self.site.values()}
        return reasoning.best_routes(self.relationships(), sites, policy=policy)

    def policy_catchment(self, policy: bool = True) -> Dict[str, Optional[str]]:
        """Lab 6: each client's site (None: no route, or a tie), with or without relationships."""
        routing = self.routing(policy)
        return {c.name: routing.site_of(c.isp) for c in self.clients}

    def not_shortest(self) -> List[str]:
        """Lab 6: the clients that relationships send elsewhere than the shortest AS path does."""
        policy, shortest = self.policy_catchment(), self.policy_catchment(policy=False)
        return [c.name for c in self.clients if policy[c.name] != shortest[c.name]]

    def no_route(self) -> Dict[str, List[str]]:
        """Lab 6: transit -> the clients whose ISP's prefix valley-free export keeps from it."""
        origins = {c.name: c.isp for c in self.clients}
        return reasoning.without_route(
            self.relationships(), origins, [t.name for t in self.transits]
        )

    def as_dict(self) -> Dict[str, Any]:
        """Plain data (for ``.lab.json``, templates and ``--json``)."""
        return asdict(self)


def check_student(student: Optional[str], where: str = "--student") -> Optional[str]:
    """A student ID as given, or an :class:`InputError` saying what is wrong with it.

    Args:
        student: the ID (None: no ID, the reference variant).
        where: what to name in the message (the option or the file).

    Returns:
        The ID unchanged.

    Raises:
        InputError: empty, blanks or control characters, too long, or reserved.
    """
    if student is None:
        return None
    if not isinstance(student, str):
        raise InputError(f"a student ID must be text (got {student!r})", where)
    if not student.strip():
        raise InputError(
            "the student ID is empty (leave --student out for the reference variant)", where
        )
    if any(ch.isspace() or not ch.isprintable() for ch in student):
        raise InputError(f"the student ID {student!r} has blanks or control characters", where)
    if len(student) > STUDENT_MAX:
        raise InputError(f"the student ID is longer than {STUDENT_MAX} characters", where)
    if student.lower() == REFERENCE:
        raise InputError(
            f"{student!r} is reserved (leave --student out for the reference variant)", where
        )
    return student


def seed_of(lab: int, student: Optional[str]) -> int:
    """The generator seed of a student's variant of a lab (stable across machines)."""
    text = f"anycast-testbed lab {lab} student {student or REFERENCE}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _internet(rng: random.Random) -> Tuple[Tuple[Transit, ...], Tuple[Client, ...], int]:
    """Transit chain, clients and the anycast ASN, drawn from ``rng``."""
    names = rng.sample(TRANSIT_NAMES, CHAIN)
    asns = rng.sample(range(65000, 65500), CHAIN)
    transits = tuple(Transit(n, a, i) for i, (n, a) in enumerate(zip(names, asns, strict=True)))
    cnames = rng.sample(CLIENT_NAMES, CHAIN)
    casns = rng.sample(range(64512, 65000), CHAIN)
    clients = tuple(
        Client(n, f"isp-{n}", a, i, transits[i].name)
        for i, (n, a) in enumerate(zip(cnames, casns, strict=True))
    )
    return transits, clients, rng.randrange(64496, 64512)


def _odd_pair(rng: random.Random) -> Tuple[int, int]:
    """Two transit positions with an odd sum: no client is half-way between them."""
    pairs = [(p, q) for p in range(CHAIN) for q in range(CHAIN) if (p + q) % 2 == 1]
    return rng.choice(pairs)


Roles = Tuple[Dict[str, int], Dict[str, Any]]


def _lab1(rng: random.Random, _clients: Dict[str, int]) -> Roles:
    p, q = _odd_pair(rng)
    return {"first": p, "second": q}, {}


def _lab2(rng: random.Random, clients: Dict[str, int]) -> Roles:
    p, q = _odd_pair(rng)
    return {"primary": p, "backup": q}, {
        "min_prepend": reasoning.min_prepend(clients, p, q),
        "med": rng.choice((100, 500, 1000, 5000)),
    }


def _lab3(rng: random.Random, _clients: Dict[str, int]) -> Roles:
    p, q = _odd_pair(rng)
    return {"a": p, "b": q}, {"fails": rng.choice(("a", "b")), "hold": rng.choice(HOLD_TIMES)}


def _lab4(rng: random.Random, _clients: Dict[str, int]) -> Roles:
    p, q = _odd_pair(rng)
    return {"a": p, "b": q}, {"fails": rng.choice(("a", "b"))}


def _lab5(rng: random.Random, clients: Dict[str, int]) -> Roles:
    while True:
        pos = dict(zip("abc", sorted(rng.sample(range(CHAIN), 3)), strict=True))
        fails, shifts = rng.sample("abc", 2)
        count = rng.choice((1, 2, 3))
        every = {r: (p, 0) for r, p in pos.items()}
        base = reasoning.catchment(clients, every)
        down = reasoning.catchment(clients, {r: s for r, s in every.items() if r != fails})
        shifted = reasoning.catchment(clients, {**every, shifts: (pos[shifts], count)})
        if None in base.values() or None in down.values() or None in shifted.values():
            continue
        lost, moved = reasoning.moved(base, down), reasoning.moved(base, shifted)
        if moved and set(moved) != set(lost):
            return pos, {"fails": fails, "shifts": shifts, "count": count}


#: Lab 6's transits by the part they play: ``hub``, ``east`` and ``west`` are
#: tier-1s, but only the hub peers with both (east and west do not peer);
#: ``regional`` buys transit from the hub, ``edge`` from the regional.
LAB6_ROLES = ("hub", "east", "west", "regional", "edge")
#: Lab 6's links between transits: (role a, role b, rel) as a topology's ``rel``.
LAB6_LINKS = (
    ("hub", "east", "peer"),
    ("hub", "west", "peer"),
    ("regional", "hub", "customer-provider"),
    ("edge", "regional", "customer-provider"),
)
#: Lab 6's sites: ``near`` behind the east tier-1, ``far`` at the end of the hub's
#: customer chain (hub <- regional <- edge).  The hub's client is nearer to
#: ``near`` (through its peer) but reaches ``far`` (its customer's route); the
#: west tier-1's client follows the hub; east and west get no route to each
#: other's ISPs (a peer's route is not passed to another peer).
LAB6_SITES = {"near": "east", "far": "edge"}


def _lab6(rng: random.Random, _clients: Dict[str, int]) -> Roles:
    places = dict(zip(LAB6_ROLES, rng.sample(range(CHAIN), CHAIN), strict=True))
    links = [[places[a], places[b], rel] for a, b, rel in LAB6_LINKS]
    sites = {site: places[role] for site, role in LAB6_SITES.items()}
    return sites, {"roles": places, "links": links}


CHOOSERS: Dict[int, Callable[[random.Random, Dict[str, int]], Roles]] = {
    1: _lab1,
    2: _lab2,
    3: _lab3,
    4: _lab4,
    5: _lab5,
    6: _lab6,
}


def make_variant(lab: int, student: Optional[str] = None) -> Variant:
    """A student's variant of a lab.

    Args:
        lab: the lab number (1-6).
        student: the student ID (None: the reference variant).

    Returns:
        The variant: names, AS numbers, sites by role, the lab's parameters.

    Raises:
        KeyError: no such lab.
        InputError: the student ID is not acceptable (see :func:`check_student`).
    """
    check_student(student)
    rng = random.Random(seed_of(lab, student))
    transits, clients, anycast_asn = _internet(rng)
    positions = {c.name: c.pos for c in clients}
    roles, params = CHOOSERS[lab](rng, positions)
    names: List[str] = rng.sample(SITE_NAMES, len(roles))
    sites = {
        role: Site(name, pos, transits[pos].name)
        for (role, pos), name in zip(roles.items(), names, strict=True)
    }
    return Variant(lab, student, transits, clients, anycast_asn, sites, params)


def diagram(variant: Variant, roles: Optional[List[str]] = None) -> str:
    """The chain drawn in text: clients above their transits, sites below.

    Args:
        variant: the variant.
        roles: the site roles to draw (default: all).

    Returns:
        A few lines of text (monospace).
    """
    if "links" in variant.params:
        return policy_diagram(variant)
    width = max(len(t.name) for t in variant.transits) + 2
    width = max(width, max(len(c.name) for c in variant.clients) + 2, 9)
    shown = [variant.site[r] for r in (roles if roles is not None else list(variant.site))]
    row = lambda cells: "".join(c.center(width) for c in cells).rstrip()  # noqa: E731
    by_pos = {s.pos: s for s in shown}
    lines = [
        row(c.name for c in variant.clients),
        row("|" for _ in variant.clients),
        row(t.name for t in variant.transits),
        row(f"AS{t.asn}" for t in variant.transits),
        row("|" if t.pos in by_pos else "" for t in variant.transits),
        row(f"[{by_pos[t.pos].name}]" if t.pos in by_pos else "" for t in variant.transits),
    ]
    lines.insert(3, " " * (width // 2) + "-" * (width * (len(variant.transits) - 1) + 1))
    return "\n".join(lines)


def policy_diagram(variant: Variant) -> str:
    """Lab 6's internet drawn in text: tier-1s in a row, the hub's customer chain below.

    ``====`` joins peers; a ``|`` joins a customer (below) to its provider
    (above); sites hang below their transit in brackets.

    Args:
        variant: a lab 6 variant.

    Returns:
        A few lines of text (monospace).
    """
    t = {role: variant.transit_of(role) for role in LAB6_ROLES}
    sites = {variant.site[s].upstream: variant.site[s].name for s in LAB6_SITES}
    width = max(max(len(x.name) for x in variant.transits), 7) + 2
    link = "=" * 4

    def cell(text: str) -> str:
        return text.center(width)

    def row(*cells: str, sep: str = " " * len(link)) -> str:
        return sep.join(cell(c) for c in cells).rstrip()

    def below(name: str) -> str:
        return f"[{sites[name]}]" if name in sites else ""

    west, hub, east = t["west"], t["hub"], t["east"]
    peers = re.sub(  # one line of = from name to name
        r" *=+ *",
        lambda m: " " + "=" * (len(m.group()) - 2) + " ",
        row(west.name, hub.name, east.name, sep=link),
    )
    lines = [
        peers,
        row(f"AS{west.asn}", f"AS{hub.asn}", f"AS{east.asn}"),
        row("|" if below(west.name) else "", "|", "|" if below(east.name) else ""),
        row(below(west.name), t["regional"].name, below(east.name)),
        row("", f"AS{t['regional'].asn}"),
        row("", "|"),
        row("", t["edge"].name),
        row("", f"AS{t['edge'].asn}"),
        row("", "|" if below(t["edge"].name) else ""),
        row("", below(t["edge"].name)),
    ]
    return "\n".join(lines)
