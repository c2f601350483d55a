"""Load on the sites and the attack: rates, overload, the attacked catchment, who suffered.

Reads the load recorder's ``load-SITE.jsonl`` (cumulative counters about
every 0.25 s), the attack sources' ``attack-HOST.jsonl`` and ``meta.json``'s
``load`` block (docs/records.md), plus the DNS records and the events.

**Samples.**  Two consecutive records of a site make one :class:`Sample`: the
counters' differences over the interval between them.  A counter that went
down (a recorder or an interface started again) counts from zero.

**Offered, legitimate and attack.**  ``rx_packets``/``rx_bytes`` are
everything the site's uplinks received, *before* the queue: the offered
load.  The counters tell legitimate from attack packets (by source address)
only *after* the bandwidth queue.  A FIFO tail-drop queue (tbf) and a
packets/s policer are blind to the source: every packet offered in a sample
has the same chance of being dropped, so the after-queue shares are the
offered shares, and the offered packets are split by them.  In a sample in
which nothing passed the queue the previous sample's shares are kept (none
before: all legitimate).  Dropped packets are ``queue_drops + policed``.

**Overload.**  A sample is overloaded when its offered packets/s or Mbit/s
is above the site's capacity, or its drops are above 1% of its offered
packets (:data:`DROP_SHARE`); a site's overloaded seconds add up the lengths
of its overloaded samples.

**The attack** runs from each ``attack_start`` event to the next
``attack_stop`` (or the end of the run); without such events, from the
sources' first ``start`` record to their last ``stop``.  Its achieved rate
is the packets sent over that time; its peak the highest sum of the sources'
rates between their ``sent`` records.  The attack is cut into **phases** at
every other scenario event and every health agent state change inside it.
The **attacked catchment** is the set of sites that were offered more than
1% (:data:`ATTACKED_SHARE`) of the attack's packets in its first phase
(before any reaction), so the sites a withdrawal later pushes the attack
onto are outside it and their clients' suffering is visible as such.

**Legitimate service.**  Per client, its DNS queries sent before the attack
and during it (in its windows): loss % and median RTT; *inside* when its
site at the attack's start is attacked, *outside* otherwise; both groups'
queries pooled.

**Cascade.**  A site that was overloaded for less than
:data:`MIN_OVERLOAD_S` in the first phase and for at least that long in a
later phase: the event (withdraw, prepend, fail, a health agent's
withdrawal...) that began the phase pushed the overload onto it.

Times in the summary are seconds from t0, rounded to the millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median
from typing import Any, Dict, List, Optional, Sequence, Tuple

from testbed.analysis import catchment, outage
from testbed.analysis.health import is_shutdown
from testbed.analysis.load import RunRecords
from testbed.analysis.model import (
    AttackSource,
    AttackSummary,
    Cascade,
    ClientLoad,
    LegitFigures,
    LegitGroup,
    LoadPhase,
    LoadSummary,
    SiteCapacity,
    SiteLoad,
)
from testbed.scenario.model import ATTACK_EVENTS

Record = Dict[str, Any]
#: A sample whose drops exceed this share of its offered packets is overloaded.
DROP_SHARE = 0.01
#: A site offered more than this share of the attack's packets is attacked.
ATTACKED_SHARE = 0.01
#: Overload shorter than this in a phase does not count for a cascade (seconds).
MIN_OVERLOAD_S = 0.5
#: The counters of a load record.
COUNTERS = (
    "rx_packets",
    "rx_bytes",
    "legit_packets",
    "attack_packets",
    "queue_drops",
    "policed_packets",
    "answered_legit",
    "answered_attack",
)


def _served(now: Any, before: Any) -> Dict[str, int]:
    """Answers per server in one interval, from two records' cumulative ``served`` maps."""
    if not isinstance(now, dict):
        return {}
    old = before if isinstance(before, dict) else {}
    out = {}
    for server, value in now.items():
        n, b = _num(value) or 0.0, _num(old.get(server)) or 0.0
        out[str(server)] = int(n - b if n >= b else n)  # went down: from zero
    return out


