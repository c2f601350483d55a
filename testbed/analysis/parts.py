"""An outage in its parts: detection, control plane, FIB, sampling.

One number, a client's outage, stands for several things that each have
their own reference.  For every client an event moved, this module splits
the time from the event to the client's first answer from its new site into:

``detection``
    event → the first daemon that declared the failure (:mod:`.detection`:
    bfdd, bgpd's hold timer or carrier loss, the health agent).  Operator
    actions (``withdraw``...) need none: the part is null and the control
    plane starts at the event.
``control_plane``
    → the last route change, in the event's window, of the routers on the
    client's path to its new site other than its access router (bgpd's
    decision and its routes' way through the network, MRAI and bgpd's work
    queue included; each router's time is when its kernel route changed,
    from netlink).
``fib``
    → the access router's own route change (netlink); 0 when its route did
    not change (its next hop still leads to the new site).
``sampling``
    → the first answer from the new site: the probe's interval (and the
    answer's round trip).

The four add up to ``total_s``, the time from the event to the first
answer.  The client's outage window (:mod:`.outage`) starts before the
event, at the last answer the client had (``lead_in_s``: up to one probe
interval), so ``outage_s = lead_in_s + total_s``.  Each part is measured to
the millisecond (daemon logs, netlink), except the ends of the outage, which
a probe brackets to its interval (``resolution_s``).  A part never runs
backwards: each boundary is the latest of itself and the one before (a
kernel that drops a dead route at carrier loss, before bgpd says so, counts
as 0 there).  All times are wall-clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from testbed.analysis.convergence import is_change
from testbed.analysis.detection import Declaration

Record = Dict[str, Any]


@dataclass(frozen=True)
class Parts:
    """One moved client's way from the event to its first answer (seconds).

    Attributes:
        client: the client.
        site_from: its site before the event.
        site_to: its site after.
        path: its routers to the new site, access router first, the site last.
        detection_s: event → declaration (None: an operator action, or nobody declared).
        detected_by: ``bfdd on t1 (session with east)``-like, None without a declaration.
        control_plane_s: → the path's last route change (access router left out).
        fib_s: → the access router's route change.
        sampling_s: → the first answer from the new site.
        total_s: event → that answer (the sum of the four).
        lead_in_s: the last answer before the event → the event.
        outage_s: the client's outage window around the event (None: no loss).
        resolution_s: how closely the probe brackets the outage's ends (its interval).
    """

    client: str
    site_from: Optional[str]
    site_to: Optional[str]
    path: List[str] = field(default_factory=list)
    detection_s: Optional[float] = None
    detected_by: Optional[str] = None
    control_plane_s: Optional[float] = None
    fib_s: Optional[float] = None
    sampling_s: Optional[float] = None
    total_s: Optional[float] = None
    lead_in_s: Optional[float] = None
    outage_s: Optional[float] = None
    resolution_s: Optional[float] = None


def route_state(routes: Iterable[Record], at: float) -> Dict[str, List[str]]:
    """Every router's next hops (``via``: node names) at time ``at``, from route records."""
    state: Dict[str, List[str]] = {}
    for r in routes:
        if r.get("router") is None or not isinstance(r.get("t"), (int, float)):
            continue
        if r["t"] > at and r.get("change") != "initial":
            continue
        state[str(r["router"])] = [str(v) for v in r.get("via") or []]
    return state


def path_to_site(
    state: Mapping[str, List[str]], start: str, sites: Sequence[str], limit: int = 64
) -> List[str]:
    """Routers from ``start`` to a site, following the first next hop of each route.

    Returns:
        ``[start, ..., site]``; shorter (without a site at the end) when a
        router has no route or the hops loop.
    """
    path = [start]
    while path[-1] not in sites and len(path) < limit:
        via = state.get(path[-1]) or []
        if not via or via[0] in path:
            break
        path.append(via[0])
    return path


def first_answer(dns: Iterable[Record], after: float, site: Optional[str]) -> Optional[float]:
    """Arrival of the earliest ``ok`` answer from ``site`` at or after ``after``."""
    best: Optional[float] = None
    for r in dns:
        if r.get("status") != "ok" or (site is not None and r.get("site") != site):
            continue
        at = float(r["t"]) + float(r.get("rtt") or 0.0)
        if at >= after and (best is None or at < best):
            best = at
    return best


def last_answer(dns: Iterable[Record], before: float) -> Optional[float]:
    """Arrival of the latest ``ok`` answer before ``before``."""
    best: Optional[float] = None
    for r in dns:
        if r.get("status") != "ok":
            continue
        at = float(r["t"]) + float(r.get("rtt") or 0.0)
        if at < before and (best is None or at > best):
            best = at
    return best


def _describe(decl: Declaration) -> str:
    if decl.daemon == "health-agent":
        return f"health agent of {decl.router} ({decl.how})"
    return f"{decl.daemon} on {decl.router} ({decl.how}, session with {decl.peer})"


def client_parts(
    client: str,
    event_t: float,
    t_next: float,
    moved: Mapping[str, Optional[str]],
    access: Optional[str],
    routes: Sequence[Record],
    dns: Sequence[Record],
    sites: Sequence[str],
    detected: Optional[Declaration],
    outage_window: Optional[tuple] = None,
    interval: Optional[float] = None,
) -> Parts:
    """Split one moved client's outage after one event.

    Args:
        client: the client.
        event_t: the event's wall-clock time.
        t_next: the end of the event's window (the next event, or the timeline's end).
        moved: ``{"from": site, "to": site}``.
        access: the client's access router (None: unknown, e.g. an old run).
        routes: every route record.
        dns: the client's DNS records.
        sites: the run's site names (where a path ends).
        detected: the first declaration of the failure, None if none.
        outage_window: (start, end) of the client's outage window around the event.
        interval: the probe's interval (s).

    Returns:
        The parts; None where a boundary is unknown.
    """
    site_to = moved.get("to")
    parts: Dict[str, Any] = {
        "client": client,
        "site_from": moved.get("from"),
        "site_to": site_to,
        "resolution_s": interval,
    }
    t_detect = event_t
    if detected is not None:
        t_detect = max(event_t, detected.t)
        parts["detection_s"] = t_detect - event_t
        parts["detected_by"] = _describe(detected)
    answer = first_answer(dns, event_t, site_to)
    if answer is not None and answer < t_next:
        parts["total_s"] = answer - event_t
    before = last_answer(dns, event_t)
    if before is not None:
        parts["lead_in_s"] = event_t - before
    if outage_window is not None:
        start, end = outage_window
        if end is not None:
            parts["outage_s"] = end - start
    if access is None:
        return Parts(**parts)
    in_window = [r for r in routes if is_change(r) and event_t <= r["t"] < t_next]
    state = route_state(routes, t_next)
    path = path_to_site(state, access, sites)
    parts["path"] = path
    t_cp = t_detect
    for r in in_window:
        if r["router"] in path[1:]:
            t_cp = max(t_cp, float(r["t"]))
    t_fib = t_cp
    for r in in_window:
        if r["router"] == access:
            t_fib = max(t_fib, float(r["t"]))
    parts["control_plane_s"] = t_cp - t_detect
    parts["fib_s"] = t_fib - t_cp
    if answer is not None and answer < t_next:
        parts["sampling_s"] = max(0.0, answer - t_fib)
    return Parts(**parts)
