"""The summary model: the format of ``RUN/summary.json``, as pydantic models.

``summary.json`` is what the analysis hands to everything after it: the
report and the plots, ``compare``, sweeps and experiments, the labs'
checkers and the scenario's expectations.  These models are its single
definition: :func:`testbed.analysis.summary.summarise` builds a
:class:`Summary`, :meth:`Summary.to_json` writes the file, and readers
(:func:`testbed.runfolder.read_summary`) validate it back into the model and
read attributes, never string keys.  The JSON Schema shipped in
``testbed/schema/summary.schema.json`` is generated from them
(:mod:`testbed.analysis.schema`); the docstring of each field is its
description there.

Times are seconds from the timeline's start ``t0`` and durations seconds,
rounded to the millisecond.  Numbers keep the type they were computed with
(an integer ``duration`` from ``meta.json`` stays an integer), so the file's
bytes are the same for the same records.

Reading is lenient where it must be: every field has a default, so a
summary.json written before a field existed, or a partial one made by hand
(tests, the labs' stand-in runs), still loads; the analysis always writes
every field (the schema marks them required), except the few documented as
*left out when null* (``interrupted``; a shutdown health record's effect).
Spellings of older versions are converted in one place, when loading
(:func:`upgrade`).
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Dict, List, Literal, Mapping, Optional, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    WithJsonSchema,
    model_validator,
)


def _number(value: Any) -> Union[int, float]:
    """A JSON number as it is: an int stays an int (``30`` is not ``30.0``); finite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a number")
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


#: A number kept as computed, so the file's bytes are the same for the same records.
Number = Annotated[Union[int, float], PlainValidator(_number), WithJsonSchema({"type": "number"})]


def _omit_none(value: Any) -> bool:
    """For fields left out of summary.json when null."""
    return value is None


class SummaryPart(BaseModel):
    """Common settings: field docstrings as descriptions, unknown keys ignored on reading."""

    model_config = ConfigDict(
        extra="ignore",
        populate_by_name=True,
        validate_assignment=True,
        use_attribute_docstrings=True,
        json_schema_serialization_defaults_required=True,
    )


# ------------------------------------------------------------------ clients
class DnsOutage(SummaryPart):
    """A time without DNS service for one client (docs/records.md, *dns-CLIENT.jsonl*)."""

    start: Number = 0.0
    """Arrival of the last answer before the lost queries.

    The send time of the first lost query when nothing was answered before.
    """
    end: Optional[Number] = None
    """Arrival of the first answer after them; null if the client never recovered."""
    duration: Number = 0.0
    """``end - start``, or up to the end of the run if not recovered."""
    lost: int = 0
    """Queries lost in the window."""
    recovered: bool = True
    """False if no query was answered after the losses."""


class DnsSummary(SummaryPart):
    """One client's DNS queries and outage windows."""

    sent: int = 0
    """Queries sent (``answered + lost``)."""
    answered: int = 0
    """Queries answered within the timeout."""
    lost: int = 0
    """Queries not answered within the timeout (``late`` ones included)."""
    late: int = 0
    """Lost queries whose answer came after the timeout."""
    outage_s: Number = 0.0
    """Total duration of the outage windows."""
    max_outage_s: Number = 0.0
    """Longest outage window (0 without one)."""
    outages: List[DnsOutage] = Field(default_factory=list)
    """Every outage window, in time order (fewer lost queries than ``min_lost``: left out)."""


class TcpBreak(SummaryPart):
    """The end of one connection of a TCP stream: a reset, a timeout or the server's close (EOF)."""

    stream: int = 0
    """The stream's number."""
    t: Number = 0.0
    """When the connection broke."""
    site: Optional[str] = None
    """The site the connection was with."""
    after_event_s: Optional[Number] = None
    """Time from the nearest scenario event at or before the break; null if none came before."""
    reconnect_s: Optional[Number] = None
    """Time without service until the stream's next connection answered; null if it never did."""
    site_after: Optional[str] = None
    """The site of that next connection; null if none."""


class TcpSummary(SummaryPart):
    """One client's TCP streams, by fate (each stream counted once, by its first break)."""

    streams: int = 0
    """Streams the probe ran."""
    reset: int = 0
    """Streams whose first break was a reset (ECONNRESET, EPIPE)."""
    timeout: int = 0
    """Streams whose first break was a timeout (no answer for the probe's timeout)."""
    eof: int = 0
    """Streams whose first break was the server closing the connection."""
    survived: int = 0
    """Streams that never broke."""
    connect_failed: int = 0
    """Failed connection attempts, over all streams."""
    reset_events: int = 0
    """Resets in all (a stream reset on every move of a flapping site counts each one)."""
    resets: List[TcpBreak] = Field(default_factory=list)
    """Every reset, in time order."""
    timeouts: List[TcpBreak] = Field(default_factory=list)
    """Every timeout, in time order."""
    eofs: List[TcpBreak] = Field(default_factory=list)
    """Every close by the server, in time order."""
    reconnect_s: List[Number] = Field(default_factory=list)
    """Every time to reconnect after a break, in time order."""


class TransportOutcome(SummaryPart):
    """How one client's flows of one probe kind fared (``tcp-retry``, ``quic``, ...).

    A flow is what the kind keeps open or repeats: a stream, a connection, a
    request. Each is counted once by how it ended (``ends``); a break the
    client came back from (a reconnect that answered) is ``recovered``, with
    the time it took.
    """

    kind: str
    """The probe kind."""
    flows: int = 0
    """Flows the probe ran (streams, connections, requests, queries)."""
    survived: int = 0
    """Flows that never broke (still up at the end, or completed)."""
    reset: int = 0
    """Flows ended by a reset (TCP RST: ECONNRESET/EPIPE; QUIC stateless reset)."""
    timed_out: int = 0
    """Flows ended by a timeout (no answer; QUIC idle timeout)."""
    failed: int = 0
    """Flows that never worked (connection refused, request failed)."""
    recovered: int = 0
    """Breaks the client came back from (a new flow answered)."""
    recover_s: List[Number] = Field(default_factory=list)
    """Seconds without service around each break the client came back from: from the
    last answer before it to the first answer after it (a timeout's wait included)."""
    longest_gap_s: Optional[Number] = None
    """The longest time without a successful answer during the run."""
    lost: Optional[Number] = None
    """What was lost to breaks, in ``lost_unit``."""
    lost_unit: Optional[str] = None
    """``requests``, ``bytes``, ``messages`` or ``queries``."""
    ends: Dict[str, int] = Field(default_factory=dict)
    """How flows ended, by name (``reset``, ``stateless_reset``, ``idle_timeout``, ...)."""


