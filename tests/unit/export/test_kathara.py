"""The Kathará export of ``two-sites``: golden files, the testbed's own frr.conf, and
Kathará's own lab parser on the written lab (no container is started).

Refresh the golden files after an intended change with
``UPDATE_GOLDEN=1 pytest tests/unit/export/test_kathara.py``.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Dict

import pytest

from testbed.export import Prepared, export_files, prepare, write_files
from testbed.export.kathara import HOST_IMAGE, ROUTER_IMAGE, Names, Options, device, lab_files
from testbed.net import frr
from testbed.net.nodecmds import router_ip_commands
from testbed.services import dns

from .golden import GOLDEN as GOLDEN_ROOT
from .golden import check_golden

GOLDEN = GOLDEN_ROOT / "kathara"
COMMAND = "anycast-testbed export two-sites two-sites-failover --to kathara"
RICH = """
name: rich
topology: two-sites
duration: 90
settle: 2
timeline:
  - {at: 5, event: fail_site, site: east, how: silent}
  - {at: 10, event: withdraw, site: west}
  - {at: 15, event: prepend, site: west, count: 2}
  - {at: 20, event: med, site: west, value: 50}
  - {at: 25, event: set_communities, site: west, communities: [graceful-shutdown, "65001:666"]}
  - {at: 30, event: kill_service, site: east, service: all}
  - {at: 35, event: link, a: ta, b: tb, state: blackhole}
  - {at: 40, event: link, a: ispa, b: ta, state: down}
  - {at: 45, event: restore, site: east}
  - {at: 50, event: restore, site: west}
  - {at: 55, event: link, a: ta, b: tb, state: up}
  - {at: 60, event: link, a: ispa, b: ta, state: up}
  - {at: 65, event: fail_site, site: west, how: router-crash}
  - {at: 70, event: restore, site: west}
