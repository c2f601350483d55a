"""Shares, moves and the playbook table, from what the runner saw (pure).

The runner hands over, per step, each client's site after the action and
after the revert (None: no site answered) and the convergence it measured
(:class:`Observation`); :func:`build_playbook` turns them into the
:class:`~testbed.playbook.model.Playbook`, and :func:`table_rows` into the
rows the terminal table, the Markdown file and the CSV share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from testbed.playbook.model import Action, Client, Move, Playbook, Shares, Step, Timings

#: client -> the site that answered it (None: none did).
Catchment = Mapping[str, Optional[str]]
#: The matrix's column of the spread before any action.
BASELINE = "baseline"


@dataclass
class Observation:
    """What the runner saw for one step (site, action)."""

    site: str
    action: Action
    after: Dict[str, Optional[str]]
    back: Dict[str, Optional[str]]
    converged: bool = True
    converge_s: float = 0.0
    routers_changed: int = 0
    no_route: List[str] = field(default_factory=list)
    revert_converged: bool = True
    revert_s: float = 0.0

    @property
    def label(self) -> str:
        """``SITE ACTION``."""
        return f"{self.site} {self.action.name}"


def shares(sites: Sequence[str], catchment: Catchment, weights: Mapping[str, float]) -> Shares:
    """How ``catchment`` spreads the clients' weight (and count) over ``sites``.

    Args:
        sites: every site, in order (each gets an entry, 0 if it serves nobody).
        catchment: client -> site (None: no answer); a site not in ``sites``
            is counted under its own name after them.
        weights: client -> weight.
    """
    total = sum(weights[c] for c in catchment)
    count = len(catchment)
    by_weight: Dict[str, float] = {s: 0.0 for s in sites}
    by_count: Dict[str, float] = {s: 0.0 for s in sites}
    lost = 0.0
    unanswered = 0
    for client, site in catchment.items():
        if site is None:
            lost += weights[client]
            unanswered += 1
            continue
        by_weight[site] = by_weight.get(site, 0.0) + weights[client]
        by_count[site] = by_count.get(site, 0.0) + 1
    return Shares(
        weights=by_weight,
        shares={s: (w / total if total else 0.0) for s, w in by_weight.items()},
        client_shares={s: (n / count if count else 0.0) for s, n in by_count.items()},
        no_answer=lost / total if total else 0.0,
        unanswered=unanswered,
    )


def moves(before: Catchment, after: Catchment, weights: Mapping[str, float]) -> List[Move]:
    """The clients whose site differs between ``before`` and ``after``, in client order."""
    return [
        Move(client=c, weight=weights[c], from_site=before.get(c), to_site=after.get(c))
        for c in before
        if after.get(c) != before.get(c)
    ]


def make_step(
    obs: Observation, sites: Sequence[str], baseline: Catchment, weights: Mapping[str, float]
) -> Step:
    """One step of the playbook from its observation."""
    moved = moves(baseline, obs.after, weights)
    total = sum(weights[c] for c in baseline)
    moved_weight = sum(m.weight for m in moved)
    not_back = moves(baseline, obs.back, weights)
    return Step(
        label=obs.label,
        site=obs.site,
        action=obs.action,
        after=shares(sites, obs.after, weights),
        moved=moved,
        clients_moved=len(moved),
        weight_moved=moved_weight,
        share_moved=moved_weight / total if total else 0.0,
        converged=obs.converged,
        converge_s=round(obs.converge_s, 3),
        routers_changed=obs.routers_changed,
        no_route=list(obs.no_route),
        revert_converged=obs.revert_converged,
        revert_s=round(obs.revert_s, 3),
        back=not not_back,
        not_back=not_back,
    )


def build_playbook(
    *,
    topology: str,
    service: str,
    created: str,
    sites: Sequence[str],
    clients: Sequence[Tuple[str, str, float]],
    baseline: Catchment,
    observations: Sequence[Observation],
    skipped: Sequence[str] = (),
    interrupted: Optional[str] = None,
    timings: Optional[Timings] = None,
) -> Playbook:
    """The playbook's results.

    Args:
        topology: its name.
        service: the service address asked.
        created: when (ISO 8601).
        sites: every site, in topology order.
        clients: (name, AS, weight) of every client, in topology order.
        baseline: client -> site before any action.
        observations: one per step run, in order.
        skipped: actions left out, with why.
        interrupted: why it stopped early (None: it did not).
        timings: where the time went.
    """
    weights = {name: weight for name, _as, weight in clients}
    steps = [make_step(obs, sites, baseline, weights) for obs in observations]
    matrix: Dict[str, Dict[str, Optional[str]]] = {}
    for name, _as, _weight in clients:
        row: Dict[str, Optional[str]] = {BASELINE: baseline.get(name)}
        for obs in observations:
            row[obs.label] = obs.after.get(name)
        matrix[name] = row
    return Playbook(
        topology=topology,
        service=service,
        created=created,
        sites=list(sites),
        clients=[
            Client(name=n, as_name=a, weight=w, baseline=baseline.get(n)) for n, a, w in clients
        ],
        total_weight=sum(weights.values()),
        baseline=shares(sites, baseline, weights),
        steps=steps,
        matrix=matrix,
        skipped=list(skipped),
        interrupted=interrupted,
        timings=timings or Timings(),
    )


# ----------------------------------------------------------------- the table
def percent(share: float) -> str:
    """A share as the table shows it: ``37.5%``, ``0`` for nothing."""
    return f"{100 * share:.1f}%" if share else "0"


def share_columns(book: Playbook) -> List[str]:
    """The share columns: every site, then ``no answer`` if some client went unanswered."""
    lost = book.baseline.unanswered or any(s.after.unanswered for s in book.steps)
    extra = [s for step in book.steps for s in step.after.shares if s not in book.sites]
    return [*book.sites, *dict.fromkeys(extra), *(["no answer"] if lost else [])]


def _share_cells(spread: Shares, columns: Sequence[str]) -> List[str]:
    return [
        percent(spread.no_answer if c == "no answer" else spread.shares.get(c, 0.0))
        for c in columns
    ]


def table_header(book: Playbook) -> List[str]:
    """The table's header: action, the share columns, moved, weight moved, converged, back."""
    return [
        "action",
        *share_columns(book),
        "clients moved",
        "weight moved",
        "converged in",
        "back",
    ]