class ClientSummary(SummaryPart):
    """What one client saw: its site, its DNS queries and its TCP streams."""

    site_before: Optional[str] = None
    """Its site just before the first event (without events: the first one seen)."""
    site_after: Optional[str] = None
    """The last site that answered it."""
    dns: DnsSummary = Field(default_factory=DnsSummary)
    """Its DNS figures."""
    tcp: TcpSummary = Field(default_factory=TcpSummary)
    """Its TCP figures."""
    transport: Dict[str, TransportOutcome] = Field(default_factory=dict)
    """The outcomes of its other probe kinds (``traffic.kinds``), by kind."""


# ------------------------------------------------------------------- events
class Move(SummaryPart):
    """A client's change of site."""

    from_: Optional[str] = Field(default=None, alias="from")
    """The site before."""
    to: Optional[str] = None
    """The site after."""


class EventRouter(SummaryPart):
    """One router's route changes after one event."""

    convergence_s: Optional[Number] = None
    """From the event to the router's last route change before the next event."""
    route_changes: int = 0
    """Its route changes in that window."""


class Detection(SummaryPart):
    """A daemon declaring a failure: where it was noticed, how, and when (its own log, ms)."""

    t: Number = 0.0
    """When, from the daemon's log (bfdd, bgpd) or the agent's record."""
    after_s: Number = 0.0
    """Seconds from the event."""
    router: str = ""
    """Where it was declared (a health agent: its site)."""
    peer: str = ""
    """The session's other end (a health agent: its site)."""
    daemon: str = ""
    """``bfdd``, ``bgpd`` or ``health-agent``."""
    how: str = ""
    """``bfd``, ``hold-timer``, ``interface-down``, ``notification``, ``peer-closed``,
    ``health-check``, or bgpd's reason as it logged it."""


class OutageParts(SummaryPart):
    """One moved client's way from the event to its first answer, part by part (seconds).

    ``detection_s + control_plane_s + fib_s + sampling_s = total_s`` and
    ``outage_s = lead_in_s + total_s`` (docs/analysis.md, *the outage in its parts*).
    """

    site_from: Optional[str] = None
    """Its site before the event."""
    site_to: Optional[str] = None
    """Its site after."""
    path: List[str] = Field(default_factory=list)
    """Its routers to the new site, access router first, the site last."""
    detection_s: Optional[Number] = None
    """Event → the first declaration of the failure; null for an operator action."""
    detected_by: Optional[str] = None
    """Who declared it (``bfdd on t1 (bfd, session with east)``); null if nobody."""
    control_plane_s: Optional[Number] = None
    """→ the last route change of the routers on its path, its access router left out."""
    fib_s: Optional[Number] = None
    """→ its access router's route change (0 if that route did not change)."""
    sampling_s: Optional[Number] = None
    """→ the first answer from the new site (the probe's interval and round trip)."""
    total_s: Optional[Number] = None
    """The event → that first answer."""
    lead_in_s: Optional[Number] = None
    """The last answer before the event → the event (part of the outage window)."""
    outage_s: Optional[Number] = None
    """The client's outage window around the event; null if it lost nothing."""
    resolution_s: Optional[Number] = None
    """How closely the probe brackets each end of the outage: its interval."""


class EventSummary(SummaryPart):
    """One scenario event, its convergence and who it moved."""

    t: Number = 0.0
    """When the event was applied."""
    at: Optional[Number] = None
    """When the timeline scheduled it."""
    applied_s: Optional[Number] = None
    """How long applying it took (its effect began somewhere in ``[t, t + applied_s]``)."""
    kind: Optional[str] = None
    """The event (``fail_site``, ``restore``, ``link``...)."""
    target: Optional[str] = None
    """What it acted on: a site, or ``a-b`` for a link."""
    params: Dict[str, Any] = Field(default_factory=dict)
    """Its parameters, as recorded."""
    convergence_s: Optional[Number] = None
    """From the event to the last route change before the next event; null if none changed."""
    routers_changed: List[str] = Field(default_factory=list)
    """Routers whose route changed, sorted."""
    route_changes: int = 0
    """Route changes of all routers in the event's window."""
    routers: Dict[str, EventRouter] = Field(default_factory=dict)
    """Per router that changed: its convergence and changes."""
    moved: List[str] = Field(default_factory=list)
    """Clients whose site changed, sorted."""
    moves: Optional[Dict[str, Move]] = None
    """Client -> its site before and its settled site after (null in older summaries)."""
    detection: Optional[Detection] = None
    """The first declaration of the failure (null: an operator action, or nobody noticed)."""
    declarations: List[Detection] = Field(default_factory=list)
    """Every declaration concerning the event in its window, in time order."""
    parts: Dict[str, OutageParts] = Field(default_factory=dict)
    """Moved client -> its outage in parts."""
    transport: Dict[str, TransportOutcome] = Field(default_factory=dict)
    """Probe kind -> how the moved clients' flows fared in the event's window (pooled)."""


# ------------------------------------------------------------------- health
class HealthAgent(SummaryPart):
    """A site's health agent settings, from its ``start`` record (null where it lacks one)."""

    action: Optional[str] = None
    """What it does to a failing site: ``withdraw``, ``med`` or ``prepend``."""
    interval: Optional[Number] = None
    """Seconds between rounds of checks."""
    rise: Optional[int] = None
    """Good rounds before the site is up again."""
    fall: Optional[int] = None
    """Failed rounds before the site is down."""
    checks: Optional[List[str]] = None
    """What it checks (``dns``, ``tcp``)."""
    drain: Optional[Number] = None
    """Seconds from the withdrawal to the removal of the service address at shutdown."""
    min_sites: Optional[int] = Field(default=None, exclude_if=_omit_none)
    """Never withdraw while fewer sites would remain announced (left out when not set)."""


class HealthRecord(SummaryPart):
    """Common fields of the health records in ``health[]``."""

    t: Optional[Number] = None
    """When the agent wrote the record."""
    site: Optional[str] = None
    """The agent's site."""


