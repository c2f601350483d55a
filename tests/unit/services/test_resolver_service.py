"""The resolver service: unbound's rendered config (golden), the settings' checks,
unbound-checkconf, and unbound itself on 127.0.0.1 in front of PowerDNS (skipped where
unbound or pdns-server is not installed): stub zones only, TTLs clamped.

Refresh the golden files after an intended change with
``UPDATE_GOLDEN=1 pytest tests/unit/services/test_resolver_service.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List, Tuple

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest

from testbed.services import dns as nsd_service
from testbed.services import gslb
from testbed.services import resolver as service
from testbed.topology import model
from tests.unit.probes.helpers import ROOT, free_port

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "resolver"
WORKDIR = Path("/run/x/resolvers/res1")

needs_unbound = pytest.mark.skipif(not service.installed(), reason="unbound is not installed")
needs_both = pytest.mark.skipif(
    not (service.installed() and gslb.installed()), reason="unbound or pdns-server missing"
)

GOLDENS = {
    "res1.conf": ("res1", service.ResolverSettings(address="198.18.0.6")),
    "res2-ecs.conf": (
        "res2",
        service.ResolverSettings(address="198.18.1.6", min_ttl=60, max_ttl=3600, ecs=True),
    ),
    "public-stale.conf": (
        "public",
        service.ResolverSettings(address="192.0.2.55", serve_stale=True, prefetch=True),
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_config_golden(name):
    resolver, settings = GOLDENS[name]
    text = service.render_config(resolver, WORKDIR, settings)
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_config_runs_from_its_folder_and_asks_only_its_stub_zones():
    text = service.render_config("res1", Path("/d"), service.ResolverSettings(address="10.0.0.1"))
    for line in [
        'directory: "/d"', 'chroot: ""', 'username: ""', "use-syslog: no",
        'logfile: "/d/unbound.log"', "interface: 10.0.0.1", "outgoing-interface: 10.0.0.1",
        'module-config: "iterator"', "cache-min-ttl: 0", "cache-max-ttl: 86400",
        "serve-expired: no", "prefetch: no", 'local-zone: "." refuse',
        'local-zone: "test." nodefault', 'local-zone: "gslb.test." transparent',
        'identity: "res1"', "access-control: 0.0.0.0/0 allow",
    ]:  # fmt: skip
        assert f"\n    {line}\n" in text
    assert "control-enable: no" in text and "send-client-subnet" not in text
    assert "serve-expired-client-timeout" not in text and "validator" not in text
    public = service.ResolverSettings(address="192.0.2.55", outgoing="100.66.0.53")
    text = service.render_config("public", Path("/d"), public)
    assert "\n    interface: 192.0.2.55\n" in text
    assert "\n    outgoing-interface: 100.66.0.53\n" in text
    assert '    name: "anycast.test."\n    stub-addr: 192.0.2.53\n' in text
    assert '    name: "gslb.test."\n    stub-addr: 192.0.2.54\n' in text
    assert service.unbound_argv(Path("/d/unbound.conf")) == [
        service.UNBOUND, "-d", "-c", "/d/unbound.conf"
    ]  # fmt: skip


def test_ecs_and_serve_stale_turn_on_their_modules_and_options():
    settings = service.ResolverSettings(
        address="10.0.0.1", ecs=True, stubs={"gslb.test": ["127.0.0.1@5300"]}
    )
    ecs = service.render_config("r", Path("/d"), settings)
    assert 'module-config: "subnetcache iterator"' in ecs
    assert "    send-client-subnet: 127.0.0.1\n    max-client-subnet-ipv4: 24\n" in ecs
    assert "stub-addr: 127.0.0.1@5300\n" in ecs and "anycast.test" not in ecs
    stale = service.render_config(
        "r", Path("/d"), service.ResolverSettings(address="10.0.0.1", serve_stale=True,
                                                  stale_timeout_ms=900, prefetch=True),
    )  # fmt: skip
    assert "    serve-expired: yes\n    serve-expired-client-timeout: 900\n" in stale
    assert "    prefetch: yes\n" in stale


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"address": "10.0.0"}, "address: '10.0.0' is not an IPv4 address"),
        ({"min_ttl": -1}, "min_ttl must be a whole number from 0 to 86400, not -1"),
        ({"max_ttl": 0}, "max_ttl must be a whole number from 1 to 86400, not 0"),
        ({"max_ttl": 86401}, "max_ttl must be a whole number from 1 to 86400"),
        ({"min_ttl": 61, "max_ttl": 60}, "min_ttl (61) is above max_ttl (60)"),
        ({"serve_stale": True, "ecs": True}, "serve_stale with ecs: unbound 1.17 serves no"),
        ({"prefetch": "yes"}, "prefetch must be true or false, not 'yes'"),
        ({"stale_timeout_ms": 0}, "stale_timeout_ms must be a whole number from 1 to 60000"),
        ({"stubs": {}}, "stubs: no zone given"),
        ({"stubs": {"gslb.test": []}}, "stub zone gslb.test: expected a list of addresses"),
        ({"stubs": {"gslb.test": "192.0.2.54"}}, "expected a list of addresses"),
        ({"stubs": {"Gslb.test": ["192.0.2.54"]}}, "stub zone 'Gslb.test' is not a lower-case"),
        ({"stubs": {"gslb.test": ["192.0.2.5x"]}}, "stub zone gslb.test: '192.0.2.5x' is not"),
        ({"stubs": {"gslb.test": ["192.0.2.54@0"]}}, "'192.0.2.54@0' has a bad port"),
        ({"outgoing": "100.66.0"}, "outgoing: '100.66.0' is not an IPv4 address"),
    ],
)
def test_bad_settings_are_refused_with_one_line(changes, message):
    values = {"address": "10.0.0.1", **changes}
    with pytest.raises(ValueError) as info:
        service.ResolverSettings(**values)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_json_round_trip_and_its_errors(tmp_path):
    settings = service.ResolverSettings(address="198.18.0.6", min_ttl=60, ecs=True)
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({**settings.to_dict(), "outgoing": "10.9.9.9"}))
    assert service.load_settings(path).outgoing == "10.9.9.9"
    path.write_text(json.dumps(settings.to_dict()))
    assert service.load_settings(path) == settings
    assert settings.stubs == {"anycast.test": ("192.0.2.53",), "gslb.test": ("192.0.2.54",)}
    for data, message in [
        ({"address": "10.0.0.1", "min-ttl": 5}, "unknown key 'min-ttl'"),
        ({"min_ttl": 5}, "address: missing"),
        ({"address": "10.0.0.1", "stubs": ["gslb.test"]}, "stubs: expected an object"),
        ({"address": "10.0.0.1", "stubs": {"gslb.test": 5}}, "expected a list of addresses"),
        ("10.0.0.1", "expected a JSON object"),
    ]:
        path.write_text(json.dumps(data))
        with pytest.raises(ValueError, match=message):
            service.load_settings(path)


def test_the_stubs_and_limits_are_the_topologys():
    stubs = {
        nsd_service.ZONE: (nsd_service.SERVICE_ADDRESS,),
        gslb.ZONE: (str(model.GSLB_AUTHORITY),),
    }
    assert stubs == service.STUBS
    assert service.MAX_TTL == model.MAX_TTL == model.Resolvers().max_ttl


@needs_unbound
def test_unbound_checkconf_accepts_the_config_and_refuses_an_unknown_option_with_one_line(
    tmp_path,
):
    conf = service.write_config("res1", tmp_path / "unbound", GOLDENS["res2-ecs.conf"][1])
    assert service.check(conf) is None
    conf.write_text(
        conf.read_text().replace("    prefetch: no\n", "    serve-stale-forever: yes\n")
    )
    problem = service.check(conf)
    assert problem is not None and "\n" not in problem
    assert problem.endswith("error: unknown keyword 'serve-stale-forever'")
    conf.write_text(conf.read_text().replace("cache-min-ttl: 60", "cache-min-ttl: sixty"))
    assert "error: number expected" in (service.check(conf) or "")


def run_module(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "testbed.services.resolver", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bad_settings_file_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"address": "10.0.0.1", "min_ttl": 120, "max_ttl": 60}))
    done = run_module("--name", "res1", "--dir", str(tmp_path / "d"), "--settings", str(path))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"python -m testbed.services.resolver: error: {path}: min_ttl")
    assert not (tmp_path / "d").exists()


@needs_unbound
def test_render_only_writes_checks_and_prints_the_config(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"address": "127.0.0.1", "port": 5353}))
    done = run_module("--name", "res1", "--dir", str(tmp_path / "d"), "--settings", str(path),
                      "--render-only")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{tmp_path / 'd' / 'unbound.conf'}\n"


# --- unbound in front of PowerDNS, on 127.0.0.1 -----------------------------------------------


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


def resolve(port: int, name: str) -> Tuple[str, List[Tuple[str, int]]]:
    """The resolver's rcode and answer (text, TTL) for one A query."""
    query = dns.message.make_query(name, "A")
    response = dns.query.udp(query, "127.0.0.1", port=port, timeout=2)
    answer = [(rr.to_text(), rrset.ttl) for rrset in response.answer for rr in rrset]
    return dns.rcode.to_text(response.rcode()), answer


