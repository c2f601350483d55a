"""``set_communities``, ``backend`` and ``health.min_sites`` in scenarios (no root).

The models, every bad input as one line naming file and field, the
warnings, what the events do through the speaker interface and the
traffic, how they are recorded, and the two shipped scenarios.
"""

from __future__ import annotations

import textwrap
from typing import Any, Dict, List, Optional

import pytest
from pydantic import TypeAdapter

from testbed.errors import InputError
from testbed.scenario.engine import describe, event_params, event_target
from testbed.scenario.events import Events
from testbed.scenario.load import load_scenario, scenario_topology
from testbed.scenario.model import Backend, Event, SetCommunities
from testbed.scenario.prepare import prepare_run
from testbed.scenario.validate import timeline_warnings
from testbed.speaker.base import SpeakerSpec
from testbed.topology.load import load_topology, parse_topology
from testbed.topology.plan import make_plan

EVENT: TypeAdapter[Any] = TypeAdapter(Event)

BASE = """
name: x
topology: world-policy
duration: 60
timeline:
  - {at: 10, event: set_communities, site: lon, communities: [graceful-shutdown]}
  - {at: 15, event: withdraw, site: lon}
  - {at: 40, event: restore, site: lon}
"""

HEALTH = """
name: y
duration: 60
health: {sites: all, checks: [dns, tcp, backend], min_sites: 1}
timeline:
  - {at: 15, event: backend, state: down}
  - {at: 40, event: backend, state: up}
"""


def write(tmp_path, text: str) -> str:
    path = tmp_path / "scen.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def error(tmp_path, text: str, sets=()) -> str:
    with pytest.raises(InputError) as info:
        scenario_topology(load_scenario(write(tmp_path, text), list(sets)))
    message = str(info.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------ models
def test_set_communities_keeps_communities_as_files_write_them():
    event = EVENT.validate_python(
        {"at": 1, "event": "set_communities", "site": "lon", "communities": ["65535:0", "1:02:3"]}
    )
    assert isinstance(event, SetCommunities)
    assert event.communities == ["graceful-shutdown", "1:2:3"]
    assert event_params(event) == {"site": "lon", "communities": ["graceful-shutdown", "1:2:3"]}
    empty = EVENT.validate_python(
        {"at": 1, "event": "set_communities", "site": "lon", "communities": []}
    )
    assert empty.communities == []


def test_backend_event():
    event = EVENT.validate_python({"at": 1, "event": "backend", "state": "down"})
    assert isinstance(event, Backend) and event.state == "down"


def test_descriptions_and_targets():
    params = {"site": "lon", "communities": ["graceful-shutdown", "64500:1"]}
    assert describe("set_communities", params) == (
        "communities graceful-shutdown 64500:1 on site lon"
    )
    assert describe("set_communities", {"site": "lon", "communities": []}) == (
        "communities none on site lon"
    )
    assert event_target("set_communities", params) == "lon"
    assert describe("backend", {"state": "down"}) == "backend down"
    assert event_target("backend", {"state": "down"}) == "backend"


def test_the_base_scenario_is_valid_and_warns_of_nothing(tmp_path):
    loaded = load_scenario(write(tmp_path, BASE))
    topo = scenario_topology(loaded)
    assert timeline_warnings(loaded.scenario, topo) == []


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "old,new,expected",
    [
        (
            "[graceful-shutdown]",
            "[graceful-shutdown, '64500:70000']",
            "timeline[0].communities[1]: each part of a standard community is 0-65535",
        ),
        ("[graceful-shutdown]", "[gshut]", "timeline[0].communities[0]: not a community"),
        (
            "[graceful-shutdown]",
            "[1:2:4294967296]",
            "timeline[0].communities[0]: each part of a large",
        ),
        (
            "[graceful-shutdown]",
            "graceful-shutdown",
            "timeline[0].communities: Input should be a valid list",
        ),
        ("site: lon, communities", "site: ams, communities", "timeline[0].site: no site 'ams'"),
        (
            "communities: [graceful-shutdown]",
            "",
            "timeline[0].communities: required field is missing",
        ),
    ],
)
def test_bad_set_communities(tmp_path, old, new, expected):
    assert old in BASE
    message = error(tmp_path, BASE.replace(old, new, 1))
    assert message.startswith(f"{tmp_path / 'scen.yaml'}: {expected}"), message


