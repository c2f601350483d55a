"""The health agent of one site: checks its services, withdraws or demotes its route.

Runs in the site router's namespace (for a ``speaker: ryu`` site, on the site
node itself), one process per site::

    python -m testbed.health.agent --config RUN/health/lon.json --out RUN/records/health.jsonl

Every ``interval`` it queries the site's NSD (``CH TXT id.server`` on the
service address) and exchanges one line with the stream service; ``fall``
failed rounds in a row make the site down, ``rise`` good ones up again
(:mod:`testbed.health.machine`).  On a change it applies the configured
action: withdraw the anycast prefix, demote it by MED, or prepend.  FRR
sites are driven through vtysh; Ryu sites through the speaker's control
socket (prepending, which Ryu's API lacks, is applied by the upstreams).
Every state change is a record.  On SIGTERM the agent first takes the site
down (withdraws or demotes) and only then exits, so a site being shut down
stops attracting traffic before its services go away.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import dns.exception
import dns.message
import dns.query
import dns.rdataclass
import dns.rdatatype

from testbed import proc
from testbed.errors import TestbedError
from testbed.health.machine import DOWN, UP, Announcement, HealthMachine, announcement
from testbed.net import frr
from testbed.records import RecordWriter
from testbed.scenario.events import announce_commands, inbound_prepend_commands, policy_commands
from testbed.speaker.control import send as speaker_send


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


class Announcer:
    """Changes what a site announces, through FRR (vtysh) or a Ryu speaker."""

    def __init__(self, config: Dict[str, Any]):
        self.cfg = config
        self.current = Announcement(True, config.get("base_med"), config.get("base_prepend", 0))

    def apply(self, want: Announcement) -> List[str]:
        """Go from the current announcement to ``want``; return what was done."""
        cfg, done = self.cfg, []
        router, asn, prefix = cfg["router"], cfg["asn"], cfg["prefix"]
        if cfg["speaker"] == "frr":
            if (want.med, want.prepend) != (self.current.med, self.current.prepend):
                frr.vtysh(router, *policy_commands(asn, cfg["peers"], want.prepend, want.med))
                done.append(f"med {want.med} prepend {want.prepend}")
            if want.announced != self.current.announced:
                frr.vtysh(router, *announce_commands(asn, prefix, want.announced))
                done.append("announce" if want.announced else "withdraw")
        else:
            sock = Path(cfg["control"])
            if want.med != self.current.med:
                speaker_send(sock, "med", value=want.med)
                done.append(f"med {want.med}")
            if want.prepend != self.current.prepend:
                for upstream in cfg["peers"]:
                    frr.vtysh(upstream, *inbound_prepend_commands(asn, router, want.prepend))
                done.append(f"prepend {want.prepend} (at the upstreams)")
            if want.announced != self.current.announced:
                speaker_send(sock, "announce" if want.announced else "withdraw")
                done.append("announce" if want.announced else "withdraw")
        self.current = want
        return done


class Agent:
    """Checks, state machine, actions and records of one site."""

    def __init__(self, config: Dict[str, Any], writer: RecordWriter):
        self.cfg = config
        self.writer = writer
        self.machine = HealthMachine(config["rise"], config["fall"])
        self.announcer = Announcer(config)
        base = self.announcer.current
        self.base = base

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
        return [f for f in failures if f]

    def change(self, state: str, previous: str, failures: List[str], why: str) -> None:
        """Apply the announcement of ``state`` and record it."""
        cfg = self.cfg
        want = announcement(state, cfg["action"], self.base, cfg["med"], cfg["prepend"])
        try:
            done = self.announcer.apply(want)
            error = None
        except TestbedError as exc:
            done, error = [], str(exc)
        self.record(
            "state",
            state=state,
            previous=previous,
            action=cfg["action"],
            applied=done,
            failures=failures,
            reason=why,
            error=error,
        )

    def run(self, stop: proc.StopSignal) -> None:
        """Check every interval until stopped; then take the site down first."""
        cfg = self.cfg
        self.record(
            "start",
            state=UP,
            action=cfg["action"],
            interval=cfg["interval"],
            rise=cfg["rise"],
            fall=cfg["fall"],
            checks=cfg["checks"],
        )
        next_round = time.monotonic()
        while not stop.stopped:
            failures = self.round()
            previous = self.machine.state
            new = self.machine.feed(not failures)
            if new:
                self.change(new, previous, failures, "checks")
            next_round += cfg["interval"]
            wait = max(0.0, next_round - time.monotonic())
            readable, _, _ = select.select([stop], [], [], wait)
            if readable:
                stop.drain()
        if self.machine.state == UP:
            self.change(DOWN, UP, [], "agent stopping: drain before the services go")
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
    with proc.StopSignal() as stop, RecordWriter(args.out) as writer:
        Agent(config, writer).run(stop)
    sys.exit(0)


if __name__ == "__main__":
    main()
