"""Evaluate a scenario's expectations on a run's summary.

:func:`evaluate` takes the ``expect`` checks and the summary the analysis
writes (``summary.json``) and returns one result per check: a human one-liner
(``paris moves to nyc``), whether it passed, and the figures behind it
(``paris: lon → nyc at event 0 (fail_site lon)``).  Pure: no network, no files.

The parts of the summary (:class:`~testbed.analysis.model.Summary`) used here::

    clients.NAME.site_before / site_after     site at the start / end of the run
    clients.NAME.dns.{sent, lost, max_outage_s}
    clients.NAME.tcp.reset                    streams reset (ECONNRESET/EPIPE)
    events[i].{kind, target, convergence_s, routers_changed, moved}
    events[i].moves                           {client: {"from": site, "to": site}}
    load.attack                               null without an attack
    load.clients.NAME.{inside, during.loss_pct, during.sent}
    load.cascade, load.cascades               null without load records
    resolution.methods.METHOD.failover        pooled over the events that took a site out
    resolution.methods.METHOD.failovers[]     per event: affected{client: failover_s}, window_s
    resolution.methods.METHOD.steady          clients{site, nearest}, nearest_share

``events[i]`` is the timeline's event ``i``.  :func:`evaluate` also takes
the summary as its JSON object (validated into the model first).  Client selectors:

- ``moved``: clients listed in any ``events[].moved``, or whose site at the
  end differs from the start; ``unmoved``: the others;
- ``affected``: clients whose site at the start is the target of a site
  event (any event but ``link``; ``busiest`` is already resolved in the
  summary);
  ``unaffected``: the others;
- ``all``, or a list of client names.

A check over an empty selection fails: "no moved clients" means the scenario
did not do what it was meant to.

``legit_loss`` selects ``attacked`` (the clients whose site at the attack's
start was in the attacked catchment, ``load.clients.NAME.inside``),
``unattacked``, ``all`` or a list of names, and judges their legitimate DNS
loss during the attack; ``cascade`` whether a site calm in the attack's first
phase was overloaded after a later event.  Both fail on a run without an
attack, saying so.  Attack events (``attack_start``, ``attack_stop``) are not
site events: they make no client ``affected``.

``failover``, ``still_failing`` and ``nearest_share`` judge one publishing
method's figures (``resolution.methods.METHOD``, from the ``resolve``
probe): the worst failover time of the clients a site failure affected,
pooled over the events (a client never answered by another site in the
event's window counts as over any bound), the pooled share still failing
1, 10 or 60 s after the event, the steady state's share of clients on their
nearest site.  They fail on a run without those figures, on a method the
run did not publish, and when no event took a site out from the method's
clients (``failover``, ``still_failing``), saying so.

The site of a client right after event ``i`` is ``events[i].moves[client].to``
when event ``i`` moved it, and its site after event ``i - 1`` (``site_before``
for the first) when not.  A summary without ``moves`` falls back on
``site_after`` when no later event moved the client, ``site_before`` when no
event up to ``i`` moved it, and unknown in between (a ``moves`` check with
``to`` then fails, saying so).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from pydantic import TypeAdapter

from testbed.analysis.model import EventSummary, MethodFailover, MethodSummary, Summary
from testbed.scenario.model import (
    NOT_SITE_EVENTS,
    CascadeCheck,
    Check,
    Convergence,
    DnsLoss,
    Failover,
    LegitLoss,
    MaxOutage,
    MethodCheck,
    Moves,
    NearestShare,
    Stays,
    StillFailing,
    TcpReset,
    ValleyFree,
)

Result = Dict[str, Any]
_CHECK = TypeAdapter(Check)


def evaluate(
    checks: Sequence[Union[Any, Dict[str, Any]]], summary: Union[Summary, Mapping[str, Any]]
) -> List[Result]:
    """Evaluate every check on a run's summary.

    Args:
        checks: the scenario's ``expect`` (models, or dicts as in the file).
        summary: the run's summary, or its JSON object (see the module
            docstring for the fields used).

    Returns:
        One ``{"check": str, "passed": bool, "detail": str}`` per check, in
        order (the fields of :class:`~testbed.analysis.model.ExpectResult`).
    """
    summary = Summary.of(summary)
    out: List[Result] = []
    for check in checks:
        model = _CHECK.validate_python(check) if isinstance(check, dict) else check
        passed, detail = _EVALUATORS[type(model)](model, summary)
        out.append({"check": describe(model), "passed": bool(passed), "detail": detail})
    return out


# ----------------------------------------------------------------- wording
def describe(check: Any) -> str:
    """The human one-liner for a check, e.g. ``no TCP reset on unmoved clients``.

    Args:
        check: a check model.

    Returns:
        The sentence, without figures.
    """
    if isinstance(check, Moves):
        text = f"{check.client} moves" + (f" to {check.to}" if check.to else "")
        return text + (f" at event {check.after}" if check.after is not None else "")
    if isinstance(check, Stays):
        return f"{check.client} stays on its site"
    if isinstance(check, MaxOutage):
        return f"max DNS outage of {_who(check.clients)} < {check.below:g} s"
    if isinstance(check, TcpReset):
        who = _who(check.clients, each=True)
        if check.min is None and check.max == 0:
            return f"no TCP reset on {_who(check.clients)}"
        if check.min is None:
            return f"at most {_resets(check.max)} per {who}"
        if check.max is None:
            return f"at least {_resets(check.min)} per {who}"
        return f"{check.min} to {_resets(check.max)} per {who}"
    if isinstance(check, DnsLoss):
        bounds = []
        if check.min_fraction is not None:
            bounds.append(f"≥ {_pct(check.min_fraction)}")
        if check.max_fraction is not None:
            bounds.append(f"≤ {_pct(check.max_fraction)}")
        return f"DNS loss of {_who(check.clients)} {' and '.join(bounds)}"
    if isinstance(check, Convergence):
        which = "every event" if check.event is None else f"event {check.event}"
        return f"convergence after {which} < {check.below:g} s"
    if isinstance(check, ValleyFree):
        return "every path is valley-free"
    if isinstance(check, LegitLoss):
        bounds = []
        if check.min_percent is not None:
            bounds.append(f"≥ {check.min_percent:g}%")
        if check.max_percent is not None:
            bounds.append(f"≤ {check.max_percent:g}%")
        return f"legitimate DNS loss of {_who(check.clients)} during the attack " + " and ".join(
            bounds
        )
    if isinstance(check, CascadeCheck):
        return "a cascade happens" if check.happens else "no cascade"
    if isinstance(check, Failover):
        return f"{check.method} failover of affected clients < {check.below:g} s"
    if isinstance(check, StillFailing):
        return (
            f"at most {_pct(check.max)} of affected {check.method} clients still failing "
            f"{check.after} s after the event"
        )
    if isinstance(check, NearestShare):
        return f"at least {_pct(check.min)} of {check.method} clients on their nearest site"
    return str(check)


def _who(selector: Union[str, List[str]], each: bool = False) -> str:
    if isinstance(selector, list):
        return ", ".join(selector) if not each else f"client ({', '.join(selector)})"
    if each:
        return "client" if selector == "all" else f"{selector} client"
    return f"{selector} clients"


def _resets(n: Optional[int]) -> str:
    return f"{n} TCP reset" + ("" if n == 1 else "s")


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.1f}%".replace(".0%", "%")


# ----------------------------------------------------------------- summary
def _event_name(event: EventSummary, index: int) -> str:
    return f"event {index} ({event.kind or '?'} {event.target or '?'})"


def moved_clients(summary: Summary) -> List[str]:
    """Clients some event moved, or whose site at the end differs from the start.

    Args:
        summary: the run's summary.

    Returns:
        Client names in the summary's order.
    """
    return summary.moved_clients()


def affected_clients(summary: Summary) -> List[str]:
    """Clients whose site at the start is the target of a site event.

    Args:
        summary: the run's summary.

    Returns:
        Client names in the summary's order.
    """
    targets = {e.target for e in summary.events if e.kind not in NOT_SITE_EVENTS}
    return [n for n, c in summary.clients.items() if c.site_before in targets]


def select(selector: Union[str, List[str]], summary: Summary) -> Tuple[List[str], List[str]]:
    """The clients a selector names.

    Args:
        selector: ``moved``, ``unmoved``, ``affected``, ``unaffected``, ``all``,
            or a list of names.
        summary: the run's summary.

    Returns:
        (clients in the summary, names of the list that the summary lacks).
    """
    clients = list(summary.clients)
    if isinstance(selector, list):
        return [n for n in selector if n in clients], [n for n in selector if n not in clients]
    if selector in ("moved", "unmoved"):
        chosen = set(moved_clients(summary))
    elif selector in ("affected", "unaffected"):
        chosen = set(affected_clients(summary))
    else:
        return clients, []
    if selector.startswith("un"):
        return [n for n in clients if n not in chosen], []
    return [n for n in clients if n in chosen], []


def _selection(
    selector: Union[str, List[str]], summary: Summary
) -> Tuple[List[str], Optional[str]]:
    """The selected clients, or a failure detail when there are none or some are missing."""
    names, missing = select(selector, summary)
    if missing:
        return [], f"not in the run: {', '.join(missing)}"
    if not names:
        return [], "no clients in the run" if selector == "all" else f"no {selector} clients"
    return names, None


def site_after_event(summary: Summary, client: str, index: int) -> Optional[str]:
    """The client's site right after event ``index`` (see the module docstring).

    Args:
        summary: the run's summary.
        client: the client's name.
        index: the event's index; -1 for the start of the timeline.

    Returns:
        The site, or None when the summary does not tell.
    """
    info = summary.clients.get(client)
    if index < 0:
        return info.site_before if info else None
    events = summary.events
    event = events[index] if index < len(events) else None
    if event is not None and event.moves is not None:
        if client in event.moves:
            return event.moves[client].to
        if client not in event.moved:
            return site_after_event(summary, client, index - 1)
    moves = [i for i, e in enumerate(events) if client in e.moved]
    if not [i for i in moves if i > index]:
        return info.site_after if info else None
    if not [i for i in moves if i <= index]:
        return info.site_before if info else None
    return None


# ----------------------------------------------------------------- checks
def _moves(check: Moves, summary: Summary) -> Tuple[bool, str]:
    events = summary.events
    index = check.after if check.after is not None else 0
    if check.client not in summary.clients:
        return False, f"{check.client} is not in the run"
    if index >= len(events):
        return False, f"event {index} did not happen (the run recorded {len(events)})"
    event = events[index]
    before = site_after_event(summary, check.client, index - 1)
    after = site_after_event(summary, check.client, index)
    move = (event.moves or {}).get(check.client)
    if move is not None and move.from_:
        before = move.from_
    where = _event_name(event, index)
    if check.client not in event.moved:
        return False, f"{check.client} did not move at {where}; site {before or '?'}"
    if after is None:
        if check.to is None:
            return True, f"{check.client}: {before or '?'} → ? at {where}"
        return False, (
            f"{check.client} moved at {where}, but its site after it is unknown "
            "(moved again later; the summary has no events[].moves)"
        )
    detail = f"{check.client}: {before or '?'} → {after} at {where}"
    if check.to is not None and after != check.to:
        return False, f"{detail}, not {check.to}"
    return True, detail


def _stays(check: Stays, summary: Summary) -> Tuple[bool, str]:
    info = summary.clients.get(check.client)
    if info is None:
        return False, f"{check.client} is not in the run"
    before, after = info.site_before, info.site_after
    at = [i for i, e in enumerate(summary.events) if check.client in e.moved]
    if before is None:
        return False, f"{check.client}: site unknown (no answer at the start)"
    if at:
        path = [before] + [str(site_after_event(summary, check.client, i) or "?") for i in at]
        where = ("event " if len(at) == 1 else "events ") + ", ".join(map(str, at))
        return False, f"{check.client}: {' → '.join(path)} (moved at {where})"
    if after != before:
        return False, f"{check.client}: {before} → {after or '?'}"
    return True, f"{check.client}: {before} throughout"


def _max_outage(check: MaxOutage, summary: Summary) -> Tuple[bool, str]:
    names, problem = _selection(check.clients, summary)
    if problem:
        return False, problem
    outage = {n: float(summary.clients[n].dns.max_outage_s) for n in names}
    worst = max(names, key=lambda n: outage[n])
    over = [n for n in names if outage[n] >= check.below]
    if not over:
        return True, f"max outage {outage[worst]:.2f} s ({worst}) < {check.below:g} s"
    listed = ", ".join(f"{n} {outage[n]:.2f} s" for n in sorted(over, key=lambda n: -outage[n]))
    return False, f"max outage {outage[worst]:.2f} s ({worst}) ≥ {check.below:g} s; over: {listed}"


def _tcp_reset(check: TcpReset, summary: Summary) -> Tuple[bool, str]:
    names, problem = _selection(check.clients, summary)
    if problem:
        return False, problem
    parts, passed = [], True
    for name in names:
        count = summary.clients[name].tcp.reset
        text = f"{name} {count}"
        if check.min is not None and count < check.min:
            passed, text = False, f"{text} (< {check.min})"
        elif check.max is not None and count > check.max:
            passed, text = False, f"{text} (> {check.max})"
        parts.append(text)
    return passed, "resets: " + ", ".join(parts)


def _dns_loss(check: DnsLoss, summary: Summary) -> Tuple[bool, str]:
    names, problem = _selection(check.clients, summary)
    if problem:
        return False, problem
    loss: Dict[str, float] = {}
    for name in names:
        dns = summary.clients[name].dns
        if dns.sent == 0:
            return False, f"{name} sent no DNS queries"
        loss[name] = dns.lost / dns.sent
    passed, parts = True, []
    if check.max_fraction is not None:
        worst = max(names, key=lambda n: loss[n])
        ok = loss[worst] <= check.max_fraction
        passed &= ok
        sign = "≤" if ok else ">"
        parts.append(f"max loss {_pct(loss[worst])} ({worst}) {sign} {_pct(check.max_fraction)}")
    if check.min_fraction is not None:
        least = min(names, key=lambda n: loss[n])
        ok = loss[least] >= check.min_fraction
        passed &= ok
        sign = "≥" if ok else "<"
        parts.append(f"min loss {_pct(loss[least])} ({least}) {sign} {_pct(check.min_fraction)}")
    return passed, "; ".join(parts)


def _convergence(check: Convergence, summary: Summary) -> Tuple[bool, str]:
    events = summary.events
    if check.event is not None:
        if check.event >= len(events):
            return False, f"event {check.event} did not happen (the run recorded {len(events)})"
        indices = [check.event]
    else:
        indices = list(range(len(events)))
        if not indices:
            return False, "the run recorded no events"
    timed: List[Tuple[float, int]] = []
    for i in indices:
        seconds = events[i].convergence_s
        if seconds is None:
            if events[i].routers_changed:
                return False, f"{_event_name(events[i], i)}: routes changed but did not converge"
            continue
        timed.append((float(seconds), i))
    if not timed:
        which = _event_name(events[indices[0]], indices[0]) if len(indices) == 1 else "any event"
        return True, f"no route changed after {which}"
    seconds, i = max(timed)
    ok = seconds < check.below
    sign = "<" if ok else "≥"
    return ok, f"max {seconds:.2f} s after {_event_name(events[i], i)} {sign} {check.below:g} s"


def _valley_free(check: ValleyFree, summary: Summary) -> Tuple[bool, str]:
    if not summary.policy:
        return False, "no policy check was made (the topology declares no relationships)"
    bad = [p for p in summary.policy if not p.passed]
    if not bad:
        checked = ", ".join(f"{p.phase}: {p.ok} of {p.paths} paths" for p in summary.policy)
        return True, f"no violation ({checked})"
    listed = bad[0].violations
    example = f"; e.g. {listed[0].router} {listed[0].prefix}: {listed[0].reason}" if listed else ""
    counts = ", ".join(f"{p.phase}: {p.violation_count}" for p in bad)
    return False, f"violations ({counts}){example}"


def attacked_clients(summary: Summary) -> List[str]:
    """Clients whose site at the attack's start was attacked (``load.clients.NAME.inside``).

    Args:
        summary: the run's summary.

    Returns:
        Client names in the summary's order (empty without an attack).
    """
    load = summary.load
    if load is None:
        return []
    return [n for n in summary.clients if n in load.clients and load.clients[n].inside]


#: Why an attack check fails on a run without an attack.
NO_ATTACK = "the run had no attack (no attack_start event, no attack records)"


def _legit_loss(check: LegitLoss, summary: Summary) -> Tuple[bool, str]:
    load = summary.load
    if load is None or load.attack is None:
        return False, NO_ATTACK
    catchment = f"attacked catchment: {', '.join(load.attack.attacked) or 'none'}"
    if isinstance(check.clients, list):
        names, problem = _selection(check.clients, summary)
        if problem:
            return False, problem
    else:
        chosen = set(attacked_clients(summary))
        names = [
            n
            for n in summary.clients
            if check.clients == "all" or (n in chosen) == (check.clients == "attacked")
        ]
        if not names:
            what = "no clients in the run" if check.clients == "all" else f"no {check.clients}"
            return False, f"{what} clients ({catchment})" if check.clients != "all" else what
    loss: Dict[str, float] = {}
    for name in names:
        figures = load.clients.get(name)
        if figures is None or not figures.during.sent or figures.during.loss_pct is None:
            return False, f"{name} sent no DNS queries during the attack"
        loss[name] = float(figures.during.loss_pct)
    passed, parts = True, []
    if check.max_percent is not None:
        worst = max(names, key=lambda n: loss[n])
        ok = loss[worst] <= check.max_percent
        passed &= ok
        sign = "≤" if ok else ">"
        parts.append(f"max loss {loss[worst]:.2f}% ({worst}) {sign} {check.max_percent:g}%")
    if check.min_percent is not None:
        least = min(names, key=lambda n: loss[n])
        ok = loss[least] >= check.min_percent
        passed &= ok
        sign = "≥" if ok else "<"
        parts.append(f"min loss {loss[least]:.2f}% ({least}) {sign} {check.min_percent:g}%")
    return passed, "; ".join(parts) + f" ({catchment})"


def _cascade(check: CascadeCheck, summary: Summary) -> Tuple[bool, str]:
    load = summary.load
    if load is None or load.attack is None:
        return False, NO_ATTACK
    if load.cascade is None:
        return False, "no load records: overload cannot be told"
    if load.cascades:
        found = "; ".join(
            f"{c.site} overloaded at t={c.overloaded_at:.1f} s after {c.after} "
            f"(t={c.t:.1f} s, {c.overloaded_s:g} s)"
            for c in load.cascades
        )
        return check.happens, f"cascade: {found}"
    first = load.phases[0].overloaded if load.phases else {}
    over = ", ".join(sorted(first)) or "none"
    later = len(load.phases) - 1
    return not check.happens, (
        f"no cascade: overloaded in the attack's first phase: {over}; "
        f"{later} later event{'' if later == 1 else 's'} during the attack"
    )


#: Why a resolution check fails on a run without the ``resolve`` probe's figures.
NO_RESOLUTION = (
    "the run has no resolution figures (no resolve records: the scenario needs resolve "
    "in traffic.kinds, the topology a service block)"
)
#: The most clients a ``nearest_share`` detail names that were not on their nearest site.
NAMED = 5


def _method(check: MethodCheck, summary: Summary) -> Tuple[Optional[MethodSummary], str]:
    """The check's method's figures, or a failure detail when the run has none."""
    resolution = summary.resolution
    if resolution is None or not resolution.methods:
        return None, NO_RESOLUTION
    figures = resolution.methods.get(check.method)
    if figures is None:
        return None, (
            f"{check.method} was not published in the run (publish: {resolution.publish or '?'}; "
            f"figures for {', '.join(resolution.methods)})"
        )
    return figures, ""


def _hit(method: str, figures: MethodSummary) -> Tuple[List[MethodFailover], str]:
    """The events that affected some of the method's clients, or why there are none."""
    hit = [f for f in figures.failovers if f.affected]
    if hit:
        return hit, ""
    if not figures.failovers:
        return [], "no event took a site out from any client"
    others = ", ".join(f"{f.kind or '?'} {f.site} (event {f.event})" for f in figures.failovers)
    return [], f"no {method} client was affected by the events that took a site out: {others}"