def _num(x: Any) -> Optional[float]:
    """A JSON number as a float, None for anything else (booleans included)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x)


def _r(x: Optional[float], digits: int = 3) -> Optional[float]:
    return None if x is None else round(float(x), digits)


def _rel(t: float, t0: float) -> float:
    """A wall-clock time as seconds from t0, rounded to the millisecond."""
    return round(t - t0, 3)


# ------------------------------------------------------------------ samples
@dataclass(frozen=True)
class Capacity:
    """A site's capacity: ``bandwidth`` Mbit/s, ``packets`` packets/s (None: not limited)."""

    bandwidth: Optional[float] = None
    packets: Optional[float] = None
    queue: Optional[float] = None

    @classmethod
    def of(cls, block: Any) -> Optional[Capacity]:
        """The capacity of a ``meta.json`` ``load.capacity`` entry; None if it limits nothing."""
        if not isinstance(block, dict):
            return None
        cap = cls(
            _num(block.get("bandwidth")), _num(block.get("packets")), _num(block.get("queue"))
        )
        return cap if cap.bandwidth or cap.packets else None


@dataclass(frozen=True)
class Sample:
    """One site's counters over one interval ``[t_from, t_to]`` (wall-clock), as differences.

    Attributes:
        rx_packets, rx_bytes: offered (received on the uplinks, before the queue).
        legit_packets, attack_packets: to the site's prefix after the queue.
        dropped: ``queue_drops + policed_packets``.
        legit_share: the share of the offered packets that was legitimate
            (the after-queue share; see the module docstring).
        overloaded: above capacity, or drops above :data:`DROP_SHARE` of the offered.
    """

    t_from: float
    t_to: float
    rx_packets: int
    rx_bytes: int
    legit_packets: int
    attack_packets: int
    queue_drops: int
    policed: int
    answered_legit: int
    answered_attack: int
    legit_share: float
    overloaded: bool = False
    served: Dict[str, int] = field(default_factory=dict)

    @property
    def dt(self) -> float:
        """The interval's length (s)."""
        return self.t_to - self.t_from

    @property
    def mid(self) -> float:
        """The interval's middle (wall-clock)."""
        return (self.t_from + self.t_to) / 2

    @property
    def dropped(self) -> int:
        """Packets dropped by the queue and the policer."""
        return self.queue_drops + self.policed

    @property
    def pps(self) -> float:
        """Offered packets/s."""
        return self.rx_packets / self.dt

    @property
    def mbps(self) -> float:
        """Offered Mbit/s."""
        return self.rx_bytes * 8 / self.dt / 1e6

    @property
    def offered_legit(self) -> float:
        """Offered legitimate packets (estimated)."""
        return self.rx_packets * self.legit_share

    @property
    def offered_attack(self) -> float:
        """Offered attack packets (estimated)."""
        return self.rx_packets * (1.0 - self.legit_share)


def is_overloaded(
    rx_packets: int, rx_bytes: int, dropped: int, dt: float, capacity: Optional[Capacity]
) -> bool:
    """Whether a sample is overloaded: above capacity, or drops above 1% of the offered.

    Args:
        rx_packets: offered packets in the sample.
        rx_bytes: offered bytes.
        dropped: packets dropped by the queue and the policer.
        dt: the sample's length (s, > 0).
        capacity: the site's capacity (None: only drops count).

    Returns:
        True if overloaded.
    """
    if dropped > 0 and dropped > DROP_SHARE * rx_packets:
        return True
    if capacity is None:
        return False
    if capacity.packets is not None and rx_packets / dt > capacity.packets:
        return True
    return capacity.bandwidth is not None and rx_bytes * 8 / dt / 1e6 > capacity.bandwidth


