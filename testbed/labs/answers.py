"""Reading the files students write their answers and predictions in.

Answer files are small YAML mappings.  An unanswered question is ``null``
(the hand-out's value); anything else is parsed against what the variant
allows (its client and site names).  Problems become a message for a failed
check item, never an exception: a typo costs one item, not the whole check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple, Union

from testbed.errors import InputError
from testbed.inputfile import read_yaml

#: (value, problem): exactly one of them is None.
Parsed = Tuple[Any, Optional[str]]
#: Parses one question's value from the file (``None`` when unanswered).
Parser = Callable[[Any], Parsed]
UNANSWERED = "not answered yet (still null)"


def read_answers(path: Path) -> Tuple[Dict[str, Any], Optional[str]]:
    """Read an answer file.

    Args:
        path: the YAML file.

    Returns:
        (mapping, None), or ({}, a one-line problem) when the file is missing
        or is not a YAML mapping.
    """
    if not path.exists():
        return {}, f"{path.name} is missing"
    try:
        data = read_yaml(path, path.name)
    except InputError as exc:
        return {}, str(exc)
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        return {}, f"{path.name} must hold a mapping (key: value lines)"
    return data, None


def parse_all(path: Path, questions: Dict[str, Parser]) -> Tuple[Dict[str, Any], Optional[str]]:
    """Read an answer file and parse every question in it.

    Args:
        path: the YAML file.
        questions: key -> the parser of its value (e.g. ``lambda x: number(x, 0, 600)``).

    Returns:
        ({key: parsed value, None where it has a problem}, the first problem
        in ``questions`` order as ``key: problem``, or None); ({}, the file's
        problem) when it cannot be read (:func:`read_answers`).
    """
    return parse_read(read_answers(path), questions)


def parse_read(
    read: Tuple[Dict[str, Any], Optional[str]], questions: Dict[str, Parser]
) -> Tuple[Dict[str, Any], Optional[str]]:
    """:func:`parse_all` on a file already read (``LabContext.read_answers``)."""
    data, problem = read
    if problem:
        return {}, problem
    parsed = {key: parse(data.get(key)) for key, parse in questions.items()}
    given = {key: value for key, (value, _why) in parsed.items()}
    return given, first_problem({key: why for key, (_value, why) in parsed.items()})


def lookup(data: Dict[str, Any], key: str) -> Any:
    """A dotted key (``site_failure.tcp_reset``) in nested mappings; None when absent."""
    cur: Any = data
    for part in key.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def client_set(value: Any, clients: Iterable[str]) -> Parsed:
    """A list of client names (``[]`` is an answer: no client).

    Args:
        value: from the file.
        clients: the variant's client names.

    Returns:
        (set of names, None) or (None, problem).
    """
    known = set(clients)
    if value is None:
        return None, UNANSWERED
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return None, "must be a list of client names, e.g. [a, b], or [] for none"
    names: Set[str] = set()
    for name in value:
        if str(name) not in known:
            return None, f"{name!r} is not a client here (clients: {', '.join(sorted(known))})"
        names.add(str(name))
    return names, None


def client_sets(value: Any, keys: Iterable[str], clients: Iterable[str], what: str) -> Parsed:
    """A mapping that gives every key (a transit, say) a list of client names.

    Args:
        value: from the file.
        keys: the names every one of which needs a list (``[]`` is an answer).
        clients: the variant's client names.
        what: what the keys are, for messages (``transit``).

    Returns:
        ({key: set of names}, None) or (None, problem).
    """
    keys, clients = list(keys), list(clients)
    if value is None:
        return None, UNANSWERED
    if not isinstance(value, dict):
        return None, f"must give every {what} a list of client names ({what}: [a, b] lines)"
    for key in value:
        if key not in keys:
            return None, f"{key!r} is not a {what} here ({', '.join(keys)})"
    unanswered = [k for k in keys if value.get(k) is None]
    if unanswered:
        return None, f"no list for {', '.join(unanswered)} ([] for none)"
    out: Dict[str, Set[str]] = {}
    for key in keys:
        names, problem = client_set(value[key], clients)
        if problem:
            return None, f"{key}: {problem}"
        out[key] = names
    return out, None


def choice(value: Any, allowed: Iterable[str], what: str) -> Parsed:
    """One name out of a few (a site, an action).

    Args:
        value: from the file.
        allowed: the names accepted.
        what: what they are, for messages (``site``).

    Returns:
        (name, None) or (None, problem).
    """
    allowed = list(allowed)
    if value is None:
        return None, UNANSWERED
    if not isinstance(value, str) or value not in allowed:
        return None, f"{value!r} is not a {what} here ({', '.join(allowed)})"
    return value, None


def name_set(value: Any, allowed: Iterable[str], what: str) -> Parsed:
    """A list of names (sites, say; ``[]`` is an answer: none).

    Args:
        value: from the file.
        allowed: the names accepted.
        what: what they are, for messages (``site``).

    Returns:
        (set of names, None) or (None, problem).
    """
    allowed = list(allowed)
    if value is None:
        return None, UNANSWERED
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return None, f"must be a list of {what} names, e.g. [a, b], or [] for none"
    names: Set[str] = set()
    for name in value:
        if not isinstance(name, str) or name not in allowed:
            return None, f"{name!r} is not a {what} here ({what}s: {', '.join(allowed)})"
        names.add(name)
    return names, None


def site_map(value: Any, clients: Iterable[str], sites: Iterable[str]) -> Parsed:
    """A mapping client -> site covering every client.

    Args:
        value: from the file.
        clients: the variant's client names.
        sites: the site names allowed as values.

    Returns:
        (dict, None) or (None, problem).
    """
    clients, sites = list(clients), set(sites)
    if value is None:
        return None, UNANSWERED
    if not isinstance(value, dict):
        return None, "must map every client to a site (client: site lines)"
    unanswered = [c for c in clients if value.get(c) is None]
    if unanswered:
        return None, f"no site predicted for {', '.join(unanswered)}"
    out: Dict[str, str] = {}
    for client, site in value.items():
        if client not in clients:
            return None, f"{client!r} is not a client here"
        if str(site) not in sites:
            return None, f"{client}: {site!r} is not a site here ({', '.join(sorted(sites))})"
        out[client] = str(site)
    return out, None


def number(value: Any, low: float = 0.0, high: float = 1e9) -> Parsed:
    """A number within [low, high].

    Args:
        value: from the file.
        low: smallest allowed value.
        high: largest allowed value.

    Returns:
        (float, None) or (None, problem).
    """
    if value is None:
        return None, UNANSWERED
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, f"must be a number (got {value!r})"
    if not low <= float(value) <= high:
        return None, f"must be between {low:g} and {high:g} (got {value!r})"
    return float(value), None


def integer(value: Any, low: int = 0, high: int = 10**9) -> Parsed:
    """A whole number within [low, high] (``3`` or ``3.0``, not ``2.7`` nor ``"3"``).

    Args:
        value: from the file.
        low: smallest allowed value.
        high: largest allowed value.

    Returns:
        (int, None) or (None, problem).
    """
    if value is None:
        return None, UNANSWERED
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, f"must be a whole number (got {value!r})"
    if isinstance(value, float) and not value.is_integer():
        return None, f"must be a whole number (got {value!r})"
    if not low <= value <= high:
        return None, f"must be between {low} and {high} (got {value!r})"
    return int(value), None


def first_problem(problems: Dict[str, Optional[str]]) -> Optional[str]:
    """``key: problem`` of the first answer with a problem (None when all are fine)."""
    return next((f"{key}: {why}" for key, why in problems.items() if why), None)


def wrong_count(
    predicted: Union[Dict[str, str], Set[str]], actual: Any, universe: List[str]
) -> int:
    """How many clients a prediction gets wrong.

    Args:
        predicted: client -> site, or a set of clients.
        actual: the same kind, from the run or the reasoning.
        universe: every client name.

    Returns:
        The number of clients whose predicted value differs.
    """
    if isinstance(predicted, dict):
        return sum(1 for c in universe if predicted.get(c) != actual.get(c))
    return sum(1 for c in universe if (c in predicted) != (c in actual))
