"""Bring a topology up in Mininet namespaces and tear it down again.

The :class:`Testbed` is the live handle: Mininet nodes (one namespace each)
for routers and hosts, point-to-point veth links (no switch, no controller,
no OVS), FRR on every router, and the run folder.  Everything it starts is
recorded in the state file (:mod:`testbed.net.state`) before it runs, so any
exit path, or ``anycast-testbed clean`` after a SIGKILL, can undo it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path
from typing import Callable, Dict, List, Optional, TypeVar

from testbed.errors import TestbedError
from testbed.net import anchors, capacity, links
from testbed.net.cleanup import clean_state, leftovers
from testbed.net.daemons import RoutingDaemon, daemon_named, daemon_of
from testbed.net.netns import RouteTable, RouteWatcher, iproute_in, read_routes, route_lookup
from testbed.net.nodecmds import host_ip_commands, router_ip_commands
from testbed.net.state import (
    NETNS_DIR,
    STATE_DIR,
    Claim,
    State,
    TestbedBusy,
    Tracked,
    busy_message,
    load_state,
    proc_start_time,
    remove_state,
)
from testbed.speaker.base import SiteSpeaker, speaker_class
from testbed.speaker.process import default_route
from testbed.topology.model import Topology
from testbed.topology.plan import HostPlan, Plan, RouterPlan, make_plan

#: The longest command a node's shell is sent as a line: its pty's line discipline keeps
#: 4095 bytes of a line and drops the rest, and the shell would wait for the line's end.
PTY_LINE_MAX = 4000

Log = Callable[[str], None]
T = TypeVar("T")
#: How many routers start their FRR daemons at once.  Starting is CPU bound
#: (about 27 ms a daemon), so more than a few at a time only interleaves them;
#: a few at a time, in :meth:`Plan.start_order`, lets routes travel while the
#: rest start.  Measured with bench/startup.py (``--workers``).
FRR_START_WORKERS = 4
#: How many nodes' shells (Mininet's ``mnexec bash``) start at once.
NODE_WORKERS = 8
#: Teardown waits this long for the netlink handles to close.
NETLINK_CLOSE_S = 3.0


def _quiet(_msg: str) -> None:
    pass


class Counted:
    """Counts finished steps of one kind and tells ``progress`` every 5 % (thread-safe)."""

    def __init__(self, what: str, total: int, progress: Log) -> None:
        self.what, self.total, self.progress = what, total, progress
        self.done = 0
        self._step = max(1, total // 20)
        self._lock = threading.Lock()

    def after(self, call: Callable[..., T], *args: object) -> T:
        """``call(*args)``, then count it."""
        try:
            return call(*args)
        finally:
            with self._lock:
                self.done += 1
                if self.done % self._step == 0 or self.done == self.total:
                    self.progress(f"{self.what} {self.done}/{self.total}")


@dataclass
class ConvergenceResult:
    """The outcome of waiting for BGP to converge."""

    converged: bool
    seconds: float  # from daemon start to the last route change
    missing: Dict[str, List[str]] = field(default_factory=dict)  # router -> prefixes
    at: float = 0.0  # wall-clock time of the last route change
    #: routers left without a route: ``{"policy": {router: [prefix]}, "missing": {...}}``
    #: (:func:`testbed.policy.reach.no_route`)
    no_route: Dict[str, Dict[str, List[str]]] = field(default_factory=dict)


def _mininet():
    """Import Mininet late: only root code paths need it."""
    from mininet.link import Link
    from mininet.log import setLogLevel
    from mininet.net import Mininet
    from mininet.node import Node

    setLogLevel("error")

    class PrebuiltLink(Link):
        """A Mininet link whose veth pair the testbed already created in batch."""

        @classmethod
        def makeIntfPair(cls, *args, **kwargs):  # noqa: N802 (Mininet's name)
            return None

    return Mininet, Node, PrebuiltLink


class Testbed:
    """A running topology: Mininet nodes, links, FRR routers, and its run folder."""

    __test__ = False  # not a pytest test class

    def __init__(self, topo: Topology, run_dir: Path, log: Log = _quiet):
        self.topo = topo
        self.plan: Plan = make_plan(topo)
        self.run_dir = Path(run_dir)
        self.log = log
        #: told one line at each step of a bring-up (``daemons started 120/502``,
        #: ``routes: 340/502 routers have all theirs``): ``up`` and ``run`` show it
        self.progress: Log = _quiet
        self.net = None
        self.nodes: Dict[str, object] = {}
        self.state: Optional[State] = None
        self.warnings: List[str] = []
        self.timings: Dict[str, float] = {}
        self.netem = False
        self._ipr: Dict[str, object] = {}
        self.frr_started_at: Optional[float] = None
        #: routers whose daemons start at once (in :meth:`Plan.start_order`)
        self.start_workers = FRR_START_WORKERS
        self._children: List[subprocess.Popen] = []
        self._scripts = itertools.count(1)  # RUN/commands/NODE-K.sh (:meth:`sendable`)
        self._speakers: Dict[str, SiteSpeaker] = {}
        self._claim_lock = Claim()
        #: (pid, start time) of the processes the testbed itself signalled to end
        #: (an event's kill, a service stopped, teardown): their deaths are expected.
        self.signalled: set = set()

    # ----------------------------------------------------------------- life
    def __enter__(self) -> Testbed:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        """Build the network and start every router's daemon (FRR or BIRD).

        Raises:
            TestbedBusy: another testbed runs (nothing was created).
            TestbedError: something failed to start.
        """
        self._claim()
        t0 = time.monotonic()
        configs = self._render_configs()
        self._check_configs(configs)
        self.timings["render"] = time.monotonic() - t0
        t1 = time.monotonic()
        self._create_nodes()
        self.progress(f"creating {len(self.plan.links)} links...")
        self._create_links()
        self.progress(f"configuring {len(self.nodes)} nodes...")
        self._configure_nodes()
        self._shape_links()
        self._install_capacity()
        self.timings["network"] = time.monotonic() - t1
        t2 = time.monotonic()
        self._start_daemons(configs)
        self.timings["daemons"] = time.monotonic() - t2

    def stop(self) -> None:
        """Stop everything this testbed started; keep the run folder."""
        self._close_netlink()
        if self.state is not None:  # a start refused (another testbed runs) collects nothing
            self._collect_logs()
        if self.state is not None:
            clean_state(self.state)
            for proc in self._children:
                with contextlib.suppress(Exception):
                    proc.wait(timeout=5)
            left = leftovers(self.state)
            if left:
                self.log(f"warning: still present after teardown: {', '.join(left)}")
            remove_state()
            self.state = None
        self._claim_lock.release()
        if self.net is not None:
            for node in self.net.hosts:  # reap the shells and close their ptys
                for close in (
                    lambda n=node: n.shell and n.shell.wait(timeout=5),
                    lambda n=node: n.stdin.close(),
                    lambda n=node: os.close(n.slave),
                ):
                    with contextlib.suppress(Exception):  # teardown goes on regardless
                        close()
            self.net = None
        self.nodes.clear()

    def _close_netlink(self) -> None:
        """Close the cached netlink handles, waiting at most ``NETLINK_CLOSE_S``.

        A Ctrl-C that lands inside a pyroute2 call can leave that handle's
        event loop unable to finish, and its ``close()`` would then never
        return: teardown must not wait on it.  A handle left open goes with
        the process.
        """
        handles = list(self._ipr.values())
        self._ipr.clear()
        if not handles:
            return

        def close_all() -> None:
            for ipr in handles:
                with contextlib.suppress(Exception):  # closing must not stop teardown
                    ipr.close()

        closer = threading.Thread(target=close_all, name="netlink-close", daemon=True)
        closer.start()
        closer.join(NETLINK_CLOSE_S)
        if closer.is_alive():
            self.log("warning: netlink handles did not close in time; left to the exit")

    # ------------------------------------------------------------ building
    def _claim(self) -> None:
        """Take the one-testbed lock and write the state file, or refuse with one line.

        Raises:
            TestbedBusy: another testbed holds the lock or runs (its run
                folder, if this testbed's own is still empty, is removed again).
        """
        old = load_state()
        if not self._claim_lock.acquire() or (old is not None and old.owner_alive()):
            self._claim_lock.release()
            self._drop_empty_run_dir()
            raise TestbedBusy(busy_message(load_state() or old))
        if old is not None:
            self.log("cleaning up after a testbed that was killed")
            clean_state(old)
            remove_state()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.state = State(
            owner=os.getpid(),
            owner_start=proc_start_time(os.getpid()),
            topology=self.topo.name,
            run_dir=str(self.run_dir),
        )
        self.state.save()

    def _drop_empty_run_dir(self) -> None:
        """Remove this testbed's run folder if nothing was written into it (a refused start)."""
        with contextlib.suppress(OSError):
            records = self.run_dir / "records"
            if records.is_dir() and not any(records.iterdir()):
                records.rmdir()
            self.run_dir.rmdir()  # only if empty

    def daemon(self, router: str) -> RoutingDaemon:
        """The routing daemon (FRR or BIRD) of a router that runs one."""
        return daemon_of(self.plan.routers[router])

    def _render_configs(self) -> Dict[str, Path]:
        """Every routed router's config in ``RUN/routers/ROUTER/`` (frr.conf or bird.conf)."""
        out: Dict[str, Path] = {}
        for name in self.plan.routed_routers():
            router = self.plan.routers[name]
            daemon = daemon_of(router)
            folder = self.run_dir / "routers" / router.name
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / daemon.config_name
            path.write_text(daemon.render(router, self.plan))
            out[router.name] = path
        return out

    def _check_configs(self, configs: Dict[str, Path]) -> None:
        """Each daemon kind's parser on its routers' configs."""
        by_kind: Dict[str, Dict[str, Path]] = {}
        for name, path in configs.items():
            by_kind.setdefault(self.plan.routers[name].daemon, {})[name] = path
        for kind, paths in by_kind.items():
            daemon_named(kind).check(paths)

    def _create_nodes(self) -> None:
        mininet, node_cls, _ = _mininet()
        self.net = mininet(topo=None, controller=None, build=False, autoSetMacs=False)
        names = list(self.plan.routers)
        names += [h.name for h in self.plan.hosts.values() if not h.on_router]
        made: Dict[str, object] = {}
        failure: Optional[BaseException] = None
        # every namespace gets an anchor (a bind mount): written down before it is made
        self.state.dirs.append(str(NETNS_DIR))
        self.state.mounts = [str(NETNS_DIR / name) for name in names]
        self.state.save()
        inodes: Dict[str, int] = {}

        def make(name: str):
            node = node_cls(name, ip=None)
            try:
                inodes[name] = anchors.bind(node.pid, NETNS_DIR / name)
            except OSError as exc:  # no mounts allowed: clean then relies on the shells
                if not any("anchor" in w for w in self.warnings):
                    self.warnings.append(f"namespace anchors unavailable ({exc.strerror})")
            return node

        # A node's shell takes a few ms to start, mostly waiting: start several at once.
        pool = ThreadPoolExecutor(max_workers=NODE_WORKERS)
        counted = Counted("namespaces made", len(names), self.progress)
        futures = {pool.submit(counted.after, make, name): name for name in names}
        try:
            wait_futures(futures)
        finally:
            # Ctrl-C included: start no more shells, and track every one that did start,
            # so that teardown stops them all.
            pool.shutdown(wait=True, cancel_futures=True)
            for future, name in futures.items():
                if future.cancelled():
                    continue
                if future.exception() is None:
                    made[name] = future.result()
                else:
                    failure = failure or future.exception()
            for name in names:  # Mininet's own lists, in topology order
                if name in made:
                    node = made[name]
                    self.state.nodes[name] = Tracked(
                        name, "namespace", node.pid, proc_start_time(node.pid), inodes.get(name)
                    )
                    self.net.hosts.append(node)
                    self.net.nameToNode[name] = node
                    self.nodes[name] = node
            self.state.save()
        if failure is not None:
            raise TestbedError(f"starting the nodes' shells failed: {failure}") from failure

    def _create_links(self) -> None:
        _, _, link_cls = _mininet()
        lines = []
        for link in self.plan.links:
            pa, pb = self.nodes[link.a.node].pid, self.nodes[link.b.node].pid
            lines.append(
                f"link add name {link.a.name} netns {pa} "
                f"type veth peer name {link.b.name} netns {pb}"
            )
        _ip_batch(lines)
        for link in self.plan.links:
            mlink = self.net.addLink(
                self.nodes[link.a.node],
                self.nodes[link.b.node],
                cls=link_cls,
                intfName1=link.a.name,
                intfName2=link.b.name,
                addr1=None,
                addr2=None,
                params1={"up": None},
                params2={"up": None},
            )
            for intf, end in ((mlink.intf1, link.a), (mlink.intf2, link.b)):
                intf.ip, intf.prefixLen = str(end.address.ip), end.address.network.prefixlen

    def _configure_nodes(self) -> None:
        """Addresses, routes and sysctls: one shell line per node, all nodes at once."""
        commands = {}
        for name in self.nodes:
            if name in self.plan.routers:
                commands[name] = _router_setup(self.plan.routers[name])
                if self.plan.routers[name].site:
                    commands[name] = " && ".join([commands[name], *self.speaker(name).node_setup()])
            else:
                commands[name] = _host_setup(self.plan.hosts[name])
        failures = self._run_everywhere(commands)
        if failures:
            node, out = next(iter(failures.items()))
            raise TestbedError(f"configuring node {node} failed: {out.strip()}")

    def _shape_links(self) -> None:
        shaped = [link for link in self.plan.links if link.params.shaped()]
        if not shaped:
            return
        first = shaped[0].a
        self.netem = (
            self._run(first.node, links.probe_command(first.name) + "; echo rc=$?")
            .strip()
            .endswith("rc=0")
        )
        if not self.netem and any(
            link.params.delay or link.params.jitter or link.params.loss for link in shaped
        ):
            self.warnings.append(links.NETEM_UNAVAILABLE)
        commands: Dict[str, List[str]] = {}
        for link in shaped:
            for end in (link.a, link.b):
                commands.setdefault(end.node, []).extend(
                    links.shaping_commands(end.name, link.params, self.netem)
                )
        failures = self._run_everywhere({n: " && ".join(c) for n, c in commands.items() if c})
        if failures:
            node, out = next(iter(failures.items()))
            raise TestbedError(f"tc on node {node} failed: {out.strip()}")

    def _install_capacity(self) -> None:
        """Every site's load counters (nftables) and capacity (tc), in its node (net.capacity)."""
        if not self.topo.sites:
            return
        folder = Path(self.run_dir).resolve() / "load"
        folder.mkdir(parents=True, exist_ok=True)
        commands: Dict[str, str] = {}
        for site in capacity.site_load_plans(self.plan):
            ruleset = folder / f"{site.site}.nft"
            ruleset.write_text(capacity.nft_ruleset(site))
            lines = [*capacity.tc_commands(site), f"nft -f {ruleset}"]
            commands[site.site] = "{ " + " && ".join(lines) + "; } 2>&1"
        failures = self._run_everywhere(commands)
        if failures:
            node, out = next(iter(failures.items()))
            raise TestbedError(f"capacity and load counters on {node} failed: {out.strip()}")

    def _start_daemons(self, configs: Dict[str, Path]) -> None:
        """Start every routed router's daemon in :meth:`Plan.start_order`, then the speakers."""
        routed = {n: self.plan.routers[n] for n in self.plan.routed_routers()}
        for name in routed:  # written down before they are made
            self.state.dirs.append(str(self.daemon(name).runtime_dir(name)))
        self.state.save()
        for name, router in routed.items():
            self.daemon(name).prepare(router, configs[name].read_text())
        self.frr_started_at = time.time()
        commands = {
            name: self.daemon(name).start_command(router) + " >/dev/null 2>&1; echo rc=$?"
            for name, router in routed.items()
        }
        counted = Counted("daemons started", len(commands), self.progress)
        outputs = self._run_in_order(
            commands, self.plan.start_order(), self.start_workers, counted.after
        )
        self._start_speakers()
        for name in routed:
            self._track_daemon(name)
        self.state.save()
        bad = [n for n, out in outputs.items() if not out.strip().endswith("rc=0")]
        if bad:
            daemon = self.daemon(bad[0])
            log = daemon.log_file(bad[0])
            tail = log.read_text().strip().splitlines()[-3:] if log.exists() else []
            raise TestbedError(
                f"{daemon.name.upper()} failed to start on {', '.join(bad)}: {' | '.join(tail)}"
            )

    def _track_daemon(self, router: str) -> None:
        """Record the PIDs of a router's daemon processes in the state file's list."""
        daemon = self.daemon(router)
        for process in daemon.processes(self.plan.routers[router]):
            pid = daemon.read_pid(router, process)
            if pid:
                self.state.processes.append(
                    Tracked(router, process, pid, proc_start_time(pid), daemon=True)
                )

    def speaker_socket(self, router: str) -> Path:
        """The control socket of a site node's speaker process (Ryu, ExaBGP)."""
        return STATE_DIR / "speakers" / f"{router}.sock"

    def speaker(self, router: str) -> SiteSpeaker:
        """The site speaker of a site router (one object per router, kept).

        Raises:
            TestbedError: ``router`` is not a site router.
        """
        if router not in self._speakers:
            plan = self.plan.routers.get(router)
            if plan is None or not plan.site:
                raise TestbedError(f"{router!r} is not a site router")
            self._speakers[router] = speaker_class(plan.speaker).for_router(plan, self)
        return self._speakers[router]

    def site_speakers(self) -> List[SiteSpeaker]:
        """The speaker of every site, in topology order."""
        return [self.speaker(r) for r in self.plan.site_routers().values()]

    def _start_speakers(self) -> None:
        """Start every site speaker, kind by kind (FRR sites started with the FRR routers)."""
        by_kind: Dict[type, List[SiteSpeaker]] = {}
        for one in self.site_speakers():
            by_kind.setdefault(type(one), []).append(one)
        for cls, speakers in by_kind.items():
            cls.start_all(speakers)

    def _collect_logs(self) -> None:
        for name in self.plan.routed_routers():
            daemon = self.daemon(name)
            src = daemon.log_file(name)
            if src.exists() and self.run_dir.exists():
                dest = self.run_dir / "routers" / name
                dest.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(OSError):
                    shutil.copyfile(src, dest / daemon.log_name)

    # ---------------------------------------------------------- node shells
    def _run(self, node: str, command: str) -> str:
        return self.nodes[node].cmd(self.sendable(node, command))

    def sendable(self, node: str, command: str) -> str:
        """``command`` as a node's shell can take it: itself, or when longer than
        :data:`PTY_LINE_MAX` bytes, ``. FILE`` of a script in ``RUN/commands/`` holding it
        (a busy tier-1 router's addresses and routes run past a pty's line)."""
        if len(command.encode()) <= PTY_LINE_MAX:
            return command
        folder = self.run_dir / "commands"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{node}-{next(self._scripts)}.sh"
        path.write_text(command + "\n")
        return f". {shlex.quote(str(path))}"

    def _run_everywhere(
        self, commands: Dict[str, str], expect: Optional[str] = ""
    ) -> Dict[str, str]:
        """Run one shell line per node, all nodes in parallel.

        Returns:
            node -> output for the nodes whose output differs from ``expect``
            (all outputs when ``expect`` is None).
        """
        for name, command in commands.items():
            self.nodes[name].sendCmd(self.sendable(name, command))
        outputs = {name: self.nodes[name].waitOutput() for name in commands}
        if expect is None:
            return outputs
        return {n: o for n, o in outputs.items() if o.strip() != expect}

    def _run_in_order(
        self,
        commands: Dict[str, str],
        order: List[str],
        workers: int,
        through: Callable[..., str] = lambda run, *args: run(*args),
    ) -> Dict[str, str]:
        """Run one shell line per node in ``order``, at most ``workers`` at a time.

        Args:
            through: calls each run (``through(run, node, command)``), e.g. to count them.

        Returns:
            node -> output.
        """
        pool = ThreadPoolExecutor(max_workers=max(1, workers))
        try:
            futures = {
                n: pool.submit(through, self._run, n, commands[n]) for n in order if n in commands
            }
            return {name: future.result() for name, future in futures.items()}
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # on Ctrl-C: start no more

    def spawn(self, node: str, argv: List[str], name: str, log: Path) -> Tracked:
        """Start a long-running process inside a node's namespace, tracked for teardown.

        Args:
            node: the node whose namespace it runs in.
            argv: the command line.
            name: what it is (e.g. ``nsd``, ``dns-probe``), for the state file.
            log: file for its stdout and stderr.

        Returns:
            The tracked process (PID and start time).
        """
        if node not in self.nodes:
            raise TestbedError(f"no node called {node!r}")
        pid = self.nodes[node].pid
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                ["nsenter", f"--net=/proc/{pid}/ns/net", "--", *argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=str(self.run_dir),
            )
        tracked = Tracked(node, name, proc.pid, proc_start_time(proc.pid))
        self._children.append(proc)
        self.state.processes.append(tracked)
        self.state.save()
        return tracked

    def send_signal(self, tracked: Tracked, sig: int = signal.SIGTERM, group: bool = False) -> None:
        """Send a signal to one tracked process (or its process group) if it still runs.

        A signal that ends a process (anything but SIGSTOP, SIGCONT and the
        like) marks its death as expected: the watchdog does not report it.
        """
        if not tracked.alive():
            return
        if sig not in _NON_FATAL:
            self.signalled.add((tracked.pid, tracked.start))
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(tracked.pid, sig)
            else:
                os.kill(tracked.pid, sig)

    def stop_process(
        self,
        tracked: Tracked,
        sig: int = signal.SIGTERM,
        grace: float = 5.0,
        kill_group: bool = False,
    ) -> bool:
        """Stop one tracked process: ``sig``, then SIGKILL after ``grace`` seconds.

        Args:
            tracked: a process started with :meth:`spawn`.
            sig: the first signal (SIGKILL: a crash).
            grace: seconds to wait before SIGKILL.
            kill_group: signal its whole process group (daemons that fork, e.g. NSD).

        Returns:
            True if it was running.
        """
        was_alive = tracked.alive()
        if was_alive:
            self.send_signal(tracked, sig, kill_group)
            deadline = time.monotonic() + grace
            while tracked.alive() and time.monotonic() < deadline:
                self._reap()
                time.sleep(0.02)
            if tracked.alive():
                self.send_signal(tracked, signal.SIGKILL, kill_group)
        if kill_group:  # children left behind by a killed leader
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(tracked.pid, signal.SIGKILL)
        self._reap()
        return was_alive

    def frr_daemons(self, router: str) -> List[Tracked]:
        """The running daemon processes of one router (FRR's, or BIRD)."""
        names = set(self.daemon(router).processes(self.plan.routers[router]))
        return [
            p for p in self.state.processes if p.node == router and p.name in names and p.alive()
        ]

    def start_frr_on(self, router: str) -> None:
        """(Re)start the daemon of one router from its rendered config (after a crash).

        Raises:
            TestbedError: a daemon did not start.
        """
        plan = self.plan.routers[router]
        daemon = self.daemon(router)
        names = set(daemon.processes(plan))
        self.state.processes = [
            p for p in self.state.processes if not (p.node == router and p.name in names)
        ]
        out = self._run(router, daemon.start_command(plan) + " >/dev/null 2>&1; echo rc=$?")
        self._track_daemon(router)
        self.state.save()
        if not out.strip().endswith("rc=0"):
            raise TestbedError(
                f"{daemon.name.upper()} failed to restart on {router}: {out.strip()[-200:]}"
            )

    def _reap(self) -> None:
        for proc in self._children:
            proc.poll()

    def exit_status(self, tracked: Tracked) -> Optional[int]:
        """How a process started with :meth:`spawn` ended (Popen's returncode:
        negative for a signal), or None while it runs or when it is not a child
        of this process (FRR daemons daemonize)."""
        for proc in self._children:
            if proc.pid == tracked.pid:
                return proc.poll()
        return None

    def cmd(self, node: str, command: str) -> str:
        """Run a shell command in a node's namespace and return its output."""
        if node not in self.nodes:
            raise TestbedError(f"no node called {node!r}")
        return self._run(node, command)

    # ------------------------------------------------------------- routing
    def netlink(self, router: str):
        """A pyroute2 IPRoute bound to a router's namespace (cached)."""
        if router not in self._ipr:
            self._ipr[router] = iproute_in(self.nodes[router].pid)
        return self._ipr[router]

    def routes(self, prefixes=None) -> Dict[str, RouteTable]:
        """Every router's kernel routes (to ``prefixes`` only, if given)."""
        return {r: read_routes(self.netlink(r), prefixes) for r in self.plan.routed_routers()}

    def wait_converged(
        self, timeout: float = 60.0, quiet: float = 1.0, wait_for_routes: bool = True
    ) -> ConvergenceResult:
        """Wait until every router has a route to every prefix it must have
        and no such route has changed for ``quiet`` seconds.

        Without relationships a router must have every announced prefix; with
        them, those valley-free export brings it (:mod:`testbed.policy.reach`):
        the others are listed in the result's ``no_route``, not waited for.

        Event driven: netlink route notifications from every router's
        namespace say which tables to re-read, so waiting costs next to no
        CPU while FRR starts.

        Args:
            timeout: give up after this many seconds.
            quiet: how long the routes must stay unchanged.
            wait_for_routes: wait until every router has the routes it must
                have; False: only for the quiet period (after a change that may
                leave routers without a route, e.g. a site withdrawn by the
                playbook), those routers then listed in the result's ``missing``.

        Returns:
            Whether it converged, and the time from daemon start to the last change.
        """
        from testbed.policy.reach import no_route, own_as_exempt, required_routes

        expected = self.plan.expected_prefixes()
        required = required_routes(self.topo, self.plan)
        exempt = own_as_exempt(self.plan)  # other sites' unicast prefixes, at a site
        start = self.frr_started_at or time.time()
        deadline = time.monotonic() + timeout
        watcher = RouteWatcher({r: self.nodes[r].pid for r in self.plan.routed_routers()})
        shown = -1
        try:
            tables = self.routes(expected)
            last_change = time.time()
            while True:
                missing = {
                    r: [str(p) for p in expected if p in required.get(r, ()) and p not in t]
                    for r, t in tables.items()
                }
                missing = {r: m for r, m in missing.items() if m}
                if len(missing) != shown:
                    shown = len(missing)
                    done = len(tables) - shown
                    self.progress(f"routes: {done}/{len(tables)} routers have all theirs")
                now = time.time()
                settled = not missing or not wait_for_routes
                if settled and now - last_change >= quiet:
                    left = no_route(tables, expected, required, exempt)
                    return ConvergenceResult(
                        True, max(last_change - start, 0.0), missing, last_change, left
                    )
                if time.monotonic() > deadline:
                    left = no_route(tables, expected, required, exempt)
                    return ConvergenceResult(False, now - start, missing, last_change, left)
                wait = quiet - (now - last_change) if settled else 0.5
                for router in watcher.wait(min(max(wait, 0.01), 0.5)):
                    table = read_routes(self.netlink(router), expected)
                    if table != tables[router]:
                        tables[router] = table
                        last_change = time.time()
        finally:
            watcher.close()

    def path_to(self, client: str, address: Optional[IPv4Address] = None) -> List[str]:
        """The routers a packet from ``client`` to ``address`` crosses (by the FIBs).

        Args:
            client: a host name.
            address: destination (default: the first site's service address).

        Returns:
            Router names in order; ends at a site router when the service is reachable.
        """
        host: HostPlan = self.plan.hosts[client]
        target = address or (self.topo.sites[0].service if self.topo.sites else None)
        node = self.plan.owner_of(host.gateway)
        path: List[str] = []
        while node in self.plan.routers and node not in path and len(path) < 64:
            path.append(node)
            router: RouterPlan = self.plan.routers[node]
            if router.site:
                break
            hops = route_lookup(read_routes(self.netlink(node)), target)
            if not hops or hops[0] in ("blackhole", "connected"):
                break
            node = self.plan.owner_of(IPv4Address(hops[0]))
        return path

    def site_of(self, client: str) -> Optional[str]:
        """The site a client's packets to the service reach now (None: none)."""
        path = self.path_to(client)
        return self.plan.routers[path[-1]].site if path else None

    def bgp_sessions(self, router: str) -> Dict[str, str]:
        """Peer name -> BGP state: a site's from its speaker, any other router's from
        its daemon (FRR or BIRD)."""
        if self.plan.routers[router].site:
            return self.speaker(router).sessions()
        return self.daemon(router).sessions(self.plan.routers[router])


#: Signals that do not end a process (the watchdog still expects it to run).
_NON_FATAL = {signal.SIGSTOP, signal.SIGCONT, signal.SIGTSTP, signal.SIGWINCH, signal.SIGCHLD}


def _ip_batch(lines: List[str]) -> None:
    """Run ``ip -batch`` in the root namespace (veth pairs created straight into namespaces)."""
    if not lines:
        return
    with tempfile.NamedTemporaryFile("w", suffix=".ip", delete=False) as fh:
        fh.write("\n".join(lines) + "\n")
        path = fh.name
    try:
        proc = subprocess.run(["ip", "-batch", path], capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        raise TestbedError(f"creating veth links failed: {proc.stderr.strip()}")


_SYSCTL = (
    "for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 > $f; done; "
    "sysctl -qw net.ipv4.ip_forward={fwd} net.ipv6.conf.all.disable_ipv6=1"
)


def _ip_lines(commands: List[str]) -> str:
    """One shell line that runs ``ip`` commands (without the ``ip``) in one ``ip -batch``.

    One process per node instead of one per command: configuring 200 routers
    costs a few hundred process starts, not a few thousand.  ``ip -batch``
    stops at the first command that fails, as ``&&`` would.
    """
    return "printf '%s\\n' " + " ".join(shlex.quote(c) for c in commands) + " | ip -batch -"


def _router_setup(router: RouterPlan) -> str:
    line = _ip_lines(router_ip_commands(router)) + "; " + _SYSCTL.format(fwd=1)
    if router.default_route and router.routed:  # through every upstream (speaker/process.py)
        line += "; sysctl -qw net.ipv4.conf.all.ignore_routes_with_linkdown=1; " + default_route(
            router
        )
    return line


def _host_setup(host: HostPlan) -> str:
    return _ip_lines(host_ip_commands(host)) + "; " + _SYSCTL.format(fwd=0)
