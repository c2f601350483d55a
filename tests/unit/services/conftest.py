"""Fixtures of the process tests: ``nginx`` (:mod:`tests.unit.probes.nginx`)."""

from tests.unit.probes.nginx import nginx  # noqa: F401 (a fixture)
