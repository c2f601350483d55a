"""A flapping site: streams reset on every move, counted as streams and as resets.

Synthetic flap run (tests/unit/analysis/helpers.py): tyo fails and comes
back three times; tokyo, singapore and sydney move every time and each of
their 2 streams is reset on each of the 6 moves.
"""

from __future__ import annotations

import io

from rich.console import Console

from testbed.analysis import build_summary, print_report, render_markdown
from testbed.analysis.report import moved_to, tcp_resets
from testbed.scenario.expect import evaluate
from testbed.scenario.load import load_scenario

from .helpers import flap_run


def test_every_reset_is_counted_and_streams_once(tmp_path):
    s = build_summary(flap_run(tmp_path))
    for name in ("tokyo", "singapore", "sydney"):
        tcp = s.clients[name].tcp
        assert (tcp.streams, tcp.reset, tcp.survived) == (2, 2, 0)
        assert tcp.reset_events == 12 == len(tcp.resets)
        assert {r.site for r in tcp.resets} == {"tyo", "nyc"}
    for name in ("newyork", "paris", "saopaulo"):
        tcp = s.clients[name].tcp
        assert (tcp.reset, tcp.reset_events, tcp.survived) == (0, 0, 2)
    assert [e.moved for e in s.events] == [["singapore", "sydney", "tokyo"]] * 6


def test_flap_expectations_pass_on_real_figures(tmp_path):
    checks = load_scenario("flap", []).scenario.expect
    results = evaluate(checks, build_summary(flap_run(tmp_path)))
    failed = [(r["check"], r["detail"]) for r in results if not r["passed"]]
    assert failed == []
    assert len(results) == 10
    resets = next(r for r in results if r["check"] == "at least 2 TCP resets per moved client")
    assert resets["detail"] == "resets: singapore 2, sydney 2, tokyo 2"


def test_the_old_check_could_never_pass(tmp_path):
    """``min: 3`` on tcp.reset (streams reset) fails with 2 streams, however often they reset."""
    summary = build_summary(flap_run(tmp_path))
    [result] = evaluate([{"check": "tcp_reset", "clients": "moved", "min": 3}], summary)
    assert result["passed"] is False


def test_report_and_terminal_show_resets_and_every_move(tmp_path):
    s = build_summary(flap_run(tmp_path))
    assert tcp_resets(s.clients["tokyo"].tcp) == "2/2 (12 resets)"
    assert tcp_resets(s.clients["paris"].tcp) == "0/2"
    assert moved_to(s, "tokyo") == (
        "nyc at 10.0 s, tyo at 18.0 s, nyc at 26.0 s, tyo at 34.0 s, nyc at 42.0 s, tyo at 50.0 s"
    )
    assert moved_to(s, "paris") == "-"
    text = render_markdown(s)
    assert "TCP: 16 streams: 6 reset (36 resets in all), 0 timed out, 10 survived." in text
    out = io.StringIO()
    print_report(s, Console(file=out, width=250, color_system=None))
    terminal = out.getvalue()
    assert "moved to" in terminal and "2/2 (12 resets)" in terminal
    assert "nyc at 10.0 s, tyo at 18.0 s" in terminal
