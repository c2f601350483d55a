"""HTTP service of a site server: nginx from Debian, from a config rendered per server.

Every site server runs its own nginx (``daemon off``, a master and one worker,
workers as root) from its own directory in the run folder: ``nginx.conf``,
``nginx.pid``, ``error.log``, ``access.log`` and nginx's temporary folders,
nothing else on the machine.  It listens on port 80 of the anycast service
address and, when its site has one, of the site's unicast address
(``sites[].unicast``).  Every answer carries ``X-Site: SITE`` and
``X-Server: SERVER``; ``GET /`` answers ``200 SITE SERVER``; ``GET /redirect``
answers ``302`` to ``http://UNICAST/stream``, the serving site's own unicast
address (the hybrid clients' way from the anycast address to one site;
``404`` at a site without one).

As a process::

    python -m testbed.services.http --site lon --server lon-1 --dir RUN/services/lon-1/nginx \\
        [--address 192.0.2.53] [--unicast 100.66.0.53] [--port 80]

writes the config, checks it with ``nginx -t``, then replaces itself with
nginx in the foreground (the PID the caller started is nginx's master;
SIGTERM stops it and its worker).  ``--render-only`` writes and checks
without starting nginx.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import List, Optional

from jinja2 import Environment, PackageLoader, StrictUndefined

from testbed import proc
from testbed.probes import defaults

SERVICE_ADDRESS = defaults.SERVICE_ADDRESS
CONF_NAME = "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
#: What to install when nginx is missing.
INSTALL = "apt-get install nginx"
#: The header that names the site (and the one that names the server).
SITE_HEADER = "X-Site"
SERVER_HEADER = "X-Server"
#: The path that answers a redirect to the site's unicast address.
REDIRECT_PATH = "/redirect"
#: Where the redirect points, on the unicast address.
REDIRECT_TARGET = "/stream"
#: nginx's temporary folders (created in the server's directory before it starts).
TEMP_DIRS = ("body", "proxy", "fastcgi", "uwsgi", "scgi")

_env = Environment(
    loader=PackageLoader("testbed", "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)


def installed() -> bool:
    """True when Debian's nginx is on this machine."""
    return Path(NGINX).exists()


def render_config(
    site: str,
    server: str,
    workdir: Path,
    address: str = SERVICE_ADDRESS,
    unicast: Optional[str] = None,
    port: int = defaults.HTTP_PORT,
) -> str:
    """Render nginx.conf for one site server.

    Args:
        site: the site's name (``X-Site``).
        server: the server's name (``X-Server``).
        workdir: the directory holding every nginx file (absolute path advised).
        address: the anycast service address.
        unicast: the site's unicast address (None: the site has none).
        port: the TCP port on both addresses.

    Returns:
        The configuration text.
    """
    addresses = [address] + ([unicast] if unicast else [])
    return _env.get_template("nginx.conf.j2").render(
        site=site,
        server=server,
        dir=str(workdir),
        addresses=addresses,
        unicast=unicast,
        port=port,
    )


def write_config(
    site: str,
    server: str,
    workdir: Path,
    address: str = SERVICE_ADDRESS,
    unicast: Optional[str] = None,
    port: int = defaults.HTTP_PORT,
) -> Path:
    """Write nginx.conf (and make nginx's folders) in ``workdir``; return the config's path."""
    workdir = Path(workdir).resolve()
    for name in TEMP_DIRS:
        (workdir / "tmp" / name).mkdir(parents=True, exist_ok=True)
    conf = workdir / CONF_NAME
    conf.write_text(render_config(site, server, workdir, address, unicast, port))
    return conf


def nginx_argv(conf_path: Path, test: bool = False) -> List[str]:
    """nginx on ``conf_path``: its prefix and its start-up error log in the same folder.

    Args:
        conf_path: the rendered config.
        test: ``nginx -t`` (check the config, start nothing).
    """
    folder = Path(conf_path).parent
    argv = [NGINX, "-p", f"{folder}/", "-e", str(folder / "error.log"), "-c", str(conf_path)]
    return argv + (["-t", "-q"] if test else [])


def check(conf_path: Path) -> Optional[str]:
    """``nginx -t`` on a rendered config: None if nginx accepts it, else its message."""
    try:
        done = subprocess.run(nginx_argv(conf_path, test=True), capture_output=True, text=True)
    except OSError as exc:
        return f"{NGINX}: {exc.strerror}"
    if done.returncode != 0:
        text = (done.stdout + done.stderr).strip()
        return text or f"nginx -t: exit status {done.returncode}"
    return None


def probe_command(address: str, port: int = defaults.HTTP_PORT, path: str = "/") -> str:
    """A shell command that asks nginx once and prints ``STATUS SITE`` (readiness checks)."""
    return (
        f"curl -s -o /dev/null -m 1 -w '%{{http_code}} %header{{{SITE_HEADER.lower()}}}' "
        f"http://{address}:{port}{path}"
    )


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog="python -m testbed.services.http",
        description="Render a site server's nginx config, check it, and exec nginx.",
    )
    p.add_argument("--site", required=True, type=proc.name, help="site name (X-Site)")
    p.add_argument("--server", required=True, type=proc.name, help="server name (X-Server)")
    proc.add_daemon_dir(p, "nginx")
    p.add_argument(
        "--address",
        default=SERVICE_ADDRESS,
        type=proc.ipv4,
        help=f"the anycast service address (default {SERVICE_ADDRESS})",
    )
    p.add_argument(
        "--unicast", default=None, type=proc.ipv4, help="the site's unicast address, if any"
    )
    proc.add_port(p, defaults.HTTP_PORT, "port")
    proc.add_render_only(p, "nginx", "the config, print its path")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.services.http``."""
    proc.daemon_main(
        _parser(),
        argv,
        "nginx",
        lambda a, _: write_config(a.site, a.server, a.dir, a.address, a.unicast, a.port),
        check,
        nginx_argv,
        installed=installed,
        install=INSTALL,
    )


if __name__ == "__main__":
    main()
