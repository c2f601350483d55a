"""``anycast-testbed lab quiz N``: the lab's reasoning questions on a fresh random variant.

Needs no root and starts nothing.  A variant of lab N is drawn from a random
seed (``--seed S`` repeats one; it is nobody's student variant), the student
sees what the lab's hand-out shows of it (the drawing, the sites, the
events, the needs or the budgets) and answers the questions the lab grades
by reasoning, interactively or from a file shaped like the lab's
``answers.yaml`` or ``predictions.yaml`` (``--answers FILE``).  Each answer
is graded against the same reasoning the checker uses
(:mod:`~testbed.labs.reasoning`, :mod:`~testbed.labs.steering`,
:mod:`~testbed.labs.remedies`, :mod:`~testbed.labs.gslbdesign`); a wrong one
gets the lab's hint, and ``--show`` prints the right answers afterwards.

Lab 3 asks the silent outage predicted from the hold time and the largest
BFD interval of the budget (not the link-down outage, which is measured).
Lab 4 asks who is
blackholed and, about the variant's own agent, its worst withdrawal time
and the smallest fall that rides out the variant's DNS restart
(:mod:`~testbed.labs.healthdesign`; not the student's design, which the
check's run grades).  Lab 5 asks, for every site, whose TCP streams reset
when it fails and when it prepends, and who loses DNS when it fails (its
check grades two sites it draws when it runs).  Exit status: 0 every answer
right, 1 some wrong, 2 bad input.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

import click
import yaml

from testbed.errors import InputError
from testbed.labs import answers, gslbdesign, healthdesign, remedies, steering
from testbed.labs.registry import get_lab
from testbed.labs.variant import Variant, diagram, make_variant

#: Seeds drawn when none is given: short enough to type again.
SEED_RANGE = 10**6


@dataclass(frozen=True)
class Question:
    """One key of the answer file and how to read it.

    Attributes:
        key: the key, dotted for nested ones (``parent.child``).
        text: what is asked.
        kind: ``site_map`` (client -> site), ``client_set``, ``client_sets``
            (``keys`` -> client list), ``name_set``, ``choice``, ``integer`` or ``number``.
        names: the sites (``site_map``), or the names allowed (``name_set``, ``choice``).
        what: what the names are, for messages (``site``, ``remedy``).
        keys: the keys of a ``client_sets`` mapping (the transits).
        low: the smallest number allowed.
        high: the largest number allowed.
    """

    key: str
    text: str
    kind: str
    names: Tuple[str, ...] = ()
    what: str = "name"
    keys: Tuple[str, ...] = ()
    low: float = 0.0
    high: float = 1e9


@dataclass(frozen=True)
class Mark:
    """One graded answer: right or wrong, a detail that gives nothing away, the lab's hint."""

    title: str
    right: bool
    detail: str
    hint: str


@dataclass
class Quiz:
    """One lab's quiz on one variant.

    Attributes:
        lab: the lab number.
        file: the answer file it mirrors (``answers.yaml`` or ``predictions.yaml``).
        intro: what the student is shown (text, with the drawing).
        questions: the keys asked for, in order.
        grade: parsed answers (key -> value) -> one mark per graded item.
        solution: the reasoning's answers, as the answer file holds them.
    """

    lab: int
    file: str
    intro: str
    questions: List[Question]
    grade: Callable[[Dict[str, Any]], List[Mark]]
    solution: Dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------ parsing
def parse(q: Question, value: Any, clients: Sequence[str]) -> answers.Parsed:
    """One answer's value as the lab's checker parses it: (value, None) or (None, problem)."""
    if q.kind == "site_map":
        return answers.site_map(value, clients, q.names)
    if q.kind == "client_set":
        return answers.client_set(value, clients)
    if q.kind == "client_sets":
        return answers.client_sets(value, q.keys, clients, q.what)
    if q.kind == "name_set":
        return answers.name_set(value, q.names, q.what)
    if q.kind == "choice":
        return answers.choice(value, q.names, q.what)
    if q.kind == "integer":
        return answers.integer(value, int(q.low), int(q.high))
    return answers.number(value, q.low, q.high)


