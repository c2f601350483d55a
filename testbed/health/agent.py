"""The health agent of one site: checks its services, withdraws or demotes its route.

Runs in the site router's namespace (for a ``speaker: ryu`` site, on the site
node itself), one process per site::

    python -m testbed.health.agent --config RUN/health/lon.json --out RUN/records/health.jsonl

Every ``interval`` it queries the site's NSD (``CH TXT id.server`` on the
service address) and exchanges one line with the stream service (and, with
``backend`` in its checks, with the run's shared backend on its unix socket);
``fall`` failed rounds in a row make the site down, ``rise`` good ones up
again (:mod:`testbed.health.machine`).  On a change it applies the configured
action: withdraw the anycast prefix, demote it by MED, or prepend, through
the site's speaker (:class:`~testbed.speaker.base.SiteSpeaker`, the same
interface the scenario events use): FRR sites through vtysh, Ryu and ExaBGP
sites through the speaker's control socket (prepending, which Ryu's API
lacks, is applied by its upstreams).
Every state change is a record.  When vtysh (within :data:`VTYSH_TIMEOUT_S`)
or the speaker does not answer (a frozen router), the change is recorded
with its error, the agent carries on and applies it again every round until
it goes through.

With ``min_sites`` a withdrawal waits while fewer than that many other
sites are announced (the agents share what they announce:
:mod:`testbed.health.shared`): the site stays announced, the ``state`` record
says why (``held``), and every failed round the agent asks again; once
another site is announced, the withdrawal goes through (a ``retry``
record).  A good round never releases it: the site is on its way up.

On SIGTERM (the graceful shutdown of a site) the order matters: the agent
first withdraws the route -- whatever its action: a route only demoted by
MED or prepending would still attract the clients of upstreams that have no
other route -- and records it, waits ``drain`` seconds (default
:data:`DRAIN_S`) for the withdrawal to propagate, and only then removes the
service address from its servers' loopbacks and records that, so a site
being shut down stops attracting traffic before its service address goes
away -- never after.  If the route could not be withdrawn, the address is
kept (and the record says why).
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import dns.exception
import dns.message
import dns.query
import dns.rdataclass
import dns.rdatatype

from testbed import proc
from testbed.errors import TestbedError
from testbed.health.machine import (
    DOWN,
    UP,
    Announcement,
    HealthMachine,
    announcement,
    held_announcement,
)
from testbed.health.shared import SharedAnnouncements, others_announced
from testbed.net import frr  # noqa: F401 - vtysh, for tests that stand in for it
from testbed.records import RecordWriter
from testbed.speaker.base import SiteSpeaker, SpeakerSpec, make_speaker

#: Seconds between withdrawing the route at shutdown and removing the service address.
DRAIN_S = 1.0
#: The ``reason`` of the ``state`` record of the withdrawal at shutdown.
STOPPING = "agent stopping: withdraw and drain before the services go"
#: Seconds an ``ip addr del`` in a server's namespace may take.
IP_TIMEOUT_S = 5.0
#: Seconds a vtysh call may take (a frozen router must not stall the agent for long).
VTYSH_TIMEOUT_S = 5.0


def check_dns(address: str, timeout: float, site: str) -> Optional[str]:
    """Ask NSD for ``id.server``; None if it answered with the site's name, else why not."""
    query = dns.message.make_query("id.server", dns.rdatatype.TXT, dns.rdataclass.CH)
    try:
        answer = dns.query.udp(query, address, timeout=timeout)
    except (dns.exception.DNSException, OSError) as exc:
        return f"dns: {type(exc).__name__}"
    texts = [b"".join(r.strings).decode() for rr in answer.answer for r in rr]
    return None if site in texts else f"dns: answered {texts}"


