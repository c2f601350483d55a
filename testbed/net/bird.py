"""BIRD 2 per router: bird.conf rendering, the parser's check, and command lines.

A router of an AS with ``daemon: bird`` gets a ``bird.conf`` rendered from
the same :class:`~testbed.topology.plan.RouterPlan` as an FRR router's
``frr.conf`` (:mod:`testbed.net.frr`), with the same behaviour
(docs/bird.md maps one onto the other):

- the networks it announces: a ``static`` protocol of blackholes (frr.conf's
  ``network`` statements over the testbed's kernel blackholes);
- one ``bgp`` protocol per neighbour with its hold, keepalive and
  connect-retry times, a first connect and a restart after an error as
  bgpd's start timer does them (1 s, doubling up to 120 s), BFD
  (``bfd on`` and a ``bfd`` protocol with the topology's interval and
  multiplier), next hop self on iBGP;
- the neighbour's :class:`~testbed.topology.plan.NeighborPolicy` as an
  import and an export filter that decide as the route-maps do: entry 10
  first (tag, local preference, prepend, MED, communities), then the
  further entries in order (a deny is ``reject``, a permit that goes on is
  its sets, a permit that ends is ``accept``); community lists are
  ``define``\\ d sets of the same names;
- a ``kernel`` protocol that exports the best BGP routes to the kernel (only
  BGP's: the testbed's own kernel routes stay its own).

BIRD 2 has no advertisement interval (MRAI) and no route-flap damping: the
topology checks refuse either on a BIRD router
(:func:`testbed.topology.validate.validate`), so the rendering never meets
them.  The rendering is pure: the same plan gives the same text.

Everything of a router lives in ``/run/bird/ROUTER/``: bird.conf, its log,
its pid file and its control socket (``birdc -s``).  Bring-up starts it
through :class:`testbed.net.daemons.BirdDaemon`.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from jinja2 import Environment, PackageLoader, StrictUndefined

from testbed.errors import InputError, TestbedError
from testbed.topology.model import WELL_KNOWN_COMMUNITIES, Topology
from testbed.topology.plan import Neighbor, Plan, RouteMapEntry, RouterPlan

BIRD = shutil.which("bird") or "/usr/sbin/bird"
BIRDC = shutil.which("birdc") or "/usr/sbin/birdc"
BIRD_RUN_DIR = Path("/run/bird")
#: The user the daemon drops to (the Debian package's), when it exists.
BIRD_USER = "bird"
#: Seconds from a session's start to its first connect (bgpd's start timer, 1 s).
CONNECT_DELAY = 1
#: Seconds before a session is started again after an error, doubling up to the
#: second (bgpd's start timer: 1 s, doubled on every error, at most 120 s).
ERROR_WAIT = (1, 120)

_env = Environment(
    loader=PackageLoader("testbed", "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)


def symbol(name: str) -> str:
    """A plan name (``t2-a``, ``ACTION-65001-6001``) as a BIRD symbol (``t2_a``).

    Node names are ``[a-z0-9-]`` and community list names ``[A-Z0-9-]``, so
    ``-`` -> ``_`` is one to one (neither has an ``_``).
    """
    return name.replace("-", "_")


def community(value: str) -> str:
    """A community as BIRD writes it: ``(65001, 6001)``, ``(65001, 0, 2)``; a
    well-known name as its value (``no-export`` -> ``(65535, 65281)``)."""
    if value in WELL_KNOWN_COMMUNITIES:
        high, low = WELL_KNOWN_COMMUNITIES[value]
        return f"({high}, {low})"
    return "(" + ", ".join(value.split(":")) + ")"


def named(values: List[str]) -> str:
    """A comment naming the well-known communities among ``values`` (empty if none)."""
    known = [v for v in values if v in WELL_KNOWN_COMMUNITIES]
    return f"  # {', '.join(known)}" if known else ""


def attribute(large: bool) -> str:
    """The route attribute a community (list) lives in."""
    return "bgp_large_community" if large else "bgp_community"


@dataclass
class BirdSession:
    """One neighbour of a BIRD router: what the template needs beyond the plan's Neighbor."""

    n: Neighbor
    #: the protocol's and the filters' names
    protocol: str
    import_filter: str
    export_filter: str
    #: this router's address on the link to the neighbour
    local: IPv4Address


