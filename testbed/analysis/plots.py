"""PNG plots of a run: DNS timeline, TCP streams, route changes, catchment, load, resolution.

Each plot is a pure function of the run's records and summary, written with
matplotlib's Agg backend (no display needed).  Every site has one colour,
the same in every plot, with a legend; times are seconds from t0, and
events are vertical dashed lines labelled at the top.  On the DNS timeline,
the health agents' state changes and address removals are dotted magenta
lines, labelled the same way (``health lon up -> down (withdraw)``).
``load.png`` is written only for a run with load records, ``resolution.png``
(anycast versus GSLB: the share of the clients a site failure affected still
failing, per publishing method) only for one with ``resolve`` records; the
others always.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle  # noqa: E402

from testbed.analysis import catchment, outage, siteload, tcp  # noqa: E402
from testbed.analysis.load import RunRecords  # noqa: E402
from testbed.analysis.model import Summary  # noqa: E402
from testbed.analysis.report import event_label, health_label  # noqa: E402
from testbed.analysis.summary import event_times, timeline_until  # noqa: E402

#: Colour of answers without a site, and of unknown sites.
UNKNOWN = "#9e9e9e"
LOSS = "#d62728"
#: Colours given to sites in name order (red is kept for losses).
PALETTE = (
    "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf",
    "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#393b79",
)  # fmt: skip
ROUTE_COLOURS = {"added": "#2ca02c", "removed": LOSS, "nexthop": "#1f77b4"}
#: Marker and colour of each kind of TCP break.
BREAK_MARKERS = {"reset": ("X", "black"), "timeout": ("v", LOSS), "eof": ("s", "#555555")}
#: Colour of health agent marks (magenta: unlike the first six site colours and red).
HEALTH = "#c51b7d"
DPI = 110


def site_colours(sites: Sequence[str]) -> Dict[str, str]:
    """One colour per site, by sorted name, the same in every plot.

    Args:
        sites: the run's site names.

    Returns:
        site -> colour (the palette repeats beyond ten sites).
    """
    return {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(sorted(set(sites)))}


def _colour(colours: Dict[str, str], site: Optional[str]) -> str:
    return colours.get(site, UNKNOWN) if site else UNKNOWN


def _height(rows: int) -> float:
    return max(2.8, 0.5 * rows + 1.8)


def _label_levels(times: Sequence[float], span: float) -> List[int]:
    """Stagger levels of event labels: close events get the next level (0, 1, 2, 0...)."""
    levels: List[int] = []
    for i, t in enumerate(times):
        close = i > 0 and t - times[i - 1] < 0.25 * span
        levels.append((levels[-1] + 1) % 3 if close and levels else 0)
    return levels


def timeline_marks(summary: Summary, health: bool = False) -> List[Tuple[float, str, str]]:
    """The vertical marks of a plot: ``(t, label, kind)`` in time order.

    Args:
        summary: the run's summary.
        health: also mark the health agents' records (``health[]``; kind ``health``).

    Returns:
        Scenario events (kind ``event``), then at equal times health records.
    """
    marks = [(float(ev.t), 0, event_label(ev), "event") for ev in summary.events]
    if health:
        marks += [
            (float(h.t), 1, health_label(h), "health") for h in summary.health if h.t is not None
        ]
    return [(t, label, kind) for t, _, label, kind in sorted(marks)]


def _events(ax: Axes, run: RunRecords, summary: Summary, health: bool = False) -> int:
    """Vertical lines at the events (dashed) and health changes (dotted), labelled above the axes.

    Labels are staggered when close.

    Returns:
        Points of label height above the axes (for the title's padding).
    """
    low, high = ax.get_xlim()
    marks = [m for m in timeline_marks(summary, health) if m[2] == "event" or low <= m[0] <= high]
    span = max(run.end - run.t0, 1.0)
    levels = _label_levels([t for t, _, _ in marks], span)
    for (t, label, kind), level in zip(marks, levels, strict=True):
        colour, style = (HEALTH, ":") if kind == "health" else ("black", "--")
        ax.axvline(t, color=colour, linestyle=style, linewidth=1.2, alpha=0.8)
        ax.annotate(
            label, xy=(t, 1.0), xycoords=ax.get_xaxis_transform(),
            xytext=(2, 3 + 11 * level), textcoords="offset points", color=colour,
            fontsize=8, ha="left", va="bottom", annotation_clip=False,
        )  # fmt: skip
    return 14 + 11 * max(levels) if levels else 0


def _title(ax: Axes, text: str, labels: int) -> None:
    """The plot's title, above the event labels (``labels``: their height in points)."""
    ax.set_title(text, pad=6 + labels)


def _x_limits(ax: Axes, run: RunRecords) -> None:
    end = run.end - run.t0
    start = min(0.0, *_first_times(run))
    ax.set_xlim(start - 0.5, max(end, start + 1.0) + 0.5)
    ax.set_xlabel("time from start (s)")


def _first_times(run: RunRecords) -> List[float]:
    out = [rs[0]["t"] - run.t0 for rs in (*run.dns.values(), *run.tcp.values()) if rs]
    return out or [0.0]


def _site_legend(colours: Dict[str, str], used: Sequence[Optional[str]]) -> List[Any]:
    handles: List[Any] = [
        Patch(color=colours[s], label=f"site {s}") for s in sorted(colours) if s in set(used)
    ]
    if any(s is None or s not in colours for s in used):
        handles.append(Patch(color=UNKNOWN, label="site unknown"))
    return handles


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=11)
    ax.set_yticks([])


