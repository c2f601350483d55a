"""Three ways of deciding one route on one BGP session, for comparing them (pure).

- :func:`intended`: what the plan's :class:`~testbed.topology.plan.NeighborPolicy`
  (and the session's prepend, MED and local preference) mean, with FRR's
  route-map semantics: entry 10's sets, then the further entries in order;
  a match on a deny entry rejects, a permit applies its sets and ends unless
  it goes on (``on-match next``); a route whose last tried entry did not
  match is denied.
- :func:`frr_decides`: the rendered frr.conf's route-map, read back from the
  text (its community lists and entries) and run with those semantics.
- :func:`bird_decides`: the rendered bird.conf's filter, read back from the
  text (its ``define``\\ d sets and statements) and run with BIRD's: the
  statements in order, ``LIST ~ SET`` true when the list holds any of the
  set's members, ``accept``/``reject`` end it, and a filter that ends
  without either is an error.

The readers know exactly the subset the templates write and fail on
anything else, so a template that writes something new must teach them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Dict, FrozenSet, List, Optional, Tuple

from testbed.topology.model import WELL_KNOWN_COMMUNITIES
from testbed.topology.plan import Neighbor, RouteMapEntry, RouterPlan


def numeric(value: str) -> str:
    """A community as numbers (``no-export`` -> ``65535:65281``)."""
    if value in WELL_KNOWN_COMMUNITIES:
        high, low = WELL_KNOWN_COMMUNITIES[value]
        return f"{high}:{low}"
    return value


@dataclass(frozen=True)
class Route:
    """The attributes a policy reads or sets (communities as numbers)."""

    communities: FrozenSet[str] = frozenset()
    large: FrozenSet[str] = frozenset()
    path: Tuple[int, ...] = ()
    local_pref: Optional[int] = None
    med: Optional[int] = None

    def has(self, value: str) -> bool:
        value = numeric(value)
        return value in (self.large if value.count(":") == 2 else self.communities)

    def add(self, value: str) -> Route:
        value = numeric(value)
        if value.count(":") == 2:
            return replace(self, large=self.large | {value})
        return replace(self, communities=self.communities | {value})

    def prepend(self, asn: int, times: int = 1) -> Route:
        return replace(self, path=(asn,) * times + self.path)


#: What a session does with a route: the route as sent on (or kept), or None (rejected).
Outcome = Optional[Route]


# ------------------------------------------------------------------ the plan's intent
def _apply(entry: RouteMapEntry, route: Route, asn: int) -> Route:
    route = route.prepend(asn, entry.prepend)
    if entry.local_pref is not None:
        route = replace(route, local_pref=entry.local_pref)
    return route


def _route_map(entries: List[RouteMapEntry], route: Route, asn: int) -> Outcome:
    """FRR's route-map semantics over the entries after 10 (entry 10 already applied)."""
    if not entries:
        return route
    matched = False
    for entry in entries:
        matched = entry.match is None or any(route.has(v) for v in entry.match.values)
        if not matched:
            continue
        if not entry.permit:
            return None
        route = _apply(entry, route, asn)
        if not entry.next:
            return route
    return route if matched else None


def intended(router: RouterPlan, n: Neighbor, direction: str, route: Route) -> Outcome:
    """What the plan means for ``route`` received from (``in``) or sent to (``out``) ``n``."""
    p = n.policy
    if direction == "in":
        if p and p.tag:
            route = route.add(p.tag)
        if n.local_pref is not None:
            route = replace(route, local_pref=n.local_pref)
        return _route_map(p.imports if p else [], route, router.asn)
    route = route.prepend(router.asn, n.prepend)
    if n.med is not None:
        route = replace(route, med=n.med)
    for c in (p.communities + p.large_communities) if p else []:
        route = route.add(c)
    return _route_map(p.exports if p else [], route, router.asn)


# ------------------------------------------------------------------ frr.conf read back
_LIST = re.compile(r"^bgp (large-)?community-list standard (\S+) seq \d+ permit (\S+)$")
_ENTRY = re.compile(r"^route-map (\S+) (permit|deny) (\d+)$")


@dataclass
class _FrrEntry:
    seq: int
    permit: bool
    lines: List[str]


def _frr_parse(text: str) -> Tuple[Dict[str, List[str]], Dict[str, List[_FrrEntry]]]:
    lists: Dict[str, List[str]] = {}
    maps: Dict[str, List[_FrrEntry]] = {}
    current: Optional[_FrrEntry] = None
    for line in text.splitlines():
        m = _LIST.match(line)
        if m:
            lists.setdefault(m.group(2), []).append(m.group(3))
            continue
        m = _ENTRY.match(line)
        if m:
            current = _FrrEntry(int(m.group(3)), m.group(2) == "permit", [])
            maps.setdefault(m.group(1), []).append(current)
            continue
        if current is not None:
            if line == "exit":
                current = None
            else:
                current.lines.append(line.strip())
    for entries in maps.values():
        entries.sort(key=lambda e: e.seq)
    return lists, maps


