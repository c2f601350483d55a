"""Per-student variants: the same lab with other names, numbers and roles.

``make_variant(lab, student)`` seeds a random generator from a hash of the
lab number and the student ID (an HMAC keyed with the course secret when
there is one, so that only its holders can compute a variant from an ID),
so a student always gets the same variant and two students (almost always)
get different ones: other transit, client and site names, other AS numbers,
sites behind other transits, another site that fails, another hold time or
prepend count, another service restart and outage budget (lab 4); in labs
1-5 and 7 another internet too (the chain's length, the ISPs on each
transit, ISPs on two transits, a chord; in labs 1-5 the links' delays), so
that the answers differ in shape, not only in names.
Every variant is equivalent: the same lesson, the same number of steps,
and answers that the checker computes from the variant (see
:mod:`testbed.labs.reasoning`).  Without a student ID the reference
variant is used (the same for everyone: for a demo in class); ``reference``
itself, an empty ID and IDs with blanks are refused (:func:`check_student`),
so no ID can stand for the reference variant.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from testbed.errors import InputError
from testbed.labs import gslbdesign, healthdesign, reasoning, remedies, steering

#: Lab 6: transit ASes in the chain, and so clients (one per transit).
CHAIN = 5
#: The labs whose internet is drawn in structure (:func:`_structured`), not only in names.
STRUCTURED = (1, 2, 3, 4, 5, 8, 9)
#: Labs 1-5, 8 and 9: transits in the chain, ISPs (one client each) on one transit, ISPs in all.
CHAINS = (5, 6, 7)
PER_TRANSIT = (0, 1, 2)
ISPS = (4, 7)
#: Labs 1-5, 8 and 9: the chance of an ISP being also a customer of a transit next to its own,
#: and of one more link (a chord) between two transits that are not neighbours.
MULTI, CHORD = 0.3, 0.4
#: Labs 1-5, 8 and 9: the one-way delays (ms) a link between transits is drawn from.
DELAYS_MS = (2, 3, 5, 8, 12, 18, 25, 35, 45)
#: The delay of every link between transits where none is drawn (ms).
CHAIN_DELAY_MS = 10
#: Labs 1-5, 8 and 9: placements tried on one drawn internet before another is drawn.
PLACE_TRIES = 12
#: Lab 1: link failures that change someone's site, at least (the check draws from them).
LAB1_MOVING = 2
#: Lab 2: the fewest prepends a variant asks for (drawn first, as lab 7 draws its answer).
LAB2_PREPENDS = (1, 2, 3, 4, 5)
#: Lab 2: internets drawn for the fewest prepends aimed at before any count will do.
LAB2_TRIES = 300
#: Lab 2: link failures that change someone's site with the fewest prepends in place,
#: at least (the check draws from them).
LAB2_MOVING = 2
#: Lab 5: how its site fails (a silent failure costs UDP a hold time).
LAB5_HOW = ("link-down", "silent")
#: Lab 5's hold time (s) by failure kind: a silent site's longer than the TCP
#: streams' 3 s timeout, so a stream to it times out before BGP moves its
#: client (no reset, then a new connection elsewhere), never in a race with it.
LAB5_HOLD = {"link-down": 3, "silent": 5}
#: Lab 5: site failures and prepends that move somebody (no ties), at least each
#: (the check draws one of each when it runs).
LAB5_CASES = 2
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
#: Each lab's variant generation (1 where not listed): bumped when the variants a
#: lab draws change, so that ``lab check`` tells a working copy made before the
#: change to start again instead of taking it for an edited one. Labs 1-5 drew
#: a chain of five transits with one ISP each in generation 1; lab 3 gained its
#: BFD design (a budget and a multiplier) in generation 3; lab 4 drew no
#: service restart, outage budget and agent to reason about in generation 2;
#: lab 1 drew no link failures to predict in generation 2; lab 5 did not need
#: two failures and two prepends for its check to draw from in generation 2;
#: lab 6 drew no link failures to predict in generation 1; labs 8 and 9 drew a
#: plain chain in generation 1; lab 2 drew no link failures to predict in generation 2.
GENERATION: Dict[int, int] = {1: 3, 2: 3, 3: 3, 4: 3, 5: 3, 6: 2, 8: 2, 9: 2}
#: Longest student ID accepted.
STUDENT_MAX = 64
#: Hold times (s) lab 3 draws from: keepalive 1 s, silent outage about the hold.
HOLD_TIMES = (3, 4, 5, 6, 7, 8)
#: Lab 3: the operator's BFD detect multipliers a variant draws from.
LAB3_MULTIPLIERS = (3, 4, 5)
#: Lab 3: the largest BFD intervals (ms) a variant's outage budget is made for.
LAB3_INTERVALS_MS = tuple(range(50, 160, 10))
#: Lab 3: what a budget leaves BGP after BFD's detection (ms): withdraw and converge.
LAB3_RESERVE_MS = 400
#: Lab 3: the largest outage budget a variant draws (ms): failover under a second.
LAB3_MAX_BUDGET_MS = 1000
#: Lab 3: a BFD detection time may leave at most this much of the budget unused (ms).
LAB3_SLACK_MS = 500
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

    def transit_links(self) -> List[Tuple[Transit, Transit, int]]:
        """The links between transits with their one-way delays (ms): the chain, then chords."""
        pairs = list(zip(self.transits, self.transits[1:], strict=False))
        pairs += [(self.transits[i], self.transits[j]) for i, j in self.params.get("chords", [])]
        delays = self.params.get("delays") or [CHAIN_DELAY_MS] * len(pairs)
        return [(a, b, ms) for (a, b), ms in zip(pairs, delays, strict=True)]

    def links(self) -> List[Tuple[str, str]]:
        """Every pair of neighbouring ASes but the anycast AS (:func:`_as_links`)."""
        return _as_links(self.transits, self.clients, self.params)

    def router_ids(self) -> Dict[str, int]:
        """AS or site -> its router's ID as a rank, as the plan numbers the rendered topology."""
        return _router_ids(self.transits, self.clients, [s.name for s in self.site.values()])

    def shortest(
        self,
        *roles: str,
        prepend: Optional[Dict[str, int]] = None,
        decided: bool = True,
        down: Sequence[Tuple[str, str]] = (),
    ) -> reasoning.Routing:
        """Every AS's best route by the shortest AS path, only the given sites announcing.

        Args:
            roles: site roles (all the variant's sites when none is given).
            prepend: prepend count per role (default 0).
            decided: ties decided by router ID, as the routers decide them; else
                left undecided (:attr:`reasoning.Routing.ties`).
            down: links between ASes that are down (either order).
        """
        prepend = prepend or {}
        cut = {frozenset(pair) for pair in down}
        rel: Dict[Tuple[str, str], str] = {}
        for a, b in self.links():
            if frozenset((a, b)) not in cut:
                rel[(a, b)] = rel[(b, a)] = "peer"  # no policy: only the shape counts
        sites = {
            self.site[r].name: ([self.site[r].upstream], prepend.get(r, 0))
            for r in roles or self.site
        }
        ids = self.router_ids() if decided else None
        return reasoning.best_routes(rel, sites, policy=False, router_ids=ids)

    def catchment(
        self,
        *roles: str,
        prepend: Optional[Dict[str, int]] = None,
        decided: bool = True,
        down: Sequence[Tuple[str, str]] = (),
    ) -> Dict[str, Optional[str]]:
        """Each client's site by the shortest AS path (see :meth:`shortest`; None: a tie)."""
        routing = self.shortest(*roles, prepend=prepend, decided=decided, down=down)
        return {c.name: routing.site_of(c.isp) for c in self.clients}

    def link_outcomes(
        self, prepend: Optional[Dict[str, int]] = None
    ) -> List[Tuple[Tuple[str, str], List[str]]]:
        """Labs 1 and 2: per link between transits whose failure no tie decides for any
        client, the clients whose site changes while it is down (to the other site, or none).

        While such a link is down every client has one best site, or none at
        all (the failure cut its ISP off from both sites).  ``prepend``: prepend
        count per role, in place before and during the failure (default none:
        lab 1; lab 2 asks with :meth:`backup_prepend`).
        """
        return self._outcomes(
            [(a.name, b.name) for a, b, _ms in self.transit_links()],
            self.catchment(prepend=prepend),
            lambda down: self.shortest(prepend=prepend, decided=False, down=down),
        )

    def _outcomes(
        self,
        links: Sequence[Tuple[str, str]],
        base: Dict[str, Optional[str]],
        route: Callable[[Sequence[Tuple[str, str]]], reasoning.Routing],
    ) -> List[Tuple[Tuple[str, str], List[str]]]:
        """Per link of ``links`` whose failure (``route(down)``, ties left undecided) no tie
        decides for any client: the clients whose site differs from ``base`` while it is down."""
        out = []
        for link in links:
            routing = route([link])
            if any(c.isp in routing.ties for c in self.clients):
                continue
            changed = sorted(c.name for c in self.clients if routing.site_of(c.isp) != base[c.name])
            out.append((link, changed))
        return out

    def link_cases(self, prepend: Optional[Dict[str, int]] = None) -> List[Tuple[str, str]]:
        """Labs 1 and 2: the links of :meth:`link_outcomes` (those the predictions ask about)."""
        return [link for link, _changed in self.link_outcomes(prepend)]

    def changed_if_down(
        self, link: Tuple[str, str], prepend: Optional[Dict[str, int]] = None
    ) -> List[str]:
        """Labs 1 and 2: the clients whose site changes while ``link`` is down (or who have
        none), with ``prepend`` (count per role) in place."""
        before = self.catchment(prepend=prepend)
        after = self.catchment(prepend=prepend, down=[link])
        return sorted(c for c in before if after[c] != before[c])

    def moving_cases(self, prepend: Optional[Dict[str, int]] = None) -> List[Tuple[str, str]]:
        """Labs 1 and 2: the :meth:`link_cases` whose failure changes some client's site."""
        return [link for link, changed in self.link_outcomes(prepend) if changed]

    def backup_prepend(self) -> Dict[str, int]:
        """Lab 2: the prepends of its solution (the backup's fewest), per role."""
        return {"backup": self.params["min_prepend"]}

    def fewest_prepend(self, primary: str, backup: str) -> int:
        """Lab 2: the fewest prepends on ``backup`` that leave every client strictly on ``primary``.

        A client's ISP reaches a lone site over its AS-path length; it stays on
        the primary with ``k`` prepends on the backup when the primary's
        length is shorter than the backup's plus ``k`` (equal is a tie).
        """
        alone = {r: self.shortest(r) for r in (primary, backup)}
        worst = max(
            _length(alone[primary], c.isp) - _length(alone[backup], c.isp) for c in self.clients
        )
        return max(0, worst + 1)

    # ---------------------------------------------------------- lab 5: TCP versus UDP
    def moved_if_fails(self, role: str) -> List[str]:
        """Lab 5: the clients whose site changes when the site of ``role`` fails."""
        after = self.catchment(*[r for r in self.site if r != role])
        return list(reasoning.moved(self.catchment(), after))

    def moved_if_prepends(self, role: str) -> List[str]:
        """Lab 5: the clients whose site changes when ``role`` prepends the variant's count."""
        after = self.catchment(prepend={role: self.params["count"]})
        return list(reasoning.moved(self.catchment(), after))

    def failure_cases(self) -> List[str]:
        """Lab 5: the site roles whose failure moves somebody, no tie deciding any
        client's site before or after (the check draws one of them)."""
        return [r for r in self.site if _moves_clearly(self, *[x for x in self.site if x != r])]

    def prepend_cases(self) -> List[str]:
        """Lab 5: the same for a prepend of the variant's count (the check draws one)."""
        count = self.params["count"]
        return [r for r in self.site if _moves_clearly(self, prepend={r: count})]

    # ------------------------------------------- lab 6: business relationships
    def transit_of(self, role: str) -> Transit:
        """Lab 6: the transit that plays ``role`` (:data:`LAB6_ROLES`)."""
        return self.transits[self.params["roles"][role]]

    def relationships(self, down: Sequence[Tuple[str, str]] = ()) -> Dict[Tuple[str, str], str]:
        """Lab 6: (AS, neighbour AS) -> what the neighbour is to the AS, both ways.

        The transits' links as :data:`LAB6_LINKS` declares them, and every ISP
        a customer of its transit (the anycast AS is left out: its sites are
        the origins of :func:`reasoning.best_routes`).

        Args:
            down: links between transits that are down (either order): left out both ways.
        """
        cut = {frozenset(pair) for pair in down}
        rel: Dict[Tuple[str, str], str] = {}
        for a, b, what in self.params.get("links", []):
            x, y = self.transits[a].name, self.transits[b].name
            if frozenset((x, y)) in cut:
                continue
            if what == "peer":
                rel[(x, y)] = rel[(y, x)] = "peer"
            else:  # customer-provider: x buys transit from y
                rel[(x, y)], rel[(y, x)] = "provider", "customer"
        for c in self.clients:
            rel[(c.isp, c.transit)], rel[(c.transit, c.isp)] = "provider", "customer"
        return rel

    def routing(
        self, policy: bool = True, down: Sequence[Tuple[str, str]] = ()
    ) -> reasoning.Routing:
        """Lab 6: every AS's best route, with relationships or by the shortest AS path alone.

        Ties are left undecided (:attr:`reasoning.Routing.ties`), as lab 6 draws
        none; ``down``: links between transits that are down.
        """
        sites = {s.name: ([s.upstream], 0) for s in self.site.values()}
        return reasoning.best_routes(self.relationships(down), sites, policy=policy)

    def policy_catchment(
        self, policy: bool = True, down: Sequence[Tuple[str, str]] = ()
    ) -> Dict[str, Optional[str]]:
        """Lab 6: each client's site (None: no route, or a tie), with or without relationships."""
        routing = self.routing(policy, down)
        return {c.name: routing.site_of(c.isp) for c in self.clients}

    def policy_links(self) -> List[Tuple[str, str]]:
        """Lab 6: the links between transits, named as :data:`LAB6_LINKS` orders them."""
        return [(self.transits[a].name, self.transits[b].name) for a, b, _ in self.params["links"]]

    def policy_link_outcomes(self) -> List[Tuple[Tuple[str, str], List[str]]]:
        """Lab 6: per link between transits whose failure no tie decides for any client,
        the clients whose site changes while it is down under the relationships (to the
        other site, or none: the failure left their ISP without a route valley-free export
        allows).
        """
        return self._outcomes(
            self.policy_links(), self.policy_catchment(), lambda down: self.routing(down=down)
        )

    def policy_link_cases(self) -> List[Tuple[str, str]]:
        """Lab 6: the links of :meth:`policy_link_outcomes` (those ``predictions.yaml`` asks)."""
        return [link for link, _changed in self.policy_link_outcomes()]

    def policy_changed_if_down(self, link: Tuple[str, str]) -> List[str]:
        """Lab 6: the clients whose site changes while ``link`` is down (or who have none)."""
        before, after = self.policy_catchment(), self.policy_catchment(down=[link])
        return sorted(c for c in before if after[c] != before[c])

    def policy_moving_cases(self) -> List[Tuple[str, str]]:
        """Lab 6: the :meth:`policy_link_cases` whose failure changes some client's site."""
        return [link for link, changed in self.policy_link_outcomes() if changed]

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

    # ------------------------------------------------------------ lab 4: health checks
    def health_design(self) -> healthdesign.Design:
        """Lab 4: the service restart, the outage budget, the agent asked about."""
        return healthdesign.Design.of(self.params)

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
        """The transits a client's ISP is a customer of (its own first)."""
        second = self.params.get("second_home", {}).get(client.isp)
        return [self.transits[client.pos]] + ([self.transits[second]] if second is not None else [])

    def as_dict(self) -> Dict[str, Any]:
        """Plain data (for ``.lab.json``, templates and ``--json``)."""
        return asdict(self)