def read_file(path: Path, quiz: Quiz, clients: Sequence[str]) -> Dict[str, Any]:
    """Every answer of the quiz from a YAML file shaped like the lab's answer file.

    Raises:
        InputError: the file cannot be read, is not a mapping, or an answer is
            missing or wrong in form (one line naming the file and the key).
    """
    from testbed.inputfile import read_yaml

    where = str(path)
    if not path.exists():
        raise InputError("cannot read it (no such file)", where)
    data = read_yaml(path, where)
    if not isinstance(data, dict):
        raise InputError(f"must hold a mapping (key: value lines, as {quiz.file})", where)
    given: Dict[str, Any] = {}
    for q in quiz.questions:
        value, problem = parse(q, answers.lookup(data, q.key), clients)
        if problem is not None:
            raise InputError(problem, where, q.key)
        given[q.key] = value
    return given


def _names(text: str) -> List[str]:
    """Names typed on one line: separated by commas or blanks; ``-``, ``none`` or ``[]``: none."""
    words = [w for w in re.split(r"[\s,\[\]]+", text.strip()) if w]
    return [] if words in (["-"], ["none"]) else words


def ask(quiz: Quiz, clients: Sequence[str]) -> Dict[str, Any]:
    """Every answer of the quiz by prompts (asked again until it parses)."""
    given: Dict[str, Any] = {}
    for number, q in enumerate(quiz.questions, start=1):
        click.echo(f"{number}. {q.key}: {q.text}")
        while True:
            value: Any
            if q.kind == "site_map":
                pick = click.Choice(list(q.names))
                value = {c: click.prompt(f"   {c}", type=pick) for c in clients}
            elif q.kind == "client_sets":
                value = {
                    k: _names(click.prompt(f"   {k} (clients, - for none)", default="-"))
                    for k in q.keys
                }
            elif q.kind in ("client_set", "name_set"):
                value = _names(click.prompt("   names (- for none)", default="-"))
            elif q.kind == "choice":
                value = click.prompt(f"   {q.key}", type=click.Choice(list(q.names)))
            elif q.kind == "integer":
                value = click.prompt(f"   {q.key}", type=int)
            else:
                value = click.prompt(f"   {q.key}", type=float)
            parsed, problem = parse(q, value, clients)
            if problem is None:
                given[q.key] = parsed
                break
            click.echo(f"   {problem}; again:")
    return given


# ------------------------------------------------------------------ grading helpers
def _count(title: str, wrong: int, whole: int, hint: str, what: str = "right") -> Mark:
    return Mark(title, wrong == 0, f"{whole - wrong}/{whole} {what}", hint)


def _same(title: str, right: bool, hint: str) -> Mark:
    return Mark(title, right, "right" if right else "wrong", hint)


def _plain(value: Any) -> Any:
    """Sets as sorted lists, recursively (for YAML)."""
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _nest(flat: Dict[str, Any]) -> Dict[str, Any]:
    """Dotted keys as nested mappings."""
    out: Dict[str, Any] = {}
    for key, value in flat.items():
        *parents, last = key.split(".")
        cur = out
        for part in parents:
            cur = cur.setdefault(part, {})
        cur[last] = _plain(value)
    return out


def _sites_lines(v: Variant) -> List[str]:
    return [f"  {s.name}, behind {s.upstream} (AS{v.transits[s.pos].asn})" for s in v.site.values()]


def _chain_intro(v: Variant, lead: str, *more: str) -> str:
    """Labs 1-5, 8, 9: the lead sentence, the sites, the drawing, what happens."""
    lines = [lead, *_sites_lines(v), "", diagram(v), ""]
    lines += [
        f"{len(v.transits)} transit ASes in a line, {len(v.clients)} ISPs with one client each "
        "(client above, its ISP's transit below; `+`: the ISP is a customer of two transits); "
        "nothing sets a policy: each AS takes the shortest AS path (link delays do not count)."
    ]
    return "\n".join([*lines, *more])


