"""Path reasoning on lab internets: chains (with chords and second homes), relationships."""

from testbed.labs import reasoning
from testbed.labs.variant import Client, Site, Transit, Variant


def chain(sites, second_home=None, chords=()):
    """Five transits t0..t4 in a line, client cN's ISP on tN; sites: role -> position."""
    transits = tuple(Transit(f"t{i}", 65000 + i, i) for i in range(5))
    clients = tuple(Client(f"c{i}", f"isp-c{i}", 64600 + i, i, f"t{i}") for i in range(5))
    params = {"second_home": second_home or {}, "chords": [list(c) for c in chords]}
    site = {r: Site(r, p, f"t{p}") for r, p in sites.items()}
    return Variant(1, None, transits, clients, 64500, site, params)


def test_the_shortest_as_path_wins_and_ties_are_none_undecided():
    v = chain({"x": 0, "y": 4})
    seen = v.catchment(decided=False)
    assert seen == {"c0": "x", "c1": "x", "c2": None, "c3": "y", "c4": "y"}
    assert v.catchment()["c2"] == "x"  # by router ID: t1 (left) is lower than t3
    assert None not in chain({"x": 0, "y": 3}).catchment(decided=False).values()
    routing = v.shortest("x")
    assert routing.routes["isp-c4"].path == ("t4", "t3", "t2", "t1", "t0", "anycast")


def test_prepend_shifts_the_catchment_and_fewest_prepend():
    v = chain({"x": 0, "y": 3})
    assert set(v.catchment(prepend={"y": 4}).values()) == {"x"}
    assert reasoning.moved({"a": "x", "b": "y"}, {"a": "x", "b": "x"}) == ["b"]
    assert v.fewest_prepend("x", "y") == 4
    assert chain({"p": 2, "b": 1}).fewest_prepend("p", "b") == 2


def test_a_chord_and_a_second_home_shorten_paths():
    v = chain({"x": 0, "y": 4}, chords=[(0, 3)])
    assert v.catchment(decided=False)["c3"] is None  # t3: x over the chord, y next door
    assert v.catchment(decided=False)["c2"] is None  # t2: four ASes either way (t3-t0 too)
    homed = chain({"x": 0, "y": 4}, second_home={"isp-c2": 1})
    assert homed.catchment(decided=False)["c2"] == "x"  # via t1: one AS fewer


def test_an_equally_good_route_from_a_tied_as_is_a_tie():
    """y's best comes from u (site a), but x offers as short a route, and x ties a with b."""
    rel = _rel(("x", "p", "peer"), ("x", "q", "peer"), ("u", "p", "peer"), ("y", "u", "peer"),
               ("y", "x", "peer"))  # fmt: skip
    routing = reasoning.best_routes(rel, {"a": (["p"], 0), "b": (["q"], 0)}, policy=False)
    assert routing.ties == {"x", "y"}
    assert routing.site_of("u") == "a" and routing.site_of("y") is None


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
