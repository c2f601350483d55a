"""The scenario model: traffic, BGP timers, a timeline of events, expectations.

These pydantic models are the single definition of the scenario file format:
the loader validates YAML against them, and the JSON Schema shipped in
``testbed/schema/scenario.schema.json`` is generated from them.  Checks that
need the whole scenario (time order, event indices) live in
:mod:`testbed.scenario.validate`, and so do the checks against a topology
(sites, clients and links that must exist).

Events and checks are discriminated unions: the ``event`` (or ``check``)
field says which kind an entry is, and each kind has its own fields.  An
event kind is one class, which also knows what it acts on
(:meth:`EventBase.target`), its line in the run's output
(:meth:`EventBase.describe`), and by its flags whether it acts on a site,
whether ``restore`` undoes it, whether it is part of the attack, acts on a
link or is a failure someone must notice (:data:`SITE_EVENTS`,
:data:`RESTORABLE`, :data:`ATTACK_EVENTS`, :data:`NOT_SITE_EVENTS`,
:data:`FAILURE_EVENTS` follow); a record of ``events.jsonl`` finds its class
again by the event's name (:func:`event_class`, :func:`event_from_record`).

A ``site`` of an event is a site name of the topology, or ``busiest``: the
site serving the most clients when the timeline starts (after ``settle``),
measured by the engine from the routers' forwarding tables (ties: the site
listed first in the topology).  It is resolved once, so every event naming ``busiest`` acts on
the same site, and the run's records name the real site.
"""

from __future__ import annotations

from typing import (
    Annotated,
    Any,
    ClassVar,
    Dict,
    List,
    Literal,
    Optional,
    Tuple,
    Type,
    Union,
    get_args,
)

from pydantic import Field, field_validator, model_validator

from testbed.probes import defaults
from testbed.probes import kinds as probe_kinds
from testbed.topology.model import (
    NAME_PATTERN,
    SITE_NAME_MAX,
    Attackers,
    Community,
    Float,
    Health,
    Int,
    Strict,
    TimerOverride,
    is_name,
    on_off_mapping,
)

#: The site an event acts on when it names ``busiest`` (resolved at run time).
BUSIEST = "busiest"
#: Scenario names: like topology names.
SCENARIO_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"
#: A topology reference: a shipped name, a path, or a generator spec (``chain:5``).
TOPOLOGY_REF_PATTERN = r"^[A-Za-z0-9._/:~+-]{1,200}$"
#: The words a check's ``clients`` may be instead of a list of client names.
SELECTOR_WORDS = ("moved", "unmoved", "affected", "unaffected", "all")

Name = Annotated[str, Field(pattern=NAME_PATTERN)]
SiteRef = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN,
        max_length=SITE_NAME_MAX,
        description="a site of the topology, or 'busiest' (the site serving the most "
        "clients when the timeline starts)",
    ),
]
Seconds = Annotated[
    Float, Field(ge=0, le=3600, description="seconds from the start of the timeline")
]
Selector = Union[Literal["moved", "unmoved", "affected", "unaffected", "all"], List[str]]


# ------------------------------------------------------------------ settings
def rate_field(default: float, most: float, description: str) -> Any:
    """A rate setting of :class:`Traffic`: ``default``, above 0 and at most ``most``."""
    return Field(default, gt=0, le=most, description=description)


