"""The grid of a sweep: ``--param KEY=V1,V2,...`` values, crossed, repeated.

Each value is kept as typed (``off``, ``30``) and passed on as ``--set
KEY=VALUE``, so a parameter is any key ``--set`` takes (``bgp.hold``,
``bfd``, ``bfd.interval``, ``topology``, ``duration``...).  Runs are ordered
repeat by repeat: a sweep stopped early still has the whole grid once, as
far as it got.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Sequence, Tuple

from testbed.errors import InputError
from testbed.inputfile import parse_yaml

#: Where ``--param`` errors are reported.
PARAM_SOURCE = "--param"
MAX_RUNS = 10000


@dataclass(frozen=True)
class Param:
    """One swept parameter: a ``--set`` key and its values, as typed."""

    key: str
    values: Tuple[str, ...]


@dataclass(frozen=True)
class Point:
    """One run of the grid.

    Attributes:
        index: the run's number in the sweep, from 1.
        values: parameter key -> value as typed, in ``--param`` order.
        repeat: the repetition, from 1.
    """

    index: int
    values: Dict[str, str] = field(hash=False)
    repeat: int = 1

    def sets(self) -> List[str]:
        """The point's values as ``--set`` items (``KEY=VALUE``)."""
        return [f"{k}={v}" for k, v in self.values.items()]

    def label(self) -> str:
        """``bgp.hold=9 bfd=on #2``: the point in one short line."""
        return " ".join([*self.sets(), f"#{self.repeat}"])


def parse_param(text: str) -> Param:
    """Parse ``KEY=V1,V2,...``.

    Args:
        text: the ``--param`` argument.

    Returns:
        The parameter.

    Raises:
        InputError: no ``=``, an empty key, no or empty values, a value twice.
    """
    key, sep, rest = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError(f"expected KEY=V1,V2,..., got {text!r}", PARAM_SOURCE)
    values = tuple(v.strip() for v in rest.split(","))
    if not rest.strip() or any(not v for v in values):
        raise InputError(f"empty value in {rest!r} (give V1,V2,...)", PARAM_SOURCE, key)
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        raise InputError(f"value {twice[0]!r} is given twice", PARAM_SOURCE, key)
    return Param(key, values)


def parse_params(items: Iterable[str], sets: Sequence[str] = ()) -> List[Param]:
    """Parse every ``--param``; a key may be swept once and not also be ``--set``.

    Args:
        items: the ``--param`` arguments.
        sets: the ``--set`` arguments (their keys must not be swept).

    Returns:
        The parameters in the given order.

    Raises:
        InputError: a bad ``--param``, a key swept twice, or swept and set.
    """
    params: List[Param] = []
    fixed = {s.partition("=")[0].strip() for s in sets}
    for item in items:
        param = parse_param(item)
        if any(p.key == param.key for p in params):
            raise InputError(
                "swept twice (give all values in one --param)", PARAM_SOURCE, param.key
            )
        if param.key in fixed:
            raise InputError("also given with --set (sweep it or fix it)", PARAM_SOURCE, param.key)
        params.append(param)
    return params


def expand(params: Sequence[Param], repeat: int = 1) -> List[Point]:
    """Every combination of the parameters' values, ``repeat`` times.

    Args:
        params: the swept parameters (none: one point, repeated).
        repeat: how many times each combination runs (at least 1).

    Returns:
        The points, repeat by repeat, combinations in ``--param`` order
        (the last parameter varies fastest).

    Raises:
        InputError: repeat below 1, or more than 10000 runs.
    """
    if repeat < 1:
        raise InputError(f"must be at least 1 (got {repeat})", "--repeat")
    combos = list(itertools.product(*(p.values for p in params)))
    if len(combos) * repeat > MAX_RUNS:
        raise InputError(f"{len(combos) * repeat} runs: at most {MAX_RUNS}", PARAM_SOURCE)
    points: List[Point] = []
    for r in range(1, repeat + 1):
        for combo in combos:
            values = {p.key: v for p, v in zip(params, combo, strict=True)}
            points.append(Point(len(points) + 1, values, r))
    return points


def typed(value: str) -> Any:
    """A value as ``--set`` reads it (strict YAML): ``30`` -> 30, ``true`` -> True, ``x`` -> 'x'."""
    try:
        return parse_yaml(value, "--param")
    except InputError:
        return value


def numeric(values: Iterable[str]) -> bool:
    """True when every value reads as a number (not a boolean)."""
    out = [typed(v) for v in values]
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in out)