def test_set_communities_on_a_ryu_site_is_refused_before_anything_starts(tmp_path):
    message = error(tmp_path, BASE, ["speaker=ryu"])
    assert message == (
        f"{tmp_path / 'scen.yaml'}: timeline[0].site: site 'lon' runs speaker ryu, which cannot "
        "attach communities (Ryu's BGPSpeaker API has no community for its own routes): use "
        "speaker frr or exabgp (with --set speaker=ryu)"
    )
    message = error(
        tmp_path,
        BASE.replace("site: lon, communities", "site: busiest, communities"),
        ["speaker=ryu"],
    )
    assert "timeline[0].site: site 'nyc' (it may be the busiest) runs speaker ryu" in message
    load_scenario(write(tmp_path, BASE), ["speaker=exabgp"])  # ExaBGP can


def test_a_ryu_site_among_others_is_refused_only_where_named(tmp_path):
    text = BASE.replace("world-policy", "two-sites").replace("lon", "east")
    assert "two-sites" in text
    sets = ["topology.sites.1.speaker=ryu"]  # west is ryu, east (named) is not
    scenario_topology(load_scenario(write(tmp_path, text), sets))
    message = error(tmp_path, text.replace("east", "west"), sets)
    assert "timeline[0].site: site 'west' runs speaker ryu" in message


def test_a_backend_event_needs_an_agent_that_checks_it(tmp_path):
    message = error(tmp_path, HEALTH.replace("checks: [dns, tcp, backend], ", ""))
    assert message == (
        f"{tmp_path / 'scen.yaml'}: timeline[0]: no health agent depends on the backend: give "
        "the sites' health checks: [dns, tcp, backend]"
    )
    message = error(tmp_path, HEALTH.replace("state: down", "state: sideways"))
    assert "timeline[0].state: must be one of down, up (got 'sideways')" in message


def test_min_sites_above_the_sites_with_agents(tmp_path):
    path = tmp_path / "scen.yaml"
    message = error(tmp_path, HEALTH.replace("min_sites: 1", "min_sites: 5"))
    assert message == (
        f"{path}: health.min_sites: must be at most 4, the number of sites with a health "
        "agent (nyc, lon, tyo, gru) (got 5)"
    )
    scenario_topology(
        load_scenario(write(tmp_path, HEALTH.replace("sites: all", "sites: [lon, tyo]")))
    )
    message = error(
        tmp_path,
        HEALTH.replace("sites: all", "sites: [lon, tyo]").replace("min_sites: 1", "min_sites: 3"),
    )
    assert message == (
        f"{path}: health.min_sites: must be at most 2, the number of sites with a health "
        "agent (lon, tyo) (got 3)"
    )
    message = error(tmp_path, HEALTH, ["health.min_sites=7"])
    assert message.startswith("--set: health.min_sites: must be at most 4"), message
    message = error(tmp_path, HEALTH.replace("min_sites: 1", "min_sites: 0"))
    assert message.startswith(
        f"{path}: health.min_sites: Input should be greater than or equal to 1"
    )


def test_min_sites_in_a_topology_file():
    world = load_topology("world").model_dump(by_alias=True, exclude_unset=True, mode="json")
    world["sites"][1]["health"] = {"min_sites": 2}
    with pytest.raises(InputError) as info:
        parse_topology(world, "t.yaml")
    assert str(info.value) == (
        "t.yaml: sites[1].health.min_sites: must be at most 1, the number of sites with a "
        "health agent (lon) (got 2)"
    )
    world["sites"][0]["health"] = {}
    assert parse_topology(world, "t.yaml").sites[1].health.min_sites == 2


def test_graceful_shutdown_where_no_router_acts_on_it_is_a_warning(tmp_path):
    loaded = load_scenario(write(tmp_path, BASE.replace("world-policy", "world")))
    warnings = timeline_warnings(loaded.scenario, scenario_topology(loaded))
    assert warnings == [
        "timeline[0]: topology 'world' declares no relationships, communities or action "
        "communities, so its routers have no community policy: graceful-shutdown is sent but "
        "no upstream acts on it (use a topology with relationships or communities, such as "
        "world-policy)"
    ]
    other = BASE.replace("world-policy", "world").replace("[graceful-shutdown]", "[no-export]")
    loaded = load_scenario(write(tmp_path, other))
    assert timeline_warnings(loaded.scenario, scenario_topology(loaded)) == []