def plot_timeline(run: RunRecords, summary: Summary, path: Path) -> Path:
    """``timeline.png``: per client a row of DNS probes, coloured by the answering site.

    Answered queries are coloured ticks, lost queries red crosses (with a
    hollow circle in the site's colour if a late answer came), outage
    windows shaded red, events dashed lines, health agent changes dotted
    magenta lines (those after the x range, e.g. at teardown, are left out).

    Args:
        run: the run's records.
        summary: the run's summary.
        path: the PNG to write.

    Returns:
        ``path``.
    """
    clients = [c for c in run.clients if run.dns.get(c)]
    colours = site_colours(summary.sites)
    fig, ax = plt.subplots(figsize=(12, _height(len(clients))))
    used: List[Optional[str]] = []
    any_loss = any_late = False
    for y, c in enumerate(clients):
        qs = outage.queries(run.dns[c])
        figures = summary.clients.get(c)
        for w in figures.dns.outages if figures else []:
            end = w.end if w.end is not None else run.end - run.t0
            ax.add_patch(Rectangle((w.start, y - 0.4), end - w.start, 0.8,
                                   color=LOSS, alpha=0.12, linewidth=0))  # fmt: skip
        by_site: Dict[Optional[str], List[float]] = {}
        for q in qs:
            if q.answered:
                by_site.setdefault(q.site, []).append(q.t - run.t0)
        for site, xs in sorted(by_site.items(), key=lambda kv: str(kv[0])):
            used.append(site)
            ax.scatter(xs, [y] * len(xs), marker="|", s=140, color=_colour(colours, site))
        lost = [q.t - run.t0 for q in qs if not q.answered]
        if lost:
            any_loss = True
            ax.scatter(lost, [y] * len(lost), marker="x", s=30, color=LOSS, zorder=3)
        for q in qs:
            if q.late:
                any_late = True
                used.append(q.site)
                ax.scatter([q.t - run.t0], [y + 0.25], marker="o", s=18,
                           facecolors="none", edgecolors=_colour(colours, q.site))  # fmt: skip
    if clients:
        ax.set_yticks(range(len(clients)), clients)
        ax.set_ylim(-0.7, len(clients) - 0.3)
        ax.invert_yaxis()
    else:
        _empty(ax, "no DNS records")
    _x_limits(ax, run)
    labels = _events(ax, run, summary, health=True)
    handles = _site_legend(colours, used)
    if summary.health:
        handles.append(Line2D([], [], color=HEALTH, linestyle=":", label="health agent"))
    if any_loss:
        handles.append(Line2D([], [], marker="x", color=LOSS, linestyle="", label="lost query"))
        handles.append(Patch(color=LOSS, alpha=0.12, label="outage window"))
    if any_late:
        handles.append(Line2D([], [], marker="o", color=UNKNOWN, markerfacecolor="none",
                              linestyle="", label="late answer (lost, site shown)"))  # fmt: skip
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    _title(ax, "DNS probes: which site answered each query", labels)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def plot_tcp(run: RunRecords, summary: Summary, path: Path) -> Path:
    """``tcp.png``: per client and stream a lifeline coloured by site; resets and timeouts marked.

    Args:
        run: the run's records.
        summary: the run's summary.
        path: the PNG to write.

    Returns:
        ``path``.
    """
    colours = site_colours(summary.sites)
    rows = []
    for c in run.clients:
        fates = tcp.stream_fates(
            run.tcp.get(c, []), event_times(run), run.end, until=timeline_until(run)
        )
        rows += [(f"{c} #{f.stream}", f) for f in fates]
    fig, ax = plt.subplots(figsize=(12, _height(len(rows))))
    used: List[Optional[str]] = []
    kinds = set()
    for y, (_, f) in enumerate(rows):
        for line in f.lifelines:
            used.append(line.site)
            ax.broken_barh([(line.t_from - run.t0, max(line.t_to - line.t_from, 0.05))],
                           (y - 0.3, 0.6), color=_colour(colours, line.site))  # fmt: skip
        for b in f.breaks:
            kinds.add(b.kind)
            marker, colour = BREAK_MARKERS.get(b.kind, ("o", "black"))
            ax.scatter([b.t - run.t0], [y], marker=marker, s=70, color=colour, zorder=3)
    if rows:
        ax.set_yticks(range(len(rows)), [label for label, _ in rows])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.invert_yaxis()
    else:
        _empty(ax, "no TCP streams recorded")
    _x_limits(ax, run)
    labels = _events(ax, run, summary)
    handles = _site_legend(colours, used)
    for kind, (marker, colour) in BREAK_MARKERS.items():
        if kind in kinds:
            label = "closed by server (eof)" if kind == "eof" else kind
            handles.append(Line2D([], [], marker=marker, color=colour, linestyle="", label=label))
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    _title(ax, "TCP streams: connected site over time, resets and timeouts", labels)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def _route_raster(ax: Axes, run: RunRecords, routers: List[str]) -> set:
    """Route changes as ticks, one row per router; returns the kinds of change drawn."""
    index = {r: i for i, r in enumerate(routers)}
    kinds = set()
    for r in run.routes:
        change = str(r.get("change"))
        if change == "initial" or r.get("router") not in index:
            continue
        kinds.add(change)
        ax.scatter([r["t"] - run.t0], [index[r["router"]]], marker="|", s=200,
                   color=ROUTE_COLOURS.get(change, UNKNOWN))  # fmt: skip
    if routers:
        ax.set_yticks(range(len(routers)), routers)
        ax.set_ylim(-0.7, len(routers) - 0.3)
        ax.invert_yaxis()
    return kinds


