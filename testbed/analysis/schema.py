"""The JSON Schema of ``summary.json``, generated from the model.

``python -m testbed.analysis.schema`` prints it; the shipped copy in
``testbed/schema/summary.schema.json`` is kept equal by a unit test.  It
describes the file as the analysis writes it (pydantic's serialisation
schema): every field is required except the ones left out when null
(``interrupted``, the effect of a shutdown health record), and each field's
description is its docstring in :mod:`testbed.analysis.model`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from testbed.analysis.model import Summary
from testbed.schemafile import model_schema
from testbed.schemafile import render as render_schema

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schema" / "summary.schema.json"


def summary_schema() -> Dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a summary.json file."""
    return model_schema(Summary, "anycast-testbed summary.json", mode="serialization")


def render() -> str:
    """The schema as the text of the shipped file."""
    return render_schema(summary_schema())


if __name__ == "__main__":
    print(render(), end="")