def _link_question(outcomes: Dict[str, Set[str]], given: str = "") -> Question:
    """Labs 1, 2 and 6: who changes site while each link between transits is down
    (``given``: what else is in place, lab 2's prepends)."""
    return Question(
        "if_link_down",
        f"for each link between two transits{given}: the clients whose site changes while it "
        "is down (to the other site, or none at all)",
        "client_sets",
        keys=tuple(outcomes),
        what="link",
    )


# ------------------------------------------------------------------ the labs
def _lab1(v: Variant) -> Quiz:
    from testbed.labs import lab1

    clients = [c.name for c in v.clients]
    sites = tuple(s.name for s in v.site.values())
    want = v.catchment()
    intro = _chain_intro(
        v, f"Your anycast AS AS{v.anycast_asn} announces 192.0.2.0/24 from two sites:"
    )
    q = Question("catchment", "the site each client's DNS queries reach", "site_map", sites)
    outcomes = {lab1.link_key(link): set(changed) for link, changed in v.link_outcomes()}
    down = _link_question(outcomes)

    def grade(given: Dict[str, Any]) -> List[Mark]:
        wrong = answers.wrong_count(given["catchment"], want, clients)
        links = sum(given["if_link_down"][k] != changed for k, changed in outcomes.items())
        return [
            _count("each client's site", wrong, len(clients), lab1.HINT_PREDICT),
            _count("each link failure", links, len(outcomes), lab1.HINT_LINK),
        ]

    solution = {"catchment": want, "if_link_down": outcomes}
    return Quiz(1, "predictions.yaml", intro, [q, down], grade, _nest(solution))


def _lab2(v: Variant) -> Quiz:
    from testbed.labs import lab2

    clients = [c.name for c in v.clients]
    primary, backup = v.site["primary"].name, v.site["backup"].name
    base = v.catchment()
    on_backup = {c for c, s in base.items() if s == backup}
    fewest = v.params["min_prepend"]
    outcomes = {
        lab2.link_key(link): set(changed) for link, changed in v.link_outcomes(v.backup_prepend())
    }
    intro = _chain_intro(
        v,
        f"Your anycast AS AS{v.anycast_asn} has two sites: {primary} is the primary, "
        f"{backup} should only take traffic when {primary} is down.",
        lab2.TIES,
    )
    questions = [
        Question(
            "before",
            f"each client's site as handed out (no prepend, no MED): {primary} or {backup}",
            "site_map",
            (primary, backup),
        ),
        Question(
            "med_backup_clients",
            f"with `med: {v.params['med']}` on {backup} instead of prepending (nothing "
            f"else), which clients still reach {backup}?",
            "client_set",
        ),
        Question(
            "min_prepend",
            f"the smallest prepend on {backup} that sends every client to {primary} "
            f"while {primary} is up",
            "integer",
            high=10,
        ),
        _link_question(outcomes, f", with those prepends on {backup} and both sites up"),
    ]

    def grade(given: Dict[str, Any]) -> List[Mark]:
        wrong = answers.wrong_count(given["before"], base, clients)
        links = sum(given["if_link_down"][k] != changed for k, changed in outcomes.items())
        return [
            _count("each client's site with no policy", wrong, len(clients), lab2.HINT_BEFORE),
            _same(
                f"who stays on {backup} with a MED",
                given["med_backup_clients"] == on_backup,
                lab2.HINT_MED,
            ),
            _same(
                "the fewest prepends that make a backup",
                given["min_prepend"] == fewest,
                lab2.HINT_MIN,
            ),
            _count("each link failure", links, len(outcomes), lab2.HINT_LINK),
        ]

    solution = {
        "before": base,
        "med_backup_clients": on_backup,
        "min_prepend": fewest,
        "if_link_down": outcomes,
    }
    return Quiz(2, "answers.yaml", intro, questions, grade, _nest(solution))


