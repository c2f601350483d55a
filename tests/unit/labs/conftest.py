"""Every lab test: no real network, and this install's signing key in its own folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """These tests may run as root: never let a check start the real engine."""

    def engine_runner(*_args, **_kwargs):
        def run(*_a):
            raise AssertionError("a unit test reached the scenario engine")

        return run

    monkeypatch.setattr("testbed.labs.runner.engine_runner", engine_runner)


@pytest.fixture(autouse=True)
def own_install_key(tmp_path_factory, monkeypatch):
    """``$XDG_STATE_HOME`` in a temporary folder, and no sudo user to find a home for."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
    monkeypatch.delenv("SUDO_USER", raising=False)
