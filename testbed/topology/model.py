"""The topology model: ASes, routers, links, sessions, sites and clients.

These pydantic models are the single definition of the topology file format:
the loader validates YAML against them, and the JSON Schema shipped in
``testbed/schema/topology.schema.json`` is generated from them.  Checks that
need the whole topology (names that must exist, roles that must fit) live in
:mod:`testbed.topology.validate`.
"""

from __future__ import annotations

import math
import re
import weakref
from ipaddress import IPv4Address, IPv4Network
from types import MappingProxyType
from typing import Annotated, Any, Dict, List, Literal, Mapping, Optional, Tuple, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Tag,
    field_validator,
    model_validator,
)
from pydantic import Strict as StrictMode
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

#: Node names end up in interface names (``NAME-eK``, at most 15 characters)
#: and in shell commands: lower-case letters, digits and inner hyphens.
NAME_PATTERN = r"^[a-z][a-z0-9-]{0,8}[a-z0-9]$|^[a-z]$"
NAME_MAX = 10
#: Words that scenarios and checks use in place of a name: no node may be called so.
RESERVED_NAMES = ("busiest", "all", "moved", "unmoved", "affected", "unaffected")
#: Sites name their servers ``SITE-N``, so site names are shorter.
SITE_NAME_MAX = 8

Name = str


def is_name(value: str) -> bool:
    """True when ``value`` is a whole node name (anchored at both ends: no trailing newline)."""
    return re.fullmatch(NAME_PATTERN, value) is not None


Role = Literal["transit", "eyeball", "anycast"]
Speaker = Literal["frr", "ryu", "exabgp"]
#: The routing daemon of an AS's routers (sites choose their ``speaker`` instead).
Daemon = Literal["frr", "bird"]
HealthAction = Literal["withdraw", "med", "prepend"]

_DURATION = re.compile(r"\s*(\d{1,12}(?:\.\d{1,12})?)\s*(us|ms|s)?\s*")
#: The longest link delay or jitter (ms): longer is no network a person emulates.
MAX_DELAY_MS = 10_000.0
#: The highest link bandwidth (Mbit/s): 100 Gbit/s.
MAX_BANDWIDTH_MBIT = 100_000.0


def parse_ms(value: Any) -> Optional[float]:
    """Parse a delay such as ``20ms``, ``0.5s`` or a bare number of ms.

    Args:
        value: the value from the file.

    Returns:
        Milliseconds, or None when no value was given.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("must be a duration like '20ms' or '0.5s'")
    if isinstance(value, (int, float)):
        ms = float(value)
    else:
        match = _DURATION.fullmatch(str(value))
        if not match:
            raise ValueError("must be a duration like '20ms' or '0.5s'")
        number, unit = float(match.group(1)), match.group(2) or "ms"
        ms = number * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    if not math.isfinite(ms):
        raise ValueError("must be a finite duration")
    if ms < 0:
        raise ValueError("must not be negative")
    if ms > MAX_DELAY_MS:
        raise ValueError(f"must be at most {MAX_DELAY_MS / 1000:g} s")
    return ms


#: An integer field, in pydantic's strict mode: ``true``/``false`` are refused,
#: not read as 1 and 0 (and so is text such as ``"3"``: YAML gives numbers).
Int = Annotated[int, StrictMode()]
#: A number field, as :data:`Int` (an integer is a number too).
Float = Annotated[float, StrictMode()]


#: The well-known communities a file may name (RFC 1997, RFC 3765, RFC 8326),
#: with their values; the numeric spellings (``65535:65281``) mean the same.
WELL_KNOWN_COMMUNITIES: Dict[str, Tuple[int, int]] = {
    "no-export": (65535, 65281),
    "no-advertise": (65535, 65282),
    "no-peer": (65535, 65284),
    "graceful-shutdown": (65535, 0),
}
#: The largest part of a standard (``A:B``) and of a large (``A:B:C``) community.
STANDARD_PART_MAX = 65535
LARGE_PART_MAX = 4294967295
_COMMUNITY_TEXT = (
    "a community is 'A:B' (each 0-65535), a large community 'A:B:C' "
    "(each 0-4294967295), or one of " + ", ".join(WELL_KNOWN_COMMUNITIES)
)


class Community(str):
    """A BGP community, as files and frr.conf write it (the text is the value).

    A value type with its domain rules, the way ExaBGP's ``HoldTime`` is an
    ``int`` that knows its limits: ``Community.parse`` refuses anything that
    is not a standard community ``A:B`` (RFC 1997, each part 0-65535), a
    large community ``A:B:C`` (RFC 8092, each part 0-4294967295) or a
    well-known name (``no-export``, ``no-advertise``, ``no-peer``,
    ``graceful-shutdown``, in lower case), and writes every value one way:
    the numeric spellings of well-known values as their names (``65535:0``
    is ``graceful-shutdown``), numbers without leading zeros.
    In a pydantic model the field is a string in the JSON Schema.
    """

    @classmethod
    def parse(cls, value: Any) -> Community:
        """The community ``value`` spells.

        Raises:
            ValueError: not text, not a community, or a part out of range.
        """
        if isinstance(value, Community):
            return value
        if not isinstance(value, str):
            raise ValueError(f"must be text: {_COMMUNITY_TEXT}")
        text = value
        if text in WELL_KNOWN_COMMUNITIES:
            return str.__new__(cls, text)
        parts = text.split(":")
        if len(parts) not in (2, 3) or not all(p.isdigit() and p.isascii() for p in parts):
            raise ValueError(f"not a community: {_COMMUNITY_TEXT}")
        # more than 10 digits is out of range anyway (and int() of a huge text is slow)
        numbers = [int(p) if len(p.lstrip("0")) <= 10 else LARGE_PART_MAX + 1 for p in parts]
        if len(numbers) == 2:
            if max(numbers) > STANDARD_PART_MAX:
                raise ValueError(
                    "each part of a standard community is 0-65535: for bigger numbers "
                    "(a 4-byte AS number) use a large community 'A:B:C'"
                )
            for name, known in WELL_KNOWN_COMMUNITIES.items():
                if tuple(numbers) == known:
                    return str.__new__(cls, name)
        elif max(numbers) > LARGE_PART_MAX:
            raise ValueError("each part of a large community is 0-4294967295")
        return str.__new__(cls, ":".join(str(n) for n in numbers))

    @property
    def large(self) -> bool:
        """True for a large community (``A:B:C``)."""
        return self.count(":") == 2

    @property
    def well_known(self) -> bool:
        """True for a well-known community (``no-export``, ...)."""
        return str(self) in WELL_KNOWN_COMMUNITIES

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.parse, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        names = "|".join(WELL_KNOWN_COMMUNITIES)
        return {
            "type": "string",
            "pattern": rf"^(\d+:\d+|\d+:\d+:\d+|{names})$",
            "description": _COMMUNITY_TEXT,
        }


class Strict(BaseModel):
    """Base of every file model: unknown fields are errors (a typo must not pass
    silently) and numbers are finite (no ``.inf``, ``.nan``).  Number fields are
    :data:`Int` and :data:`Float`, so ``true``/``false`` count only where a yes/no
    is meant.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


