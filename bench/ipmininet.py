"""Start-up against IPMininet: the same chain of BGP routers brought up by both.

Prints, for N = 50 and 100 (or the sizes given), one line per size: the
routers of chain:N (N transit ASes in a line, the site's router at one end,
the eyeball router at the other: N + 2 routers), and for this testbed and
for IPMininet the total time from the start to BGP convergence (every router
has a route to every announced prefix) and the teardown time, then the ratio
IPMininet total / ours.  Target (issue 19): ours at least 5x faster at 52
and 102 routers.

The IPMininet chain is built from the same plan as ours (``chain_spec``):
the same routers and AS numbers in the same line, an eBGP session on every
link, the site's router announcing the anycast prefix and the eyeball router
the client prefix (each on a LAN with its host), the transit routers
announcing nothing.  IPMininet runs zebra and bgpd only (``RouterConfig``, no
OSPF), IPv4 only, with its own configuration and FRR's default timers (ours:
keepalive 1 s, hold 3 s, MRAI 0).  Its convergence is read by polling each
router's ``ip -4 route`` (routers not yet complete only), so it may be late
by one round of polling; ours is the last route change seen over netlink.

IPMininet is optional (not a dependency of the testbed): without it the
benchmark says how to install it and measures this testbed alone.  It finds
FRR's daemons by name on PATH; the benchmark puts ``/usr/lib/frr`` in front
for the IPMininet run.  When a daemon's configuration check fails, IPMininet
calls Mininet's global clean-up (what ``mn -c`` runs, which kills processes
by name): the benchmark replaces it with an error first
(:func:`refuse_global_cleanup`), so only IPMininet's own nodes are stopped.

Ours runs the chain on FRR and again with its ASes on BIRD 2 (``--daemon``,
``bench/startup.py``'s ``with_daemons``): FRR holds every received route
50 ms, so a chain of R routers takes at least (R - 1) x 50 ms on FRR.

    sudo .venv/bin/python bench/ipmininet.py [--timeout S] [--daemon frr|bird ...] [N ...]
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import sysconfig
import time
from pathlib import Path
from types import ModuleType
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Set,
    Tuple,
    Union,
)

from testbed.topology.load import load_topology
from testbed.topology.plan import make_plan

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from startup import measure  # noqa: E402 - the sibling benchmark's bring-up of chain:N

#: where Debian's FRR keeps its daemons (not on PATH)
FRR_DIR = "/usr/lib/frr"
#: the daemons the IPMininet chain runs
FRR_DAEMONS = ("zebra", "bgpd")
#: IPMininet's address pool: its default 192.168.0.0/16 holds 256 links of a /24 each
IPMININET_BASE = "10.0.0.0/8"
#: the first word of an ``ip route`` line when it is a route type, not the prefix
ROUTE_TYPES = {
    "unicast", "local", "broadcast", "multicast", "anycast",
    "blackhole", "unreachable", "prohibit", "throw", "nat",
}  # fmt: skip


class ChainSpec(NamedTuple):
    """chain:N as IPMininet needs it: routers, router links, hosts."""

    #: (name, AS number, prefixes it announces), in topology order
    routers: List[Tuple[str, int, Tuple[str, ...]]]
    #: router-router links, each an eBGP session
    links: List[Tuple[str, str]]
    #: (host, its router, the LAN's subnet: the router's announced prefix, or None)
    hosts: List[Tuple[str, str, Optional[str]]]

    @property
    def prefixes(self) -> List[str]:
        """Every announced prefix, which every router must have a route to."""
        return [p for _, _, nets in self.routers for p in nets]


def chain_spec(n: int) -> ChainSpec:
    """chain:N's routers, AS numbers, links, announced prefixes and hosts, from our plan."""
    plan = make_plan(load_topology(f"chain:{n}"))
    routers = [(r.name, r.asn, tuple(str(p) for p in r.networks)) for r in plan.routers.values()]
    announced = {name: nets for name, _, nets in routers}
    links: List[Tuple[str, str]] = []
    hosts: List[Tuple[str, str, Optional[str]]] = []
    for link in plan.links:
        a, b = link.a.node, link.b.node
        if a in plan.routers and b in plan.routers:
            links.append((a, b))
        else:
            host, router = (b, a) if a in plan.routers else (a, b)
            nets = announced.get(router, ())
            hosts.append((host, router, nets[0] if nets else None))
    return ChainSpec(routers, links, hosts)


