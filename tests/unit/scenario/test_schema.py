"""The shipped scenario JSON Schema is the one generated from the model."""

import json

from testbed.scenario.schema import SCHEMA_PATH, render, scenario_schema


def test_shipped_schema_is_current():
    assert SCHEMA_PATH.read_text() == render(), "run: python -m testbed.scenario.schema"


def test_schema_describes_the_format():
    schema = scenario_schema()
    assert set(schema["required"]) == {"name", "duration"}
    assert {"traffic", "bgp", "settle", "timeline", "expect", "topology"} <= set(
        schema["properties"]
    )
    events = schema["properties"]["timeline"]["items"]["discriminator"]
    assert events["propertyName"] == "event"
    assert set(events["mapping"]) == {
        "fail_site",
        "kill_service",
        "withdraw",
        "restore",
        "prepend",
        "med",
        "set_communities",
        "link",
        "backend",
        "attack_start",
        "attack_stop",
    }
    checks = schema["properties"]["expect"]["items"]["discriminator"]
    assert set(checks["mapping"]) == {
        "moves",
        "stays",
        "max_outage",
        "tcp_reset",
        "dns_loss",
        "convergence",
        "valley_free",
        "legit_loss",
        "cascade",
        "failover",
        "still_failing",
        "nearest_share",
    }
    assert schema["$defs"]["FailSite"]["properties"]["how"]["enum"] == [
        "link-down",
        "silent",
        "router-crash",
    ]
    json.dumps(schema)
