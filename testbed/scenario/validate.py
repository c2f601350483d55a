"""Whole-scenario checks, and checks of a scenario against its topology.

:func:`validate` needs only the scenario (time order, times within the
duration, event indices of checks, the probe a resolution check judges);
:func:`validate_against` needs the topology too (sites, clients and links
that must exist, the publishing method a resolution check judges).
:func:`timeline_warnings` finds timelines that are valid but will not show
what they seem to (a silent failure restored before the hold time).  Every problem is an
:class:`~testbed.errors.InputError` naming the field (``timeline[2].site``)
and what is wrong with it.
"""

from __future__ import annotations

from typing import Callable, List, NoReturn, Optional, Set, Tuple

from testbed.attack import limits
from testbed.errors import InputError
from testbed.probes.kinds import kind_class
from testbed.scenario.model import (
    BUSIEST,
    RESTORABLE,
    SITE_EVENTS,
    AttackStart,
    AttackStop,
    Backend,
    CascadeCheck,
    ClientsCheck,
    Convergence,
    LegitLoss,
    LinkEvent,
    MethodCheck,
    Moves,
    Scenario,
    SetCommunities,
    Stays,
    ValleyFree,
)
from testbed.topology.attackers import attack_sources
from testbed.topology.capabilities import NO_COMMUNITIES
from testbed.topology.model import Topology
from testbed.topology.plan import Plan, make_plan, uses_policy
from testbed.topology.relationships import uses_relationships
from testbed.topology.resolution import daemons_missing
from testbed.topology.validate import resolve_router

#: Reports one problem (the field, what is wrong with it): raises the InputError.
Fail = Callable[[str, str], NoReturn]


def _fail_in(source: Optional[str]) -> Fail:
    def fail(field: str, message: str) -> NoReturn:
        raise InputError(message, source, field)

    return fail


def validate(scenario: Scenario, source: Optional[str] = None) -> None:
    """Check what one field's schema cannot: time order, limits and indices.

    Args:
        scenario: the parsed scenario.
        source: the file it came from, for messages.

    Raises:
        InputError: on the first problem found.
    """
    fail = _fail_in(source)
    previous = 0.0
    for i, event in enumerate(scenario.timeline):
        if event.at >= scenario.duration:
            fail(
                f"timeline[{i}].at",
                f"must be less than duration ({scenario.duration:g} s) (got {event.at:g})",
            )
        if event.at < previous:
            fail(
                f"timeline[{i}].at",
                f"events must be in time order: {event.at:g} s comes after "
                f"{previous:g} s (timeline[{i - 1}])",
            )
        previous = event.at
        if event.event == "restore" and not _restorable(scenario, i):
            fail(
                f"timeline[{i}].site",
                f"nothing to restore: no earlier event on site {event.site!r} or on {BUSIEST!r}",
            )
    _check_attack_window(scenario, fail)
    count = len(scenario.timeline)
    for i, check in enumerate(scenario.expect):
        index: Optional[int] = None
        field = ""
        if isinstance(check, Moves):
            index, field = (check.after if check.after is not None else 0), "after"
        elif isinstance(check, Convergence):
            index, field = check.event, "event"
        if isinstance(check, (LegitLoss, CascadeCheck)) and not any(
            isinstance(e, AttackStart) for e in scenario.timeline
        ):
            fail(f"expect[{i}].check", f"{check.check} needs an attack_start event in the timeline")
        if isinstance(check, MethodCheck) and "resolve" not in scenario.traffic.kinds:
            fail(
                f"expect[{i}].check",
                f"{check.check} judges the resolve probe's figures: add resolve to traffic.kinds",
            )
        if isinstance(check, Moves) and count == 0:
            fail(f"expect[{i}]", "a moves check needs at least one event in the timeline")
        if index is not None and index >= count:
            fail(
                f"expect[{i}].{field}",
                f"no event {index}: the timeline has {count} event(s), numbered from 0",
            )


