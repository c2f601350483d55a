"""Fixtures of the CLI tests."""

import pytest

from testbed import console


class WouldStart(AssertionError):
    """Raised in place of the root check: the command got past its input checks."""


@pytest.fixture
def no_start(monkeypatch):
    """Stop every command where it would need root (and start things): nothing starts."""

    def refuse() -> None:
        raise WouldStart("the command passed its input checks and would start the network")

    monkeypatch.setattr(console, "require_root", refuse)
