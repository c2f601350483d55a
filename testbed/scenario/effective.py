"""The topology a scenario runs on: the topology with the scenario's settings applied.

A scenario's ``bgp`` timers (and route-flap ``dampening``), ``bfd`` and
``health`` replace the topology's, then the ``--set`` topology overrides
apply (``speaker=ryu``, ``topology.bfd.enabled=true``); the result is
validated again as a topology.
An error that the change caused is blamed on what made it: the ``--set``
item, or the scenario's ``bgp``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from testbed.errors import InputError
from testbed.scenario.model import Scenario
from testbed.scenario.overrides import (
    SET_SOURCE,
    TOPOLOGY_PREFIX,
    Origin,
    key_field,
    reattribute,
    set_path,
)
from testbed.topology.load import parse_topology
from testbed.topology.model import Topology


def effective_topology(
    topology: Topology,
    scenario: Optional[Scenario] = None,
    topology_overrides: Optional[Dict[str, Any]] = None,
    source: Optional[str] = None,
    scenario_overrides: Optional[Mapping[str, Any]] = None,
) -> Topology:
    """The topology a scenario runs on: its ``bgp`` timers, ``bfd`` and ``--set`` overrides applied.

    The scenario's timers replace the topology's defaults and the same fields of
    every ``sessions[].timers``; its ``bfd`` replaces the topology's (``enabled``
    also every ``sessions[].bfd``); its ``health`` gives the sites it names a
    health agent; then the topology overrides apply (``speaker`` sets every
    site's speaker; other keys are dotted paths into the topology).

    Args:
        topology: the topology as loaded.
        scenario: the scenario (None: no settings to apply).
        topology_overrides: from
            :attr:`~testbed.scenario.load.LoadedScenario.topology_overrides`.
        source: the scenario file, for messages.
        scenario_overrides: the ``--set`` overrides applied to the scenario
            (:attr:`~testbed.scenario.load.LoadedScenario.overrides`): timers
            that clash with the topology's sessions are blamed on the last
            ``bgp.*`` one, else on the file's ``bgp``.

    Returns:
        The topology, validated again (the input is returned unchanged when
        there is nothing to apply).

    Raises:
        InputError: the result is not a valid topology.
    """
    timers = scenario.bgp.given() if scenario is not None else {}
    bfd = scenario.bfd.given() if scenario is not None else {}
    health = scenario.health if scenario is not None else None
    attackers = scenario.attackers if scenario is not None else None
    file_sets = scenario.topology_set if scenario is not None else {}
    overrides = topology_overrides or {}
    if not (timers or bfd or overrides or file_sets) and health is None and attackers is None:
        return topology
    data = topology.model_dump(by_alias=True, exclude_unset=True, mode="json")
    origins: List[Origin] = []
    if attackers is not None:
        data["attackers"] = attackers.model_dump(mode="json", exclude_unset=True)
        origins.append(Origin("attackers", source, "attackers"))
    if health is not None:
        agent = health.model_dump(mode="json", exclude={"sites"})
        for i, site in enumerate(data.get("sites", [])):
            if health.sites == "all" or site["name"] in health.sites:
                site["health"] = agent
                origins += _health_origins(i, agent, source, scenario_overrides or {})
    if timers:
        damping = timers.pop("dampening", None)
        bgp = data.setdefault("bgp", {})
        bgp.update(timers)
        if damping is not None:  # the fields given replace the topology's, the rest stay
            old = bgp.get("dampening")
            bgp["dampening"] = {**(old if isinstance(old, dict) else {}), **damping}
        for sess in data.get("sessions", []):
            for name in timers:
                (sess.get("timers") or {}).pop(name, None)
        timer_keys = [k for k in scenario_overrides or {} if k.startswith("bgp.")]
        blamed = (SET_SOURCE, timer_keys[-1]) if timer_keys else (source, "bgp")
        in_topology = f" in topology {topology.name!r}"  # a session's own timers clash
        origins += [Origin("bgp", *blamed), Origin("sessions", *blamed, note=in_topology)]
    if bfd:
        data.setdefault("bfd", {}).update(bfd)
        if "enabled" in bfd:  # on/off for every session, as the scenario says
            for sess in data.get("sessions", []):
                sess.pop("bfd", None)
    for key, value in file_sets.items():
        set_path(data, key, value, f"topology_set.{key}")
        origins.append(Origin(key_field(key), source, f"topology_set.{key}"))
    for key, value in overrides.items():
        if key == "speaker":
            sites = data.get("sites")
            for i, site in enumerate(sites if isinstance(sites, list) else []):
                if isinstance(site, dict):  # another --set may have made it anything
                    site["speaker"] = value
                    origins.append(Origin(f"sites[{i}].speaker", SET_SOURCE, key))
        elif key == "daemon":  # every AS with routers: transit and eyeball ones
            ases = data.get("ases")
            for i, asys in enumerate(ases if isinstance(ases, list) else []):
                if isinstance(asys, dict) and asys.get("role") != "anycast":
                    asys["daemon"] = value
                    origins.append(Origin(f"ases[{i}].daemon", SET_SOURCE, key))
        else:
            set_path(data, key, value, TOPOLOGY_PREFIX + key)
            origins.append(Origin(key_field(key), SET_SOURCE, TOPOLOGY_PREFIX + key))
    try:
        return parse_topology(data, f"topology {topology.name}")
    except InputError as exc:
        raise reattribute(exc, origins) from None


def _health_origins(
    index: int, agent: Mapping[str, Any], source: Optional[str], sets: Mapping[str, Any]
) -> List[Origin]:
    """Blame errors about ``sites[index].health`` on the scenario's ``health`` (or ``--set``).

    A field's error (``min_sites`` asking for more sites than have agents)
    names the field: ``--set: health.min_sites`` when ``--set`` gave it,
    else the file's ``health.min_sites``.
    """
    out = [Origin(f"sites[{index}].health", source, "health")]
    for name in agent:
        key = f"health.{name}"
        origin = (SET_SOURCE, key) if key in sets else (source, key)
        out.append(Origin(f"sites[{index}].health.{name}", *origin))
    return out


__all__ = ["effective_topology"]