class HealthState(HealthRecord):
    """A health state change, what was applied and the clients it moved."""

    event: Literal["state"] = "state"
    """The record's kind."""
    state: Optional[str] = None
    """The new state: ``up`` or ``down``."""
    previous: Optional[str] = None
    """The state before."""
    action: Optional[str] = None
    """The agent's action (``withdraw`` at shutdown, whatever its setting)."""
    reason: Optional[str] = None
    """Why: ``checks``, or the agent stopping (``agent stopping: ...``)."""
    error: Optional[str] = None
    """Why the change was not applied (vtysh or the speaker did not answer); null if it was."""
    applied: List[str] = Field(default_factory=list)
    """What was changed (``withdraw``, ``med 1000 prepend 0``...); empty on an error."""
    failures: List[str] = Field(default_factory=list)
    """The failed checks."""
    held: Optional[str] = Field(default=None, exclude_if=_omit_none)
    """Why the withdrawal was held and the site kept announced (``min_sites 1: 0 sites
    would remain announced``); left out when it was not."""
    shutdown: bool = False
    """The shutdown drain: the agent stopping, or at or after the end of the timeline.

    No effect on clients is measured then (the probes have stopped).
    """
    moved: Optional[List[str]] = Field(default=None, exclude_if=_omit_none)
    """Clients whose site changed, sorted (left out when ``shutdown``)."""
    moves: Optional[Dict[str, Move]] = Field(default=None, exclude_if=_omit_none)
    """Client -> its site before and after (left out when ``shutdown``)."""
    stayed: Optional[List[str]] = Field(default=None, exclude_if=_omit_none)
    """The site's clients still answered by it (left out when ``shutdown``)."""
    unanswered: Optional[List[str]] = Field(default=None, exclude_if=_omit_none)
    """The site's clients left without any answer (left out when ``shutdown``).

    For example a site demoted by MED behind other upstreams: still preferred, dead.
    """


class HealthRetry(HealthRecord):
    """A state change that was applied only later (the router did not answer at first)."""

    event: Literal["retry"] = "retry"
    """The record's kind."""
    state: Optional[str] = None
    """The state it applies."""
    action: Optional[str] = None
    """The agent's action."""
    applied: List[str] = Field(default_factory=list)
    """What was changed."""


class HealthAddress(HealthRecord):
    """The service address removed at a graceful stop, after the withdrawal and the drain."""

    event: Literal["address"] = "address"
    """The record's kind."""
    address: Optional[str] = None
    """The service address."""
    removed: List[str] = Field(default_factory=list)
    """Servers it was removed from (empty: kept)."""
    drain_s: Optional[Number] = None
    """Seconds from the withdrawal to the removal."""
    error: Optional[str] = None
    """Why the address was kept; null if it was removed."""


#: One entry of ``health[]``, told apart by ``event``.
HealthEntry = Annotated[
    Union[HealthState, HealthRetry, HealthAddress], Field(discriminator="event")
]


# -------------------------------------------------------------- the network
class RouterSummary(SummaryPart):
    """One router over the whole timeline."""

    route_changes: int = 0
    """Changes of its route to the anycast prefix since t0."""
    convergence_s_max: Optional[Number] = None
    """Its slowest convergence after an event; null if no event changed its route."""


class NetworkSummary(SummaryPart):
    """All routers together."""

    convergence_s_max: Optional[Number] = None
    """The slowest convergence after an event (over events and routers); null if none."""
    route_changes: int = 0
    """Route changes of all routers."""


# ------------------------------------------------------------------ policy
class PolicyViolation(SummaryPart):
    """An installed path that is not valley-free given the declared relationships."""

    router: str = ""
    """The router whose table holds the path."""
    prefix: str = ""
    """The prefix."""
    as_path: str = ""
    """The AS path as FRR shows it."""
    best: bool = False
    """Whether it is the router's best path."""
    reason: str = ""
    """Why it violates the rules (``valley: ...``, ``peer-peer: ...``)."""


class PolicyCheck(SummaryPart):
    """The valley-free check of every router's BGP table at one moment (``policy.jsonl``)."""

    phase: str = ""
    """``converged`` (after the bring-up) or ``end`` (at the end of the timeline)."""
    t: Optional[Number] = None
    """When it was made (from t0; negative: before the timeline)."""
    passed: bool = True
    """No path violates the relationships."""
    paths: int = 0
    """Paths looked at (every valid path to the announced prefixes)."""
    ok: int = 0
    """Paths judged valley-free."""
    unknown: int = 0
    """Paths with a hop between ASes without a declared relationship (not judged)."""
    violation_count: int = 0
    """Paths that violate the rules (``violations`` lists at most 200)."""
    violations: List[PolicyViolation] = Field(default_factory=list)
    """The violations, router by router."""
    no_route: Dict[str, List[str]] = Field(default_factory=dict)
    """Router -> prefixes it has no route to, by valley-free export (``converged`` only)."""
    line: str = ""
    """The check in one line, as ``up`` and ``run`` print it."""


# ---------------------------------------------------------------- catchment
class SiteShare(SummaryPart):
    """One site's share of the clients at one moment, by client count and by weight."""

    clients: int = 0
    """Clients it answered."""
    share: Number = 0.0
    """Their share of all clients (0..1)."""
    weight: Number = 0.0
    """Their weight: the users they stand for (``meta.json`` ``load.weights``; 1 each)."""
    weight_share: Number = 0.0
    """Their share of all clients' weight (0..1; 0 when every weight is 0)."""


class CatchmentShares(SummaryPart):
    """Each site's share of the clients at one moment: the start, after each event, the end."""

    when: str = ""
    """``start`` (each client's ``site_before``), ``event I`` (the settled site after
    ``events[I]``, before the next event) or ``end`` (each client's ``site_after``)."""
    event: Optional[int] = None
    """The event's index in ``events[]``; null for the start and the end."""
    t: Optional[Number] = None
    """The event's time; null for the start and the end."""
    sites: Dict[str, SiteShare] = Field(default_factory=dict)
    """Site -> its clients and their share, sorted by site (sites with no client left out)."""
    unanswered: List[str] = Field(default_factory=list)
    """Clients no site answered then, sorted."""
    unanswered_share: Number = 0.0
    """Their share of all clients (0..1)."""
    unanswered_weight_share: Number = 0.0
    """Their share of all clients' weight (0..1)."""


