"""A Ryu site node: its default route through every upstream, and the library that runs."""

from __future__ import annotations

import json

import pytest

from testbed import speaker
from testbed.speaker import import_bgpspeaker, run_library
from testbed.speaker.process import default_route as speaker_default_route
from testbed.speaker.process import node_setup
from testbed.topology.plan import make_plan
from tests.unit.speaker.test_settings import ryu_topology


def test_two_upstreams_give_a_multipath_default_route():
    router = make_plan(ryu_topology(upstreams=("ta", "tb"))).routers["east"]
    hops = [str(n.address) for n in router.neighbors]
    assert len(hops) == 2
    assert speaker_default_route(router) == (
        f"ip route replace default nexthop via {hops[0]} nexthop via {hops[1]}"
    )
    setup = node_setup(router)
    assert setup == [
        "ip addr add 192.0.2.53/32 dev lo",
        "sysctl -qw net.ipv4.conf.all.ignore_routes_with_linkdown=1",
        speaker_default_route(router),
    ]


def test_a_site_node_with_a_unicast_prefix_holds_its_unicast_address_too():
    """As an FRR site's servers do: the unicast address on lo beside the service address."""
    from testbed.scenario.effective import effective_topology

    topo = effective_topology(ryu_topology(), topology_overrides={"unicast": True})
    router = make_plan(topo).routers["east"]
    assert node_setup(router)[:2] == [
        "ip addr add 192.0.2.53/32 dev lo",
        "ip addr add 100.66.0.53/32 dev lo",
    ]


def test_one_upstream_gives_a_plain_default_route():
    router = make_plan(ryu_topology()).routers["east"]
    upstream = router.neighbors[0].address
    assert speaker_default_route(router) == f"ip route replace default via {upstream}"


def write_start(folder, site, library):
    records = folder / "records"
    records.mkdir(exist_ok=True)
    lines = [
        {"t": 1.0, "kind": "speaker", "site": site, "event": "start", "library": library},
        {"t": 1.1, "kind": "speaker", "site": site, "event": "announce"},
    ]
    with open(records / f"speaker-{site}.jsonl", "a") as fh:
        fh.write("".join(json.dumps(line) + "\n" for line in lines))


def test_the_run_library_is_what_the_speakers_recorded(tmp_path):
    assert run_library(tmp_path) is None  # no speaker started
    write_start(tmp_path, "east", "os-ken")
    write_start(tmp_path, "west", "os-ken")
    assert run_library(tmp_path) == "os-ken"
    write_start(tmp_path, "north", "ryu")
    assert run_library(tmp_path) == "os-ken, ryu"


def test_the_fallback_is_taken_whatever_the_first_library_raises(monkeypatch):
    monkeypatch.setattr(
        speaker, "LIBRARIES", (("broken", "testbed.no_such_module"), ("json", "json"))
    )
    name, module = import_bgpspeaker()
    assert name == "json" and module.__name__ == "json"
    monkeypatch.setattr(speaker, "LIBRARIES", (("broken", "testbed.no_such_module"),))
    with pytest.raises(ImportError, match="broken: ModuleNotFoundError"):
        import_bgpspeaker()


def test_describe_names_the_library_and_its_version(monkeypatch):
    from testbed.speaker import describe_library

    monkeypatch.setattr(speaker, "LIBRARIES", (("pytest", "pytest"),))
    assert describe_library().startswith("pytest ") and describe_library() != "pytest "


def test_doctor_reports_the_library_the_speaker_imports():
    import importlib.util

    from testbed.doctor import speaker_library

    if importlib.util.find_spec("ryu") is None:
        pytest.skip("Ryu is not installed here")
    assert speaker_library() == "ryu 4.34"  # this project's venv (Python 3.11)