def _check_attack_window(scenario: Scenario, fail: Fail) -> None:
    """Attack events alternate (start, stop, start...) and no attack lasts past the ceiling."""
    started: Optional[int] = None
    for i, event in enumerate(scenario.timeline):
        if isinstance(event, AttackStart):
            if started is not None:
                fail(f"timeline[{i}]", f"the attack already started at timeline[{started}]")
            started = i
        elif isinstance(event, AttackStop):
            if started is None:
                fail(f"timeline[{i}]", "attack_stop without an attack_start before it")
            else:
                _check_attack_length(scenario, started, event.at, fail)
            started = None
    if started is not None:
        _check_attack_length(scenario, started, scenario.duration, fail)


def _check_attack_length(scenario: Scenario, start: int, stop: float, fail: Fail) -> None:
    length = stop - scenario.timeline[start].at
    if length > limits.MAX_DURATION:
        fail(
            f"timeline[{start}]",
            f"the attack would last {length:g} s: at most {limits.MAX_DURATION:g} s "
            "(docs/load.md); stop it earlier with attack_stop",
        )


def _restorable(scenario: Scenario, i: int) -> bool:
    """True when an event before ``timeline[i]`` (a restore) may have acted on its site.

    ``busiest`` is resolved only when the timeline starts (from the routers'
    forwarding tables), so it may be any site: ``restore tyo`` after
    ``fail_site busiest`` is accepted, and so is ``restore busiest`` after
    ``fail_site tyo``.  When the guess is wrong at run time the restore
    undoes nothing (``details.undone`` is empty in ``events.jsonl``).
    """
    site = getattr(scenario.timeline[i], "site", None)  # restore events have a site
    for earlier in scenario.timeline[:i]:
        if earlier.event not in RESTORABLE:
            continue
        other = getattr(earlier, "site", None)
        if other == site or BUSIEST in (other, site):
            return True
    return False


def validate_against(scenario: Scenario, topology: Topology, source: Optional[str] = None) -> None:
    """Check that the sites, clients and links a scenario names exist in a topology,
    and that its service publishes the methods the resolution checks judge.

    Args:
        scenario: the parsed scenario.
        topology: the topology it runs on (after overrides).
        source: the scenario file, for messages.

    Raises:
        InputError: on the first name that does not exist, link that is not one, or
            method not published.
    """
    fail = _fail_in(source)
    sites = [s.name for s in topology.sites]
    clients = [c.name for c in topology.clients]
    if not clients:  # the topology's own checks refuse no sites and a site called busiest
        fail("topology", f"topology {topology.name!r} has no clients: a run has nothing to measure")
    missing = daemons_missing(topology)
    if missing is not None:
        fail("topology", f"service: {missing}")
    for j, name in enumerate(scenario.traffic.kinds):
        problem = kind_class(name).unavailable(topology)
        if problem is not None:
            fail(f"traffic.kinds[{j}]", f"{name}: {problem}")
    if scenario.health is not None and scenario.health.sites != "all":
        for j, name in enumerate(scenario.health.sites):
            if name not in sites:
                fail(f"health.sites[{j}]", _unknown("site", name, topology, sites))
    for i, event in enumerate(scenario.timeline):
        if event.event in SITE_EVENTS:
            site = getattr(event, "site")  # noqa: B009 - every site event has one
            if site != BUSIEST and site not in sites:
                known = sites + [f"or {BUSIEST}"]
                fail(f"timeline[{i}].site", _unknown("site", site, topology, known))
        elif isinstance(event, LinkEvent):
            _check_link(event, i, topology, fail)
        if isinstance(event, SetCommunities):
            _check_communities_speaker(event, i, topology, fail)
        elif isinstance(event, AttackStart):
            _check_attack_event(event, i, topology, fail)
        elif isinstance(event, Backend) and not any(
            s.health is not None and "backend" in s.health.checks for s in topology.sites
        ):
            fail(
                f"timeline[{i}]",
                "no health agent depends on the backend: give the sites' health "
                "checks: [dns, tcp, backend]",
            )
    for i, check in enumerate(scenario.expect):
        if isinstance(check, (Moves, Stays)) and check.client not in clients:
            fail(f"expect[{i}].client", _unknown("client", check.client, topology, clients))
        if isinstance(check, Moves) and check.to is not None and check.to not in sites:
            fail(f"expect[{i}].to", _unknown("site", check.to, topology, sites))
        if isinstance(check, ClientsCheck) and isinstance(check.clients, list):
            for k, name in enumerate(check.clients):
                if name not in clients:
                    fail(f"expect[{i}].clients[{k}]", _unknown("client", name, topology, clients))
        if isinstance(check, MethodCheck):
            _check_method(check, i, topology, fail)
        if isinstance(check, ValleyFree) and not uses_relationships(topology):
            fail(
                f"expect[{i}].check",
                f"valley_free needs relationships, and topology {topology.name!r} declares "
                "none (rel on links, customers or peers on ASes)",
            )