def generation(lab: int) -> int:
    """The generation of the variants this code draws for ``lab`` (:data:`GENERATION`)."""
    return GENERATION.get(lab, 1)


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


def _as_links(
    transits: Tuple[Transit, ...], clients: Tuple[Client, ...], params: Dict[str, Any]
) -> List[Tuple[str, str]]:
    """Neighbouring ASes: the chain, its chords (``params["chords"]``), every ISP's transits."""
    links = [(a.name, b.name) for a, b in zip(transits, transits[1:], strict=False)]
    links += [(transits[i].name, transits[j].name) for i, j in params.get("chords", [])]
    second = params.get("second_home", {})
    for c in clients:
        links.append((c.isp, c.transit))
        if c.isp in second:
            links.append((c.isp, transits[second[c.isp]].name))
    return links


def _router_ids(
    transits: Tuple[Transit, ...], clients: Tuple[Client, ...], sites: List[str]
) -> Dict[str, int]:
    """Router IDs as ranks, as the plan numbers a lab topology's routers.

    The plan numbers routers in the topology's order: the transits, (the
    anycast AS has none of its own), the ISPs in client order, then the sites.
    """
    order = [t.name for t in transits] + [c.isp for c in clients] + sites
    return {name: i for i, name in enumerate(order, start=1)}


