"""GSLB service of a site: PowerDNS Authoritative with a LUA record, rendered from templates.

Every site server runs its own PowerDNS (``pdns_server``, bind backend) from
its own directory (``pdns.conf``, ``named.conf``, the zone, the control
socket, unless its path is too long for a Unix socket: :func:`socket_dir`;
nothing else outside it, no privilege drop, no chroot, no guardian, no
syslog), answering the zone ``gslb.test`` on the GSLB authority's anycast
address (``192.0.2.54``, in the anycast prefix every site announces).

The service name ``svc.gslb.test`` is a LUA A record.  PowerDNS checks every
site's unicast address (a TCP connect to ``port``) every ``interval``
seconds; the answer is the first site, in the order of the asker's view,
that passes.  The asker is the EDNS Client Subnet when the resolver sends
one, else the resolver's own address (LUA's ``bestwho``); a view is a list
of subnets with its order of sites, the first view whose subnets hold the
asker wins, none: the default order (``sites`` as given).  With no site
passing, or before the first checks are done, the answer is the view's
first site.  The answer's TTL is the zone's ``ttl``.

PowerDNS 4.7's ``ifportup`` takes a flat list of addresses (sets of
addresses, ``{{...},{...}}``, came later), so the record asks it for every
site at once (``selector='all'``: all that pass; ``backupSelector='all'``:
all when none passes) and walks the view's order itself.  Every call has the
same options, so each site's address has one check shared by every view.
docs/gslb.md has the measured figures.

As a process::

    python -m testbed.services.gslb --site lon --dir RUN/services/lon-1/pdns \\
        --zone ZONE.json [--address 192.0.2.54] [--port 53]

``ZONE.json`` holds the :class:`GslbZone` (:meth:`GslbZone.to_dict`'s
format, written by the caller).  It writes the files, checks them with
``pdns_server --config=check`` and ``pdnsutil check-all-zones``, then
replaces itself with PowerDNS in the foreground (the PID the caller started
is PowerDNS's; SIGTERM stops it).  ``--render-only`` writes and checks
without starting PowerDNS.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from jinja2 import Environment, PackageLoader, StrictUndefined

from testbed import proc

ZONE = "gslb.test"
#: The service name's label in the zone (``svc.gslb.test``).
NAME = "svc"
#: The GSLB authority's anycast address (``testbed.topology.model.GSLB_AUTHORITY``).
AUTHORITY = "192.0.2.54"
DNS_PORT = 53
#: The TTL of the service name's answer unless told (s), and the most (unbound's ceiling).
TTL = 30
MAX_TTL = 86400
#: Seconds between two health checks of a site, and the most.
INTERVAL = 1
MAX_INTERVAL = 60
#: Seconds a health check's TCP connect may take, and the most.
CHECK_TIMEOUT = 1
MAX_CHECK_TIMEOUT = 60
#: Seconds a health check is kept without a query for its record (longer than any run).
EXPIRE_DELAY = 86400
#: The most Lua instructions one answer may take: the record's if-chain grows with the
#: views.  PowerDNS 4.7.3 sets its hook before the handler exists, so enforces no limit
#: (600 views answered with the default 1000); later versions enforce it.
EXEC_LIMIT = 100000

CONF_NAME = "pdns.conf"
NAMED_NAME = "named.conf"
#: PowerDNS's control socket, in its ``socket-dir`` (with its pid file).
CONTROL_SOCKET = "pdns.controlsocket"
#: The longest control-socket path used as it is: a Unix socket's path has at most
#: 107 bytes (``sun_path``), and PowerDNS fails to start with a longer one.
SOCKET_PATH_MAX = 100

PDNS_SERVER = shutil.which("pdns_server") or "/usr/sbin/pdns_server"
PDNSUTIL = shutil.which("pdnsutil") or "/usr/bin/pdnsutil"
#: What to install when PowerDNS is missing.
INSTALL = "apt-get install pdns-server pdns-backend-bind"

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


@dataclass(frozen=True)
class GslbView:
    """Where some askers are: their subnets and their order of sites.

    Attributes:
        subnets: IPv4 subnets (a bare address is a /32): resolvers' addresses,
            or clients' subnets when the resolvers send EDNS Client Subnet.
        order: site names, most preferred first; sites left out follow in the
            zone's default order.
    """

    subnets: Tuple[str, ...]
    order: Tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class GslbZone:
    """The GSLB zone every site's PowerDNS serves (the same at every site).

    Attributes:
        zone: the zone (``gslb.test``).
        name: the service name's label in it (``svc``).
        ttl: the answer's TTL (s, 1-86400).
        port: the TCP port checked on each site's unicast address.
        interval: seconds between two checks (1-60; PowerDNS's
            ``lua-health-checks-interval``).
        timeout: seconds a check's connect may take (1-60).
        sites: site name -> its unicast address, in the default order.
        views: the askers' locations, the first matching one wins.

    Raises:
        ValueError: (one line) a value out of range, a bad address or subnet,
            a view naming an unknown site.
    """

    zone: str = ZONE
    name: str = NAME
    ttl: int = TTL
    port: int = DNS_PORT
    interval: int = INTERVAL
    timeout: int = CHECK_TIMEOUT
    sites: Mapping[str, str] = field(default_factory=dict)
    views: Sequence[GslbView] = ()

    def __post_init__(self) -> None:
        if not ZONE_RE.match(self.zone):
            raise ValueError(f"zone {self.zone!r} is not a lower-case DNS name")
        if not proc.NAME_RE.match(self.name):
            raise ValueError(f"name {self.name!r} is not a lower-case DNS label")
        _whole("ttl", self.ttl, 1, MAX_TTL)
        _whole("port", self.port, 1, 65535)
        _whole("interval", self.interval, 1, MAX_INTERVAL)
        _whole("timeout", self.timeout, 1, MAX_CHECK_TIMEOUT)
        sites: Dict[str, str] = {}
        for site, address in dict(self.sites).items():
            if not isinstance(site, str) or not proc.NAME_RE.match(site):
                raise ValueError(f"site name {site!r} is not a lower-case DNS label")
            sites[site] = _ipv4(f"site {site}", address)
        if not sites:
            raise ValueError("sites: none given")
        twice = sorted({a for a in sites.values() if list(sites.values()).count(a) > 1})
        if twice:
            raise ValueError(f"sites: {', '.join(twice)} is the address of several sites")
        views = tuple(_view(i + 1, v, sites) for i, v in enumerate(self.views))
        object.__setattr__(self, "sites", sites)
        object.__setattr__(self, "views", views)

    def order(self, view: Optional[GslbView] = None) -> List[str]:
        """A view's whole order of sites (the default order without a view)."""
        named = list(view.order) if view is not None else []
        return named + [s for s in self.sites if s not in named]

    def to_dict(self) -> Dict[str, Any]:
        """The zone as JSON data (:meth:`from_dict` reads it back)."""
        return {
            "zone": self.zone,
            "name": self.name,
            "ttl": self.ttl,
            "port": self.port,
            "interval": self.interval,
            "timeout": self.timeout,
            "sites": dict(self.sites),
            "views": [{"subnets": list(v.subnets), "order": list(v.order)} for v in self.views],
        }

    @classmethod
    def from_dict(cls, data: Any) -> GslbZone:
        """A zone from JSON data (:meth:`to_dict`'s format); ValueError (one line) if bad."""
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        known = {"zone", "name", "ttl", "port", "interval", "timeout", "sites", "views"}
        _no_unknown(data, known, "")
        sites = data.get("sites", {})
        if not isinstance(sites, dict):
            raise ValueError("sites: expected an object of site name -> unicast address")
        views = data.get("views", [])
        if not isinstance(views, list):
            raise ValueError("views: expected a list")
        parsed: List[GslbView] = []
        for i, view in enumerate(views, 1):
            if not isinstance(view, dict):
                raise ValueError(f"view {i}: expected an object with subnets and order")
            _no_unknown(view, {"subnets", "order"}, f"view {i}: ")
            subnets, order = view.get("subnets", []), view.get("order", [])
            if not isinstance(subnets, list) or not isinstance(order, list):
                raise ValueError(f"view {i}: subnets and order must be lists")
            parsed.append(GslbView(tuple(subnets), tuple(order)))
        scalars = {k: data[k] for k in known - {"sites", "views"} if k in data}
        return cls(sites=sites, views=parsed, **scalars)