def runtime_dir(router: str, base: Optional[Path] = None) -> Path:
    """The router's BIRD directory (config, log, pid file, control socket)."""
    return (base or BIRD_RUN_DIR) / router


def control_socket(router: str, base: Optional[Path] = None) -> Path:
    """The router's control socket (``birdc -s``)."""
    return runtime_dir(router, base) / "bird.ctl"


def _local_address(router: RouterPlan, n: Neighbor) -> IPv4Address:
    for iface in router.interfaces:
        if iface.peer_address == n.address:
            return iface.address.ip
    raise TestbedError(f"router {router.name}: no interface towards {n.peer} ({n.address})")


def sessions(router: RouterPlan) -> List[BirdSession]:
    """The router's neighbours with their BIRD names and local addresses.

    Raises:
        TestbedError: a neighbour needs what only FRR renders (a Ryu site's
            work-arounds; the topology checks refuse that first).
    """
    out = []
    for n in router.neighbors:
        if n.ryu_peer:
            raise TestbedError(
                f"router {router.name}: its neighbour {n.peer} is a Ryu site, whose "
                "work-arounds only FRR renders"
            )
        for entries in (n.policy.imports, n.policy.exports) if n.policy else ():
            last = entries[-1] if entries else None
            if last is not None and (last.match is not None or not last.permit or last.next):
                raise TestbedError(
                    f"router {router.name}: the policy towards {n.peer} does not end with "
                    "an entry that permits everything else"
                )
        name = symbol(n.peer)
        out.append(
            BirdSession(n, f"peer_{name}", f"in_{name}", f"out_{name}", _local_address(router, n))
        )
    return out


def bfd_settings(router: RouterPlan) -> Optional[Tuple[int, int]]:
    """(interval ms, multiplier) of the router's BFD sessions, None without BFD.

    BIRD 2.0 takes BFD's intervals per interface, not per session: the plan
    gives every session the topology's (``bfd.interval``, ``bfd.multiplier``).
    """
    values = {(n.bfd_interval, n.bfd_multiplier) for n in router.neighbors if n.bfd}
    if len(values) > 1:
        raise TestbedError(f"router {router.name}: BFD sessions with different intervals")
    return values.pop() if values else None


def entry_statement(entry: RouteMapEntry, asn: int) -> str:
    """One route-map entry after 10 as one BIRD statement, deciding as the entry does.

    A deny is ``reject``; a permit applies its sets, then goes on to the next
    entry (``on-match next``) or ends with ``accept``; a ``match`` makes it
    ``if LIST-ATTRIBUTE ~ LIST then ...`` (true when the route carries any of
    the list's communities, as an FRR community list with one value a line).
    """
    if not entry.permit:
        body = ["reject;"]
    else:
        body = [f"bgp_path.prepend({asn});"] * entry.prepend
        if entry.local_pref is not None:
            body.append(f"bgp_local_pref = {entry.local_pref};")
        if not entry.next:
            body.append("accept;")
    if entry.match is None:
        return " ".join(body) or "# (nothing to do)"
    action = body[0] if len(body) == 1 else "{ " + " ".join(body) + " }"
    return f"if {attribute(entry.match.large)} ~ {symbol(entry.match.name)} then {action}"


_env.filters.update(symbol=symbol, community=community, named=named)
_env.globals.update(entry_statement=entry_statement)


def render_config(router: RouterPlan, plan: Plan, logfile: Optional[str] = None) -> str:
    """Render the router's bird.conf.

    Args:
        router: the router from the plan (any router but a site; normally one of
            an AS with ``daemon: bird``).
        plan: the whole plan (for the topology's name).
        logfile: where BIRD logs (default: the router's runtime dir).

    Returns:
        The configuration text.
    """
    if router.site:
        raise TestbedError(f"{router.name} is a site: its speaker is {router.speaker}, not BIRD")
    return _env.get_template("bird.conf.j2").render(
        r=router,
        topology=plan.topology.name,
        sessions=sessions(router),
        bfd=bfd_settings(router),
        connect_delay=CONNECT_DELAY,
        error_wait=ERROR_WAIT,
        logfile=logfile or str(runtime_dir(router.name) / "bird.log"),
    )


