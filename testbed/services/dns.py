"""DNS service of a site: NSD with the site's identity, rendered from templates.

Every site server runs its own NSD from its own directory (config, zone,
pid, log, state: nothing outside it, no privilege drop, no chroot), bound to
the service address, answering ``CH TXT id.server`` and EDNS NSID with the
site name.  The zone ``anycast.test`` has a wildcard under
``probe.anycast.test`` so every probe query gets NOERROR.

As a process::

    python -m testbed.services.dns --site lon --dir /run/anycast/lon-1 \\
        [--address 192.0.2.53] [--port 53]

writes the files, checks them with ``nsd-checkconf``/``nsd-checkzone``, then
replaces itself with NSD in the foreground (the PID the caller started is
NSD's; SIGTERM stops it).  ``--render-only`` writes and checks without
starting NSD.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import List, Optional, Sequence

from jinja2 import Environment, PackageLoader, StrictUndefined

from testbed import proc
from testbed.probes import defaults

ZONE = "anycast.test"
#: TTL of ``svc.anycast.test`` unless the topology's ``service.ttl`` says otherwise.
SERVICE_TTL = 30
SERVICE_ADDRESS = defaults.SERVICE_ADDRESS
DNS_PORT = 53
CONF_NAME = "nsd.conf"
ZONEFILE_NAME = f"{ZONE}.zone"

NSD = shutil.which("nsd") or "/usr/sbin/nsd"
NSD_CHECKCONF = shutil.which("nsd-checkconf") or "/usr/sbin/nsd-checkconf"
NSD_CHECKZONE = shutil.which("nsd-checkzone") or "/usr/sbin/nsd-checkzone"

_env = Environment(
    loader=PackageLoader("testbed", "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)


def render_config(
    site: str,
    workdir: Path,
    address: str = SERVICE_ADDRESS,
    port: int = DNS_PORT,
    also: Sequence[str] = (),
) -> str:
    """Render nsd.conf for one site server.

    Args:
        site: the site name (identity and NSID).
        workdir: the directory holding every NSD file (absolute path advised).
        address: the address NSD binds to (the anycast service address).
        port: the UDP/TCP port.
        also: more addresses to serve on (the site's unicast address).

    Returns:
        The configuration text.
    """
    return _env.get_template("nsd.conf.j2").render(
        site=site,
        dir=str(workdir),
        addresses=[address, *also],
        port=port,
        zone=ZONE,
        zonefile=ZONEFILE_NAME,
    )


def render_zone(site: str, address: str = SERVICE_ADDRESS, ttl: int = SERVICE_TTL) -> str:
    """Render the zone file of ``anycast.test`` for one site.

    Args:
        site: the site name (in the ``site`` TXT record).
        address: the service address (``ns``, apex and ``svc`` A records).
        ttl: the TTL of ``svc.anycast.test``, the name the service is published
            under by anycast (the topology's ``service.ttl``).

    Returns:
        The zone file text.
    """
    return _env.get_template("nsd-zone.j2").render(site=site, address=address, zone=ZONE, ttl=ttl)


def write_config(
    site: str,
    workdir: Path,
    address: str = SERVICE_ADDRESS,
    port: int = DNS_PORT,
    also: Sequence[str] = (),
    ttl: int = SERVICE_TTL,
) -> Path:
    """Write nsd.conf and the zone file into ``workdir`` (created if missing).

    Args:
        site: the site name.
        workdir: the server's NSD directory.
        address: the address NSD binds to.
        port: the port.
        also: more addresses to serve on.
        ttl: the TTL of ``svc.anycast.test``.

    Returns:
        The path of nsd.conf.
    """
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / ZONEFILE_NAME).write_text(render_zone(site, address, ttl))
    conf = workdir / CONF_NAME
    conf.write_text(render_config(site, workdir, address, port, also))
    return conf


def nsd_argv(conf_path: Path) -> List[str]:
    """The command line that runs NSD in the foreground from ``conf_path``.

    NSD forks its server and xfrd children; SIGTERM to this PID stops them
    all.  Start it in its own session so that a SIGKILL can reach the
    children too (``os.killpg``).
    """
    return [NSD, "-d", "-c", str(conf_path)]


def check(conf_path: Path) -> Optional[str]:
    """Check a rendered config with nsd-checkconf and its zone with nsd-checkzone.

    Args:
        conf_path: the nsd.conf written by :func:`write_config`.

    Returns:
        None if both accept the files, else the tools' message.
    """
    conf_path = Path(conf_path)
    runs = [
        [NSD_CHECKCONF, str(conf_path)],
        [NSD_CHECKZONE, ZONE, str(conf_path.parent / ZONEFILE_NAME)],
    ]
    for argv in runs:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        except OSError as exc:
            return f"{argv[0]}: {exc.strerror}"
        if done.returncode != 0:
            text = (done.stdout + done.stderr).strip()
            return text or f"{Path(argv[0]).name}: exit status {done.returncode}"
    return None


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog="python -m testbed.services.dns",
        description="Render a site's NSD config and zone, check them, and exec NSD.",
    )
    p.add_argument("--site", required=True, type=proc.name, help="site name (identity, NSID)")
    proc.add_daemon_dir(p, "NSD")
    p.add_argument(
        "--address",
        default=SERVICE_ADDRESS,
        type=proc.ipv4,
        help=f"address to serve on (default {SERVICE_ADDRESS})",
    )
    proc.add_also(p, "the site's unicast address")
    p.add_argument(
        "--ttl",
        default=SERVICE_TTL,
        type=proc.bounded(0, 86400, int),
        help=f"TTL of svc.anycast.test, the anycast-published name (default {SERVICE_TTL})",
    )
    proc.add_port(p, DNS_PORT, "port")
    proc.add_render_only(p, "NSD", "the files, print nsd.conf's path")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.services.dns``."""
    proc.daemon_main(
        _parser(),
        argv,
        "NSD",
        lambda a, _: write_config(a.site, a.dir, a.address, a.port, a.also, a.ttl),
        check,
        nsd_argv,
    )


if __name__ == "__main__":
    main()