# --------------------------------------------------------------------- load
class SiteCapacity(SummaryPart):
    """A site's capacity as the run enforced it (``meta.json`` ``load.capacity``)."""

    bandwidth: Optional[Number] = None
    """Mbit/s into the site (a tbf queue); null if not limited."""
    packets: Optional[Number] = None
    """Packets/s into the site (a policer); null if not limited."""
    queue: Optional[Number] = None
    """The bandwidth queue's length in ms."""


class SiteLoad(SummaryPart):
    """What one site was offered and carried (``load-SITE.jsonl``), over the whole recording.

    Offered is everything received on the site's uplinks, before the queue.
    The counters tell legitimate from attack packets only after the queue; the
    offered split is the after-queue shares applied to the offered packets
    (a tail-drop queue and a rate policer are blind to the source).
    """

    capacity: Optional[SiteCapacity] = None
    """The site's capacity; null: unlimited."""
    samples: int = 0
    """Load samples (one per pair of consecutive records, about every 0.25 s)."""
    peak_pps: Number = 0.0
    """The highest offered packets/s in a sample."""
    mean_pps: Number = 0.0
    """Offered packets over the recorded time (packets/s)."""
    peak_mbps: Number = 0.0
    """The highest offered Mbit/s in a sample."""
    mean_mbps: Number = 0.0
    """Offered bits over the recorded time (Mbit/s)."""
    offered: int = 0
    """Packets offered (received on the uplinks)."""
    offered_legit: int = 0
    """Of them, legitimate (estimated from the after-queue shares, sample by sample)."""
    offered_attack: int = 0
    """Of them, from the attack sources (estimated the same way)."""
    attack_share: Optional[Number] = None
    """``offered_attack / offered`` (0..1); null when nothing was offered."""
    passed_legit: int = 0
    """Legitimate packets to the site's prefix after the queue."""
    passed_attack: int = 0
    """Attack packets to the site's prefix after the queue."""
    dropped: int = 0
    """Packets dropped: ``queue_drops + policed``."""
    queue_drops: int = 0
    """Dropped by the bandwidth queue (tbf)."""
    policed: int = 0
    """Dropped by the packets/s limit."""
    drop_share: Optional[Number] = None
    """``dropped / offered`` (0..1); null when nothing was offered."""
    answered_legit: int = 0
    """DNS answers the site's servers sent to legitimate clients."""
    answered_attack: int = 0
    """DNS answers they sent to attack sources."""
    served: Dict[str, int] = Field(default_factory=dict)
    """DNS answers per server (server name -> answers); empty in older runs."""
    overloaded_s: Number = 0.0
    """Seconds of samples in which the site was overloaded: offered packets/s or
    Mbit/s above its capacity, or drops above 1% of the offered packets."""
    first_overloaded: Optional[Number] = None
    """The start of its first overloaded sample; null if never overloaded."""
    attack_received: Optional[Number] = None
    """Its share of all the attack packets offered to the sites during the attack
    (0..1); null without an attack."""


class AttackSource(SummaryPart):
    """One attack source (``attack-HOST.jsonl``)."""

    as_: Optional[str] = Field(default=None, alias="as")
    """The AS it is in."""
    target: Optional[str] = None
    """The address it sent to (the anycast service address)."""
    rate: Optional[Number] = None
    """Packets/s it was told to send."""
    ramp: Optional[Number] = None
    """Seconds to reach that rate."""
    size: Optional[int] = None
    """UDP payload bytes per packet."""
    sent: int = 0
    """Packets sent."""
    errors: int = 0
    """Send errors."""
    start: Optional[Number] = None
    """When it started (its ``start`` record)."""
    stop: Optional[Number] = None
    """When it stopped (its ``stop`` record); null if it has none."""
    reason: Optional[str] = None
    """Why it stopped: ``stopped``, ``duration`` or ``signal``."""


class AttackSummary(SummaryPart):
    """The attack: its sources, what they sent, when, and where it landed."""

    kind: Optional[str] = None
    """``dns`` (queries for random names) or ``junk`` (UDP junk to port 53)."""
    sources: Dict[str, AttackSource] = Field(default_factory=dict)
    """Host -> what it sent, sorted by host."""
    sent: int = 0
    """Packets sent by all sources."""
    errors: int = 0
    """Send errors of all sources."""
    start: Optional[Number] = None
    """The attack's start (the first ``attack_start`` event, else the first source's start)."""
    stop: Optional[Number] = None
    """Its end (the last ``attack_stop`` event, else the last source's stop, else the
    end of the run)."""
    windows: List[List[Number]] = Field(default_factory=list)
    """``[start, stop]`` of each attack (``attack_start`` to ``attack_stop``)."""
    duration_s: Number = 0.0
    """Seconds of attack (the windows' lengths added)."""
    configured_pps: Optional[Number] = None
    """The sources' rates added (packets/s); null if no source recorded its start."""
    rate_pps: Optional[Number] = None
    """Achieved: packets sent over the attack's duration (packets/s; ramps included)."""
    peak_pps: Optional[Number] = None
    """Achieved: the highest aggregate rate of the sources between their ``sent`` records."""
    first_phase_end: Optional[Number] = None
    """The end of the attack's first phase: the first other event or health change
    after its start (else its stop)."""
    shares: Dict[str, Number] = Field(default_factory=dict)
    """Site -> its share of the attack packets offered to the sites in the first phase."""
    attacked: List[str] = Field(default_factory=list)
    """The attacked catchment: sites with more than 1% of the attack packets in the
    first phase, sorted."""


class LegitFigures(SummaryPart):
    """Legitimate DNS queries over a stretch of time."""

    sent: int = 0
    """Queries sent."""
    lost: int = 0
    """Queries lost (timed out)."""
    loss_pct: Optional[Number] = None
    """``100 * lost / sent``; null when nothing was sent."""
    median_rtt_ms: Optional[Number] = None
    """The median round trip of the answered queries (ms); null without answers."""


class ClientLoad(SummaryPart):
    """One client's legitimate DNS before and during the attack."""

    site: Optional[str] = None
    """Its site at the attack's start."""
    inside: bool = False
    """That site is in the attacked catchment."""
    weight: Number = 1
    """The users it stands for."""
    before: LegitFigures = Field(default_factory=LegitFigures)
    """Queries sent before the attack started."""
    during: LegitFigures = Field(default_factory=LegitFigures)
    """Queries sent during the attack (its windows)."""


