"""The CAIDA AS-relationship importer: the shipped sample, selections, bad lines with numbers."""

from __future__ import annotations

import bz2
from pathlib import Path

import pytest
import yaml

from testbed.errors import InputError
from testbed.topology import caida
from testbed.topology.asgraph import AsGraph
from testbed.topology.dump import topology_data, topology_yaml
from testbed.topology.internet import SAMPLE, SAMPLE_FILE, internet_graph, sample_as_rel
from testbed.topology.load import load_topology, parse_topology
from testbed.topology.model import is_name
from testbed.topology.relationships import as_relationships

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_PATH = ROOT / SAMPLE_FILE


def write(tmp_path: Path, text: str, name: str = "rel.txt") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        caida.read_as_rel(path)
    message = str(info.value)
    assert "\n" not in message
    return message.replace(str(path), "FILE")


def test_shipped_sample_is_what_the_script_writes():
    assert SAMPLE_PATH.read_text() == sample_as_rel()


def test_sample_round_trip():
    graph = caida.read_as_rel(SAMPLE_PATH)
    made, _ = internet_graph(SAMPLE.n, SAMPLE.seed)
    assert set(graph.names) == set(made.names)
    assert set(graph.p2c) == set(made.p2c) and set(graph.p2p) == set(made.p2p)
    assert graph.names[64512] == "as64512" and graph.descriptions[64512] == "AS64512"
    # and written back, the same text
    assert graph.as_rel_text() == made.as_rel_text()


def test_format_details(tmp_path):
    text = (
        "# source:topology|BGP|20240101|...\n"
        "\n"
        "1|2|-1|bgp\n"
        "  1|3|0  \n"
        "3|1|0|mlp\n"  # the same peering listed both ways: fine
        "1|2|-1\n"  # the same line again: fine
        "2|4|-1\n"
    )
    graph = caida.read_as_rel(write(tmp_path, text))
    assert list(graph.names) == [1, 2, 3, 4]
    assert graph.p2c == [(1, 2), (2, 4)] and graph.p2p == [(1, 3)]


@pytest.mark.parametrize(
    "text,line",
    [
        (
            "1|2|-1\n1|2\n",
            "FILE: line 2: expected AS1|AS2|REL (or AS1|AS2|REL|SOURCE), got 2 fields",
        ),
        ("1|2|-1|bgp|x\n", "FILE: line 1: expected AS1|AS2|REL (or AS1|AS2|REL|SOURCE), got 5"),
        (
            "# c\n1|2|1\n",
            "FILE: line 2: relationship must be -1 (AS1 is a provider of AS2) "
            "or 0 (peers), got '1'",
        ),
        ("1|2|-2\n", "FILE: line 1: relationship must be -1"),
        ("AS1|2|0\n", "FILE: line 1: AS number must be a whole number (asplain), got 'AS1'"),
        ("1.5|2|0\n", "FILE: line 1: AS number must be a whole number (asplain), got '1.5'"),
        ("0|2|0\n", "FILE: line 1: AS number must be between 1 and 4294967294, got 0"),
        ("4294967295|2|0\n", "FILE: line 1: AS number must be between 1 and 4294967294"),
        ("7|7|0\n", "FILE: line 1: AS 7 is related to itself"),
        (
            "1|2|-1\n\n2|1|-1\n",
            "FILE: line 3: AS 2 and AS 1 are already related on line 1 "
            "(AS 1 is a provider of AS 2): one relationship per pair",
        ),
        ("1|2|0\n1|2|-1\n", "FILE: line 2: AS 1 and AS 2 are already related on line 1 (peers)"),
        ("# nothing\n\n", "FILE: no AS relationships in the file"),
        (
            "1|2|-1\n2|3|-1\n5|6|0\n3|1|-1\n",
            "FILE: line 4: a cycle of providers (AS 1 -> AS 2 -> AS 3 -> AS 1, each the "
            "provider of the next): an AS would be its own provider",
        ),
    ],
)
def test_bad_lines_are_refused_with_their_number(tmp_path, text, line):
    assert error(tmp_path, text).startswith(line)


def test_unreadable_files_are_one_line(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        caida.read_as_rel(tmp_path / "absent.txt")
    with pytest.raises(InputError, match="is a directory"):
        caida.read_as_rel(tmp_path)
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"1|2|0\n3|4|0 \xe9\n")
    with pytest.raises(InputError, match=r"latin1.txt: line 2: not UTF-8 text"):
        caida.read_as_rel(bad)
    broken = tmp_path / "broken.txt.bz2"
    broken.write_bytes(b"BZh9 this is not bzip2")
    with pytest.raises(InputError, match=r"broken.txt.bz2: not a valid bzip2 file"):
        caida.read_as_rel(broken)


def test_bz2_files_are_read(tmp_path):
    packed = tmp_path / "20240101.as-rel2.txt.bz2"
    packed.write_bytes(bz2.compress(SAMPLE_PATH.read_bytes()))
    assert caida.read_as_rel(packed).p2c == caida.read_as_rel(SAMPLE_PATH).p2c


def test_as_names_fit_the_name_rules():
    assert caida.as_name(3356) == "as3356"
    assert caida.as_name(99999999) == "as99999999"
    long_ones = [caida.as_name(a) for a in (100000000, 4200000000, 4294967294)]
    assert all(is_name(n) and n.startswith("ax") for n in long_ones)
    assert len(set(long_ones)) == 3
    assert caida.parse_asn("AS3356") == caida.parse_asn("as3356") == caida.parse_asn("3356")
    with pytest.raises(InputError, match="--around must be an AS number"):
        caida.parse_asn("AS-X", "--around")


