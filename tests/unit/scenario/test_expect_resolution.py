"""The resolution checks (failover, still_failing, nearest_share) on hand-made summaries,
their wording, and their bad input: one line naming the field."""

from __future__ import annotations

import copy
import textwrap

import pytest

from testbed.analysis.model import Summary
from testbed.analysis.resolution import CHECKPOINTS
from testbed.errors import InputError
from testbed.scenario import validate as validate_module
from testbed.scenario.expect import NO_RESOLUTION, describe, evaluate
from testbed.scenario.load import load_scenario, scenario_topology
from testbed.scenario.model import RESOLUTION_CHECKPOINTS, Failover, Scenario
from testbed.scenario.validate import validate_against
from testbed.topology.load import load_topology


def failover(affected, event=0, site="lon", window=70.0, failing=(1.0, 0.0, 0.0), kind="fail_site"):
    """One event's figures for one method (``affected``: client -> failover_s or None)."""
    times = [t for t in affected.values() if t is not None]
    return {
        "event": event,
        "t": 10.0 + 20 * event,
        "kind": kind,
        "site": site,
        "window_s": window,
        "affected": {c: {"failover_s": t} for c, t in affected.items()},
        "clients": len(affected),
        "recovered": len(times),
        "failover_worst_s": max(times) if len(times) == len(affected) and times else None,
        "failing_1s": failing[0],
        "failing_10s": failing[1],
        "failing_60s": failing[2],
    }


def method(failovers, pooled, clients):
    """A method's figures: its events, the pooled figures, its steady state."""
    judged = [c for c in clients.values() if c["site"] and c["nearest"]]
    near = sum(1 for c in judged if c["site"] == c["nearest"])
    return {
        "failovers": failovers,
        "failover": pooled,
        "steady": {
            "clients": clients,
            "nearest_share": round(near / len(judged), 4) if judged else None,
        },
    }


#: lon fails at 10 s: anycast moves paris and berlin in under a second; gslb leaves
#: paris on lon's cached address for 5 s and berlin (a TTL violator) for a minute.
DATA = {
    "resolution": {
        "publish": "both",
        "ttl": 5,
        "health_interval": 1,
        "methods": {
            "anycast": method(
                [failover({"berlin": 0.602, "paris": 0.402})],
                {"clients": 2, "recovered": 2, "failover_median_s": 0.502,
                 "failover_worst_s": 0.602, "failing_1s": 0.0, "failing_10s": 0.0,
                 "failing_60s": 0.0},
                {"berlin": {"site": "lon", "nearest": "lon"},
                 "paris": {"site": "lon", "nearest": "lon"},
                 "tokyo": {"site": "nyc", "nearest": "tyo"}},
            ),
            "gslb": method(
                [failover({"berlin": 60.202, "paris": 5.002}, failing=(1.0, 0.5, 0.5))],
                {"clients": 2, "recovered": 2, "failover_median_s": 32.602,
                 "failover_worst_s": 60.202, "failing_1s": 1.0, "failing_10s": 0.5,
                 "failing_60s": 0.5},
                {"berlin": {"site": "lon", "nearest": "lon"},
                 "paris": {"site": "lon", "nearest": "lon"},
                 "tokyo": {"site": "tyo", "nearest": "tyo"}},
            ),
        },
    }
}  # fmt: skip
SUMMARY = Summary.model_validate(DATA)


def one(check, summary=SUMMARY):
    [result] = evaluate([check], summary)
    assert set(result) == {"check", "passed", "detail"}
    return result


def changed(edit):
    """A copy of :data:`DATA` after ``edit(data)``, as a summary."""
    data = copy.deepcopy(DATA)
    edit(data)
    return Summary.model_validate(data)


def methods(data):
    return data["resolution"]["methods"]


# ----------------------------------------------------------------- failover
def test_failover_passes_on_the_worst_client_pooled():
    r = one({"check": "failover", "method": "anycast", "below": 1})
    assert r == {
        "check": "anycast failover of affected clients < 1 s",
        "passed": True,
        "detail": "worst failover 0.60 s (berlin) < 1 s; median 0.50 s of 2 affected clients",
    }