def _whole(what: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} must be a whole number from {low} to {high}, not {value!r}")


def _ipv4(what: str, value: object) -> str:
    try:
        return str(ipaddress.IPv4Address(value))  # type: ignore[arg-type]
    except ValueError:
        raise ValueError(f"{what}: {value!r} is not an IPv4 address") from None


def _no_unknown(data: Dict[str, Any], known: set, where: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where}unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")


def _view(number: int, view: GslbView, sites: Mapping[str, str]) -> GslbView:
    where = f"view {number}"
    if not view.subnets:
        raise ValueError(f"{where}: no subnets")
    subnets = []
    for subnet in view.subnets:
        try:
            subnets.append(str(ipaddress.IPv4Network(subnet, strict=False)))
        except (ValueError, TypeError):
            raise ValueError(f"{where}: {subnet!r} is not an IPv4 subnet") from None
    if not view.order:
        raise ValueError(f"{where}: no sites in its order")
    for site in view.order:
        if site not in sites:
            raise ValueError(f"{where}: unknown site {site!r} (sites: {', '.join(sites)})")
    if len(set(view.order)) != len(view.order):
        raise ValueError(f"{where}: a site is named twice in its order")
    return GslbView(tuple(subnets), tuple(view.order))


def load_zone(path: Path) -> GslbZone:
    """Read a :class:`GslbZone` from a JSON file.

    Raises:
        ValueError: (one line) the file cannot be read, is not JSON, or holds a bad zone.
    """
    return proc.load_json(path, GslbZone.from_dict)


