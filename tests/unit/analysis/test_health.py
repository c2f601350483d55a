"""Health records in the analysis: summary.json's health[], report.md, terminal, plot marks.

Synthetic healthcheck-modes runs (tests/unit/analysis/helpers.py): lon's
servers die at 15 s and its agent goes down at 16.95 s.  With withdraw, paris
and frankfurt move to nyc; with MED they stay on the dead site, unanswered:
the report must show that difference.

Refresh the golden files after an intended change with
``UPDATE_GOLDEN=1 pytest tests/unit/analysis/test_health.py``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from testbed.analysis import analyse, build_summary, print_report, render_markdown
from testbed.analysis.model import HealthAddress, HealthAgent, HealthState, Move
from testbed.analysis.plots import timeline_marks
from testbed.analysis.report import MED_NOTE, OPTIONAL_PLOTS, PLOTS, SHUTDOWN_NOTE, timeline
from testbed.health import agent
from testbed.scenario.expect import evaluate
from testbed.scenario.load import load_scenario

from .helpers import RunBuilder, health_record, health_run

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "report"


def test_withdraw_moves_the_sites_clients_and_the_summary_says_so(tmp_path):
    s = build_summary(health_run(tmp_path, "withdraw"))
    assert s.health_agents == {
        "lon": HealthAgent(action="withdraw", interval=1.0, rise=2, fall=2,
                           checks=["dns", "tcp"], drain=1.0)
    }  # fmt: skip
    state, address = s.health
    assert isinstance(state, HealthState) and isinstance(address, HealthAddress)
    assert (state.t, state.site, state.event) == (16.95, "lon", "state")
    assert (state.previous, state.state, state.action) == ("up", "down", "withdraw")
    assert state.applied == ["withdraw"]
    assert state.failures == ["dns: Timeout", "tcp: Connection refused"]
    assert state.moved == ["frankfurt", "paris"]
    assert state.moves["paris"] == Move(from_="lon", to="nyc")
    assert state.stayed == [] and state.unanswered == []
    assert address.model_dump() == {"t": 40.6, "site": "lon", "event": "address",
                                    "address": "192.0.2.53", "removed": ["lon-1"],
                                    "drain_s": 23.65, "error": None}  # fmt: skip
    assert s.events[0].moved == ["frankfurt", "paris"]


def test_med_demotion_moves_nobody_and_leaves_the_sites_clients_unanswered(tmp_path):
    s = build_summary(health_run(tmp_path, "med"))
    state = s.health[0]
    assert state.applied == ["med 1000 prepend 0"]
    assert state.moved == [] and state.unanswered == ["frankfurt", "paris"]
    assert s.events[0].moved == []
    paris = s.clients["paris"].dns
    assert [w.recovered for w in paris.outages] == [False]
    text = render_markdown(s)
    assert MED_NOTE in text
    assert "health lon up -> down (med)" in text


@pytest.mark.parametrize("action", ["withdraw", "med"])
def test_health_report_golden(tmp_path, action):
    summary = build_summary(health_run(tmp_path, action))
    text = render_markdown(summary, [name for name, _ in PLOTS if name not in OPTIONAL_PLOTS])
    path = GOLDEN / f"healthcheck-modes-{action}.md"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_timeline_interleaves_events_and_health_changes(tmp_path):
    s = build_summary(health_run(tmp_path, "withdraw"))
    lines = [line for _, line in timeline(s)]
    assert [line.split(":")[0] for line in lines] == [
        "- t=15.000 s",
        "- t=16.950 s",
        "- t=40.600 s",
    ]
    assert "kill_service lon" in lines[0]
    assert "health lon up -> down (withdraw), applied: withdraw" in lines[1]
    assert "Moved: frankfurt (lon -> nyc), paris (lon -> nyc)" in lines[1]
    assert "service address removed" in lines[2] and "from lon-1" in lines[2]


def test_terminal_shows_health_changes_and_where_clients_moved(tmp_path):
    for action, expect in (("withdraw", "paris (lon -> nyc)"), ("med", "no answer: frankfurt")):
        s = build_summary(health_run(tmp_path / action, action))
        out = io.StringIO()
        print_report(s, Console(file=out, width=250, color_system=None))
        text = out.getvalue()
        assert "health" in text and f"health lon up -> down ({action})" in text
        assert expect in text
    assert "MED is only compared" in text  # the med run, printed last


def test_health_changes_are_marked_on_the_dns_timeline(tmp_path):
    run = health_run(tmp_path, "withdraw")
    s = build_summary(run)
    assert timeline_marks(s) == [(15.0, "kill_service lon (service=all)", "event")]
    assert timeline_marks(s, health=True) == [
        (15.0, "kill_service lon (service=all)", "event"),
        (16.95, "health lon up -> down (withdraw)", "health"),
        (40.6, "health lon: service address removed", "health"),
    ]
    analyse(run)
    png = run / "plots" / "timeline.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000


def test_retry_and_a_kept_address_are_reported(tmp_path):
    b = RunBuilder(tmp_path, duration=10.0).dns_series("c", 0, 10, 5, "lon")
    health_record(b, 2.0, "lon", "state", state="down", previous="up", action="withdraw",
                  applied=[], failures=["dns: Timeout"], reason="checks",
                  error="vtysh on lon did not answer within 20 s")  # fmt: skip
    health_record(b, 4.0, "lon", "retry", state="down", action="withdraw", applied=["withdraw"])
    kept = "the announcement was not withdrawn or demoted: service address kept"
    health_record(b, 9.0, "lon", "address", removed=[], drain_s=None, error=kept)
    s = build_summary(b.write())
    assert [h.event for h in s.health] == ["state", "retry", "address"]
    text = render_markdown(s)
    assert "not applied: vtysh on lon did not answer within 20 s" in text
    assert "health lon down applied late (withdraw)" in text
    assert "health lon: service address kept" in text
    assert "## Health" in text


def test_a_run_without_health_records_has_no_health_section(tmp_path):
    s = build_summary(RunBuilder(tmp_path, duration=1.0).dns_series("c", 0, 1, 5, "a").write())
    assert s.health == [] and s.health_agents == {}
    assert "## Health" not in render_markdown(s)


@pytest.mark.parametrize("action", ["withdraw", "prepend"])
def test_healthcheck_modes_expectations_pass_when_clients_move(tmp_path, action):
    checks = load_scenario("healthcheck-modes", []).scenario.expect
    results = evaluate(checks, build_summary(health_run(tmp_path, action)))
    assert [(r["check"], r["passed"]) for r in results] == [
        ("paris moves at event 0", True),
        ("frankfurt moves at event 0", True),
        ("newyork stays on its site", True),
        ("tokyo stays on its site", True),
        ("no TCP reset on unaffected clients", True),
    ]


def test_healthcheck_modes_moves_checks_fail_with_med(tmp_path):
    checks = load_scenario("healthcheck-modes", ["health.action=med"]).scenario.expect
    results = evaluate(checks, build_summary(health_run(tmp_path, "med")))
    assert [r["passed"] for r in results] == [False, False, True, True, True]
    assert results[0]["detail"].startswith("paris did not move")


def _drained_run(path: Path, reason: str = "agent stopping: drain before the services go"):
    """Two sites, 20 s; at teardown (20.2 s, the probes stopped) both agents withdraw.

    lon's record is as an agent with the MED action wrote it before it always
    withdrew at shutdown; nyc's as it writes it now.
    """
    b = RunBuilder(path, duration=20.0, clients=["paris", "tokyo"], sites=["lon", "nyc"])
    b.dns_series("paris", 0, 20, 5, "lon").dns_series("tokyo", 0, 20, 5, "nyc")
    for site, action in (("lon", "med"), ("nyc", "withdraw")):
        health_record(b, -5.0, site, "start", state="up", action=action, interval=1.0, rise=2,
                      fall=2, checks=["dns"], drain=1.0)  # fmt: skip
    health_record(b, 20.2, "lon", "state", state="down", previous="up", action="med",
                  applied=["med 1000 prepend 0"], failures=[], reason=reason,
                  error=None)  # fmt: skip
    health_record(b, 20.2, "nyc", "state", state="down", previous="up", action="withdraw",
                  applied=["withdraw"], failures=[],
                  reason="agent stopping: withdraw and drain before the services go",
                  error=None)  # fmt: skip
    for site in ("lon", "nyc"):
        health_record(b, 21.2, site, "address", address="192.0.2.53", removed=[f"{site}-1"],
                      drain_s=1.0, error=None)  # fmt: skip
    return b.write()


def test_shutdown_drain_is_not_a_change_clients_saw(tmp_path):
    s = build_summary(_drained_run(tmp_path))
    states = [h for h in s.health if h.event == "state"]
    assert [(h.site, h.t, h.shutdown) for h in states] == [
        ("lon", 20.2, True),
        ("nyc", 20.2, True),
    ]
    for h in states:  # no effect measured: the fields are left out of summary.json
        assert (h.moved, h.moves, h.stayed, h.unanswered) == (None, None, None, None)
        assert not {"moved", "moves", "stayed", "unanswered"} & set(h.model_dump())
    for written in s.to_dict()["health"][:2]:
        assert not {"moved", "moves", "stayed", "unanswered"} & set(written)
    text = render_markdown(s)
    assert "no answer" not in text.lower() and MED_NOTE not in text
    assert "health lon up -> down (med) at shutdown" in text
    assert text.lower().count(SHUTDOWN_NOTE) == 4  # timeline and Health table, both sites
    out = io.StringIO()
    print_report(s, Console(file=out, width=250, color_system=None))
    assert "no answer" not in out.getvalue() and SHUTDOWN_NOTE in out.getvalue()


def test_a_state_change_at_the_end_of_the_timeline_is_the_shutdown_whatever_its_reason(tmp_path):
    s = build_summary(_drained_run(tmp_path, reason="checks"))
    assert [h.shutdown for h in s.health if h.event == "state"] == [True, True]
    assert "unanswered" not in s.to_dict()["health"][0]


def test_agent_stopping_is_the_shutdown_and_no_cut_for_the_changes_before_it(tmp_path):
    """lon withdrawn by its checks at 10 s; paris lost until 12 s, then nyc."""
    b = RunBuilder(tmp_path, duration=20.0, clients=["paris"], sites=["lon", "nyc"])
    b.dns_series("paris", 0, 20, 5, lambda q: "lon" if q < 50 else "nyc", lost=range(50, 60))
    health_record(b, 10.0, "lon", "state", state="down", previous="up", action="withdraw",
                  applied=["withdraw"], failures=["dns: Timeout"], reason="checks",
                  error=None)  # fmt: skip
    health_record(b, 11.0, "nyc", "state", state="down", previous="up", action="withdraw",
                  applied=["withdraw"], failures=[], reason=agent.STOPPING,
                  error=None)  # fmt: skip
    s = build_summary(b.write())
    lon, nyc = s.health
    assert (lon.shutdown, lon.moved, lon.unanswered) == (False, ["paris"], [])
    assert nyc.shutdown is True and nyc.moved is None
    assert "moved" in s.to_dict()["health"][0] and "moved" not in s.to_dict()["health"][1]