def _lab3(v: Variant) -> Quiz:
    from testbed.labs import lab3

    fails = v.site[v.params["fails"]].name
    p = v.params
    intro = _chain_intro(
        v,
        f"Your anycast AS AS{v.anycast_asn} has two sites:",
        f"{fails} fails silently (links up, nothing answers). BGP runs with keepalive "
        f"{lab3.KEEPALIVE_S} s and hold time {p['hold']} s. Your outage budget is "
        f"{p['budget_ms']} ms, the operator's BFD detect multiplier {p['multiplier']}; after "
        f"BFD declares the site down, BGP needs up to {p['reserve_ms']} ms to withdraw and "
        "converge.",
    )
    silent = Question(
        "predicted_outage_silent_s",
        f"without BFD: at most how many seconds are {fails}'s clients without service?",
        "number",
        high=600,
    )
    largest = Question(
        "largest_interval_ms",
        "the largest BFD interval (ms) that keeps a silent failure within the budget",
        "number",
        low=1,
        high=1e6,
    )
    low, high = lab3.silent_window(p["hold"])
    want = lab3.largest_interval_ms(v)

    def grade(given: Dict[str, Any]) -> List[Mark]:
        return [
            _same(
                "the silent outage",
                low <= given[silent.key] <= high,
                lab3.HINT_SILENT,
            ),
            _same("the largest interval", abs(given[largest.key] - want) <= 1, lab3.HINT_INTERVAL),
        ]

    solution = {silent.key: p["hold"], largest.key: want}
    return Quiz(3, "answers.yaml", intro, [silent, largest], grade, solution)


def _lab4(v: Variant) -> Quiz:
    from testbed.labs import lab4

    fails = v.site[v.params["fails"]].name
    want = {c for c, s in v.catchment().items() if s == fails}
    d = v.health_design()
    ask = d.ask
    intro = _chain_intro(
        v,
        f"Your anycast AS AS{v.anycast_asn} has two sites:",
        f"The servers of {fails} die while its router keeps announcing 192.0.2.0/24 "
        "(no health agent).",
        "A health agent runs a round of checks every `interval` s (a DNS check against a "
        "dead NSD waits `timeout` s); `fall` failed rounds in a row withdraw the route. "
        f"{fails}'s DNS service sometimes restarts: it is away for up to {d.blip:g} s.",
    )
    agent = f"interval {ask.interval:g} s, timeout {ask.timeout:g} s, fall {ask.fall}"
    questions = [
        Question(
            "blackholed_clients",
            f"which clients lose service when {fails}'s servers die (no agent)?",
            "client_set",
        ),
        Question(
            "withdraw_after_s",
            f"an agent with {agent}: at most how many seconds after the servers die does it "
            "withdraw the route (leave BGP's own time out)?",
            "number",
            high=600,
        ),
        Question(
            "min_fall",
            f"with interval {ask.interval:g} s, the smallest fall that rides out a DNS "
            f"restart of {d.blip:g} s (no withdrawal)?",
            "integer",
            low=1,
            high=100,
        ),
    ]

    def grade(given: Dict[str, Any]) -> List[Mark]:
        secs = given["withdraw_after_s"]
        timing = healthdesign.timing_right(secs, ask.interval, ask.fall, ask.timeout)
        return [
            _same("who loses service", given["blackholed_clients"] == want, lab4.HINT_BLACKHOLED),
            _same("the agent's worst withdrawal", timing, lab4.HINT_TIMING),
            _same("the smallest fall", given["min_fall"] == d.ask_min_fall(), lab4.HINT_FALL),
        ]

    solution = {
        "blackholed_clients": want,
        "withdraw_after_s": d.ask_worst_s(),
        "min_fall": d.ask_min_fall(),
    }
    return Quiz(4, "answers.yaml", intro, questions, grade, _nest(solution))


