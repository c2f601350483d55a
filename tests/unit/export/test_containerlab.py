"""The containerlab export: golden files, containerlab's own JSON schema on the topology
file, the testbed's own frr.conf and ip commands, interface names (no container started).

Refresh the golden files after an intended change with
``UPDATE_GOLDEN=1 pytest tests/unit/export/test_containerlab.py``.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict

import pytest
import yaml

from testbed.export import Prepared, export_files, prepare, write_files
from testbed.export.containerlab import (
    BIRD_IMAGE,
    HOST_IMAGE,
    ROUTER_IMAGE,
    exec_item,
    names_of,
)
from testbed.export.lab import Options, checked_interface_names
from testbed.net import frr
from testbed.net.nodecmds import host_ip_commands, router_ip_commands

from .golden import DATA, GOLDEN, check_golden

COMMAND = "anycast-testbed export two-sites two-sites-failover --to containerlab"
TOPO_FILE = "anycast-two-sites-two-sites-failover.clab.yml"
SCHEMA = DATA / "containerlab" / "clab.schema.json"


def exported(prepared: Prepared, command: str = COMMAND, **images: str) -> Dict[str, str]:
    return export_files("containerlab", prepared, Options(command=command, **images))


def validate(text: str) -> Dict[str, Any]:
    """The topology file, validated against containerlab's schema (Draft 7, as it declares)."""
    jsonschema = pytest.importorskip("jsonschema")
    data = yaml.safe_load(text)
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(data), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    return data


@pytest.fixture(scope="module")
def failover() -> Prepared:
    return prepare("two-sites", "two-sites-failover")


def test_two_sites_golden(failover):
    check_golden(exported(failover), GOLDEN / "containerlab" / "two-sites")


def test_the_schema_is_containerlabs_with_its_source_noted():
    note = (SCHEMA.parent / "SOURCE.md").read_text()
    assert "srl-labs/containerlab" in note and "schemas/clab.schema.json" in note
    schema = json.loads(SCHEMA.read_text())
    assert schema["required"] == ["name", "topology"]


@pytest.mark.parametrize(
    "topology, scenario",
    [
        ("two-sites", "two-sites-failover"),
        ("internet:30:seed=3,sites=3,clients=4", None),
        (str(DATA / "export" / "world-bird.yaml"), None),
    ],
)
def test_containerlabs_schema_takes_the_topology_file(topology, scenario):
    prepared = prepare(topology, scenario)
    files = exported(prepared)
    (name,) = [f for f in files if f.endswith(".clab.yml")]
    data = validate(files[name])
    assert name == f"{data['name']}.clab.yml"
    plan = prepared.plan
    nodes = data["topology"]["nodes"]
    assert list(nodes) == [*plan.routers, *[h for h, p in plan.hosts.items() if not p.on_router]]
    assert len(data["topology"]["links"]) == len(plan.links)


def test_links_join_the_testbeds_interface_names(failover):
    data = validate(exported(failover)[TOPO_FILE])
    plan = failover.plan
    seen = []
    for link, entry in zip(plan.links, data["topology"]["links"], strict=True):
        assert entry["endpoints"] == [f"{e.node}:{e.name}" for e in (link.a, link.b)]
        for endpoint in entry["endpoints"]:
            node, iface = endpoint.split(":")
            assert node in data["topology"]["nodes"]
            assert len(iface) <= 15 and iface != "eth0" and "/" not in iface
            seen.append(endpoint)
    assert len(seen) == len(set(seen))  # every interface on one link only


def test_exec_is_the_testbeds_ip_commands_then_the_daemon(failover):
    data = validate(exported(failover)[TOPO_FILE])
    plan, names = failover.plan, names_of(failover.plan)
    nodes = data["topology"]["nodes"]
    for name, router in plan.routers.items():
        run = nodes[name]["exec"]
        ips = [f"ip {c}" for c in router_ip_commands(router, names.eth)]
        assert run[: len(ips)] == ips
        assert run[-3:] == [f"mkdir -p /run/frr/{name}", f"chown frr:frr /run/frr/{name}",
                            "/usr/lib/frr/frrinit.sh start"]  # fmt: skip
        assert nodes[name]["image"] == ROUTER_IMAGE
        assert nodes[name]["sysctls"]["net.ipv4.ip_forward"] == 1
    ca = nodes["ca"]
    assert ca["exec"] == [f"ip {c}" for c in host_ip_commands(plan.hosts["ca"], names.eth)]
    assert ca["binds"] == ["shared:/shared"] and ca["image"] == HOST_IMAGE
    assert ca["sysctls"]["net.ipv4.ip_forward"] == 0
    defaults = data["topology"]["defaults"]
    assert defaults == {"kind": "linux", "network-mode": "none", "entrypoint": "tail -f /dev/null"}
    # every exec item splits into words as containerlab splits it (shlex), a shell line
    # into sh -c and one script
    for node in nodes.values():
        for item in node["exec"]:
            words = shlex.split(item)
            assert words[0] in ("ip", "sh", "mkdir", "chown", "/usr/lib/frr/frrinit.sh")
            if words[0] == "sh":
                assert words[1] == "-c" and len(words) == 3