#: At most this many events get a zoomed panel in routes.png.
MAX_ZOOMS = 4


def plot_routes(run: RunRecords, summary: Summary, path: Path) -> Path:
    """``routes.png``: a raster of route changes per router, by kind, with the events.

    Below the whole timeline, one zoomed panel per event after which routes
    changed (up to :data:`MAX_ZOOMS`), from the event to its convergence.

    Args:
        run: the run's records.
        summary: the run's summary.
        path: the PNG to write.

    Returns:
        ``path``.
    """
    routers = run.routers
    zooms = [ev for ev in summary.events if ev.convergence_s is not None]
    zooms = zooms[:MAX_ZOOMS]
    height = _height(len(routers))
    if zooms:
        fig = plt.figure(figsize=(12, 2 * height))
        grid = fig.add_gridspec(2, len(zooms), hspace=0.3, wspace=0.25)
        ax = fig.add_subplot(grid[0, :])
    else:
        fig, ax = plt.subplots(figsize=(12, height))
    kinds = _route_raster(ax, run, routers)
    if not routers:
        _empty(ax, "no route records")
    elif not kinds:
        ax.text(0.5, 0.5, "no route changed", transform=ax.transAxes, ha="center")
    _x_limits(ax, run)
    labels = _events(ax, run, summary)
    for k, ev in enumerate(zooms):
        zax = fig.add_subplot(grid[1, k])
        _route_raster(zax, run, routers)
        conv = ev.convergence_s or 0.0  # zooms hold only events with a convergence time
        margin = max(0.1 * conv, 0.02)
        zax.set_xlim(ev.t - margin, ev.t + conv + margin)
        zax.axvline(ev.t, color="black", linestyle="--", linewidth=1, alpha=0.7)
        zax.axvline(ev.t + conv, color=LOSS, linestyle=":", linewidth=1)
        zax.set_title(f"{event_label(ev)}\nconverged in {conv:.3f} s", fontsize=9)
        zax.set_xlabel("time from start (s)", fontsize=8)
        zax.tick_params(labelsize=7)
        if k:
            zax.set_yticklabels([])
        zax.grid(axis="x", alpha=0.3)
    handles = [
        Line2D(
            [],
            [],
            marker="|",
            markersize=12,
            color=ROUTE_COLOURS.get(k, UNKNOWN),
            linestyle="",
            label=f"route {k}",
        )  # fmt: skip
        for k in sorted(kinds)
    ]
    if zooms:
        handles.append(Line2D([], [], color=LOSS, linestyle=":", label="last change (zoom)"))
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    _title(ax, "Route changes to the anycast prefix, per router", labels)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def catchment_columns(run: RunRecords, summary: Summary) -> List[Tuple[str, Dict[str, Any]]]:
    """The catchment plot's columns: the site at the start, then after each event.

    Args:
        run: the run's records.
        summary: the run's summary.

    Returns:
        (column title, client -> site or None) pairs: ``site_before`` of each
        client, then per event the settled site before the next event (or the
        end), then the last site seen if no events.
    """
    clients = sorted(summary.clients)
    first = "before the first event" if summary.events else "first seen"
    columns = [(first, {c: summary.clients[c].site_before for c in clients})]
    times = event_times(run)
    segs = {c: catchment.segments(run.dns.get(c, [])) for c in clients}
    for i, ev in enumerate(summary.events):
        until = times[i + 1] if i + 1 < len(times) else None
        title = f"after t={ev.t:g} s\n{event_label(ev)}"
        settled = {c: catchment.site_after(segs[c], times[i], until) for c in clients}
        columns.append((title, settled))
    if not summary.events:
        columns.append(("at the end", {c: summary.clients[c].site_after for c in clients}))
    return columns