class LegitGroup(SummaryPart):
    """The clients inside (or outside) the attacked catchment, their queries pooled."""

    clients: List[str] = Field(default_factory=list)
    """The clients, sorted."""
    weight: Number = 0
    """Their weight added."""
    before: LegitFigures = Field(default_factory=LegitFigures)
    """Before the attack."""
    during: LegitFigures = Field(default_factory=LegitFigures)
    """During the attack."""


class LoadPhase(SummaryPart):
    """A stretch of the attack between two events: which sites were overloaded."""

    start: Number = 0.0
    """Its start: the attack's start, or the event that began it."""
    stop: Number = 0.0
    """Its end: the next event, or the attack's end."""
    after: str = ""
    """What began it: ``attack start``, an event (``withdraw lon``) or a health change."""
    event: Optional[int] = None
    """That event's index in ``events[]``; null for the attack's start and health changes."""
    overloaded: Dict[str, Number] = Field(default_factory=dict)
    """Site -> seconds it was overloaded in the phase (sites never overloaded left out)."""


class Cascade(SummaryPart):
    """A site not overloaded in the attack's first phase that was overloaded after a later event."""

    site: str = ""
    """The site."""
    after: str = ""
    """The event (or health change) after which it was overloaded."""
    event: Optional[int] = None
    """That event's index in ``events[]``; null for a health change."""
    t: Number = 0.0
    """When that event happened."""
    overloaded_at: Number = 0.0
    """The start of the site's first overloaded sample after it."""
    overloaded_s: Number = 0.0
    """Seconds it was overloaded in that phase."""


class LoadSummary(SummaryPart):
    """Load, capacity and the attack (``load-SITE.jsonl``, ``attack-HOST.jsonl``)."""

    sites: Dict[str, SiteLoad] = Field(default_factory=dict)
    """Site -> what it was offered and carried (empty without a load recorder)."""
    attack: Optional[AttackSummary] = None
    """The attack; null if the run had none."""
    clients: Dict[str, ClientLoad] = Field(default_factory=dict)
    """Client -> its legitimate DNS before and during the attack (empty without one)."""
    inside: Optional[LegitGroup] = None
    """The clients whose site at the attack's start was attacked; null without an attack."""
    outside: Optional[LegitGroup] = None
    """The other clients; null without an attack."""
    phases: List[LoadPhase] = Field(default_factory=list)
    """The attack cut at every other event and health change, in time order."""
    cascade: Optional[bool] = None
    """Whether a cascade happened (see ``cascades``); null without an attack or load records."""
    cascades: List[Cascade] = Field(default_factory=list)
    """Every site that became overloaded after a later event, in time order."""


# --------------------------------------------------------------- resolution
class ResolverSettings(SummaryPart):
    """The recursive resolver a client resolves through, and how it caches (``meta.json``
    ``resolvers``; the name from the probe's ``start`` record without it)."""

    resolver: Optional[str] = None
    """The resolver's name (``res-isp1``)."""
    min_ttl: Optional[Number] = None
    """The shortest time it keeps an answer (s; unbound's ``cache-min-ttl``)."""
    max_ttl: Optional[Number] = None
    """The longest time it keeps an answer (s; ``cache-max-ttl``)."""
    serve_stale: Optional[bool] = None
    """Whether it answers from an expired cache entry when the authority is silent (RFC 8767)."""
    prefetch: Optional[bool] = None
    """Whether it refreshes popular names before they expire."""
    ecs: Optional[bool] = None
    """Whether it sends EDNS Client Subnet to the authority."""
    violating: Optional[bool] = None
    """Whether it is one of the TTL-violating resolvers (keeps answers past their TTL)."""


class ServedClient(SummaryPart):
    """One client in the steady state of one method: the site that served it."""

    site: Optional[str] = None
    """The site that answered most of its ticks; null if none answered."""
    nearest: Optional[str] = None
    """Its nearest site by the topology's link delays (``meta.json`` ``nearest_site``)."""
    ticks: int = 0
    """Its ticks in the steady state."""
    answered: int = 0
    """Of them, answered by a site."""


class SteadyState(SummaryPart):
    """One method before the first event (after the settle): who was served by which site."""

    start: Number = 0.0
    """The window's start (t0: the probes ran ``settle`` seconds before it)."""
    stop: Number = 0.0
    """Its end: the first event, or the end of the timeline without events."""
    clients: Dict[str, ServedClient] = Field(default_factory=dict)
    """Client -> its site and its nearest site, sorted by client."""
    sites: Dict[str, int] = Field(default_factory=dict)
    """Site -> the clients it served, sorted by site."""
    nearest_share: Optional[Number] = None
    """The share of clients served by their nearest site (0..1), of those with a site and
    a known nearest site; null when there are none."""
    resolvers: int = 0
    """Distinct resolvers of the method's clients (GSLB answers per resolver)."""
    split_resolvers: List[str] = Field(default_factory=list)
    """Resolvers whose clients were served by different sites, sorted (GSLB without ECS:
    none; anycast steers each client by its own route)."""


class FailoverFigures(SummaryPart):
    """How the clients a site failure affected fared under one method.

    A client is *failing* at ``x`` s when its latest tick sent from the event to
    ``event + x`` got no answer from a site other than the failed one (no tick yet
    counts as failing).
    """

    clients: int = 0
    """Affected clients (pooled over events: client-events)."""
    recovered: int = 0
    """Of them, answered by another site in the window."""
    failover_median_s: Optional[Number] = None
    """The median time from the event to the first answer from another site (those
    never answered count as slowest); null without affected clients, or when the median
    one never recovered."""
    failover_worst_s: Optional[Number] = None
    """The slowest of those times; null without affected clients or when one never recovered."""
    lost: int = 0
    """Their ticks not answered (timed out or not resolved) in the window."""
    failing_1s: Optional[Number] = None
    """Share of them failing 1 s after the event (0..1); null when the window is shorter."""
    failing_10s: Optional[Number] = None
    """Share failing after 10 s; null when the window is shorter."""
    failing_60s: Optional[Number] = None
    """Share failing after 60 s; null when the window is shorter."""
    dead_address_1s: Optional[int] = None
    """GSLB: how many were still given the failed site's address 1 s after the event
    (their latest resolution by then); null for other methods or a shorter window."""
    dead_address_10s: Optional[int] = None
    """GSLB: still given the failed site's address after 10 s."""
    dead_address_60s: Optional[int] = None
    """GSLB: still given the failed site's address after 60 s."""