def _length(routing: reasoning.Routing, asys: str) -> int:
    """The AS-path length of an AS's best route (every lab internet is connected)."""
    route = routing.routes[asys]
    assert route is not None
    return len(route.path)


def _internet(rng: random.Random) -> Variant:
    """Lab 6: a chain of :data:`CHAIN` transits, one ISP on each (no sites yet)."""
    names = rng.sample(TRANSIT_NAMES, CHAIN)
    asns = rng.sample(range(65000, 65500), CHAIN)
    transits = tuple(Transit(n, a, i) for i, (n, a) in enumerate(zip(names, asns, strict=True)))
    cnames = rng.sample(CLIENT_NAMES, CHAIN)
    casns = rng.sample(range(64512, 65000), CHAIN)
    clients = tuple(
        Client(n, f"isp-{n}", a, i, transits[i].name)
        for i, (n, a) in enumerate(zip(cnames, casns, strict=True))
    )
    return Variant(0, None, transits, clients, rng.randrange(64496, 64512))


def _shortcuts(
    rng: random.Random, clients: Tuple[Client, ...], count: int, multi: float, chord: float
) -> Tuple[Dict[str, int], List[List[int]]]:
    """Second homes (ISP -> a transit next to its own) and chords (two transits apart or more).

    Args:
        rng: the variant's generator.
        clients: the clients, on a chain of ``count`` transits.
        count: the chain's length.
        multi: each ISP's chance of a second home.
        chord: the chance of one chord.
    """
    second: Dict[str, int] = {}
    for c in clients:
        if rng.random() < multi:
            second[c.isp] = rng.choice([p for p in (c.pos - 1, c.pos + 1) if 0 <= p < count])
    chords: List[List[int]] = []
    if rng.random() < chord:
        chords.append(list(rng.choice([(i, j) for i in range(count) for j in range(i + 2, count)])))
    return second, chords


