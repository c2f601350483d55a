"""The GSLB service: PowerDNS's rendered files (golden), the zone's checks, the LUA record's
code, the real checkers, and PowerDNS itself on 127.0.0.x (skipped where pdns-server is not
installed): the view and EDNS Client Subnet pick the site, a failed health check moves it.

Refresh the golden files after an intended change with
``UPDATE_GOLDEN=1 pytest tests/unit/services/test_gslb_service.py``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List, Optional

import dns.edns
import dns.exception
import dns.message
import dns.query
import dns.rdatatype
import pytest

from testbed.services import gslb as service
from testbed.topology import model
from tests.unit.probes.helpers import ROOT, free_port

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "gslb"
WORKDIR = Path("/run/x/services/lon-1/pdns")

needs_pdns = pytest.mark.skipif(not service.installed(), reason="pdns-server is not installed")


def zone(**changes) -> service.GslbZone:
    """Three sites, two views (one naming two of the three sites), TTL 5."""
    values = dict(
        ttl=5,
        interval=1,
        sites={"lon": "100.66.0.53", "nyc": "100.66.1.53", "tyo": "100.66.2.53"},
        views=[
            service.GslbView(("198.18.1.0/24", "198.18.3.0/24"), ("nyc", "lon")),
            service.GslbView(("198.18.2.0/24", "100.64.0.9"), ("tyo", "nyc", "lon")),
        ],
    )
    values.update(changes)
    return service.GslbZone(**values)  # type: ignore[arg-type]


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_pdns_conf_golden():
    golden("pdns.conf", service.render_config("lon", WORKDIR, zone()))


def test_named_conf_golden():
    golden("named.conf", service.render_named(WORKDIR, zone()))


def test_zone_golden():
    golden("gslb.test.zone", service.render_zone("lon", zone()))


def test_config_runs_in_the_foreground_from_its_folder_with_lua_records_and_ecs():
    text = service.render_config("lon", Path("/d"), zone(interval=7), "192.0.2.54", 5300)
    for line in [
        "launch=bind", "bind-config=/d/named.conf", "local-address=192.0.2.54",
        "local-port=5300", "guardian=no", "daemon=no", "setuid=", "setgid=",
        "socket-dir=/d", "disable-syslog=yes", "enable-lua-records=yes",
        "lua-health-checks-interval=7", "edns-subnet-processing=yes", "cache-ttl=0",
        "server-id=lon",
    ]:  # fmt: skip
        assert f"\n{line}\n" in text
    assert service.pdns_argv(Path("/d/pdns.conf")) == [service.PDNS_SERVER, "--config-dir=/d"]


def test_a_control_socket_too_long_for_a_unix_socket_goes_to_a_short_folder(tmp_path):
    """A run folder deep in a home (or a test's temporary folder): PowerDNS could not start."""
    deep = tmp_path / ("lab9-anycast-vs-gslb/runs/20261205-100524-lab9-check/" + "x" * 40) / "pdns"
    short = service.socket_dir(deep)
    assert short != deep and short == service.socket_dir(deep)  # one per server, stable
    assert len(str(short / service.CONTROL_SOCKET)) <= service.SOCKET_PATH_MAX
    assert service.socket_dir(deep.parent / "other") != short
    assert service.socket_dir(Path("/run/x/pdns")) == Path("/run/x/pdns")
    assert f"\nsocket-dir={short}\n" in service.render_config("lon", deep, zone())
    service.write_config("lon", deep, zone())
    assert short.is_dir() and (deep / service.CONF_NAME).exists()
    short.rmdir()


def test_the_record_asks_every_site_once_then_walks_the_view_order():
    code = service.lua_code(zone())
    assert code[0] == ";local up = {}"
    assert code[1] == (
        "for _, a in ipairs(ifportup(53, {'100.66.0.53', '100.66.1.53', '100.66.2.53'}, "
        "{selector='all', backupSelector='all', timeout='1'})) do up[a] = true end"
    )
    assert code[2] == "local order = {'100.66.0.53', '100.66.1.53', '100.66.2.53'}"
    # a view's order names nyc, lon: tyo follows in the default order
    assert code[3] == (
        "if netmask({'198.18.1.0/24', '198.18.3.0/24'}) "
        "then order = {'100.66.1.53', '100.66.0.53', '100.66.2.53'}"
    )
    assert code[4].startswith("elseif netmask({'198.18.2.0/24', '100.64.0.9/32'}) then")
    assert code[5:] == [
        "end",
        "for _, a in ipairs(order) do if up[a] then return a end end",
        "return order[1]",
    ]
    assert all('"' not in line and "\\" not in line for line in code)


def test_without_views_the_default_order_is_the_only_one():
    code = service.lua_code(zone(views=[], port=8053, timeout=2))
    assert not any("netmask" in line for line in code) and "end" not in code
    assert "ifportup(8053, " in code[1] and "timeout='2'" in code[1]
    text = service.render_zone("lon", zone(views=[]))
    assert "; view" not in text and 'svc 5 IN LUA ( A\n    ";local up = {}"\n' in text


def test_the_zone_names_the_site_and_the_authority():
    text = service.render_zone("tyo", zone(), "192.0.2.99")
    assert "$TTL 5\n" in text and 'site     IN TXT  "tyo"\n' in text
    assert "ns       IN A    192.0.2.99\n" in text
    assert "; view 1: 198.18.1.0/24 198.18.3.0/24 -> nyc lon tyo\n" in text
    assert text.endswith('    "return order[1]" )\n')


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"ttl": 0}, "ttl must be a whole number from 1 to 86400, not 0"),
        ({"ttl": 86401}, "ttl must be a whole number from 1 to 86400"),
        ({"ttl": True}, "ttl must be a whole number"),
        ({"interval": 61}, "interval must be a whole number from 1 to 60, not 61"),
        ({"interval": 0.5}, "interval must be a whole number"),
        ({"timeout": 0}, "timeout must be a whole number from 1 to 60"),
        ({"port": 0}, "port must be a whole number from 1 to 65535"),
        ({"sites": {}}, "sites: none given"),
        ({"sites": {"Lon": "100.66.0.53"}}, "site name 'Lon' is not a lower-case DNS label"),
        ({"sites": {"lon": "100.66.0"}}, "site lon: '100.66.0' is not an IPv4 address"),
        ({"sites": {"a": "10.0.0.1", "b": "10.0.0.1"}}, "10.0.0.1 is the address of several"),
        ({"zone": "GSLB.test"}, "zone 'GSLB.test' is not a lower-case DNS name"),
        ({"name": "svc.x"}, "name 'svc.x' is not a lower-case DNS label"),
        ({"views": [service.GslbView((), ("lon",))]}, "view 1: no subnets"),
        ({"views": [service.GslbView(("10.0.0.0/33",), ("lon",))]}, "view 1: '10.0.0.0/33'"),
        ({"views": [service.GslbView(("10.0.0.0/8",), ())]}, "view 1: no sites in its order"),
        ({"views": [service.GslbView(("10.0.0.0/8",), ("par",))]}, "view 1: unknown site 'par'"),
        ({"views": [service.GslbView(("10/8",), ("lon", "lon"))]}, "is not an IPv4 subnet"),
        ({"views": [service.GslbView(("10.0.0.0/8",), ("lon", "lon"))]}, "named twice"),
    ],
)
def test_bad_zones_are_refused_with_one_line(changes, message):
    with pytest.raises(ValueError) as info:
        zone(**changes)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_subnets_are_normalised_and_an_address_is_a_slash_32():
    z = zone(views=[service.GslbView(("10.1.2.3/8", "100.64.0.9"), ("lon",))])
    assert z.views[0].subnets == ("10.0.0.0/8", "100.64.0.9/32")
    assert z.order(z.views[0]) == ["lon", "nyc", "tyo"] and z.order() == ["lon", "nyc", "tyo"]


