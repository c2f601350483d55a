"""``anycast-testbed report``: a run folder's summary, report and plots made again."""

from __future__ import annotations

from pathlib import Path

import click

from testbed import console as ui


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--no-plots", is_flag=True, help="Do not redraw the plots.")
def report(run_dir: Path, no_plots: bool) -> int:
    """Re-render summary.json, report.md and plots/ of RUN_DIR from its records alone.

    The scenario's expectations (RUN_DIR/scenario.yaml) are evaluated again
    on the records; the old summary.json is not read for them.  Exit
    status: 0 every expectation met, 1 some failed, 2 bad input (a corrupt
    record or meta.json, a folder that cannot be written).
    """
    from testbed.analysis.report import print_report
    from testbed.scenario.reanalyse import reanalyse

    again = reanalyse(run_dir, plots=not no_plots)
    print_report(again.summary, ui.console)
    if again.checks is None:
        ui.err_console.print(f"no {run_dir / 'scenario.yaml'}: no expectations to evaluate")
    ui.console.print(f"report: {run_dir / 'report.md'}")
    return 0 if again.expectations_met else 1