def test_failover_fails_listing_the_clients_over_the_bound():
    r = one({"check": "failover", "method": "gslb", "below": 3})
    assert r == {
        "check": "gslb failover of affected clients < 3 s",
        "passed": False,
        "detail": "worst failover 60.20 s (berlin) ≥ 3 s; over: berlin 60.20 s, paris 5.00 s",
    }
    assert one({"check": "failover", "method": "gslb", "below": 61})["passed"]


def test_a_client_that_never_failed_over_fails_any_bound():
    def never(data):
        methods(data)["gslb"]["failovers"][0]["affected"]["berlin"]["failover_s"] = None

    r = one({"check": "failover", "method": "gslb", "below": 3600}, changed(never))
    assert not r["passed"]
    assert r["detail"] == "worst failover never (berlin) ≥ 3600 s; over: berlin never"


def test_failover_pools_the_events_and_names_them():
    def twice(data):
        m = methods(data)["anycast"]
        m["failovers"].append(failover({"paris": 1.5}, event=1, site="nyc", window=40.0))

    r = one({"check": "failover", "method": "anycast", "below": 1}, changed(twice))
    assert not r["passed"]
    assert (
        r["detail"]
        == "worst failover 1.50 s (paris at event 1) ≥ 1 s; over: paris at event 1 1.50 s"
    )
    r = one({"check": "failover", "method": "anycast", "below": 2}, changed(twice))
    assert r["passed"] and r["detail"].startswith("worst failover 1.50 s (paris at event 1) < 2 s")


def test_failover_fails_when_no_event_took_a_site_out():
    def nobody(data):
        for m in methods(data).values():
            m["failovers"], m["failover"] = [], None

    r = one({"check": "failover", "method": "anycast", "below": 1}, changed(nobody))
    assert r["passed"] is False and r["detail"] == "no event took a site out from any client"

    def withdrawal(data):  # the anycast prefix withdrawn: gslb's unicast addresses stay
        g = methods(data)["gslb"]
        g["failovers"] = [failover({}, kind="withdraw", failing=(None, None, None))]
        g["failover"] = {"clients": 0}

    r = one({"check": "failover", "method": "gslb", "below": 1}, changed(withdrawal))
    assert r["passed"] is False
    assert r["detail"] == (
        "no gslb client was affected by the events that took a site out: withdraw lon (event 0)"
    )
    r = one(
        {"check": "still_failing", "method": "gslb", "after": 10, "max": 1}, changed(withdrawal)
    )
    assert r["passed"] is False and r["detail"].startswith("no gslb client was affected")


# ------------------------------------------------------------ still_failing
def test_still_failing_compares_the_pooled_share():
    r = one({"check": "still_failing", "method": "gslb", "after": 10, "max": 0.5})
    assert r == {
        "check": "at most 50% of affected gslb clients still failing 10 s after the event",
        "passed": True,
        "detail": "50% (1 of 2 affected) still failing 10 s after the event ≤ 50%",
    }
    r = one({"check": "still_failing", "method": "gslb", "after": 1, "max": 0.1})
    assert not r["passed"]
    assert r["detail"] == "100% (2 of 2 affected) still failing 1 s after the event > 10%"
    r = one({"check": "still_failing", "method": "anycast", "after": 60, "max": 0})
    assert r["passed"] and r["detail"].startswith("0% (0 of 2 affected)")