def samples(records: Sequence[Record], capacity: Optional[Capacity] = None) -> List[Sample]:
    """One site's samples from its cumulative load records.

    Args:
        records: the site's ``load-SITE.jsonl`` records, sorted by ``t``.
        capacity: its capacity (for ``overloaded``).

    Returns:
        One sample per pair of consecutive records whose times differ, in time order.
    """
    out: List[Sample] = []
    prev: Optional[Record] = None
    share = 1.0
    for r in records:
        if _num(r.get("t")) is None:
            continue
        if prev is None:
            prev = r
            continue
        if float(r["t"]) <= float(prev["t"]):
            continue
        d: Dict[str, int] = {}
        for key in COUNTERS:
            now, before = _num(r.get(key)) or 0.0, _num(prev.get(key)) or 0.0
            d[key] = int(now - before if now >= before else now)  # went down: from zero
        passed = d["legit_packets"] + d["attack_packets"]
        if passed > 0:
            share = d["legit_packets"] / passed
        dt = float(r["t"]) - float(prev["t"])
        dropped = d["queue_drops"] + d["policed_packets"]
        out.append(
            Sample(
                t_from=float(prev["t"]),
                t_to=float(r["t"]),
                rx_packets=d["rx_packets"],
                rx_bytes=d["rx_bytes"],
                legit_packets=d["legit_packets"],
                attack_packets=d["attack_packets"],
                queue_drops=d["queue_drops"],
                policed=d["policed_packets"],
                answered_legit=d["answered_legit"],
                answered_attack=d["answered_attack"],
                legit_share=share,
                overloaded=is_overloaded(d["rx_packets"], d["rx_bytes"], dropped, dt, capacity),
                served=_served(r.get("served"), prev.get("served")),
            )
        )
        prev = r
    return out


def site_samples(run: RunRecords) -> Dict[str, List[Sample]]:
    """Every site's samples (sites with load records), sorted by site."""
    caps = run.capacities
    return {
        site: samples(records, Capacity.of(caps.get(site)))
        for site, records in sorted(run.load.items())
    }


def _sum_served(series: Sequence[Sample]) -> Dict[str, int]:
    """Answers per server over the samples."""
    out: Dict[str, int] = {}
    for sample in series:
        for server, n in sample.served.items():
            out[server] = out.get(server, 0) + n
    return dict(sorted(out.items()))


def within(series: Sequence[Sample], start: float, stop: float) -> List[Sample]:
    """The samples whose middle lies in ``[start, stop)``."""
    return [s for s in series if start <= s.mid < stop]


def overloaded_s(series: Sequence[Sample]) -> float:
    """Seconds of overloaded samples."""
    return sum(s.dt for s in series if s.overloaded)


def site_load(series: Sequence[Sample], capacity: Optional[Capacity], t0: float) -> SiteLoad:
    """One site's figures over its whole recording (``attack_received`` left null).

    Args:
        series: its samples.
        capacity: its capacity.
        t0: the timeline's start (wall-clock).

    Returns:
        The summary's entry.
    """
    total_t = sum(s.dt for s in series)
    offered = sum(s.rx_packets for s in series)
    bits = sum(s.rx_bytes for s in series) * 8
    legit = sum(s.offered_legit for s in series)
    dropped = sum(s.dropped for s in series)
    first = next((s.t_from for s in series if s.overloaded), None)
    return SiteLoad(
        capacity=SiteCapacity(
            bandwidth=capacity.bandwidth, packets=capacity.packets, queue=capacity.queue
        )
        if capacity
        else None,
        samples=len(series),
        peak_pps=_r(max((s.pps for s in series), default=0.0), 1),
        mean_pps=_r(offered / total_t if total_t else 0.0, 1),
        peak_mbps=_r(max((s.mbps for s in series), default=0.0)),
        mean_mbps=_r(bits / total_t / 1e6 if total_t else 0.0),
        offered=offered,
        offered_legit=round(legit),
        offered_attack=offered - round(legit),
        attack_share=_r((offered - legit) / offered) if offered else None,
        passed_legit=sum(s.legit_packets for s in series),
        passed_attack=sum(s.attack_packets for s in series),
        dropped=dropped,
        queue_drops=sum(s.queue_drops for s in series),
        policed=sum(s.policed for s in series),
        drop_share=_r(dropped / offered) if offered else None,
        answered_legit=sum(s.answered_legit for s in series),
        answered_attack=sum(s.answered_attack for s in series),
        served=_sum_served(series),
        overloaded_s=_r(overloaded_s(series)),
        first_overloaded=None if first is None else _rel(first, t0),
    )


