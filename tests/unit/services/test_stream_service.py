"""TCP stream service: answer(), and the process on 127.0.0.1."""

from __future__ import annotations

import contextlib
import signal
import socket
from typing import Iterator

import pytest

from testbed.services.stream import MAX_LINE, answer
from tests.unit.probes.helpers import Procs, free_port, wait_listening

STREAM = "testbed.services.stream"


def test_answer_names_the_site_and_echoes_the_seq():
    assert answer("lon", b"17\n") == b"lon 17\n"
    assert answer("lon", b"17") == b"lon 17\n"
    assert answer("lon", b" 17\r\n") == b"lon 17\n"
    assert answer("lon", b"\n") is None
    assert answer("lon", b"") is None


@pytest.fixture
def procs() -> Iterator[Procs]:
    p = Procs()
    yield p
    p.cleanup()


def read_lines(sock: socket.socket, count: int) -> list:
    buf = b""
    while buf.count(b"\n") < count:
        data = sock.recv(4096)
        if not data:
            break
        buf += data
    return buf.splitlines()


@pytest.mark.timeout(20)
def test_service_answers_each_line_and_closes_with_fin_on_sigterm(procs):
    port = free_port()
    server = procs.start(STREAM, "--site", "a", "--bind", "127.0.0.1", "--port", str(port))
    wait_listening(port, server)
    one = socket.create_connection(("127.0.0.1", port), timeout=5)
    two = socket.create_connection(("127.0.0.1", port), timeout=5)
    with one, two:
        one.sendall(b"1\n2\n\n3\n")  # the empty line gets no answer
        two.sendall(b"7\n")
        assert read_lines(one, 3) == [b"a 1", b"a 2", b"a 3"]
        assert read_lines(two, 1) == [b"a 7"]
        server.send_signal(signal.SIGTERM)
        assert one.recv(100) == b""  # an orderly close (FIN), not a reset
        assert two.recv(100) == b""
    _, err = server.communicate(timeout=5)
    assert server.returncode == 0
    assert f"site a listening on 127.0.0.1:{port}" in err


@pytest.mark.timeout(20)
def test_service_drops_a_client_sending_a_line_too_long(procs):
    port = free_port()
    server = procs.start(STREAM, "--site", "a", "--bind", "127.0.0.1", "--port", str(port))
    wait_listening(port, server)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"9" * (MAX_LINE * 2) + b"\n")
        # EOF, or a reset if the kernel still held unread data at close
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(100) == b""
    assert server.poll() is None  # still serving others


def test_service_port_in_use_is_one_line_exit_1(procs):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        server = procs.start(STREAM, "--site", "a", "--bind", "127.0.0.1", "--port", str(port))
        _, err = server.communicate(timeout=10)
    assert server.returncode == 1
    assert err.count("\n") == 1 and "cannot listen" in err


@pytest.mark.parametrize("args", [["--site", "A"], ["--site", "a", "--port", "0"], []])
def test_service_bad_arguments_one_line_exit_2(procs, args):
    server = procs.start(STREAM, *args)
    _, err = server.communicate(timeout=10)
    assert server.returncode == 2
    assert err.count("\n") == 1 and "error:" in err