def routes_in(output: str) -> Set[str]:
    """The destinations of ``ip -4 route show`` output (``default`` left out)."""
    found = set()
    for line in output.splitlines():
        words = line.split()
        if words and words[0] in ROUTE_TYPES:
            words = words[1:]
        if words and words[0] != "default":
            found.add(words[0])
    return found


def missing_routes(tables: Mapping[str, Set[str]], prefixes: Iterable[str]) -> Dict[str, List[str]]:
    """Router -> the prefixes it has no route to; empty once BGP has converged."""
    wanted = list(prefixes)
    missing = {r: [p for p in wanted if p not in t] for r, t in tables.items()}
    return {r: m for r, m in missing.items() if m}


def with_frr_on_path(path: str, frr_dir: str = FRR_DIR) -> str:
    """PATH with FRR's daemon folder in front (unchanged if it is on it already)."""
    parts = [p for p in path.split(os.pathsep) if p]
    return path if frr_dir in parts else os.pathsep.join([frr_dir, *parts])


def missing_daemons(path: str) -> List[str]:
    """The FRR daemons IPMininet would not find on ``path``."""
    return [d for d in FRR_DAEMONS if shutil.which(d, path=path) is None]


def install_hint(error: str, python: str = sys.executable) -> str:
    """One line: IPMininet is missing, and how to install it into this virtualenv."""
    pip = str(Path(python).parent / "pip")
    site = sysconfig.get_paths()["purelib"]
    return (
        f"IPMininet is not installed ({error}): measuring this testbed only. "
        "To install IPMininet 1.0 (it uses Debian's mininet package and FRR's daemons "
        f"from {FRR_DIR}; "
        "not `pip install ipmininet`: pip refuses its git dependency on Mininet, and its setup.py "
        "would build Mininet from source), as the virtualenv's owner: "
        f"{pip} download --no-deps --no-binary :all: ipmininet==1.0 -d /tmp/ipm && "
        "tar xzf /tmp/ipm/ipmininet-1.0.tar.gz -C /tmp/ipm && "
        f"cp -r /tmp/ipm/ipmininet-1.0/ipmininet {site}/ && {pip} install 'mako>=1.1,<1.2'"
    )


def import_ipmininet() -> Union[Dict[str, Any], str]:
    """IPMininet's classes by name, or why they cannot be imported.

    This file is called ipmininet.py too: its folder is taken off sys.path
    while importing, or ``import ipmininet`` would find this file.
    """
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    try:
        stale = getattr(sys.modules.get("ipmininet"), "__file__", None)
        if stale and Path(stale).resolve().parent == HERE:
            del sys.modules["ipmininet"]
        iptopo: ModuleType = importlib.import_module("ipmininet.iptopo")
        ipnet = importlib.import_module("ipmininet.ipnet")
        config = importlib.import_module("ipmininet.router.config")
    except ImportError as e:
        return str(e)
    finally:
        sys.path[:] = saved
    names = ("RouterConfig", "BGP", "AF_INET", "ebgp_session")
    frr_as_frr(importlib.import_module("ipmininet.router.config.zebra").QuaggaDaemon)
    return {"IPTopo": iptopo.IPTopo, "IPNet": ipnet.IPNet, **{k: getattr(config, k) for k in names}}


