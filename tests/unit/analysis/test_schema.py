"""The shipped JSON Schema of summary.json is the one generated from the model."""

import json
from pathlib import Path

from testbed.analysis.schema import SCHEMA_PATH, render, summary_schema

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "summary"


def test_shipped_schema_is_current():
    assert SCHEMA_PATH.read_text() == render(), "run: make schema"


def test_every_field_has_a_description():
    schema = summary_schema()
    models = {"Summary": schema, **schema["$defs"]}
    for name, model in models.items():
        assert model.get("description"), name
        for field, spec in model["properties"].items():
            assert spec.get("description"), f"{name}.{field}"


def test_schema_describes_the_file_as_written():
    schema = summary_schema()
    assert schema["title"] == "anycast-testbed summary.json"
    top = set(schema["properties"])
    # every field is always written, except interrupted (left out when null)
    assert set(schema["required"]) == top - {"interrupted"}
    state = schema["$defs"]["HealthState"]
    effect = {"moved", "moves", "stayed", "unanswered"}
    assert effect <= set(state["properties"]) and not effect & set(state["required"])
    assert "from" in schema["$defs"]["Move"]["properties"]  # the alias, as in the file
    assert schema["properties"]["duration"]["anyOf"][0] == {"type": "number"}
    json.dumps(schema)


def test_golden_summaries_have_exactly_the_schemas_fields():
    """A light check of the golden files against the schema (no validator needed)."""
    schema = summary_schema()
    defs = schema["$defs"]
    for path in sorted(GOLDEN.glob("*.summary.json")):
        summary = json.loads(path.read_text())
        assert set(schema["required"]) <= set(summary) <= set(schema["properties"]), path.name
        for client in summary["clients"].values():
            assert set(client) == set(defs["ClientSummary"]["required"])
            assert set(client["dns"]) == set(defs["DnsSummary"]["required"])
            assert set(client["tcp"]) == set(defs["TcpSummary"]["required"])
        for event in summary["events"]:
            assert set(event) == set(defs["EventSummary"]["required"])
        kinds = {"state": "HealthState", "retry": "HealthRetry", "address": "HealthAddress"}
        for entry in summary["health"]:
            model = defs[kinds[entry["event"]]]
            assert set(model["required"]) <= set(entry) <= set(model["properties"])
