"""Failure detection: the instant a daemon declared a failure, from its own records.

A failure is noticed by someone before anything moves: the upstream's bfdd
(its session went down, RFC 5880), its bgpd (hold timer expired, RFC 4271;
a notification; the interface went down when the carrier was lost; the peer
closed the TCP connection after a crash), or the site's health agent (its
checks failed).  Each of them leaves a record with a millisecond timestamp
taken from the daemon's own log (``bgp.jsonl``: ``state`` records of
``source: "log"`` and ``bfd`` records; ``health.jsonl``: ``state`` records),
so detection is measured where it happens, not inferred from the clients.

:func:`declarations` turns those records into :class:`Declaration` values;
:func:`event_declarations` keeps the ones that concern one scenario event
(the sessions with the failed site, the two ends of a failed link, the
site's health agent) inside the event's window.  Operator actions
(``withdraw``, ``prepend``, ``med``, ``restore``...) need no detection:
nothing is returned for them.  All times here are wall-clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

from testbed.scenario.model import FAILURE_EVENTS

Record = Dict[str, Any]

#: bgpd's reasons for a session going down (FRR's ``peer_down_str``) -> how it was noticed.
BGPD_REASONS = {
    "hold timer expired": "hold-timer",
    "bfd down received": "bfd",
    "interface down": "interface-down",
    "bgp notification received": "notification",
    "bgp notification send": "notification-sent",
    "peer closed the session": "peer-closed",
}
#: Events whose effect someone must notice (the others are announced by the operator):
#: the event classes' ``failure`` flag.
FAILURES = frozenset(FAILURE_EVENTS)


@dataclass(frozen=True)
class Declaration:
    """A daemon declaring a session (or a site) down.

    Attributes:
        t: wall-clock time, from the daemon's log (ms) or the agent's record.
        router: where it was declared (the health agent: its site).
        peer: the session's other end (the agent: its site).
        daemon: ``bfdd``, ``bgpd`` or ``health-agent``.
        how: ``bfd``, ``hold-timer``, ``interface-down``, ``notification``
            (received), ``notification-sent`` (bgpd closing the session itself,
            e.g. with a Cease when bfdd told it BFD went down), ``peer-closed``,
            ``health-check``, or bgpd's reason as it logged it.
    """

    t: float
    router: str
    peer: str
    daemon: str
    how: str


def bgpd_how(reason: Optional[str]) -> str:
    """How bgpd noticed, from the reason of its ``%ADJCHANGE ... Down`` line."""
    text = (reason or "").strip()
    return BGPD_REASONS.get(text.lower(), text.lower() or "unknown")


def declarations(bgp: Iterable[Record], health: Iterable[Record] = ()) -> List[Declaration]:
    """Every declaration of a failure in a run's records, in time order.

    Args:
        bgp: ``bgp.jsonl`` records: bgpd's ``state`` records from its log whose
            session left Established, and bfdd's ``bfd`` records going ``down``.
        health: ``health.jsonl`` records: an agent's ``state`` record going ``down``.

    Returns:
        The declarations, sorted by time.
    """
    out: List[Declaration] = []
    for r in bgp:
        t, router, peer = r.get("t"), r.get("router"), r.get("peer")
        if not isinstance(t, (int, float)) or router is None or peer is None:
            continue
        if r.get("kind") == "bfd" and r.get("state") == "down":
            out.append(Declaration(float(t), str(router), str(peer), "bfdd", "bfd"))
        elif (
            r.get("kind") == "bgp"
            and r.get("event") == "state"
            and r.get("source") == "log"
            and r.get("previous") == "Established"
            and r.get("state") != "Established"
        ):
            how = bgpd_how(r.get("reason"))
            out.append(Declaration(float(t), str(router), str(peer), "bgpd", how))
    for r in health:
        t, site = r.get("t"), r.get("site")
        down = r.get("event") == "state" and r.get("state") == "down" and not r.get("shutdown")
        if down and isinstance(t, (int, float)) and site is not None:
            out.append(Declaration(float(t), str(site), str(site), "health-agent", "health-check"))
    return sorted(_bfd_first(out), key=lambda d: (d.t, d.router, d.peer, d.daemon))


#: bgpd acting on bfdd's word logs within this many seconds of bfdd's own line.
BFD_ACTED_S = 0.05


def _bfd_first(decls: List[Declaration]) -> List[Declaration]:
    """Credit bfdd with what bgpd did on its word, at the earlier of the two stamps.

    When BFD declares a session down, bfdd tells bgpd (through zebra), and
    bgpd closes the session with a Cease (``BGP Notification send``) or says
    ``BFD down received``.  Each daemon stamps its own log line, and bfdd
    writes its line after it has told bgpd: bgpd's line can carry the earlier
    millisecond.  So a bgpd declaration on the same session within
    :data:`BFD_ACTED_S` of bfdd's is bgpd acting on BFD (``how`` ``bfd``), and
    bfdd's declaration takes the earlier time.
    """
    out = list(decls)
    for i, bfd in enumerate(out):
        if bfd.daemon != "bfdd":
            continue
        for j, bgp in enumerate(out):
            same = (bgp.router, bgp.peer) == (bfd.router, bfd.peer)
            caused = bgp.how in ("bfd", "notification-sent")
            if bgp.daemon == "bgpd" and same and caused and abs(bgp.t - bfd.t) <= BFD_ACTED_S:
                out[j] = Declaration(bgp.t, bgp.router, bgp.peer, "bgpd", "bfd")
                bfd = Declaration(min(bfd.t, bgp.t), bfd.router, bfd.peer, "bfdd", "bfd")
                out[i] = bfd
    return out


def concerns(decl: Declaration, event: Record) -> bool:
    """True when ``decl`` is about what ``event`` failed.

    ``fail_site``: a session with the site (seen from its upstreams), or its
    health agent; ``kill_service``: the site's health agent; ``backend``
    going down: any site's health agent (each depends on it); ``link`` going
    down or blackholed: a session between its two ends.
    """
    kind, target = event.get("event"), str(event.get("target") or "")
    if kind == "fail_site":
        return (
            decl.peer == target
            and decl.router != target
            or (decl.daemon == "health-agent" and decl.router == target)
        )
    if kind == "kill_service":
        return decl.daemon == "health-agent" and decl.router == target
    if kind == "backend":  # the shared backend: every site's agent notices
        down = (event.get("params") or {}).get("state") == "down"
        return down and decl.daemon == "health-agent"
    if kind == "link":
        params = event.get("params") or {}
        if params.get("state") not in ("down", "blackhole"):
            return False
        a, b = params.get("a"), params.get("b")
        return {decl.router, decl.peer} == {a, b}
    return False


def event_declarations(
    event: Record, t_next: float, decls: Iterable[Declaration]
) -> List[Declaration]:
    """The declarations that concern ``event`` in its window ``[t, t_next)``, in time order."""
    if event.get("event") not in FAILURES:
        return []
    t = float(event["t"])
    return [d for d in decls if t <= d.t < t_next and concerns(d, event)]