def _structured(rng: random.Random) -> Variant:
    """Labs 1-5, 8 and 9: an internet drawn in structure (no sites yet).

    A chain of 5-7 transits (:data:`CHAINS`), 0-2 ISPs with one client each
    on every transit (4-7 in all), some ISPs also customers of a transit next
    to their own (:data:`MULTI`), sometimes a chord (:data:`CHORD`), and a
    delay on every link between transits (:data:`DELAYS_MS`).
    """
    count = rng.choice(CHAINS)
    per = [rng.choice(PER_TRANSIT) for _ in range(count)]
    while not ISPS[0] <= sum(per) <= ISPS[1]:
        per = [rng.choice(PER_TRANSIT) for _ in range(count)]
    names, asns = rng.sample(TRANSIT_NAMES, count), rng.sample(range(65000, 65500), count)
    transits = tuple(Transit(n, a, i) for i, (n, a) in enumerate(zip(names, asns, strict=True)))
    homes = [pos for pos, n in enumerate(per) for _ in range(n)]
    cnames, casns = (
        rng.sample(CLIENT_NAMES, len(homes)),
        rng.sample(range(64512, 65000), len(homes)),
    )
    clients = tuple(
        Client(n, f"isp-{n}", a, p, transits[p].name)
        for p, n, a in zip(homes, cnames, casns, strict=True)
    )
    second, chords = _shortcuts(rng, clients, count, MULTI, CHORD)
    delays = [rng.choice(DELAYS_MS) for _ in range(count - 1 + len(chords))]
    params = {"second_home": second, "chords": chords, "delays": delays}
    return Variant(0, None, transits, clients, rng.randrange(64496, 64512), params=params)