def frr_as_frr(daemon: type) -> None:
    """Start IPMininet's FRR daemons as user ``frr`` (check included), not as root.

    IPMininet starts them with ``-u root``, but Debian's FRR is built with
    ``frrvty`` as its vty group, which root is not in, so they refuse to start
    (``privs_init: user(root) is not part of vty group specified(frrvty)``);
    user ``frr`` is in it, as this testbed's own daemons run.  ``daemon`` is
    IPMininet's ``QuaggaDaemon``, whose ``startup_line`` and ``dry_run`` zebra
    and bgpd use.
    """
    if getattr(daemon, "_as_frr", False):
        return
    for name in ("startup_line", "dry_run"):
        line = getattr(daemon, name).fget

        def as_frr(self: Any, line: Callable[[Any], str] = line) -> str:
            return line(self).replace("-u root", "-u frr -g frr")

        setattr(daemon, name, property(as_frr))
    daemon._as_frr = True  # type: ignore[attr-defined]


def chain_topo_class(ipm: Mapping[str, Any]) -> type:
    """An IPTopo subclass building a ``ChainSpec``: ``ChainTopo(spec)`` builds it."""
    RouterConfig, BGP, AF_INET = ipm["RouterConfig"], ipm["BGP"], ipm["AF_INET"]
    ebgp_session = ipm["ebgp_session"]

    class ChainTopo(ipm["IPTopo"]):  # type: ignore[misc]
        """chain:N in IPMininet: one router per AS, eBGP on every link."""

        def build(self, spec: ChainSpec, *args: Any, **kwargs: Any) -> None:
            routers = {}
            for name, asn, nets in spec.routers:
                r = self.addRouter(name, config=RouterConfig)
                r.addDaemon(BGP, address_families=(AF_INET(networks=nets),))
                self.addAS(asn, (r,))
                routers[name] = r
            for a, b in spec.links:
                self.addLink(routers[a], routers[b])
                ebgp_session(self, routers[a], routers[b])
            for host, router, subnet in spec.hosts:
                h = self.addHost(host)
                self.addLink(routers[router], h)
                if subnet:
                    self.addSubnet(nodes=[routers[router], h], subnets=[subnet])
            super().build(*args, **kwargs)

    return ChainTopo


def wait_routes(
    net: Any, routers: Iterable[str], prefixes: List[str], timeout: float, interval: float = 0.1
) -> Tuple[bool, float, Dict[str, List[str]]]:
    """Poll each router's routes until every one has every prefix.

    Returns whether it converged, the wall time it did (or gave up) and what was missing.
    """
    pending = list(routers)
    deadline = time.monotonic() + timeout
    while True:
        tables = {r: routes_in(net[r].cmd("ip -4 route show")) for r in pending}
        missing = missing_routes(tables, prefixes)
        pending = [r for r in pending if r in missing]
        if not pending:
            return True, time.time(), {}
        if time.monotonic() > deadline:
            return False, time.time(), missing
        time.sleep(interval)


def _refused(*_args: Any, **_kwargs: Any) -> None:
    raise RuntimeError(
        "IPMininet asked for Mininet's global clean-up (mn -c), which kills processes by "
        "name: refused; its network is stopped by its own nodes instead"
    )


def refuse_global_cleanup() -> None:
    """Make Mininet's global clean-up (``mininet.clean.cleanup``, what ``mn -c`` runs: it
    kills by name, whatever started them) raise instead: IPMininet calls it when a daemon's
    config check fails, and this machine may run other namespaces."""
    import mininet.clean

    mininet.clean.cleanup = _refused


def quiet_mininet() -> None:
    """Only Mininet's errors on the terminal: its warnings at IPMininet's teardown (``(t1
    exited - ignoring cmd('ip link del ...'))``, a line per link) would drown the table."""
    from mininet.log import setLogLevel

    setLogLevel("error")