def _check_method(check: MethodCheck, i: int, topology: Topology, fail: Fail) -> None:
    """A resolution check's method must be one the topology's service publishes."""
    service = topology.service
    if service is None:
        fail(
            f"expect[{i}].method",
            f"topology {topology.name!r} has no service block, so nothing publishes "
            f"{check.method}: give it service: {{publish: {check.method}}} (or both)",
        )
    elif check.method not in service.methods():
        fail(
            f"expect[{i}].method",
            f"{check.method} is not published: topology {topology.name!r} has service.publish: "
            f"{service.publish} (set it to both, or to {check.method})",
        )


def _check_attack_event(event: AttackStart, i: int, topology: Topology, fail: Fail) -> None:
    """An attack needs sources, and an event's own rate stays under the ceilings."""
    spec = topology.attackers
    if spec is None:
        fail(
            f"timeline[{i}]",
            "no attackers declared: give the topology or the scenario an attackers block "
            "(ases or share, rate)",
        )
        return
    if event.rate is not None:
        sources = len(attack_sources(topology))
        for field_, problem in limits.problems(event.rate, sources, spec.size):
            if field_ == "rate":
                fail(f"timeline[{i}].rate", problem)


def _detection_s(topology: Topology, plan: Plan, site: str) -> Tuple[float, str]:
    """How long the upstreams of ``site`` take at most to notice it went silent.

    Per uplink: the hold time both ends agree on (the lower), or BFD's
    ``multiplier x interval`` when both ends run BFD (never with a Ryu or ExaBGP site);
    the site's figure is its slowest uplink.

    Returns:
        (seconds, what sets them: ``hold time`` or ``BFD``).
    """
    no_bfd = any(s.name == site and s.speaker != "frr" for s in topology.sites)
    worst: Tuple[float, str] = (0.0, "hold time")
    for mine in plan.routers[site].neighbors:
        theirs = next((n for n in plan.routers[mine.peer].neighbors if n.peer == site), mine)
        found: Tuple[float, str] = (float(min(mine.timers.hold, theirs.timers.hold)), "hold time")
        if mine.bfd and theirs.bfd and not no_bfd:
            bfd = theirs.bfd_interval * theirs.bfd_multiplier / 1000.0
            found = min(found, (bfd, "BFD detection time"))
        worst = max(worst, found)
    return worst