def _placed(net: Variant, positions: Dict[str, int]) -> Variant:
    """``net`` with a site per role (named as the role) behind the transit at its position."""
    sites = {r: Site(r, p, net.transits[p].name) for r, p in positions.items()}
    return replace(net, site=sites)


def _clear(
    v: Variant, *roles: str, prepend: Optional[Dict[str, int]] = None
) -> Optional[Dict[str, Optional[str]]]:
    """Each client's site when no tie decides any client's (else None)."""
    seen = v.catchment(*roles, prepend=prepend, decided=False)
    return None if None in seen.values() else seen


def _moves_clearly(v: Variant, *roles: str, prepend: Optional[Dict[str, int]] = None) -> bool:
    """From every site announcing to ``roles`` with ``prepend``, some client's site changes,
    and no tie decides any client's site before or after."""
    base, after = _clear(v), _clear(v, *roles, prepend=prepend)
    return base is not None and after is not None and bool(reasoning.moved(base, after))


Roles = Tuple[Dict[str, int], Dict[str, Any]]
Drawn = Tuple[Variant, Roles]


def _two_sites(
    rng: random.Random, net: Variant, roles: Tuple[str, str]
) -> Optional[Dict[str, int]]:
    """Two sites that both serve someone, no client's site decided by a tie (None: none found)."""
    for _ in range(PLACE_TRIES):
        pos = dict(zip(roles, rng.sample(range(len(net.transits)), 2), strict=True))
        seen = _clear(_placed(net, pos))
        if seen is not None and set(seen.values()) == set(roles):
            return pos
    return None