def _lab5(v: Variant) -> Quiz:
    from testbed.labs import lab5

    sites = tuple(s.name for s in v.site.values())
    count = v.params["count"]
    want = lab5.expected(v)
    intro = _chain_intro(
        v,
        f"Your anycast AS AS{v.anycast_asn} has three sites:",
        "A site of yours fails "
        + (
            f"silently: its links stay up, only BGP's hold time of {v.params['hold']} s notices"
            if v.params["how"] == "silent"
            else "by losing its uplink: its BGP session ends at once"
        )
        + f"; a site that shifts traffic prepends its AS path {count} time(s). Every client "
        "runs TCP streams (a message every 0.2 s; no answer for 3 s: a timeout, then a new "
        "connection) and DNS (UDP) queries.",
    )
    asked = {
        "site_failure": "for each site: whose TCP streams are reset when it fails?",
        "prepend": f"for each site (all up): whose TCP streams are reset when it prepends "
        f"{count} time(s)?",
        "udp_outage_over_1s": "for each site: which clients lose DNS (UDP) service for more "
        "than 1 s at a time when it fails?",
    }
    questions = [
        Question(key, text, "client_sets", keys=sites, what="site") for key, text in asked.items()
    ]

    def grade(given: Dict[str, Any]) -> List[Mark]:
        out = []
        for key in lab5.KEYS:
            hint = lab5.HINT_UDP if key.startswith("udp") else lab5.HINT_TCP
            wrong = sum(given[key][s] != want[key][s] for s in sites)
            out.append(_count(key, wrong, len(sites), hint, "sites right"))
        return out

    return Quiz(5, "predictions.yaml", intro, questions, grade, _nest(dict(want)))


def _lab6(v: Variant) -> Quiz:
    from testbed.labs import lab6
    from testbed.labs.checktime import link_key

    clients = [c.name for c in v.clients]
    transits = tuple(t.name for t in v.transits)
    sites = tuple(s.name for s in v.site.values())
    role = {r: v.transit_of(r).name for r in ("hub", "east", "west", "regional", "edge")}
    catchment = v.policy_catchment()
    elsewhere = set(v.not_shortest())
    missing = {t: set(names) for t, names in v.no_route().items()}
    outcomes = {link_key(link): set(changed) for link, changed in v.policy_link_outcomes()}
    lines = [
        f"{role['hub']} (the hub), {role['east']} and {role['west']} are tier-1 transits; "
        f"{role['hub']} peers with both others, {role['east']} and {role['west']} do not "
        f"peer. {role['regional']} buys transit from {role['hub']}, {role['edge']} from "
        f"{role['regional']}. Your anycast AS AS{v.anycast_asn} has two sites, each a "
        f"customer of its transit:",
        *_sites_lines(v),
        "",
        diagram(v),
        "",
        "==== joins two peers; | joins a customer (below) to its provider (above). Each "
        "transit has one ISP, its customer, with one client:",
        *[f"  {c.name}: {c.isp} on {c.transit}" for c in v.clients],
        "Customer before peer before provider; valley-free export.",
    ]
    questions = [
        Question("catchment", "the site each client's DNS queries reach", "site_map", sites),
        Question(
            "not_shortest",
            "which clients do NOT reach the site the shortest AS path leads to?",
            "client_set",
        ),
        Question(
            "no_route",
            "for every transit: the clients whose ISP's prefix it has no route to at all",
            "client_sets",
            keys=transits,
            what="transit",
        ),
        _link_question(outcomes),
    ]

    def grade(given: Dict[str, Any]) -> List[Mark]:
        good = sum(1 for t in transits if given["no_route"][t] == missing[t])
        return [
            _count(
                "each client's site",
                answers.wrong_count(given["catchment"], catchment, clients),
                len(clients),
                lab6.HINT_CATCHMENT,
            ),
            _count(
                "not the shortest AS path",
                answers.wrong_count(given["not_shortest"], elsewhere, clients),
                len(clients),
                lab6.HINT_SHORTEST,
                "clients right",
            ),
            _count(
                "no route",
                len(transits) - good,
                len(transits),
                lab6.HINT_NO_ROUTE,
                "transits right",
            ),
            _count(
                "each link failure",
                sum(given["if_link_down"][k] != changed for k, changed in outcomes.items()),
                len(outcomes),
                lab6.HINT_LINK,
            ),
        ]

    solution = {
        "catchment": catchment,
        "not_shortest": elsewhere,
        "no_route": missing,
        "if_link_down": outcomes,
    }
    return Quiz(6, "predictions.yaml", "\n".join(lines), questions, grade, _nest(solution))


