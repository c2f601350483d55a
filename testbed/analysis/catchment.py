"""Catchment: which site each client's DNS queries reached, over time.

A DNS answer names the site that answered (NSID).  Both ``ok`` and ``late``
answers are evidence of the site a query reached at its send time ``t``; a
``late`` answer is not service (see :mod:`testbed.analysis.outage`), but the
query still went there.  Consecutive answers from the same site form one
:class:`Segment`.  All times here are wall-clock, as in the records.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple

Record = Dict[str, Any]
#: Statuses of a DNS record that name the site that answered.
EVIDENCE = ("ok", "late")


class Segment(NamedTuple):
    """A run of answers from one site: first and last send time, and each answer's send time."""

    t_from: float
    t_to: float
    site: str
    times: Tuple[float, ...]

    @property
    def answers(self) -> int:
        """How many answers the segment holds."""
        return len(self.times)


def site_answers(dns: Iterable[Record]) -> List[Record]:
    """The DNS records that name a site (``ok`` or ``late`` with a site), sorted by send time.

    Args:
        dns: one client's DNS records, any order.

    Returns:
        The answers with a site, sorted by ``t`` then ``seq``.
    """
    answers = [r for r in dns if r.get("status") in EVIDENCE and r.get("site")]
    return sorted(answers, key=lambda r: (r["t"], r.get("seq", 0)))


def segments(dns: Iterable[Record]) -> List[Segment]:
    """A client's catchment over time.

    Args:
        dns: one client's DNS records, any order.

    Returns:
        Segments in time order; consecutive answers from the same site are
        merged, whatever losses lie between them.
    """
    out: List[Segment] = []
    for r in site_answers(dns):
        site = str(r["site"])
        if out and out[-1].site == site:
            last = out[-1]
            out[-1] = Segment(last.t_from, r["t"], site, (*last.times, r["t"]))
        else:
            out.append(Segment(r["t"], r["t"], site, (r["t"],)))
    return out


def site_at(segs: List[Segment], t: float) -> Optional[str]:
    """The site a client reached at time ``t``: the last site seen at or before ``t``.

    Args:
        segs: the client's segments (from :func:`segments`).
        t: wall-clock time.

    Returns:
        The site, or None if nothing was seen yet.
    """
    site = None
    for seg in segs:
        if seg.t_from > t:
            break
        site = seg.site
    return site


def site_before(segs: List[Segment], t: float) -> Optional[str]:
    """The last site seen strictly before ``t`` (e.g. before an event).

    Args:
        segs: the client's segments.
        t: wall-clock time of the event.

    Returns:
        The site, or None if no answer came before ``t``.
    """
    site = None
    for seg in segs:
        if seg.t_from >= t:
            break
        site = seg.site
    return site


def site_after(segs: List[Segment], t: float, until: Optional[float] = None) -> Optional[str]:
    """The settled site after ``t``: the last site seen in ``[t, until)``.

    Args:
        segs: the client's segments.
        t: wall-clock time of the event.
        until: the next event's time (None: to the end of the run).

    Returns:
        The site of the last answer in the window, or None if none was answered.
    """
    site = None
    for seg in segs:
        if until is not None and seg.t_from >= until:
            break
        if seg.t_to < t:
            continue
        i = bisect_left(seg.times, t)  # first answer at or after t
        if i < len(seg.times) and (until is None or seg.times[i] < until):
            site = seg.site
    return site


def first_site(segs: List[Segment]) -> Optional[str]:
    """The first site seen, None if none."""
    return segs[0].site if segs else None


def last_site(segs: List[Segment]) -> Optional[str]:
    """The last site seen, None if none."""
    return segs[-1].site if segs else None


class Share(NamedTuple):
    """A site's clients at one moment: how many, their share, their weight and its share."""

    clients: int
    share: float
    weight: float
    weight_share: float


def shares(
    sites: Mapping[str, Optional[str]], weights: Mapping[str, float]
) -> Tuple[Dict[str, Share], Share]:
    """Each site's share of the clients, by count and by weight.

    Args:
        sites: client -> its site then (None: no site answered it).
        weights: client -> its weight (a client not listed weighs 1).

    Returns:
        (site -> its share, sorted by site; the unanswered clients' share).
        Shares are of all clients (of all their weight; 0 when it is 0),
        so the sites' and the unanswered share add up to 1.
    """
    count = len(sites)
    total = sum(weights.get(c, 1) for c in sites)
    groups: Dict[Optional[str], List[str]] = {}
    for client, site in sites.items():
        groups.setdefault(site, []).append(client)

    def share(clients: List[str]) -> Share:
        weight = sum(weights.get(c, 1) for c in clients)
        return Share(
            len(clients),
            len(clients) / count if count else 0.0,
            weight,
            weight / total if total else 0.0,
        )

    named = sorted((s, cs) for s, cs in groups.items() if s is not None)
    per_site = {s: share(cs) for s, cs in named}
    return per_site, share(groups.get(None, []))