class FailoverClient(SummaryPart):
    """One affected client after one event, under one method."""

    failover_s: Optional[Number] = None
    """From the event to its first answer from another site (the answer's arrival:
    ``t + resolve_rtt + rtt``); null if none came in the window."""
    site_to: Optional[str] = None
    """The site of that answer; null if none."""
    lost: int = 0
    """Its ticks not answered in the window."""
    resolver: Optional[str] = None
    """Its resolver."""
    violating: bool = False
    """Its resolver is a TTL-violating one."""
    dead_address_s: Optional[Number] = None
    """GSLB: from the event to the last tick that was given the failed site's address
    (its send); null if none was, and for other methods."""


class StreamFigures(SummaryPart):
    """How the ``resolve`` probe's long streams on a failed site fared under one method.

    Each stream resolves the name through the client's resolver before every
    connection, and again after a break: a stream is *back* at the first
    answer on a new connection from a site other than the failed one.
    """

    streams: int = 0
    """Streams up on the site when the event hit (their last connection answered by it;
    pooled over events: stream-events)."""
    broken: int = 0
    """Of them, broken in the window (a reset, no answer for the timeout, the server's
    FIN): the connections lost."""
    clients: int = 0
    """Clients with a broken stream (the affected)."""
    back: int = 0
    """Of them, those whose every broken stream was back on a healthy site in the window."""
    back_median_s: Optional[Number] = None
    """The median, over those clients, of the time from the event until the last of their
    broken streams was back (those never back count as slowest); null without such
    clients, or when the median one never was."""
    back_worst_s: Optional[Number] = None
    """The slowest of those times; null without such clients or when one never was back."""
    connect_failed: int = 0
    """The broken streams' failed connections between their break and their return
    (or the end of the window): refused, unreachable, no handshake in time."""
    dead_connects: Optional[int] = None
    """GSLB: of those, to the failed site's own address (the resolver still gave it);
    null for other methods."""
    resolve_failed: int = 0
    """The broken streams' failed lookups in that time."""


class StreamClient(SummaryPart):
    """One client's streams on a failed site after one event, under one method."""

    streams: int = 0
    """Its streams up on the site when the event hit."""
    broken: int = 0
    """Of them, broken in the window."""
    back_s: Optional[Number] = None
    """From the event to the first answer from a healthy site on a new connection of the
    last of its broken streams; null if one never came back in the window."""
    site_to: Optional[str] = None
    """The site that answered it."""
    connect_failed: int = 0
    """Its broken streams' failed connections before they were back."""
    dead_connects: Optional[int] = None
    """GSLB: of those, to the failed site's own address; null for other methods."""
    violating: bool = False
    """Its resolver is a TTL-violating one."""


class MethodStreams(StreamFigures):
    """One event's streams on the failed site, under one method, and each client's."""

    affected: Dict[str, StreamClient] = Field(default_factory=dict)
    """Client -> how its streams fared: the clients with a stream up on the site when
    the event hit, sorted."""


class StreamTotals(SummaryPart):
    """One method's streams over the whole run (``resolve`` records with ``stream``)."""

    streams: int = 0
    """Streams (per client and method: ``traffic.resolve_streams``)."""
    connections: int = 0
    """Connections that answered (``connected``)."""
    broken: int = 0
    """Connections that broke after answering."""
    connect_failed: int = 0
    """Connections that failed before their first answer."""
    resolve_failed: int = 0
    """The streams' failed lookups."""
    unrecovered: int = 0
    """Streams broken and not back when the probe stopped."""


class MethodFailover(FailoverFigures):
    """One event that took a site out, as one method's clients saw it."""

    event: int = 0
    """The event's index in ``events[]``."""
    t: Number = 0.0
    """When it happened."""
    kind: Optional[str] = None
    """The event (``fail_site``, ``kill_service``, ``withdraw``...)."""
    site: str = ""
    """The site it took out (the event's target)."""
    window_s: Number = 0.0
    """The window looked at: to the next event, or to the end of the timeline."""
    affected: Dict[str, FailoverClient] = Field(default_factory=dict)
    """Client -> how it fared: the method's clients served by the site just before the
    event and not by it after (settled), sorted."""
    violating: List[str] = Field(default_factory=list)
    """The affected clients behind a TTL-violating resolver, sorted."""
    series: List[List[Number]] = Field(default_factory=list)
    """``[seconds since the event, share of the affected failing]`` at the event, at
    every change of the share and at the window's end: exact steps (empty without
    affected clients)."""
    connections: Optional[MethodStreams] = None
    """The long streams on the site when the event hit: the connections lost and when
    each client was back on a healthy site; null when the method had no streams."""


class MethodSummary(SummaryPart):
    """One way of publishing the service (``anycast``, ``gslb``): the ``resolve`` probe's ticks."""

    name: Optional[str] = None
    """The name it publishes (``svc.gslb.test``)."""
    clients: List[str] = Field(default_factory=list)
    """The clients that resolved it, sorted."""
    queries: int = 0
    """Ticks: a resolution, then one query to the address it gave."""
    answered: int = 0
    """Ticks answered by a site."""
    lost: int = 0
    """Ticks not answered: timed out at the site or not resolved."""
    resolve_failed: int = 0
    """Of them, not resolved (the resolver timed out or gave no address)."""
    steady: SteadyState = Field(default_factory=SteadyState)
    """Before the first event: who was served by which site, and how near."""
    failovers: List[MethodFailover] = Field(default_factory=list)
    """Every event that took a site out (some client of some method was served by it
    just before and not after), in time order."""
    failover: Optional[FailoverFigures] = None
    """Those events pooled (client-events); null without such an event."""
    streams: Optional[StreamTotals] = None
    """The long streams over the whole run; null without stream records (``resolve_streams``
    0)."""
    connections: Optional[StreamFigures] = None
    """The streams of ``failovers`` pooled; null without streams or without such an event."""