def _lab1(rng: random.Random) -> Drawn:
    """Two sites, and at least :data:`LAB1_MOVING` link failures that change someone's site."""
    while True:
        net = _structured(rng)
        for _ in range(PLACE_TRIES):
            pos = _two_sites(rng, net, ("first", "second"))
            if pos is not None and len(_placed(net, pos).moving_cases()) >= LAB1_MOVING:
                return net, (pos, {})


def _lab2(rng: random.Random) -> Drawn:
    """A primary and a backup whose fewest prepends is a count drawn first (1-5), and at
    least :data:`LAB2_MOVING` link failures that change someone's site with them in place.

    A fewest of 1 needs a client that ties with no prepend: the routers
    decide it by router ID, and so does the reasoning (:meth:`Variant.catchment`);
    with any other count no client's site is decided by a tie.
    """
    want: Optional[int] = rng.choice(LAB2_PREPENDS)
    for tries in range(10 * LAB2_TRIES):
        if tries == LAB2_TRIES:
            want = None
        net = _structured(rng)
        for _ in range(PLACE_TRIES):
            pos = dict(
                zip(("primary", "backup"), rng.sample(range(len(net.transits)), 2), strict=True)
            )
            v = _placed(net, pos)
            fewest = v.fewest_prepend("primary", "backup")
            if fewest < 1 or want not in (None, fewest):
                continue
            if fewest != 1 and _clear(v) is None:  # a tie only where the count needs one
                continue
            if len(v.moving_cases({"backup": fewest})) >= LAB2_MOVING:
                med = rng.choice((100, 500, 1000, 5000))
                return net, (pos, {"min_prepend": fewest, "med": med})
    raise RuntimeError("no lab 2 network found")  # a unit test draws 1,000 IDs


def _lab3(rng: random.Random) -> Drawn:
    while True:
        net = _structured(rng)
        pos = _two_sites(rng, net, ("a", "b"))
        if pos is not None:
            params: Dict[str, Any] = {
                "fails": rng.choice(("a", "b")),
                "hold": rng.choice(HOLD_TIMES),
            }
            params.update(lab3_budget(rng))
            return net, (pos, params)


def lab3_budget(rng: random.Random) -> Dict[str, int]:
    """Lab 3's BFD design: the operator's multiplier, an outage budget (ms), its rules.

    The budget is made for a largest interval of 50-150 ms: detection
    (interval x multiplier) plus :data:`LAB3_RESERVE_MS` for BGP, at most
    :data:`LAB3_MAX_BUDGET_MS`.  ``reserve_ms`` and ``slack_ms`` are the
    rules the hand-out states (not drawn).
    """
    multiplier = rng.choice(LAB3_MULTIPLIERS)
    fits = [i for i in LAB3_INTERVALS_MS if LAB3_RESERVE_MS + multiplier * i <= LAB3_MAX_BUDGET_MS]
    largest = rng.choice(fits)
    return {
        "multiplier": multiplier,
        "budget_ms": LAB3_RESERVE_MS + multiplier * largest,
        "reserve_ms": LAB3_RESERVE_MS,
        "slack_ms": LAB3_SLACK_MS,
    }


def _lab4(rng: random.Random) -> Drawn:
    """Two sites and the one whose servers die (the restart and budget: :data:`LAST`)."""
    while True:
        net = _structured(rng)
        pos = _two_sites(rng, net, ("a", "b"))
        if pos is not None:
            return net, (pos, {"fails": rng.choice(("a", "b"))})