class Traffic(Strict):
    """What every client sends to the anycast address during the run."""

    dns_rate: Float = rate_field(
        defaults.DNS_RATE, defaults.MAX_DNS_RATE, "DNS queries per second per client"
    )
    dns_timeout: Float = Field(
        defaults.DNS_TIMEOUT,
        gt=0,
        le=10,
        description="a DNS query unanswered after this many seconds is lost",
    )
    tcp_streams: Int = Field(
        defaults.TCP_STREAMS, ge=0, le=16, description="long-lived TCP streams per client"
    )
    tcp_interval: Float = Field(
        defaults.TCP_INTERVAL, gt=0, le=10, description="seconds between messages on a TCP stream"
    )
    tcp_timeout: Float = Field(
        defaults.TCP_TIMEOUT,
        gt=0,
        le=60,
        description="a TCP stream without an answer this long times out",
    )
    tcp_port: Int = Field(
        defaults.STREAM_PORT, ge=1, le=65535, description="TCP port of the stream service"
    )
    http_rate: Float = rate_field(
        defaults.HTTP_RATE,
        defaults.MAX_HTTP_RATE,
        "http-short: HTTP requests per second per client, each on a fresh connection",
    )
    dnstcp_rate: Float = rate_field(
        defaults.DNSTCP_RATE,
        defaults.MAX_DNSTCP_RATE,
        "dns-tcp: DNS-over-TCP queries per second per client, a connection each",
    )
    quic_port: Int = Field(
        defaults.QUIC_PORT, ge=1, le=65535, description="UDP port of the quic service"
    )
    quic_shared_port: Int = Field(
        defaults.QUIC_SHARED_PORT,
        ge=1,
        le=65535,
        description="UDP port of the quic-shared service (not quic_port's)",
    )
    quic_connections: Int = Field(
        defaults.QUIC_CONNECTIONS,
        ge=1,
        le=defaults.MAX_QUIC_CONNECTIONS,
        description="quic, quic-shared: long QUIC connections per client",
    )
    resolve_rate: Float = rate_field(
        defaults.RESOLVE_RATE,
        defaults.MAX_RESOLVE_RATE,
        "resolve: lookups per second per client and published name",
    )
    resolve_streams: Int = Field(
        defaults.RESOLVE_STREAMS,
        ge=0,
        le=defaults.MAX_RESOLVE_STREAMS,
        description="resolve: long TCP streams per client and published name, each "
        "resolving the name before every connection (0: none)",
    )
    retry_backoff: Float = Field(
        defaults.RETRY_BACKOFF,
        gt=0,
        le=defaults.MAX_RETRY_BACKOFF,
        description="tcp-retry: seconds before the first reconnect, doubled after each failure",
    )
    retry_backoff_max: Float = Field(
        defaults.RETRY_BACKOFF_MAX,
        gt=0,
        le=defaults.MAX_RETRY_BACKOFF_CEILING,
        description="tcp-retry: the longest reconnect delay, seconds (at least retry_backoff)",
    )
    kinds: List[str] = Field(
        default_factory=lambda: list(probe_kinds.DEFAULT_KINDS),
        min_length=1,
        max_length=8,
        description="probe kinds every client runs: dns, tcp-stream, and the transport "
        "remedies (tcp-retry, http-short, hybrid, quic, dns-tcp)",
    )

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, value: List[str]) -> List[str]:
        known = probe_kinds.kinds()
        for name in value:
            if name not in known:
                raise ValueError(f"unknown probe kind {name!r} (one of {', '.join(known)})")
        if len(set(value)) != len(value):
            raise ValueError("a probe kind is named twice")
        return value

    @field_validator("tcp_port")
    @classmethod
    def _not_dns_port(cls, value: int) -> int:
        if value == 53:
            raise ValueError("port 53 is the DNS server's: choose another TCP port")
        return value

    @field_validator("quic_port", "quic_shared_port")
    @classmethod
    def _not_dns_udp_port(cls, value: int) -> int:
        if value == 53:
            raise ValueError("port 53 is the DNS server's: choose another UDP port")
        return value

    @model_validator(mode="after")
    def _timeout_covers_interval(self) -> Traffic:
        if self.tcp_timeout <= self.tcp_interval:
            raise ValueError(
                f"tcp_timeout ({self.tcp_timeout:g}) must be longer than "
                f"tcp_interval ({self.tcp_interval:g})"
            )
        return self

    @model_validator(mode="after")
    def _quic_ports_differ(self) -> Traffic:
        if self.quic_port == self.quic_shared_port:
            raise ValueError(
                f"quic_port and quic_shared_port are both {self.quic_port}: "
                "the two QUIC services need a UDP port each"
            )
        return self

    @model_validator(mode="after")
    def _backoff_ceiling(self) -> Traffic:
        if self.retry_backoff_max < self.retry_backoff:
            raise ValueError(
                f"retry_backoff_max ({self.retry_backoff_max:g}) must be at least "
                f"retry_backoff ({self.retry_backoff:g})"
            )
        return self