def timer_problem(keepalive: int, hold: int) -> Optional[str]:
    """What is wrong with a keepalive and hold time pair, None if nothing.

    The one rule for every set of BGP timers (the topology's ``bgp``, a
    scenario's, and each session's once its overrides are merged): the hold
    time covers at least three keepalives (RFC 4271 suggests hold = 3 x
    keepalive), so one lost keepalive does not drop the session.
    """
    if hold < 3 * keepalive:
        return f"hold ({hold}) must be at least 3 x keepalive ({keepalive})"
    return None


#: FRR's ``bgp dampening`` ranges (FRR 8.4, bgpd/bgp_route.c): half-life and
#: max-suppress in minutes, reuse and suppress in penalty units (a withdrawal
#: adds 1000, an attribute change 500).
DAMPENING_RANGES: Mapping[str, Tuple[int, int]] = MappingProxyType(
    {"half_life": (1, 45), "reuse": (1, 20000), "suppress": (1, 50000), "max_suppress": (1, 255)}
)
#: FRR's fixed penalty for one withdrawal (``DEFAULT_PENALTY``).
FLAP_PENALTY = 1000


def on_off_mapping(value: Any, what: str) -> Any:
    """``on``/``off``/``true``/``false`` as ``{enabled: ...}``; a mapping without
    ``enabled`` asks for it on (a block of settings is meant to be used)."""
    if isinstance(value, bool):
        return {"enabled": value}
    if isinstance(value, str) and value.strip().lower() in ("on", "off"):
        return {"enabled": value.strip().lower() == "on"}
    if isinstance(value, dict):
        return value if "enabled" in value else {"enabled": True, **value}
    raise ValueError(f"must be on, off or a mapping ({what}) (got {value!r})")


def dampening_problem(
    half_life: int, reuse: int, suppress: int, max_suppress: int
) -> Optional[str]:
    """What makes a damping setting useless, None if nothing.

    FRR refuses ``suppress`` below ``reuse`` (and then damps with whatever it
    had); it caps a route's penalty at ``reuse x 2^(max_suppress/half_life)``
    after the first withdrawal (1000), so a ``suppress`` above both is never
    reached and damping would silently do nothing.
    """
    if suppress <= reuse:
        return f"suppress ({suppress}) must exceed reuse ({reuse})"
    ceiling = int(reuse * 2 ** (max_suppress / half_life))
    if suppress > max(ceiling, FLAP_PENALTY):
        return (
            f"suppress ({suppress}) is never reached: FRR caps the penalty at reuse x "
            f"2^(max_suppress/half_life) = {ceiling}; lower suppress or raise max_suppress"
        )
    return None


