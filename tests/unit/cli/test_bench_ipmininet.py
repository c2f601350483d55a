"""bench/ipmininet.py: the chain both tools build, route reading, the table, the install hint."""

from __future__ import annotations

import os
import sys

import pytest

from tests.unit.cli.helpers import BENCH_DIR, load_bench

BENCH = BENCH_DIR / "ipmininet.py"


@pytest.fixture(scope="module")
def bench():
    return load_bench("ipmininet")


def test_the_chain_is_ours_router_for_router(bench):
    spec = bench.chain_spec(3)
    assert spec.routers == [
        ("t1", 65001, ()),
        ("t2", 65002, ()),
        ("t3", 65003, ()),
        ("observer", 64512, ("198.18.0.0/24",)),
        ("origin", 64500, ("192.0.2.0/24",)),
    ]
    assert spec.links == [("t1", "t2"), ("t2", "t3"), ("observer", "t3"), ("origin", "t1")]
    assert spec.hosts == [
        ("origin-1", "origin", "192.0.2.0/24"),
        ("client", "observer", "198.18.0.0/24"),
    ]
    assert spec.prefixes == ["198.18.0.0/24", "192.0.2.0/24"]
    assert len(bench.chain_spec(50).routers) == 52


IP_ROUTE = """\
default via 10.0.0.1 dev t2-eth0
10.0.0.0/24 dev t2-eth0 proto kernel scope link src 10.0.0.2
192.0.2.0/24 nhid 12 via 10.0.0.1 dev t2-eth0 proto bgp metric 20
blackhole 203.0.113.0/24 proto static
"""


def test_routes_are_read_from_ip_route(bench):
    assert bench.routes_in(IP_ROUTE) == {"10.0.0.0/24", "192.0.2.0/24", "203.0.113.0/24"}
    assert bench.routes_in("") == set()


def test_converged_once_every_router_has_every_prefix(bench):
    prefixes = ["192.0.2.0/24", "198.18.0.0/24"]
    tables = {"t1": {"192.0.2.0/24", "198.18.0.0/24"}, "t2": bench.routes_in(IP_ROUTE)}
    assert bench.missing_routes(tables, prefixes) == {"t2": ["198.18.0.0/24"]}
    tables["t2"].add("198.18.0.0/24")
    assert bench.missing_routes(tables, prefixes) == {}


def test_frr_daemons_are_put_on_path(bench, tmp_path):
    assert bench.with_frr_on_path("/usr/bin:/bin") == f"/usr/lib/frr{os.pathsep}/usr/bin:/bin"
    assert bench.with_frr_on_path("/bin:/usr/lib/frr") == "/bin:/usr/lib/frr"
    assert bench.missing_daemons(str(tmp_path)) == ["zebra", "bgpd"]


OURS = {"routers": 52, "total_s": 3.5, "down_s": 0.8, "converged": True}


def test_the_table_row_with_both_tools(bench):
    theirs = {"routers": 52, "total_s": 24.5, "down_s": 3.0, "converged": True, "error": None}
    row = bench.format_row(50, OURS, theirs)
    assert row.split() == ["50", "52", "frr", "3.50", "0.80", "24.50", "3.00", "7.0x"]
    on_bird = bench.format_row(50, {**OURS, "daemon": "bird", "total_s": 1.75}, theirs)
    assert on_bird.split()[2:4] == ["bird", "1.75"] and on_bird.endswith("14.0x")
    assert len(bench.HEADER) == len(row)


def test_the_table_row_without_ipmininet_or_when_it_fails(bench):
    row = bench.format_row(50, OURS, None)
    assert row.split() == ["50", "52", "frr", "3.50", "0.80", "-", "-", "-"]
    failed = {"routers": 202, "converged": False, "error": "ValueError: No subnet left"}
    assert bench.format_row(200, OURS, failed).endswith(
        "IPMininet failed: ValueError: No subnet left"
    )
    late = {
        "routers": 52,
        "total_s": 120.1,
        "down_s": 3.0,
        "converged": False,
        "missing": {"t9": []},
    }
    row = bench.format_row(50, {**OURS, "converged": False}, late)
    assert " - " in row and "ours NOT CONVERGED" in row
    assert "IPMininet NOT CONVERGED (1 routers missing routes)" in row


def test_not_installed_says_how_to_install(bench):
    hint = bench.install_hint("No module named 'ipmininet'", "/v/bin/python")
    assert "\n" not in hint and "IPMininet is not installed" in hint
    assert "/v/bin/pip download --no-deps" in hint and "/usr/lib/frr" in hint


def test_this_file_is_not_taken_for_ipmininet(bench, monkeypatch):
    monkeypatch.setattr(sys, "path", [str(BENCH.parent), *sys.path])
    result = bench.import_ipmininet()
    assert isinstance(result, dict) or result == "No module named 'ipmininet'"
    assert sys.path[0] == str(BENCH.parent)
