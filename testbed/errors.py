"""Errors the user can fix: bad topology, scenario or CLI input.

An :class:`InputError` always carries where the problem is (a file and a
field) and what is wrong, so the CLI can print it on one line and exit 2.
"""

from __future__ import annotations

from typing import Optional


class InputError(Exception):
    """Bad user input: one line naming the file, the field and the problem."""

    def __init__(self, message: str, source: Optional[str] = None, field: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.source = source
        self.field = field

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.source, self.field) if p)
        return f"{where}: {self.message}" if where else self.message


class TestbedError(Exception):
    """Something failed while building or running the testbed (not user input)."""

    __test__ = False  # not a pytest test class