def measure_ipmininet(n: int, ipm: Mapping[str, Any], timeout: float) -> Dict[str, Any]:
    """Bring chain:N up in IPMininet and down once; return the figures (``error`` if it failed)."""
    spec = chain_spec(n)
    path = with_frr_on_path(os.environ.get("PATH", ""))
    result: Dict[str, Any] = {"routers": len(spec.routers), "converged": False, "error": None}
    absent = missing_daemons(path)
    if absent:  # IPMininet would fail its config check and clean up all of Mininet
        result["error"] = f"FRR daemons not found ({', '.join(absent)}) on PATH or in {FRR_DIR}"
        return result
    saved = os.environ.get("PATH", "")
    os.environ["PATH"] = path  # node shells and daemons inherit it
    net = None
    refuse_global_cleanup()
    quiet_mininet()
    try:
        wall0 = time.time()
        topo = chain_topo_class(ipm)(spec)
        net = ipm["IPNet"](topo=topo, use_v6=False, ipBase=IPMININET_BASE, build=False)
        net.build()
        net.start()
        converged, at, missing = wait_routes(
            net, [r for r, _, _ in spec.routers], spec.prefixes, timeout
        )
        result.update(converged=converged, total_s=at - wall0, missing=missing)
    except (Exception, SystemExit) as e:  # IPMininet exits on a failed config check
        result["error"] = f"{type(e).__name__}: {e}"
    finally:
        t1 = time.monotonic()
        if net is not None:
            try:
                net.stop()
            except Exception as e:  # a half-built network
                result["error"] = result["error"] or f"stop: {e}"
        result["down_s"] = time.monotonic() - t1
        os.environ["PATH"] = saved
    return result


HEADER = (
    f"{'N':>4} {'routers':>7} {'ours on':>7} {'ours s':>7} {'down s':>6} "
    f"{'IPMininet s':>11} {'down s':>6} {'ratio':>6}"
)


def format_row(n: int, ours: Mapping[str, Any], theirs: Optional[Mapping[str, Any]]) -> str:
    """One line of the table: ours, IPMininet's (``-`` if not measured), the ratio."""
    line = (
        f"{n:>4} {ours['routers']:>7} {ours.get('daemon', 'frr'):>7} {ours['total_s']:>7.2f} "
        f"{ours['down_s']:>6.2f}"
    )
    notes = [] if ours["converged"] else ["ours NOT CONVERGED"]
    if theirs is None or theirs.get("error"):
        line += f" {'-':>11} {'-':>6} {'-':>6}"
        if theirs is not None:
            notes.append(f"IPMininet failed: {theirs['error']}")
    else:
        line += f" {theirs['total_s']:>11.2f} {theirs['down_s']:>6.2f}"
        if theirs["converged"] and ours["converged"] and ours["total_s"] > 0:
            line += f" {theirs['total_s'] / ours['total_s']:>5.1f}x"
        else:
            line += f" {'-':>6}"
        if not theirs["converged"]:
            left = theirs.get("missing") or {}
            notes.append(f"IPMininet NOT CONVERGED ({len(left)} routers missing routes)")
        if theirs["routers"] != ours["routers"]:
            notes.append(f"IPMininet had {theirs['routers']} routers")
    return line + "".join(f"  {note}" for note in notes)


def main(argv: List[str]) -> None:
    """Parse the sizes; for each, measure ours, then IPMininet, and print one line."""
    parser = argparse.ArgumentParser(
        prog="bench/ipmininet.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "sizes", nargs="*", type=int, metavar="N", help="chain sizes (default 50 100)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="IPMininet's convergence timeout, s (default %(default)s)",
    )
    parser.add_argument(
        "--daemon",
        dest="daemons",
        action="append",
        choices=("frr", "bird"),
        help="our chain's routing daemon, repeatable (default: frr, then bird)",
    )
    args = parser.parse_args(argv)
    sizes = args.sizes or [50, 100]
    ipm = import_ipmininet()
    if isinstance(ipm, str):
        print(install_hint(ipm), flush=True)
    print(HEADER, flush=True)
    for n in sizes:
        theirs = None if isinstance(ipm, str) else measure_ipmininet(n, ipm, args.timeout)
        for daemon in args.daemons or ["frr", "bird"]:
            ours = {**measure(n, daemon), "daemon": daemon}
            print(format_row(n, ours, theirs), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
