"""Integration tests: real Mininet namespaces, veth links and FRR daemons (root).

They skip when not root, except under ``make test`` (ANYCAST_REQUIRE_ROOT_TESTS=1),
where running without root is an error rather than a silent skip.
"""

from __future__ import annotations

import os

import pytest

from testbed.net.build import Testbed
from testbed.net.cleanup import clean
from testbed.net.state import STATE_FILE, load_state
from testbed.topology.load import load_topology


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    if os.environ.get("ANYCAST_REQUIRE_ROOT_TESTS"):
        raise pytest.UsageError("integration tests need root (run: sudo make test)")
    skip = pytest.mark.skip(reason="needs root (real namespaces, FRR)")
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _no_stale_testbed():
    """Clean up what a killed earlier run recorded (its owner is dead); refuse a live one."""
    removed = clean()  # raises while the owner still runs
    if removed is not None:
        print(f"cleaned a stale testbed left by a killed run: {removed}")


@pytest.fixture(autouse=True, scope="module")
def _nothing_left_behind(_no_stale_testbed):
    """No test module may start while a testbed runs, and none may leave one behind."""
    assert load_state() is None, f"a testbed state is left over: {STATE_FILE}"
    yield
    state = load_state()
    assert state is None, "the test left a testbed state behind"


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory):
    """The two-sites topology, up and converged, for a module's tests."""
    with Testbed(load_topology("two-sites"), tmp_path_factory.mktemp("run")) as tb:
        conv = tb.wait_converged(timeout=60)
        assert conv.converged, conv.missing
        yield tb


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The world topology, up and converged, for a module's tests."""
    with Testbed(load_topology("world"), tmp_path_factory.mktemp("run")) as tb:
        conv = tb.wait_converged(timeout=60)
        assert conv.converged, conv.missing
        yield tb
