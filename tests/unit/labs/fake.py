"""A stand-in for the scenario engine: the summary a lab run would give, by path reasoning.

Used by the checker unit tests (no root): it reads the topology (site
positions, prepends, BFD, health agents) and replays the scenario's timeline
on :mod:`testbed.labs.steering`'s shortest AS paths, ties by router ID (with
business relationships: Gao-Rexford routes, and the policy check's routers
without a route), writing the parts
of ``summary.json`` the checkers read (:meth:`FakeRun.data`; the model gives the others their
defaults).  Outages of site failures vary a little from run to run and from
client to client, as measured ones do (a deterministic jitter, seeded by the
student, the run and the client), so that two students' runs never give the
same figures.  A health agent that withdraws and checks a killed service
withdraws in its worst case (:func:`agent_withdraws`): for a service killed
and restored (lab 4's DNS restart) iff ``(fall - 1) * interval`` is at most
the time the service is away (:func:`service_away`), after a death within
``fall * interval + timeout``; its state changes go into ``health``.
:func:`student_run` writes what ``anycast-testbed run scenario.yaml --out
runs`` would leave in a working copy.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Sequence, Set, Tuple

from testbed.analysis.model import Summary
from testbed.labs import gslbdesign, remedies, steering
from testbed.labs.common import announced_prepend, uplink_neighbors
from testbed.labs.lab4 import BLIP_EARLY
from testbed.labs.variant import Variant
from testbed.rundir import write_yaml
from testbed.topology.model import Health, Topology
from testbed.topology.relationships import uses_relationships

#: Events that start and stop the attack (not phase boundaries).
ATTACK = ("attack_start", "attack_stop")


#: The TCP streams' timeout (testbed/probes/tcp.py ``--timeout``): no answer for this long.
STREAM_TIMEOUT_S = 3.0
#: BGP's convergence after a health agent's withdrawal (s).
AGENT_CONVERGENCE_S = 0.3
#: The services a ``kill_service`` kills, by its ``service``.
KILLED = {"dns": {"dns"}, "tcp": {"tcp"}, "all": {"dns", "tcp"}}


def jitter(*key: object) -> float:
    """A number in [0, 1), always the same for the same key."""
    digest = hashlib.sha256("|".join(map(str, key)).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


class FakeRun:
    """Callable like :func:`testbed.labs.runner.engine_runner`'s ``run``; counts its calls."""

    def __init__(self, variant: Variant, salt: str = "check"):
        self.variant = variant
        self.salt = salt
        self.calls: List[Dict[str, Any]] = []

    def __call__(self, topo: Topology, scenario: Dict[str, Any]) -> Summary:
        return Summary.model_validate(self.data(topo, scenario))

    def data(self, topo: Topology, scenario: Dict[str, Any]) -> Dict[str, Any]:
        """The run's summary.json object, with only the fields the checkers read."""
        self.calls.append(scenario)
        run = (self.variant.student, self.salt, len(self.calls))
        v = self.variant
        where = [s.name for s in topo.sites]
        prepend = {s.name: announced_prepend(topo, s.name) for s in topo.sites}
        health = {s.name: s.health for s in topo.sites}
        ups = {s.name: uplink_neighbors(topo, s.name) for s in topo.sites}
        bfd = {s: all(n.bfd for n in ns) for s, ns in ups.items()}
        hold = {s: min(n.timers.hold for n in ns) for s, ns in ups.items()}
        detect = {
            s: max((n.bfd_interval * n.bfd_multiplier for n in ns if n.bfd), default=0) / 1000
            for s, ns in ups.items()
        }
        clients = [c.name for c in v.clients]
        up = {s: True for s in where}
        policy = uses_relationships(topo)
        load = topo.attackers is not None  # lab 7: an attack, capacities
        # without relationships: the shortest AS path, ties by router ID (as the routers do)
        net = None if policy else steering.net_of(topo)

        def as_sites() -> Dict[str, str]:
            """AS -> its site, the sites up with their prepends."""
            assert net is not None
            announced = {s: u for s, u in net.sites.items() if up[s]}
            return steering.as_sites(dataclasses.replace(net, sites=announced, prepend=prepend))

        links_down: Set[Tuple[str, str]] = set()  # labs 1, 2, 6: links a `link` event took down

        def catchment() -> Dict[str, Any]:
            if policy:  # lab 6: Gao-Rexford on the topology's relationships (less the links down)
                return policy_catchment(
                    topo, {s for s in where if up[s]}, prepend, sorted(links_down)
                )
            if links_down:  # labs 1, 2: the variant's shortest paths on what is left
                roles = [r for r, s in v.site.items() if up.get(s.name)]
                counts = {r: prepend.get(s.name, 0) for r, s in v.site.items()}
                return v.catchment(*roles, prepend=counts, down=sorted(links_down))
            routed = as_sites()
            assert net is not None
            return {c: routed.get(asys) for c, asys in net.clients.items()}

        current = catchment()
        states = [(None, "start", as_sites() if load else {})]  # (event index, kind, AS -> site)
        figures = {
            c: {"site_before": current[c], "dns": {"answered": 100, "outages": []},
                "tcp": {"resets": []}}
            for c in clients
        }  # fmt: skip
        events = []
        taken: List[Tuple[int, float, str, str, Dict[str, Any]]] = []  # site failures
        records: List[Dict[str, Any]] = []  # the health agents' state changes
        downed: Set[str] = set()  # sites their agent withdrew
        kill_gap = 0.0
        for index, event in enumerate(scenario["timeline"]):
            t, site, kind = float(event["at"]), event.get("site"), event["event"]
            agent = health.get(site)
            if kind in ("fail_site", "withdraw"):
                up[site] = False
            elif kind == "kill_service":
                away = service_away(scenario, index)
                if agent is not None and agent_withdraws(agent, event.get("service"), away):
                    # the worst case less up to one interval: the death's phase in a round
                    late = agent.interval * (agent.fall - 1 + jitter(*run, index))
                    react = round(late + agent.timeout, 3)
                    kill_gap = round(min(react + AGENT_CONVERGENCE_S, away), 3)
                    up[site] = False
                    downed.add(site)
                    records.append(state_record(t + react, site, "down", "up"))
                else:
                    for c, s in current.items():
                        if s == site:
                            figures[c]["dns"]["outages"].append({"start": t, "duration": away})
            elif kind == "restore":
                up[site] = True
                prepend[site] = announced_prepend(topo, site)
                if site in downed and agent is not None:
                    downed.discard(site)
                    back = t + BLIP_EARLY + agent.rise * agent.interval
                    records.append(state_record(round(back, 3), site, "up", "down"))
            elif kind == "prepend":
                prepend[site] = int(event["count"])
            elif kind == "link":
                pair = tuple(sorted((event["a"], event["b"])))
                if event["state"] == "down":
                    links_down.add(pair)  # type: ignore[arg-type]
                else:
                    links_down.discard(pair)  # type: ignore[arg-type]
            after = catchment()
            moves = {
                c: {"from": current[c], "to": after[c]} for c in clients if after[c] != current[c]
            }
            if kind == "link":  # no answers is no move (as the analysis has it): an outage
                timeline = scenario["timeline"]
                end = (
                    timeline[index + 1]["at"] if index + 1 < len(timeline) else scenario["duration"]
                )
                for c in [c for c, m in moves.items() if None in (m["from"], m["to"])]:
                    del moves[c]
                    if after[c] is None:
                        gap = round(float(end) - t + 0.3, 3)
                        figures[c]["dns"]["outages"].append({"start": t + 0.01, "duration": gap})
            for c in moves:
                timed_out = False
                if kind == "fail_site" and event.get("how") == "silent" and not bfd[site]:
                    # the hold time, counted from the last keepalive (up to 1 s before)
                    gap = round(hold[site] - 1.0 + jitter(*run, index, c), 3)
                    # the streams give up first and reconnect elsewhere: no reset
                    timed_out = gap > STREAM_TIMEOUT_S
                elif kind == "fail_site" and event.get("how") == "silent":
                    # BFD's detection, then BGP withdraws and converges (0.1-0.3 s)
                    gap = round(detect[site] + 0.1 + 0.2 * jitter(*run, index, c), 3)
                elif kind == "fail_site":
                    gap = round(0.15 + 0.25 * jitter(*run, index, c), 3)
                elif kind == "kill_service" and agent is not None:
                    gap = kill_gap
                else:
                    gap = 0.3
                figures[c]["dns"]["outages"].append({"start": t, "duration": gap})
                if not timed_out:
                    figures[c]["tcp"]["resets"] += [{"t": t + gap}, {"t": t + gap}]
            params = {k: event[k] for k in ("site", "how", "count") if event.get(k) is not None}
            events.append(
                {
                    "t": t,
                    "kind": kind,
                    "params": params,
                    "moves": moves,
                    "moved": sorted(moves),
                    "transport": fake_transport(scenario, kind, len(moves), (*run, index)),
                }
            )
            if kind == "fail_site" and moves:
                taken.append((index, t, site, event.get("how", "link-down"), moves))
            current = after
            if load:
                states.append((index, kind, as_sites()))
        for c in clients:
            figures[c]["site_after"] = current[c]
            outages = figures[c]["dns"]["outages"]
            figures[c]["dns"]["max_outage_s"] = max((o["duration"] for o in outages), default=0.0)
        data = {"duration": scenario["duration"], "clients": figures, "events": events}
        if records:
            data["health"] = records
        agents = {s: a for s, a in health.items() if a is not None}
        if agents:
            data["health_agents"] = {
                s: {"action": a.action, "interval": a.interval, "rise": a.rise, "fall": a.fall,
                    "checks": list(a.checks)}
                for s, a in sorted(agents.items())
            }  # fmt: skip
        if policy:
            data["policy"] = [{"phase": "converged", "passed": True, "no_route": no_routes(topo)}]
        if load and net is not None:
            data["load"] = fake_load(net, scenario, states)
        if "resolve" in ((scenario.get("traffic") or {}).get("kinds") or []):
            data["resolution"] = fake_resolution(topo, scenario, taken, run)
        return data


