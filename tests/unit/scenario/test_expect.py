"""Expectations evaluated on small hand-written summaries.

The summaries are written as summary.json objects (only the fields the checks
read; the others get their defaults) and validated into the model.
"""

import pytest

from testbed.analysis.model import Summary
from testbed.scenario.expect import describe, evaluate, select, site_after_event


def client(before, after, lost=0, sent=100, max_outage=0.0, reset=0):
    return {
        "site_before": before,
        "site_after": after,
        "dns": {"sent": sent, "answered": sent - lost, "lost": lost, "max_outage_s": max_outage},
        "tcp": {"streams": 2, "reset": reset, "timeout": 0, "survived": 2 - min(reset, 2)},
    }


def event(kind, target, moves=None, convergence=0.4, changed=("eu", "na")):
    moves = moves or {}
    return {
        "t": 15.0,
        "kind": kind,
        "target": target,
        "params": {},
        "convergence_s": convergence,
        "routers_changed": list(changed),
        "route_changes": len(changed),
        "moved": sorted(moves),
        "moves": {c: {"from": f, "to": t} for c, (f, t) in moves.items()},
    }


#: lon fails: paris and frankfurt move to nyc; restore: they come back.
DATA = {
    "clients": {
        "paris": client("lon", "lon", lost=5, max_outage=0.84, reset=4),
        "frankfurt": client("lon", "lon", lost=3, max_outage=0.51, reset=3),
        "tokyo": client("tyo", "tyo"),
        "newyork": client("nyc", "nyc", lost=1),
    },
    "events": [
        event("fail_site", "lon", {"paris": ("lon", "nyc"), "frankfurt": ("lon", "nyc")}),
        event("restore", "lon", {"paris": ("nyc", "lon"), "frankfurt": ("nyc", "lon")}, 2.1),
    ],
}
SUMMARY = Summary.model_validate(DATA)


def one(check, summary=SUMMARY):
    [result] = evaluate([check], summary)
    assert set(result) == {"check", "passed", "detail"}
    return result


def test_moves_pass_and_fail():
    r = one({"check": "moves", "client": "paris", "to": "nyc"})
    assert r == {
        "check": "paris moves to nyc",
        "passed": True,
        "detail": "paris: lon → nyc at event 0 (fail_site lon)",
    }
    r = one({"check": "moves", "client": "paris", "to": "gru"})
    assert not r["passed"]
    assert r["detail"] == "paris: lon → nyc at event 0 (fail_site lon), not gru"
    r = one({"check": "moves", "client": "paris", "to": "lon", "after": 1})
    assert r["passed"] and r["check"] == "paris moves to lon at event 1"
    assert r["detail"] == "paris: nyc → lon at event 1 (restore lon)"
    r = one({"check": "moves", "client": "tokyo"})
    assert r == {
        "check": "tokyo moves",
        "passed": False,
        "detail": "tokyo did not move at event 0 (fail_site lon); site tyo",
    }


def test_moves_without_per_event_moves_falls_back_on_the_final_site():
    summary = Summary.model_validate(
        {
            "clients": DATA["clients"],
            "events": [{k: v for k, v in e.items() if k != "moves"} for e in DATA["events"]],
        }
    )
    assert summary.events[0].moves is None  # a summary older than events[].moves
    assert site_after_event(summary, "paris", 1) == "lon"
    assert site_after_event(summary, "paris", 0) is None
    assert site_after_event(summary, "tokyo", 0) == "tyo"
    r = one({"check": "moves", "client": "paris", "to": "nyc"}, summary)
    assert not r["passed"]
    assert "its site after it is unknown" in r["detail"]
    assert one({"check": "moves", "client": "paris", "to": "lon", "after": 1}, summary)["passed"]


def test_moves_after_an_event_that_did_not_happen():
    r = one({"check": "moves", "client": "paris", "after": 3})
    assert not r["passed"] and r["detail"] == "event 3 did not happen (the run recorded 2)"


def test_stays():
    assert one({"check": "stays", "client": "tokyo"}) == {
        "check": "tokyo stays on its site",
        "passed": True,
        "detail": "tokyo: tyo throughout",
    }
    r = one({"check": "stays", "client": "paris"})
    assert not r["passed"]
    assert r["detail"] == "paris: lon → nyc → lon (moved at events 0, 1)"


def test_max_outage():
    r = one({"check": "max_outage", "clients": "moved", "below": 2})
    assert r == {
        "check": "max DNS outage of moved clients < 2 s",
        "passed": True,
        "detail": "max outage 0.84 s (paris) < 2 s",
    }
    r = one({"check": "max_outage", "clients": "moved", "below": 0.6})
    assert not r["passed"]
    assert r["detail"] == "max outage 0.84 s (paris) ≥ 0.6 s; over: paris 0.84 s"


def test_selectors():
    assert select("moved", SUMMARY) == (["paris", "frankfurt"], [])
    assert select("unmoved", SUMMARY) == (["tokyo", "newyork"], [])
    assert select("affected", SUMMARY) == (["paris", "frankfurt"], [])
    assert select("unaffected", SUMMARY) == (["tokyo", "newyork"], [])
    assert select("all", SUMMARY)[0] == ["paris", "frankfurt", "tokyo", "newyork"]
    assert select(["tokyo", "mars"], SUMMARY) == (["tokyo"], ["mars"])