def test_top_n_by_customer_cone():
    graph = caida.read_as_rel(SAMPLE_PATH)
    cones = graph.customer_cones()
    top = caida.select_top(graph, 12, "f")
    assert len(top) == 12
    assert min(cones[a] for a in top) >= max(cones[a] for a in graph.names if a not in top)
    with pytest.raises(InputError, match="--top must be between 2 and 1000, got 1"):
        caida.select_top(graph, 1, "f")


def test_k_hop_neighbourhood():
    graph = caida.read_as_rel(SAMPLE_PATH)
    near = graph.neighbours()
    stub = 64600
    assert caida.select_around(graph, [stub], 0, "f") == {stub}
    one = caida.select_around(graph, [stub], 1, "f")
    assert one == {stub} | near[stub]
    two = caida.select_around(graph, [stub], 2, "f")
    assert two == one | {n for a in one for n in near[a]}
    with pytest.raises(InputError, match=r"f: --around: AS 1 is not in the file"):
        caida.select_around(graph, [1], 1, "f")
    with pytest.raises(InputError, match="the 3-hop neighbourhood of AS 64600 holds more than 50"):
        caida.select_around(graph, [stub], 3, "f", max_ases=50)


def test_imported_top_n_validates_and_keeps_every_relationship():
    graph = caida.read_as_rel(SAMPLE_PATH)
    selected = caida.select_top(graph, 40, "f")
    done = caida.import_topology(graph, selected, "f", "caida-top40", "test")
    topo = parse_topology(done.data, "f")
    assert len([a for a in topo.ases if a.role != "anycast"]) == 40 and done.dropped == 0
    assert [a.asn for a in topo.ases][:-1] == sorted(selected)
    assert all(link.rel for link in topo.links)
    # the relationships in the topology are the file's, and the sites buy transit
    rel = as_relationships(topo)
    asn = {a.name: a.asn for a in topo.ases}
    sub = graph.subgraph(selected)
    expected = {(p, c) for p, c in sub.p2c}
    got = {
        (asn[them], asn[me]) for (me, them), r in rel.items() if r == "provider" and me != "anycast"
    }
    assert got == expected
    assert {them for (me, them), r in rel.items() if me == "anycast" and r == "provider"} == {
        s.upstreams()[0] for s in topo.sites
    }
    # default sites: ASes with a provider and customers in the selection (tier-2s)
    below, above = sub.customers(), sub.providers()
    assert len(done.site_ases) == 3
    assert all(below[a] and above[a] for a in done.site_ases)
    # clients: in ASes without customers in the selection, the most multi-homed first
    assert len(done.client_ases) == 8 and len(set(done.client_ases)) == 8
    assert all(not below[a] for a in done.client_ases)
    assert done.line() == (
        f"40 ASes, {len(sub.p2c)} customer-provider and {len(sub.p2p)} peer links, "
        "3 sites, 8 clients"
    )


def test_imported_file_reads_back_the_same(tmp_path):
    graph = caida.read_as_rel(SAMPLE_PATH)
    selected = caida.select_around(graph, [64600], 2, "f")
    done = caida.import_topology(
        graph, selected, "f", "near", "d", site_ases=[64527], clients=2, around=[64600]
    )
    topo = parse_topology(done.data, "f")
    path = tmp_path / "near.yaml"
    path.write_text(topology_yaml(topology_data(topo), ["a header"]))
    assert path.read_text().startswith("# a header\nname: near\n")
    assert load_topology(str(path)) == topo
    assert [s.upstream for s in topo.sites] == ["as64527"]
    assert len(topo.clients) == 2


def _star(customers: int) -> AsGraph:
    names = {asn: caida.as_name(asn) for asn in range(1, customers + 2)}
    return AsGraph(names, [(1, c) for c in range(2, customers + 2)])


def test_selection_problems(tmp_path):
    graph = caida.read_as_rel(SAMPLE_PATH)
    selected = caida.select_around(graph, [64600], 1, "f")
    with pytest.raises(InputError, match="f: --site-at: AS 64512 is not in the selection"):
        caida.import_topology(graph, selected, "f", "x", "d", site_ases=[64512])
    with pytest.raises(InputError, match="AS 1 has 120 relationships in the selection"):
        star = _star(120)
        caida.import_topology(star, set(star.names), "f", "x", "d")
    with pytest.raises(InputError, match="--clients must be between 1 and 20, got 30"):
        caida.import_topology(graph, selected, "f", "x", "d", clients=30)


def test_unconnected_ases_are_left_out_or_refused():
    graph = AsGraph({a: caida.as_name(a) for a in (1, 2, 3, 10, 11)}, [(1, 2), (1, 3), (10, 11)])
    done = caida.import_topology(graph, set(graph.names), "f", "x", "d", sites=1, clients=1)
    assert set(done.graph.names) == {1, 2, 3} and done.dropped == 2
    assert done.line().endswith("; 2 unconnected ASes left out")
    with pytest.raises(InputError, match="--around: AS 10 is not joined to the rest"):
        caida.import_topology(graph, set(graph.names), "f", "x", "d", around=[1, 10])


def test_written_sample_topology_is_valid_yaml():
    graph = caida.read_as_rel(SAMPLE_PATH)
    done = caida.import_topology(graph, caida.select_top(graph, 25, "f"), "f", "t", "d")
    text = topology_yaml(done.data)
    assert parse_topology(yaml.safe_load(text), "f").name == "t"
