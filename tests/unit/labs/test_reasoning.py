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