def test_json_round_trip_and_its_errors(tmp_path):
    z = zone()
    path = tmp_path / "zone.json"
    path.write_text(json.dumps(z.to_dict()))
    assert service.load_zone(path) == z
    assert list(service.load_zone(path).sites) == ["lon", "nyc", "tyo"]  # the order is kept
    for data, message in [
        ({"sites": {"lon": "1.2.3.4"}, "tll": 5}, "unknown key 'tll'"),
        ({"sites": ["lon"]}, "sites: expected an object"),
        (
            {"sites": {"lon": "1.2.3.4"}, "views": [{"subnets": ["1.0.0.0/8"], "sites": []}]},
            "view 1: unknown key 'sites'",
        ),  # fmt: skip
        (
            {"sites": {"lon": "1.2.3.4"}, "views": [{"subnets": "1.0.0.0/8", "order": ["lon"]}]},
            "view 1: subnets and order must be lists",
        ),  # fmt: skip
        ([], "expected a JSON object"),
    ]:
        path.write_text(json.dumps(data))
        with pytest.raises(ValueError, match=message):
            service.load_zone(path)
    path.write_text("{")
    with pytest.raises(ValueError, match="zone.json: not JSON"):
        service.load_zone(path)
    with pytest.raises(ValueError, match="missing.json: No such file"):
        service.load_zone(tmp_path / "missing.json")