@needs_both
def test_unbound_resolves_through_pdns_and_keeps_a_ttl_5_answer_60_s(tmp_path, started):
    pdns_port, res_port = free_port(), free_port()
    zone = gslb.GslbZone(ttl=5, port=free_port(), sites={"lon": "127.0.0.2"})
    spec = tmp_path / "zone.json"
    spec.write_text(json.dumps(zone.to_dict()))
    settings = service.ResolverSettings(
        address="127.0.0.1", port=res_port, min_ttl=60,
        stubs={"gslb.test": [f"127.0.0.1@{pdns_port}"]},
    )  # fmt: skip
    (tmp_path / "settings.json").write_text(json.dumps(settings.to_dict()))
    commands = [
        ["testbed.services.gslb", "--site", "lon", "--dir", str(tmp_path / "pdns"),
         "--zone", str(spec), "--address", "127.0.0.1", "--port", str(pdns_port)],
        ["testbed.services.resolver", "--name", "res1", "--dir", str(tmp_path / "unbound"),
         "--settings", str(tmp_path / "settings.json")],
    ]  # fmt: skip
    for command in commands:
        log = (tmp_path / f"{command[0]}.log").open("w")
        started.append(
            subprocess.Popen([sys.executable, "-m", *command], cwd=ROOT, stdout=log, stderr=log)
        )
    deadline = time.monotonic() + 10
    while True:
        try:
            got = resolve(res_port, "svc.gslb.test")
            break
        except dns.exception.Timeout:
            assert time.monotonic() < deadline, "unbound never answered"
    assert got == ("NOERROR", [("127.0.0.2", 60)])  # TTL 5 from PowerDNS, kept 60 s
    time.sleep(1.1)
    rcode, [(address, ttl)] = resolve(res_port, "svc.gslb.test")
    assert (rcode, address) == ("NOERROR", "127.0.0.2") and 57 <= ttl <= 59
    assert resolve(res_port, "example.com")[0] == "REFUSED"  # no root to ask
    assert resolve(res_port, "nothing.gslb.test")[0] == "NXDOMAIN"
    unbound = started[1]
    assert (tmp_path / "unbound" / "unbound.pid").read_text().strip() == str(unbound.pid)
    os.kill(unbound.pid, signal.SIGTERM)
    assert unbound.wait(timeout=10) == 0