def _affected(check: Any, summary: Summary) -> Tuple[Any, List[Any], str]:
    """A method check's figures and the events that affected its clients, or the
    reason there are none (then the list is empty)."""
    figures, problem = _method(check, summary)
    if figures is None:
        return None, [], problem
    hit, problem = _hit(check.method, figures)
    return figures, hit, problem


def _failover_s(seconds: Optional[float]) -> str:
    return "never" if seconds is None else f"{seconds:.2f} s"


def _failover(check: Failover, summary: Summary) -> Tuple[bool, str]:
    figures, hit, problem = _affected(check, summary)
    if not hit:
        return False, problem
    several = len(hit) > 1
    times = {
        (f"{client} at event {f.event}" if several else client): c.failover_s
        for f in hit
        for client, c in f.affected.items()
    }

    def slowness(name: str) -> float:
        seconds = times[name]
        return math.inf if seconds is None else float(seconds)

    worst = max(times, key=slowness)
    over = sorted((n for n in times if slowness(n) >= check.below), key=slowness, reverse=True)
    head = f"worst failover {_failover_s(times[worst])} ({worst})"
    if not over:
        pooled = figures.failover
        median_ = pooled.failover_median_s if pooled is not None else None
        return True, (
            f"{head} < {check.below:g} s; median {_failover_s(median_)} "
            f"of {len(times)} affected client{'' if len(times) == 1 else 's'}"
        )
    listed = ", ".join(f"{n} {_failover_s(times[n])}" for n in over)
    return False, f"{head} ≥ {check.below:g} s; over: {listed}"