def _lua_list(items: Sequence[str]) -> str:
    return "{" + ", ".join(f"'{item}'" for item in items) + "}"


def lua_code(gslb: GslbZone, source: Optional[str] = None) -> List[str]:
    """The LUA A record's code, one statement a line (each a quoted string in the zone).

    PowerDNS joins the strings with spaces; a leading ``;`` makes the code
    a block of statements rather than one expression.  ``source``: the
    address the health checks connect from (the site's own unicast address,
    which the other sites route back to; None: the kernel's choice).
    """
    addresses = list(gslb.sites.values())
    source_option = f", source='{source}'" if source else ""
    options = f"{{selector='all', backupSelector='all', timeout='{gslb.timeout}'{source_option}}}"
    lines = [
        ";local up = {}",
        f"for _, a in ipairs(ifportup({gslb.port}, {_lua_list(addresses)}, {options}))"
        " do up[a] = true end",
        f"local order = {_lua_list(addresses)}",
    ]
    for i, view in enumerate(gslb.views):
        keyword = "if" if i == 0 else "elseif"
        order = [gslb.sites[s] for s in gslb.order(view)]
        lines.append(
            f"{keyword} netmask({_lua_list(view.subnets)}) then order = {_lua_list(order)}"
        )
    if gslb.views:
        lines.append("end")
    lines.append("for _, a in ipairs(order) do if up[a] then return a end end")
    lines.append("return order[1]")
    return lines