def service_away(scenario: Dict[str, Any], index: int) -> float:
    """Seconds a ``kill_service`` (timeline event ``index``) keeps the service away.

    Until the site's next ``restore`` plus :data:`~testbed.labs.lab4.BLIP_EARLY`
    (the server takes that long to answer again), else to the end of the run.
    """
    timeline = scenario["timeline"]
    event = timeline[index]
    t = float(event["at"])
    for later in timeline[index + 1 :]:
        if later["event"] == "restore" and later.get("site") == event.get("site"):
            return round(float(later["at"]) - t + BLIP_EARLY, 3)
    return round(float(scenario["duration"]) - t, 3)


def agent_withdraws(agent: Health, service: Any, away: float) -> bool:
    """A site's agent withdraws when a service of its checks is away this long (worst case).

    It must withdraw (not demote) and check a killed service; a service away
    for ``away`` seconds fails up to ``floor(away / interval) + 1`` rounds in
    a row, so in the worst case it withdraws iff ``(fall - 1) * interval <= away``.
    """
    killed = KILLED[str(service or "all")]
    if agent.action != "withdraw" or not killed & set(agent.checks):
        return False
    return (agent.fall - 1) * agent.interval <= away + 1e-9


def state_record(t: float, site: str, state: str, previous: str) -> Dict[str, Any]:
    """A health agent's ``state`` record in ``health[]`` (a change because of its checks)."""
    return {
        "t": t,
        "site": site,
        "event": "state",
        "state": state,
        "previous": previous,
        "action": "withdraw",
        "reason": "checks",
        "applied": ["withdraw" if state == "down" else "announce"],
        "failures": ["dns: Timeout"] if state == "down" else [],
    }


