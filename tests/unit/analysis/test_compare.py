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
