"""The topology model: ASes, routers, links, sessions, sites and clients.

These pydantic models are the single definition of the topology file format:
the loader validates YAML against them, and the JSON Schema shipped in
``testbed/schema/topology.schema.json`` is generated from them.  Checks that
need the whole topology (names that must exist, roles that must fit) live in
:mod:`testbed.topology.validate`.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network
from typing import List, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Node names end up in interface names (``NAME-eK``, at most 15 characters)
#: and in shell commands: lower-case letters, digits and inner hyphens.
NAME_PATTERN = r"^[a-z][a-z0-9-]{0,8}[a-z0-9]$|^[a-z]$"
NAME_MAX = 10
#: Sites name their servers ``SITE-N``, so site names are shorter.
SITE_NAME_MAX = 8

Name = str
Role = Literal["transit", "eyeball", "anycast"]
Speaker = Literal["frr", "ryu"]
HealthAction = Literal["withdraw", "med", "prepend"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s)?\s*$")


def parse_ms(value: Union[str, int, float, None]) -> Optional[float]:
    """Parse a delay such as ``20ms``, ``0.5s`` or a bare number of ms.

    Args:
        value: the value from the file.

    Returns:
        Milliseconds, or None when no value was given.
    """
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("must not be negative")
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration like '20ms' or '0.5s'")
    number, unit = float(match.group(1)), match.group(2) or "ms"
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


class Strict(BaseModel):
    """Base model: unknown fields are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


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


class BgpTimers(Strict):
    """BGP timers, in seconds. Always written explicitly into frr.conf."""

    keepalive: int = Field(1, ge=1, le=21845, description="keepalive interval (s)")
    hold: int = Field(3, ge=3, le=65535, description="hold time (s), at least 3 x keepalive")
    mrai: int = Field(0, ge=0, le=600, description="advertisement-interval (MRAI, s)")
    connect_retry: int = Field(1, ge=1, le=65535, description="connect-retry timer (s)")

    @model_validator(mode="after")
    def _hold_covers_keepalives(self) -> BgpTimers:
        problem = timer_problem(self.keepalive, self.hold)
        if problem:
            raise ValueError(problem)
        return self


# The merged timers of a session obey the rule of BgpTimers (timer_problem):
# testbed.topology.validate checks them, as it knows the defaults.
class TimerOverride(Strict):
    """Per-session timer overrides; unset fields keep the topology's defaults."""

    keepalive: Optional[int] = Field(None, ge=1, le=21845)
    hold: Optional[int] = Field(None, ge=3, le=65535)
    mrai: Optional[int] = Field(None, ge=0, le=600)
    connect_retry: Optional[int] = Field(None, ge=1, le=65535)

    def given(self) -> dict:
        """The fields set (not None)."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Bfd(Strict):
    """BFD on BGP sessions, run by FRR's bfdd."""

    enabled: bool = False
    interval: int = Field(100, ge=10, le=60000, description="transmit/receive interval (ms)")
    multiplier: int = Field(3, ge=2, le=255, description="detect multiplier")


class LinkParams(Strict):
    """Link shaping; applied with tc netem where the kernel has it."""

    delay: Optional[Union[str, float]] = Field(None, description="one-way delay, e.g. '20ms'")
    jitter: Optional[Union[str, float]] = Field(None, description="delay jitter, e.g. '2ms'")
    loss: Optional[float] = Field(None, ge=0, le=100, description="loss in percent")
    bandwidth: Optional[float] = Field(None, gt=0, description="rate limit in Mbit/s")

    @field_validator("delay", "jitter")
    @classmethod
    def _duration(cls, value: Union[str, float, None]) -> Union[str, float, None]:
        parse_ms(value)
        return value

    def delay_ms(self) -> Optional[float]:
        """The delay in milliseconds (None when unset)."""
        return parse_ms(self.delay)

    def jitter_ms(self) -> Optional[float]:
        """The jitter in milliseconds (None when unset)."""
        return parse_ms(self.jitter)

    def shaped(self) -> bool:
        """True when any shaping is asked for."""
        return any(v is not None for v in (self.delay, self.jitter, self.loss, self.bandwidth))


class AS(Strict):
    """An autonomous system: a number, a name, a role, and its routers."""

    name: Name = Field(pattern=NAME_PATTERN)
    asn: int = Field(ge=1, le=4294967294)
    role: Role
    routers: List[Name] = Field(
        default_factory=list,
        description="router names; default: one router named after the AS. "
        "Anycast ASes have no routers of their own: each site is one.",
    )
    description: str = ""

    @field_validator("routers")
    @classmethod
    def _router_names(cls, value: List[str]) -> List[str]:
        for name in value:
            if not re.match(NAME_PATTERN, name):
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