def fake_transport(
    scenario: Dict[str, Any], kind: str, moved: int, key: Tuple[Any, ...]
) -> Dict[str, Any]:
    """Lab 8: an event's ``transport``, each remedy as :data:`remedies.EXPECTED` says.

    A failure breaks every kind but ``http-short`` and is recovered from after
    the expected time (jittered by up to a tenth of a second); a te-shift
    (``prepend``) breaks the kinds that break on one; other events nothing.
    """
    kinds = (scenario.get("traffic") or {}).get("kinds") or []
    out: Dict[str, Any] = {}
    for name in (k for k in kinds if k in remedies.EXPECTED and moved):
        worst, shift_breaks = remedies.EXPECTED[name]
        flows = 2 * moved
        broke = (kind == "fail_site" and worst > 0) or (kind == "prepend" and shift_breaks)
        figures: Dict[str, Any] = {"kind": name, "flows": flows, "survived": flows}
        if broke:
            recover = [round(worst + 0.1 * jitter(*key, name, n), 3) for n in range(flows)]
            figures.update(survived=0, reset=flows, recovered=flows, recover_s=recover)
        out[name] = figures
    return out


def fake_resolution(
    topo: Topology,
    scenario: Dict[str, Any],
    taken: List[Tuple[int, float, str, str, Dict[str, Any]]],
    key: Tuple[Any, ...],
) -> Dict[str, Any]:
    """Lab 9: ``summary.json``'s ``resolution``, each method as :mod:`gslbdesign` reasons.

    Every site failure (event index, time, site, how, the clients it moved)
    affects the clients it moved under both methods (in the lab's chain a
    client's nearest site is its catchment).  A GSLB client is back within the
    worst case of the run's TTL and interval (the scenario's ``topology_set``
    over the topology's), up to a second sooner (jittered per client); an
    anycast client 0.1-0.4 s after a link-down, and after a silent failure
    between ``hold - keepalive`` and ``hold`` (the scenario's timers over the
    topology's).
    """
    base = topo.service
    given = (scenario.get("topology_set") or {}).get("service") or {}
    ttl = int(given.get("ttl", base.ttl if base else 30))
    interval = int((given.get("health") or {}).get("interval", base.health.interval if base else 1))
    timers = scenario.get("bgp") or {}
    hold = int(timers.get("hold", topo.bgp.hold))
    keepalive = int(timers.get("keepalive", topo.bgp.keepalive))
    methods: Dict[str, Any] = {m: {"failovers": []} for m in gslbdesign.METHODS}
    for index, t, site, how, moves in taken:
        for method in gslbdesign.METHODS:
            affected = {}
            for c, move in sorted(moves.items()):
                j = jitter(*key, index, method, c)
                if method == "gslb":
                    seconds = gslbdesign.worst_gslb_s(ttl, interval, how) - j
                elif how == "silent":
                    seconds = hold - keepalive * j
                else:
                    seconds = 0.1 + 0.3 * j
                affected[c] = {"failover_s": round(seconds, 3), "site_to": move["to"]}
            worst = max(a["failover_s"] for a in affected.values())
            methods[method]["failovers"].append(
                {"event": index, "t": t, "kind": "fail_site", "site": site,
                 "affected": affected, "clients": len(affected), "recovered": len(affected),
                 "failover_worst_s": worst}
            )  # fmt: skip
    return {"publish": "both", "ttl": ttl, "health_interval": interval, "methods": methods}