# ------------------------------------------------------------------- attack
def attack_windows(run: RunRecords) -> List[Tuple[float, float]]:
    """The attack's windows ``(start, stop)``, wall-clock, in time order.

    From the ``attack_start``/``attack_stop`` events (a start without a stop
    runs to the end of the run); without them from the sources' records.
    """
    out: List[Tuple[float, float]] = []
    opened: Optional[float] = None
    for e in run.events:
        if e.get("event") == "attack_start" and opened is None:
            opened = float(e["t"])
        elif e.get("event") == "attack_stop" and opened is not None:
            out.append((opened, float(e["t"])))
            opened = None
    if opened is not None:
        out.append((opened, max(run.end, opened)))
    if out or not run.attack:
        return out
    starts = [float(r["t"]) for rs in run.attack.values() for r in rs if r.get("kind") == "start"]
    stops = [float(r["t"]) for rs in run.attack.values() for r in rs if r.get("kind") == "stop"]
    times = [float(r["t"]) for rs in run.attack.values() for r in rs]
    if not times:
        return []
    start = min(starts or times)
    stop = max(stops) if stops else max(run.end, max(times))
    return [(start, max(stop, start))]


def source(records: Sequence[Record], attackers: Dict[str, Any]) -> Tuple[AttackSource, Any]:
    """One source's figures (wall-clock times) and its attack kind, from its records."""
    start = next((r for r in records if r.get("kind") == "start"), {})
    stop = next((r for r in reversed(records) if r.get("kind") == "stop"), None)
    counted = [r for r in records if _num(r.get("sent")) is not None]
    last = counted[-1] if counted else {}
    rate = _num(start.get("rate"))
    return (
        AttackSource(
            as_=start.get("as") or attackers.get("as"),
            target=start.get("target"),
            rate=start.get("rate") if rate is not None else None,
            ramp=start.get("ramp") if _num(start.get("ramp")) is not None else None,
            size=start.get("size") if isinstance(start.get("size"), int) else None,
            sent=int(last.get("sent") or 0),
            errors=int(last.get("errors") or 0),
            start=_num(start.get("t")),
            stop=_num(stop.get("t")) if stop else None,
            reason=stop.get("reason") if stop else None,
        ),
        start.get("attack"),
    )


def peak_rate(attack: Dict[str, List[Record]]) -> Optional[float]:
    """The highest sum of the sources' rates between their ``sent`` records (packets/s).

    Each source's rate is constant between two consecutive records with
    ``sent`` (its ``start`` counts as 0 sent); the rates are added where
    the intervals overlap.
    """
    edges: List[Tuple[float, float]] = []
    for records in attack.values():
        prev: Optional[Tuple[float, float]] = None
        for r in records:
            sent = _num(r.get("sent"))
            if r.get("kind") == "start":
                sent = 0.0
            if sent is None:
                continue
            now = (float(r["t"]), sent)
            if prev is not None and now[0] > prev[0] and now[1] >= prev[1]:
                rate = (now[1] - prev[1]) / (now[0] - prev[0])
                edges += [(prev[0], rate), (now[0], -rate)]
            prev = now
    if not edges:
        return None
    edges.sort()
    best = running = 0.0
    for i, (t, delta) in enumerate(edges):
        running += delta
        if i + 1 < len(edges) and edges[i + 1][0] > t:  # a stretch of time at this rate
            best = max(best, running)
    return best


@dataclass(frozen=True)
class Phase:
    """A stretch of the attack: from ``start`` to ``stop`` (wall-clock), begun by ``after``."""

    start: float
    stop: float
    after: str
    event: Optional[int]


def phases(run: RunRecords, windows: Sequence[Tuple[float, float]]) -> List[Phase]:
    """The attack cut at every other event and health state change inside its windows.

    The first phase of each window is begun by ``attack start``.
    """
    cuts: List[Tuple[float, str, Optional[int]]] = []
    for i, e in enumerate(run.events):
        if e.get("event") in ATTACK_EVENTS:
            continue
        words = dict.fromkeys((e.get("event"), e.get("target")))
        label = " ".join(str(x) for x in words if x not in (None, "", "None"))
        cuts.append((float(e["t"]), label or "event", i))
    for r in run.health:
        if r.get("event") == "state" and r.get("site") and not is_shutdown(run, r):
            label = (
                f"health {r['site']} {r.get('previous')} -> {r.get('state')} ({r.get('action')})"
            )
            cuts.append((float(r["t"]), label, None))
    cuts.sort(key=lambda c: c[0])
    out: List[Phase] = []
    for start, stop in windows:
        at, after, event = start, "attack start", None
        for t, label, index in cuts:
            if start < t < stop:
                out.append(Phase(at, t, after, event))
                at, after, event = t, label, index
        out.append(Phase(at, stop, after, event))
    return out


