"""Load a topology from a YAML file, a shipped name, or a generator spec.

``load_topology("world")`` reads ``topologies/world.yaml``;
``load_topology("path/to/x.yaml")`` reads that file;
``load_topology("chain:10")`` calls a generator from
:mod:`testbed.topology.generate`.  Every error is an
:class:`~testbed.errors.InputError` naming the file and the field.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Tuple

from pydantic import ValidationError

from testbed import inputfile
from testbed.errors import InputError
from testbed.pydantic_errors import from_validation_error
from testbed.topology.model import Topology
from testbed.topology.validate import validate

#: The project root (where topologies/ and scenarios/ live).
ROOT = Path(os.environ.get("ANYCAST_TESTBED_HOME", Path(__file__).resolve().parents[2]))
TOPOLOGY_DIR = ROOT / "topologies"


def parse_topology(data: Any, source: str) -> Topology:
    """Validate a topology given as plain data (from YAML or a builder).

    Args:
        data: the mapping read from the file.
        source: where it came from, for messages.

    Returns:
        The validated topology.

    Raises:
        InputError: naming the field and the problem.
    """
    if not isinstance(data, dict):
        raise InputError("a topology file must hold a mapping (name:, ases:, ...)", source)
    try:
        topo = Topology.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, source) from None
    validate(topo, source)
    return topo


def read_yaml(path: Path) -> Any:
    """Read a YAML file strictly (:mod:`testbed.inputfile`); problems are one-line InputErrors.

    Args:
        path: the file.

    Returns:
        The parsed content.

    Raises:
        InputError: the file is missing, not a regular file, too large,
            unreadable, not UTF-8 text, or not valid strict YAML (with the line).
    """
    return inputfile.read_yaml(path)


def topology_path(ref: str) -> Path:
    """The file for a topology reference (a path, or a name in topologies/)."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or os.sep in ref:
        return path
    return TOPOLOGY_DIR / f"{ref}.yaml"


def load_topology(ref: str) -> Topology:
    """Load a topology by name, path, or generator spec (``chain:10``).

    Args:
        ref: ``world``, ``topologies/x.yaml``, ``chain:N``, ``clique:N``...

    Returns:
        The validated topology.

    Raises:
        InputError: unknown name, bad file, or invalid content.
    """
    from testbed.topology.generate import GENERATORS, from_spec

    name = ref.split(":", 1)[0]
    if ":" in ref or (name in GENERATORS and not topology_path(ref).exists()):
        return from_spec(ref)
    path = topology_path(ref)
    if not path.exists() and path != TOPOLOGY_DIR / f"{ref}.yaml":
        raise InputError("no such file", ref)
    if not path.exists():
        known = ", ".join(t for t, _ in list_topologies())
        raise InputError(f"no topology {ref!r} (known: {known}; or give a file path)", ref)
    return parse_topology(read_yaml(path), str(path))


def list_topologies() -> List[Tuple[str, str]]:
    """Shipped topology files and generators: (name, one-line description)."""
    from testbed.topology.generate import GENERATORS

    out: List[Tuple[str, str]] = []
    for path in sorted(TOPOLOGY_DIR.glob("*.yaml")):
        try:
            data: Dict[str, Any] = read_yaml(path) or {}
            desc = str(data.get("description", "")).strip().splitlines()
        except InputError as exc:
            desc = [f"(invalid: {exc})"]
        out.append((path.stem, desc[0] if desc else ""))
    for gen, (_, doc) in sorted(GENERATORS.items()):
        out.append((f"{gen}:N", doc))
    return out
