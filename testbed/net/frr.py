"""FRR per router: config rendering, dry-run check, and daemon command lines.

Each router runs zebra and bgpd (and bfdd when a session uses BFD) inside
its namespace, with its own pathspace (``-N ROUTER``) so that ``vtysh -N
ROUTER`` works from the root namespace.  The few static routes a router needs
(a blackhole for each prefix it announces, the service address towards the
site's servers) are kernel routes the testbed sets before zebra starts, which
zebra then reads as kernel routes: that saves a staticd per router, about a
fifth of FRR's start-up CPU (see bench/startup.py).  Everything of a router
lives in ``/run/frr/ROUTER/`` (owned by user frr: the daemons drop to it).
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

from jinja2 import Environment, PackageLoader, StrictUndefined

from testbed.errors import TestbedError
from testbed.net.control import run_control
from testbed.topology.plan import Plan, RouterPlan

FRR_DAEMON_DIR = Path(os.environ.get("FRR_DAEMON_DIR", "/usr/lib/frr"))
FRR_RUN_DIR = Path("/run/frr")
VTYSH = shutil.which("vtysh") or "/usr/bin/vtysh"
#: ``--limit-fds`` of a daemon: this many, plus this many per BGP session.
FD_BASE, FD_PER_NEIGHBOR = 128, 4

_env = Environment(
    loader=PackageLoader("testbed", "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)


def runtime_dir(router: str) -> Path:
    """The router's FRR pathspace directory (sockets, pids, config, log)."""
    return FRR_RUN_DIR / router


def daemons_for(router: RouterPlan) -> List[str]:
    """The FRR daemons a router needs, in start order."""
    names = ["zebra"]
    if any(n.bfd for n in router.neighbors):
        names.append("bfdd")
    names.append("bgpd")
    return names


def render_config(router: RouterPlan, plan: Plan, logfile: Optional[str] = None) -> str:
    """Render the router's frr.conf.

    Args:
        router: the router from the plan.
        plan: the whole plan (for topology-wide defaults).
        logfile: where the daemons log (default: the router's runtime dir).

    Returns:
        The configuration text.
    """
    return _env.get_template("frr.conf.j2").render(
        r=router,
        topology=plan.topology.name,
        defaults=plan.topology.bgp,
        bfd_peers=[n for n in router.neighbors if n.bfd],
        logfile=logfile or str(runtime_dir(router.name) / "frr.log"),
    )