def test_empty_or_missing_selection_fails():
    quiet = {"clients": {"tokyo": client("tyo", "tyo")}, "events": [event("withdraw", "lon")]}
    r = one({"check": "max_outage", "clients": "moved", "below": 2}, quiet)
    assert not r["passed"] and r["detail"] == "no moved clients"
    r = one({"check": "tcp_reset", "clients": ["mars"]})
    assert not r["passed"] and r["detail"] == "not in the run: mars"


def test_tcp_reset():
    r = one({"check": "tcp_reset", "clients": "unmoved"})
    assert r == {
        "check": "no TCP reset on unmoved clients",
        "passed": True,
        "detail": "resets: tokyo 0, newyork 0",
    }
    r = one({"check": "tcp_reset", "clients": "moved", "min": 1})
    assert r["check"] == "at least 1 TCP reset per moved client"
    assert r["passed"] and r["detail"] == "resets: paris 4, frankfurt 3"
    r = one({"check": "tcp_reset", "clients": "moved", "min": 4})
    assert not r["passed"] and r["detail"] == "resets: paris 4, frankfurt 3 (< 4)"
    r = one({"check": "tcp_reset", "clients": "all", "max": 3})
    assert r["check"] == "at most 3 TCP resets per client"
    assert not r["passed"] and r["detail"].startswith("resets: paris 4 (> 3), frankfurt 3,")


def test_dns_loss():
    r = one({"check": "dns_loss", "clients": "all", "max_fraction": 0.05})
    assert r == {
        "check": "DNS loss of all clients ≤ 5%",
        "passed": True,
        "detail": "max loss 5% (paris) ≤ 5%",
    }
    r = one({"check": "dns_loss", "clients": "all", "max_fraction": 0.02})
    assert not r["passed"] and r["detail"] == "max loss 5% (paris) > 2%"
    r = one({"check": "dns_loss", "clients": "affected", "min_fraction": 0.04})
    assert r["check"] == "DNS loss of affected clients ≥ 4%"
    assert not r["passed"] and r["detail"] == "min loss 3% (frankfurt) < 4%"


def test_convergence():
    r = one({"check": "convergence", "below": 3})
    assert r == {
        "check": "convergence after every event < 3 s",
        "passed": True,
        "detail": "max 2.10 s after event 1 (restore lon) < 3 s",
    }
    r = one({"check": "convergence", "event": 0, "below": 0.3})
    assert r["check"] == "convergence after event 0 < 0.3 s"
    assert not r["passed"] and r["detail"] == "max 0.40 s after event 0 (fail_site lon) ≥ 0.3 s"


def test_convergence_without_route_changes():
    summary = Summary.model_validate(
        {
            "clients": DATA["clients"],
            "events": [event("kill_service", "tyo", convergence=None, changed=())],
        }
    )
    r = one({"check": "convergence", "below": 1}, summary)
    assert r["passed"] and r["detail"] == "no route changed after event 0 (kill_service tyo)"
    summary.events[0].routers_changed = ["asia", "eu"]
    r = one({"check": "convergence", "below": 1}, summary)
    assert not r["passed"]
    assert r["detail"] == "event 0 (kill_service tyo): routes changed but did not converge"


def test_a_summary_without_clients_fails_every_client_check():
    """A summary.json object without ``clients`` has none (the model's default)."""
    r = one({"check": "stays", "client": "paris"}, {"events": []})
    assert r == {
        "check": "paris stays on its site",
        "passed": False,
        "detail": "paris is not in the run",
    }
    r = one({"check": "max_outage", "clients": "all", "below": 1}, {"events": []})
    assert r["passed"] is False and r["detail"] == "no clients in the run"


def test_models_and_dicts_alike():
    from testbed.scenario.model import Stays

    assert evaluate([Stays(check="stays", client="tokyo")], SUMMARY) == evaluate(
        [{"check": "stays", "client": "tokyo"}], SUMMARY
    )


@pytest.mark.parametrize(
    "check,text",
    [
        (
            {"check": "tcp_reset", "clients": ["paris"], "min": 1, "max": 2},
            "1 to 2 TCP resets per client (paris)",
        ),
        (
            {
                "check": "dns_loss",
                "clients": "unaffected",
                "min_fraction": 0.1,
                "max_fraction": 0.5,
            },
            "DNS loss of unaffected clients ≥ 10% and ≤ 50%",
        ),
        (
            {"check": "max_outage", "clients": ["paris", "tokyo"], "below": 1.5},
            "max DNS outage of paris, tokyo < 1.5 s",
        ),
    ],
)
def test_wording(check, text):
    from pydantic import TypeAdapter

    from testbed.scenario.model import Check

    assert describe(TypeAdapter(Check).validate_python(check)) == text


def test_on_a_summary_built_by_the_analysis(tmp_path):
    """The keys used here are the ones testbed.analysis writes."""
    from testbed.analysis import build_summary

    from ..analysis.helpers import fixed_run

    summary = build_summary(fixed_run(tmp_path))
    results = evaluate(
        [
            {"check": "moves", "client": "paris", "to": "nyc"},
            {"check": "moves", "client": "paris", "to": "lon", "after": 1},
            {"check": "stays", "client": "tokyo"},
            {"check": "max_outage", "clients": "moved", "below": 5},
            {"check": "convergence", "below": 5},
        ],
        summary,
    )
    assert [r["passed"] for r in results] == [True] * 5, results