def _lab7(v: Variant) -> Quiz:
    from testbed.labs import lab7

    p = v.params
    sites = tuple(s.name for s in v.site.values())
    net = v.load_net()
    outcomes = steering.every_outcome(net)
    target = steering.attacked(net)[0]
    best = steering.best_actions(outcomes, target)
    lines = [
        f"Your anycast AS AS{v.anycast_asn} has three sites, each taking at most so many "
        "packets/s (its capacity). Each client stands for a number of users (its weight). "
        f"Attack sources in some ISPs send {p['rate']} packets/s each to your service: "
        "together they overload one of your sites. Nothing sets a policy; equal paths go "
        "to the neighbour with the lowest router ID.",
        "",
        diagram(v),
        "",
        "`name N`: a client and its weight; `+`: its ISP is also a customer of a "
        "neighbouring transit; `!`: its ISP hosts one attack source.",
        *[
            f"  site {s.name} behind {s.upstream}: {p['capacity'][r]} packets/s"
            for r, s in v.site.items()
        ],
        *[
            f"  client {c.name}, weight {p['weights'][c.name]}, {c.isp} on "
            f"{', '.join(t.name for t in v.homes(c))}"
            + (f", attack source: {p['rate']} packets/s" if c.isp in p["attackers"] else "")
            for c in v.clients
        ],
        "",
        "The playbook (what each action moves):",
        *[
            f"  {o.label}: moves {', '.join(o.moved) or 'nobody'} (weight {o.moved_weight:g})"
            for o in outcomes[1:]
        ],
    ]
    questions = [
        Question("site", "the site you act at", "choice", sites, "site"),
        Question(
            "action",
            "the action there (of the actions that bring the attacked site "
            "under capacity, the one that moves the least weight)",
            "choice",
            steering.ACTIONS,
            "playbook action",
        ),
        Question(
            "overloaded_after",
            "once your action has taken effect, which other sites will the attack overload?",
            "name_set",
            sites,
            "site",
        ),
    ]

    def grade(given: Dict[str, Any]) -> List[Mark]:
        chosen = steering.find(outcomes, given["site"], given["action"])
        assert chosen is not None
        after = steering.cascade(chosen, target)
        return [
            _same("the action", (given["site"], given["action"]) in best, lab7.HINT_ACTION),
            _same(
                "the other sites overloaded after it",
                given["overloaded_after"] == after,
                lab7.HINT_CASCADE,
            ),
        ]

    return Quiz(7, "answers.yaml", "\n".join(lines), questions, grade, _nest(v.load_answer()))


