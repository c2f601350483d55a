"""The report's "Drains" table (graceful-drain) and health changes held by ``min_sites``."""

from __future__ import annotations

from typing import Any, Dict

from testbed.analysis import build_summary, render_markdown
from testbed.analysis.model import HealthAgent, HealthState, Summary
from testbed.analysis.report import drains, health_effect

from .helpers import WORLD, WORLD_ROUTERS, RunBuilder, health_record


def event(t: float, kind: str, target: str, params: Dict[str, Any], **more: Any) -> Dict:
    return {"t": t, "at": t, "kind": kind, "target": target, "params": params, **more}


def moved(client: str, frm: str, to: str, total: float) -> Dict[str, Any]:
    return {
        "moved": [client],
        "moves": {client: {"from": frm, "to": to}},
        "parts": {client: {"site_from": frm, "site_to": to, "total_s": total}},
        "convergence_s": 0.1,
    }


def drain_summary() -> Summary:
    """graceful-drain, by hand: gru withdrawn; tyo prepended then withdrawn; lon GSHUT then out."""
    gshut = {"site": "lon", "communities": ["graceful-shutdown"]}
    return Summary.model_validate(
        {
            "scenario": "graceful-drain",
            "duration": 80,
            "events": [
                event(
                    10, "withdraw", "gru", {"site": "gru"}, **moved("saopaulo", "gru", "nyc", 0.3)
                ),
                event(
                    20, "restore", "gru", {"site": "gru"}, **moved("saopaulo", "nyc", "gru", 0.2)
                ),
                event(30, "prepend", "tyo", {"site": "tyo", "count": 3}),
                event(35, "withdraw", "tyo", {"site": "tyo"}, **moved("tokyo", "tyo", "nyc", 0.4)),
                event(45, "restore", "tyo", {"site": "tyo"}),
                event(55, "set_communities", "lon", gshut, **moved("paris", "lon", "nyc", 0.25)),
                event(60, "withdraw", "lon", {"site": "lon"}),
                event(70, "restore", "lon", {"site": "lon"}),
            ],
            "clients": {
                "saopaulo": {
                    "dns": {"outages": [{"start": 9.9, "end": 10.4, "duration": 0.5, "lost": 3}]},
                    "tcp": {"resets": [{"stream": 0, "t": 10.5}, {"stream": 1, "t": 20.3}]},
                },
                "tokyo": {
                    "dns": {"outages": [{"start": 35.0, "end": 35.6, "duration": 0.6, "lost": 4}]},
                    "tcp": {"resets": [{"stream": 0, "t": 35.5}, {"stream": 1, "t": 35.5}]},
                },
                "paris": {"tcp": {"resets": [{"stream": 0, "t": 55.3}, {"stream": 1, "t": 55.3}]}},
                "newyork": {},
            },
        }
    )


def test_drains_put_each_way_side_by_side():
    assert drains(drain_summary()) == [
        ["gru", "withdraw", "saopaulo", "3", "0.500", "1", "0.300"],
        ["tyo", "prepend 3 → withdraw", "tokyo", "4", "0.600", "2", "5.400"],
        ["lon", "communities graceful-shutdown → withdraw", "paris", "0", "0.000", "2", "0.250"],
    ]


def test_the_report_has_the_drains_table_after_the_events():
    text = render_markdown(drain_summary())
    assert text.index("## Events") < text.index("## Drains")
    assert (
        "| site | way | moved | DNS lost | longest DNS outage (s) | TCP resets | drain time (s) |"
    ) in text
    assert (
        "| lon | communities graceful-shutdown → withdraw | paris | 0 | 0.000 | 2 | 0.250 |" in text
    )


def test_no_withdrawal_no_drains_table():
    summary = Summary.model_validate(
        {"events": [event(10, "fail_site", "lon", {"site": "lon", "how": "link-down"})]}
    )
    assert drains(summary) == [] and "## Drains" not in render_markdown(summary)


def test_a_withdrawal_that_moved_nobody_has_no_drain_time():
    summary = Summary.model_validate({"events": [event(10, "withdraw", "lon", {"site": "lon"})]})
    assert drains(summary) == [["lon", "withdraw", "-", "0", "0.000", "0", "-"]]


def held_run(path):
    """all-sites-withdraw with min_sites 1, by hand: lon withdraws, tyo is held."""
    b = RunBuilder(path, duration=40.0, scenario="all-sites-withdraw", topology="world",
                   clients=sorted(WORLD), sites=["gru", "lon", "nyc", "tyo"],
                   routers=WORLD_ROUTERS)  # fmt: skip
    for client, site in sorted(WORLD.items()):
        b.dns_series(client, 0, 40, 5, site)
    b.event(15.0, "backend", "backend", {"state": "down"})
    for site in ("lon", "tyo"):
        health_record(b, -5.0, site, "start", state="up", action="withdraw", interval=1.0,
                      rise=2, fall=2, checks=["dns", "tcp", "backend"], drain=1.0,
                      min_sites=1)  # fmt: skip
    health_record(b, 17.0, "lon", "state", state="down", previous="up", action="withdraw",
                  applied=["withdraw"], failures=["backend: Connection refused"],
                  reason="checks", error=None)  # fmt: skip
    health_record(b, 17.1, "tyo", "state", state="down", previous="up", action="withdraw",
                  applied=[], failures=["backend: Connection refused"], reason="checks",
                  error=None, held="min_sites 1: 0 sites would remain announced")  # fmt: skip
    return b.write()


def test_a_held_withdrawal_is_in_the_summary_and_the_report(tmp_path):
    s = build_summary(held_run(tmp_path))
    assert s.health_agents["tyo"] == HealthAgent(
        action="withdraw", interval=1.0, rise=2, fall=2, checks=["dns", "tcp", "backend"],
        drain=1.0, min_sites=1,
    )  # fmt: skip
    lon, tyo = s.health
    assert isinstance(tyo, HealthState) and tyo.held == (
        "min_sites 1: 0 sites would remain announced"
    )
    assert isinstance(lon, HealthState) and lon.held is None
    assert "held" not in s.to_dict()["health"][0]  # left out when null
    assert s.to_dict()["health"][1]["held"] == tyo.held
    assert health_effect(tyo).startswith(
        "kept announced (min_sites 1: 0 sites would remain announced)"
    )
    text = render_markdown(s)
    assert "tyo (withdraw, every 1.0 s, fall 2, rise 2, min_sites 1)" in text
    assert "kept announced (min_sites 1: 0 sites would remain announced)" in text
    assert "| backend (state=down) |" in text  # the events table
