"""report.md against a golden file; terminal tables; the whole analysis with plots.

Refresh the golden file after an intended change with
``UPDATE_GOLDEN=1 pytest tests/unit/analysis/test_report.py``.
"""

import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from testbed.analysis import analyse, analyse_run, build_summary, print_report, render_markdown
from testbed.analysis.model import DnsOutage, NetworkSummary
from testbed.analysis.report import OPTIONAL_PLOTS, PLOTS

from .helpers import RunBuilder, fixed_run

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "report"
EXPECT = [
    {"check": "paris moves to nyc after the failure", "passed": True, "detail": "nyc"},
    {"check": "control plane converges within 0.2 s", "passed": False, "detail": "0.310 s"},
    {"check": "tokyo | never moves", "passed": None, "detail": ""},  # not evaluated
]


def test_fixed_run_figures(tmp_path):
    s = build_summary(fixed_run(tmp_path))
    paris = s.clients["paris"]
    assert (paris.site_before, paris.site_after) == ("lon", "lon")
    assert paris.dns.outages == [
        DnsOutage(start=9.804, end=10.604, duration=0.8, lost=3, recovered=True)
    ]
    assert paris.dns.late == 1
    assert paris.tcp.resets[0].after_event_s == 0.45
    assert [e.moved for e in s.events] == [["berlin", "paris"], ["berlin", "paris"]]
    assert [e.convergence_s for e in s.events] == [0.31, 0.2]


def test_report_golden(tmp_path):
    summary = build_summary(fixed_run(tmp_path), expect=EXPECT)
    text = render_markdown(summary, [name for name, _ in PLOTS if name not in OPTIONAL_PLOTS])
    path = GOLDEN / "site-failure.md"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_terminal_tables(tmp_path):
    summary = build_summary(fixed_run(tmp_path), expect=EXPECT)
    out = io.StringIO()
    print_report(summary, Console(file=out, width=140, color_system=None))
    text = out.getvalue()
    assert "paris" in text and "lon -> nyc" not in text  # paris is back on lon at the end
    # ... but the "moved to" column keeps where it went in between
    paris = next(line for line in text.splitlines() if "paris" in line)
    assert "moved to" in text and "nyc at 10.0 s, lon at 20.0 s" in paris
    tokyo = next(line for line in text.splitlines() if "tokyo" in line)
    assert "at 10.0 s" not in tokyo
    assert "berlin" in text and "0.310 s" in text
    assert "FAIL  control plane converges within 0.2 s: 0.310 s" in text
    assert "control plane converged in 0.310 s" in text


def test_analyse_writes_summary_report_and_plots(tmp_path):
    run = fixed_run(tmp_path)
    summary = analyse(run, expect=EXPECT)  # the JSON object written
    assert json.loads((run / "summary.json").read_text()) == summary
    assert summary["expect"] == EXPECT
    report = (run / "report.md").read_text()
    assert not (run / "plots" / "load.png").exists()  # no load records: no load plot
    assert "(plots/load.png)" not in report
    assert not (run / "plots" / "resolution.png").exists()  # no resolve records: none
    assert "(plots/resolution.png)" not in report
    for name, _ in PLOTS:
        if name in OPTIONAL_PLOTS:
            continue
        png = run / "plots" / name
        assert png.is_file() and png.stat().st_size > 1000, name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"(plots/{name})" in report


def test_analyse_an_empty_run(tmp_path):
    run = RunBuilder(tmp_path, duration=5.0).write()
    summary = analyse_run(run)
    assert summary.clients == {} and summary.events == []
    assert summary.network == NetworkSummary(convergence_s_max=None, route_changes=0)
    written = [name for name, _ in PLOTS if name not in OPTIONAL_PLOTS]
    assert all((run / "plots" / name).stat().st_size > 0 for name in written)
    assert "No client records." in (run / "report.md").read_text()


def test_analyse_refuses_an_extra_field_the_summary_does_not_have(tmp_path):
    run = fixed_run(tmp_path)
    with pytest.raises(ValueError, match="summary.json has no field 'bogus'"):
        analyse_run(run, extra={"bogus": 1}, plots=False)
    assert not (run / "summary.json").exists()


def test_analyse_keeps_extra_keys_and_can_skip_plots(tmp_path):
    run = fixed_run(tmp_path)
    summary = analyse_run(run, extra={"interrupted": "SIGINT"}, plots=False)
    assert summary.interrupted == "SIGINT"
    assert json.loads((run / "summary.json").read_text())["interrupted"] == "SIGINT"
    assert not (run / "plots").exists()
    assert "## Plots" not in (run / "report.md").read_text()