class ScenarioDampening(Strict):
    """Route-flap damping for the run (FRR's ``bgp dampening`` on every FRR router).

    ``on`` (FRR's defaults), ``off``, or a mapping, which turns damping on:
    the fields given replace the topology's ``bgp.dampening`` fields, the
    others keep them (or FRR's defaults).  Half-life and max-suppress are in
    minutes (FRR's unit); the rules between fields are checked on the result.
    """

    enabled: Optional[bool] = Field(None, description="damping on (true) or off (false)")
    # the same bounds as the topology's Dampening (a unit test keeps them equal)
    half_life: Optional[Int] = Field(None, ge=1, le=45, description="half-life (minutes)")
    reuse: Optional[Int] = Field(None, ge=1, le=20000, description="reuse below this penalty")
    suppress: Optional[Int] = Field(None, ge=1, le=50000, description="suppress from this penalty")
    max_suppress: Optional[Int] = Field(
        None, ge=1, le=255, description="longest suppression (minutes)"
    )

    @model_validator(mode="before")
    @classmethod
    def _on_off(cls, value: Any) -> Any:
        return on_off_mapping(value, "half_life, reuse, suppress, max_suppress")


class ScenarioBgp(TimerOverride):
    """BGP timers for every session of the topology, in seconds, and route-flap damping.

    Each timer given replaces the topology's default (``bgp``) and the same
    field of every per-session override (``sessions[].timers``); fields left
    out keep the topology's values.  ``dampening`` replaces the fields it
    gives of the topology's ``bgp.dampening``.
    """

    dampening: Optional[ScenarioDampening] = Field(
        None,
        description="route-flap damping: on, off, or {half_life, reuse, suppress, max_suppress} "
        "(minutes for half_life and max_suppress)",
    )

    @model_validator(mode="after")
    def _hold_covers_keepalives(self) -> ScenarioBgp:
        if self.hold is not None and self.keepalive is not None and self.hold < 3 * self.keepalive:
            raise ValueError(
                f"hold ({self.hold}) must be at least 3 x keepalive ({self.keepalive})"
            )
        return self

    def given(self) -> dict:
        """The timers this scenario sets (field -> seconds), unset ones left out."""
        return self.model_dump(exclude_none=True)


class ScenarioHealth(Health):
    """Health agents for the run: the topology's ``health`` block, for the sites named.

    ``sites``: ``all`` or a list of site names; every other field as in a
    topology site's ``health`` (interval, timeout, rise, fall, checks, action,
    med, prepend, min_sites).
    """

    sites: Union[Literal["all"], List[str]] = Field("all", description="all, or site names")