def _still_failing(check: StillFailing, summary: Summary) -> Tuple[bool, str]:
    figures, hit, problem = _affected(check, summary)
    if not hit:
        return False, problem
    key = f"failing_{check.after}s"
    measured = [f for f in hit if getattr(f, key) is not None]
    short = [f for f in hit if getattr(f, key) is None]
    if not measured:
        longest = max(float(f.window_s) for f in hit)
        return False, (
            f"not measured: no window after an event that took a site out from {check.method} "
            f"clients lasted {check.after} s (the longest: {longest:g} s)"
        )
    clients = sum(f.clients for f in measured)
    failing = sum(round(float(getattr(f, key)) * f.clients) for f in measured)
    share = failing / clients
    ok = share <= check.max
    sign = "≤" if ok else ">"
    detail = (
        f"{_pct(share)} ({failing} of {clients} affected) still failing {check.after} s after "
        f"the event {sign} {_pct(check.max)}"
    )
    if short:
        which = ", ".join(f"event {f.event} ({f.window_s:g} s)" for f in short)
        detail += f"; not counted, window shorter: {which}"
    return ok, detail


def _nearest_share(check: NearestShare, summary: Summary) -> Tuple[bool, str]:
    figures, problem = _method(check, summary)
    if figures is None:
        return False, problem
    steady = figures.steady
    judged = {
        n: c for n, c in steady.clients.items() if c.site is not None and c.nearest is not None
    }
    if steady.nearest_share is None or not judged:
        return False, (
            f"no {check.method} client had both a site and a known nearest site before the "
            "first event"
        )
    near = sum(1 for c in judged.values() if c.site == c.nearest)
    share = float(steady.nearest_share)
    ok = share >= check.min
    sign = "≥" if ok else "<"
    detail = (
        f"{_pct(share)} ({near} of {len(judged)} clients on their nearest site) "
        f"{sign} {_pct(check.min)}"
    )
    off = [
        f"{n} on {c.site} (nearest {c.nearest})" for n, c in judged.items() if c.site != c.nearest
    ]
    if off:
        more = f" and {len(off) - NAMED} more" if len(off) > NAMED else ""
        detail += f"; elsewhere: {', '.join(off[:NAMED])}{more}"
    return ok, detail


#: The evaluator of each kind of check (dispatch on the check model's class).
_EVALUATORS: Dict[type, Callable[[Any, Summary], Tuple[bool, str]]] = {
    Moves: _moves,
    Stays: _stays,
    MaxOutage: _max_outage,
    TcpReset: _tcp_reset,
    DnsLoss: _dns_loss,
    Convergence: _convergence,
    ValleyFree: _valley_free,
    LegitLoss: _legit_loss,
    CascadeCheck: _cascade,
    Failover: _failover,
    StillFailing: _still_failing,
    NearestShare: _nearest_share,
}