class Dampening(Strict):
    """Route-flap damping (RFC 2439) on every FRR router: ``bgp dampening`` under ipv4 unicast.

    ``on`` is FRR's defaults (15 min, 750, 2000, 60 min); a mapping without
    ``enabled`` turns it on.  FRR counts half-life and max-suppress in whole
    minutes (1-45 and 1-255): within a run of minutes only small values act.
    """

    enabled: bool = Field(True, description="damping on every FRR router")
    half_life: Int = Field(15, ge=1, le=45, description="half-life of the penalty (minutes)")
    reuse: Int = Field(750, ge=1, le=20000, description="penalty below which a route is reused")
    suppress: Int = Field(
        2000, ge=1, le=50000, description="penalty from which a route is suppressed"
    )
    max_suppress: Int = Field(
        60, ge=1, le=255, description="longest suppression of a stable route (minutes)"
    )

    @model_validator(mode="before")
    @classmethod
    def _on_off(cls, value: Any) -> Any:
        return on_off_mapping(value, "half_life, reuse, suppress, max_suppress")

    @model_validator(mode="after")
    def _useful(self) -> Dampening:
        if self.enabled:
            problem = dampening_problem(
                self.half_life, self.reuse, self.suppress, self.max_suppress
            )
            if problem:
                raise ValueError(problem)
        return self


class BgpTimers(Strict):
    """BGP timers, in seconds. Always written explicitly into frr.conf.

    ``dampening`` (route-flap damping) rides along: a BGP setting of every
    router, not a timer of a session.
    """

    keepalive: Int = Field(1, ge=1, le=21845, description="keepalive interval (s)")
    hold: Int = Field(3, ge=3, le=65535, description="hold time (s), at least 3 x keepalive")
    mrai: Int = Field(0, ge=0, le=600, description="advertisement-interval (MRAI, s)")
    connect_retry: Int = Field(1, ge=1, le=65535, description="connect-retry timer (s)")
    dampening: Optional[Dampening] = Field(
        None,
        description="route-flap damping on every FRR router: on, off, or "
        "{half_life, reuse, suppress, max_suppress} (FRR's bgp dampening; absent: off)",
    )

    @model_validator(mode="after")
    def _hold_covers_keepalives(self) -> BgpTimers:
        problem = timer_problem(self.keepalive, self.hold)
        if problem:
            raise ValueError(problem)
        return self

    def timers(self) -> Dict[str, int]:
        """The session timers alone (keepalive, hold, mrai, connect_retry)."""
        return self.model_dump(exclude={"dampening"})


# The merged timers of a session obey the rule of BgpTimers (timer_problem):
# testbed.topology.validate checks them, as it knows the defaults.
class TimerOverride(Strict):
    """Per-session timer overrides; unset fields keep the topology's defaults."""

    keepalive: Optional[Int] = Field(None, ge=1, le=21845)
    hold: Optional[Int] = Field(None, ge=3, le=65535)
    mrai: Optional[Int] = Field(None, ge=0, le=600)
    connect_retry: Optional[Int] = Field(None, ge=1, le=65535)

    def given(self) -> dict:
        """The fields set (not None)."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Bfd(Strict):
    """BFD on BGP sessions, run by FRR's bfdd."""

    enabled: bool = False
    interval: Int = Field(100, ge=10, le=60000, description="transmit/receive interval (ms)")
    multiplier: Int = Field(3, ge=2, le=255, description="detect multiplier")


