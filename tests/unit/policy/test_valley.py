"""The valley-free checker on hand-made paths and hand-made FRR tables."""

from __future__ import annotations

import json

import pytest

from testbed.policy.valley import (
    PolicyCheck,
    check_tables,
    collapse,
    judge_path,
    parse_as_path,
    relationship,
)

# Tier-1s 1, 2, 3 peer; 10 buys from 1, 20 from 2; 30 buys from 1 and peers
# with 10 and 40; 100 buys from 10, 200 from 20, 300 from 10 and 20.
PROVIDER = "provider"
RELS = {
    (1, 2): "peer",
    (1, 3): "peer",
    (2, 3): "peer",
    (10, 1): PROVIDER,
    (20, 2): PROVIDER,
    (30, 1): PROVIDER,
    (30, 10): "peer",
    (40, 30): "peer",
    (100, 10): PROVIDER,
    (200, 20): PROVIDER,
    (300, 10): PROVIDER,
    (300, 20): PROVIDER,
}


def judge(local, path):
    return judge_path(local, parse_as_path(path), RELS)


def test_relationship_is_read_both_ways():
    assert relationship(RELS, 10, 1) == "provider"
    assert relationship(RELS, 1, 10) == "customer"
    assert relationship(RELS, 40, 30) == relationship(RELS, 30, 40) == "peer"
    assert relationship(RELS, 1, 999) is None


@pytest.mark.parametrize(
    "local,path",
    [
        (100, "10 1 2 20 200"),  # up, up, peer, down, down
        (100, "10 300"),  # up, down
        (1, "10 100"),  # down, down
        (30, "10 100"),  # peer, down
        (100, "10 1"),  # up, up
        (2, "1 10 100"),  # peer, down, down
        (200, ""),  # nothing: a route of its own AS... or a local one
        (10, "100"),  # one hop down
    ],
)
def test_valley_free_paths(local, path):
    verdict = judge(local, path)
    assert verdict.status == "ok" and verdict.offence is None and verdict.unknown_pairs == ()


def test_down_then_up_is_a_valley_named_at_the_offending_as():
    verdict = judge(10, "300 20 2")
    assert verdict.status == "violation"
    off = verdict.offence
    assert (off.at_as, off.learned_from, off.exported_to) == (300, 20, 10)
    assert (off.learned_from_is, off.exported_to_is, off.kind) == ("provider", "provider", "valley")
    assert off.reason.startswith("valley: AS 300 exported a route learned from its provider AS 20")
    assert "to its provider AS 10" in off.reason


def test_two_peer_hops():
    off = judge(40, "30 10 100").offence
    assert (off.kind, off.at_as, off.learned_from, off.exported_to) == ("peer-peer", 30, 10, 40)


def test_peer_peer_peer_among_tier_ones():
    off = judge(3, "2 1 10").offence
    assert (off.kind, off.at_as) == ("peer-peer", 2)


def test_peer_route_to_a_provider_and_provider_route_to_a_peer():
    assert judge(1, "30 10 100").offence.kind == "peer-to-provider"
    assert judge(40, "30 1 2").offence.kind == "provider-to-peer"


def test_first_offence_nearest_the_router_is_named():
    # peer-peer at 30, then a valley at 300: the one nearer the router is named
    verdict = judge(40, "30 10 300 20")
    assert (verdict.offence.at_as, verdict.offence.kind) == (30, "peer-peer")


def test_prepends_are_not_hops():
    assert collapse([10, 10, 10, 1, 1, 2]) == [10, 1, 2]
    assert judge(100, "10 10 10 1 2 20 20 200").status == "ok"
    assert judge(10, "300 300 300 20").offence.at_as == 300
    # the router's own AS prepended at the front of a path is not a hop either
    assert judge(100, "100 10 1").status == "ok"


def test_unknown_pairs_are_not_violations():
    verdict = judge(100, "10 999")
    assert verdict.status == "unknown" and verdict.offence is None
    assert verdict.unknown_pairs == ((10, 999),)
    # a violation between known hops still counts, whatever is unknown elsewhere
    verdict = judge(999, "10 300 20")
    assert verdict.status == "violation" and verdict.offence.at_as == 300
    assert verdict.unknown_pairs == ((999, 10),)
    # no relationships at all (today's topologies): nothing is judged, nothing fails
    assert judge_path(100, [10, 1, 2], {}).status == "unknown"


