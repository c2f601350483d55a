"""A recursive resolver: unbound from its own directory, rendered from a template.

Every resolver (one per eyeball AS, or the operator's public one at every
site server) runs its own unbound in the foreground (``-d``) from its own
directory (config, pid, log: nothing outside it, no privilege drop, no
chroot, no syslog, no remote control), listening on its own address and
asking from it.  It resolves only its stub zones (``anycast.test`` at NSD's
anycast address, ``gslb.test`` at PowerDNS's), without DNSSEC validation;
every other name is refused at once (no root servers to ask in a testbed).

What real resolvers differ in is set by :class:`ResolverSettings`: the
shortest and longest cache times (``cache-min-ttl``, ``cache-max-ttl``: a
TTL 5 answer with ``min_ttl`` 60 is kept, and given out, for 60 s),
serving expired answers when the authority does not answer (RFC 8767:
after ``stale_timeout_ms``, with TTL 30), prefetch, and EDNS Client Subnet
(the client's /24 to the stub zones' authorities, answers cached per
subnet).  unbound 1.17 does not serve expired answers from its subnet
cache, so ``serve_stale`` with ``ecs`` is refused (docs/gslb.md).

As a process::

    python -m testbed.services.resolver --name res1 --dir RUN/resolvers/res1 \\
        --settings SETTINGS.json

``SETTINGS.json`` holds the :class:`ResolverSettings`
(:meth:`ResolverSettings.to_dict`'s format, written by the caller).  It
writes the config, checks it with ``unbound-checkconf``, then replaces itself
with unbound in the foreground (the PID the caller started is unbound's;
SIGTERM stops it).  ``--render-only`` writes and checks without starting
unbound.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from jinja2 import Environment, PackageLoader, StrictUndefined

from testbed import proc

DNS_PORT = 53
#: The testbed's zones and their authorities' anycast addresses (NSD, PowerDNS).
STUBS: Mapping[str, Tuple[str, ...]] = {
    "anycast.test": ("192.0.2.53",),
    "gslb.test": ("192.0.2.54",),
}
#: unbound's longest cache time (its ``cache-max-ttl`` default), and the ceiling here.
MAX_TTL = 86400
#: Milliseconds unbound waits for the authority before it answers from expired cache
#: (RFC 8767 suggests 1.8 s), and the most.
STALE_TIMEOUT_MS = 1800
MAX_STALE_TIMEOUT_MS = 60000
#: EDNS Client Subnet: the client's address cut to this many bits.
ECS_BITS = 24

CONF_NAME = "unbound.conf"
UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"
UNBOUND_CHECKCONF = shutil.which("unbound-checkconf") or "/usr/sbin/unbound-checkconf"
#: What to install when unbound is missing.
INSTALL = "apt-get install unbound"

_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
ZONE_RE = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")

_env = Environment(
    loader=PackageLoader("testbed", "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)


@dataclass(frozen=True, kw_only=True)
class ResolverSettings:
    """One resolver's address, stub zones and caching behaviour.

    Attributes:
        address: the address it listens on (and asks from, unless ``outgoing``).
        stubs: zone -> its authorities' addresses, each an IPv4 address or
            ``address@port`` (the testbed's two zones unless told).
        min_ttl: cache every answer at least this long (s, ``cache-min-ttl``).
        max_ttl: cache no answer longer (s, ``cache-max-ttl``).
        serve_stale: answer from expired cache when the authority does not
            answer within ``stale_timeout_ms`` (RFC 8767, ``serve-expired``).
        prefetch: refresh popular answers before they expire (``prefetch``).
        ecs: send the client's /24 as EDNS Client Subnet to every stub address.
        port: the port it listens on.
        stale_timeout_ms: ``serve-expired-client-timeout`` (ms).
        outgoing: the address it asks the authorities from (None: ``address``);
            what PowerDNS sees as the asker without ECS.  An anycast resolver
            asks from a unicast address of its own, as public resolvers do.

    Raises:
        ValueError: (one line) a value out of range, a bad address or zone,
            ``min_ttl`` above ``max_ttl``, ``serve_stale`` with ``ecs``.
    """

    address: str
    stubs: Mapping[str, Sequence[str]] = field(default_factory=lambda: dict(STUBS))
    min_ttl: int = 0
    max_ttl: int = MAX_TTL
    serve_stale: bool = False
    prefetch: bool = False
    ecs: bool = False
    port: int = DNS_PORT
    stale_timeout_ms: int = STALE_TIMEOUT_MS
    outgoing: Optional[str] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", _ipv4("address", self.address))
        if self.outgoing is not None:
            object.__setattr__(self, "outgoing", _ipv4("outgoing", self.outgoing))
        _whole("min_ttl", self.min_ttl, 0, MAX_TTL)
        _whole("max_ttl", self.max_ttl, 1, MAX_TTL)
        _whole("port", self.port, 1, 65535)
        _whole("stale_timeout_ms", self.stale_timeout_ms, 1, MAX_STALE_TIMEOUT_MS)
        for flag in ("serve_stale", "prefetch", "ecs"):
            if not isinstance(getattr(self, flag), bool):
                raise ValueError(f"{flag} must be true or false, not {getattr(self, flag)!r}")
        if self.min_ttl > self.max_ttl:
            raise ValueError(
                f"min_ttl ({self.min_ttl}) is above max_ttl ({self.max_ttl}): "
                "no answer could be cached"
            )
        if self.serve_stale and self.ecs:
            raise ValueError(
                "serve_stale with ecs: unbound 1.17 serves no expired answer from its "
                "subnet cache (choose one)"
            )
        stubs: Dict[str, Tuple[str, ...]] = {}
        for zone, addresses in dict(self.stubs).items():
            if not isinstance(zone, str) or not ZONE_RE.match(zone.rstrip(".")):
                raise ValueError(f"stub zone {zone!r} is not a lower-case DNS name")
            if not isinstance(addresses, (list, tuple)) or not addresses:
                raise ValueError(f"stub zone {zone}: expected a list of addresses")
            stubs[zone.rstrip(".")] = tuple(_stub_address(zone, a) for a in addresses)
        if not stubs:
            raise ValueError("stubs: no zone given")
        object.__setattr__(self, "stubs", stubs)

    def to_dict(self) -> Dict[str, Any]:
        """The settings as JSON data (:meth:`from_dict` reads them back)."""
        return {
            "address": self.address,
            "stubs": {zone: list(addresses) for zone, addresses in self.stubs.items()},
            "min_ttl": self.min_ttl,
            "max_ttl": self.max_ttl,
            "serve_stale": self.serve_stale,
            "prefetch": self.prefetch,
            "ecs": self.ecs,
            "port": self.port,
            "stale_timeout_ms": self.stale_timeout_ms,
            "outgoing": self.outgoing,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ResolverSettings:
        """Settings from JSON data (:meth:`to_dict`'s format); ValueError (one line) if bad."""
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
        if "address" not in data:
            raise ValueError("address: missing")
        if "stubs" in data and not isinstance(data["stubs"], dict):
            raise ValueError("stubs: expected an object of zone -> list of addresses")
        return cls(**data)


def _whole(what: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} must be a whole number from {low} to {high}, not {value!r}")


def _ipv4(what: str, value: object) -> str:
    try:
        return str(ipaddress.IPv4Address(value))  # type: ignore[arg-type]
    except ValueError:
        raise ValueError(f"{what}: {value!r} is not an IPv4 address") from None


def _stub_address(zone: str, value: object) -> str:
    """An authority's address, or ``address@port`` as unbound writes it."""
    if not isinstance(value, str):
        raise ValueError(f"stub zone {zone}: {value!r} is not an IPv4 address")
    address, at, port = value.partition("@")
    address = _ipv4(f"stub zone {zone}", address)
    if not at:
        return address
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"stub zone {zone}: {value!r} has a bad port (1-65535)")
    return f"{address}@{int(port)}"


def load_settings(path: Path) -> ResolverSettings:
    """Read :class:`ResolverSettings` from a JSON file.

    Raises:
        ValueError: (one line) the file cannot be read, is not JSON, or holds bad settings.
    """
    return proc.load_json(path, ResolverSettings.from_dict)


def render_config(name: str, workdir: Path, settings: ResolverSettings) -> str:
    """Render unbound.conf for one resolver.

    Args:
        name: the resolver's name (its ``id.server`` identity).
        workdir: the directory holding every unbound file (absolute path advised).
        settings: its address, stub zones and caching behaviour.

    Returns:
        The configuration text.
    """
    ecs_addresses = sorted(
        {a.partition("@")[0] for addresses in settings.stubs.values() for a in addresses},
        key=ipaddress.IPv4Address,
    )
    return _env.get_template("unbound.conf.j2").render(
        name=name,
        dir=str(workdir),
        address=settings.address,
        outgoing=settings.outgoing or settings.address,
        port=settings.port,
        modules="subnetcache iterator" if settings.ecs else "iterator",
        min_ttl=settings.min_ttl,
        max_ttl=settings.max_ttl,
        serve_stale=settings.serve_stale,
        stale_timeout_ms=settings.stale_timeout_ms,
        prefetch=settings.prefetch,
        ecs=settings.ecs,
        ecs_addresses=ecs_addresses,
        ecs_bits=ECS_BITS,
        stubs=list(settings.stubs.items()),
    )


def write_config(name: str, workdir: Path, settings: ResolverSettings) -> Path:
    """Write unbound.conf into ``workdir`` (created if missing); return its path."""
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / CONF_NAME
    conf.write_text(render_config(name, workdir, settings))
    return conf


def installed() -> bool:
    """True when unbound (and unbound-checkconf) is on this machine."""
    return Path(UNBOUND).exists() and Path(UNBOUND_CHECKCONF).exists()


def unbound_argv(conf_path: Path) -> List[str]:
    """The command line that runs unbound in the foreground from ``conf_path``."""
    return [UNBOUND, "-d", "-c", str(conf_path)]


#: unbound-checkconf's prefix on a fatal line: ``[1796462389] unbound-checkconf[11082:0] ``.
_FATAL_PREFIX = re.compile(r"^\[\d+\] unbound-checkconf\[\d+:\d+\] ")


def check(conf_path: Path) -> Optional[str]:
    """Check a rendered config with unbound-checkconf.

    Args:
        conf_path: the unbound.conf written by :func:`write_config`.

    Returns:
        None if unbound-checkconf accepts it, else its first error on one line
        (``FILE:LINE: error: unknown keyword 'serve-stale-forever'``).
    """
    argv = [UNBOUND_CHECKCONF, str(conf_path)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except OSError as exc:
        return f"{argv[0]}: {exc.strerror}"
    except subprocess.TimeoutExpired:
        return "unbound-checkconf: no verdict within 30 s"
    if done.returncode == 0:
        return None
    lines = [
        _FATAL_PREFIX.sub("", line.strip()) for line in (done.stdout + done.stderr).splitlines()
    ]
    lines = [line for line in lines if line]
    errors = [line for line in lines if "error" in line]
    chosen = errors or lines
    return chosen[0] if chosen else f"unbound-checkconf: exit status {done.returncode}"


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog="python -m testbed.services.resolver",
        description="Render a resolver's unbound config, check it, and exec unbound.",
    )
    p.add_argument("--name", required=True, type=proc.name, help="resolver name (id.server)")
    proc.add_daemon_dir(p, "unbound")
    p.add_argument(
        "--settings",
        required=True,
        type=Path,
        help="JSON file with the resolver's settings (ResolverSettings.to_dict)",
    )
    proc.add_render_only(p, "unbound", "the config, print its path")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.services.resolver``."""
    proc.daemon_main(
        _parser(),
        argv,
        "unbound",
        lambda a, settings: write_config(a.name, a.dir, settings),
        check,
        unbound_argv,
        load=lambda a: load_settings(a.settings),
        installed=installed,
        install=INSTALL,
    )


if __name__ == "__main__":
    main()