# ------------------------------------------------------- events, applied
class Speaker:
    kind = "fake"

    def __init__(self, spec: SpeakerSpec, log: List[Any]):
        self.spec, self.log = spec, log

    def withdraw(self) -> None:
        self.log.append("withdraw")

    def announce(self) -> None:
        self.log.append("announce")

    def set_policy(
        self, prepend: int, med: Any, communities: Optional[List[str]] = None, force: bool = False
    ) -> None:
        copied = list(communities) if communities is not None else None
        self.log.append(("policy", prepend, med, copied, force))


class Tracked:
    name = "backend"


class Traffic:
    def __init__(self, log: List[Any]):
        self.log = log
        self.backend_socket = "/run/x/backend.sock"
        self.running = True

    def stop_backend(self, kill: bool = False) -> bool:
        was, self.running = self.running, False
        self.log.append(("stop_backend", kill))
        return was

    def start_backend(self) -> Tracked:
        self.running = True
        self.log.append("start_backend")
        return Tracked()


class FakeTestbed:
    def __init__(self) -> None:
        topo = load_topology("tests/topologies/policy.yaml")
        self.plan = make_plan(topo)
        self.log: List[Any] = []
        self.speakers = {
            r: Speaker(SpeakerSpec.from_router(self.plan.routers[r], topology=topo), self.log)
            for r in self.plan.site_routers().values()
        }

    def speaker(self, router: str) -> Speaker:
        return self.speakers[router]


def test_set_communities_then_restore_puts_the_topologys_back():
    tb = FakeTestbed()
    events = Events(tb, Traffic(tb.log))  # type: ignore[arg-type]
    details = events.set_communities("a", ["graceful-shutdown"])
    assert details == {"peers": ["t2b"], "communities": ["graceful-shutdown"]}
    events.withdraw("a")
    events.prepend("a", 2)
    events.set_communities("a", [])
    events.restore("a")
    assert tb.log == [
        ("policy", 0, None, ["graceful-shutdown"], True),
        "withdraw",
        ("policy", 2, None, None, True),  # prepend: communities left alone
        ("policy", 2, None, [], True),
        # restore, latest first: back to graceful-shutdown, no prepend, announced,
        # then the topology's own communities
        ("policy", 2, None, ["graceful-shutdown"], True),
        ("policy", 0, None, None, True),
        "announce",
        ("policy", 0, None, ["64500:100", "64500:1:2"], True),
    ]


def test_backend_down_kills_it_and_up_starts_it_again():
    tb = FakeTestbed()
    events = Events(tb, Traffic(tb.log))  # type: ignore[arg-type]
    assert events.backend("down") == {"killed": ["backend"], "socket": "/run/x/backend.sock"}
    assert events.backend("down") == {"killed": [], "socket": "/run/x/backend.sock"}
    assert events.backend("up") == {"undone": ["down"]}
    assert tb.log == [("stop_backend", True), ("stop_backend", True), "start_backend"]
    events.backend("down")
    events.restore_all()  # before teardown: started again
    assert tb.log[-1] == "start_backend"


def test_backend_needs_traffic():
    tb = FakeTestbed()
    with pytest.raises(Exception, match="backend needs traffic"):
        Events(tb).backend("down")  # type: ignore[arg-type]


# ---------------------------------------------------------------- shipped
def test_graceful_drain_is_three_drains_on_world_policy():
    prepared = prepare_run("graceful-drain")
    sc = prepared.scenario
    assert sc.topology == "world-policy" and prepared.caveats == []
    kinds = [(e.event, getattr(e, "site", None)) for e in sc.timeline]
    assert kinds == [
        ("withdraw", "gru"),
        ("restore", "gru"),
        ("prepend", "tyo"),
        ("withdraw", "tyo"),
        ("restore", "tyo"),
        ("set_communities", "lon"),
        ("withdraw", "lon"),
        ("restore", "lon"),
    ]
    assert sc.timeline[5].communities == ["graceful-shutdown"]
    # every drain ends before the next begins
    assert all(a.at < b.at for a, b in zip(sc.timeline, sc.timeline[1:], strict=False))


def test_all_sites_withdraw_depends_on_the_backend_and_takes_min_sites():
    prepared = prepare_run("all-sites-withdraw")
    health = [s.health for s in prepared.topology.sites]
    assert all(h is not None and "backend" in h.checks and h.min_sites is None for h in health)
    fixed = prepare_run("all-sites-withdraw", ["health.min_sites=1"])
    assert {s.health.min_sites for s in fixed.topology.sites if s.health} == {1}
    events: List[Dict[str, Any]] = [e.model_dump() for e in prepared.scenario.timeline]
    assert [(e["event"], e["state"]) for e in events] == [("backend", "down"), ("backend", "up")]