def _fail_and_shift(
    rng: random.Random,
    net: Variant,
    accept: Callable[[List[str], List[str]], bool],
    tries: Optional[int] = None,
    also: Optional[Callable[[Variant], bool]] = None,
) -> Optional[Roles]:
    """Three sites, one that fails and another that prepends 1-3 times (labs 5 and 8).

    Drawn until no tie decides any client's site in all three states and
    ``accept(lost, moved)`` holds for the clients the failure and the prepend
    move, and ``also`` for the placed variant with its parameters (at most
    ``tries`` times; None: until then).
    """
    n = 0
    while tries is None or n < tries:
        n += 1
        pos = dict(zip("abc", sorted(rng.sample(range(len(net.transits)), 3)), strict=True))
        fails, shifts = rng.sample("abc", 2)
        count = rng.choice((1, 2, 3))
        v = _placed(net, pos)
        base = _clear(v)
        down = None if base is None else _clear(v, *[r for r in pos if r != fails])
        shifted = None if down is None else _clear(v, prepend={shifts: count})
        if base is None or down is None or shifted is None:
            continue
        if not accept(reasoning.moved(base, down), reasoning.moved(base, shifted)):
            continue
        params = {"fails": fails, "shifts": shifts, "count": count}
        if also is None or also(replace(v, params={**v.params, **params})):
            return pos, params
    return None


def _lab5(rng: random.Random) -> Drawn:
    """Lab 5: a failure (link-down or silent) and a prepend that move different clients,
    and at least :data:`LAB5_CASES` failures and prepends the check may draw."""
    while True:
        net = _structured(rng)
        roles = _fail_and_shift(
            rng,
            net,
            lambda lost, moved: bool(lost and moved) and set(moved) != set(lost),
            PLACE_TRIES,
            lambda v: min(len(v.failure_cases()), len(v.prepend_cases())) >= LAB5_CASES,
        )
        if roles is not None:
            pos, params = roles
            how = rng.choice(LAB5_HOW)
            return net, (pos, {**params, "how": how, "hold": LAB5_HOLD[how]})


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


def _lab6(rng: random.Random) -> Drawn:
    """Which transit plays which part of :data:`LAB6_ROLES`, and so where the sites are.

    The parts fix every outcome but the names: with any link between transits
    down but hub-east (which moves nobody) somebody's site changes -- three
    link failures for the check to draw from in every variant, no tie in any
    (``tests/unit/labs/test_lab6.py``), so nothing is drawn again.
    """
    net = _internet(rng)
    places = dict(zip(LAB6_ROLES, rng.sample(range(CHAIN), CHAIN), strict=True))
    links = [[places[a], places[b], rel] for a, b, rel in LAB6_LINKS]
    sites = {site: places[role] for site, role in LAB6_SITES.items()}
    return net, (sites, {"roles": places, "links": links})


def _lab8(rng: random.Random) -> Drawn:
    """A te-shift and a failure that both move clients, on a structured internet; the needs."""
    while True:
        net = _structured(rng)
        roles = _fail_and_shift(rng, net, lambda lost, moved: bool(lost and moved), PLACE_TRIES)
        if roles is not None:
            pos, params = roles
            return net, (pos, {**params, "needs": remedies.draw_needs(rng)})


def _lab9(rng: random.Random) -> Drawn:
    """Three sites on a structured internet, one that fails and serves someone (no ties
    before or after); the design."""
    while True:
        net = _structured(rng)
        for _ in range(PLACE_TRIES):
            count = len(net.transits)
            pos = dict(zip("abc", sorted(rng.sample(range(count), 3)), strict=True))
            fails = rng.choice("abc")
            v = _placed(net, pos)
            base, down = _clear(v), _clear(v, *[r for r in pos if r != fails])
            if base is None or down is None:
                continue
            if reasoning.moved(base, down):
                return net, (pos, {"fails": fails, "design": gslbdesign.draw(rng)})


#: Parameters drawn last, after the site names (lab 4's design: drawn after what
#: its generation 2 drew, so that a variant keeps its network, sites and names).
LAST: Dict[int, Callable[[random.Random], Dict[str, Any]]] = {4: healthdesign.draw}

