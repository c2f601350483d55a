"""Experiment plots: measured points against what the literature expects.

Every run is a point; a line joins the medians over repeats.  Matplotlib's
Agg backend, PNG files.
"""

from __future__ import annotations

from pathlib import Path
from statistics import median
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#8c564b")
DPI = 110
#: (label, (low, high) expected window, measured values)
Case = Tuple[str, Tuple[float, float], Sequence[float]]
#: series label -> [(x, [measured values])]
Series = Dict[str, List[Tuple[float, Sequence[float]]]]


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def window_plot(cases: Sequence[Case], path: Path, ylabel: str) -> Optional[Path]:
    """Each case's measurements as points over its expected window (a grey bar).

    Args:
        cases: (label, expected window, measured values) per case.
        path: the PNG to write.
        ylabel: the y axis label (seconds).

    Returns:
        The PNG, or None when nothing was measured.
    """
    if not any(ms for _, _, ms in cases):
        return None
    fig, ax = plt.subplots(figsize=(1.6 * len(cases) + 2.5, 4))
    for i, (_, (low, high), measured) in enumerate(cases):
        ax.bar(
            i,
            high - low,
            bottom=low,
            width=0.5,
            color="#cccccc",
            label="expected" if i == 0 else None,
        )
        ax.scatter(
            [i] * len(measured),
            measured,
            color=PALETTE[0],
            zorder=3,
            s=22,
            label="measured" if i == 0 and measured else None,
        )
    ax.set_xticks(range(len(cases)), [c[0] for c in cases], rotation=15, fontsize=8)
    ax.set_ylabel(f"{ylabel} (s)")
    positive = all(low > 0 for _, (low, _), _ in cases) and all(
        m > 0 for _, _, ms in cases for m in ms
    )
    ax.set_yscale("log" if positive else "symlog")  # 0.1 s and 30 s on one axis
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _save(fig, path)


def series_plot(
    panels: Sequence[Tuple[str, Series]],
    path: Path,
    xlabel: str,
    title: str = "",
    refs: Optional[Sequence[float]] = None,
) -> Optional[Path]:
    """Panels of series: every run a point, a line through the medians.

    Args:
        panels: (y label, series) per panel.
        path: the PNG to write.
        xlabel: the x axis label.
        title: the figure's title.
        refs: y values to mark with dotted lines (e.g. multiples of MRAI).

    Returns:
        The PNG, or None when nothing was measured.
    """
    if not any(pts for _, series in panels for pts in series.values()):
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4), squeeze=False)
    for ax, (ylabel, series) in zip(axes[0], panels, strict=True):
        for colour, (name, pts) in zip(PALETTE * 3, series.items(), strict=False):
            xs = [x for x, ys in pts for _ in ys]
            ys = [y for _, vals in pts for y in vals]
            ax.scatter(xs, ys, s=16, alpha=0.6, color=colour)
            line = [(x, median(vals)) for x, vals in pts if vals]
            ax.plot(
                [x for x, _ in line], [m for _, m in line], "-o", ms=3, color=colour, label=name
            )
        for y in refs or ():
            ax.axhline(y, ls=":", lw=0.8, color="#555555")
        ticks = sorted({x for pts in series.values() for x, _ in pts})
        ax.set_xticks(ticks, [f"{x:g}" for x in ticks])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    return _save(fig, path)
