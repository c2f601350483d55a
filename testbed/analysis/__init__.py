"""Analysis: pure functions from a run folder's records to figures, a report and plots.

Nothing here needs root or Mininet: it only reads ``RUN/meta.json`` and
``RUN/records/*.jsonl`` (docs/records.md) and writes into the run folder.

- :mod:`~testbed.analysis.load`: the records of a run folder
- :mod:`~testbed.analysis.catchment`: which site each client reached, over time
- :mod:`~testbed.analysis.outage`: DNS outage windows per client
- :mod:`~testbed.analysis.tcp`: TCP stream fates (survived, reset, timeout)
- :mod:`~testbed.analysis.convergence`: route convergence per event and router
- :mod:`~testbed.analysis.health`: health agents' state changes and who they moved
- :mod:`~testbed.analysis.siteload`: load on the sites, the attack, the attacked catchment, cascades
- :mod:`~testbed.analysis.resolution`: anycast versus DNS-based GSLB (the ``resolve`` probe)
- :mod:`~testbed.analysis.model`: the summary's pydantic models (the format of ``summary.json``)
- :mod:`~testbed.analysis.schema`: its JSON Schema, generated from the models
- :mod:`~testbed.analysis.summary`: all figures as one :class:`Summary`
- :mod:`~testbed.analysis.report`: ``report.md`` and terminal tables
- :mod:`~testbed.analysis.plots`: PNG plots
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

from testbed.analysis.load import RunRecords, load_run
from testbed.analysis.model import Summary
from testbed.analysis.report import print_report, render_markdown
from testbed.analysis.summary import build_summary, summarise
from testbed.rundir import write_atomic

__all__ = [
    "RunRecords",
    "Summary",
    "analyse",
    "analyse_run",
    "build_summary",
    "load_run",
    "print_report",
    "render_markdown",
    "summarise",
]


def transport_csv(summary: Any) -> str:
    """The transport remedies as CSV (a row per event and kind); empty without any."""
    import csv
    import io
    from statistics import median

    columns = ["event", "event_kind", "target", "kind", "flows", "survived", "reset",
               "timed_out", "failed", "recovered", "recover_median_s", "recover_worst_s",
               "lost", "lost_unit", "longest_gap_s"]  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    rows = 0
    for i, event in enumerate(summary.events):
        for kind, o in event.transport.items():
            if not event.moved:
                continue
            if rows == 0:
                writer.writerow(columns)
            rec = sorted(o.recover_s)
            writer.writerow(
                [i, event.kind, event.target, kind, o.flows, o.survived, o.reset, o.timed_out,
                 o.failed, o.recovered, median(rec) if rec else "",
                 rec[-1] if rec else "", "" if o.lost is None else o.lost, o.lost_unit or "",
                 "" if o.longest_gap_s is None else o.longest_gap_s]
            )  # fmt: skip
            rows += 1
    return out.getvalue() if rows else ""


def analyse_run(
    run_dir: Union[str, Path],
    expect: Optional[List[Any]] = None,
    extra: Optional[Mapping[str, Any]] = None,
    plots: bool = True,
    min_lost: int = 1,
    judge: Optional[Callable[[Summary], List[Any]]] = None,
) -> Summary:
    """Analyse a run folder: write ``summary.json``, ``report.md`` and ``plots/*.png``.

    Args:
        run_dir: the run folder.
        expect: expectation results to keep in the summary and report (from
            the scenario package); None keeps none.
        extra: more summary fields, set after the analysis (e.g.
            ``interrupted``; they replace computed values).
        plots: False skips the PNG plots (faster; the report then links none).
        min_lost: outage windows with fewer lost queries are left out.
        judge: a function from the summary to expectation results (the
            scenario package's ``evaluate`` on its checks), called on the
            summary before ``extra``; its results replace ``expect``.  The
            records are read, and the report written, once.

    Returns:
        The summary, as written to ``summary.json``.

    Raises:
        ValueError: ``extra`` names a field the summary does not have.
    """
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    summary = summarise(run, expect, min_lost)
    if judge is not None:
        summary.expect = list(judge(summary))
    for key, value in (extra or {}).items():
        if key not in Summary.model_fields:
            raise ValueError(f"summary.json has no field {key!r}")
        setattr(summary, key, value)  # validated (validate_assignment)
    # whole files or none (a full disk leaves the old ones), summary first
    write_atomic(run_dir / "summary.json", summary.to_json())
    written: List[str] = []
    if plots:
        from testbed.analysis.plots import write_plots  # matplotlib only when plotting

        written = [p.name for p in write_plots(run, summary, run_dir / "plots")]
    write_atomic(run_dir / "report.md", render_markdown(summary, written))
    table = transport_csv(summary)
    if table:
        write_atomic(run_dir / "transport.csv", table)
    return summary


def analyse(
    run_dir: Union[str, Path],
    expect: Optional[List[Any]] = None,
    extra: Optional[Mapping[str, Any]] = None,
    plots: bool = True,
    min_lost: int = 1,
    judge: Optional[Callable[[Summary], List[Any]]] = None,
) -> Dict[str, Any]:
    """:func:`analyse_run`, returning the summary as the JSON object written to ``summary.json``.

    For callers that want plain data (the CLI's ``report`` reads ``expect``
    from it); everything else reads the model from :func:`analyse_run`.
    ``judge`` gets the model.
    """
    return analyse_run(run_dir, expect, extra, plots, min_lost, judge).to_dict()