# ---------------------------------------------------------------- clients
def legit_figures(queries: Sequence[outage.Query]) -> LegitFigures:
    """Sent, lost, loss % and median RTT (ms) of some legitimate queries."""
    sent = len(queries)
    lost = sum(1 for q in queries if not q.answered)
    rtts = [q.answered_at - q.t for q in queries if q.answered_at is not None]
    return LegitFigures(
        sent=sent,
        lost=lost,
        loss_pct=_r(100.0 * lost / sent) if sent else None,
        median_rtt_ms=_r(1000.0 * median(rtts), 2) if rtts else None,
    )


def _in_windows(t: float, windows: Sequence[Tuple[float, float]]) -> bool:
    return any(a <= t < b for a, b in windows)


def _group(
    names: List[str],
    weights: Dict[str, float],
    before: Dict[str, List[outage.Query]],
    during: Dict[str, List[outage.Query]],
) -> LegitGroup:
    return LegitGroup(
        clients=sorted(names),
        weight=sum(weights.get(c, 1) for c in names),
        before=legit_figures([q for c in names for q in before[c]]),
        during=legit_figures([q for c in names for q in during[c]]),
    )


# ----------------------------------------------------------------- summary
Series = Dict[str, List[Sample]]


def attack_summary(
    run: RunRecords, series: Series, windows: Sequence[Tuple[float, float]], first: Phase
) -> AttackSummary:
    """The summary's ``load.attack``: sources, sent, window, rates, the attacked catchment.

    Args:
        run: the run's records.
        series: site -> its samples.
        windows: the attack's windows (wall-clock).
        first: the attack's first phase.
    """
    attackers = run.attackers
    sources: Dict[str, AttackSource] = {}
    kinds = []
    for host, records in sorted(run.attack.items()):
        src, kind = source(records, attackers.get(host, {}))
        src.start, src.stop = run.rel(src.start), run.rel(src.stop)
        sources[host] = src
        kinds.append(kind)
    duration = sum(b - a for a, b in windows)
    sent = sum(x.sent for x in sources.values())
    rates = [float(x.rate) for x in sources.values() if x.rate is not None]
    early = {
        site: sum(x.offered_attack for x in within(ss, first.start, first.stop))
        for site, ss in series.items()
    }
    total = sum(early.values())
    return AttackSummary(
        kind=next((str(k) for k in kinds if k), None),
        sources=sources,
        sent=sent,
        errors=sum(x.errors for x in sources.values()),
        start=_rel(windows[0][0], run.t0),
        stop=_rel(windows[-1][1], run.t0),
        windows=[[_rel(a, run.t0), _rel(b, run.t0)] for a, b in windows],
        duration_s=round(duration, 3),
        configured_pps=round(sum(rates), 1) if rates else None,
        rate_pps=round(sent / duration, 1) if duration > 0 and sources else None,
        peak_pps=_r(peak_rate(run.attack), 1),
        first_phase_end=_rel(first.stop, run.t0),
        shares={site: round(n / total, 4) for site, n in early.items()} if total else {},
        attacked=sorted(site for site, n in early.items() if total and n > ATTACKED_SHARE * total),
    )


