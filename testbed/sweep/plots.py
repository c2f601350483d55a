"""Sweep plots: a figure against each parameter, every run a point, a median line.

For each swept parameter, one PNG with a panel per figure (outage,
convergence by default).  The parameter's values are on the x axis (to scale
when they are all numbers, else in the order given); each combination of the
other parameters is one series, in its own colour: every repeat is a point,
and a line joins the medians, so the spread over repeats stays visible.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from statistics import median
from typing import Any, Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from testbed.sweep.grid import numeric, typed  # noqa: E402
from testbed.sweep.table import COMPLETE  # noqa: E402

Row = Dict[str, Any]
#: Figure column -> axis label, plotted by default.
METRICS: Dict[str, str] = {
    "max_outage_s": "max DNS outage of moved clients (s)",
    "convergence_s": "network convergence, slowest event (s)",
}
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#8c564b")
DPI = 110


def series(rows: Sequence[Row], param: str, others: Sequence[str]) -> Dict[Tuple, List[Row]]:
    """Completed rows grouped by the values of the other parameters.

    Args:
        rows: sweep rows.
        param: the parameter on the x axis.
        others: the other swept parameters.

    Returns:
        (value of each other parameter...) -> rows, in first-seen order.
    """
    out: Dict[Tuple, List[Row]] = {}
    for row in rows:
        if row.get("status") in COMPLETE and row.get(param) is not None:
            out.setdefault(tuple(str(row.get(o)) for o in others), []).append(row)
    return out


def medians(rows: Sequence[Row], param: str, metric: str, order: Sequence[str]) -> List[Tuple]:
    """(x value, median of the metric over repeats) for each value with data, in order."""
    out = []
    for value in order:
        ys = [r[metric] for r in rows if str(r.get(param)) == value and r.get(metric) is not None]
        if ys:
            out.append((value, median(ys)))
    return out


def _spread(xs: Sequence[float], width: float) -> List[float]:
    """Offsets that spread the points sharing an x around it (width apart)."""
    seen: Dict[float, int] = {}
    out = []
    for x in xs:
        k = seen.get(x, 0)
        seen[x] = k + 1
        out.append(k)
    return [width * (k - (xs.count(x) - 1) / 2) for k, x in zip(out, xs, strict=True)]


def _x(values: Sequence[str], to_scale: bool) -> Dict[str, float]:
    if to_scale:
        return {v: float(typed(v)) for v in values}
    return {v: float(i) for i, v in enumerate(values)}


def plot_param(
    rows: Sequence[Row],
    param: str,
    values: Sequence[str],
    others: Sequence[str],
    path: Path,
    metrics: Optional[Dict[str, str]] = None,
    title: str = "",
) -> Optional[Path]:
    """Plot the metrics against one parameter.

    Args:
        rows: the sweep's rows.
        param: the parameter on the x axis.
        values: its values, in the order given.
        others: the other parameters (one series per combination).
        path: the PNG to write.
        metrics: figure column -> axis label (default :data:`METRICS`).
        title: the figure's title.

    Returns:
        The PNG written, or None when no completed run has data.
    """
    metrics = metrics or METRICS
    groups = series(rows, param, others)
    if not groups:
        return None
    values = [str(v) for v in values]
    to_scale = numeric(values)
    xs = _x(values, to_scale)
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.2 * len(metrics), 3.8), squeeze=False)
    colours = itertools.cycle(PALETTE)
    jitter = 0.0 if to_scale else 0.04
    for (key, group), colour in zip(groups.items(), colours, strict=False):
        name = ", ".join(f"{o}={v}" for o, v in zip(others, key, strict=True)) or "all runs"
        for ax, metric in zip(axes[0], metrics, strict=True):
            pts = [(xs[str(r[param])], r[metric]) for r in group if r.get(metric) is not None]
            if not pts:
                continue
            offsets = _spread([x for x, _ in pts], jitter)
            ax.scatter(
                [x + d for (x, _), d in zip(pts, offsets, strict=True)],
                [y for _, y in pts],
                s=18,
                alpha=0.6,
                color=colour,
            )
            line = medians(group, param, metric, values)
            ax.plot(
                [xs[v] for v, _ in line],
                [m for _, m in line],
                "-o",
                ms=3,
                color=colour,
                label=f"{name} (median)",
            )
    for ax, label in zip(axes[0], metrics.values(), strict=True):
        ax.set_xlabel(param)
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if not to_scale:
            ax.set_xticks(list(xs.values()), values)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.suptitle(title or f"against {param}: every run a point, line through medians")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def plot_sweep(
    rows: Sequence[Row], params: Sequence[Tuple[str, Sequence[str]]], folder: Path
) -> List[Path]:
    """One PNG per swept parameter: ``FOLDER/by-KEY.png``.

    Args:
        rows: the sweep's rows.
        params: (key, values as typed) of every swept parameter.
        folder: where the PNGs go.

    Returns:
        The PNGs written.
    """
    out = []
    keys = [k for k, _ in params]
    for key, values in params:
        others = [k for k in keys if k != key]
        png = plot_param(rows, key, values, others, folder / f"by-{key}.png")
        if png:
            out.append(png)
    return out