class ResolutionSummary(SummaryPart):
    """Anycast versus DNS-based GSLB on the same failures (``resolve-CLIENT.jsonl``)."""

    publish: Optional[str] = None
    """How the service was published: ``anycast``, ``gslb`` or ``both`` (``meta.json``
    ``service``)."""
    ttl: Optional[Number] = None
    """The TTL the authority gave the service name (s)."""
    health_interval: Optional[Number] = None
    """Seconds between the GSLB authority's health checks."""
    addresses: Dict[str, str] = Field(default_factory=dict)
    """Site -> its own service address (what GSLB answers), sorted by site."""
    nearest_site: Dict[str, str] = Field(default_factory=dict)
    """Client -> its nearest site by the topology's link delays, sorted by client."""
    resolvers: Dict[str, ResolverSettings] = Field(default_factory=dict)
    """Client -> its resolver and how that caches, sorted by client."""
    methods: Dict[str, MethodSummary] = Field(default_factory=dict)
    """Method -> its figures (``anycast`` first, then ``gslb``, then any other)."""


# -------------------------------------------------------------- the verdict
class ExpectResult(SummaryPart):
    """One of the scenario's expectations, evaluated on the summary (testbed.scenario.expect)."""

    check: str = ""
    """The expectation in words (``paris moves to nyc``)."""
    passed: Optional[StrictBool] = None
    """Whether it was met; null if it was not evaluated."""
    detail: str = ""
    """The figures behind the verdict (``paris: lon → nyc at event 0 (fail_site lon)``)."""


# --------------------------------------------------------------- incidents
class ProcessDeath(SummaryPart):
    """A process of the run that died on its own (a ``process_died`` record of ``run.jsonl``)."""

    t: Optional[Number] = None
    """When the watchdog noticed it."""
    node: Optional[str] = None
    """The node it ran on (``-`` for the testbed's own threads)."""
    process: Optional[str] = None
    """The kind of process (``bgpd``, ``nsd``, ``dns-probe``...)."""
    pid: Optional[int] = None
    """Its process id."""
    status: Optional[int] = None
    """Its exit status (negative: killed by that signal); null if unknown."""
    how: Optional[str] = None
    """The status in words."""
    action: Optional[str] = None
    """``carried on`` or ``stopped the run``."""
    affects: Optional[str] = None
    """What is lost."""
    fault: Optional[str] = None
    """The records file could not be written (``disk full``...); null otherwise."""
    file: Optional[str] = None
    """That file."""


class RunStop(SummaryPart):
    """Why the run stopped early (the ``run_stopped`` record of ``run.jsonl``)."""

    t: Optional[Number] = None
    """When; null if during bring-up."""
    reason: Optional[str] = None
    """The reason, as the CLI's line gives it."""
    fault: Optional[str] = None
    """A records file could not be written (``disk full``...)."""
    file: Optional[str] = None
    """That file."""
    process: Optional[str] = None
    """The process whose death stopped the run."""
    node: Optional[str] = None
    """Its node."""


class Capture(SummaryPart):
    """The TCP resets sent from the service address in one packet capture (``run --pcap``)."""

    file: str = ""
    """The capture's file name under ``pcap/`` (``NODE-IFACE.pcap``)."""
    node: str = ""
    """The node it was captured on."""
    readable: bool = True
    """False if tcpdump could not read it."""
    resets: int = 0
    """Resets sent from the service address."""
    to: Dict[str, int] = Field(default_factory=dict)
    """Client (or address) -> resets sent to it."""
    first_s: Optional[Number] = None
    """The first reset; null without resets."""
    last_s: Optional[Number] = None
    """The last reset; null without resets."""


# ------------------------------------------------------------------ summary
class DampingSummary(SummaryPart):
    """Route-flap damping on every FRR router of the run (FRR's ``bgp dampening``,
    the effective topology's ``bgp.dampening`` in ``meta.json``)."""

    half_life: Optional[int] = None
    """Half-life of a route's penalty (minutes)."""
    reuse: Optional[int] = None
    """Penalty below which a suppressed route is used again."""
    suppress: Optional[int] = None
    """Penalty from which a route is suppressed."""
    max_suppress: Optional[int] = None
    """Longest time a route stays suppressed (minutes)."""