def test_exec_items_keep_their_shell_lines_whole():
    line = "tc qdisc replace dev x root 2>/dev/null || { echo 'no netem' >&2; true; }"
    assert shlex.split(exec_item(line)) == ["sh", "-c", line]
    odd = 'echo "$X" \\ y'
    assert shlex.split(exec_item(odd)) == ["sh", "-c", odd]
    assert exec_item("ip link set lo up") == "ip link set lo up"


def test_every_bound_file_is_written_and_frr_conf_is_the_testbeds(failover, tmp_path):
    files = exported(failover)
    data = validate(files[TOPO_FILE])
    write_files(files, tmp_path / "lab")
    for node in data["topology"]["nodes"].values():
        for bind in node.get("binds", []):
            host = bind.split(":")[0]
            assert (tmp_path / "lab" / host).exists(), bind
    plan = failover.plan
    for name, router in plan.routers.items():
        assert files[f"{name}/etc/frr/frr.conf"] == frr.render_config(router, plan)
        assert (
            f"{name}/etc/frr/frr.conf:/etc/frr/frr.conf:ro"
            in (data["topology"]["nodes"][name]["binds"])
        )


def test_timeline_docker_execs_and_a_veth_tells_the_far_end(failover):
    script = exported(failover)["timeline.sh"]
    assert 'exec "clab-anycast-two-sites-two-sites-failover-$dev" "$@"' in script
    assert '$CLAB_EXEC "$dev" "$@"' in script
    # link-down on the site router's uplink only: its veth peer loses carrier (as in the testbed)
    event = script.split("# t=15 s:")[1].split("# t=40 s:")[0]
    assert "on east ip link set east-e0 down" in event
    assert "on ta " not in event
    assert "/usr/lib/frr/frrinit.sh" not in event


def test_images_and_a_rich_timeline(tmp_path):
    from .test_kathara import RICH

    path = tmp_path / "rich.yaml"
    path.write_text(RICH)
    files = exported(prepare("two-sites", str(path)), router_image="frr:x", host_image="h:y")
    script = files["timeline.sh"]
    assert "on west /usr/lib/frr/frrinit.sh restart" in script  # router-crash restored
    assert "iptables" in script
    data = validate(files["anycast-two-sites-rich.clab.yml"])
    assert data["topology"]["nodes"]["ca"]["image"] == "h:y"
    assert data["topology"]["nodes"]["ta"]["image"] == "frr:x"


def test_default_images():
    assert BIRD_IMAGE.startswith("ghcr.io/srl-labs/bird:2")
    assert ROUTER_IMAGE.endswith(":8.4.1")


def test_an_interface_name_a_container_would_not_take_is_refused():
    intf = SimpleNamespace(name="x")
    for eth, why in (
        ("a-very-long-name", "longer than Linux's 15 characters"),
        ("eth0", "the engine keeps that name"),
        ("a/b", "a space, slash or colon"),
    ):
        names = SimpleNamespace(
            nodes=lambda: ["n"], interfaces={"n": [intf]}, eth=lambda _i, e=eth: e
        )
        assert why in (checked_interface_names(names, ("eth0",)) or "")  # type: ignore[arg-type]


def test_the_cli_writes_the_containerlab_lab(capsys, tmp_path):
    from ..cli.helpers import run_cli

    out = tmp_path / "lab"
    code, stdout, _err = run_cli(capsys, "export", "two-sites", "two-sites-failover", "--to",
                                 "containerlab", "--out", str(out), "--image",
                                 "frr=f:1,bird=b:2", "--image", "host=h:3")  # fmt: skip
    assert code == 0
    assert "exported two-sites to containerlab: 10 nodes, 9 links" in stdout
    assert f"sudo containerlab deploy -t {out / TOPO_FILE}" in stdout
    data = validate((out / TOPO_FILE).read_text())
    assert data["topology"]["nodes"]["ta"]["image"] == "f:1"
    assert data["topology"]["nodes"]["cb"]["image"] == "h:3"
    assert (out / "shared" / "meta.json").is_file()
    assert Path(out / "timeline.sh").stat().st_mode & 0o111