CHOOSERS: Dict[int, Callable[[random.Random], Drawn]] = {
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
    """Lab 7's network for the reasoning, router IDs numbered as the plan numbers them."""
    links = _as_links(transits, clients, params)
    return steering.Net(
        links=tuple(links),
        sites=dict(sites),
        clients={c.name: c.isp for c in clients},
        weights={c.name: float(params["weights"][c.name]) for c in clients},
        router_ids=_router_ids(transits, clients, list(sites)),
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
    second, chords = _shortcuts(rng, clients, count, LAB7_MULTI, LAB7_CHORD)
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
        net, (roles, own) = CHOOSERS[lab](rng)
        transits, clients, anycast_asn = net.transits, net.clients, net.anycast_asn
        params = {**net.params, **own}
    names: List[str] = rng.sample(SITE_NAMES, len(roles))
    sites = {
        role: Site(name, pos, transits[pos].name)
        for (role, pos), name in zip(roles.items(), names, strict=True)
    }
    if lab in LAST:
        params = {**params, **LAST[lab](rng)}
    return Variant(lab, student, transits, clients, anycast_asn, sites, params)


def diagram(variant: Variant, roles: Optional[List[str]] = None) -> str:
    """The variant's internet drawn in text: clients above their transits, sites below.

    Labs 1-5, 8 and 9 draw every link's delay between transits (the chain's on the
    line, a chord's under the drawing); a client marked ``+`` has an ISP that
    is also a customer of the next transit (said under the drawing).

    Args:
        variant: the variant.
        roles: the site roles to draw (default: all).

    Returns:
        A few lines of text (monospace).
    """
    if "links" in variant.params:
        return policy_diagram(variant)
    if "weights" in variant.params:
        return load_diagram(variant)
    second = variant.params.get("second_home", {})
    label = {c.name: c.name + ("+" if c.isp in second else "") for c in variant.clients}
    shown = [variant.site[r] for r in (roles if roles is not None else list(variant.site))]
    below = [{s.pos: f"[{s.name}]" for s in shown}]
    return "\n".join(_drawing(variant, label, below, delays="delays" in variant.params))


def _drawing(
    variant: Variant, label: Dict[str, str], below: List[Dict[int, str]], delays: bool
) -> List[str]:
    """Clients (by ``label``) stacked above their transits, the chain, the rows ``below`` it.

    Args:
        variant: the variant.
        label: client -> its text above its transit.
        below: rows under the transits' AS numbers: transit position -> text (the
            first row is the sites: a ``|`` joins them to their transit).
        delays: write each link's delay: on the chain, and on the chords' lines.

    Returns:
        The lines: the drawing, then the chords and the ISPs with two transits.
    """
    links = variant.transit_links()
    above: Dict[int, List[str]] = {t.pos: [] for t in variant.transits}
    for c in variant.clients:
        above[c.pos].append(label[c.name])
    cells = [t.name for t in variant.transits] + list(label.values())
    width = max(max(len(x) for x in cells) + 2, 15 if delays else 11)
    row = lambda items: "".join(x.center(width) for x in items).rstrip()  # noqa: E731
    lines = []
    for level in reversed(range(max(len(v) for v in above.values()))):
        lines.append(
            row(above[t.pos][level] if level < len(above[t.pos]) else "" for t in variant.transits)
        )
    lines.append(row("|" if above[t.pos] else "" for t in variant.transits))
    gaps = iter(links)

    def dashes(gap: re.Match[str]) -> str:
        text = f"{next(gaps)[2]}ms" if delays else ""
        return " " + text.center(len(gap.group()) - 2, "-") + " "

    # the chain: one line of - from name to name (with the link's delay in it)
    lines.append(re.sub(r"(?<=\S) +(?=\S)", dashes, row(t.name for t in variant.transits)))
    lines.append(row(f"AS{t.asn}" for t in variant.transits))
    lines.append(row("|" if t.pos in below[0] else "" for t in variant.transits))
    for rows in below:
        lines.append(row(rows.get(t.pos, "") for t in variant.transits))
    for a, b, ms in links[len(variant.transits) - 1 :]:
        lines.append(f"also linked: {a.name} -- {b.name}" + (f" ({ms} ms)" if delays else ""))
    second = variant.params.get("second_home", {})
    for c in variant.clients:
        if c.isp in second:
            lines.append(
                f"{c.name}+: {c.isp} is also a customer of {variant.transits[second[c.isp]].name}"
            )
    return lines


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
    sites = {s.pos: (s.name, p["capacity"][role]) for role, s in variant.site.items()}
    below = [
        {pos: f"[{name}]" for pos, (name, _pps) in sites.items()},
        {pos: f"{pps} pkt/s" for pos, (_name, pps) in sites.items()},
    ]
    return "\n".join(_drawing(variant, label, below, delays=False))


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
