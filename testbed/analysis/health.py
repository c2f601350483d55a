"""Health agents in the analysis: their settings, every state change and what it did.

Reads the health agents' records (``health.jsonl``, docs/records.md):
``start`` gives an agent's settings, ``state`` a change of state (``up`` /
``down``) with the action applied, ``retry`` a change that went through only
later (the router did not answer at first), and ``address`` the removal of
the service address at a graceful stop (after the withdrawal and the drain).
A ``state`` record's ``held`` says that ``min_sites`` kept the site
announced; the ``retry`` that follows is the withdrawal going through later.

Each ``state`` change of site S at time t gets its effect on the catchment,
the way scenario events do (:mod:`testbed.analysis.summary`): from each
client's last site before t to its settled site in ``[t, t_next)``, where
``t_next`` is the next scenario event or health state change (of any site),
or the end of the run:

- ``moves``: the clients whose site changed (``{client: {"from", "to"}}``);
- ``stayed``: S's clients (last seen on S before t) still answered by S;
- ``unanswered``: S's clients that got no answer at all in the window -- a
  dead site still announced, the blackhole that MED demotion leaves when
  the other sites sit behind other upstreams (MED is only compared between
  routes from the same neighbouring AS).

The shutdown drain is not such a change: at the end of every run each agent
withdraws its site (a ``state`` record whose ``reason`` is the agent
stopping) after the probes have stopped, so no DNS answer follows it and
every client of the site would look unanswered.  A ``state`` record at or
after the end of the timeline (:attr:`RunRecords.end`, which leaves health
records out) or with that reason gets ``shutdown: true`` and no effect
fields, and is no cut for the windows of the others.

All times in the output are seconds from t0, rounded to the millisecond.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any, Dict, List, Optional

from testbed.analysis import catchment
from testbed.analysis.load import RunRecords
from testbed.analysis.model import (
    HealthAddress,
    HealthAgent,
    HealthEntry,
    HealthRetry,
    HealthState,
    Move,
)

#: The health records that go into the summary's ``health[]`` (not start/stop).
CHANGES = ("state", "retry", "address")
#: Settings an agent's ``start`` record carries.
SETTINGS = ("action", "interval", "rise", "fall", "checks", "drain", "min_sites")
#: How the ``reason`` of an agent's withdrawal at shutdown starts (testbed.health.agent).
STOPPING = "agent stopping"


def agents(run: RunRecords) -> Dict[str, HealthAgent]:
    """Each site's health agent settings, from its (last) ``start`` record.

    Args:
        run: the run's records.

    Returns:
        site -> ``{action, interval, rise, fall, checks, drain}`` (a field the
        record lacks is None), sorted by site.
    """
    out: Dict[str, HealthAgent] = {}
    for r in run.health:
        if r.get("event") == "start" and r.get("site"):
            out[str(r["site"])] = HealthAgent(**{k: r.get(k) for k in SETTINGS})
    return dict(sorted(out.items()))


def is_shutdown(run: RunRecords, record: Dict[str, Any]) -> bool:
    """True for a ``state`` record of the shutdown drain: the agent stopping, or at the end."""
    if record.get("event") != "state":
        return False
    if str(record.get("reason") or "").startswith(STOPPING):
        return True
    return float(record["t"]) >= run.end


def _effect(
    run: RunRecords, segs: Dict[str, List[catchment.Segment]], site: str, t: float, until: Any
) -> Dict[str, Any]:
    """The catchment effect of a change of ``site`` at ``t``, up to ``until``."""
    moves: Dict[str, Move] = {}
    stayed, unanswered = [], []
    for c in run.clients:
        frm = catchment.site_before(segs[c], t)
        to = catchment.site_after(segs[c], t, until)
        if frm is not None and to is not None and frm != to:
            moves[c] = Move(from_=frm, to=to)
        if frm == site and to == site:
            stayed.append(c)
        elif frm == site and to is None:
            unanswered.append(c)
    return {"moved": sorted(moves), "moves": moves, "stayed": stayed, "unanswered": unanswered}


def changes(
    run: RunRecords, segs: Optional[Dict[str, List[catchment.Segment]]] = None
) -> List[HealthEntry]:
    """The summary's ``health[]``: every state change, retry and address removal, in time order.

    Args:
        run: the run's records.
        segs: client -> catchment segments (computed from the DNS records if None).

    Returns:
        One entry per record: ``t``, ``site``, ``event`` and the record's own
        fields (:class:`~testbed.analysis.model.HealthState`: ``state,
        previous, action, applied, failures, reason, error, held, shutdown`` and,
        unless ``shutdown``, the effect ``moved, moves, stayed, unanswered``;
        :class:`~testbed.analysis.model.HealthRetry`: ``state, action,
        applied``; :class:`~testbed.analysis.model.HealthAddress`:
        ``address, removed, drain_s, error``).
    """
    if segs is None:
        segs = {c: catchment.segments(run.dns.get(c, [])) for c in run.clients}
    cuts = sorted(
        [float(e["t"]) for e in run.events]
        + [
            float(r["t"])
            for r in run.health
            if r.get("event") == "state" and not is_shutdown(run, r)
        ]
    )
    out: List[HealthEntry] = []
    for r in run.health:
        event = r.get("event")
        if event not in CHANGES or not r.get("site"):
            continue
        site, t = str(r["site"]), float(r["t"])
        common: Dict[str, Any] = {"t": run.rel(t), "site": site}
        if event == "state":
            shutdown = is_shutdown(run, r)
            effect: Dict[str, Any] = {}
            if not shutdown:  # the drain after the probes stopped has no measured effect
                i = bisect_right(cuts, t)
                effect = _effect(run, segs, site, t, cuts[i] if i < len(cuts) else None)
            out.append(
                HealthState(
                    **common,
                    **{
                        k: r.get(k)
                        for k in ("state", "previous", "action", "reason", "error", "held")
                    },
                    applied=list(r.get("applied") or []),
                    failures=list(r.get("failures") or []),
                    shutdown=shutdown,
                    **effect,
                )
            )
        elif event == "retry":
            out.append(
                HealthRetry(
                    **common,
                    state=r.get("state"),
                    action=r.get("action"),
                    applied=list(r.get("applied") or []),
                )
            )
        else:
            out.append(
                HealthAddress(
                    **common,
                    address=r.get("address"),
                    removed=list(r.get("removed") or []),
                    drain_s=r.get("drain_s"),
                    error=r.get("error"),
                )
            )
    return out