#: Seconds a site stays overloaded after an event took the attack away (BGP converging).
SETTLING_S = 0.4


def fake_load(
    net: steering.Net, scenario: Dict[str, Any], states: List[Tuple[Any, str, Dict[str, str]]]
) -> Dict[str, Any]:
    """Lab 7: ``summary.json``'s ``load.phases``, as the load recorder would measure them.

    The attack runs from ``attack_start`` to ``attack_stop`` (or the end) and is cut at
    every other event; in each phase a site is overloaded all along when the attack's
    packets/s there exceed its capacity (less the ramp in the first phase), and for
    :data:`SETTLING_S` when it was overloaded just before and is no longer.

    Args:
        net: the network (:func:`steering.net_of`).
        scenario: the scenario's data (its timeline).
        states: (event index, kind, AS -> site) at the start and after every event.
    """
    timeline = scenario["timeline"]
    times = [float(e["at"]) for e in timeline]
    start = next((i for i, e in enumerate(timeline) if e["event"] == "attack_start"), None)
    if start is None:
        return {}
    stop = next(
        (times[i] for i, e in enumerate(timeline) if e["event"] == "attack_stop"),
        float(scenario["duration"]),
    )
    ramp = float(timeline[start].get("ramp", 0.0))
    cuts = [
        (times[i], i)
        for i, e in enumerate(timeline)
        if e["event"] not in ATTACK and times[start] < times[i] < stop
    ]
    bounds = [(times[start], None)] + cuts + [(stop, None)]
    by_event = {index: routed for index, _kind, routed in states}
    routed = by_event.get(start, states[0][2])
    phases: List[Dict[str, Any]] = []
    was: set = set()
    for n, ((begin, index), (end, _)) in enumerate(zip(bounds, bounds[1:], strict=False)):
        if index is not None:
            routed = by_event[index]
        over = steering.overloaded(net, steering.attack_at(net, routed))
        seconds = {s: round(end - begin - (ramp if n == 0 else 0.0), 3) for s in over}
        seconds.update({s: SETTLING_S for s in was - over})
        phases.append(
            {
                "start": begin,
                "stop": end,
                "after": "attack start"
                if index is None
                else f"{timeline[index]['event']} {timeline[index].get('site', '')}".strip(),
                "event": index,
                "overloaded": seconds,
            }
        )
        was = over
    return {"phases": phases}