def _lab8(v: Variant) -> Quiz:
    from testbed.labs import lab8

    fails, shifts = v.site[v.params["fails"]].name, v.site[v.params["shifts"]].name
    needs = v.needs()
    more = [
        f"A te-shift: {shifts} prepends its AS path {v.params['count']} time(s) (and takes "
        f"it back); then {fails} loses its uplink. Streams time out after "
        f"{remedies.TIMEOUT_S:g} s. Remedies: {', '.join(remedies.REMEDIES)} (README.md).",
    ]
    for service, (name, _push) in remedies.SERVICES.items():
        more.append(f"{name} ({service}):")
        more += [f"  - {line}" for line in needs[service].lines()]
    intro = _chain_intro(
        v,
        f"Your anycast AS AS{v.anycast_asn} has three sites, each with its own unicast "
        "prefix besides 192.0.2.0/24:",
        *more,
    )
    questions: List[Question] = []
    for service, (name, _push) in remedies.SERVICES.items():
        questions.append(
            Question(
                service,
                f"{name}: every remedy that meets all its needs",
                "name_set",
                remedies.REMEDIES,
                "remedy",
            )
        )
        questions.append(
            Question(
                f"{service}_recovery_s",
                f"{name}: the worst time (s) "
                "without service on the failure among the remedies you "
                "listed (0: nothing breaks)",
                "number",
                high=lab8.MAX_FIGURE_S,
            )
        )

    def grade(given: Dict[str, Any]) -> List[Mark]:
        out = []
        for service, (name, _push) in remedies.SERVICES.items():
            listed: Set[str] = given[service]
            right = listed == set(remedies.fitting(needs[service]))
            out.append(_same(f"{name}: the remedies", right, lab8.HINT_REMEDY))
            worst = max((remedies.expected(r).worst_s for r in listed), default=0.0)
            close = remedies.figure_close(given[f"{service}_recovery_s"], worst)
            out.append(_same(f"{name}: their worst recovery", close, lab8.HINT_FIGURE))
        return out

    return Quiz(8, "answers.yaml", intro, questions, grade, _nest(v.remedy_answer()))


def _lab9(v: Variant) -> Quiz:
    from testbed.labs import lab9

    d = v.design()
    fails = v.site[v.params["fails"]].name
    if d.how == "link-down":
        how = f"{fails} loses its uplink (link-down): the BGP session goes down with the link."
    else:
        how = (
            f"{fails} goes silent: its links stay up, nothing on it answers. Every BGP "
            f"session runs keepalive {d.keepalive} s and hold {d.hold} s."
        )
    intro = _chain_intro(
        v,
        f"Your anycast AS AS{v.anycast_asn} has three sites, each with its own unicast "
        "prefix and service address:",
        "svc.anycast.test answers the anycast address, svc.gslb.test the nearest healthy "
        f"site's own (PowerDNS at every site checks every site); {gslbdesign.RESOLVERS} "
        "resolvers, one per ISP (README.md, 'How GSLB fails over').",
        f"The failure: {how}",
        f"The target: a GSLB client whose site fails is answered by a healthy site within "
        f"{d.target_s} s, worst case.",
        f"The budgets: at most {d.queries_per_min} queries a minute to the authority, at "
        f"most {d.checks_per_min} health checks a minute (all sites).",
        f"The load to keep lowest: {d.least_text()}.",
    )
    questions = [
        Question(
            "ttl",
            "the TTL of svc.gslb.test's answer (whole seconds)",
            "integer",
            low=1,
            high=lab9.MAX_TTL,
        ),
        Question(
            "interval",
            "seconds between two rounds of health checks (whole)",
            "integer",
            low=1,
            high=lab9.MAX_INTERVAL,
        ),
        Question(
            "predicted_gslb_worst_s",
            "the worst GSLB failover (s) your ttl and interval allow in this failure",
            "number",
            high=lab9.MAX_PREDICTED_S,
        ),
        Question(
            "faster",
            "whose clients are back on a healthy site sooner in this failure?",
            "choice",
            gslbdesign.METHODS,
            "method",
        ),
    ]

    def grade(given: Dict[str, Any]) -> List[Mark]:
        ttl, interval = given["ttl"], given["interval"]
        worst = gslbdesign.worst_gslb_s(ttl, interval, d.how)
        close = gslbdesign.prediction_close(given["predicted_gslb_worst_s"], worst)
        return [
            _same("within both budgets", d.budgets_met(ttl, interval) == 2, lab9.HINT_BUDGETS),
            _same("meets the target, worst case", d.meets(ttl, interval), lab9.HINT_TARGET),
            _same("the least load asked for", (ttl, interval) == d.best(), lab9.HINT_LEAST),
            _same("the worst case of your settings", close, lab9.HINT_PREDICTION),
            _same("the faster method", given["faster"] == d.faster(), lab9.HINT_FASTER),
        ]

    return Quiz(9, "answers.yaml", intro, questions, grade, _nest(v.gslb_answer()))


