"""Topologies written back as YAML read back the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.errors import InputError
from testbed.inputfile import parse_yaml
from testbed.topology.dump import topology_data, topology_yaml, write_topology
from testbed.topology.load import load_topology, parse_topology

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = sorted(p.stem for p in (ROOT / "topologies").glob("*.yaml"))


@pytest.mark.parametrize("ref", SHIPPED + ["chain:3", "clique:4", "internet:30:seed=4"])
def test_round_trip(ref):
    topo = load_topology(ref)
    text = topology_yaml(topology_data(topo), [f"from {ref}"])
    assert text.startswith(f"# from {ref}\nname: ")
    assert parse_topology(parse_yaml(text, ref), ref) == topo


def test_links_list_their_ends_first():
    data = topology_data(load_topology("world"))
    assert list(data["links"][0])[:2] == ["a", "b"]
    assert "sessions" not in data  # nothing to say: left out
    rel = topology_data(load_topology("internet:20"))["links"][0]
    assert list(rel) == ["a", "b", "rel"]


def test_write_topology(tmp_path):
    out = tmp_path / "x.yaml"
    write_topology("name: x\n", out)
    assert out.read_text() == "name: x\n"
    with pytest.raises(InputError, match="exists already: give --force"):
        write_topology("name: y\n", out)
    write_topology("name: y\n", out, force=True)
    assert out.read_text() == "name: y\n" and sorted(p.name for p in tmp_path.iterdir()) == [
        "x.yaml"
    ]
    with pytest.raises(InputError, match="must end in .yaml or .yml"):
        write_topology("", tmp_path / "x.txt")
    with pytest.raises(InputError, match="no such folder"):
        write_topology("", tmp_path / "absent" / "x.yaml")