def test_the_addresses_and_limits_are_the_topologys():
    authority = str(model.GSLB_AUTHORITY)
    assert authority == service.AUTHORITY
    assert service.MAX_TTL == model.MAX_TTL
    health = model.ServiceHealth.model_fields["interval"]
    assert [m.le for m in health.metadata if hasattr(m, "le")] == [service.MAX_INTERVAL]
    assert model.Service().ttl == service.TTL


@needs_pdns
def test_the_real_checkers_accept_the_files_and_refuse_broken_ones_with_one_line(tmp_path):
    conf = service.write_config("lon", tmp_path / "pdns", zone())
    assert sorted(p.name for p in conf.parent.iterdir()) == [
        "gslb.test.zone", "named.conf", "pdns.conf"
    ]  # fmt: skip
    assert service.check(conf) is None
    conf.write_text(conf.read_text() + "lua-health-check-interval=1\n")
    problem = service.check(conf)
    assert problem == "Fatal error: Trying to set unknown setting 'lua-health-check-interval'"
    conf = service.write_config("lon", tmp_path / "pdns", zone())
    zonefile = conf.parent / "gslb.test.zone"
    zonefile.write_text(zonefile.read_text() + "bad IN A 100.66.1\n")
    problem = service.check(conf)
    assert problem is not None and "\n" not in problem
    assert 'Following record had a problem: "bad.gslb.test IN A 100.66.1"' in problem
    assert "unable to parse IP address" in problem


def test_a_bad_zone_file_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "zone.json"
    path.write_text(json.dumps({"sites": {"lon": "100.66.0.53"}, "interval": 0}))
    done = run_module("--site", "lon", "--dir", str(tmp_path / "d"), "--zone", str(path))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr == (
        f"python -m testbed.services.gslb: error: {path}: "
        "interval must be a whole number from 1 to 60, not 0\n"
    )
    assert not (tmp_path / "d").exists()
    bad = run_module("--site", "Lon", "--dir", "d", "--zone", str(path))
    assert (
        bad.returncode == 2 and bad.stderr.count("\n") == 1 and "invalid name 'Lon'" in bad.stderr
    )