def step_moved(step: Step) -> str:
    """``2 (paris, frankfurt)``, or ``0``."""
    if not step.moved:
        return "0"
    names = ", ".join(m.client for m in step.moved[:4])
    more = f", +{len(step.moved) - 4}" if len(step.moved) > 4 else ""
    return f"{len(step.moved)} ({names}{more})"


def step_back(step: Step) -> str:
    """``yes``, or the clients that did not come back and where they are."""
    if step.back:
        return "yes" if step.revert_converged else "yes (not converged)"
    return "NO: " + ", ".join(f"{m.client} at {m.to_site or 'none'}" for m in step.not_back)


def converged_cell(step: Step) -> str:
    """``0.31 s`` (``no change``, ``NOT in time``), plus routers left without a route."""
    if not step.converged:
        text = "NOT in time"
    elif step.routers_changed == 0:
        text = "no change"
    else:
        text = f"{step.converge_s:.2f} s"
    if step.no_route:
        text += f" ({len(step.no_route)} routers without a route)"
    return text


def table_rows(book: Playbook, names: bool = True) -> List[List[str]]:
    """The table's rows (as :func:`table_header`): the baseline, then one per step.

    Args:
        book: the playbook.
        names: name the clients moved (``2 (paris, frankfurt)``); False: their
            number only (the terminal's narrower table).
    """
    columns = share_columns(book)
    rows = [[BASELINE, *_share_cells(book.baseline, columns), "", "", "", ""]]
    for step in book.steps:
        rows.append(
            [
                step.label,
                *_share_cells(step.after, columns),
                step_moved(step) if names else str(step.clients_moved),
                f"{step.weight_moved:g} ({percent(step.share_moved)})" if step.moved else "0",
                converged_cell(step),
                step_back(step),
            ]
        )
    return rows


def csv_rows(book: Playbook) -> List[List[object]]:
    """``playbook.csv``: a header, the baseline, one row per step (numbers as numbers)."""
    columns = share_columns(book)
    header: List[object] = [
        "label", "site", "action", "kind", "community",
        *[f"share_{c.replace(' ', '_')}" for c in columns],
        "clients_moved", "weight_moved", "share_moved", "moved",
        "converged", "converge_s", "routers_changed", "no_route",
        "revert_converged", "revert_s", "back", "not_back",
    ]  # fmt: skip

    def cells(spread: Shares) -> List[object]:
        return [
            round(spread.no_answer if c == "no answer" else spread.shares.get(c, 0.0), 6)
            for c in columns
        ]

    rows: List[List[object]] = [header]
    rows.append([BASELINE, "", "", "", "", *cells(book.baseline), *[""] * 12])
    for s in book.steps:
        rows.append(
            [
                s.label, s.site, s.action.name, s.action.kind, s.action.community or "",
                *cells(s.after),
                s.clients_moved, s.weight_moved, round(s.share_moved, 6),
                " ".join(m.client for m in s.moved),
                s.converged, s.converge_s, s.routers_changed, " ".join(s.no_route),
                s.revert_converged, s.revert_s, s.back,
                " ".join(m.client for m in s.not_back),
            ]
        )  # fmt: skip
    return rows


def problems(book: Playbook) -> List[str]:
    """One line per thing a reader must know: no convergence, clients not back, no answer."""
    out: List[str] = []
    lost = [c.name for c in book.clients if c.baseline is None]
    if lost:
        out.append(f"before any action, no site answered {', '.join(lost)}")
    for step in book.steps:
        if not step.converged:
            out.append(f"{step.label}: BGP did not converge in time after the action")
        if not step.revert_converged:
            out.append(f"{step.label}: BGP did not converge in time after the revert")
        if not step.back:
            where = ", ".join(
                f"{m.client} at {m.to_site or 'no site'} (not {m.from_site})" for m in step.not_back
            )
            out.append(f"{step.label}: after the revert, {where}")
    if book.interrupted:
        out.append(f"stopped early: {book.interrupted}")
    return out
