"""Python scenarios: a ``.py`` file whose ``scenario(topology)`` returns the scenario.

For what a YAML file cannot say -- a timeline that depends on the topology
(every site in turn), or one computed in a loop.  The file defines::

    TOPOLOGY = "world"            # optional: the topology it runs on by default

    def scenario(topology):       # a testbed.topology.model.Topology
        return {"name": ..., "duration": ..., "timeline": [...], "expect": [...]}

The mapping returned has exactly the fields of a YAML scenario and is
validated the same way (``topology`` is filled in when it is left out).  A
file that cannot be imported, has no ``scenario`` function, or whose function
raises or returns something else is one :class:`~testbed.errors.InputError`
naming the file.
"""

from __future__ import annotations

import ast
import importlib.util
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, Optional

from testbed.errors import InputError
from testbed.topology.model import Topology

#: The topology a Python scenario runs on when it does not say (``TOPOLOGY``).
DEFAULT_TOPOLOGY = "world"
SUFFIX = ".py"


def _where(exc: BaseException, path: Path) -> str:
    """`` (line N)`` for the innermost frame of ``exc`` in ``path``, if any."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f" (line {exc.lineno})"
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    return f" (line {lines[-1]})" if lines else ""


def _describe(exc: BaseException, path: Path) -> str:
    """One line for an exception raised by a scenario file's code."""
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text.splitlines()[0] + _where(exc, path)


def import_file(path: Path, source: str) -> ModuleType:
    """Import a scenario file as a module of its own (not on ``sys.modules``).

    Raises:
        InputError: the file cannot be read or its code fails at import.
    """
    spec = importlib.util.spec_from_file_location(f"anycast_scenario_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise InputError("cannot be imported as Python", source)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", source) from None
    except Exception as exc:  # the user's code: any failure is bad input, said in one line
        raise InputError(f"cannot be imported: {_describe(exc, path)}", source) from None
    return module


def default_topology(module: ModuleType, source: str) -> str:
    """The module's ``TOPOLOGY`` (a topology name or file), or ``world``."""
    ref = getattr(module, "TOPOLOGY", DEFAULT_TOPOLOGY)
    if not isinstance(ref, str) or not ref:
        raise InputError(f"must be a topology name or file (got {ref!r})", source, "TOPOLOGY")
    return ref


def scenario_data(
    module: ModuleType, topology: Topology, source: str, path: Path
) -> Dict[str, Any]:
    """Call the module's ``scenario(topology)`` and return the mapping it gives.

    Raises:
        InputError: no such function, it raised, or it returned no mapping.
    """
    func: Optional[Callable[..., Any]] = getattr(module, "scenario", None)
    if not callable(func):
        raise InputError(
            "a Python scenario must define scenario(topology) returning a mapping",
            source,
            "scenario",
        )
    try:
        data = func(topology)
    except Exception as exc:  # the user's code, as above
        raise InputError(f"failed: {_describe(exc, path)}", source, "scenario()") from None
    if not isinstance(data, dict):
        raise InputError(
            f"must return a mapping (got {type(data).__name__})", source, "scenario()"
        )
    return dict(data)


def description(path: Path) -> str:
    """The first line of a scenario file's module docstring (no import)."""
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return "(invalid: cannot be parsed as Python)"
    return doc.strip().splitlines()[0] if doc else ""
