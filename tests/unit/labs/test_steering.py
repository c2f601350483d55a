"""Lab 7's reasoning: catchments under each action, ties by router ID, the attack, the answer."""

from __future__ import annotations

import pytest

from testbed.labs import reasoning, steering
from testbed.labs.steering import Net


def chain(*sites: str, **kwargs) -> Net:
    """Transits t0-t1-t2-t3-t4, ISP i<k> (client c<k>) on t<k>; ``sites``: ``name@k``."""
    links = [(f"t{k}", f"t{k + 1}") for k in range(4)] + [(f"i{k}", f"t{k}") for k in range(5)]
    where = dict(s.split("@") for s in sites)
    order = [f"t{k}" for k in range(5)] + [f"i{k}" for k in range(5)] + list(where)
    return Net(
        links=tuple(links),
        sites={name: f"t{k}" for name, k in where.items()},
        clients={f"c{k}": f"i{k}" for k in range(5)},
        weights=kwargs.pop("weights", {f"c{k}": 1.0 for k in range(5)}),
        router_ids={name: n for n, name in enumerate(order, start=1)},
        **kwargs,
    )


def test_the_nearest_site_wins_and_a_tie_goes_to_the_lowest_router_id():
    net = chain("x@0", "y@4")
    seen = steering.outcome(net).catchment
    # c2 is as far from both: t2 hears x from t1 and y from t3, and t1's ID is lower
    assert seen == {"c0": "x", "c1": "x", "c2": "x", "c3": "y", "c4": "y"}
    reversed_ids = dict(net.router_ids, t1=99)  # now t3 has the lower ID
    flipped = Net(**{**net.__dict__, "router_ids": reversed_ids})
    assert steering.outcome(flipped).catchment["c2"] == "y"


def test_a_site_s_own_route_loses_a_tie_to_a_transit():
    """The site routers are numbered last: at its own upstream a prepended site loses the tie."""
    net = chain("x@0", "y@1")
    # t0: x's own route [x x] (prepend 1) against t1's [t1 y]: both 2 long; t1 wins
    after = steering.outcome(net, "x", "prepend1")
    assert after.catchment["c0"] == "y" and after.moved == ("c0",)


def test_prepends_move_more_and_more_and_withdraw_moves_everyone():
    net = chain("x@0", "y@4", weights={"c0": 5.0, "c1": 3.0, "c2": 2.0, "c3": 1.0, "c4": 1.0})
    moved = {a: steering.outcome(net, "x", a).moved for a in steering.ACTIONS}
    assert moved == {
        "prepend1": ("c2",),  # x 5 long, y 4
        "prepend2": ("c2",),  # c1: x and y both 5 long; t1 takes t0's route (lowest ID)
        "prepend3": ("c1", "c2"),
        "withdraw": ("c0", "c1", "c2"),
    }
    assert steering.outcome(net, "x", "withdraw").moved_weight == 10.0


def test_best_routes_breaks_ties_by_router_id_only_when_given_them():
    net = chain("x@0", "y@4")
    sites = steering.announced(net)
    rel = {(a, b): "peer" for a, b in net.links} | {(b, a): "peer" for a, b in net.links}
    plain = reasoning.best_routes(rel, sites, policy=False)
    assert "i2" in plain.ties and plain.site_of("i2") is None
    decided = reasoning.best_routes(rel, sites, policy=False, router_ids=net.router_ids)
    assert not decided.ties and decided.site_of("i2") == "x"
    assert decided.routes["t2"].path == ("t1", "t0", "anycast")


def test_the_attack_follows_its_sources_isps_and_overloads_by_packets():
    net = chain(
        "x@0", "y@4", attack={"i0": 1000.0, "i1": 1000.0, "i4": 1000.0},
        capacity={"x": 1500.0, "y": 2500.0},
    )  # fmt: skip
    base = steering.outcome(net)
    assert base.attack == {"x": 2000.0, "y": 1000.0}
    assert base.overloaded == {"x"} and steering.attacked(net) == ["x"]
    # prepend3 moves c1 (and its source) to y: x 1000 <= 1500, y 2000 <= 2500
    after = steering.outcome(net, "x", "prepend3", base)
    assert after.attack == {"x": 1000.0, "y": 2000.0} and after.overloaded == set()
    # withdraw moves both of x's sources to y: 3000 > 2500, a cascade
    gone = steering.outcome(net, "x", "withdraw", base)
    assert steering.cascade(gone, "x") == {"y"}


def test_the_answer_is_the_least_weight_that_relieves_the_attacked_site():
    net = chain(
        "x@0", "y@4", attack={"i0": 1000.0, "i1": 1000.0}, capacity={"x": 1500.0},
        weights={"c0": 5.0, "c1": 3.0, "c2": 2.0, "c3": 1.0, "c4": 1.0},
    )  # fmt: skip
    outcomes = steering.every_outcome(net)
    # prepend1 and prepend2 move only c2 (no source); prepend3 moves c1's source too (5);
    # withdraw relieves x as well, but moves 10; y's actions only ever add to x
    assert steering.best_actions(outcomes, "x") == [("x", "prepend3")]
    assert steering.find(outcomes, "y", "withdraw").overloaded == {"x"}


def test_actions_moving_equal_weights_are_all_answers():
    # x@0, y@2: c1's tie goes to x (t0's ID is lower than t2's); prepend1 moves c1,
    # prepend2 c0 too (at t0 the site's own route loses the tie to t1's), and so on
    net = chain("x@0", "y@2", attack={"i0": 1000.0}, capacity={"x": 500.0})
    outcomes = steering.every_outcome(net)
    assert steering.outcome(net).catchment["c1"] == "x"
    assert steering.best_actions(outcomes, "x") == [
        ("x", "prepend2"),
        ("x", "prepend3"),
        ("x", "withdraw"),
    ]


def test_a_prepend_is_not_a_withdrawal():
    with pytest.raises(ValueError):
        steering.as_sites(chain("x@0"), "x", "prepend9")
