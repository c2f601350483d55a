"""The HTTP service: nginx's rendered config (golden), its check, its command lines, and
nginx itself on 127.0.0.1 (skipped where Debian's nginx is not installed).

Refresh the golden file after an intended change with
``UPDATE_GOLDEN=1 pytest tests/unit/services/test_http_service.py``.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import pytest

from testbed.probes.http import HttpExchange, HttpService, build_request
from testbed.probes.hybrid import UnicastStreamService
from testbed.probes.tcp import Now
from testbed.services import http as service
from testbed.traffic import TrafficParams
from tests.unit.probes.helpers import Procs, free_port
from tests.unit.probes.nginx import Nginx, needs_nginx

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "nginx" / "lon-1.conf"


def test_config_golden():
    text = service.render_config(
        "lon", "lon-1", Path("/run/x/services/lon-1/nginx"), "192.0.2.53", "100.66.0.53", 80
    )
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_config_listens_on_both_addresses_names_the_site_and_redirects_to_the_unicast_one():
    text = service.render_config("lon", "lon-1", Path("/d"), "192.0.2.53", "100.66.0.53", 80)
    assert "listen 192.0.2.53:80;\n" in text and "listen 100.66.0.53:80;\n" in text
    assert 'add_header X-Site "lon" always;' in text
    assert "return 302 http://100.66.0.53/stream;" in text
    assert "daemon off;" in text and "pid /d/nginx.pid;" in text
    assert "access_log /d/access.log site;" in text and "error_log /d/error.log" in text


def test_without_a_unicast_address_the_redirect_is_a_404():
    text = service.render_config("lon", "lon-1", Path("/d"), "192.0.2.53", None, 80)
    assert "100.66" not in text and "listen 192.0.2.53:80;\n" in text
    assert 'return 404 "site lon has no unicast address\\n";' in text


@needs_nginx
def test_nginx_accepts_the_config(tmp_path):
    conf = service.write_config("lon", "lon-1", tmp_path / "nginx", "127.0.0.1", "127.0.0.2", 8080)
    assert service.check(conf) is None
    assert (tmp_path / "nginx" / "tmp" / "body").is_dir()
    conf.write_text(conf.read_text().replace("daemon off;", "daemon sometimes;"))
    problem = service.check(conf)
    assert problem is not None and "daemon" in problem


def test_service_command_lines():
    host = SimpleNamespace(name="lon-1", site="lon", unicast="100.66.0.53")
    topo = SimpleNamespace(sites=[SimpleNamespace(service="192.0.2.53")])
    argv = HttpService().argv(topo, host, Path("/run/r"), TrafficParams())
    assert argv[1:3] == ["-m", "testbed.services.http"]
    text = " ".join(argv)
    assert "--site lon --server lon-1 --dir /run/r/services/lon-1/nginx" in text
    assert "--address 192.0.2.53 --port 80 --unicast 100.66.0.53" in text
    plain = HttpService().argv(topo, SimpleNamespace(name="lon-1", site="lon"), Path("/r"), None)
    assert "--unicast" not in plain
    stream = UnicastStreamService().argv(topo, host, Path("/r"), TrafficParams(tcp_port=9000))
    assert " ".join(stream[1:]).endswith(
        "-m testbed.services.stream --site lon --bind 100.66.0.53 --port 9000"
    )
    with pytest.raises(ValueError, match="site lon has no unicast address"):
        UnicastStreamService().argv(topo, SimpleNamespace(name="lon-1", site="lon"), Path("/r"), 0)


def test_readiness_command_prints_status_and_site():
    assert service.probe_command("192.0.2.53") == (
        "curl -s -o /dev/null -m 1 -w '%{http_code} %header{x-site}' http://192.0.2.53:80/"
    )


@pytest.fixture
def procs() -> Iterator[Procs]:
    p = Procs()
    yield p
    p.cleanup()


def ask(port: int, address: str, path: str = "/") -> tuple:
    """One request with the probes' own client: (outcome, response or error)."""
    exchange = HttpExchange((address, port), build_request(address, path), Now.read())
    deadline = time.monotonic() + 3
    while exchange.result is None and time.monotonic() < deadline:
        if exchange.wants_write():
            exchange.on_writable()
        else:
            exchange.on_readable()
        time.sleep(0.005)
    exchange.close()
    assert exchange.result is not None
    return exchange.result


@needs_nginx
def test_nginx_answers_with_its_site_and_redirects_then_stops_on_sigterm(tmp_path, nginx: Nginx):
    port = free_port()
    folder = tmp_path / "nginx"
    p = nginx.start(folder, port, unicast="127.0.0.2")
    outcome, answer = ask(port, "127.0.0.1")
    assert outcome == "ok" and answer.status == 200 and answer.site == "lon"
    assert answer.headers["x-server"] == "lon-1" and answer.body == b"lon lon-1\n"
    outcome, answer = ask(port, "127.0.0.2", "/redirect")
    assert answer.status == 302 and answer.headers["location"] == "http://127.0.0.2/stream"
    assert (folder / "nginx.pid").read_text().strip() == str(p.pid)  # exec'd: the PID is nginx's
    assert "GET /redirect HTTP/1.1" in (folder / "access.log").read_text()
    os.kill(p.pid, signal.SIGTERM)
    assert p.wait(timeout=5) == 0
    assert not (folder / "nginx.pid").exists()


def test_a_bad_argument_is_one_line_and_exit_2(procs):
    p = procs.start("testbed.services.http", "--site", "lon", "--server", "x", "--dir", "/tmp/x",
                    "--unicast", "nope")  # fmt: skip
    assert p.wait(timeout=10) == 2
    assert p.stderr is not None
    err = p.stderr.read()
    assert err.count("\n") == 1 and "invalid IPv4 address 'nope'" in err