class LinkParams(Strict):
    """Link shaping; applied with tc netem where the kernel has it."""

    delay: Optional[Union[str, Float]] = Field(
        None, description="one-way delay, e.g. '20ms' (a bare number is ms; at most 10 s)"
    )
    jitter: Optional[Union[str, Float]] = Field(
        None, description="delay jitter, e.g. '2ms' (at most 10 s)"
    )
    loss: Optional[Float] = Field(None, ge=0, le=100, description="loss in percent")
    bandwidth: Optional[Float] = Field(
        None, gt=0, le=MAX_BANDWIDTH_MBIT, description="rate limit in Mbit/s (at most 100000)"
    )

    @field_validator("delay", "jitter", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        parse_ms(value)  # a clear message for text, booleans, infinities and huge values
        return value

    def delay_ms(self) -> Optional[Float]:
        """The delay in milliseconds (None when unset)."""
        return parse_ms(self.delay)

    def jitter_ms(self) -> Optional[Float]:
        """The jitter in milliseconds (None when unset)."""
        return parse_ms(self.jitter)

    def shaped(self) -> bool:
        """True when any shaping is asked for."""
        return any(v is not None for v in (self.delay, self.jitter, self.loss, self.bandwidth))


#: A link's business relationship: ``customer-provider`` (the AS of ``a`` buys
#: transit from the AS of ``b``) or ``peer`` (settlement-free, each other's
#: customers only).
LinkRel = Literal["customer-provider", "peer"]
#: ``no_export_to: peers``: all the AS's peers (else a neighbouring AS's name).
PEERS = "peers"


class ActionCommunity(Strict):
    """A community a transit AS acts on when its customers attach it (a provider's
    "action community"): prepend towards all peers, or do not export.

    The transit acts in its export route-maps: a route carrying ``community``
    is prepended ``prepend`` times (its own AS) towards every peer, or not
    exported to its peers (``no_export_to: peers``) or to one neighbouring AS.
    """

    community: Community = Field(
        description="the community (not a well-known one), e.g. '65001:6001' or '65001:6001:0'"
    )
    prepend: Optional[Int] = Field(
        None, ge=1, le=10, description="prepend the AS this many times towards all peers"
    )
    no_export_to: Optional[Name] = Field(
        None, description="do not export: 'peers' (all peers) or a neighbouring AS's name"
    )
    description: str = ""

    @field_validator("community")
    @classmethod
    def _not_well_known(cls, value: Community) -> Community:
        if value.well_known:
            raise ValueError(
                f"{value} is a well-known community: an action community is one of the "
                "AS's own, such as 'ASN:6000'"
            )
        return value

    @field_validator("no_export_to")
    @classmethod
    def _target(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and value != PEERS and not is_name(value):
            raise ValueError(f"must be 'peers' or an AS name matching {NAME_PATTERN}")
        return value

    @model_validator(mode="after")
    def _one_action(self) -> ActionCommunity:
        given = [k for k in ("prepend", "no_export_to") if getattr(self, k) is not None]
        if len(given) != 1:
            what = "both" if given else "neither"
            raise ValueError(
                f"give exactly one action, prepend (1-10, towards all peers) or "
                f"no_export_to ('peers' or a neighbouring AS), not {what}"
            )
        return self


class AS(Strict):
    """An autonomous system: a number, a name, a role, and its routers."""

    name: Name = Field(pattern=NAME_PATTERN)
    asn: Int = Field(ge=1, le=4294967294)
    role: Role
    routers: List[Name] = Field(
        default_factory=list,
        description="router names; default: one router named after the AS. "
        "Anycast ASes have no routers of their own: each site is one.",
    )
    description: str = ""
    customers: List[Name] = Field(
        default_factory=list,
        description="ASes that buy transit from this one (a link's rel wins; "
        "sites are customers of their upstreams unless said otherwise)",
    )
    peers: List[Name] = Field(
        default_factory=list, description="ASes this one peers with (settlement-free)"
    )
    actions: List[ActionCommunity] = Field(
        default_factory=list,
        description="action communities this transit offers (prepend towards peers, do not export)",
    )
    daemon: Daemon = Field(
        "frr",
        description="the routing daemon of the AS's routers: frr (the default) or bird "
        "(BIRD 2: the same relationships, communities, timers and BFD; no route-flap "
        "damping, no MRAI). Not on an anycast AS: its sites choose their speaker",
    )

    @field_validator("routers")
    @classmethod
    def _router_names(cls, value: List[str]) -> List[str]:
        for name in value:
            if not isinstance(name, str) or not is_name(name):
                raise ValueError(f"router name {name!r} must match {NAME_PATTERN}")
        return value

    def router_names(self) -> List[str]:
        """The AS's routers (anycast ASes: none; their routers are the sites)."""
        if self.role == "anycast":
            return []
        return list(self.routers) or [self.name]


class Link(LinkParams):
    """A point-to-point link between two routers (or single-router ASes)."""

    a: Name
    b: Name
    rel: Optional[LinkRel] = Field(
        None,
        description="business relationship of the two ASes: 'customer-provider' "
        "(a's AS buys transit from b's) or 'peer'; none: nothing declared here",
    )

    def params(self) -> LinkParams:
        """The link's shaping alone."""
        return LinkParams(**self.model_dump(include=set(LinkParams.model_fields)))


class Session(Strict):
    """Overrides for the BGP session on the link between routers a and b.

    Policy applies at router ``a``: routes ``a`` sends to ``b`` get ``prepend``,
    ``med`` and ``communities``; routes ``a`` receives from ``b`` get
    ``local_pref`` (over the relationship's).  Timers and BFD apply to both ends.
    """

    a: Name
    b: Name
    prepend: Int = Field(0, ge=0, le=10)
    med: Optional[Int] = Field(None, ge=0, le=4294967295)
    local_pref: Optional[Int] = Field(None, ge=0, le=4294967295)
    communities: List[Community] = Field(
        default_factory=list, description="communities added to what a sends to b"
    )
    timers: Optional[TimerOverride] = None
    bfd: Optional[bool] = None


class Health(Strict):
    """A site's health agent: checks its services and changes its announcement.

    Every ``interval`` the agent queries the site's NSD and connects to its
    stream service; ``fall`` failed rounds in a row make the site down,
    ``rise`` good ones make it up again.  On a change it applies ``action``.
    ``backend`` in ``checks`` adds the run's shared backend (a service every
    site's agent depends on, ``RUN/backend.sock``; the scenario event
    ``backend`` fails it).  ``min_sites``: never withdraw while fewer than that
    many sites with a health agent would remain announced (the agents share
    what they announce in ``RUN/health/announced.json``).
    """

    interval: Float = Field(1.0, gt=0, le=60, description="seconds between two rounds of checks")
    timeout: Float = Field(0.5, gt=0, le=10, description="seconds a check may take")
    rise: Int = Field(2, ge=1, le=10, description="good rounds in a row to go up")
    fall: Int = Field(2, ge=1, le=10, description="failed rounds in a row to go down")
    checks: List[Literal["dns", "tcp", "backend"]] = Field(
        default_factory=lambda: ["dns", "tcp"],  # type: ignore[arg-type] # literals
        min_length=1,
        description="what is checked: the site's NSD, its stream service, the run's shared backend",
    )
    action: HealthAction = Field(
        "withdraw", description="on down: withdraw the route, demote it by MED, or prepend"
    )
    med: Int = Field(1000, ge=0, le=4294967295, description="MED announced while down (med)")
    prepend: Int = Field(3, ge=1, le=10, description="prepends while down (prepend)")
    min_sites: Optional[Int] = Field(
        None,
        ge=1,
        le=1000,
        description="never withdraw while fewer than this many sites with a health agent "
        "would remain announced (none: always withdraw)",
    )


#: The highest packet rate a site's ``capacity.packets`` may name (packets/s).
MAX_CAPACITY_PPS = 10_000_000


class Capacity(Strict):
    """What a site can take in: a bandwidth and/or a packet rate.

    The bandwidth is a tbf queue for all traffic to the site's prefix arriving
    on its uplinks (one queue for the whole site, ``queue`` ms long, so an
    overloaded site drops and delays); the packet rate is an nftables
    ``limit`` policer after it.  BGP and BFD to the site router are not queued,
    as a router's control-plane protection would keep them.
    """

    bandwidth: Optional[Float] = Field(
        None, gt=0, le=MAX_BANDWIDTH_MBIT, description="Mbit/s into the site (at most 100000)"
    )
    packets: Optional[Int] = Field(
        None, gt=0, le=MAX_CAPACITY_PPS, description="packets/s into the site (at most 10000000)"
    )
    queue: Float = Field(
        50.0, gt=0, le=1000, description="the bandwidth queue's length in ms (tbf latency)"
    )

    @model_validator(mode="after")
    def _something(self) -> Capacity:
        if self.bandwidth is None and self.packets is None:
            raise ValueError("give a bandwidth (Mbit/s) and/or packets (packets/s)")
        return self


def capacity_words(
    bandwidth: Optional[float], packets: Optional[float], queue: Optional[float]
) -> str:
    """A capacity in words, as ``up`` and the report show it.

    ``2 Mbit/s (queue 50 ms), 1,000 packets/s``, or ``unlimited`` when neither is given.
    """
    parts = []
    if bandwidth is not None:
        parts.append(f"{bandwidth:g} Mbit/s" + (f" (queue {queue:g} ms)" if queue else ""))
    if packets is not None:
        parts.append(f"{packets:,.0f} packets/s")
    return ", ".join(parts) or "unlimited"


#: What attack sources send: DNS queries for random names, or UDP junk to port 53.
AttackKind = Literal["dns", "junk"]


class Attackers(Strict):
    """Attack sources: hosts in eyeball ASes that send to the anycast service address.

    ``ases`` names the ASes, or ``share`` takes that share of the eyeball ASes
    (chosen by a fixed hash of their names, so the same topology always picks
    the same ones).  Rates and sizes are capped in code
    (:mod:`testbed.attack.limits`): see docs/load.md.
    """

    ases: List[Name] = Field(default_factory=list, description="eyeball ASes with attack sources")
    share: Optional[Float] = Field(
        None, gt=0, le=1, description="or: this share of the eyeball ASes (0 < share <= 1)"
    )
    per_as: Int = Field(1, ge=1, le=8, description="attack sources per AS")
    rate: Float = Field(gt=0, description="packets/s per source")
    size: Int = Field(100, description="UDP payload bytes per packet")
    kind: AttackKind = Field("dns", description="dns: queries for random names; junk: random bytes")

    @model_validator(mode="after")
    def _which(self) -> Attackers:
        if bool(self.ases) == (self.share is not None):
            raise ValueError("give either ases (a list of AS names) or share (of the eyeball ASes)")
        return self


class Unicast(Strict):
    """A site's own unicast prefix, announced by that site alone, and the address
    its servers hold in it (next to the anycast service address).

    Hybrid clients (and DNS-based load balancing) reach one site directly
    through it: a catchment change does not move what is sent there.
    """

    prefix: IPv4Network = Field(
        description="the site's unicast prefix, outside the testbed's pools "
        "(e.g. 203.0.113.0/24); leave out 'unicast' details to take one from the pool"
    )
    address: Optional[IPv4Address] = Field(
        None,
        description="the servers' unicast address, inside the prefix "
        "(default: the prefix's address .53, or its first address when it is smaller)",
    )


def _unicast_kind(value: Any) -> Optional[str]:
    """Which form of ``sites[].unicast`` a value is (None: none of them)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (dict, Unicast)):
        return "union[Unicast]"
    return None


#: ``sites[].unicast``: ``auto`` or ``true`` (a /24 from the unicast pool),
#: ``false`` (none), or the prefix (and address) to use.  Told apart by the
#: value's type, so an error names the form that was meant (the tags are type
#: names, which error locations leave out: ``sites[0].unicast.prefix``).
UnicastSetting = Annotated[
    Union[
        Annotated[Literal["auto"], Tag("str")],
        Annotated[bool, StrictMode(), Tag("bool")],
        Annotated[Unicast, Tag("union[Unicast]")],
    ],
    Discriminator(
        _unicast_kind,
        custom_error_type="unicast",
        custom_error_message="must be auto, true, false or a mapping {prefix, address}",
    ),
]


class Site(Strict):
    """An anycast site: a site router (or speaker) and its servers."""

    name: Name = Field(pattern=NAME_PATTERN, max_length=SITE_NAME_MAX)
    upstream: Union[Name, List[Name]] = Field(description="upstream router(s) or AS(es)")
    as_: Optional[Name] = Field(None, alias="as", description="anycast AS (default: the only one)")
    speaker: Speaker = "frr"
    prefix: IPv4Network = IPv4Network("192.0.2.0/24")
    service: IPv4Address = IPv4Address("192.0.2.53")
    servers: Int = Field(1, ge=1, le=4)
    prepend: Int = Field(0, ge=0, le=10, description="AS-path prepends on the announcement")
    med: Optional[Int] = Field(None, ge=0, le=4294967295, description="MED on the announcement")
    communities: List[Community] = Field(
        default_factory=list,
        description="communities on the announcement: 'A:B', 'A:B:C', no-export, "
        "no-advertise, no-peer, graceful-shutdown",
    )
    link: LinkParams = Field(default_factory=LinkParams, description="uplink shaping")
    health: Optional[Health] = Field(None, description="health agent (off when absent)")
    capacity: Optional[Capacity] = Field(
        None, description="what the site can take in (unlimited when absent)"
    )
    unicast: Optional[UnicastSetting] = Field(
        None,
        description="the site's own unicast prefix, announced only by it, and its servers' "
        "unicast address: auto/true (a /24 from the pool 100.66.0.0/16), false (none), "
        "or {prefix, address}; absent: the topology's 'unicast'",
    )

    def upstreams(self) -> List[str]:
        """The upstream names as a list."""
        return [self.upstream] if isinstance(self.upstream, str) else list(self.upstream)


class Client(Strict):
    """A host in an eyeball AS that probes the anycast services."""

    name: Name = Field(pattern=NAME_PATTERN)
    as_: Name = Field(alias="as", description="the eyeball AS")
    router: Optional[Name] = Field(None, description="access router (default: the AS's first)")
    link: LinkParams = Field(default_factory=LinkParams, description="access link shaping")
    weight: Float = Field(
        1.0, ge=0, le=1e9, description="how many users the client stands for (catchment shares)"
    )


#: The anycast address PowerDNS answers ``gslb.test`` on at every site (``service.authority``).
GSLB_AUTHORITY = IPv4Address("192.0.2.54")
#: The anycast address of the operator's public resolver (``resolvers.placement: public``).
PUBLIC_RESOLVER = IPv4Address("192.0.2.55")
#: unbound's longest cache time (its ``cache-max-ttl`` default), and the TTLs' ceiling here.
MAX_TTL = 86400


class ServiceHealth(Strict):
    """GSLB health checks: PowerDNS at every site connects to each site's unicast address."""

    interval: Int = Field(1, ge=1, le=60, description="seconds between two checks of a site (1-60)")


class Service(Strict):
    """How clients find the service: a name resolved through recursive resolvers.

    ``anycast``: ``svc.anycast.test`` answers the anycast service address
    (NSD at every site).  ``gslb``: ``svc.gslb.test`` answers one site's own
    unicast address, chosen by PowerDNS (LUA records) by the resolver's
    location (or its EDNS Client Subnet) among the sites passing their health
    checks.  ``both``: each client resolves and uses both, for an A/B run.
    """

    publish: Literal["anycast", "gslb", "both"] = Field(
        "anycast", description="anycast, gslb (per-site unicast addresses by PowerDNS), or both"
    )
    ttl: Int = Field(
        30, ge=1, le=MAX_TTL, description="TTL of the service name's answer, seconds (1-86400)"
    )
    health: ServiceHealth = Field(default_factory=ServiceHealth, description="GSLB health checks")
    authority: IPv4Address = Field(
        GSLB_AUTHORITY,
        description="anycast address PowerDNS answers gslb.test on (in the sites' prefix)",
    )

    def methods(self) -> List[str]:
        """The publishing methods in use, ``anycast`` first."""
        return ["anycast", "gslb"] if self.publish == "both" else [self.publish]


class TtlViolation(Strict):
    """Resolvers that keep answers longer than their TTL (the long tail operators see).

    ``share`` of the per-AS resolvers (picked by a fixed hash of their AS
    names), or the resolvers of the eyeball ASes named in ``ases``.
    """

    share: Float = Field(
        0.0, ge=0, le=1, description="share of the per-AS resolvers that violate (0-1)"
    )
    ases: List[Name] = Field(
        default_factory=list, description="or: the eyeball ASes whose resolvers violate"
    )
    min_ttl: Int = Field(
        300, ge=1, le=MAX_TTL, description="the TTL they keep every answer for at least (s)"
    )

    @model_validator(mode="after")
    def _one_way(self) -> TtlViolation:
        if self.ases and self.share:
            raise ValueError("give either ases (a list of AS names) or share, not both")
        return self


class Resolvers(Strict):
    """The recursive resolvers (unbound) the clients resolve the service name through."""

    placement: Literal["per-as", "public"] = Field(
        "per-as",
        description="per-as: one in every eyeball AS with clients; public: the operator's "
        "anycast resolver at every site",
    )
    min_ttl: Int = Field(
        0, ge=0, le=MAX_TTL, description="cache every answer at least this long (cache-min-ttl)"
    )
    max_ttl: Int = Field(
        MAX_TTL, ge=1, le=MAX_TTL, description="cache no answer longer (cache-max-ttl)"
    )
    serve_stale: bool = Field(
        False, description="answer from expired cache when the authority fails (RFC 8767)"
    )
    prefetch: bool = Field(False, description="refresh popular answers before they expire")
    ecs: bool = Field(
        False, description="send the client's /24 as EDNS Client Subnet to the GSLB authority"
    )
    violating: TtlViolation = Field(
        default_factory=TtlViolation, description="resolvers that clamp TTLs up"
    )

    @model_validator(mode="after")
    def _unbound_can(self) -> Resolvers:
        if self.serve_stale and self.ecs:
            raise ValueError(
                "serve_stale with ecs: unbound 1.17 serves no expired answer from its "
                "subnet cache (choose one)"
            )
        return self

    @model_validator(mode="after")
    def _ttl_order(self) -> Resolvers:
        if self.min_ttl > self.max_ttl:
            raise ValueError(
                f"min_ttl ({self.min_ttl}) is above max_ttl ({self.max_ttl}): "
                "no answer could be cached"
            )
        return self


class LocalPrefs(Strict):
    """Local preference by where a route was learned (with relationships).

    Gao-Rexford: customer routes before peer routes before provider routes,
    whatever the AS-path length.  A session's ``local_pref`` still wins.
    """

    customer: Int = Field(200, ge=0, le=4294967295, description="routes from customers")
    peer: Int = Field(150, ge=0, le=4294967295, description="routes from peers")
    provider: Int = Field(100, ge=0, le=4294967295, description="routes from providers")


class _Index:
    """Name lookups of one topology, built once (see :meth:`Topology.as_by_name`).

    Attributes:
        key: what the lookups were built from (the identity and length of
            ``ases`` and ``sites``): a list replaced, grown or shrunk rebuilds them.
        ases: AS name -> the first AS of that name.
        anycast: the first anycast AS, if any.
        routers: router name (site routers included) -> its AS, as
            :meth:`Topology.router_as` gives it; built on first use.
    """

    __slots__ = ("anycast", "ases", "key", "routers")

    def __init__(self, topo: Topology, key: Tuple[int, ...]) -> None:
        self.key = key
        self.ases: Dict[str, AS] = {}
        for asys in topo.ases:
            self.ases.setdefault(asys.name, asys)
        self.anycast: Optional[AS] = next((a for a in topo.ases if a.role == "anycast"), None)
        self.routers: Optional[Dict[str, AS]] = None


#: id(topology) -> its lookups; an entry goes when its topology is collected
#: (weakref.finalize), so ids are not reused while an entry stands.  Outside
#: the model: a pydantic private attribute would take part in ``==`` and copies.
_INDEXES: Dict[int, _Index] = {}


# Name lookups (Topology.as_by_name, router_as, router_index, site_as) use maps
# built once per instance (_Index), not a scan of every AS per call: validating
# and planning internet:1000 asks tens of thousands of times.  The maps follow
# assigned fields and a replaced, grown or shrunk ``ases`` or ``sites`` list;
# nothing changes a loaded topology otherwise in place (an AS's ``routers``, a
# site's ``as``): to change those, build a new topology.  (Not in the class
# docstring: that is the JSON Schema's description.)
class Topology(Strict):
    """The emulated internet."""

    name: Name = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    description: str = ""
    bgp: BgpTimers = Field(default_factory=BgpTimers, description="timer defaults")
    bfd: Bfd = Field(default_factory=Bfd, description="BFD defaults (off unless enabled)")
    local_pref: LocalPrefs = Field(
        default_factory=LocalPrefs,
        description="local preference by relationship (used when relationships are declared)",
    )
    ases: List[AS] = Field(min_length=1)
    links: List[Link] = Field(default_factory=list)
    sessions: List[Session] = Field(default_factory=list)
    sites: List[Site] = Field(default_factory=list)
    clients: List[Client] = Field(default_factory=list)
    attackers: Optional[Attackers] = Field(
        None, description="attack sources (started by attack_start events)"
    )
    unicast: bool = Field(
        False,
        description="give every site a unicast prefix from the pool 100.66.0.0/16 "
        "(a site's own 'unicast' wins)",
    )
    service: Optional[Service] = Field(
        None,
        description="the service name clients resolve through resolvers: published by "
        "anycast, gslb or both (absent: clients use the anycast address directly)",
    )
    resolvers: Optional[Resolvers] = Field(
        None, description="the clients' recursive resolvers (with service only)"
    )

    def __setattr__(self, name: str, value: Any) -> None:
        index = _INDEXES.get(id(self))
        if index is not None:
            index.key = ()  # stale: rebuilt on the next lookup
        super().__setattr__(name, value)

    def _index(self) -> _Index:
        """The name lookups, built on first use and when ``ases`` or ``sites`` changed."""
        key = (id(self.ases), len(self.ases), id(self.sites), len(self.sites))
        index = _INDEXES.get(id(self))
        if index is None:  # first lookup: forget the lookups with the topology
            weakref.finalize(self, _INDEXES.pop, id(self), None)
        if index is None or index.key != key:
            index = _INDEXES[id(self)] = _Index(self, key)
        return index

    def as_by_name(self, name: str) -> Optional[AS]:
        """The AS called ``name``, if any."""
        return self._index().ases.get(name)

    def router_as(self) -> Dict[str, AS]:
        """Map every router name (site routers included) to its AS (a new dict)."""
        return dict(self.router_index())

    def router_index(self) -> Mapping[str, AS]:
        """:meth:`router_as` without the copy, read-only and built once: for lookups in loops."""
        index = self._index()
        if index.routers is None:
            routers: Dict[str, AS] = {}
            for asys in self.ases:
                for router in asys.router_names():
                    routers[router] = asys
            for site in self.sites:
                routers[site.name] = self.site_as(site)
            index.routers = routers
        return MappingProxyType(index.routers)

    def access_router(self, client: Client) -> str:
        """The router a client hangs off: its ``router``, else its AS's first (validated)."""
        if client.router:
            return client.router
        asys = self.as_by_name(client.as_)
        assert asys is not None, "validated"
        return asys.router_names()[0]

    def site_as(self, site: Site) -> AS:
        """The anycast AS a site belongs to."""
        if site.as_:
            found = self.as_by_name(site.as_)
            assert found is not None, "validated"
            return found
        anycast = self._index().anycast
        if anycast is None:
            raise StopIteration  # as next() over no anycast AS did: validated before use
        return anycast