def run_module(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "testbed.services.gslb", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@needs_pdns
def test_render_only_writes_checks_and_prints_the_config(tmp_path):
    path = tmp_path / "zone.json"
    path.write_text(json.dumps(zone().to_dict()))
    done = run_module("--site", "lon", "--dir", str(tmp_path / "d"), "--zone", str(path),
                      "--address", "127.0.0.1", "--port", "5300", "--render-only")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{tmp_path / 'd' / 'pdns.conf'}\n"


# --- PowerDNS itself, on 127.0.0.x ------------------------------------------------------------


class Listener:
    """A site's health-check target: a TCP listener on ``address:port``."""

    def __init__(self, address: str, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        self.sock.listen(16)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def started() -> Iterator[List[subprocess.Popen]]:
    """Processes a test starts; each still running gets SIGTERM, then SIGKILL (by PID)."""
    procs: List[subprocess.Popen] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()


def ask(port: int, name: str = "svc.gslb.test", ecs: Optional[str] = None,
        rdtype: str = "A") -> List[str]:  # fmt: skip
    """PowerDNS's answer (its records' texts) to one query from 127.0.0.1."""
    options = [dns.edns.ECSOption(ecs, 32)] if ecs else []
    query = dns.message.make_query(name, rdtype, use_edns=0, options=options)
    response = dns.query.udp(query, "127.0.0.1", port=port, timeout=1)
    return [rr.to_text() for rrset in response.answer for rr in rrset]


def wait_answer(port: int, want: List[str], within: float, **kw) -> float:
    """Seconds until PowerDNS answers ``want`` (AssertionError after ``within``)."""
    start = time.monotonic()
    got: List[str] = []
    while time.monotonic() - start < within:
        try:
            got = ask(port, **kw)
        except dns.exception.Timeout:
            got = []
        if got == want:
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(f"PowerDNS still answers {got}, not {want}, after {within} s")


@needs_pdns
def test_pdns_picks_by_view_and_ecs_and_drops_a_site_that_fails_its_check(tmp_path, started):
    check_port, dns_port = free_port(), free_port()
    sites = {"lon": "127.0.0.2", "nyc": "127.0.0.3"}
    listeners = {site: Listener(address, check_port) for site, address in sites.items()}
    try:
        gslb = service.GslbZone(
            ttl=5, port=check_port, interval=1, sites=sites,
            views=[service.GslbView(("127.0.0.10/32",), ("nyc",))],
        )  # fmt: skip
        spec = tmp_path / "zone.json"
        spec.write_text(json.dumps(gslb.to_dict()))
        log = (tmp_path / "pdns.log").open("w")
        argv = [sys.executable, "-m", "testbed.services.gslb", "--site", "lon",
                "--dir", str(tmp_path / "pdns"), "--zone", str(spec),
                "--address", "127.0.0.1", "--port", str(dns_port)]  # fmt: skip
        p = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        started.append(p)
        # before its checks are done every site counts as down: the view's first site
        wait_answer(dns_port, ["127.0.0.2"], 10)
        assert ask(dns_port, "site.gslb.test", rdtype="TXT") == ['"lon"']
        assert ask(dns_port, "who.gslb.test", rdtype="TXT") == ['"127.0.0.1"']
        assert ask(dns_port, ecs="127.0.0.10") == ["127.0.0.3"]  # ECS picks the view
        assert ask(dns_port, "who.gslb.test", ecs="127.0.0.10", rdtype="TXT") == ['"127.0.0.10"']
        time.sleep(1.5)  # the first checks are done
        query = dns.message.make_query("svc.gslb.test", "A")
        answer = dns.query.udp(query, "127.0.0.1", port=dns_port, timeout=1).answer
        assert answer[0].ttl == 5 and answer[0][0].to_text() == "127.0.0.2"
        listeners["lon"].close()  # refused at once: moved within the interval
        moved = wait_answer(dns_port, ["127.0.0.3"], 3)
        assert moved < 1.5
        listeners["nyc"].close()  # no site passes: the view's first one
        wait_answer(dns_port, ["127.0.0.3"], 3, ecs="127.0.0.10")
        wait_answer(dns_port, ["127.0.0.2"], 3)
        assert (
            "Lua record monitoring declaring TCP/IP 127.0.0.2"
            in (tmp_path / "pdns.log").read_text()
        )
        pidfile = service.socket_dir(tmp_path / "pdns") / "pdns.pid"
        assert pidfile.read_text().strip() == str(p.pid)  # exec'd
        os.kill(p.pid, signal.SIGTERM)
        p.wait(timeout=10)
    finally:
        for listener in listeners.values():
            listener.close()