def check_tcp(address: str, port: int, timeout: float) -> Optional[str]:
    """Send one line to the stream service; None if it answered, else why not."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            sock.sendall(b"0\n")
            sock.settimeout(timeout)
            data = sock.recv(256)
    except OSError as exc:
        return f"tcp: {exc.strerror or type(exc).__name__}"
    return None if data.endswith(b" 0\n") else f"tcp: answered {data[:40]!r}"


def check_unix(path: str, timeout: float) -> Optional[str]:
    """Send one line to the shared backend's unix socket; None if it answered, else why not."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(b"0\n")
            data = sock.recv(256)
    except OSError as exc:
        return f"backend: {exc.strerror or type(exc).__name__}"
    return None if data.endswith(b" 0\n") else f"backend: answered {data[:40]!r}"


class Announcer:
    """Changes what a site announces, through its :class:`SiteSpeaker` (any kind)."""

    def __init__(self, config: Dict[str, Any], speaker: Optional[SiteSpeaker] = None):
        self.cfg = config
        self.current = Announcement(True, config.get("base_med"), config.get("base_prepend", 0))
        self.timeout = float(config.get("vtysh_timeout", VTYSH_TIMEOUT_S))
        self.speaker = speaker or make_speaker(
            config["speaker"], SpeakerSpec.from_health_config(config), timeout=self.timeout
        )

    def apply(self, want: Announcement) -> List[str]:
        """Go from the current announcement to ``want``; return what was done."""
        done: List[str] = []
        if (want.med, want.prepend) != (self.current.med, self.current.prepend):
            self.speaker.prepend, self.speaker.med = self.current.prepend, self.current.med
            done += self.speaker.set_policy(want.prepend, want.med)
        if want.announced != self.current.announced:
            if want.announced:
                self.speaker.announce()
            else:
                self.speaker.withdraw()
            done.append("announce" if want.announced else "withdraw")
        self.current = want
        return done