"""


def exported(prepared: Prepared, command: str = COMMAND) -> Dict[str, str]:
    return export_files("kathara", prepared, Options(command=command))


@pytest.fixture(scope="module")
def failover() -> Prepared:
    return prepare("two-sites", "two-sites-failover")


@pytest.fixture(scope="module")
def rich(tmp_path_factory) -> Prepared:
    path = tmp_path_factory.mktemp("rich") / "rich.yaml"
    path.write_text(RICH)
    return prepare("two-sites", str(path))


def test_two_sites_golden(failover):
    check_golden(exported(failover), GOLDEN / "two-sites")


def test_rich_timeline_golden(rich):
    files = exported(rich, "anycast-testbed export two-sites rich.yaml --to kathara")
    check_golden({"timeline.sh": files["timeline.sh"]}, GOLDEN / "two-sites-rich")


def test_every_frr_conf_is_the_testbeds_own_byte_for_byte(failover):
    files = exported(failover)
    plan = failover.plan
    for name, router in plan.routers.items():
        assert files[f"{device(name)}/etc/frr/frr.conf"] == frr.render_config(router, plan)
    assert len([f for f in files if f.endswith("/etc/frr/frr.conf")]) == len(plan.routers)


def test_daemons_file_starts_what_the_testbed_starts(tmp_path):
    prepared = prepare("two-sites", "two-sites-failover", ["bfd.enabled=true"])
    files = exported(prepared)
    for name, router in prepared.plan.routers.items():
        daemons = files[f"{device(name)}/etc/frr/daemons"]
        assert "bfdd" in frr.daemons_for(router)
        assert "\nbgpd=yes\n" in daemons and "\nbfdd=yes\n" in daemons
        assert f"MAX_FDS={frr.fd_limit(len(router.neighbors))}\n" in daemons
    plain = exported(prepare("two-sites"))
    assert "\nbfdd=no\n" in plain["ta/etc/frr/daemons"]


def test_startup_sets_the_testbeds_addresses_and_routes_on_eth_names(failover):
    files = exported(failover)
    plan, names = failover.plan, Names(failover.plan)
    for name, router in plan.routers.items():
        startup = files[f"{device(name)}.startup"]
        for command in router_ip_commands(router, names.eth):
            assert f"\nip {command}\n" in startup
        assert startup.rstrip().endswith("systemctl start frr")
        assert f"mkdir -p /run/frr/{name}\n" in startup  # where frr.conf logs
    server = files["east_1.startup"]
    assert "ip addr add 192.0.2.53/32 dev lo\n" in server
    assert "ip route add default via 100.65.0.1\n" in server
    assert "nsd -c /etc/anycast-testbed/nsd/nsd.conf" in server
    # the links' delay, on both ends (netem, with the testbed's fallback)
    assert "tc qdisc replace dev eth0 root handle 1: netem delay 10ms" in files["ta.startup"]
    assert "tc qdisc replace dev eth0 root handle 1: netem delay 10ms" in files["tb.startup"]
    assert "tc " not in files["ca.startup"]


def test_nsd_files_are_the_testbeds_rendering(failover):
    files = exported(failover)
    conf = files["east_1/etc/anycast-testbed/nsd/nsd.conf"]
    assert conf == dns.render_config("east", Path("/etc/anycast-testbed/nsd"), "192.0.2.53")
    assert files["west_1/etc/anycast-testbed/nsd/anycast.test.zone"] == dns.render_zone("west")


def test_unicast_addresses_reach_the_servers_and_nsd():
    prepared = prepare("two-sites", "two-sites-failover", ["topology.unicast=true"])
    files = exported(prepared)
    unicast = prepared.plan.unicast["east"]
    assert f"ip addr add {unicast.address}/32 dev lo\n" in files["east_1.startup"]
    assert f"ip-address: {unicast.address}\n" in files["east_1/etc/anycast-testbed/nsd/nsd.conf"]
    assert f"ip route add blackhole {unicast.prefix}\n" in files["east.startup"]


def test_images_and_names():
    files = lab_files(
        prepare("two-sites").plan, Options(router_image="r:1", host_image="h:2", name="x")
    )
    assert 'ta[image]="r:1"' in files["lab.conf"] and 'ca[image]="h:2"' in files["lab.conf"]
    assert 'LAB_NAME="x"' in files["lab.conf"]
    default = lab_files(prepare("two-sites").plan)
    assert f'east[image]="{ROUTER_IMAGE}"' in default["lab.conf"]
    assert f'east_1[image]="{HOST_IMAGE}"' in default["lab.conf"]
    assert 'LAB_NAME="anycast-two-sites"' in default["lab.conf"]
    assert "timeline.sh" not in default  # no scenario, no timeline
    assert device("east-1") == "east_1"


# -------------------------------------------------------- Kathará's own parser
def test_kathara_parses_the_written_lab(failover, tmp_path):
    lab_parser = pytest.importorskip("Kathara.parser.netkit.LabParser")
    out = tmp_path / "lab"
    write_files(exported(failover), out)
    lab = lab_parser.LabParser.parse(str(out))
    plan, names = failover.plan, Names(failover.plan)
    assert lab.name == "anycast-two-sites-two-sites-failover"
    assert sorted(lab.machines) == sorted(device(n) for n in names.nodes())
    assert sorted(lab.links) == sorted(names.domains)
    for node in names.nodes():
        machine = lab.machines[device(node)]
        want = ROUTER_IMAGE if node in plan.routers else HOST_IMAGE
        assert machine.get_image() == want
        assert not machine.is_ipv6_enabled()
        got = [(k, i.link.name) for k, i in machine.interfaces.items()]
        assert got == [(k, names.domain(i)) for k, i in enumerate(names.interfaces[node])]
        if node in plan.hosts:
            assert machine.get_sysctls() == {"net.ipv4.ip_forward": 0}
    # a collision domain joins exactly the two ends of its link
    for i, link in enumerate(plan.links):
        assert sorted(lab.links[names.domains[i]].machines) == sorted(
            device(n) for n in (link.a.node, link.b.node)
        )
    # what Kathará copies into a device: its startup file and its folder
    with tarfile.open(fileobj=io.BytesIO(lab.machines["east"].pack_data())) as packed:
        assert {"hostlab/east.startup", "hostlab/east/etc/frr/frr.conf",
                "hostlab/east/etc/frr/daemons"} <= set(packed.getnames())  # fmt: skip
        frr_conf = packed.extractfile("hostlab/east/etc/frr/frr.conf")
        assert frr_conf is not None
        assert frr_conf.read().decode() == frr.render_config(plan.routers["east"], plan)
    with tarfile.open(fileobj=io.BytesIO(lab.machines["east_1"].pack_data())) as server:
        assert "hostlab/east_1/etc/anycast-testbed/nsd/nsd.conf" in server.getnames()


def test_kathara_lstart_dry_mode_accepts_the_lab(failover, tmp_path, monkeypatch, capsys):
    """``kathara lstart --dry-mode``: Kathará's own check of a lab, no container started."""
    lstart = pytest.importorskip("Kathara.cli.command.LstartCommand")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # Kathará's settings, if it writes any
    out = tmp_path / "lab"
    write_files(exported(failover), out)
    capsys.readouterr()
    assert lstart.LstartCommand().run(str(tmp_path), ["-d", str(out), "--dry-mode"]) == 0
    assert "lab.conf file is correct" in capsys.readouterr().out


def test_kathara_parses_a_bigger_generated_topology(tmp_path):
    lab_parser = pytest.importorskip("Kathara.parser.netkit.LabParser")
    prepared = prepare("internet:30:seed=3,sites=3,clients=4")
    out = tmp_path / "lab"
    write_files(export_files("kathara", prepared), out)
    lab = lab_parser.LabParser.parse(str(out))
    names = Names(prepared.plan)
    assert len(lab.machines) == len(names.nodes())
    assert len(lab.links) == len(prepared.plan.links)


def test_busiest_is_given_on_the_command_line():
    prepared = prepare("two-sites", "two-sites-failover", busiest="west")
    assert [getattr(e, "site", None) for e in prepared.scenario.timeline] == ["east", "east"]
    from testbed.errors import InputError

    with pytest.raises(InputError, match="--busiest: no site 'x' \\(sites: east, west\\)"):
        prepare("two-sites", "two-sites-failover", busiest="x")


def test_a_name_kathara_keeps_for_itself_is_refused():
    from testbed.topology.generate import TopologyBuilder
    from testbed.topology.plan import make_plan

    b = TopologyBuilder("r")
    b.transit("shared", 65001).anycast().site("s1", upstream="shared")
    b.eyeball("isp", 64512).link("isp", "shared").client("c1", "isp")
    with pytest.raises(ValueError, match="shared: Kathará keeps the name 'shared'"):
        lab_files(make_plan(b.build()))
