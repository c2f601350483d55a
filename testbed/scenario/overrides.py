"""The ``--set KEY=VALUE`` language: parsing, applying, and blaming its items.

``--set`` items change a scenario before it is validated (``duration=30``,
``traffic.dns_rate=50``, ``bgp.hold=9``, ``timeline.0.at=12``) or, for the
topology keys (``speaker=ryu``, ``topology.bfd.enabled=true``), the topology
it runs on.  A value is YAML (``30``, ``true``, ``[a, b]``); a key is a
dotted path into the data, digits indexing lists; ``bfd=on`` is a shorthand
for ``bfd.enabled=true``.

An error about an item names ``--set`` and the key as typed
(``--set: timeline.5.at: no timeline[5]: ...``).  Where the fact is known
when the item is applied (a bad key, a missing list entry) it is raised
there; where it is only found when the whole is validated, :func:`reattribute`
blames the item that wrote the field.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

from testbed.errors import InputError
from testbed.inputfile import parse_yaml
from testbed.scenario.model import Scenario
from testbed.topology.model import Topology

#: ``--set`` keys that change the topology rather than the scenario.
TOPOLOGY_KEYS = ("speaker", "daemon")
TOPOLOGY_PREFIX = "topology."
#: Where ``--set`` errors are reported (in place of a file name).
SET_SOURCE = "--set"
#: Scenario keys that take on/off for one of their fields: ``bfd=on`` is ``bfd.enabled=true``.
SHORTHANDS = {"bfd": "enabled", "bgp.dampening": "enabled"}


# ------------------------------------------------------------------- parsing
def parse_overrides(items: Iterable[str]) -> List[Tuple[str, Any]]:
    """Split ``KEY=VALUE`` items; values are parsed as YAML (``30``, ``true``, ``[a, b]``).

    Args:
        items: the ``--set`` arguments.

    Returns:
        (key, value) pairs in the given order.

    Raises:
        InputError: an item without ``=``, an empty key, or a value that is not YAML.
    """
    out: List[Tuple[str, Any]] = []
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"expected KEY=VALUE, got {item!r}", SET_SOURCE)
        if any(not seg for seg in key.split(".")):
            raise InputError("empty part in the key", SET_SOURCE, key)
        try:
            value = parse_yaml(text, SET_SOURCE) if text.strip() else None
        except InputError as exc:
            raise InputError(
                f"value {text!r} is not valid YAML ({exc.message})", SET_SOURCE, key
            ) from None
        out.append((key, value))
    return out


def split_overrides(
    pairs: Iterable[Tuple[str, Any]],
) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """Sort ``--set`` pairs into scenario and topology overrides.

    Args:
        pairs: (key, value) from :func:`parse_overrides`.

    Returns:
        (scenario overrides, topology overrides); topology keys lose their
        ``topology.`` prefix.

    Raises:
        InputError: a key that is neither a scenario nor a topology key.
    """
    scenario: Dict[str, Any] = {}
    topology: Dict[str, Any] = {}
    topo_fields = {f.alias or name for name, f in Topology.model_fields.items()}
    for key, value in pairs:
        head = key.split(".")[0]
        if key.startswith(TOPOLOGY_PREFIX):
            rest = key[len(TOPOLOGY_PREFIX) :]
            if rest.split(".")[0] not in topo_fields:
                raise InputError(
                    f"unknown topology key (topology keys: {', '.join(sorted(topo_fields))})",
                    SET_SOURCE,
                    key,
                )
            topology[rest] = value
        elif key in TOPOLOGY_KEYS:
            topology[key] = value
        elif head in Scenario.model_fields:
            scenario[key] = value
        else:
            known = ", ".join(Scenario.model_fields)
            topo = ", ".join(TOPOLOGY_KEYS)
            raise InputError(
                f"unknown key (scenario keys: {known}; topology keys: {topo}, topology.FIELD)",
                SET_SOURCE,
                key,
            )
    return scenario, topology


def expand_shorthands(overrides: Mapping[str, Any]) -> Dict[str, Any]:
    """The overrides with every shorthand spelled out: ``bfd=on`` as ``bfd.enabled=true``.

    Raises:
        InputError: a shorthand key whose value is not on/off (true/false).
    """
    out: Dict[str, Any] = {}
    for key, value in overrides.items():
        if key in SHORTHANDS and not isinstance(value, dict):
            if isinstance(value, str) and value.strip().lower() in ("on", "off"):
                value = value.strip().lower() == "on"
            if not isinstance(value, bool):
                raise InputError(f"must be on or off (got {show(value)!r})", SET_SOURCE, key)
            key = f"{key}.{SHORTHANDS[key]}"
        out[key] = value
    return out


# ------------------------------------------------------------------ applying
def apply_overrides(data: Dict[str, Any], overrides: Mapping[str, Any]) -> Dict[str, Any]:
    """A copy of a scenario's data with (expanded) overrides set.

    A shorthand written in the file (``bfd: on``) becomes its mapping first,
    so ``--set bfd.interval=100`` can go into it.

    Raises:
        InputError: from :func:`set_path`, naming the key.
    """
    data = copy.deepcopy(data)
    for name, sub in SHORTHANDS.items():
        *path, last = name.split(".")
        holder: Any = data
        for seg in path:
            holder = holder.get(seg) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and isinstance(holder.get(last), (bool, str)):
            holder[last] = {sub: holder[last]}  # `bfd: on` in the file
    for key, value in overrides.items():
        set_path(data, key, value)
    return data


def set_path(data: Dict[str, Any], key: str, value: Any, name: Optional[str] = None) -> None:
    """Set a dotted key (``timeline.0.at``) in plain data; list indices must exist.

    Args:
        data: the mapping read from a file (changed in place).
        key: the dotted key; digits index lists.
        value: the new value.
        name: the key as typed after ``--set``, for errors (default: ``key``;
            a topology key is ``topology.`` + ``key``).

    Raises:
        InputError: a list index that does not exist, or a path through a value
            that is neither a mapping nor a list (``--set: NAME: ...``).
    """
    name = name or key
    segs = key.split(".")
    cur: Any = data
    done = ""
    for n, seg in enumerate(segs):
        last = n == len(segs) - 1
        if isinstance(cur, list):
            if not seg.isdigit() or int(seg) >= len(cur):
                what = f"{done}[{seg}]" if seg.isdigit() else f"{done}.{seg}"
                raise InputError(
                    f"no {what}: {done} has {len(cur)} entries, numbered from 0",
                    SET_SOURCE,
                    name,
                )
            index = int(seg)
            if last:
                cur[index] = value
            else:
                cur = cur[index]
        elif isinstance(cur, dict):
            if last:
                cur[seg] = value
            else:
                if cur.get(seg) is None:
                    if segs[n + 1].isdigit():
                        here = key_field(f"{done}.{seg}" if done else seg)
                        raise InputError(f"no {here}[{segs[n + 1]}]: it is empty", SET_SOURCE, name)
                    cur[seg] = {}
                cur = cur[seg]
        else:
            raise InputError(
                f"{key_field(done)} is a single value, not a mapping", SET_SOURCE, name
            )
        done = f"{done}.{seg}" if done else seg


# ------------------------------------------------------------------- showing
def show(value: Any) -> str:
    """A value as it would be typed after ``--set KEY=``."""
    if isinstance(value, str):
        return value
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def key_field(key: str) -> str:
    """A dotted ``--set`` key in the form of an error field: ``timeline[0].at``."""
    out = ""
    for seg in key.split("."):
        out += f"[{seg}]" if seg.isdigit() else ("." if out else "") + seg
    return out


def with_sets(exc: InputError, *overrides: Mapping[str, Any]) -> InputError:
    """The error, saying which ``--set`` overrides were in force (if any).

    For a rule between fields (an event after the end of a shortened
    ``duration``) the file's field is named, and the items that may have
    broken it are listed: ``(with --set duration=30)``.

    Args:
        exc: the error, naming the file and field.
        overrides: the scenario overrides, then the topology overrides (whose
            keys are shown with ``topology.`` unless they are
            :data:`TOPOLOGY_KEYS`).
    """
    given = " ".join(
        f"{TOPOLOGY_PREFIX if i and k not in TOPOLOGY_KEYS else ''}{k}={show(v)}"
        for i, over in enumerate(overrides)
        for k, v in over.items()
    )
    if not given:
        return exc
    return InputError(f"{exc.message} (with --set {given})", exc.source, exc.field)


# ------------------------------------------------------------------- blaming
def overlaps(a: str, b: str) -> bool:
    """True when two error fields are the same or one holds the other (``bgp``, ``bgp.hold``)."""
    for x, y in ((a, b), (b, a)):
        if x == y or x.startswith(y + ".") or x.startswith(y + "["):
            return True
    return False


@dataclass(frozen=True)
class Origin:
    """Where the value of a field came from, to be blamed for an error about it.

    Attributes:
        field: the field as errors name it (``timeline[0].at``, ``sites[1].speaker``).
        source: :data:`SET_SOURCE`, or the scenario file.
        name: the ``--set`` key as typed, or the scenario's field.
        note: words added to the message (``in topology 'world'``).
    """

    field: str
    source: Optional[str]
    name: str
    note: str = ""


def set_origins(overrides: Mapping[str, Any], prefix: str = "") -> List[Origin]:
    """The fields ``--set`` items wrote, in command-line order (``prefix`` + key as typed)."""
    return [Origin(key_field(key), SET_SOURCE, prefix + key) for key in overrides]


def reattribute(exc: InputError, origins: Sequence[Origin]) -> InputError:
    """The error, blamed on the origin of the field it is about (the last one that fits).

    Why this is needed: ``--set`` items and a scenario's settings are written
    into plain data that is validated afterwards, as a whole, by the topology
    or scenario model and its cross-field checks.  The validation knows the
    field and the problem but not where the value came from; the code that
    wrote the value knows that but not whether it is valid.  So the error of
    the validation is blamed here, on what wrote its field (or a field that
    holds it, or one it holds): ``--set: bgp.hold: ...`` rather than
    ``topology world: bgp: ...``.  The last origin that fits wins, as a later
    ``--set`` item overrides an earlier one.  An error about no written field
    is returned as it is.
    """
    where = exc.field or ""
    for origin in reversed(origins):
        if overlaps(where, origin.field):
            return InputError(exc.message + origin.note, origin.source, origin.name)
    return exc


__all__ = [
    "SET_SOURCE",
    "SHORTHANDS",
    "TOPOLOGY_KEYS",
    "TOPOLOGY_PREFIX",
    "Origin",
    "apply_overrides",
    "expand_shorthands",
    "key_field",
    "overlaps",
    "parse_overrides",
    "reattribute",
    "set_origins",
    "set_path",
    "show",
    "split_overrides",
    "with_sets",
]
