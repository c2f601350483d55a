"""The JSON Schema of scenario files, generated from the model.

``python -m testbed.scenario.schema`` prints it; the shipped copy in
``testbed/schema/scenario.schema.json`` is kept equal by a unit test, so
editors (e.g. VS Code's YAML extension with
``# yaml-language-server: $schema=../testbed/schema/scenario.schema.json``)
complete and check scenario files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from testbed.scenario.model import Scenario
from testbed.schemafile import model_schema
from testbed.schemafile import render as render_schema

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schema" / "scenario.schema.json"


def scenario_schema() -> Dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file."""
    return model_schema(Scenario, "anycast-testbed scenario")


def render() -> str:
    """The schema as the text of the shipped file."""
    return render_schema(scenario_schema())


if __name__ == "__main__":
    print(render(), end="")