_ERROR = re.compile(r":(\d+):(\d+)\s+(.*)$")


def parse_check(config_path: Path) -> Optional[str]:
    """Check a config with BIRD's own parser (``bird -p -c FILE``); the error or None."""
    try:
        proc = subprocess.run(
            [BIRD, "-p", "-c", str(config_path)], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        return "bird -p did not finish within 60 s"
    if proc.returncode != 0:
        return (proc.stderr + proc.stdout).strip() or f"exit status {proc.returncode}"
    return None


def check_configs(paths: Dict[str, Path], workers: int = 8) -> None:
    """Parse every router's bird.conf with BIRD's parser (one ``bird -p`` each, in parallel).

    Raises:
        TestbedError: naming the first router (in the order given), the line and BIRD's message.
    """
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        errors = list(pool.map(parse_check, paths.values()))
    for (router, path), err in zip(paths.items(), errors, strict=True):
        if err:
            match = _ERROR.search(err.splitlines()[0])
            if match:
                raise TestbedError(f"BIRD rejects {path} line {match.group(1)}: {match.group(3)}")
            raise TestbedError(f"BIRD rejects {path} (router {router}): {err}")


def prepare_runtime_dir(router: str, config_text: str, base: Optional[Path] = None) -> Path:
    """Create the router's directory with its bird.conf and an empty log.

    Owned by the ``bird`` user when it exists (the daemon drops to it).

    Returns:
        The directory.
    """
    root = base or BIRD_RUN_DIR
    owner: Optional[Tuple[int, int]] = None
    with contextlib.suppress(KeyError):
        owner = pwd.getpwnam(BIRD_USER).pw_uid, grp.getgrnam(BIRD_USER).gr_gid
    root.mkdir(mode=0o755, parents=True, exist_ok=True)
    path = runtime_dir(router, root)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(mode=0o755)
    conf, log = path / "bird.conf", path / "bird.log"
    conf.write_text(config_text)
    log.touch()
    if owner is not None and os.geteuid() == 0:
        for item in (path, conf, log):
            os.chown(item, *owner)
    return path


def daemon_argv(router: str, base: Optional[Path] = None, user: Optional[str] = None) -> List[str]:
    """The command line that starts a router's BIRD (it daemonizes itself).

    Args:
        router: the router's name.
        base: the folder of the routers' directories (default /run/bird).
        user: the user (and group) to drop to (default: ``bird`` when it exists).
    """
    d = runtime_dir(router, base)
    argv = [BIRD, "-c", str(d / "bird.conf"), "-s", str(d / "bird.ctl"), "-P", str(d / "bird.pid")]
    if user is None:
        try:
            pwd.getpwnam(BIRD_USER)
            user = BIRD_USER
        except KeyError:
            user = None
    if user:
        argv += ["-u", user, "-g", user]
    return argv


def read_pid(router: str, base: Optional[Path] = None) -> Optional[int]:
    """The PID in the router's pid file, if any."""
    try:
        return int((runtime_dir(router, base) / "bird.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def birdc_argv(router: str, command: str, base: Optional[Path] = None) -> List[str]:
    """The birdc command line that runs one command on a router (vtysh's equivalent)."""
    return [BIRDC, "-s", str(control_socket(router, base)), *command.split()]


def bird_version() -> Optional[str]:
    """The installed BIRD's version (``bird --version``: ``2.0.12``), None if there is none."""
    try:
        out = subprocess.run([BIRD, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (out.stderr + out.stdout).strip()
    match = re.search(r"version\s+(\S+)", text)
    return match.group(1) if match else None


def require_bird(topo: Topology, source: Optional[str] = None) -> None:
    """Refuse a topology with ``daemon: bird`` on a machine without BIRD 2.

    Raises:
        InputError: naming the first AS with ``daemon: bird`` (one line, exit 2).
    """
    if os.access(BIRD, os.X_OK):
        return
    for i, asys in enumerate(topo.ases):
        if asys.daemon == "bird":
            raise InputError(
                f"bird: BIRD 2 is not installed ({BIRD} is missing); install Debian's bird2 "
                f"(scripts/install.sh does) or run AS {asys.name!r} on FRR",
                source,
                f"ases[{i}].daemon",
            )