class AddressRemover:
    """Removes the service address from the loopback of a site's servers.

    ``config["addresses"]`` lists ``{"node", "pid", "address"}``: the server
    node, the PID of a process in its network namespace (its shell) and the
    address with its prefix length as on ``lo`` (``192.0.2.53/32``).  The
    agent runs in the site router's namespace, so it enters each server's
    with ``nsenter``; without a PID the address is removed where the agent runs.
    """

    def __init__(self, config: Dict[str, Any]):
        self.targets: List[Dict[str, Any]] = list(config.get("addresses") or [])

    @staticmethod
    def argv(target: Dict[str, Any]) -> List[str]:
        """The command line that removes one server's service address."""
        ip = ["ip", "addr", "del", str(target["address"]), "dev", "lo"]
        if target.get("pid"):
            return ["nsenter", f"--net=/proc/{int(target['pid'])}/ns/net", "--", *ip]
        return ip

    def remove(self) -> Tuple[List[str], List[str]]:
        """Remove the address on every server.

        Returns:
            (nodes it was removed from, one error line per node where it failed).
        """
        done: List[str] = []
        errors: List[str] = []
        for target in self.targets:
            node = str(target.get("node", "?"))
            try:
                proc = subprocess.run(
                    self.argv(target), capture_output=True, text=True, timeout=IP_TIMEOUT_S
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                errors.append(f"{node}: {type(exc).__name__}: {exc}")
                continue
            if proc.returncode != 0:
                errors.append(f"{node}: {(proc.stderr or proc.stdout).strip() or proc.returncode}")
            else:
                done.append(node)
        return done, errors


def _log(site: str, text: str) -> None:
    """One line in the agent's log (its stderr)."""
    print(f"health agent {site}: {text}", file=sys.stderr, flush=True)


class Agent:
    """Checks, state machine, actions and records of one site.

    Args:
        config: the agent's configuration (from ``TrafficRun.health_config``).
        writer: where the health records go.
        announcer: changes the announcement (default: :class:`Announcer` on ``config``).
        remover: removes the service address (default: :class:`AddressRemover`).
        checker: runs one round of checks, returns the failures (default: :meth:`round`).
        sleep: waits (the drain); ``clock``: monotonic seconds.  Both for tests.
    """

    def __init__(
        self,
        config: Dict[str, Any],
        writer: RecordWriter,
        announcer: Optional[Any] = None,
        remover: Optional[Any] = None,
        checker: Optional[Callable[[], List[str]]] = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.cfg = config
        self.writer = writer
        self.machine = HealthMachine(config["rise"], config["fall"])
        self.announcer = announcer if announcer is not None else Announcer(config)
        self.remover = remover if remover is not None else AddressRemover(config)
        self.checker = checker if checker is not None else self.round
        self.sleep, self.clock = sleep, clock
        self.base: Announcement = self.announcer.current
        self.wanted: Announcement = self.base  # what the site should announce now
        self.applied_at: Optional[float] = None  # clock() when ``wanted`` was last applied
        shared = config.get("shared")
        self.shared = SharedAnnouncements(shared) if shared else None
        self.min_sites: Optional[int] = config.get("min_sites")
        self.held: Optional[str] = None  # why a withdrawal waits (min_sites)

    @property
    def drain(self) -> float:
        """Seconds between the withdrawal at shutdown and the address removal."""
        return float(self.cfg.get("drain", DRAIN_S))

    def record(self, event: str, **fields: Any) -> None:
        """Write one health record."""
        self.writer.write({"kind": "health", "site": self.cfg["site"], "event": event, **fields})

    def round(self) -> List[str]:
        """Run every check once; return the failures (empty: healthy)."""
        cfg, failures = self.cfg, []
        if "dns" in cfg["checks"]:
            failures.append(check_dns(cfg["service"], cfg["timeout"], cfg["site"]))
        if "tcp" in cfg["checks"]:
            failures.append(check_tcp(cfg["service"], cfg["tcp_port"], cfg["timeout"]))
        if "backend" in cfg["checks"]:
            failures.append(check_unix(cfg["backend"], cfg["timeout"]))
        return [f for f in failures if f]

    def _decide(self, want: Announcement) -> Tuple[Announcement, Optional[str]]:
        """``want`` with the ``min_sites`` rule applied, and the reason when it is held.

        The decision and the mark of a withdrawal in the shared file are
        made under its lock (:meth:`SharedAnnouncements.view`).
        """
        if self.shared is None:
            return want, None
        site = self.cfg["site"]
        try:
            with self.shared.view() as announced:
                others = others_announced(announced, site)
                final, held = held_announcement(
                    want, self.announcer.current, self.min_sites, others
                )
                if not final.announced:
                    announced[site] = False
        except OSError as exc:  # the run folder is unusable: act as without the rule
            _log(site, f"cannot use {self.shared.path}: {exc}")
            return want, None
        return final, held

    def _mark_announced(self) -> None:
        """Tell the other agents that the site is announced (after it is)."""
        if self.shared is None or not self.announcer.current.announced:
            return
        try:
            self.shared.mark(self.cfg["site"], True)
        except OSError as exc:
            _log(self.cfg["site"], f"cannot use {self.shared.path}: {exc}")

    def _apply(self) -> Tuple[List[str], Optional[str]]:
        """Apply ``wanted``; (what was done, the error if it failed).  Never raises."""
        try:
            done = self.announcer.apply(self.wanted)
        except (TestbedError, OSError) as exc:
            _log(self.cfg["site"], f"cannot apply {self.wanted}: {exc}")
            return [], str(exc)
        self.applied_at = self.clock()
        return done, None

    @property
    def pending(self) -> bool:
        """True while the announcement of the current state failed to apply."""
        return self.announcer.current != self.wanted

    def _wanted(self, state: str) -> Announcement:
        cfg = self.cfg
        return announcement(state, cfg["action"], self.base, cfg["med"], cfg["prepend"])

    def change(self, state: str, previous: str, failures: List[str], why: str) -> None:
        """Apply the announcement of ``state`` and record it (with the error, if it failed).

        A withdrawal that ``min_sites`` holds is not applied: the record's
        ``held`` says why.
        """
        self.wanted, self.held = self._decide(self._wanted(state))
        done, error = self._apply()
        if error is None:
            self._mark_announced()
        extra = {"held": self.held} if self.held else {}
        self.record(
            "state",
            state=state,
            previous=previous,
            action=self.cfg["action"],
            applied=done,
            failures=failures,
            reason=why,
            error=error,
            **extra,
        )

    def retry(self) -> None:
        """Apply a change that failed (or was held) before; record it once it goes through."""
        done, error = self._apply()
        if error is None:
            self._mark_announced()
            self.record("retry", state=self.machine.state, action=self.cfg["action"], applied=done)

    def release(self) -> None:
        """Ask again whether a held withdrawal may go now; apply it if so."""
        self.wanted, self.held = self._decide(self._wanted(self.machine.state))
        if self.held is None:
            self.retry()

    def step(self) -> Optional[str]:
        """One round: checks, state machine, action (or a retry of a failed one).

        Returns:
            The new state if the round changed it, else None.
        """
        failures = self.checker()
        previous = self.machine.state
        new = self.machine.feed(not failures)
        if new:
            self.change(new, previous, failures, "checks")
        elif self.held:
            if failures:  # a good round: the site is on its way up, never withdraw it now
                self.release()
        elif self.pending:
            self.retry()
        return new

    def shutdown(self) -> None:
        """Take the site down in order: withdraw the route, drain, then remove the address.

        The route is withdrawn whatever the action (see the module docstring);
        a ``state`` record with reason :data:`STOPPING` and action
        ``withdraw`` says so, unless the route was withdrawn already.  The
        ``address`` record's ``drain_s`` is the time from the withdrawal to
        the removal.
        """
        previous, current = self.machine.state, self.announcer.current
        self.machine.state = DOWN
        self.held = None  # the run is over: min_sites holds no withdrawal at shutdown
        if previous == UP or current.announced:
            self.wanted = Announcement(False, current.med, current.prepend)
            if self.shared is not None:
                with contextlib.suppress(OSError):
                    self.shared.mark(self.cfg["site"], False)
            done, error = self._apply()
            self.record(
                "state",
                state=DOWN,
                previous=previous,
                action="withdraw",
                applied=done,
                failures=[],
                reason=STOPPING,
                error=error,
            )
        if self.announcer.current.announced:  # never remove the address of an announced route
            self.record(
                "address",
                removed=[],
                drain_s=None,
                error="the route was not withdrawn: service address kept",
            )
            return
        since = self.clock() - self.applied_at if self.applied_at is not None else self.drain
        wait = max(0.0, self.drain - since)
        if wait:
            self.sleep(wait)
        removed, errors = self.remover.remove()
        for line in errors:
            _log(self.cfg["site"], f"cannot remove the service address: {line}")
        self.record(
            "address",
            address=self.cfg.get("service"),
            removed=removed,
            drain_s=round(since + wait, 3),
            error="; ".join(errors) or None,
        )

    def run(self, stop: proc.StopSignal) -> None:
        """Check every interval until stopped; then :meth:`shutdown` and a ``stop`` record."""
        cfg = self.cfg
        self._mark_announced()
        self.record(
            "start",
            state=UP,
            action=cfg["action"],
            interval=cfg["interval"],
            rise=cfg["rise"],
            fall=cfg["fall"],
            checks=cfg["checks"],
            drain=self.drain,
            **({"min_sites": self.min_sites} if self.min_sites is not None else {}),
        )
        next_round = time.monotonic()
        while not stop.stopped:
            self.step()
            next_round += cfg["interval"]
            wait = max(0.0, next_round - time.monotonic())
            readable, _, _ = select.select([stop], [], [], wait)
            if readable:
                stop.drain()
        self.shutdown()
        self.record("stop", state=DOWN)


def _parser() -> proc.Parser:
    p = proc.Parser(prog="python -m testbed.health.agent", description="Health agent of a site.")
    p.add_argument("--config", required=True, type=Path, help="JSON written by the testbed")
    p.add_argument("--out", required=True, type=Path, help="health records (JSON Lines)")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.health.agent``."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        config = json.loads(args.config.read_text())
    except (OSError, ValueError) as exc:
        proc.fail(parser.prog, f"cannot read {args.config}: {exc}", proc.EXIT_USAGE)
    proc.safe_stderr()
    with (
        proc.exit_on_write_fault(parser.prog),
        proc.StopSignal() as stop,
        RecordWriter(args.out) as writer,
    ):
        Agent(config, writer).run(stop)
    sys.exit(0)


if __name__ == "__main__":
    main()