def timeline_warnings(scenario: Scenario, topology: Topology) -> List[str]:
    """Timelines that are valid but will not show what they seem to ask for.

    A ``silent`` site failure is noticed only when the hold timer (or BFD)
    expires: a ``restore`` that comes sooner undoes the failure before BGP
    saw it, so no client moves.  ``busiest`` counts as every site.  A
    ``set_communities`` with ``graceful-shutdown`` on a topology whose routers
    have no community policy (:func:`communities_warnings`) changes nothing.

    Args:
        scenario: the validated scenario.
        topology: the topology it runs on (scenario timers and overrides applied).

    Returns:
        One line per problem, empty when there is none.
    """
    sites = [s.name for s in topology.sites]
    out: List[str] = communities_warnings(scenario, topology)
    plan: Optional[Plan] = None
    for i, event in enumerate(scenario.timeline):
        if event.event != "fail_site" or getattr(event, "how", None) != "silent":
            continue
        later = next(
            (
                (j, e)
                for j, e in enumerate(scenario.timeline[i + 1 :], start=i + 1)
                if e.event == "restore"
                and (e.site == event.site or BUSIEST in (e.site, event.site))
            ),
            None,
        )
        if later is None:
            continue
        j, restore = later
        candidates = sites if BUSIEST in (event.site, restore.site) else [event.site]
        plan = plan or make_plan(topology)
        figures = {s: _detection_s(topology, plan, s) for s in candidates if s in sites}
        if not figures:
            continue
        site = max(figures, key=lambda name: figures[name][0])
        needed, what = figures[site]
        gap = restore.at - event.at
        if gap < needed:
            alike = len({f[0] for f in figures.values()}) == 1
            whose = "" if alike else f" of site {site}"
            out.append(
                f"timeline[{j}]: the restore at {restore.at:g} s comes {gap:g} s after the "
                f"silent failure of timeline[{i}] ({event.site}), sooner than the {what}{whose} "
                f"({needed:g} s): BGP may never notice the failure, so no client moves"
            )
    return out


def _check_communities_speaker(
    event: SetCommunities, i: int, topology: Topology, fail: Fail
) -> None:
    """``set_communities`` needs a speaker that can attach communities (not Ryu)."""
    cannot = [
        s for s in topology.sites if s.speaker in NO_COMMUNITIES and event.site in (s.name, BUSIEST)
    ]
    if cannot:
        site = cannot[0]
        which = f"site {site.name!r}" + (
            " (it may be the busiest)" if event.site == BUSIEST else ""
        )
        fail(
            f"timeline[{i}].site",
            f"{which} runs speaker {site.speaker}, which cannot attach communities "
            f"({NO_COMMUNITIES[site.speaker]}): use speaker frr or exabgp",
        )


def communities_warnings(scenario: Scenario, topology: Topology) -> List[str]:
    """``graceful-shutdown`` sent where no router acts on it.

    The upstreams honour it (local preference 0) through the community
    policy the plan renders for a topology with relationships, communities
    or action communities; without any, the community is sent but ignored.
    """
    if uses_policy(topology):
        return []
    return [
        f"timeline[{i}]: topology {topology.name!r} declares no relationships, communities "
        "or action communities, so its routers have no community policy: graceful-shutdown "
        "is sent but no upstream acts on it (use a topology with relationships or "
        "communities, such as world-policy)"
        for i, event in enumerate(scenario.timeline)
        if isinstance(event, SetCommunities) and "graceful-shutdown" in event.communities
    ]


def _unknown(what: str, name: str, topology: Topology, known: List[str]) -> str:
    return f"no {what} {name!r} in topology {topology.name!r} ({what}s: {', '.join(known)})"


def _check_link(event: LinkEvent, i: int, topology: Topology, fail: Fail) -> None:
    plan = make_plan(topology)
    nodes: Set[str] = set(plan.routers) | set(plan.hosts)
    ends = []
    for end in ("a", "b"):
        name = getattr(event, end)
        node = name if name in nodes else resolve_router(topology, name)
        if node is None:
            fail(f"timeline[{i}].{end}", f"no node or AS called {name!r} in {topology.name!r}")
        ends.append(node)
    linked = {frozenset((link.a.node, link.b.node)) for link in plan.links}
    if frozenset(ends) not in linked:
        fail(f"timeline[{i}]", f"{ends[0]!r} and {ends[1]!r} are not linked")
