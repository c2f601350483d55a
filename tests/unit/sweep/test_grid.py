"""--param parsing and the grid of runs."""

import pytest

from testbed.errors import InputError
from testbed.sweep.grid import Param, expand, numeric, parse_param, parse_params, typed


def test_parse_param_keeps_values_as_typed():
    assert parse_param("bgp.hold=3,9,30") == Param("bgp.hold", ("3", "9", "30"))
    assert parse_param(" bfd = off, on ") == Param("bfd", ("off", "on"))
    assert parse_param("topology=clique:4,clique:8").values == ("clique:4", "clique:8")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bgp.hold", "--param: expected KEY=V1,V2,..., got 'bgp.hold'"),
        ("=3,9", "--param: expected KEY=V1,V2,..., got '=3,9'"),
        ("bgp.hold=", "--param: bgp.hold: empty value in '' (give V1,V2,...)"),
        ("bgp.hold=3,,9", "--param: bgp.hold: empty value in '3,,9' (give V1,V2,...)"),
        ("bfd=on,off,on", "--param: bfd: value 'on' is given twice"),
    ],
)
def test_parse_param_errors_are_one_line(text, message):
    with pytest.raises(InputError) as info:
        parse_param(text)
    assert str(info.value) == message


def test_a_key_is_swept_once_and_not_also_set():
    with pytest.raises(InputError, match="swept twice"):
        parse_params(["bfd=on", "bfd=off"])
    with pytest.raises(InputError, match="also given with --set"):
        parse_params(["bgp.hold=3,9"], sets=["bgp.hold=5"])
    assert [p.key for p in parse_params(["bgp.hold=3", "bfd=on"], ["duration=20"])] == [
        "bgp.hold",
        "bfd",
    ]


def test_expand_crosses_parameters_repeat_by_repeat():
    params = [Param("bgp.hold", ("3", "9")), Param("bfd", ("off", "on"))]
    points = expand(params, repeat=2)
    assert len(points) == 8
    assert [p.index for p in points] == list(range(1, 9))
    first = [(p.values["bgp.hold"], p.values["bfd"]) for p in points[:4]]
    assert first == [("3", "off"), ("3", "on"), ("9", "off"), ("9", "on")]
    assert {p.repeat for p in points[:4]} == {1} and {p.repeat for p in points[4:]} == {2}
    assert points[5].sets() == ["bgp.hold=3", "bfd=on"]
    assert points[5].label() == "bgp.hold=3 bfd=on #2"


def test_expand_without_params_repeats_one_point():
    points = expand([], repeat=3)
    assert [(p.values, p.repeat) for p in points] == [({}, 1), ({}, 2), ({}, 3)]


def test_expand_limits():
    with pytest.raises(InputError, match="at least 1"):
        expand([Param("a", ("1",))], repeat=0)
    with pytest.raises(InputError, match="at most"):
        expand([Param("a", tuple(str(i) for i in range(200)))] * 2, repeat=1)


def test_typed_and_numeric():
    assert typed("30") == 30 and typed("0.5") == 0.5 and typed("true") is True
    assert typed("on") == "on"  # YAML 1.2: on/off/yes/no are text
    assert typed("clique:4") == "clique:4"
    assert numeric(["3", "9", "30"]) and numeric(["0.1", "1"])
    assert not numeric(["off", "on"]) and not numeric(["3", "x"])