def socket_dir(workdir: Path) -> Path:
    """The folder of PowerDNS's control socket and pid file: ``workdir`` when it is short enough.

    A run folder deep in a student's home (or a test's temporary folder) can
    make the socket's path longer than a Unix socket allows; then a folder
    under the system's temporary folder, named by a hash of ``workdir``
    (one per server, the same on every call), holds them instead.
    """
    if len(str(Path(workdir) / CONTROL_SOCKET).encode()) <= SOCKET_PATH_MAX:
        return Path(workdir)
    digest = hashlib.sha256(str(workdir).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"anycast-pdns-{digest}"


def render_config(
    site: str,
    workdir: Path,
    gslb: GslbZone,
    address: str = AUTHORITY,
    port: int = DNS_PORT,
    also: Sequence[str] = (),
) -> str:
    """Render pdns.conf for one site server.

    Args:
        site: the site name (``server-id``, ``site.gslb.test``).
        workdir: the directory holding every PowerDNS file (absolute path advised).
        gslb: the zone (its health-check interval).
        address: the address PowerDNS binds to (the GSLB authority's anycast address).
        port: the UDP/TCP port.
        also: more addresses to serve on (the site's own authority address, so
            resolvers have a name server that does not share the anycast route).

    Returns:
        The configuration text.
    """
    return _env.get_template("pdns.conf.j2").render(
        site=site,
        dir=str(workdir),
        sockets=str(socket_dir(workdir)),
        named=NAMED_NAME,
        address=", ".join([address, *also]),
        port=port,
        interval=gslb.interval,
        expire=EXPIRE_DELAY,
        exec_limit=EXEC_LIMIT,
    )


def zonefile_name(gslb: GslbZone) -> str:
    """The zone file's name in the server's directory."""
    return f"{gslb.zone}.zone"


def render_named(workdir: Path, gslb: GslbZone) -> str:
    """Render the bind backend's named.conf: the one zone and its file in ``workdir``."""
    return _env.get_template("pdns-named.conf.j2").render(
        dir=str(workdir), zone=gslb.zone, zonefile=zonefile_name(gslb)
    )


def render_zone(
    site: str, gslb: GslbZone, address: str = AUTHORITY, source: Optional[str] = None
) -> str:
    """Render the zone file for one site.

    Args:
        site: the site name (in the ``site`` TXT record).
        gslb: the zone.
        address: the authority's address (``ns`` A record).
        source: the address its health checks connect from (:func:`lua_code`).

    Returns:
        The zone file text.
    """
    return _env.get_template("gslb-zone.j2").render(
        zone=gslb.zone,
        name=gslb.name,
        ttl=gslb.ttl,
        port=gslb.port,
        interval=gslb.interval,
        timeout=gslb.timeout,
        site=site,
        address=address,
        sites=list(gslb.sites.items()),
        views=[GslbView(v.subnets, tuple(gslb.order(v))) for v in gslb.views],
        code=lua_code(gslb, source),
    )


def write_config(
    site: str,
    workdir: Path,
    gslb: GslbZone,
    address: str = AUTHORITY,
    port: int = DNS_PORT,
    also: Sequence[str] = (),
    source: Optional[str] = None,
) -> Path:
    """Write pdns.conf, named.conf and the zone file into ``workdir`` (created if missing).

    ``also``: more addresses to serve on (:func:`render_config`); ``source``:
    the address the health checks connect from (:func:`lua_code`).

    Returns:
        The path of pdns.conf.
    """
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    socket_dir(workdir).mkdir(mode=0o700, parents=True, exist_ok=True)
    (workdir / zonefile_name(gslb)).write_text(render_zone(site, gslb, address, source))
    (workdir / NAMED_NAME).write_text(render_named(workdir, gslb))
    conf = workdir / CONF_NAME
    conf.write_text(render_config(site, workdir, gslb, address, port, also))
    return conf


def installed() -> bool:
    """True when PowerDNS (pdns_server and pdnsutil) is on this machine."""
    return Path(PDNS_SERVER).exists() and Path(PDNSUTIL).exists()


def pdns_argv(conf_path: Path) -> List[str]:
    """The command line that runs PowerDNS in the foreground from ``conf_path``'s directory.

    ``daemon=no`` and ``guardian=no`` are in the config: the PID is the server's.
    """
    return [PDNS_SERVER, f"--config-dir={Path(conf_path).parent}"]


#: PowerDNS's own log lines (``Dec 05 09:14:29 Loading ...``), not its verdict.
_LOG_LINE = re.compile(r"^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d ")


def _verdict(text: str) -> str:
    """PowerDNS's error lines as one line (its log lines and tallies dropped)."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not _LOG_LINE.match(line)]
    errors = [
        line.removeprefix("[Error] ")
        for line in lines
        if "error" in line.lower() and not line.startswith(("Checked ", "[Warning]"))
    ]
    return " / ".join(errors or lines[-1:])


def check(conf_path: Path) -> Optional[str]:
    """Check a rendered config with ``pdns_server --config=check`` and the zone with pdnsutil.

    The LUA code is not checked here (PowerDNS compiles it at each query).

    Args:
        conf_path: the pdns.conf written by :func:`write_config`.

    Returns:
        None if both accept the files, else their message on one line.
    """
    folder = f"--config-dir={Path(conf_path).parent}"
    runs = [
        [PDNS_SERVER, folder, "--config=check"],
        [PDNSUTIL, folder, "check-all-zones"],
    ]
    for argv in runs:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        except OSError as exc:
            return f"{argv[0]}: {exc.strerror}"
        except subprocess.TimeoutExpired:
            return f"{Path(argv[0]).name} {argv[-1]}: no verdict within 30 s"
        if done.returncode != 0:
            text = _verdict(done.stdout + done.stderr)
            return text or f"{Path(argv[0]).name} {argv[-1]}: exit status {done.returncode}"
    return None


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog="python -m testbed.services.gslb",
        description="Render a site's PowerDNS config and GSLB zone, check them, and exec PowerDNS.",
    )
    p.add_argument("--site", required=True, type=proc.name, help="site name (server-id)")
    proc.add_daemon_dir(p, "PowerDNS")
    p.add_argument(
        "--zone", required=True, type=Path, help="JSON file with the GSLB zone (GslbZone.to_dict)"
    )
    p.add_argument(
        "--address",
        default=AUTHORITY,
        type=proc.ipv4,
        help=f"address to serve on (default {AUTHORITY})",
    )
    p.add_argument(
        "--check-from",
        default=None,
        type=proc.ipv4,
        help="address the health checks connect from (the site's unicast address)",
    )
    proc.add_also(p, "the site's own authority address")
    proc.add_port(p, DNS_PORT, "port")
    proc.add_render_only(p, "PowerDNS", "the files, print pdns.conf's path")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.services.gslb``."""
    proc.daemon_main(
        _parser(),
        argv,
        "PowerDNS",
        lambda a, zone: write_config(a.site, a.dir, zone, a.address, a.port, a.also, a.check_from),
        check,
        pdns_argv,
        load=lambda a: load_zone(a.zone),
        installed=installed,
        install=INSTALL,
    )


if __name__ == "__main__":
    main()
