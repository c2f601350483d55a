"""One run's figures for a sweep row, from its ``summary.json`` (and BGP counters).

Pure functions: a summary (:class:`~testbed.analysis.model.Summary`) in, a
flat dict of numbers out, so sweep rows and experiment verdicts are tested on
synthetic summaries.
"""

from __future__ import annotations

from pathlib import Path
from statistics import mean
from typing import Any, Dict, List, Optional, Sequence

from testbed.analysis.model import Summary

#: The figure columns every sweep row has, in order (per-event ones follow).
FIGURES = (
    "moved",
    "max_outage_s",
    "mean_outage_s",
    "dns_lost",
    "tcp_resets",
    "convergence_s",
    "route_changes",
    "probe_interval_s",
)


#: Per-event parts of the slowest moved client's outage (summary ``events[].parts``).
PARTS = ("control_plane", "fib", "sampling")


def moved_clients(summary: Summary) -> List[str]:
    """Clients some event moved, or whose site at the end differs from the start, sorted."""
    return sorted(summary.moved_clients())


def _round(x: Optional[float]) -> Optional[float]:
    return None if x is None else round(float(x), 3)


def event_columns(n_events: int) -> List[str]:
    """Per-event columns: network convergence and UPDATEs sent after event i, when
    the failure was detected, and how long applying the event took."""
    cols: List[str] = []
    for i in range(n_events):
        cols += [f"convergence_e{i}_s", f"updates_e{i}", f"detection_e{i}_s", f"applied_e{i}_s"]
        cols += [f"{part}_e{i}_s" for part in PARTS]
    return cols


def run_figures(
    summary: Summary, updates: Sequence[Optional[int]] = (), n_events: Optional[int] = None
) -> Dict[str, Any]:
    """The figures of one run.

    Args:
        summary: the run's summary.json.
        updates: UPDATE messages sent after each event (see
            :func:`testbed.analysis.updates.updates_per_event`).
        n_events: how many per-event columns to fill (default: the run's events).

    Returns:
        ``moved`` (count), ``max_outage_s`` and ``mean_outage_s`` (the longest
        DNS outage of each moved client: its maximum and mean; None when no
        client moved), ``dns_lost`` and ``tcp_resets`` (all clients),
        ``convergence_s`` (the slowest event's network convergence),
        ``route_changes`` (all routers, whole timeline), ``probe_interval_s``
        (the resolution of the outage figures), ``expect`` (passed/total),
        and per event ``convergence_eI_s``, ``updates_eI``, ``detection_eI_s``
        (the first daemon's declaration of the failure, from its log; None
        for an operator action) and ``applied_eI_s`` (how long applying the
        event took: the uncertainty of its start), and the parts of the
        slowest moved client's outage: ``control_plane_eI_s``, ``fib_eI_s``,
        ``sampling_eI_s`` (None when no client moved).
    """
    clients = summary.clients
    moved = moved_clients(summary)
    outages = [float(clients[c].dns.max_outage_s) for c in moved]
    conv = [e.convergence_s for e in summary.events]
    known = [c for c in conv if c is not None]
    checks = summary.expect
    row: Dict[str, Any] = {
        "moved": len(moved),
        "max_outage_s": _round(max(outages)) if outages else None,
        "mean_outage_s": _round(mean(outages)) if outages else None,
        "dns_lost": sum(c.dns.lost for c in clients.values()),
        "tcp_resets": sum(len(c.tcp.resets) for c in clients.values()),
        "convergence_s": _round(max(known)) if known else None,
        "route_changes": summary.network.route_changes,
        "probe_interval_s": _round(summary.probe_interval_s),
        "expect": f"{sum(1 for c in checks if c.passed)}/{len(checks)}",
    }
    for i in range(len(conv) if n_events is None else n_events):
        row[f"convergence_e{i}_s"] = _round(conv[i]) if i < len(conv) else None
        row[f"updates_e{i}"] = updates[i] if i < len(updates) else None
        event = summary.events[i] if i < len(summary.events) else None
        detected = event.detection if event is not None else None
        row[f"detection_e{i}_s"] = _round(detected.after_s) if detected else None
        row[f"applied_e{i}_s"] = _round(event.applied_s) if event is not None else None
        parts = event.parts if event is not None else {}
        slowest = max(parts.values(), key=lambda p: p.total_s or 0.0, default=None)
        for part in PARTS:
            value = getattr(slowest, f"{part}_s") if slowest is not None else None
            row[f"{part}_e{i}_s"] = _round(value)
    return row


def figures_of_run(run_dir: Path, summary: Summary, n_events: Optional[int] = None) -> Dict:
    """:func:`run_figures` of a run folder, with UPDATE counts read from its records.

    Args:
        run_dir: the run folder.
        summary: its summary.
        n_events: how many per-event columns to fill.

    Returns:
        The figures.
    """
    from testbed.analysis.load import load_run
    from testbed.analysis.summary import event_times
    from testbed.analysis.updates import updates_per_event

    run = load_run(run_dir)
    updates = updates_per_event(run.bgp, event_times(run))
    return run_figures(summary, updates, n_events)