def frr_decides(config: str, name: str, route: Route) -> Outcome:
    """Run the route-map ``name`` of a rendered frr.conf on ``route``."""
    lists, maps = _frr_parse(config)
    entries = maps[name]
    matched = False
    for entry in entries:
        goes_on = False
        matched = True
        sets: List[str] = []
        for line in entry.lines:
            words = line.split()
            if words[:2] in (["match", "community"], ["match", "large-community"]):
                matched = matched and any(route.has(v) for v in lists[words[2]])
            elif line == "on-match next":
                goes_on = True
            elif words[0] == "set":
                sets.append(line)
            else:
                raise AssertionError(f"route-map {name}: unknown line {line!r}")
        if not matched:
            continue
        if not entry.permit:
            return None
        for line in sets:
            words = line.split()
            if words[1] in ("community", "large-community"):
                assert words[-1] == "additive", line
                for value in words[2:-1]:
                    route = route.add(value)
            elif words[1] == "local-preference":
                route = replace(route, local_pref=int(words[2]))
            elif words[1] == "metric":
                route = replace(route, med=int(words[2]))
            elif words[1:3] == ["as-path", "prepend"]:
                route = replace(route, path=tuple(int(a) for a in words[3:]) + route.path)
            else:
                raise AssertionError(f"route-map {name}: unknown set {line!r}")
        if not goes_on:
            return route
    return route if matched else None


# ------------------------------------------------------------------ bird.conf read back
_DEFINE = re.compile(r"^define (\w+) = \[(.*)\];")
_TUPLE = re.compile(r"\(([\d, ]+)\)")
_IF = re.compile(r"^if (bgp_community|bgp_large_community) ~ (\w+) then (.*)$")


class _Done(Exception):
    def __init__(self, outcome: Outcome):
        self.outcome = outcome


def _bird_value(text: str) -> str:
    m = _TUPLE.fullmatch(text.strip())
    assert m, f"not a community: {text!r}"
    return ":".join(part.strip() for part in m.group(1).split(","))


def _bird_parse(text: str) -> Tuple[Dict[str, List[str]], Dict[str, List[str]]]:
    sets: Dict[str, List[str]] = {}
    filters: Dict[str, List[str]] = {}
    body: Optional[List[str]] = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        m = _DEFINE.match(line)
        if m:
            sets[m.group(1)] = [_bird_value(f"({v})") for v in _TUPLE.findall(m.group(2))]
            continue
        if raw.startswith("filter "):
            body = filters[raw.split()[1]] = []
        elif raw == "}" and body is not None:
            body = None
        elif body is not None and line and line != "{":
            body.append(line)
    return sets, filters


def _bird_statement(stmt: str, route: Route, sets: Dict[str, List[str]]) -> Route:
    stmt = stmt.strip()
    m = _IF.match(stmt)
    if m:
        members = sets[m.group(2)]
        held = route.large if m.group(1) == "bgp_large_community" else route.communities
        if not any(v in held for v in members):
            return route
        then = m.group(3).strip()
        if then.startswith("{"):
            assert then.endswith("}"), stmt
            for part in then[1:-1].split(";"):
                if part.strip():
                    route = _bird_statement(part + ";", route, sets)
            return route
        return _bird_statement(then, route, sets)
    if stmt == "accept;":
        raise _Done(route)
    if stmt == "reject;":
        raise _Done(None)
    m = re.fullmatch(r"(bgp_community|bgp_large_community)\.add\((\(.*\))\);", stmt)
    if m:
        return route.add(_bird_value(m.group(2)))
    m = re.fullmatch(r"bgp_path\.prepend\((\d+)\);", stmt)
    if m:
        return route.prepend(int(m.group(1)))
    m = re.fullmatch(r"bgp_(local_pref|med) = (\d+);", stmt)
    if m:
        key = "local_pref" if m.group(1) == "local_pref" else "med"
        return replace(route, **{key: int(m.group(2))})
    raise AssertionError(f"unknown BIRD statement {stmt!r}")


def bird_decides(config: str, name: str, route: Route) -> Outcome:
    """Run the filter ``name`` of a rendered bird.conf on ``route``."""
    sets, filters = _bird_parse(config)
    try:
        for stmt in filters[name]:
            route = _bird_statement(stmt, route, sets)
    except _Done as done:
        return done.outcome
    raise AssertionError(f"filter {name} ends without accept or reject (BIRD: an error)")
