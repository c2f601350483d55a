"""Path reasoning on the lab chain."""

from testbed.labs import reasoning

CLIENTS = {"c0": 0, "c1": 1, "c2": 2, "c3": 3, "c4": 4}


def test_path_length_counts_transits_origin_and_prepends():
    assert reasoning.path_length(0, (0, 0)) == 2  # transit + origin
    assert reasoning.path_length(0, (3, 0)) == 5
    assert reasoning.path_length(2, (2, 4)) == 6


def test_nearest_site_wins_and_ties_are_none():
    sites = {"x": (0, 0), "y": (4, 0)}
    seen = reasoning.catchment(CLIENTS, sites)
    assert seen == {"c0": "x", "c1": "x", "c2": None, "c3": "y", "c4": "y"}
    assert reasoning.has_ties(CLIENTS, sites)
    assert not reasoning.has_ties(CLIENTS, {"x": (0, 0), "y": (3, 0)})


def test_prepend_shifts_the_catchment():
    seen = reasoning.catchment(CLIENTS, {"x": (0, 0), "y": (3, 4)})
    assert set(seen.values()) == {"x"}
    assert reasoning.moved({"a": "x", "b": "y"}, {"a": "x", "b": "x"}) == ["b"]


def test_min_prepend():
    assert reasoning.min_prepend(CLIENTS, 0, 3) == 4
    assert reasoning.min_prepend(CLIENTS, 2, 1) == 2
    assert reasoning.best_site(1, {}) is None


def _rel(*links):
    """(a, b, kind) -> the relationship map: kind 'peer', or 'c2p' (a buys transit from b)."""
    rel = {}
    for a, b, kind in links:
        if kind == "peer":
            rel[(a, b)] = rel[(b, a)] = "peer"
        else:
            rel[(a, b)], rel[(b, a)] = "provider", "customer"
    return rel


#: Lab 6's shape: hub peers with east and west; regional buys from hub, edge from regional.
SHAPE = _rel(
    ("hub", "east", "peer"),
    ("hub", "west", "peer"),
    ("regional", "hub", "c2p"),
    ("edge", "regional", "c2p"),
)
SITES = {"near": (["east"], 0), "far": (["edge"], 0)}


def test_a_customer_route_beats_a_shorter_peer_route():
    routing = reasoning.best_routes(SHAPE, SITES)
    hub = routing.routes["hub"]
    assert hub == reasoning.Route("far", ("regional", "edge", "anycast"), "customer")
    assert routing.site_of("west") == "far" and routing.routes["west"].learned == "peer"
    assert routing.site_of("east") == "near" and not routing.ties
    shortest = reasoning.best_routes(SHAPE, SITES, policy=False)
    assert shortest.site_of("hub") == "near" and shortest.site_of("west") == "near"
    assert shortest.site_of("regional") == "far" and not shortest.ties


def test_a_peer_route_is_not_passed_to_another_peer():
    # only near announces: the hub learns it from a peer and tells its customers, not west
    routing = reasoning.best_routes(SHAPE, {"near": (["east"], 0)})
    assert routing.routes["west"] is None
    assert (
        routing.site_of("regional") == "near" and routing.routes["regional"].learned == "provider"
    )
    assert reasoning.best_routes(SHAPE, {"near": (["east"], 0)}, policy=False).site_of("west")
    assert reasoning.without_route(SHAPE, {"x": "east", "y": "edge"}, ["west", "hub"]) == {
        "west": ["x"],
        "hub": [],
    }


def test_a_peer_route_beats_a_shorter_provider_route():
    rel = _rel(("a", "p", "c2p"), ("a", "b", "peer"), ("c", "b", "c2p"))
    routing = reasoning.best_routes(rel, {"one": (["p"], 0), "two": (["c"], 1)})
    assert routing.routes["a"] == reasoning.Route("two", ("b", "c", "anycast", "anycast"), "peer")
    assert (
        reasoning.best_routes(rel, {"one": (["p"], 0), "two": (["c"], 1)}, policy=False).site_of(
            "a"
        )
        == "one"
    )


def test_ties_between_sites_are_named():
    rel = _rel(("x", "a", "c2p"), ("x", "b", "c2p"))
    routing = reasoning.best_routes(rel, {"s": (["a"], 0), "t": (["b"], 0)})
    assert routing.ties == {"x"} and routing.site_of("x") is None
    assert routing.routes["x"] is not None  # a route there is, only not a predictable one
    # behind the tie, the customer's choice is as unpredictable
    below = reasoning.best_routes(
        {**rel, **_rel(("y", "x", "c2p"))}, {"s": (["a"], 0), "t": (["b"], 0)}
    )
    assert below.ties == {"x", "y"} and below.site_of("y") is None
    assert not reasoning.best_routes(rel, {"s": (["a"], 0), "t": (["b"], 1)}).ties
