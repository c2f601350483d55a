"""Side-by-side comparison of two runs' summaries."""

from __future__ import annotations

import json

from click.testing import CliRunner

from testbed.analysis.compare import cells, render_markdown
from testbed.analysis.model import Summary
from testbed.cli import cli


def summary(name: str, after: str, outage: float, lost: int, resets: int, moved: bool) -> dict:
    """A summary.json object with only what compare reads."""
    return {
        "scenario": name,
        "clients": {
            "tokyo": {
                "site_before": "tyo",
                "site_after": after,
                "dns": {"outage_s": outage, "lost": lost, "sent": 400},
                "tcp": {"reset": resets, "streams": 2},
            }
        },
        "events": [{"moved": ["tokyo"] if moved else []}],
    }


def test_cells_show_the_move_outage_loss_and_resets():
    s = Summary.model_validate(summary("blackhole-healthcheck", "nyc", 2.05, 41, 2, True))
    assert cells(s, "tokyo") == ["tyo -> nyc", "2.05 s", "41/400", "2/2"]
    assert cells(s, "paris") == ["-", "-", "-", "-"]


def test_markdown_puts_runs_side_by_side(tmp_path):
    a = Summary.model_validate(summary("blackhole", "tyo", 25.0, 500, 0, False))
    b = Summary.model_validate(summary("blackhole-healthcheck", "nyc", 2.05, 41, 2, True))
    md = render_markdown([a, b], [tmp_path / "a", tmp_path / "b"])
    assert "# Comparison: blackhole vs blackhole-healthcheck" in md
    assert "| tokyo | tyo | 25.00 s | 500/400 | 0/2 | tyo -> nyc | 2.05 s | 41/400 | 2/2 |" in md


def test_cli_compare_writes_compare_md_and_rejects_a_folder_without_summary(tmp_path):
    for name, s in (
        ("a", summary("blackhole", "tyo", 25.0, 500, 0, False)),
        ("b", summary("blackhole-healthcheck", "nyc", 2.05, 41, 2, True)),
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(s))
    result = CliRunner().invoke(cli, ["compare", str(tmp_path / "a"), str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "b" / "compare.md").read_text().startswith("# Comparison")
    (tmp_path / "c").mkdir()
    result = CliRunner().invoke(cli, ["compare", str(tmp_path / "c")])
    assert result.exit_code != 0


def test_resolution_figures_side_by_side(tmp_path):
    """Two runs of anycast-vs-gslb, TTL 5 and a run without resolve records."""
    from testbed.analysis import build_summary
    from testbed.analysis.compare import resolution_rows, resolution_table
    from tests.unit.analysis.helpers import fixed_run
    from tests.unit.analysis.test_resolution import both_run

    both = build_summary(both_run(tmp_path / "both"))
    short = build_summary(both_run(tmp_path / "short", duration=40.0))
    plain = build_summary(fixed_run(tmp_path / "plain"))
    rows = {row[0]: row[1:] for row in resolution_rows([both, short, plain])}
    assert list(rows) == [
        "service",
        "anycast: failover median / worst (s)",
        "anycast: still failing after 1 / 10 / 60 s",
        "anycast: queries lost",
        "anycast: nearest site",
        "gslb: failover median / worst (s)",
        "gslb: still failing after 1 / 10 / 60 s",
        "gslb: given the dead address after 1 / 10 / 60 s",
        "gslb: queries lost",
        "gslb: nearest site",
    ]
    assert rows["service"] == ["publish: both, TTL 5 s, health checks every 1 s"] * 2 + ["-"]
    assert rows["gslb: failover median / worst (s)"] == [
        "32.601 / 60.201",
        "never (1 of 2) / never (1 of 2)",
        "-",
    ]
    assert rows["gslb: still failing after 1 / 10 / 60 s"][:2] == [
        "100.0% / 50.0% / 50.0%",
        "100.0% / 50.0% / -",
    ]
    assert rows["gslb: given the dead address after 1 / 10 / 60 s"][0] == "2 / 1 / 1"
    assert rows["anycast: queries lost"][0] == "6 of 1,200"
    assert rows["anycast: nearest site"] == ["66.7% (2 of 3 clients)"] * 2 + ["-"]
    md = render_markdown([both, plain], [tmp_path / "a", tmp_path / "b"])
    assert "## Anycast versus GSLB" in md
    assert "| figure | anycast-vs-gslb | site-failure |" in md
    assert "| gslb: nearest site | 100.0% (3 of 3 clients) | - |" in md
    table = resolution_table([both, plain], [tmp_path / "a", tmp_path / "b"])
    assert table is not None and table.row_count == 10
    # no run with resolve records: no second table
    assert resolution_rows([plain]) == []
    assert resolution_table([plain], [tmp_path / "b"]) is None
    assert "Anycast versus GSLB" not in render_markdown([plain], [tmp_path / "b"])
