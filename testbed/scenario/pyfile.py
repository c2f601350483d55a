"""Python scenarios: a ``.py`` file whose ``scenario(topology)`` returns the scenario.

For what a YAML file cannot say -- a timeline that depends on the topology
(every site in turn), or one computed in a loop.  The file defines::

    TOPOLOGY = "world"            # optional: the topology it runs on by default

    def scenario(topology):       # a testbed.topology.model.Topology
        return {"name": ..., "duration": ..., "timeline": [...], "expect": [...]}

The mapping returned has exactly the fields of a YAML scenario and is
validated the same way (``topology`` is filled in when it is left out).

The code is untrusted.  This module only reads the file (a regular file of
at most 1 MiB, UTF-8) and its syntax tree -- the docstring, ``TOPOLOGY`` as
a string literal -- and never runs it; :mod:`testbed.scenario.sandbox` runs
it in a confined child process.  Every problem is one
:class:`~testbed.errors.InputError` naming the file.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

from testbed import inputfile
from testbed.errors import InputError

#: The topology a Python scenario runs on when it does not say (``TOPOLOGY``).
DEFAULT_TOPOLOGY = "world"
SUFFIX = ".py"
#: The module-level name that gives the default topology.
NAME = "TOPOLOGY"
#: The largest scenario file read.
MAX_BYTES = 1 << 20


def read_source(path: Path, source: str) -> str:
    """The text of a scenario file, read (as every input file is) without running it.

    A regular file only, opened without blocking, at most :data:`MAX_BYTES`,
    UTF-8 (:func:`testbed.inputfile.read_text`).

    Raises:
        InputError: one line for each problem, naming the file.
    """
    return inputfile.read_text(path, source, MAX_BYTES)


def parse(text: str, path: Path, source: str) -> ast.Module:
    """The file's syntax tree (its code is not run).

    Raises:
        InputError: a syntax error, with its line.
    """
    try:
        return ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        line = f" (line {exc.lineno})" if exc.lineno else ""
        message = f"SyntaxError: {exc.msg}".splitlines()[0]
        raise InputError(f"cannot be imported: {message}{line}", source) from None
    except ValueError as exc:  # null bytes, in older Pythons
        raise InputError(f"cannot be imported: ValueError: {exc}", source) from None


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _binds_topology(node: ast.AST) -> bool:
    """True when a module-level statement binds ``TOPOLOGY`` in any way.

    The bodies of functions and classes are not looked into: they are scopes
    of their own.
    """
    todo = [node]
    while todo:
        sub = todo.pop()
        if isinstance(sub, ast.Name) and sub.id == NAME and isinstance(sub.ctx, ast.Store):
            return True
        if isinstance(sub, ast.alias) and (sub.asname or sub.name) == NAME:
            return True
        if isinstance(sub, _SCOPES):
            if getattr(sub, "name", None) == NAME:
                return True
            continue
        todo.extend(ast.iter_child_nodes(sub))
    return False


def default_topology(tree: ast.Module, source: str) -> str:
    """The file's ``TOPOLOGY`` (a topology name or file), or ``world``: read, not run.

    Only ``TOPOLOGY = "..."`` (or ``TOPOLOGY: str = "..."``) at module level
    counts; any other way of setting it is an error, as the code is not run
    to find out.

    Raises:
        InputError: ``TOPOLOGY`` is not a non-empty string literal.
    """
    ref: Optional[str] = None
    for stmt in tree.body:
        target = value = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            target, value = stmt.target, stmt.value
        if isinstance(target, ast.Name) and target.id == NAME:
            if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
                shown = ast.unparse(value) if value is not None else "nothing"
                raise InputError(
                    f"must be a topology name or file as a string literal (got {shown[:60]})",
                    source,
                    NAME,
                )
            ref = value.value
        elif _binds_topology(stmt):
            raise InputError(
                f'must be given as TOPOLOGY = "NAME", a string literal (line {stmt.lineno})',
                source,
                NAME,
            )
    if ref is None:
        return DEFAULT_TOPOLOGY
    if not ref.strip():
        raise InputError("must be a topology name or file (got '')", source, NAME)
    return ref


def description(path: Path) -> str:
    """The first line of a scenario file's module docstring (no import)."""
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return "(invalid: cannot be parsed as Python)"
    return doc.strip().splitlines()[0] if doc else ""
