"""One run's figures for a sweep row, from its ``summary.json`` (and BGP counters).

Pure functions: a summary dict in, a flat dict of numbers out, so sweep rows
and experiment verdicts are tested on synthetic summaries.
"""

from __future__ import annotations

from pathlib import Path
from statistics import mean
from typing import Any, Dict, List, Optional, Sequence

Summary = Dict[str, Any]

#: The figure columns every sweep row has, in order (per-event ones follow).
FIGURES = (
    "moved",
    "max_outage_s",
    "mean_outage_s",
    "dns_lost",
    "tcp_resets",
    "convergence_s",
    "route_changes",
)


def moved_clients(summary: Summary) -> List[str]:
    """Clients some event moved, or whose site at the end differs from the start."""
    names = {c for e in summary.get("events", []) for c in e.get("moved", [])}
    for name, client in (summary.get("clients") or {}).items():
        before, after = client.get("site_before"), client.get("site_after")
        if before and after and before != after:
            names.add(name)
    return sorted(names)


def _round(x: Optional[float]) -> Optional[float]:
    return None if x is None else round(float(x), 3)


def event_columns(n_events: int) -> List[str]:
    """Per-event columns: network convergence and UPDATEs sent after event i."""
    cols: List[str] = []
    for i in range(n_events):
        cols += [f"convergence_e{i}_s", f"updates_e{i}"]
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
        ``route_changes`` (all routers, whole timeline), ``expect`` (passed/total),
        and per event ``convergence_eI_s`` and ``updates_eI``.
    """
    clients = summary.get("clients") or {}
    moved = moved_clients(summary)
    outages = [
        float(clients[c]["dns"]["max_outage_s"])
        for c in moved
        if c in clients and clients[c].get("dns", {}).get("max_outage_s") is not None
    ]
    events = summary.get("events") or []
    conv = [e.get("convergence_s") for e in events]
    known = [c for c in conv if c is not None]
    checks = summary.get("expect") or []
    row: Dict[str, Any] = {
        "moved": len(moved),
        "max_outage_s": _round(max(outages)) if outages else None,
        "mean_outage_s": _round(mean(outages)) if outages else None,
        "dns_lost": sum(int(c.get("dns", {}).get("lost", 0)) for c in clients.values()),
        "tcp_resets": sum(len(c.get("tcp", {}).get("resets", [])) for c in clients.values()),
        "convergence_s": _round(max(known)) if known else None,
        "route_changes": (summary.get("network") or {}).get("route_changes"),
        "expect": f"{sum(1 for c in checks if c.get('passed'))}/{len(checks)}",
    }
    for i in range(len(events) if n_events is None else n_events):
        row[f"convergence_e{i}_s"] = _round(conv[i]) if i < len(conv) else None
        row[f"updates_e{i}"] = updates[i] if i < len(updates) else None
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
