"""What the shipped ``world`` topology gives by default, for unit and integration tests."""

#: world's clients and the site each reaches by default (docs/scenarios.md).
WORLD_CATCHMENT = {
    "newyork": "nyc",
    "losangeles": "nyc",
    "paris": "lon",
    "frankfurt": "lon",
    "tokyo": "tyo",
    "singapore": "tyo",
    "sydney": "tyo",
    "saopaulo": "gru",
}
