"""The one translator of pydantic errors, in the topology's and the scenario's wording."""

import pytest
from pydantic import ValidationError

from testbed.errors import InputError
from testbed.pydantic_errors import from_validation_error
from testbed.scenario.load import UNIONS
from testbed.scenario.model import Scenario
from testbed.scenario.overrides import SET_SOURCE, Origin, reattribute, set_path
from testbed.topology.load import load_topology
from testbed.topology.model import Topology


def topology_error(**change) -> ValidationError:
    data = load_topology("two-sites").model_dump(by_alias=True, exclude_unset=True, mode="json")
    data.update(change)
    with pytest.raises(ValidationError) as info:
        Topology.model_validate(data)
    return info.value


def scenario_error(**change) -> ValidationError:
    data = {"name": "x", "duration": 30, **change}
    with pytest.raises(ValidationError) as info:
        Scenario.model_validate(data)
    return info.value


def test_topology_wording_keeps_pydantics_words_and_every_field():
    exc = topology_error(sessions=[{"a": "ta", "b": "tb", "prepend": "x"}])
    assert str(from_validation_error(exc, "t")) == (
        "t: sessions[0].prepend: Input should be a valid integer (got 'x')"
    )  # `prepend` is also an event kind: only a scenario's union tags are left out
    exc = topology_error(sites=[{"name": "s", "upstream": "ta", "speaker": "bird"}])
    assert str(from_validation_error(exc, "t")) == (
        "t: sites[0].speaker: Input should be 'frr', 'ryu' or 'exabgp' (got 'bird')"
    )
    exc = topology_error(bfd=5)
    assert str(from_validation_error(exc, "t")) == (
        "t: bfd: Input should be a valid dictionary or instance of Bfd"
    )


def test_scenario_wording_names_union_tags_and_choices():
    exc = scenario_error(timeline=[{"at": 1, "event": "explode"}])
    assert str(from_validation_error(exc, "s", UNIONS, plain_words=True)).startswith(
        "s: timeline[0].event: unknown event 'explode' (one of fail_site, kill_service,"
    )
    exc = scenario_error(timeline=[{"at": 1, "event": "fail_site", "site": "a", "how": "x"}])
    assert str(from_validation_error(exc, "s", UNIONS, plain_words=True)) == (
        "s: timeline[0].how: must be one of link-down, silent, router-crash (got 'x')"
    )
    exc = scenario_error(traffic=5)
    assert str(from_validation_error(exc, "s", UNIONS, plain_words=True)) == (
        "s: traffic: must be a mapping"
    )


def test_set_path_names_the_key_as_typed():
    with pytest.raises(InputError) as info:
        set_path({"sites": []}, "sites.0.speaker", "ryu", "topology.sites.0.speaker")
    assert str(info.value) == (
        "--set: topology.sites.0.speaker: no sites[0]: sites has 0 entries, numbered from 0"
    )


def test_reattribute_blames_the_last_origin_of_the_field():
    exc = InputError("too big", "topology t", "bgp.hold")
    origins = [Origin("bgp", "s.yaml", "bgp"), Origin("bgp.hold", SET_SOURCE, "topology.bgp.hold")]
    assert str(reattribute(exc, origins)) == "--set: topology.bgp.hold: too big"
    assert str(reattribute(exc, origins[:1])) == "s.yaml: bgp: too big"
    assert reattribute(exc, [Origin("sites", SET_SOURCE, "speaker")]) is exc
