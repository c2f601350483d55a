"""The shipped JSON Schemas: one way to make each from its pydantic model.

``testbed/topology/schema.py``, ``testbed/scenario/schema.py`` and
``testbed/analysis/schema.py`` each name their model and title; the schema
(draft 2020-12) and the text of the shipped file are made here.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Type

from pydantic import BaseModel

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def model_schema(model: Type[BaseModel], title: str, **options: Any) -> Dict[str, Any]:
    """The JSON Schema of ``model`` (by alias; ``options`` go to ``model_json_schema``)."""
    schema = model.model_json_schema(by_alias=True, **options)
    schema["$schema"] = DRAFT
    schema["title"] = title
    return schema


def render(schema: Dict[str, Any]) -> str:
    """A schema as the text of its shipped file."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