def test_still_failing_leaves_out_windows_too_short_and_fails_when_all_are():
    def short(data):
        [f] = methods(data)["gslb"]["failovers"]
        f["window_s"], f["failing_60s"] = 30.0, None

    r = one({"check": "still_failing", "method": "gslb", "after": 60, "max": 1}, changed(short))
    assert r["passed"] is False
    assert r["detail"] == (
        "not measured: no window after an event that took a site out from gslb clients "
        "lasted 60 s (the longest: 30 s)"
    )

    def two(data):
        m = methods(data)["gslb"]
        m["failovers"].append(
            failover({"paris": 2.0}, event=1, window=20.0, failing=(1.0, 0.0, None))
        )

    r = one({"check": "still_failing", "method": "gslb", "after": 60, "max": 0.5}, changed(two))
    assert r["passed"]
    assert r["detail"] == (
        "50% (1 of 2 affected) still failing 60 s after the event ≤ 50%; "
        "not counted, window shorter: event 1 (20 s)"
    )
    r = one({"check": "still_failing", "method": "gslb", "after": 10, "max": 0.5}, changed(two))
    assert r["detail"].startswith("33.3% (1 of 3 affected)")


# ------------------------------------------------------------ nearest_share
def test_nearest_share_names_the_clients_elsewhere():
    r = one({"check": "nearest_share", "method": "anycast", "min": 0.9})
    assert r == {
        "check": "at least 90% of anycast clients on their nearest site",
        "passed": False,
        "detail": "66.7% (2 of 3 clients on their nearest site) < 90%; "
        "elsewhere: tokyo on nyc (nearest tyo)",
    }
    r = one({"check": "nearest_share", "method": "gslb", "min": 1})
    assert r["passed"] and r["detail"] == "100% (3 of 3 clients on their nearest site) ≥ 100%"


def test_nearest_share_caps_the_names_and_fails_without_a_judged_client():
    def far(data):
        clients = {f"c{k}": {"site": "nyc", "nearest": "lon"} for k in range(7)}
        methods(data)["anycast"]["steady"] = {"clients": clients, "nearest_share": 0.0}

    r = one({"check": "nearest_share", "method": "anycast", "min": 0}, changed(far))
    assert r["passed"] and r["detail"].endswith("c4 on nyc (nearest lon) and 2 more")

    def unknown(data):
        clients = {"paris": {"site": "lon", "nearest": None}}
        methods(data)["gslb"]["steady"] = {"clients": clients, "nearest_share": None}

    r = one({"check": "nearest_share", "method": "gslb", "min": 0}, changed(unknown))
    assert r["passed"] is False
    assert r["detail"] == (
        "no gslb client had both a site and a known nearest site before the first event"
    )


# ------------------------------------------------------- runs without figures
@pytest.mark.parametrize(
    "check",
    [
        {"check": "failover", "method": "anycast", "below": 1},
        {"check": "still_failing", "method": "anycast", "after": 1, "max": 1},
        {"check": "nearest_share", "method": "anycast", "min": 0},
    ],
)
def test_every_resolution_check_fails_on_a_run_without_figures_or_method(check):
    r = one(check, Summary())
    assert r["passed"] is False and r["detail"] == NO_RESOLUTION

    def anycast_only(data):
        data["resolution"]["publish"] = "anycast"
        del methods(data)["gslb"]

    r = one({**check, "method": "gslb"}, changed(anycast_only))
    assert r["passed"] is False
    assert (
        r["detail"] == "gslb was not published in the run (publish: anycast; figures for anycast)"
    )


def test_the_checks_agree_with_the_analysis(tmp_path):
    """On the analysis' own summary of hand-made records (tests/unit/analysis/test_resolution)."""
    from testbed.analysis import build_summary
    from tests.unit.analysis.test_resolution import both_run

    summary = build_summary(both_run(tmp_path))
    results = evaluate(
        [
            {"check": "failover", "method": "anycast", "below": 1},
            {"check": "failover", "method": "gslb", "below": 10},
            {"check": "still_failing", "method": "gslb", "after": 10, "max": 0.5},
            {"check": "still_failing", "method": "gslb", "after": 1, "max": 0.5},
            {"check": "nearest_share", "method": "gslb", "min": 1},
            {"check": "nearest_share", "method": "anycast", "min": 0.9},
        ],
        summary,
    )
    assert [r["passed"] for r in results] == [True, False, True, False, True, False]
    assert results[0]["detail"] == (
        "worst failover 0.60 s (berlin) < 1 s; median 0.50 s of 2 affected clients"
    )
    assert results[1]["detail"] == "worst failover 60.20 s (berlin) ≥ 10 s; over: berlin 60.20 s"