def client_loads(
    run: RunRecords,
    segs: Dict[str, List[catchment.Segment]],
    windows: Sequence[Tuple[float, float]],
    attacked: Sequence[str],
) -> Tuple[Dict[str, ClientLoad], LegitGroup, LegitGroup]:
    """Each client's legitimate DNS before and during the attack; inside and outside pooled.

    Returns:
        (client -> its figures, the inside group, the outside group).
    """
    weights = run.weights
    start = windows[0][0]
    before: Dict[str, List[outage.Query]] = {}
    during: Dict[str, List[outage.Query]] = {}
    out: Dict[str, ClientLoad] = {}
    for c in run.clients:
        qs = outage.queries(run.dns.get(c, []))
        before[c] = [q for q in qs if q.t < start]
        during[c] = [q for q in qs if _in_windows(q.t, windows)]
        site = catchment.site_before(segs.get(c, []), start)
        out[c] = ClientLoad(
            site=site,
            inside=site in attacked,
            weight=weights.get(c, 1),
            before=legit_figures(before[c]),
            during=legit_figures(during[c]),
        )
    inside = [c for c, v in out.items() if v.inside]
    outside = [c for c, v in out.items() if not v.inside]
    return (
        out,
        _group(inside, weights, before, during),
        _group(outside, weights, before, during),
    )


def cascades(run: RunRecords, series: Series, cut: Sequence[Phase]) -> List[Cascade]:
    """The sites calm in the attack's first phase and overloaded in a later one, in time order.

    Calm: overloaded for less than :data:`MIN_OVERLOAD_S`; overloaded: at least
    that long.  Each site counts once, at the first phase it overloads in.
    """
    first = cut[0]
    calm = {
        site
        for site, ss in series.items()
        if overloaded_s(within(ss, first.start, first.stop)) < MIN_OVERLOAD_S
    }
    out: List[Cascade] = []
    for p in cut[1:]:
        if p.after == "attack start":  # a later attack's own start
            continue
        for site in sorted(calm):
            part = within(series[site], p.start, p.stop)
            seconds = overloaded_s(part)
            if seconds >= MIN_OVERLOAD_S:
                at = next(x.t_from for x in part if x.overloaded)
                out.append(
                    Cascade(
                        site=site,
                        after=p.after,
                        event=p.event,
                        t=_rel(p.start, run.t0),
                        overloaded_at=_rel(at, run.t0),
                        overloaded_s=round(seconds, 3),
                    )
                )
                calm.discard(site)
    return out


def phase_overload(series: Series, phase: Phase) -> Dict[str, float]:
    """Site -> seconds it was overloaded in the phase (sites never overloaded left out)."""
    seconds = {s: overloaded_s(within(ss, phase.start, phase.stop)) for s, ss in series.items()}
    return {s: round(x, 3) for s, x in seconds.items() if x > 0}


def has_attack(run: RunRecords) -> bool:
    """Whether the run had an attack: attack records or an ``attack_start`` event."""
    return bool(run.attack) or any(e.get("event") == "attack_start" for e in run.events)


def summarise_load(
    run: RunRecords, segs: Optional[Dict[str, List[catchment.Segment]]] = None
) -> Optional[LoadSummary]:
    """The summary's ``load`` block.

    Args:
        run: the run's records.
        segs: client -> catchment segments (computed from the DNS records if None).

    Returns:
        The block (times from t0), or None for a run with neither load records nor an attack.
    """
    if not run.load and not has_attack(run):
        return None
    if segs is None:
        segs = {c: catchment.segments(run.dns.get(c, [])) for c in run.clients}
    series = site_samples(run)
    caps = run.capacities
    sites = {s: site_load(ss, Capacity.of(caps.get(s)), run.t0) for s, ss in series.items()}
    windows = attack_windows(run)
    if not windows:
        return LoadSummary(sites=sites)
    received = {
        s: sum(x.offered_attack for x in ss if _in_windows(x.mid, windows))
        for s, ss in series.items()
    }
    total = sum(received.values())
    for s, figures in sites.items():
        figures.attack_received = round(received[s] / total, 4) if total else None
    cut = phases(run, windows)
    attack = attack_summary(run, series, windows, cut[0])
    clients, inside, outside = client_loads(run, segs, windows, attack.attacked)
    found = cascades(run, series, cut) if series else []
    return LoadSummary(
        sites=sites,
        attack=attack,
        clients=clients,
        inside=inside,
        outside=outside,
        phases=[
            LoadPhase(
                start=_rel(p.start, run.t0),
                stop=_rel(p.stop, run.t0),
                after=p.after,
                event=p.event,
                overloaded=phase_overload(series, p),
            )
            for p in cut
        ],
        cascade=bool(found) if series else None,
        cascades=found,
    )