def test_as_sets_and_confederations_are_not_parsed():
    assert parse_as_path("10 {300,200}") is None
    assert parse_as_path("(65001 65002) 10") is None
    assert parse_as_path("") == []
    assert parse_as_path("10  1") == [10, 1]


def _path(path, best=False, valid=True, **extra):
    entry = {"pathFrom": "external", "peerId": "100.64.0.1", "path": path, "origin": "IGP"}
    if valid:
        entry["valid"] = True
    if best:
        entry["bestpath"] = True
        entry["selectionReason"] = "AS Path"
    entry.update(extra)
    return entry


#: As FRR 8.4 prints `show bgp ipv4 unicast json` (flags only present when true).
TABLES = {
    "r10": {
        "vrfId": 0,
        "vrfName": "default",
        "tableVersion": 7,
        "routerId": "100.127.0.2",
        "defaultLocPrf": 100,
        "localAS": 10,
        "routes": {
            "192.0.2.0/24": [
                _path("100", best=True),
                _path("300 20 200"),  # valid, not best, a valley at 300
                _path("1 2 20 200", valid=False),  # invalid: not installable, skipped
            ],
            "198.18.0.0/24": [
                _path("", best=True, weight=32768, peerId="(unspec)"),
            ],
        },
    },
    "r40": {
        "localAS": 40,
        "routes": {"192.0.2.0/24": [_path("30 10 100", best=True)]},
    },
    "r999": {"localAS": 999, "routes": {"192.0.2.0/24": [_path("10 100", best=True)]}},
    "dead": {},
}


def test_check_tables_every_valid_path():
    # the tables go through JSON, as they come from vtysh
    check = check_tables(json.loads(json.dumps(TABLES)), RELS)
    assert isinstance(check, PolicyCheck)
    assert check.paths == 5  # the invalid path skipped, the dead router unreadable
    assert check.ok == 2 and check.unknown == 1 and check.unreadable == ["dead"]
    assert check.unknown_pairs == [(999, 10)]
    assert [(v.router, v.prefix, v.as_path, v.best, v.offence.kind) for v in check.violations] == [
        ("r10", "192.0.2.0/24", "300 20 200", False, "valley"),
        ("r40", "192.0.2.0/24", "30 10 100", True, "peer-peer"),
    ]
    assert not check.passed
    assert check.line() == (
        "policy check: 2 violations in 5 paths "
        "(1 not judged (no relationship declared); 1 router unreadable)"
    )
    line = check.violations[0].line()
    assert line.startswith("r10 192.0.2.0/24 via [300 20 200]: valley: AS 300 exported")
    data = json.loads(json.dumps(check.to_dict()))
    assert data["violations"][1]["at_as"] == 30 and data["violations"][1]["best"] is True
    assert data["unknown_pairs"] == [[999, 10]] and data["passed"] is False


def test_check_tables_best_only_and_prefix_filter():
    check = check_tables(TABLES, RELS, best_only=True)
    assert [v.router for v in check.violations] == ["r40"]
    check = check_tables(TABLES, RELS, prefixes=["198.18.0.0/24"])
    assert check.passed and check.paths == 1 and check.ok == 1
    assert check.line() == ("policy check passed: 1 of 1 paths valley-free (1 router unreadable)")


def test_detail_shape_of_newer_frr():
    table = {
        "localAS": 40,
        "routes": {
            "192.0.2.0/24": {
                "prefix": "192.0.2.0/24",
                "paths": [
                    {
                        "aspath": {"string": "30 10 100", "segments": [], "length": 3},
                        "valid": True,
                        "bestpath": {"overall": True, "selectionReason": "First path received"},
                    },
                    {"aspath": {"string": "Local"}, "valid": True},
                ],
            }
        },
    }
    check = check_tables({"r40": table}, RELS)
    assert check.paths == 2 and check.ok == 1
    assert [(v.best, v.offence.kind) for v in check.violations] == [(True, "peer-peer")]


def test_odd_paths_count_as_not_judged():
    table = {"localAS": "10", "routes": {"192.0.2.0/24": [_path("300 {20,200}", best=True)]}}
    check = check_tables({"r": table, "bad": {"localAS": True}}, RELS)
    assert check.unparsed == check.unknown == 1 and check.passed
    assert check.unreadable == ["bad"]