def test_the_checkpoints_are_the_analysis_ones():
    assert RESOLUTION_CHECKPOINTS == CHECKPOINTS
    assert describe(Failover(check="failover", method="gslb", below=2.5)) == (
        "gslb failover of affected clients < 2.5 s"
    )


# ----------------------------------------------------------------- bad input
BASE = """
name: x
duration: 60
topology_set:
  unicast: true
  service: {publish: anycast}
traffic:
  kinds: [dns, resolve]
timeline:
  - {at: 15, event: fail_site, site: busiest}
expect:
  - CHECK
"""


def error(tmp_path, check, monkeypatch, kinds="[dns, resolve]"):
    """The one-line message of loading a scenario with ``check`` against world."""
    monkeypatch.setattr(validate_module, "daemons_missing", lambda topo: None)
    path = tmp_path / "scen.yaml"
    text = BASE.replace("CHECK", check).replace("[dns, resolve]", kinds)
    path.write_text(textwrap.dedent(text))
    with pytest.raises(InputError) as info:
        scenario_topology(load_scenario(str(path)))
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message[len(f"{path}: ") :]


@pytest.mark.parametrize(
    "check,expected",
    [
        ("{check: failover, method: dns, below: 3}",
         "expect[0].method: must be one of anycast, gslb (got 'dns')"),
        ("{check: failover, below: 3}", "expect[0].method: required field is missing"),
        ("{check: failover, method: anycast}", "expect[0].below: required field is missing"),
        ("{check: failover, method: anycast, below: 0}",
         "expect[0].below: Input should be greater"),
        ("{check: still_failing, method: anycast, after: 5, max: 0.1}",
         "expect[0].after: must be one of 1, 10, 60 (got 5)"),
        ("{check: still_failing, method: anycast, after: true, max: 0.1}",
         "expect[0].after: Input should be a valid integer"),
        ("{check: still_failing, method: anycast, after: 10, max: 10}",
         "expect[0].max: Input should be less than or equal to 1 (got 10)"),
        ("{check: nearest_share, method: anycast, min: -0.1}",
         "expect[0].min: Input should be greater than or equal to 0"),
        ("{check: nearest_share, method: anycast, min: 0.5, max: 1}",
         "expect[0].max: unknown field"),
        ("{check: nearest_share, method: gslb, min: 0.5}",
         "expect[0].method: gslb is not published: topology 'world' has service.publish: "
         "anycast (set it to both, or to gslb)"),
    ],
)  # fmt: skip
def test_bad_checks_are_one_line_naming_the_field(tmp_path, monkeypatch, check, expected):
    message = error(tmp_path, check, monkeypatch)
    assert message.startswith(expected), message


def test_a_resolution_check_needs_the_resolve_probe(tmp_path, monkeypatch):
    message = error(tmp_path, "{check: failover, method: anycast, below: 3}", monkeypatch, "[dns]")
    assert message == (
        "expect[0].check: failover judges the resolve probe's figures: add resolve to traffic.kinds"
    )


def test_a_good_scenario_passes_and_a_topology_without_service_is_refused(monkeypatch):
    monkeypatch.setattr(validate_module, "daemons_missing", lambda topo: None)
    data = {
        "name": "x",
        "duration": 60,
        "traffic": {"kinds": ["dns"]},
        "expect": [{"check": "nearest_share", "method": "anycast", "min": 0.5}],
    }
    scenario = Scenario.model_validate(data)  # validate() would want resolve in the kinds
    with pytest.raises(InputError) as info:
        validate_against(scenario, load_topology("world"), "s.yaml")
    assert str(info.value) == (
        "s.yaml: expect[0].method: topology 'world' has no service block, so nothing "
        "publishes anycast: give it service: {publish: anycast} (or both)"
    )
