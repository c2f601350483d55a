"""Analysis: pure functions from a run folder's records to figures, a report and plots.

Nothing here needs root or Mininet: it only reads ``RUN/meta.json`` and
``RUN/records/*.jsonl`` (docs/records.md) and writes into the run folder.

- :mod:`~testbed.analysis.load`: the records of a run folder
- :mod:`~testbed.analysis.catchment`: which site each client reached, over time
- :mod:`~testbed.analysis.outage`: DNS outage windows per client
- :mod:`~testbed.analysis.tcp`: TCP stream fates (survived, reset, timeout)
- :mod:`~testbed.analysis.convergence`: route convergence per event and router
- :mod:`~testbed.analysis.health`: health agents' state changes and who they moved
- :mod:`~testbed.analysis.summary`: all figures as one dict (``summary.json``)
- :mod:`~testbed.analysis.report`: ``report.md`` and terminal tables
- :mod:`~testbed.analysis.plots`: PNG plots
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Union

from testbed.analysis.load import RunRecords, load_run
from testbed.analysis.report import print_report, render_markdown
from testbed.analysis.summary import build_summary, summarise
from testbed.rundir import write_atomic

__all__ = [
    "RunRecords",
    "analyse",
    "build_summary",
    "load_run",
    "print_report",
    "render_markdown",
    "summarise",
]


def analyse(
    run_dir: Union[str, Path],
    expect: Optional[List[Any]] = None,
    extra: Optional[Dict[str, Any]] = None,
    plots: bool = True,
    min_lost: int = 1,
    judge: Optional[Callable[[Dict[str, Any]], List[Any]]] = None,
) -> Dict[str, Any]:
    """Analyse a run folder: write ``summary.json``, ``report.md`` and ``plots/*.png``.

    Args:
        run_dir: the run folder.
        expect: expectation results to keep in the summary and report (from
            the scenario package); None keeps none.
        extra: more top-level keys for the summary (e.g. ``interrupted``),
            added after the analysis (they replace computed keys of the same name).
        plots: False skips the PNG plots (faster; the report then links none).
        min_lost: outage windows with fewer lost queries are left out.
        judge: a function from the summary to expectation results (the
            scenario package's ``evaluate`` on its checks), called on the
            summary before ``extra``; its results replace ``expect``.  The
            records are read, and the report written, once.

    Returns:
        The summary, as written to ``summary.json``.
    """
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    summary = summarise(run, expect, min_lost)
    if judge is not None:
        summary["expect"] = list(judge(summary))
    summary.update(extra or {})
    # whole files or none (a full disk leaves the old ones), summary first
    write_atomic(
        run_dir / "summary.json",
        json.dumps(summary, indent=2, sort_keys=True, allow_nan=False) + "\n",
    )
    written: List[str] = []
    if plots:
        from testbed.analysis.plots import write_plots  # matplotlib only when plotting

        written = [p.name for p in write_plots(run, summary, run_dir / "plots")]
    write_atomic(run_dir / "report.md", render_markdown(summary, written))
    return summary