def policy_catchment(
    topo: Topology,
    announced: Set[str],
    prepend: Dict[str, int],
    down: Sequence[Tuple[str, str]] = (),
) -> Dict[str, Any]:
    """Each client's site with relationships, the sites of ``announced`` up (ties: the first).

    ``down``: links between routers that are down (a client left without a
    route has no site: the ``link`` branch gives it an outage until the link is back).
    """
    from testbed.labs.lab6 import routing_of
    from testbed.topology.relationships import end_as

    sites = {
        s.name: ([end_as(topo, up) or up for up in s.upstreams()], prepend[s.name])
        for s in topo.sites
        if s.name in announced
    }
    routing = routing_of(topo, sites=sites, down=down)
    out: Dict[str, Any] = {}
    for c in topo.clients:
        route = routing.routes.get(c.as_)
        out[c.name] = route.site if route is not None else None
    return out


def no_routes(topo: Topology) -> Dict[str, List[str]]:
    """What the policy check after convergence lists: router -> prefixes it has no route to.

    The routers hold exactly what valley-free export brings them
    (:func:`testbed.policy.reach.required_routes`), as on the real network.
    """
    from testbed.policy.reach import no_route, required_routes
    from testbed.topology.plan import make_plan

    plan = make_plan(topo)
    required = required_routes(topo, plan)
    tables = {r: sorted(required[r], key=str) for r in plan.frr_routers()}
    return no_route(tables, plan.expected_prefixes(), required)["policy"]


def student_run(dest: Path, variant: Variant, sets: Sequence[str] = (), name: str = "") -> Path:
    """What ``anycast-testbed run scenario.yaml --out runs [--set ...]`` leaves in a working copy.

    Args:
        dest: the working copy (its ``scenario.yaml`` is run).
        variant: whose runs they are (seeds the jitter).
        sets: ``--set KEY=VALUE`` overrides.
        name: the run folder's name (default: numbered, like the engine's dated names).

    Returns:
        The run folder, with ``summary.json``, ``topology.yaml`` and ``scenario.yaml``.
    """
    from testbed.scenario.load import load_scenario, scenario_topology

    loaded = load_scenario(str(dest / "scenario.yaml"), list(sets))
    topo = scenario_topology(loaded)
    data = loaded.scenario.model_dump(mode="json")
    runs = dest / "runs"
    count = len(list(runs.glob("*"))) if runs.is_dir() else 0
    salt = f"own-{count}-{','.join(sets)}"
    summary = FakeRun(variant, salt)(topo, data)
    run_dir = runs / (name or f"2026010{count}-120000-{loaded.scenario.name}")
    run_dir.mkdir(parents=True)
    (run_dir / "summary.json").write_text(summary.to_json())
    write_yaml(run_dir / "topology.yaml", topo.model_dump(mode="json"))
    write_yaml(run_dir / "scenario.yaml", data)
    return run_dir


def measured(run_dir: Path, clients: Sequence[str]) -> float:
    """The longest ``max_outage_s`` of some clients in a run folder (what a student reads)."""
    summary = json.loads((run_dir / "summary.json").read_text())
    return max(summary["clients"][c]["dns"]["max_outage_s"] for c in clients)


class LinkMovesLost(FakeRun):
    """A run where the link failures moved nobody, whatever the reasoning says (labs 1, 2, 6)."""

    def data(self, topo: Topology, scenario: Dict[str, Any]) -> Dict[str, Any]:
        summary = super().data(topo, scenario)
        for event in summary["events"]:
            if event["kind"] == "link":
                event["moves"], event["moved"] = {}, []
        for figures in summary["clients"].values():
            figures["dns"]["outages"] = []
        return summary
