"""The JSON Schema of topology files, generated from the model.

``python -m testbed.topology.schema`` prints it; the shipped copy in
``testbed/schema/topology.schema.json`` is kept equal by a unit test, so
editors (e.g. VS Code's YAML extension with
``# yaml-language-server: $schema=../testbed/schema/topology.schema.json``)
complete and check topology files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from testbed.schemafile import model_schema
from testbed.schemafile import render as render_schema
from testbed.topology.model import Topology

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schema" / "topology.schema.json"


def topology_schema() -> Dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a topology file."""
    return model_schema(Topology, "anycast-testbed topology")


def render() -> str:
    """The schema as the text of the shipped file."""
    return render_schema(topology_schema())


if __name__ == "__main__":
    print(render(), end="")