def dry_run(config_path: Path) -> Optional[str]:
    """Check a config with ``vtysh --dryrun``; return the error text or None."""
    proc = subprocess.run(
        [VTYSH, "--dryrun", "--inputfile", str(config_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode != 0:
        return (proc.stdout + proc.stderr).strip() or f"exit status {proc.returncode}"
    return None


_LINE = re.compile(r"line (\d+):")


def check_configs(paths: Dict[str, Path]) -> None:
    """Dry-run every router's config with one vtysh process.

    vtysh's dry run is a syntax check of every line against FRR's command
    grammar, so the configs are checked as one concatenated file (one
    process instead of one per router); an error's line number names the
    router.

    Raises:
        TestbedError: naming the router, the line and FRR's message.
    """
    starts: List[tuple] = []
    lines: List[str] = []
    for router, path in paths.items():
        starts.append((len(lines) + 1, router))
        lines.extend(path.read_text().splitlines())
        lines.append("end")
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as fh:
        fh.write("\n".join(lines) + "\n")
        combined = Path(fh.name)
    try:
        err = dry_run(combined)
    finally:
        combined.unlink()
    if not err:
        return
    match = _LINE.search(err)
    if match:
        number = int(match.group(1))
        first, router = max((s for s in starts if s[0] <= number), default=starts[0])
        line = number - first + 1
        message = err[match.end() :].strip().splitlines()[0] if err[match.end() :].strip() else err
        raise TestbedError(f"FRR rejects {paths[router]} line {line}: {message}")
    raise TestbedError(f"FRR rejects the router configs: {err}")


def prepare_runtime_dir(router: RouterPlan, config_text: str) -> Path:
    """Create /run/frr/ROUTER owned by frr: frr.conf and one config per daemon.

    Returns:
        The directory.
    """
    uid, gid = pwd.getpwnam("frr").pw_uid, grp.getgrnam("frr").gr_gid
    if not FRR_RUN_DIR.exists():
        FRR_RUN_DIR.mkdir(mode=0o755, parents=True)
        os.chown(FRR_RUN_DIR, uid, gid)
    path = runtime_dir(router.name)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(mode=0o755)
    os.chown(path, uid, gid)
    files = {"frr.conf": config_text}
    for daemon, text in split_config(config_text, daemons_for(router)).items():
        files[f"{daemon}.conf"] = text
    for name, text in files.items():
        conf = path / name
        conf.write_text(text)
        os.chown(conf, uid, gid)
    log = path / "frr.log"
    log.touch()
    os.chown(log, uid, gid)
    return path


#: Top-level commands and the daemons that take them (the others reject them
#: with "No such command", which would fill the log with noise).
_OWNERS = {
    "ip route": ("staticd",),  # not rendered now: static routes are kernel routes
    "route-map": ("bgpd", "zebra"),
    "bgp as-path access-list": ("bgpd",),
    "bgp community-list": ("bgpd",),
    "bgp large-community-list": ("bgpd",),
    "router bgp": ("bgpd",),
    "bfd": ("bfdd",),
    "line vty": ("zebra",),
    "service": (),  # vtysh-only
}


def split_config(text: str, daemons: List[str]) -> Dict[str, str]:
    """Split an integrated frr.conf into one config per daemon, as vtysh would.

    Common lines (frr version, hostname, log) go to every daemon; each block
    (a top-level line with its indented lines) goes to the daemons that own it.

    Args:
        text: the integrated configuration.
        daemons: the daemons that run.

    Returns:
        daemon -> its configuration text.
    """
    out: Dict[str, List[str]] = {d: [] for d in daemons}
    owners: tuple = tuple(daemons)
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith(("!", "exit")):
            owners = tuple(daemons)
            for prefix, names in _OWNERS.items():
                if line == prefix or line.startswith(prefix + " "):
                    owners = tuple(d for d in names if d in daemons)
                    break
        for daemon in owners:
            out[daemon].append(line)
        if line.startswith("exit") and not line[0].isspace():
            owners = tuple(daemons)
    return {d: "\n".join(lines) + "\n" for d, lines in out.items()}


def fd_limit(neighbors: int) -> int:
    """The file descriptors a router's daemons get (``--limit-fds``).

    FRR sizes its event loops' tables by the process's fd limit, and sets
    them up in every daemon at start: with a shell's limit of tens of
    thousands that is a measurable share of each start (bench/startup.py:
    chain:200 up and converged 1.4 s sooner, 4 MB less per router).  A
    daemon needs a few fds a BGP session and a few dozen besides (vty,
    zserv, logs, BFD), so this leaves ample room.
    """
    return FD_BASE + FD_PER_NEIGHBOR * neighbors


def daemon_argv(daemon: str, router: str, neighbors: int = 0) -> List[str]:
    """The command line that starts one FRR daemon of a router (daemonized).

    Args:
        daemon: ``zebra``, ``bgpd``, ...
        router: the router's name (its pathspace).
        neighbors: its BGP sessions (for :func:`fd_limit`).
    """
    d = runtime_dir(router)
    argv = [
        str(FRR_DAEMON_DIR / daemon),
        "-d",
        "-N",
        router,
        "-f",
        str(d / f"{daemon}.conf"),
        "-i",
        str(d / f"{daemon}.pid"),
        "-z",
        str(d / "zserv.api"),
        "--vty_socket",
        str(d),
        "--limit-fds",
        str(fd_limit(neighbors)),
    ]
    if daemon == "bfdd":
        argv += ["--bfdctl", str(d / "bfdd.sock")]
    return argv


def start_command(router: RouterPlan) -> str:
    """One shell line that starts all of a router's daemons in order."""
    n = len(router.neighbors)
    return " && ".join(" ".join(daemon_argv(d, router.name, n)) for d in daemons_for(router))


def read_pid(router: str, daemon: str) -> Optional[int]:
    """The PID in a daemon's pid file, if any."""
    try:
        return int((runtime_dir(router) / f"{daemon}.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def vtysh_argv(router: str, commands: List[str]) -> List[str]:
    """The vtysh command line that runs commands on a router."""
    argv = [VTYSH, "--vty_socket", str(runtime_dir(router))]
    for cmd in commands:
        argv += ["-c", cmd]
    return argv


def vtysh(router: str, *commands: str, timeout: float = 20) -> str:
    """Run vtysh commands on a router; return the output.

    Raises:
        TestbedError: when vtysh fails, or does not finish within ``timeout``
            seconds (e.g. the router's daemons are frozen with SIGSTOP).
    """
    return run_control(
        vtysh_argv(router, list(commands)), "vtysh", router, "its FRR daemons", timeout
    )


def bgp_sessions(router: str, neighbors: Dict[str, str], timeout: float = 20) -> Dict[str, str]:
    """Peer name -> BGP state of an FRR router, from ``show bgp ipv4 unicast summary json``.

    Args:
        router: the router.
        neighbors: peer address -> peer name (unknown addresses keep their address).
        timeout: seconds vtysh may take.
    """
    out = json.loads(vtysh(router, "show bgp ipv4 unicast summary json", timeout=timeout) or "{}")
    peers = out.get("peers", {}) if isinstance(out, dict) else {}
    return {neighbors.get(addr, addr): info.get("state", "?") for addr, info in peers.items()}


def frr_version() -> str:
    """The installed FRR version (from ``zebra -v``), or 'unknown'."""
    try:
        out = subprocess.run(
            [str(FRR_DAEMON_DIR / "zebra"), "-v"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    first = out.stdout.splitlines()[0] if out.stdout else ""
    return first.split()[-1] if "version" in first else "unknown"
