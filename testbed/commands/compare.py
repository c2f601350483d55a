"""``anycast-testbed compare``: runs side by side, printed and written as Markdown."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import click

from testbed import console as ui
from testbed.errors import InputError


@click.command()
@click.argument(
    "run_dirs",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the comparison as Markdown here (default: compare.md in the last run).",
)
def compare(run_dirs: List[Path], out: Optional[Path]) -> None:
    """Compare runs side by side: per client, site, DNS outage and loss, TCP resets;
    anycast versus GSLB per publishing method when the runs have those figures.

    Example: anycast-testbed compare runs/...-blackhole runs/...-blackhole-healthcheck
    """
    from testbed.analysis.compare import (
        load_summaries,
        render_markdown,
        resolution_table,
        rich_table,
    )
    from testbed.rundir import check_out_file

    path = out or Path(run_dirs[-1]) / "compare.md"
    check_out_file(path, "--out" if out else "compare")
    summaries = load_summaries(run_dirs)  # a folder without a good summary.json: one line
    ui.console.print(rich_table(summaries, run_dirs))
    methods = resolution_table(summaries, run_dirs)
    if methods is not None:
        ui.console.print(methods)
    try:
        path.write_text(render_markdown(summaries, run_dirs), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", str(path)) from None
    ui.console.print(f"comparison: {path}")
