"""The shipped JSON Schema is the one generated from the model."""

import json

from testbed.topology.schema import SCHEMA_PATH, render, topology_schema


def test_shipped_schema_is_current():
    assert SCHEMA_PATH.read_text() == render(), "run: make schema"


def test_schema_describes_the_format():
    schema = topology_schema()
    assert set(schema["required"]) == {"name", "ases"}
    assert {"ases", "links", "sites", "clients", "sessions", "bgp", "bfd"} <= set(
        schema["properties"]
    )
    site = schema["$defs"]["Site"]["properties"]
    speaker = site["speaker"]
    assert "as" in site and (speaker.get("enum") or [speaker.get("const")]) == [
        "frr",
        "ryu",
        "exabgp",
    ]
    json.dumps(schema)