QUIZZES: Dict[int, Callable[[Variant], Quiz]] = {
    1: _lab1,
    2: _lab2,
    3: _lab3,
    4: _lab4,
    5: _lab5,
    6: _lab6,
    7: _lab7,
    8: _lab8,
    9: _lab9,
}


def make_quiz(lab: int, seed: int) -> Tuple[Variant, Quiz]:
    """Lab ``lab``'s quiz on the variant drawn from ``seed``.

    Raises:
        InputError: no such lab, or a lab with nothing to quiz.
    """
    get_lab(lab)
    if lab not in QUIZZES:
        raise InputError(f"lab {lab} has no answers graded by reasoning: nothing to quiz")
    variant = make_variant(lab, seed=seed)
    return variant, QUIZZES[lab](variant)


# ------------------------------------------------------------------ the command
@click.command("quiz")
@click.argument("number", type=int)
@click.option("--seed", type=click.IntRange(min=0), help="Repeat the quiz drawn from this seed.")
@click.option(
    "--answers",
    "answers_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the answers from this YAML file (shaped like the lab's answers.yaml or "
    "predictions.yaml) instead of asking.",
)
@click.option("--show", is_flag=True, help="After grading, print the right answers.")
@click.pass_context
def quiz_cmd(
    ctx: click.Context,
    number: int,
    seed: Optional[int],
    answers_file: Optional[Path],
    show: bool,
) -> None:
    """Quiz yourself on lab NUMBER's reasoning, on a fresh random variant (no root, no network).

    Shows the variant's network, asks the questions the lab grades by
    reasoning (or reads them from --answers FILE) and grades each one, with
    the lab's hint on a wrong answer. Exit status: 0 all right, 1 some wrong,
    2 bad input.
    """
    from testbed.console import fail

    if seed is None:
        seed = secrets.randbelow(SEED_RANGE)
    try:
        variant, quiz = make_quiz(number, seed)
        clients = [c.name for c in variant.clients]
        given = read_file(answers_file, quiz, clients) if answers_file is not None else None
    except InputError as exc:
        fail(str(exc))
        ctx.exit(2)
    title = get_lab(number).title
    click.echo(
        f"lab {number} quiz ({title}), seed {seed}: the same quiz again with "
        f"`anycast-testbed lab quiz {number} --seed {seed}`"
    )
    click.echo("")
    click.echo(quiz.intro)
    click.echo("")
    if given is None:
        click.echo(f"Your answers (the keys of the lab's {quiz.file}):")
        given = ask(quiz, clients)
    else:
        click.echo(f"The questions ({quiz.file}, read from {answers_file}):")
        for i, q in enumerate(quiz.questions, start=1):
            click.echo(f"{i}. {q.key}: {q.text}")
    marks = quiz.grade(given)
    click.echo("")
    for mark in marks:
        click.echo(f"{'RIGHT' if mark.right else 'WRONG'}  {mark.title}: {mark.detail}")
        if not mark.right:
            click.echo(f"       hint: {mark.hint}")
    right = sum(1 for m in marks if m.right)
    click.echo(f"score: {right}/{len(marks)}")
    if show:
        click.echo("")
        click.echo(f"The right answers (as {quiz.file}):")
        click.echo(yaml.safe_dump(quiz.solution, sort_keys=False, default_flow_style=None).rstrip())
    ctx.exit(0 if right == len(marks) else 1)