class Summary(SummaryPart):
    """Every figure of a run's analysis: the content of ``RUN/summary.json``."""

    model_config = ConfigDict(title="anycast-testbed summary.json")

    t0: Number = 0.0
    """Wall-clock start of the timeline (seconds since the epoch)."""
    duration: Optional[Number] = None
    """The timeline's length (``meta.json``), or the records' span without one."""
    scenario: Optional[str] = None
    """The scenario's name."""
    topology: Optional[str] = None
    """The topology's name."""
    frr_version: Optional[str] = None
    """The FRR version the routers ran."""
    speaker: Optional[Union[str, List[str]]] = None
    """The sites' BGP speakers (``frr``, ``ryu``)."""
    speaker_library: Optional[str] = None
    """The library the Ryu sites imported (``ryu`` or ``os-ken``); null without Ryu sites."""
    dampening: Optional[DampingSummary] = None
    """Route-flap damping of the run (``bgp.dampening``); null when it was off."""
    sites: List[str] = Field(default_factory=list)
    """Site names, sorted."""
    probe_interval_s: Optional[Number] = None
    """The DNS probe's interval (1 / ``dns_rate``): every outage's ends are known to within it."""
    clients: Dict[str, ClientSummary] = Field(default_factory=dict)
    """Client name -> what it saw."""
    events: List[EventSummary] = Field(default_factory=list)
    """The scenario's events, in time order (``events[i]`` is the timeline's event i)."""
    health_agents: Dict[str, HealthAgent] = Field(default_factory=dict)
    """Site -> its health agent's settings, sorted by site."""
    health: List[HealthEntry] = Field(default_factory=list)
    """Every health state change, late application and address removal, in time order."""
    routers: Dict[str, RouterSummary] = Field(default_factory=dict)
    """Router name -> its route changes and slowest convergence."""
    network: NetworkSummary = Field(default_factory=NetworkSummary)
    """The network: every router's route changes and the slowest convergence."""
    expect: List[ExpectResult] = Field(default_factory=list)
    """The scenario's expectations, evaluated."""
    caveats: List[str] = Field(default_factory=list)
    """What limits the figures: knobs a speaker cannot honour, deaths, an early stop."""
    processes: List[ProcessDeath] = Field(default_factory=list)
    """Processes of the run that died on their own."""
    stopped: Optional[RunStop] = None
    """Why the run stopped early; null if it did not."""
    pcap: List[Capture] = Field(default_factory=list)
    """Per packet capture: the resets the sites sent (empty without ``run --pcap``)."""
    policy: List[PolicyCheck] = Field(default_factory=list)
    """The valley-free checks of the run: after convergence and at the end (empty
    without relationships)."""
    catchment: List[CatchmentShares] = Field(default_factory=list)
    """Each site's share of the clients, by count and by weight: at the start,
    after each event, at the end (empty without clients)."""
    load: Optional[LoadSummary] = None
    """Load on the sites, the attack and who suffered; null without load or attack records."""
    resolution: Optional[ResolutionSummary] = None
    """Anycast versus GSLB: the ``resolve`` probe's ticks per method, the steady state and
    every failover; null without ``resolve`` records."""
    interrupted: Optional[str] = Field(default=None, exclude_if=_omit_none)
    """Why the timeline did not finish (``stopped: REASON at t=12.3 s``); left out when it did."""

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        return upgrade(data) if isinstance(data, Mapping) else data

    @classmethod
    def of(cls, value: Union[Summary, Mapping[str, Any]]) -> Summary:
        """A summary as the model: itself, or a summary.json object validated.

        Raises:
            pydantic.ValidationError: the object is not a summary.
        """
        return value if isinstance(value, Summary) else cls.model_validate(value)

    def to_dict(self) -> Dict[str, Any]:
        """The summary as the JSON object of summary.json (fields left out when null omitted)."""
        return self.model_dump(by_alias=True)

    def to_json(self) -> str:
        """The text of summary.json: keys sorted, two-space indent, a final newline.

        Raises:
            ValueError: a number is not finite (JSON has no NaN or infinity).
        """
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False) + "\n"

    def moved_clients(self) -> List[str]:
        """Clients some event moved, or whose site at the end differs from the start.

        Returns:
            Client names in the summary's order.
        """
        moved = {name for event in self.events for name in event.moved}
        for name, client in self.clients.items():
            before, after = client.site_before, client.site_after
            if before and after and before != after:
                moved.add(name)
        return [name for name in self.clients if name in moved]

    @property
    def expectations_met(self) -> bool:
        """True if every expectation passed (none not evaluated)."""
        return all(e.passed for e in self.expect)


# ------------------------------------------------------- older spellings
#: Older spellings of an expectation's fields, first match wins (the report once read them all).
EXPECT_SPELLINGS = {
    "check": ("check", "name", "description", "expect"),
    "passed": ("passed", "ok", "pass"),
    "detail": ("detail", "actual", "message"),
}


def _words(value: Any) -> str:
    """A detail of an older expectation as text: lists joined by commas, mappings as k=v."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
    return str(value)


def _expectation(entry: Any) -> Any:
    """An expectation entry in the current spelling: ``{check, passed, detail}``.

    A verdict that is not a boolean is no verdict (not evaluated).
    """
    if isinstance(entry, str):
        return {"check": entry}
    if not isinstance(entry, Mapping):
        return entry
    out: Dict[str, Any] = {}
    label = next((entry[k] for k in EXPECT_SPELLINGS["check"] if k in entry), None)
    if label is not None:
        out["check"] = label if isinstance(label, str) else _words(label)
    verdicts = [entry[k] for k in EXPECT_SPELLINGS["passed"] if isinstance(entry.get(k), bool)]
    if verdicts:
        out["passed"] = verdicts[0]
    detail = next((entry[k] for k in EXPECT_SPELLINGS["detail"] if k in entry), None)
    if detail is not None:
        out["detail"] = detail if isinstance(detail, str) else _words(detail)
    return out


def upgrade(data: Mapping[str, Any]) -> Dict[str, Any]:
    """A summary.json object of an older version in the current spelling (the one place for it).

    - ``expect[]`` entries: a plain string is the check's words; ``name``,
      ``description`` or ``expect`` are ``check``, ``ok`` or ``pass`` are
      ``passed`` (a boolean), ``actual`` or ``message`` are ``detail``;
    - ``clients.*.tcp`` without ``reset_events`` (older than flapping sites):
      one reset per reset stream, ``reset_events = reset``.

    Args:
        data: the object as read (not changed).

    Returns:
        A shallow copy with those parts converted; anything else as it was.
    """
    out = dict(data)
    expect = out.get("expect")
    if isinstance(expect, list):
        out["expect"] = [_expectation(e) for e in expect]
    clients = out.get("clients")
    if isinstance(clients, Mapping):
        upgraded = {}
        for name, client in clients.items():
            tcp = client.get("tcp") if isinstance(client, Mapping) else None
            if isinstance(tcp, Mapping) and "reset_events" not in tcp and "reset" in tcp:
                client = {**client, "tcp": {**tcp, "reset_events": tcp["reset"]}}
            upgraded[name] = client
        out["clients"] = upgraded
    return out


__all__ = [
    "AttackSource",
    "AttackSummary",
    "Capture",
    "Cascade",
    "CatchmentShares",
    "ClientLoad",
    "ClientSummary",
    "DampingSummary",
    "DnsOutage",
    "Detection",
    "DnsSummary",
    "EventRouter",
    "EventSummary",
    "ExpectResult",
    "FailoverClient",
    "FailoverFigures",
    "HealthAddress",
    "HealthAgent",
    "HealthEntry",
    "HealthRetry",
    "HealthState",
    "LegitFigures",
    "LegitGroup",
    "LoadPhase",
    "LoadSummary",
    "MethodFailover",
    "MethodStreams",
    "MethodSummary",
    "Move",
    "NetworkSummary",
    "OutageParts",
    "PolicyCheck",
    "PolicyViolation",
    "Number",
    "ProcessDeath",
    "ResolutionSummary",
    "ResolverSettings",
    "RouterSummary",
    "RunStop",
    "ServedClient",
    "SiteCapacity",
    "SiteLoad",
    "SiteShare",
    "SteadyState",
    "StreamClient",
    "StreamFigures",
    "StreamTotals",
    "Summary",
    "TcpBreak",
    "TcpSummary",
    "upgrade",
]
