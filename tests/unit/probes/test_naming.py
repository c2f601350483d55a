"""The name-resolution service kinds: what runs where, with which inputs (no root)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict

from testbed.probes import naming
from testbed.probes.kinds import service_class
from testbed.services.gslb import socket_dir
from testbed.topology.load import load_topology, parse_topology
from testbed.topology.plan import make_plan
from testbed.traffic import TrafficParams

WORLD: Dict[str, Any] = load_topology("world").model_dump(
    by_alias=True, exclude_unset=True, mode="json"
)


def world(**top: Any):
    data = copy.deepcopy(WORLD)
    data.update(top)
    return parse_topology(data, "w.yaml")


def test_servers_run_powerdns_only_with_gslb_and_the_public_resolver_only_when_public():
    assert naming.topology_services(world()) == []
    assert naming.topology_services(world(service={"publish": "anycast"})) == []
    both = world(service={"publish": "both"}, unicast=True)
    assert naming.topology_services(both) == ["gslb"]
    public = world(service={"publish": "gslb"}, unicast=True, resolvers={"placement": "public"})
    assert naming.topology_services(public) == ["gslb", "public-resolver"]


def test_the_zone_holds_every_sites_unicast_address_and_the_views(tmp_path):
    topo = world(service={"publish": "both", "ttl": 7, "health": {"interval": 2}}, unicast=True)
    plan = make_plan(topo)
    host = plan.hosts["lon-1"]
    argv = service_class("gslb")().argv(topo, host, tmp_path, TrafficParams())
    zone = json.loads(Path(argv[argv.index("--zone") + 1]).read_text())
    assert zone["ttl"] == 7 and zone["interval"] == 2
    assert zone["sites"] == {s: str(u.address) for s, u in plan.unicast.items()}
    assert len(zone["views"]) == 8 + 4  # every access router, every site
    assert argv[argv.index("--address") + 1] == "192.0.2.54"
    assert argv[argv.index("--also") + 1] == "100.66.1.54"  # its own authority address
    assert argv[argv.index("--check-from") + 1] == str(host.unicast)


def test_a_resolver_asks_every_authority_and_keeps_its_ases_ttls(tmp_path):
    spec = {"violating": {"ases": ["isppar"], "min_ttl": 45}, "prefetch": True}
    topo = world(service={"publish": "both"}, unicast=True, resolvers=spec)
    plan = make_plan(topo)
    paris = next(h for h in plan.resolvers() if h.as_name == "isppar")
    argv = service_class("resolver")().argv(topo, paris, tmp_path, TrafficParams())
    settings = json.loads(Path(argv[argv.index("--settings") + 1]).read_text())
    assert settings["address"] == str(paris.interface.address.ip)
    assert settings["min_ttl"] == 45 and settings["prefetch"] is True
    assert settings["stubs"]["anycast.test"] == ["192.0.2.53"]
    assert settings["stubs"]["gslb.test"] == [
        "192.0.2.54", "100.66.0.54", "100.66.1.54", "100.66.2.54", "100.66.3.54",
    ]  # fmt: skip
    other = next(h for h in plan.resolvers() if h.as_name == "ispny")
    argv = service_class("resolver")().argv(topo, other, tmp_path, TrafficParams())
    assert json.loads(Path(argv[argv.index("--settings") + 1]).read_text())["min_ttl"] == 0


def test_the_public_resolver_listens_on_anycast_and_asks_from_its_server(tmp_path):
    topo = world(service={"publish": "both"}, unicast=True, resolvers={"placement": "public"})
    host = make_plan(topo).hosts["tyo-1"]
    argv = service_class("public-resolver")().argv(topo, host, tmp_path, TrafficParams())
    settings = json.loads(Path(argv[argv.index("--settings") + 1]).read_text())
    assert settings["address"] == "192.0.2.55"
    assert settings["outgoing"] == str(host.interface.address.ip)


def test_powerdns_leaves_no_socket_folder_behind_on_a_long_run_path(tmp_path):
    topo = world(service={"publish": "gslb"}, unicast=True)
    host = make_plan(topo).hosts["lon-1"]
    run = tmp_path / ("deep" * 30)
    folder = (run / "services" / host.name / "pdns").resolve()
    sockets = socket_dir(folder)
    assert sockets != folder
    sockets.mkdir(parents=True)
    (sockets / "pdns.controlsocket").touch()
    service_class("gslb")().cleanup(host, run)
    assert not sockets.exists()