class Session(Strict):
    """Overrides for the BGP session on the link between routers a and b.

    Policy applies at router ``a``: routes ``a`` sends to ``b`` get ``prepend``
    and ``med``; routes ``a`` receives from ``b`` get ``local_pref``.  Timers
    and BFD apply to both ends.
    """

    a: Name
    b: Name
    prepend: int = Field(0, ge=0, le=10)
    med: Optional[int] = Field(None, ge=0, le=4294967295)
    local_pref: Optional[int] = Field(None, ge=0, le=4294967295)
    timers: Optional[TimerOverride] = None
    bfd: Optional[bool] = None


class Health(Strict):
    """A site's health agent: checks its services and changes its announcement.

    Every ``interval`` the agent queries the site's NSD and connects to its
    stream service; ``fall`` failed rounds in a row make the site down,
    ``rise`` good ones make it up again.  On a change it applies ``action``.
    """

    interval: float = Field(1.0, gt=0, le=60, description="seconds between two rounds of checks")
    timeout: float = Field(0.5, gt=0, le=10, description="seconds a check may take")
    rise: int = Field(2, ge=1, le=10, description="good rounds in a row to go up")
    fall: int = Field(2, ge=1, le=10, description="failed rounds in a row to go down")
    checks: List[Literal["dns", "tcp"]] = Field(
        default_factory=lambda: ["dns", "tcp"], min_length=1, description="what is checked"
    )
    action: HealthAction = Field(
        "withdraw", description="on down: withdraw the route, demote it by MED, or prepend"
    )
    med: int = Field(1000, ge=0, le=4294967295, description="MED announced while down (med)")
    prepend: int = Field(3, ge=1, le=10, description="prepends while down (prepend)")


class Site(Strict):
    """An anycast site: a site router (or speaker) and its servers."""

    name: Name = Field(pattern=NAME_PATTERN, max_length=SITE_NAME_MAX)
    upstream: Union[Name, List[Name]] = Field(description="upstream router(s) or AS(es)")
    as_: Optional[Name] = Field(None, alias="as", description="anycast AS (default: the only one)")
    speaker: Speaker = "frr"
    prefix: IPv4Network = IPv4Network("192.0.2.0/24")
    service: IPv4Address = IPv4Address("192.0.2.53")
    servers: int = Field(1, ge=1, le=4)
    prepend: int = Field(0, ge=0, le=10, description="AS-path prepends on the announcement")
    med: Optional[int] = Field(None, ge=0, le=4294967295, description="MED on the announcement")
    link: LinkParams = Field(default_factory=LinkParams, description="uplink shaping")
    health: Optional[Health] = Field(None, description="health agent (off when absent)")

    def upstreams(self) -> List[str]:
        """The upstream names as a list."""
        return [self.upstream] if isinstance(self.upstream, str) else list(self.upstream)


class Client(Strict):
    """A host in an eyeball AS that probes the anycast services."""

    name: Name = Field(pattern=NAME_PATTERN)
    as_: Name = Field(alias="as", description="the eyeball AS")
    router: Optional[Name] = Field(None, description="access router (default: the AS's first)")
    link: LinkParams = Field(default_factory=LinkParams, description="access link shaping")


class Topology(Strict):
    """The emulated internet."""

    name: Name = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    description: str = ""
    bgp: BgpTimers = Field(default_factory=BgpTimers, description="timer defaults")
    bfd: Bfd = Field(default_factory=Bfd, description="BFD defaults (off unless enabled)")
    ases: List[AS] = Field(min_length=1)
    links: List[Link] = Field(default_factory=list)
    sessions: List[Session] = Field(default_factory=list)
    sites: List[Site] = Field(default_factory=list)
    clients: List[Client] = Field(default_factory=list)

    def as_by_name(self, name: str) -> Optional[AS]:
        """The AS called ``name``, if any."""
        return next((a for a in self.ases if a.name == name), None)

    def router_as(self) -> dict:
        """Map every router name (site routers included) to its AS."""
        out = {}
        for asys in self.ases:
            for router in asys.router_names():
                out[router] = asys
        for site in self.sites:
            out[site.name] = self.site_as(site)
        return out

    def site_as(self, site: Site) -> AS:
        """The anycast AS a site belongs to."""
        if site.as_:
            found = self.as_by_name(site.as_)
            assert found is not None, "validated"
            return found
        return next(a for a in self.ases if a.role == "anycast")
