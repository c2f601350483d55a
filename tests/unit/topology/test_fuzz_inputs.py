"""Fuzz the loaders: random mutations of the shipped files end valid or in one InputError.

Every shipped topology and scenario is mutated at random (a leaf replaced by
a nasty value, a key dropped or added, a list entry doubled, a line of the
YAML text doubled or cut) and fed through the same path as ``validate``,
``up`` and ``run``: strict YAML, the models, the whole-file checks, the plan
(addresses, sessions) and, for scenarios, the checks against the topology.
Each case must end in a valid model or in one :class:`InputError` of one
line naming where; any other exception is a bug.  Seeded (``derandomize``),
so a failure is the same on every machine.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable, List

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from testbed.errors import InputError
from testbed.inputfile import parse_yaml
from testbed.scenario.load import parse_scenario
from testbed.scenario.validate import validate_against
from testbed.topology.load import ROOT, load_topology, parse_topology
from testbed.topology.plan import make_plan
from testbed.topology.validate import topology_warnings

TOPOLOGIES = sorted((ROOT / "topologies").glob("*.yaml"))
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
NASTY: List[Any] = [
    None,
    True,
    False,
    "yes",
    "on",
    "",
    " ",
    "r1\n",
    "busiest",
    "all",
    "a" * 300,
    "ta",
    "world",
    -1,
    0,
    1,
    3,
    2**70,
    1e308,
    float("inf"),
    float("-inf"),
    float("nan"),
    0.5,
    "1:30",
    "20ms",
    "99999999s",
    "127.0.0.0/8",
    "100.64.0.0/24",
    "192.0.2.0/24",
    "192.0.2.0",
    "192.0.2.255",
    "10.0.0.1/24",
    [],
    {},
    ["ta", "ta"],
    [None],
    {"x": 1},
]
SETTINGS = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _paths(data: Any, here: tuple = ()) -> List[tuple]:
    """Every path to a value inside nested mappings and lists."""
    out = [here]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, here + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _paths(value, here + (i,))
    return out


def _parent(data: Any, path: tuple) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def mutate(data: Any, draw: Callable[[Any], Any]) -> Any:
    """One random structural mutation of plain data (a copy)."""
    data = copy.deepcopy(data)
    paths = [p for p in _paths(data) if p]
    path = draw(st.sampled_from(paths))
    parent, last = _parent(data, path), path[-1]
    action = draw(st.sampled_from(["replace", "replace", "drop", "double", "add", "swap"]))
    if action == "replace":
        parent[last] = copy.deepcopy(draw(st.sampled_from(NASTY)))
    elif action == "drop":
        if isinstance(parent, dict):
            del parent[last]
        else:
            parent.pop(last)
    elif action == "double" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    elif action == "add" and isinstance(parent, dict):
        parent[draw(st.sampled_from(["extra", "name", "as", "upstream", "prefix"]))] = (
            copy.deepcopy(draw(st.sampled_from(NASTY)))
        )
    elif action == "swap":
        other = draw(st.sampled_from(paths))
        try:
            value = copy.deepcopy(_parent(data, other)[other[-1]])
        except (KeyError, IndexError, TypeError):
            return data
        parent[last] = value
    return data


def text_mutate(text: str, draw: Callable[[Any], Any]) -> str:
    """One random line-level mutation of YAML text."""
    lines = text.splitlines(keepends=True)
    i = draw(st.integers(0, len(lines) - 1))
    action = draw(st.sampled_from(["double", "cut", "indent", "dedent", "char"]))
    if action == "double":
        lines.insert(i, lines[i])
    elif action == "cut":
        lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))] + "\n"
    elif action == "indent":
        lines[i] = "  " + lines[i]
    elif action == "dedent":
        lines[i] = lines[i].lstrip()
    else:
        j = draw(st.integers(0, max(0, len(lines[i]) - 1)))
        ch = draw(st.sampled_from(list(":-[]{}&*!|>'\"%@`#,?\t\x00é")))
        lines[i] = lines[i][:j] + ch + lines[i][j:]
    return "".join(lines)


def one_line(exc: InputError) -> None:
    text = str(exc)
    assert text and "\n" not in text, repr(text)
    assert exc.source or exc.field, text


def through_topology(data: Any) -> None:
    """The checks ``validate``/``up`` make on a topology, up to the plan."""
    try:
        topo = parse_topology(data, "fuzz.yaml")
    except InputError as exc:
        one_line(exc)
        return
    plan = make_plan(topo)  # a valid topology must plan without error
    assert plan.routers
    for warning in topology_warnings(topo):
        assert "\n" not in warning


def through_scenario(data: Any, topo: Any) -> None:
    """The checks ``validate``/``run`` make on a scenario against its topology."""
    try:
        scenario = parse_scenario(data, "fuzz.yaml")
        validate_against(scenario, topo, "fuzz.yaml")
    except InputError as exc:
        one_line(exc)


@pytest.mark.parametrize("path", TOPOLOGIES, ids=lambda p: p.stem)
@SETTINGS
@given(st.data())
def test_mutated_topologies_end_valid_or_in_one_line(path: Path, data) -> None:
    original = yaml.safe_load(path.read_text())
    mutated = original
    for _ in range(data.draw(st.integers(1, 3))):
        mutated = mutate(mutated, data.draw)
    through_topology(mutated)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
@settings(SETTINGS, max_examples=60)
@given(st.data())
def test_mutated_scenarios_end_valid_or_in_one_line(path: Path, data) -> None:
    original = yaml.safe_load(path.read_text())
    topo = load_topology(str(original.get("topology", "world")))
    mutated = original
    for _ in range(data.draw(st.integers(1, 3))):
        mutated = mutate(mutated, data.draw)
    through_scenario(mutated, topo)


@pytest.mark.parametrize("path", TOPOLOGIES + SCENARIOS, ids=lambda p: p.stem)
@settings(SETTINGS, max_examples=60)
@given(st.data())
def test_mutated_yaml_text_ends_valid_or_in_one_line(path: Path, data) -> None:
    text = text_mutate(path.read_text(), data.draw)
    try:
        parsed = parse_yaml(text, "fuzz.yaml")
    except InputError as exc:
        one_line(exc)
        return
    if path.parent.name == "topologies":
        through_topology(parsed)
    else:
        through_scenario(parsed, load_topology("world"))


SET_KEYS = [
    "duration",
    "settle",
    "speaker",
    "bfd",
    "bgp.hold",
    "bgp.keepalive",
    "traffic.dns_rate",
    "timeline.0.at",
    "timeline.0.site",
    "expect.0.below",
    "health.sites",
    "topology",
    "topology.sites",
    "topology.sites.0",
    "topology.sites.0.prefix",
    "topology.sites.0.upstream",
    "topology.links.0.delay",
    "topology.ases.0.asn",
    "topology.ases.0.name",
    "topology.clients",
    "topology.bfd.interval",
]
SET_VALUES = [
    "",
    "5",
    "0",
    "-1",
    "true",
    "on",
    ".inf",
    ".nan",
    "[]",
    "{}",
    "[a, a]",
    "x: y",
    "1e999",
    "busiest",
    "two-sites",
    "chain:0",
    "ryu",
    "127.0.0.0/8",
    "{a: [}",
    "'r1\\n'",
]


@settings(SETTINGS, max_examples=200)
@given(st.lists(st.tuples(st.sampled_from(SET_KEYS), st.sampled_from(SET_VALUES)), max_size=3))
def test_random_set_overrides_end_valid_or_in_one_line(pairs) -> None:
    from testbed.scenario.load import load_scenario, scenario_topology

    items = [f"{key}={value}" for key, value in pairs]
    try:
        loaded = load_scenario("two-sites-failover", items)
        topo = scenario_topology(loaded)
    except InputError as exc:
        one_line(exc)
        return
    assert make_plan(topo).routers
