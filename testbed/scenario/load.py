"""Load a scenario from a YAML file or a shipped name, with ``--set`` overrides.

``load_scenario("site-failure")`` reads ``scenarios/site-failure.yaml``;
``load_scenario("path/to/x.yaml")`` reads that file.  ``--set KEY=VALUE``
overrides change the scenario before it is validated (``duration=30``,
``traffic.dns_rate=50``, ``bgp.hold=9``, ``timeline.0.at=12``); the ones that
change the topology instead (``speaker=ryu``, ``topology.bfd.enabled=true``)
are returned apart, and :func:`scenario_topology` applies them.  Every error
is an :class:`~testbed.errors.InputError` naming the file (or ``--set``) and
the field, on one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, get_args

import yaml
from pydantic import ValidationError

from testbed.errors import InputError
from testbed.scenario import pyfile
from testbed.scenario.model import Check, Event, Scenario
from testbed.scenario.validate import validate, validate_against
from testbed.topology.load import ROOT, parse_topology, read_yaml
from testbed.topology.model import Topology

SCENARIO_DIR = ROOT / "scenarios"
#: The default scenario (``anycast-testbed run`` without a name).
DEFAULT_SCENARIO = "site-failure"
#: ``--set`` keys that change the topology rather than the scenario.
TOPOLOGY_KEYS = ("speaker",)
TOPOLOGY_PREFIX = "topology."
#: Where ``--set`` errors are reported (in place of a file name).
SET_SOURCE = "--set"
#: Scenario keys that take on/off for one of their fields: ``bfd=on`` is ``bfd.enabled=true``.
SHORTHANDS = {"bfd": "enabled"}


def _tags(union: Any, discriminator: str) -> Tuple[str, ...]:
    """The discriminator values of an annotated discriminated union."""
    members = get_args(get_args(union)[0])
    return tuple(tag for m in members for tag in get_args(m.model_fields[discriminator].annotation))


EVENT_KINDS = _tags(Event, "event")
CHECK_KINDS = _tags(Check, "check")
#: Parts of a pydantic error location that name a type, not a field.
_TYPE_PREFIXES = ("function-", "union[", "tagged-union[", "literal[", "list[")
_TYPE_PARTS = ("str", "float", "int", "bool")


@dataclass
class LoadedScenario:
    """A validated scenario and what it needs from the command line.

    Attributes:
        scenario: the scenario, ``--set`` overrides applied and validated.
        source: the file it came from (for messages).
        topology_ref: the topology to load: the scenario's ``topology``, with a
            relative file path resolved against the scenario's folder.
        topology_overrides: ``--set`` overrides for the topology, keys relative
            to the topology (``speaker``, ``bfd.enabled``), in command-line order.
        overrides: the ``--set`` overrides applied to the scenario (key -> value).
    """

    scenario: Scenario
    source: str
    topology_ref: str
    topology_overrides: Dict[str, Any] = field(default_factory=dict)
    overrides: Dict[str, Any] = field(default_factory=dict)


# -------------------------------------------------------------------- errors
def error_field(loc: Sequence[Any]) -> str:
    """Render a pydantic error location as ``timeline[2].how``.

    Event and check kinds that pydantic puts in the location of a union
    member (``timeline, 2, fail_site, how``) are left out.
    """
    out = ""
    previous: Any = None
    for part in loc:
        tag = isinstance(previous, int) and part in EVENT_KINDS + CHECK_KINDS
        previous = part
        if isinstance(part, int):
            out += f"[{part}]"
        elif not (tag or part in _TYPE_PARTS or str(part).startswith(_TYPE_PREFIXES)):
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _choices(expected: str) -> str:
    """``"'a', 'b' or 'c'"`` (pydantic's wording) as ``a, b, c``."""
    return expected.replace(" or ", ", ").replace("'", "")


def _problem(err: Dict[str, Any]) -> Tuple[str, str]:
    """One pydantic error as (field, message)."""
    kind, ctx = err["type"], err.get("ctx") or {}
    field_ = error_field(tuple(err["loc"]))
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind == "extra_forbidden":
        msg = "unknown field"
    elif kind == "missing":
        msg = "required field is missing"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = str(ctx.get("discriminator", "")).strip("'")
        kinds = EVENT_KINDS if tag == "event" else CHECK_KINDS
        field_ = f"{field_}.{tag}"
        if kind == "union_tag_not_found":
            msg = f"required field is missing (one of {', '.join(kinds)})"
        else:
            msg = f"unknown {tag} {ctx.get('tag')!r} (one of {', '.join(kinds)})"
    elif kind == "literal_error":
        msg = f"must be one of {_choices(str(ctx.get('expected', '')))}"
        msg += f" (got {err['input']!r})"
    elif kind == "model_type" or kind == "model_attributes_type":
        msg = "must be a mapping"
    elif "input" in err and not isinstance(err["input"], (dict, list)) and "(got " not in msg:
        msg = f"{msg} (got {err['input']!r})"
    return field_, msg


def _norm(key: str) -> str:
    """A dotted ``--set`` key in the form of an error field: ``timeline[0].at``."""
    out = ""
    for seg in key.split("."):
        out += f"[{seg}]" if seg.isdigit() else ("." if out else "") + seg
    return out


def _overlaps(field_: str, key: str) -> bool:
    """True when an error in ``field_`` concerns the value set by ``--set key``."""
    norm = _norm(key)
    for a, b in ((field_, norm), (norm, field_)):
        if a == b or a.startswith(b + ".") or a.startswith(b + "["):
            return True
    return False


def _from_validation_error(
    exc: ValidationError, source: str, overrides: Iterable[str] = ()
) -> InputError:
    """Turn pydantic's first error into one InputError, blaming ``--set`` if it caused it."""
    field_, msg = _problem(exc.errors()[0])
    for key in reversed(list(overrides)):
        if _overlaps(field_, key):
            return InputError(msg, SET_SOURCE, key)
    return InputError(msg, source, field_)


# ----------------------------------------------------------------- overrides
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
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            raise InputError(f"value {text!r} is not valid YAML", SET_SOURCE, key) from None
        out.append((key, value))
    return out


def set_path(data: Dict[str, Any], key: str, value: Any) -> None:
    """Set a dotted key (``timeline.0.at``) in plain data; list indices must exist.

    Args:
        data: the mapping read from a file (changed in place).
        key: the dotted key; digits index lists.
        value: the new value.

    Raises:
        InputError: a list index that does not exist, or a path through a value
            that is neither a mapping nor a list.
    """
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
                    key,
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
                        here = _norm(f"{done}.{seg}" if done else seg)
                        raise InputError(f"no {here}[{segs[n + 1]}]: it is empty", SET_SOURCE, key)
                    cur[seg] = {}
                cur = cur[seg]
        else:
            raise InputError(f"{_norm(done)} is a single value, not a mapping", SET_SOURCE, key)
        done = f"{done}.{seg}" if done else seg


def _expand_shorthand(key: str, value: Any) -> Tuple[str, Any]:
    """``bfd=on`` as ``bfd.enabled=true``: a shorthand key with a scalar value.

    Raises:
        InputError: a shorthand key whose value is not on/off (true/false).
    """
    if key not in SHORTHANDS or isinstance(value, dict):
        return key, value
    if isinstance(value, str) and value.strip().lower() in ("on", "off"):
        value = value.strip().lower() == "on"
    if not isinstance(value, bool):
        raise InputError(f"must be on or off (got {_show(value)!r})", SET_SOURCE, key)
    return f"{key}.{SHORTHANDS[key]}", value


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


# ------------------------------------------------------------------- loading
def parse_scenario(data: Any, source: str, overrides: Optional[Dict[str, Any]] = None) -> Scenario:
    """Validate a scenario given as plain data (from YAML or Python), overrides applied.

    Args:
        data: the mapping read from the file (not changed).
        source: where it came from, for messages.
        overrides: scenario ``--set`` overrides (dotted key -> value).

    Returns:
        The validated scenario.

    Raises:
        InputError: naming the file or ``--set``, the field and the problem.
    """
    if not isinstance(data, dict):
        raise InputError("a scenario file must hold a mapping (name:, duration:, ...)", source)
    overrides = dict(_expand_shorthand(k, v) for k, v in (overrides or {}).items())
    if overrides:
        data = yaml.safe_load(yaml.safe_dump(data))  # a deep copy of plain data
        for name, sub in SHORTHANDS.items():
            if isinstance(data.get(name), (bool, str)):  # `bfd: on` in the file
                data[name] = {sub: data[name]}
        for key, value in overrides.items():
            set_path(data, key, value)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise _from_validation_error(exc, source, overrides) from None
    try:
        validate(scenario, source)
    except InputError as exc:
        raise _with_sets(exc, overrides) from None
    return scenario


def _with_sets(exc: InputError, *overrides: Dict[str, Any]) -> InputError:
    """The error, saying which ``--set`` overrides were in force (if any)."""
    given = " ".join(
        f"{TOPOLOGY_PREFIX if i and k not in TOPOLOGY_KEYS else ''}{k}={_show(v)}"
        for i, over in enumerate(overrides)
        for k, v in over.items()
    )
    if not given:
        return exc
    return InputError(f"{exc.message} (with --set {given})", exc.source, exc.field)


def _show(value: Any) -> str:
    """A value as it would be typed after ``--set KEY=``."""
    if isinstance(value, str):
        return value
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def scenario_path(ref: str) -> Path:
    """The file for a scenario reference (a path, or a name in scenarios/).

    A name is ``scenarios/NAME.yaml``, or ``scenarios/NAME.py`` when only
    that exists.
    """
    path = Path(ref)
    if path.suffix in (".yaml", ".yml", pyfile.SUFFIX) or "/" in ref:
        return path
    shipped = SCENARIO_DIR / f"{ref}.yaml"
    python = SCENARIO_DIR / f"{ref}{pyfile.SUFFIX}"
    return python if python.exists() and not shipped.exists() else shipped


def load_scenario(
    ref: str = DEFAULT_SCENARIO, overrides: Iterable[str] = (), topology: Optional[str] = None
) -> LoadedScenario:
    """Load a scenario by name or path, with ``--set KEY=VALUE`` overrides.

    Args:
        ref: ``site-failure`` (in scenarios/) or a file path (``.yaml``, or
            ``.py`` for a Python scenario, see :mod:`testbed.scenario.pyfile`).
        overrides: ``KEY=VALUE`` strings: scenario keys (``duration=30``,
            ``traffic.dns_rate=50``, ``timeline.0.at=12``) or topology keys
            (``speaker=ryu``, ``topology.FIELD...=VALUE``).
        topology: the topology the run will use instead of the scenario's
            (``--topology``); a Python scenario is generated for it.

    Returns:
        The validated scenario with its topology reference and topology overrides.

    Raises:
        InputError: unknown name, bad file, bad content, or a bad override.
    """
    scen_over, topo_over = split_overrides(parse_overrides(overrides))
    path = scenario_path(ref)
    if not path.exists():
        if path == SCENARIO_DIR / f"{ref}.yaml":
            known = ", ".join(n for n, _ in list_scenarios())
            raise InputError(f"no scenario {ref!r} (known: {known}; or give a file path)", ref)
        raise InputError("no such file", ref)
    source = _display(path)
    if path.suffix == pyfile.SUFFIX:
        data = _python_scenario(path, source, scen_over, topology)
    else:
        data = read_yaml(path)
    scenario = parse_scenario(data, source, scen_over)
    return LoadedScenario(
        scenario=scenario,
        source=source,
        topology_ref=_topology_ref(scenario.topology, path),
        topology_overrides=topo_over,
        overrides=scen_over,
    )


def _python_scenario(
    path: Path, source: str, overrides: Dict[str, Any], topology: Optional[str]
) -> Dict[str, Any]:
    """Import a Python scenario and call it on the topology it will run on.

    That topology is ``--topology``, else ``--set topology=...``, else the
    file's ``TOPOLOGY`` (``world`` by default).
    """
    from testbed.topology.load import load_topology

    module = pyfile.import_file(path, source)
    if topology:
        ref, blame = topology, ("--topology", None)
    elif "topology" in overrides:
        ref, blame = str(overrides["topology"]), (SET_SOURCE, "topology")
    else:
        ref, blame = pyfile.default_topology(module, source), (source, "TOPOLOGY")
    try:
        topo = load_topology(_topology_ref(ref, path))
    except InputError as exc:
        raise InputError(str(exc), *blame) from None
    data = pyfile.scenario_data(module, topo, source, path)
    data.setdefault("topology", ref)
    return data


def _display(path: Path) -> str:
    """A shipped scenario as ``scenarios/x.yaml``; any other file as given."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _topology_ref(ref: str, scenario_file: Path) -> str:
    """A relative topology file path resolved against the scenario's folder."""
    path = Path(ref)
    looks_like_file = path.suffix in (".yaml", ".yml") or "/" in ref
    if looks_like_file and not path.is_absolute():
        beside = scenario_file.parent / path
        if beside.exists():
            return str(beside)
    return ref


def list_scenarios() -> List[Tuple[str, str]]:
    """Shipped scenario files: (name, one-line description)."""
    out: List[Tuple[str, str]] = []
    for path in sorted(SCENARIO_DIR.glob(f"*{pyfile.SUFFIX}")):
        out.append((path.stem, pyfile.description(path)))
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        try:
            data: Dict[str, Any] = read_yaml(path) or {}
            desc = str(data.get("description", "")).strip().splitlines()
        except InputError as exc:
            desc = [f"(invalid: {exc})"]
        out.append((path.stem, desc[0] if desc else ""))
    return sorted(out)


# ------------------------------------------------------------------ topology
def effective_topology(
    topology: Topology,
    scenario: Optional[Scenario] = None,
    topology_overrides: Optional[Dict[str, Any]] = None,
    source: Optional[str] = None,
) -> Topology:
    """The topology a scenario runs on: its ``bgp`` timers, ``bfd`` and ``--set`` overrides applied.

    The scenario's timers replace the topology's defaults and the same fields of
    every ``sessions[].timers``; its ``bfd`` replaces the topology's (``enabled``
    also every ``sessions[].bfd``); then the topology overrides apply (``speaker``
    sets every site's speaker; other keys are dotted paths into the topology).

    Args:
        topology: the topology as loaded.
        scenario: the scenario (None: no timers to apply).
        topology_overrides: from :attr:`LoadedScenario.topology_overrides`.
        source: the scenario file, for messages.

    Returns:
        The topology, validated again (the input is returned unchanged when
        there is nothing to apply).

    Raises:
        InputError: the result is not a valid topology.
    """
    timers = scenario.bgp.given() if scenario is not None else {}
    bfd = scenario.bfd.given() if scenario is not None else {}
    health = scenario.health if scenario is not None else None
    overrides = topology_overrides or {}
    if not timers and not bfd and not overrides and health is None:
        return topology
    data = topology.model_dump(by_alias=True, exclude_unset=True, mode="json")
    if health is not None:
        agent = health.model_dump(mode="json", exclude={"sites"})
        for site in data.get("sites", []):
            if health.sites == "all" or site["name"] in health.sites:
                site["health"] = agent
    if timers:
        data.setdefault("bgp", {}).update(timers)
        for sess in data.get("sessions", []):
            for name in timers:
                (sess.get("timers") or {}).pop(name, None)
    if bfd:
        data.setdefault("bfd", {}).update(bfd)
        if "enabled" in bfd:  # on/off for every session, as the scenario says
            for sess in data.get("sessions", []):
                sess.pop("bfd", None)
    blame: List[Tuple[str, str]] = []  # (topology field, --set key)
    for key, value in overrides.items():
        if key == "speaker":
            for i, site in enumerate(data.get("sites", [])):
                site["speaker"] = value
                blame.append((f"sites[{i}].speaker", key))
        else:
            try:
                set_path(data, key, value)
            except InputError as exc:
                raise InputError(exc.message, SET_SOURCE, TOPOLOGY_PREFIX + key) from None
            blame.append((_norm(key), TOPOLOGY_PREFIX + key))
    try:
        return parse_topology(data, f"topology {topology.name}")
    except InputError as exc:
        where = exc.field or ""
        for field_, key in reversed(blame):
            if _overlaps(where, field_):
                raise InputError(exc.message, SET_SOURCE, key) from None
        if timers and (where == "bgp" or where.startswith(("bgp.", "sessions"))):
            message = exc.message
            if where.startswith("sessions"):  # a session's own timers clash with the scenario's
                message += f" in topology {topology.name!r}"
            raise InputError(message, source, "bgp") from None
        raise


def _load_scenario_topology(loaded: LoadedScenario) -> Topology:
    """Load the topology the scenario's ``topology`` field names.

    An error is blamed on that field: ``scenarios/x.yaml: topology: chain: N
    must be between 1 and 500, got 0`` (or ``--set: topology: ...`` when
    ``--set topology=...`` gave the reference), the topology's own file and
    field following.

    Raises:
        InputError: the topology cannot be loaded.
    """
    from testbed.topology.load import load_topology

    try:
        return load_topology(loaded.topology_ref)
    except InputError as exc:
        source = SET_SOURCE if "topology" in loaded.overrides else loaded.source
        raise InputError(str(exc), source, "topology") from None


def scenario_topology(loaded: LoadedScenario, topology: Optional[Topology] = None) -> Topology:
    """Load the scenario's topology, apply timers and overrides, check the scenario against it.

    Args:
        loaded: from :func:`load_scenario`.
        topology: the topology to use instead of loading ``loaded.topology_ref``.

    Returns:
        The topology to build.

    Raises:
        InputError: the topology cannot be loaded, overrides break it, or the
            scenario names sites, clients or links it does not have.
    """
    topo = topology if topology is not None else _load_scenario_topology(loaded)
    try:
        topo = effective_topology(topo, loaded.scenario, loaded.topology_overrides, loaded.source)
    except InputError as exc:
        timer_keys = [k for k in loaded.overrides if k.startswith("bgp.")]
        if exc.source == loaded.source and exc.field == "bgp" and timer_keys:
            raise InputError(exc.message, SET_SOURCE, timer_keys[-1]) from None
        raise
    try:
        validate_against(loaded.scenario, topo, loaded.source)
    except InputError as exc:
        raise _with_sets(exc, loaded.overrides, loaded.topology_overrides) from None
    return topo


__all__ = [
    "DEFAULT_SCENARIO",
    "LoadedScenario",
    "effective_topology",
    "list_scenarios",
    "load_scenario",
    "parse_overrides",
    "parse_scenario",
    "scenario_topology",
    "split_overrides",
]
