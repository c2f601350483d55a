"""Per-student variants: the same lab with other names, numbers and roles.

``make_variant(lab, student)`` seeds a random generator from a hash of the
lab number and the student ID (an HMAC keyed with the course secret when
there is one, so that only its holders can compute a variant from an ID),
so a student always gets the same variant and two students (almost always)
get different ones: other transit, client and site names, other AS numbers,
sites behind other transits, another site that fails, another hold time or
prepend count.  Every variant is equivalent: the same lesson, the same
number of steps, and answers that the checker computes from the variant
(see :mod:`testbed.labs.reasoning`).  Without a student ID the reference
variant is used (the same for everyone: for a demo in class); ``reference``
itself, an empty ID and IDs with blanks are refused (:func:`check_student`),
so no ID can stand for the reference variant.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from testbed.errors import InputError
from testbed.labs import gslbdesign, reasoning, remedies, steering

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
#: Lab 7: transits in the chain and eyeball ISPs (one client each) it draws from.
LAB7_TRANSITS = (6, 7)
LAB7_ISPS = (5, 6, 7)
#: Lab 7's site roles (the topology lists the sites in this order).
LAB7_SITES = ("a", "b", "c")
#: Lab 7: packets/s of one attack source (one per AS that hosts the attack).
LAB7_RATES = (1000, 1200, 1500)
#: Lab 7: the most ASes with an attack source (a few thousand packets/s in all).
LAB7_MAX_SOURCES = 3
#: Lab 7: the chance of one extra link between two transits that are not neighbours,
#: and of an ISP being also a customer of a transit next to its own.
LAB7_CHORD, LAB7_MULTI = 0.5, 0.35
#: Lab 7: networks drawn for the answer aimed at before any answer will do.
LAB7_TRIES = 200


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

    # ---------------------------------------------------------- lab 7: load steering
    def load_net(self) -> steering.Net:
        """Lab 7: the network as :mod:`~testbed.labs.steering` reasons on it (named as rendered)."""
        p = self.params
        sites = {s.name: s.upstream for s in self.site.values()}
        capacity = {self.site[r].name: float(pps) for r, pps in p["capacity"].items()}
        return _lab7_net(
            self.transits, self.clients, p, sites, capacity, {a: p["rate"] for a in p["attackers"]}
        )

    def load_outcomes(self) -> List[steering.Outcome]:
        """Lab 7: the baseline, then every playbook action at every site (by reasoning)."""
        return steering.every_outcome(self.load_net())

    def load_answer(self) -> Dict[str, Any]:
        """Lab 7's answer, by reasoning: the action to take and the other sites it overloads.

        Returns:
            ``{"site", "action", "overloaded_after"}`` as ``answers.yaml`` has them (the
            first of the best actions, in the playbook's order).
        """
        net = self.load_net()
        outcomes = steering.every_outcome(net)
        target = steering.attacked(net)[0]
        site, action = steering.best_actions(outcomes, target)[0]
        after = steering.find(outcomes, site, action)
        assert after is not None
        return {
            "site": site,
            "action": action,
            "overloaded_after": sorted(steering.cascade(after, target)),
        }

    # --------------------------------------------------------- lab 8: TCP remedies
    def needs(self) -> Dict[str, remedies.Needs]:
        """Lab 8: each service's needs (answer key -> :class:`~testbed.labs.remedies.Needs`)."""
        return {s: remedies.Needs.of(data) for s, data in self.params["needs"].items()}

    def remedy_answer(self) -> Dict[str, Any]:
        """Lab 8's answers by reasoning: per service the fitting remedies and their worst figure."""
        out: Dict[str, Any] = {}
        for service, needs in self.needs().items():
            fit = remedies.fitting(needs)
            out[service] = fit
            out[f"{service}_recovery_s"] = max(remedies.expected(r).worst_s for r in fit)
        return out

    # ------------------------------------------------------ lab 9: anycast versus GSLB
    def design(self) -> gslbdesign.Design:
        """Lab 9: failure, target, budgets (:class:`~testbed.labs.gslbdesign.Design`)."""
        return gslbdesign.Design.of(self.params["design"])

    def gslb_answer(self) -> Dict[str, Any]:
        """Lab 9's answers by reasoning: the settings asked for, their worst case, who wins."""
        design = self.design()
        ttl, interval = design.best()
        return {
            "ttl": ttl,
            "interval": interval,
            "predicted_gslb_worst_s": gslbdesign.worst_gslb_s(ttl, interval, design.how),
            "faster": design.faster(),
        }

    def homes(self, client: Client) -> List[Transit]:
        """Lab 7: the transits a client's ISP is a customer of (its own first)."""
        second = self.params.get("second_home", {}).get(client.isp)
        return [self.transits[client.pos]] + ([self.transits[second]] if second is not None else [])

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


def seed_of(lab: int, student: Optional[str], secret: Optional[bytes] = None) -> int:
    """The generator seed of a student's variant of a lab (stable across machines).

    Args:
        lab: the lab number.
        student: the student ID (None: the reference variant).
        secret: the course secret.  Without it the seed is a plain SHA-256 of
            the lab and the ID, which anyone can compute for any ID; with it,
            HMAC-SHA256 keyed with the secret, which only its holders can.

    Returns:
        A 64-bit seed.
    """
    text = f"anycast-testbed lab {lab} student {student or REFERENCE}"
    if secret is None:
        digest = hashlib.sha256(text.encode()).digest()
    else:
        digest = hmac.new(secret, text.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


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


def _fail_and_shift(
    rng: random.Random, clients: Dict[str, int], accept: Callable[[List[str], List[str]], bool]
) -> Roles:
    """Three sites, one that fails and another that prepends 1-3 times (labs 5 and 8).

    Drawn until every client has a site in all three states and ``accept(lost,
    moved)`` holds for the clients the failure and the prepend move.
    """
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
        if accept(reasoning.moved(base, down), reasoning.moved(base, shifted)):
            return pos, {"fails": fails, "shifts": shifts, "count": count}


def _lab5(rng: random.Random, clients: Dict[str, int]) -> Roles:
    return _fail_and_shift(
        rng, clients, lambda lost, moved: bool(moved) and set(moved) != set(lost)
    )


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


def _lab8(rng: random.Random, clients: Dict[str, int]) -> Roles:
    """A te-shift and a failure that both move clients; the services' needs."""
    pos, params = _fail_and_shift(rng, clients, lambda lost, moved: bool(lost and moved))
    return pos, {**params, "needs": remedies.draw_needs(rng)}


def _lab9(rng: random.Random, clients: Dict[str, int]) -> Roles:
    """Three sites, one that fails and serves someone (no ties before or after); the design."""
    while True:
        pos = dict(zip("abc", sorted(rng.sample(range(CHAIN), 3)), strict=True))
        fails = rng.choice("abc")
        every = {r: (p, 0) for r, p in pos.items()}
        base = reasoning.catchment(clients, every)
        down = reasoning.catchment(clients, {r: s for r, s in every.items() if r != fails})
        if None in base.values() or None in down.values():
            continue
        if reasoning.moved(base, down):
            return pos, {"fails": fails, "design": gslbdesign.draw(rng)}


CHOOSERS: Dict[int, Callable[[random.Random, Dict[str, int]], Roles]] = {
    1: _lab1,
    2: _lab2,
    3: _lab3,
    4: _lab4,
    5: _lab5,
    6: _lab6,
    8: _lab8,
    9: _lab9,
}


# ------------------------------------------------------------- lab 7: load steering
def _lab7_net(
    transits: Tuple[Transit, ...],
    clients: Tuple[Client, ...],
    params: Dict[str, Any],
    sites: Dict[str, str],
    capacity: Dict[str, float],
    attack: Dict[str, float],
) -> steering.Net:
    """Lab 7's network for the reasoning, router IDs numbered as the plan numbers them.

    The plan numbers routers in the topology's order: the transits, (the
    anycast AS has none of its own), the ISPs in client order, then the sites.
    """
    links = [(a.name, b.name) for a, b in zip(transits, transits[1:], strict=False)]
    links += [(transits[i].name, transits[j].name) for i, j in params.get("chords", [])]
    second = params.get("second_home", {})
    for c in clients:
        links.append((c.isp, c.transit))
        if c.isp in second:
            links.append((c.isp, transits[second[c.isp]].name))
    order = [t.name for t in transits] + [c.isp for c in clients] + list(sites)
    return steering.Net(
        links=tuple(links),
        sites=dict(sites),
        clients={c.name: c.isp for c in clients},
        weights={c.name: float(params["weights"][c.name]) for c in clients},
        router_ids={name: i for i, name in enumerate(order, start=1)},
        capacity=dict(capacity),
        attack=dict(attack),
    )


def _lab7_internet(rng: random.Random) -> Tuple[Tuple[Transit, ...], Tuple[Client, ...], int]:
    """Lab 7's chain (6 or 7 transits) and its ISPs (5-7), each on a transit drawn at random."""
    count, isps = rng.choice(LAB7_TRANSITS), rng.choice(LAB7_ISPS)
    names, asns = rng.sample(TRANSIT_NAMES, count), rng.sample(range(65000, 65500), count)
    transits = tuple(Transit(n, a, i) for i, (n, a) in enumerate(zip(names, asns, strict=True)))
    cnames, casns = rng.sample(CLIENT_NAMES, isps), rng.sample(range(64512, 65000), isps)
    homes = [rng.randrange(count) for _ in cnames]
    drawn = sorted(zip(homes, cnames, casns, strict=True))
    clients = tuple(Client(n, f"isp-{n}", a, p, transits[p].name) for p, n, a in drawn)
    return transits, clients, rng.randrange(64496, 64512)


def _lab7(
    rng: random.Random,
) -> Tuple[Tuple[Transit, ...], Tuple[Client, ...], int, Dict[str, int], Dict[str, Any]]:
    """Lab 7: a network, an attack that overloads one site, and capacities.

    The answer aimed at (which playbook action, and whether it overloads
    another site) is drawn first, so that every shape is as likely; networks
    are drawn until one allows it (after :data:`LAB7_TRIES`, any answer will do).

    Returns:
        (transits, clients, anycast ASN, site role -> transit position, params).
    """
    want: Optional[str] = rng.choice(steering.ACTIONS)
    cascade = rng.random() < 0.5
    for tries in range(10 * LAB7_TRIES):
        if tries == LAB7_TRIES:
            want = None
        drawn = _lab7_draw(rng, want, cascade)
        if drawn is not None:
            return drawn
    raise RuntimeError("no lab 7 network found")  # a unit test draws 1,000 IDs


def _lab7_draw(
    rng: random.Random, want: Optional[str], cascade: bool
) -> Optional[Tuple[Tuple[Transit, ...], Tuple[Client, ...], int, Dict[str, int], Dict[str, Any]]]:
    """One try of :func:`_lab7` (None: this network does not allow the answer aimed at)."""
    transits, clients, anycast_asn = _lab7_internet(rng)
    count = len(transits)
    second: Dict[str, int] = {}
    for c in clients:
        if rng.random() < LAB7_MULTI:
            second[c.isp] = rng.choice([p for p in (c.pos - 1, c.pos + 1) if 0 <= p < count])
    chords: List[List[int]] = []
    if rng.random() < LAB7_CHORD:
        chords.append(list(rng.choice([(i, j) for i in range(count) for j in range(i + 2, count)])))
    positions = dict(zip(LAB7_SITES, rng.sample(range(count), len(LAB7_SITES)), strict=True))
    params: Dict[str, Any] = {
        "second_home": second,
        "chords": chords,
        "weights": {c.name: rng.randint(1, 9) for c in clients},
        "rate": rng.choice(LAB7_RATES),
    }
    sites = {role: transits[pos].name for role, pos in positions.items()}
    net = _lab7_net(transits, clients, params, sites, {}, {})
    base = steering.outcome(net)
    if set(base.catchment.values()) != set(LAB7_SITES):
        return None  # every site serves someone
    for target in rng.sample(LAB7_SITES, len(LAB7_SITES)):
        placed = _lab7_place(rng, net, base, target, want, cascade)
        if placed is None:
            continue
        capacity, sources = placed
        params["capacity"] = {r: int((m + 0.5) * params["rate"]) for r, m in capacity.items()}
        params["attackers"] = sorted(net.clients[c] for c in sources)
        return transits, clients, anycast_asn, positions, params
    return None


def _lab7_place(
    rng: random.Random,
    net: steering.Net,
    base: steering.Outcome,
    target: str,
    want: Optional[str],
    cascade: bool,
) -> Optional[Tuple[Dict[str, int], List[str]]]:
    """Attack sources and capacities that make ``want`` at ``target`` lab 7's answer.

    Capacities are counted in sources: a site of capacity ``m`` takes ``m + 0.5``
    sources' rate, so it is overloaded with ``m + 1`` sources and at least half
    a source's rate under capacity with ``m`` (the clients' own packets fit in
    that half).  Every source is in a client's ISP.

    Returns:
        (site role -> capacity in sources, the clients whose ISPs host a source),
        or None when the network does not allow it.
    """
    mine = sorted(c for c, s in base.catchment.items() if s == target)
    moved: List[Set[str]] = [set()]
    moved += [set(steering.outcome(net, target, a, base).moved) for a in steering.ACTIONS]
    last = len(moved) - 1
    steps = [  # the action moves someone new, and the next one more again: one answer
        k
        for k in range(1, last + 1)
        if moved[k] - moved[k - 1] and (k == last or moved[k + 1] - moved[k])
    ]
    if want is not None:
        steps = [k for k in steps if steering.ACTIONS[k - 1] == want]
    if not steps:
        return None
    k = rng.choice(steps)
    first = rng.choice(sorted(moved[k] - moved[k - 1]))
    others = [c for c in mine if c != first]
    sources = [first] + rng.sample(others, min(rng.randint(0, 2), len(others)))
    outside = sorted(c for c, s in base.catchment.items() if s != target)
    if outside and len(sources) < LAB7_MAX_SOURCES and rng.random() < 0.5:
        sources.append(rng.choice(outside))
    at_target = [c for c in sources if c in mine]
    left = [sum(1 for c in at_target if c not in moved[j]) for j in range(len(moved))]
    capacity = {target: rng.randint(left[k], left[k - 1] - 1)}
    after = steering.outcome(net, target, steering.ACTIONS[k - 1], base).catchment
    before_n = {s: sum(1 for c in sources if base.catchment[c] == s) for s in LAB7_SITES}
    after_n = {s: sum(1 for c in sources if after[c] == s) for s in LAB7_SITES}
    grown = [s for s in LAB7_SITES if s != target and after_n[s] > before_n[s]]
    over = set(rng.sample(grown, rng.randint(1, len(grown)))) if cascade and grown else set()
    for s in LAB7_SITES:
        if s == target:
            continue
        if s in over:
            capacity[s] = rng.randint(before_n[s], after_n[s] - 1)
        else:
            capacity[s] = max(after_n[s], 1) + rng.randint(0, 1)
    return capacity, sources


def make_variant(
    lab: int,
    student: Optional[str] = None,
    secret: Optional[bytes] = None,
    seed: Optional[int] = None,
) -> Variant:
    """A student's variant of a lab.

    Args:
        lab: the lab number (1-9).
        student: the student ID (None: the reference variant).
        secret: the course secret that salts the seed (see :func:`seed_of`).
        seed: the seed itself, as a working copy records it (overrides the two above).

    Returns:
        The variant: names, AS numbers, sites by role, the lab's parameters.

    Raises:
        KeyError: no such lab.
        InputError: the student ID is not acceptable (see :func:`check_student`).
    """
    check_student(student)
    rng = random.Random(seed if seed is not None else seed_of(lab, student, secret))
    if lab == 7:
        transits, clients, anycast_asn, roles, params = _lab7(rng)
    else:
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
    if "chords" in variant.params:
        return load_diagram(variant)
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


def load_diagram(variant: Variant) -> str:
    """Lab 7's internet drawn in text: the chain, each ISP's client above its transit, sites below.

    A client is drawn as ``name weight`` above the transit its ISP is a
    customer of, marked ``+`` when the ISP is also a customer of a
    neighbouring transit and ``!`` when the ISP hosts an attack source;
    sites hang below their transit with their capacity; extra transit links
    are listed under the drawing.

    Args:
        variant: a lab 7 variant.

    Returns:
        A few lines of text (monospace).
    """
    p = variant.params
    second, attack = p.get("second_home", {}), set(p.get("attackers", []))
    label = {
        c.name: f"{c.name} {p['weights'][c.name]}"
        + ("+" if c.isp in second else "")
        + ("!" if c.isp in attack else "")
        for c in variant.clients
    }
    above: Dict[int, List[str]] = {t.pos: [] for t in variant.transits}
    for c in variant.clients:
        above[c.pos].append(label[c.name])
    sites = {s.pos: (s.name, p["capacity"][role]) for role, s in variant.site.items()}
    cells = [t.name for t in variant.transits] + list(label.values())
    width = max(max(len(x) for x in cells) + 2, 11)
    row = lambda items: "".join(x.center(width) for x in items).rstrip()  # noqa: E731
    lines = []
    for level in reversed(range(max(len(v) for v in above.values()))):
        lines.append(
            row(above[t.pos][level] if level < len(above[t.pos]) else "" for t in variant.transits)
        )
    lines.append(row("|" if above[t.pos] else "" for t in variant.transits))
    lines.append(  # the chain: one line of - from name to name
        re.sub(
            r"(?<=\S) +(?=\S)",
            lambda m: " " + "-" * (len(m.group()) - 2) + " ",
            row(t.name for t in variant.transits),
        )
    )
    lines.append(row(f"AS{t.asn}" for t in variant.transits))
    lines.append(row("|" if t.pos in sites else "" for t in variant.transits))
    lines.append(row(f"[{sites[t.pos][0]}]" if t.pos in sites else "" for t in variant.transits))
    lines.append(
        row(f"{sites[t.pos][1]} pkt/s" if t.pos in sites else "" for t in variant.transits)
    )
    for i, j in p.get("chords", []):
        lines.append(f"also linked: {variant.transits[i].name} -- {variant.transits[j].name}")
    for c in variant.clients:
        if c.isp in second:
            lines.append(
                f"{c.name}+: {c.isp} is also a customer of {variant.transits[second[c.isp]].name}"
            )
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
