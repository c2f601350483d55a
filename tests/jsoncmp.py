"""Structural comparison of JSON documents that names the first difference.

Like FRR topotests' ``json_cmp`` (``router_json_cmp`` on a router's ``show
... json`` against a reference file), but exact: every key of both sides,
every list item in order, and the JSON type of every value (``30`` is not
``30.0``, ``1`` is not ``true``).  The answer is the path of the first
difference and what each side has there, e.g.
``clients.paris.dns.outages[0].end: expected 10.604, got null``, so a
failing golden test says where to look.
"""

from __future__ import annotations

import json
from typing import Any, Optional


def _kind(value: Any) -> str:
    """The JSON type of a Python value from ``json.loads``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def json_diff(actual: Any, expected: Any, path: str = "") -> Optional[str]:
    """The first difference between two JSON values, or None when they are equal.

    Args:
        actual: what was produced (parsed JSON).
        expected: the reference (parsed JSON).
        path: where these values are (for the message; empty at the top).

    Returns:
        ``PATH: expected X, got Y`` (``PATH: missing key K`` /
        ``PATH: unexpected key K`` / ``PATH: expected N items, got M``), or None.
    """
    where = path or "(top level)"
    if _kind(actual) != _kind(expected):
        want, got = f"{_show(expected)} ({_kind(expected)})", f"{_show(actual)} ({_kind(actual)})"
        return f"{where}: expected {want}, got {got}"
    if isinstance(expected, dict):
        for key in sorted(expected):
            if key not in actual:
                return f"{where}: missing key {key!r} (expected {_show(expected[key])})"
        for key in sorted(actual):
            if key not in expected:
                return f"{where}: unexpected key {key!r} (got {_show(actual[key])})"
        for key in sorted(expected):
            found = json_diff(actual[key], expected[key], _key(path, key))
            if found:
                return found
        return None
    if isinstance(expected, list):
        for i, (a, e) in enumerate(zip(actual, expected, strict=False)):  # then the lengths
            found = json_diff(a, e, f"{path}[{i}]")
            if found:
                return found
        if len(actual) != len(expected):
            return f"{where}: expected {len(expected)} items, got {len(actual)}"
        return None
    if actual != expected:
        return f"{where}: expected {_show(expected)}, got {_show(actual)}"
    return None