def plot_catchment(run: RunRecords, summary: Summary, path: Path) -> Path:
    """``catchment.png``: each client's site at the start and after each event.

    A grey box is a client that got no answer in that stretch; a black arrow
    a change of site.

    Args:
        run: the run's records.
        summary: the run's summary.
        path: the PNG to write.

    Returns:
        ``path``.
    """
    colours = site_colours(summary.sites)
    clients = sorted(summary.clients)
    columns = catchment_columns(run, summary)
    fig, ax = plt.subplots(figsize=(2.2 * len(columns) + 2.5, _height(len(clients))))
    used: List[Optional[str]] = []
    for y, c in enumerate(clients):
        previous: Optional[str] = None
        for k, (_, sites) in enumerate(columns):
            x = 2 * k
            site = sites[c]
            used.append(site)
            ax.add_patch(Rectangle((x, y - 0.35), 1, 0.7, color=_colour(colours, site)))
            ax.text(x + 0.5, y, site or "no answer", ha="center", va="center", color="white",
                    fontsize=9, fontweight="bold")  # fmt: skip
            if k:
                moved = site is not None and previous is not None and site != previous
                ax.add_patch(FancyArrowPatch((x - 0.95, y), (x - 0.05, y), arrowstyle="-|>",
                             mutation_scale=14, color="black" if moved else "#c0c0c0"))  # fmt: skip
            previous = site if site is not None else previous
    ax.set_xlim(-0.1, 2 * len(columns) - 0.9)
    if clients:
        ax.set_yticks(range(len(clients)), clients)
        ax.set_ylim(-0.7, len(clients) - 0.3)
        ax.invert_yaxis()
    else:
        _empty(ax, "no clients")
    ax.set_xticks([2 * k + 0.5 for k in range(len(columns))], [t for t, _ in columns], fontsize=8)
    ax.xaxis.tick_top()
    ax.tick_params(axis="x", length=0)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    handles = _site_legend(colours, used)
    handles.append(Line2D([], [], color="black", marker=">", label="changed site"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    ax.set_title("Catchment: which site each client reaches (DNS), settled after each event")
    return _save(fig, path)


#: The parts of an outage, in order, with their colours (:mod:`testbed.analysis.parts`).
PART_COLOURS = (
    ("lead_in_s", "last answer → event", "#cccccc"),
    ("detection_s", "detection", "#d62728"),
    ("control_plane_s", "control plane", "#ff7f0e"),
    ("fib_s", "FIB", "#2ca02c"),
    ("sampling_s", "sampling", "#1f77b4"),
)


def plot_parts(run: RunRecords, summary: Summary, path: Path) -> Path:
    """Each moved client's outage as a stacked bar of its parts, one bar per event and client."""
    bars = [
        (f"{client} @ {ev.t:.1f} s", p)
        for ev in summary.events
        for client, p in sorted(ev.parts.items())
    ]
    fig, ax = plt.subplots(figsize=(9, _height(max(len(bars), 2))))
    if not bars:
        _empty(ax, "no client moved")
        return _save(fig, path)
    for i, (_, p) in enumerate(bars):
        left = 0.0
        for field, label, colour in PART_COLOURS:
            width = getattr(p, field) or 0.0
            ax.barh(i, width, left=left, color=colour, label=label if i == 0 else None)
            left += width
    ax.set_yticks(range(len(bars)), [label for label, _ in bars])
    ax.invert_yaxis()
    ax.set_xlabel("seconds (from the last answer before the event)")
    resolution = summary.probe_interval_s
    note = f"; probe interval {resolution:g} s" if resolution else ""
    ax.set_title(f"outages in parts{note}")
    ax.legend(loc="lower right", fontsize="small")
    return _save(fig, path)


#: Legitimate and attack traffic in the load plot.
LEGIT = "#1f77b4"
ATTACK = "#ff7f0e"
DROPPED = "#7f0000"
CAPACITY = "black"


def capacity_pps(
    capacity: Optional[siteload.Capacity], series: Sequence[siteload.Sample]
) -> Tuple[Optional[float], str]:
    """A site's capacity in packets/s for the load plot, and its legend label.

    A bandwidth alone is turned into packets/s at the site's mean offered
    packet size (said in the label).

    Returns:
        (packets/s or None, label).
    """
    if capacity is None:
        return None, ""
    if capacity.packets is not None:
        return capacity.packets, f"capacity {capacity.packets:,.0f} packets/s"
    packets = sum(s.rx_packets for s in series)
    if capacity.bandwidth is None or not packets:
        return None, ""
    size = sum(s.rx_bytes for s in series) / packets
    pps = capacity.bandwidth * 1e6 / 8 / size
    return pps, f"capacity {capacity.bandwidth:g} Mbit/s ≈ {pps:,.0f} packets/s at {size:.0f} B"


def plot_load(run: RunRecords, summary: Summary, path: Path) -> Optional[Path]:
    """``load.png``: per site, offered packets/s over time, stacked legitimate vs attack.

    The split is the after-queue shares applied to the offered packets
    (:mod:`testbed.analysis.siteload`); the site's capacity is a black line,
    drops a dark red line, overloaded samples a red band along the top,
    events dashed lines (labelled on the top panel).

    Args:
        run: the run's records.
        summary: the run's summary.
        path: the PNG to write.

    Returns:
        ``path``, or None (nothing written) for a run without load records.
    """
    series = siteload.site_samples(run)
    if not series:
        return None
    caps = run.capacities
    fig, axes = plt.subplots(
        len(series), 1, figsize=(12, 2.4 * len(series) + 1.2), sharex=True, squeeze=False
    )
    labels = 0
    attack_seen = False
    for k, (site, samples) in enumerate(series.items()):
        ax = axes[k][0]
        xs: List[float] = []
        legit: List[float] = []
        attack: List[float] = []
        for smp in samples:  # a step per sample, held over its interval
            for t in (smp.t_from, smp.t_to):
                xs.append(t - run.t0)
                legit.append(smp.offered_legit / smp.dt)
                attack.append(smp.offered_attack / smp.dt)
        attack_seen = attack_seen or any(attack)
        ax.stackplot(xs, legit, attack, colors=[LEGIT, ATTACK], alpha=0.75,
                     labels=["legitimate", "attack"])  # fmt: skip
        drops = [(smp.t_from - run.t0, smp.t_to - run.t0, smp.dropped / smp.dt) for smp in samples]
        if any(d for _, _, d in drops):
            ax.plot([x for a, b, _ in drops for x in (a, b)],
                    [d for _, _, d in drops for _ in (0, 1)],
                    color=DROPPED, linewidth=1.2, label="dropped")  # fmt: skip
        over = False
        for smp in samples:
            if smp.overloaded:
                over = True
                ax.axvspan(smp.t_from - run.t0, smp.t_to - run.t0, ymin=0.95, color=LOSS,
                           alpha=0.9, linewidth=0)  # fmt: skip
        if over:
            ax.add_patch(Rectangle((0, 0), 0, 0, color=LOSS, label="overloaded"))
        cap, cap_label = capacity_pps(siteload.Capacity.of(caps.get(site)), samples)
        if cap is not None:
            ax.axhline(cap, color=CAPACITY, linewidth=1.2, label=cap_label)
        ax.set_ylabel(f"{site}\npackets/s")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
        _x_limits(ax, run)
        if k == 0:
            labels = _events(ax, run, summary)
        else:
            for t, _, _ in timeline_marks(summary):
                ax.axvline(t, color="black", linestyle="--", linewidth=1.0, alpha=0.6)
        if k < len(series) - 1:
            ax.set_xlabel("")
    what = "legitimate vs attack" if attack_seen else "legitimate"
    _title(axes[0][0], f"Offered load per site (packets/s, {what})", labels)
    return _save(fig, path)


#: A colour per publishing method (others: the site palette, in order).
METHOD_COLOURS = {"anycast": "#1f77b4", "gslb": "#ff7f0e"}
#: The x ticks of resolution.png's panels when their axis is logarithmic.
SYMLOG_TICKS = (0, 0.5, 1, 2, 5, 10, 20, 60, 120, 300, 600, 1200, 3600)
#: At most this many events get a panel in resolution.png.
MAX_FAILOVER_PANELS = 4


def plot_resolution(run: RunRecords, summary: Summary, path: Path) -> Optional[Path]:
    """``resolution.png``: share of the affected clients still failing vs seconds since the failure.

    One panel per event that took a site out (up to :data:`MAX_FAILOVER_PANELS`),
    one step line per publishing method (``series`` of
    :class:`~testbed.analysis.model.MethodFailover`); dotted lines at 1, 10 and
    60 s, and a grey dashed line at the service's TTL + health-check interval
    when the run has them.  A window longer than 10 s gets a logarithmic axis
    beyond 1 s, so a sub-second failover and a minute-long tail both show.

    Args:
        run: the run's records (unused: everything is in the summary).
        summary: the run's summary.
        path: the PNG to write.

    Returns:
        ``path``, or None (nothing written) for a run without ``resolve`` records.
    """
    resolution = summary.resolution
    if resolution is None or not resolution.methods:
        return None
    events = sorted({f.event for m in resolution.methods.values() for f in m.failovers})
    events = events[:MAX_FAILOVER_PANELS]
    panels = max(len(events), 1)
    fig, axes = plt.subplots(1, panels, figsize=(6.5 * panels, 4.2), squeeze=False)
    if not events:
        _empty(axes[0][0], "no event took a site out")
        axes[0][0].set_title("Clients still failing after a site failure")
        return _save(fig, path)
    ttl = resolution.ttl
    wait = None
    if ttl is not None:
        wait = float(ttl) + float(resolution.health_interval or 0)
    others = iter(PALETTE[2:])
    colours = {
        name: METHOD_COLOURS.get(name) or next(others, UNKNOWN) for name in resolution.methods
    }
    for k, index in enumerate(events):
        ax = axes[0][k]
        span = 0.0
        for name, m in resolution.methods.items():
            f = next((x for x in m.failovers if x.event == index), None)
            if f is None:
                continue
            span = max(span, float(f.window_s))
            if not f.series:
                continue
            xs = [float(p[0]) for p in f.series]
            ys = [float(p[1]) for p in f.series]
            label = f"{name} ({f.clients} affected)"
            ax.step(xs, ys, where="post", color=colours[name], linewidth=1.8, label=label)
        for x in (1, 10, 60):
            if x <= span:
                ax.axvline(x, color="#999999", linestyle=":", linewidth=1)
        if wait is not None and wait <= span:
            ax.axvline(wait, color="#555555", linestyle="--", linewidth=1,
                       label=f"TTL + health check ({wait:g} s)")  # fmt: skip
        ev = summary.events[index] if index < len(summary.events) else None
        title = event_label(ev) if ev is not None else f"event {index}"
        t = f" at {ev.t:.1f} s" if ev is not None else ""
        ax.set_title(f"{title}{t}", fontsize=10)
        ax.set_xlim(0, max(span, 1.0))
        if span > 10:  # sub-second anycast and minute-long GSLB tails on one axis
            ax.set_xscale("symlog", linthresh=1.0, linscale=0.6)
            marks = [x for x in SYMLOG_TICKS if x <= span]
            ax.set_xticks(marks, [f"{x:g}" for x in marks])
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("seconds since the failure")
        if k == 0:
            ax.set_ylabel("share of affected clients failing")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
    fig.suptitle("Anycast versus GSLB: clients still failing after a site failure")
    return _save(fig, path)


Plotter = Callable[[RunRecords, Summary, Path], Optional[Path]]
#: Plot file names and the functions that draw them, in report order (a plotter
#: returning None wrote nothing: ``load.png`` without load records).
PLOTTERS: Tuple[Tuple[str, Plotter], ...] = (
    ("timeline.png", plot_timeline),
    ("tcp.png", plot_tcp),
    ("routes.png", plot_routes),
    ("catchment.png", plot_catchment),
    ("parts.png", plot_parts),
    ("load.png", plot_load),
    ("resolution.png", plot_resolution),
)


def write_plots(run: RunRecords, summary: Summary, out_dir: Path) -> List[Path]:
    """Write every plot.

    Args:
        run: the run's records.
        summary: the run's summary (from :func:`testbed.analysis.summary.summarise`).
        out_dir: the folder to write into (created if missing), usually ``RUN/plots``.

    Returns:
        The PNG files written, in report order (``load.png`` only with load records,
        ``resolution.png`` only with ``resolve`` records).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [draw(run, summary, out_dir / name) for name, draw in PLOTTERS]
    return [p for p in written if p is not None]