class ScenarioBfd(Strict):
    """BFD for every BGP session of the topology (FRR's bfdd).

    ``bfd: on`` (or ``off``) is short for ``bfd: {enabled: true}``.  ``enabled``
    replaces the topology's ``bfd.enabled`` *and* every ``sessions[].bfd``;
    ``interval`` (ms) and ``multiplier`` replace the topology's.  Fields left
    out keep the topology's values.
    """

    enabled: Optional[bool] = Field(None, description="BFD on every session (on/off)")
    # the same bounds as the topology's Bfd (a unit test keeps them equal)
    interval: Optional[Int] = Field(
        None, ge=10, le=60000, description="transmit/receive interval (ms)"
    )
    multiplier: Optional[Int] = Field(None, ge=2, le=255, description="detect multiplier")

    @model_validator(mode="before")
    @classmethod
    def _on_off(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return {"enabled": value}
        if isinstance(value, str) and value.strip().lower() in ("on", "off"):
            return {"enabled": value.strip().lower() == "on"}
        if value is None:
            return {}
        if isinstance(value, dict):
            return value
        raise ValueError(
            f"must be on, off or a mapping (enabled, interval, multiplier) (got {value!r})"
        )

    def given(self) -> dict:
        """The BFD settings this scenario sets (field -> value), unset ones left out."""
        return self.model_dump(exclude_none=True)


# -------------------------------------------------------------------- events
class EventBase(Strict):
    """Fields every event has."""

    at: Seconds
    #: It acts on a site (it has a ``site`` field): :data:`SITE_EVENTS`.
    site_event: ClassVar[bool] = False
    #: ``restore`` undoes it: :data:`RESTORABLE`.
    restorable: ClassVar[bool] = False
    #: It acts on a link (its target is ``a-b``): :data:`NOT_SITE_EVENTS`.
    link_event: ClassVar[bool] = False
    #: It starts or stops the attack: :data:`ATTACK_EVENTS` (and :data:`NOT_SITE_EVENTS`).
    attack: ClassVar[bool] = False
    #: Its effect is a failure some daemon must notice (bfdd, bgpd, a health
    #: agent): :data:`FAILURE_EVENTS`, where the analysis looks for who declared it.
    failure: ClassVar[bool] = False

    def target(self) -> str:
        """The thing it acts on (``target`` in events.jsonl): its site, unless told otherwise."""
        return str(getattr(self, "site", None))

    def describe(self) -> str:
        """One human line for it (the run's output), e.g. ``withdraw site lon``."""
        name = str(getattr(self, "event", type(self).__name__))
        return f"{name.replace('_', ' ')} site {getattr(self, 'site', None)}"


class FailSite(EventBase):
    """Fail a site. ``how``: ``link-down`` (carrier loss on the site's upstream
    links: the upstream notices at once), ``silent`` (the site's daemons are
    SIGSTOPped and its traffic dropped, links stay up: only the hold timer or
    BFD notices), ``router-crash`` (the site router's daemons are killed)."""

    event: Literal["fail_site"]
    site: SiteRef
    how: Literal["link-down", "silent", "router-crash"] = "link-down"
    site_event: ClassVar[bool] = True
    restorable: ClassVar[bool] = True
    failure: ClassVar[bool] = True

    def describe(self) -> str:
        """``fail site lon (link-down)``."""
        return f"fail site {self.site} ({self.how})"


class KillService(EventBase):
    """Kill a site's server process(es) while the route stays announced: the
    classic anycast blackhole. ``service``: ``dns``, ``tcp`` or ``all``."""

    event: Literal["kill_service"]
    site: SiteRef
    service: Literal["dns", "tcp", "all"] = "all"
    site_event: ClassVar[bool] = True
    restorable: ClassVar[bool] = True
    failure: ClassVar[bool] = True

    def describe(self) -> str:
        """``kill dns service at site lon``."""
        return f"kill {self.service} service at site {self.site}"


class Withdraw(EventBase):
    """Withdraw the site's announcement gracefully (maintenance): the routers
    and services keep running and BGP moves traffic away."""

    event: Literal["withdraw"]
    site: SiteRef
    site_event: ClassVar[bool] = True
    restorable: ClassVar[bool] = True


class Restore(EventBase):
    """Undo everything done to a site so far, latest first: links up, daemons
    continued or restarted, services restarted, route announced, prepending,
    MED and communities back to the topology's."""

    event: Literal["restore"]
    site: SiteRef
    site_event: ClassVar[bool] = True


class Prepend(EventBase):
    """Set the AS-path prepending of the site's announcement (0 removes it)."""

    event: Literal["prepend"]
    site: SiteRef
    count: Int = Field(ge=0, le=10, description="prepends on the site's announcement")
    site_event: ClassVar[bool] = True
    restorable: ClassVar[bool] = True

    def describe(self) -> str:
        """``prepend 3 on site lon``."""
        return f"prepend {self.count} on site {self.site}"


class Med(EventBase):
    """Set the MED on the site's announcement (0 is what a missing MED counts as)."""

    event: Literal["med"]
    site: SiteRef
    value: Int = Field(ge=0, le=4294967295, description="the MED")
    site_event: ClassVar[bool] = True
    restorable: ClassVar[bool] = True

    def describe(self) -> str:
        """``med 50 on site lon``."""
        return f"med {self.value} on site {self.site}"


class SetCommunities(EventBase):
    """Replace the communities the site attaches to its announcements (an empty
    list removes them): ``graceful-shutdown`` asks the upstreams to prefer any
    other route (local preference 0) before the site withdraws; ``no-export``,
    a transit's action communities.  A session's own ``communities`` stay."""

    event: Literal["set_communities"]
    site: SiteRef
    communities: List[Community] = Field(
        max_length=32,
        description="'A:B', 'A:B:C', no-export, no-advertise, no-peer, graceful-shutdown; "
        "[] removes the site's communities",
    )
    site_event: ClassVar[bool] = True
    restorable: ClassVar[bool] = True

    def describe(self) -> str:
        """``communities graceful-shutdown on site lon`` (``none`` for ``[]``)."""
        return f"communities {' '.join(self.communities or []) or 'none'} on site {self.site}"


class Backend(EventBase):
    """Fail the run's shared backend (``down``: its process is killed) or start
    it again (``up``). Every health agent whose ``checks`` include ``backend``
    depends on it."""

    event: Literal["backend"]
    state: Literal["down", "up"]
    failure: ClassVar[bool] = True

    def target(self) -> str:
        """``backend``."""
        return "backend"

    def describe(self) -> str:
        """``backend down``."""
        return f"backend {self.state}"


class LinkEvent(EventBase):
    """Change a link between two directly linked nodes (routers, sites, clients,
    or single-router AS names). ``state``: ``down`` (carrier loss at both ends),
    ``up`` (undoes down and blackhole), ``blackhole`` (the link stays up and
    drops all traffic, BGP included, so only the hold timer or BFD notices)."""

    event: Literal["link"]
    a: Name
    b: Name
    state: Literal["down", "up", "blackhole"]
    link_event: ClassVar[bool] = True
    failure: ClassVar[bool] = True

    def target(self) -> str:
        """``a-b``."""
        return f"{self.a}-{self.b}"

    def describe(self) -> str:
        """``link na - eu down``."""
        return f"link {self.a} - {self.b} {self.state}"


class AttackStart(EventBase):
    """Start the attack: every attack source (``attackers`` of the topology or
    scenario) sends to the anycast service address, at its ``rate`` (or this
    event's), reached over ``ramp`` seconds.  It stops at ``attack_stop`` or at
    the end of the run, and never lasts longer than the ceiling of docs/load.md."""

    event: Literal["attack_start"]
    ramp: Float = Field(0.0, ge=0, le=60, description="seconds to reach the full rate")
    rate: Optional[Float] = Field(
        None, gt=0, description="packets/s per source (default: attackers.rate)"
    )
    attack: ClassVar[bool] = True

    def target(self) -> str:
        """``attack``."""
        return "attack"

    def describe(self) -> str:
        """``attack starts at 500 packets/s per source, 3 s ramp`` (the parts given)."""
        rate = f" at {self.rate:g} packets/s per source" if self.rate else ""
        ramp = f", {self.ramp:g} s ramp" if self.ramp else ""
        return f"attack starts{rate}{ramp}"


class AttackStop(EventBase):
    """Stop every attack source."""

    event: Literal["attack_stop"]
    attack: ClassVar[bool] = True

    def target(self) -> str:
        """``attack``."""
        return "attack"

    def describe(self) -> str:
        """``attack stops``."""
        return "attack stops"


Event = Annotated[
    Union[
        FailSite,
        KillService,
        Withdraw,
        Restore,
        Prepend,
        Med,
        SetCommunities,
        LinkEvent,
        Backend,
        AttackStart,
        AttackStop,
    ],
    Field(discriminator="event"),
]


def _event_name(cls: Type[EventBase]) -> str:
    """An event class's name in a timeline (its ``event`` literal)."""
    return str(get_args(cls.model_fields["event"].annotation)[0])


#: Event name -> its class, in :data:`Event`'s order.
EVENT_CLASSES: Dict[str, Type[EventBase]] = {
    _event_name(cls): cls for cls in get_args(get_args(Event)[0])
}
#: Event kinds that act on a site (they have a ``site`` field).
SITE_EVENTS: Tuple[str, ...] = tuple(n for n, c in EVENT_CLASSES.items() if c.site_event)
#: Event kinds that ``restore`` undoes (everything done to a site).
RESTORABLE: Tuple[str, ...] = tuple(n for n, c in EVENT_CLASSES.items() if c.restorable)
#: Event kinds that start and stop the attack (not phase boundaries of its load).
ATTACK_EVENTS: Tuple[str, ...] = tuple(n for n, c in EVENT_CLASSES.items() if c.attack)
#: Event kinds whose target is a link or the attack: they make no client ``affected``.
NOT_SITE_EVENTS: Tuple[str, ...] = tuple(
    n for n, c in EVENT_CLASSES.items() if c.link_event or c.attack
)
#: Event kinds whose effect someone must notice (the others the operator announces).
FAILURE_EVENTS: Tuple[str, ...] = tuple(n for n, c in EVENT_CLASSES.items() if c.failure)


def event_class(name: str) -> Optional[Type[EventBase]]:
    """The class of the event kind ``name`` (None: no such kind)."""
    return EVENT_CLASSES.get(name)


def event_from_record(name: str, params: Dict[str, Any]) -> Optional[EventBase]:
    """The event of a record (``events.jsonl``'s ``event`` and ``params``), not validated
    again (a field the record lacks is missing, or its default); None for an unknown kind."""
    cls = event_class(name)
    if cls is None:
        return None
    return cls.model_construct(**{**params, "event": name})


# -------------------------------------------------------------------- checks
def check_selector(value: Any) -> Any:
    """Validate a ``clients`` selector: a selector word or a list of client names.

    Args:
        value: the value from the file.

    Returns:
        The value unchanged.

    Raises:
        ValueError: neither a selector word nor a non-empty list of names.
    """
    words = ", ".join(SELECTOR_WORDS)
    if isinstance(value, str):
        if value not in SELECTOR_WORDS:
            raise ValueError(f"must be one of {words} or a list of client names (got {value!r})")
        return value
    if isinstance(value, list) and value:
        for name in value:
            if not isinstance(name, str) or not is_name(name):
                raise ValueError(f"{name!r} is not a client name")
        if len(set(value)) != len(value):
            raise ValueError("a client is listed twice")
        return value
    raise ValueError(f"must be one of {words} or a non-empty list of client names")


class ClientsCheck(Strict):
    """Base of the checks over a set of clients."""

    clients: Selector = Field(
        description="'moved' (clients some event moved), 'unmoved', 'affected' (clients "
        "whose site at the start is the target of a site event), 'unaffected', 'all', "
        "or a list of client names",
    )

    @field_validator("clients", mode="before")
    @classmethod
    def _selector(cls, value: Any) -> Any:
        return check_selector(value)


class Moves(Strict):
    """The client moves at event ``after`` (default: the first), to site ``to``
    if given (else anywhere else)."""

    check: Literal["moves"]
    client: Name
    to: Optional[Name] = Field(None, description="the site it moves to (default: any other)")
    after: Optional[Int] = Field(None, ge=0, le=10000, description="event index (default: 0)")


class Stays(Strict):
    """The client's site never changes during the run."""

    check: Literal["stays"]
    client: Name


class MaxOutage(ClientsCheck):
    """Every selected client's longest DNS outage is below ``below`` seconds."""

    check: Literal["max_outage"]
    below: Float = Field(gt=0, le=3600, description="seconds")


class TcpReset(ClientsCheck):
    """Every selected client has at most ``max`` (default 0 when ``min`` is not
    given) and at least ``min`` TCP streams reset during the run."""

    check: Literal["tcp_reset"]
    max: Optional[Int] = Field(
        None, ge=0, le=100000, description="most resets per client (default 0)"
    )
    min: Optional[Int] = Field(None, ge=0, le=100000, description="fewest resets per client")

    @model_validator(mode="after")
    def _bounds(self) -> TcpReset:
        if self.max is None and self.min is None:
            self.max = 0
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class DnsLoss(ClientsCheck):
    """Every selected client lost at most ``max_fraction`` (and at least
    ``min_fraction``, if given) of its DNS queries."""

    check: Literal["dns_loss"]
    max_fraction: Optional[Float] = Field(None, ge=0, le=1, description="0..1")
    min_fraction: Optional[Float] = Field(None, ge=0, le=1, description="0..1")

    @model_validator(mode="after")
    def _bounds(self) -> DnsLoss:
        if self.max_fraction is None and self.min_fraction is None:
            raise ValueError("give max_fraction, min_fraction or both")
        if (
            self.max_fraction is not None
            and self.min_fraction is not None
            and self.min_fraction > self.max_fraction
        ):
            raise ValueError(
                f"min_fraction ({self.min_fraction:g}) is above max_fraction "
                f"({self.max_fraction:g})"
            )
        return self


class Convergence(Strict):
    """The control plane converges within ``below`` seconds after event
    ``event`` (default: after every event that changed routes)."""

    check: Literal["convergence"]
    event: Optional[Int] = Field(
        None, ge=0, le=10000, description="event index (default: every event)"
    )
    below: Float = Field(gt=0, le=3600, description="seconds")


class ValleyFree(Strict):
    """Every path to the announced prefixes, in every router's BGP table, is
    valley-free given the topology's relationships: after convergence and at
    the end of the run (the topology must declare relationships)."""

    check: Literal["valley_free"]


#: The words a ``legit_loss`` check's ``clients`` may be instead of a list of client names.
ATTACK_SELECTOR_WORDS = ("attacked", "unattacked", "all")


class LegitLoss(ClientsCheck):
    """Every selected client lost at most ``max_percent`` (and at least
    ``min_percent``, if given) of its legitimate DNS queries during the attack.
    ``attacked``: the clients whose site at the attack's start was attacked
    (received more than 1% of the attack's packets); ``unattacked``: the others."""

    check: Literal["legit_loss"]
    clients: Union[Literal["attacked", "unattacked", "all"], List[str]] = Field(  # type: ignore[assignment]
        description="'attacked' (clients whose site at the attack's start received the "
        "attack), 'unattacked', 'all', or a list of client names",
    )
    max_percent: Optional[Float] = Field(None, ge=0, le=100, description="0..100")
    min_percent: Optional[Float] = Field(None, ge=0, le=100, description="0..100")

    @field_validator("clients", mode="before")
    @classmethod
    def _selector(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in ATTACK_SELECTOR_WORDS:
            words = ", ".join(ATTACK_SELECTOR_WORDS)
            raise ValueError(f"must be one of {words} or a list of client names (got {value!r})")
        return value if isinstance(value, str) else check_selector(value)

    @model_validator(mode="after")
    def _bounds(self) -> LegitLoss:
        if self.max_percent is None and self.min_percent is None:
            raise ValueError("give max_percent, min_percent or both")
        if (
            self.max_percent is not None
            and self.min_percent is not None
            and self.min_percent > self.max_percent
        ):
            raise ValueError(
                f"min_percent ({self.min_percent:g}) is above max_percent ({self.max_percent:g})"
            )
        return self


class CascadeCheck(Strict):
    """Whether a cascade happened (``happens: true``) or not (``false``): a site
    not overloaded in the attack's first phase overloaded after a later event
    (a withdrawal, a prepend, a failure pushing the attack onto it)."""

    check: Literal["cascade"]
    happens: bool = Field(description="true: a cascade must happen; false: none may")


#: Seconds after a site failure at which the share of clients still failing is measured
#: (:data:`testbed.analysis.resolution.CHECKPOINTS`): a ``still_failing`` check's ``after``.
RESOLUTION_CHECKPOINTS = (1, 10, 60)


class MethodCheck(Strict):
    """Base of the checks on one publishing method's figures (``summary.json`` ``resolution``:
    the ``resolve`` probe's ticks, with the topology's ``service``)."""

    method: Literal["anycast", "gslb"] = Field(
        description="the publishing method judged: anycast or gslb (the topology's "
        "service must publish it)"
    )


class Failover(MethodCheck):
    """Every client a site failure affected under ``method`` (served by the site just
    before, not after) was answered by another site within ``below`` seconds of the
    event, pooled over the events; a client never answered by another site in the
    event's window fails the check, and so does a run in which no event took a site
    out from the method's clients."""

    check: Literal["failover"]
    below: Float = Field(gt=0, le=3600, description="seconds")


class StillFailing(MethodCheck):
    """At most ``max`` of the clients a site failure affected under ``method`` were
    still failing (their latest tick got no answer from a healthy site) ``after``
    seconds after the event, pooled over the events whose window lasted that long."""

    check: Literal["still_failing"]
    after: Int = Field(
        description="seconds after the event: 1, 10 or 60",
        json_schema_extra={"enum": list(RESOLUTION_CHECKPOINTS)},
    )
    max: Float = Field(ge=0, le=1, description="the largest share still failing (0..1)")

    @field_validator("after")
    @classmethod
    def _checkpoint(cls, value: int) -> int:
        if value not in RESOLUTION_CHECKPOINTS:
            raise ValueError(f"must be one of {', '.join(map(str, RESOLUTION_CHECKPOINTS))}")
        return value


class NearestShare(MethodCheck):
    """At least ``min`` of the method's clients were served by their nearest site (by
    the topology's link delays) in the steady state, before the first event."""

    check: Literal["nearest_share"]
    min: Float = Field(ge=0, le=1, description="the smallest share on their nearest site (0..1)")


#: The checks on the resolution figures (they need the ``resolve`` probe).
METHOD_CHECKS = ("failover", "still_failing", "nearest_share")


Check = Annotated[
    Union[
        Moves,
        Stays,
        MaxOutage,
        TcpReset,
        DnsLoss,
        Convergence,
        ValleyFree,
        LegitLoss,
        CascadeCheck,
        Failover,
        StillFailing,
        NearestShare,
    ],
    Field(discriminator="check"),
]


# ------------------------------------------------------------------ scenario
class Scenario(Strict):
    """A topology, traffic, a timeline of events, a duration and expectations.

    Probes start ``settle`` seconds before the timeline; ``at`` of every event
    and ``duration`` count from the timeline's start, so a run lasts
    ``settle + duration`` seconds of traffic.
    """

    name: str = Field(pattern=SCENARIO_NAME_PATTERN)
    description: str = Field("", description="one line, shown by `anycast-testbed list`")
    topology: str = Field(
        "world",
        pattern=TOPOLOGY_REF_PATTERN,
        description="a topology name, a file path (relative to the scenario file), "
        "or a generator spec such as chain:5",
    )
    duration: Float = Field(gt=0, le=3600, description="seconds of timeline")
    settle: Float = Field(
        5.0, ge=1, le=600, description="seconds of traffic before the timeline starts"
    )
    traffic: Traffic = Field(default_factory=Traffic)
    bgp: ScenarioBgp = Field(
        default_factory=ScenarioBgp,
        description="timers for every BGP session; unset fields keep the topology's",
    )
    bfd: ScenarioBfd = Field(
        default_factory=ScenarioBfd,
        description="BFD for every BGP session: on, off, or {enabled, interval, multiplier}; "
        "unset fields keep the topology's",
    )
    health: Optional[ScenarioHealth] = Field(
        None, description="health agents on these sites for the run (off when absent)"
    )
    attackers: Optional[Attackers] = Field(
        None, description="attack sources for the run (replace the topology's)"
    )
    topology_set: Dict[str, Any] = Field(
        default_factory=dict,
        description="topology keys set for the run, as --set topology.KEY=VALUE sets them "
        "(e.g. unicast: true); --set wins",
    )
    timeline: List[Event] = Field(
        default_factory=list, description="events in time order, each before duration"
    )
    expect: List[Check] = Field(default_factory=list, description="checks on the run's summary")

    @field_validator("description")
    @classmethod
    def _one_line(cls, value: str) -> str:
        value = value.strip()
        if "\n" in value:
            raise ValueError("must be one line")
        return value
