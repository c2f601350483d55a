"""The API program of an ExaBGP site: the testbed's own small healthcheck-style process.

ExaBGP starts it (``process`` in the site's ``exabgp.conf``) and reads what it
prints, one command a line, the way operators announce anycast prefixes
with ExaBGP (``exabgp-healthcheck`` does the same)::

    announce route 192.0.2.0/24 next-hop self
    announce route 192.0.2.0/24 next-hop self med 1000 as-path [ 64500 64500 64500 64500 ]
    announce route 192.0.2.0/24 next-hop self community [ 65535:0 ] large-community [ 64500:1:2 ]
    withdraw route 192.0.2.0/24 next-hop self

A site with its own unicast prefix (``--unicast``, ``sites[].unicast``) has
it announced at start, beside the anycast prefix, with the same prepends, MED
and communities (one policy for both routes, as an FRR site's outbound
route-map applies to both): ``withdraw`` and ``announce`` concern the
anycast prefix alone, so the unicast route stays until the site as a whole
goes (ExaBGP stopped, its sessions down)::

    announce route 100.66.0.0/24 next-hop self

An AS path given in the API is sent as it is (ExaBGP adds the local AS only
when a route has none), so ``prepend N`` announces the site's AS N + 1
times.  A new ``announce`` of the same prefix replaces the route (an
implicit withdrawal), which is how MED, prepends and communities change and
go again.  Communities are numbers here (``65535:0``, not
``graceful-shutdown``): the testbed's side converts them
(:func:`testbed.speaker.exabgp.exabgp_community`).

On stdin ExaBGP sends its acknowledgements (``done``/``error``, with
``exabgp.api.ack``) and, JSON encoded, the neighbours' state changes
(``neighbor-changes``), which become ``peer_up``/``peer_down`` records and
the ``peers`` of ``status``.  The testbed (scenario events, the health
agent) talks to this program, not to ExaBGP: one JSON line per connection on
``--control`` (:mod:`testbed.speaker.control`), the same protocol as the Ryu
speaker, plus ``policy`` (``prepend``, ``med`` and, if given, ``communities``).
The program ends when ExaBGP closes its stdin (ExaBGP stopped or was killed) or on SIGTERM.
Records go to ``--out`` (JSON Lines, ``kind: speaker``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import sys
import threading
from typing import Any, Dict, List, Optional, Sequence

from testbed import proc
from testbed.records import RecordWriter, WriteFault
from testbed.speaker.control import prefix_arg

#: A community as the API takes it: ``A:B`` (each 0-65535) or large ``A:B:C`` (each 0-2^32-1).
_COMMUNITY = re.compile(r"^(\d{1,5}):(\d{1,5})$|^(\d{1,10}):(\d{1,10}):(\d{1,10})$")


def community_ok(value: Any) -> bool:
    """True for a numeric community the API line may carry (``A:B`` or ``A:B:C``)."""
    match = _COMMUNITY.match(value) if isinstance(value, str) else None
    if match is None:
        return False
    parts = [int(x) for x in value.split(":")]
    return max(parts) <= (65535 if len(parts) == 2 else 4294967295)


def route_line(
    prefix: str,
    asn: int,
    announce: bool = True,
    prepend: int = 0,
    med: Optional[int] = None,
    communities: Sequence[str] = (),
) -> str:
    """The ExaBGP API command that announces (or withdraws) ``prefix``.

    Args:
        prefix: the anycast prefix.
        asn: the site's AS (repeated ``prepend + 1`` times when prepending).
        announce: False for the withdrawal.
        prepend: extra copies of the AS in the path.
        med: the MED (None: none).
        communities: numeric communities, standard (``A:B``, in ``community``)
            and large (``A:B:C``, in ``large-community``).
    """
    if not announce:
        return f"withdraw route {prefix} next-hop self"
    line = f"announce route {prefix} next-hop self"
    if med is not None:
        line += f" med {int(med)}"
    if prepend:
        line += " as-path [ " + " ".join([str(asn)] * (int(prepend) + 1)) + " ]"
    standard = [c for c in communities if c.count(":") == 1]
    large = [c for c in communities if c.count(":") == 2]
    if standard:
        line += " community [ " + " ".join(standard) + " ]"
    if large:
        line += " large-community [ " + " ".join(large) + " ]"
    return line


def peer_change(message: Dict[str, Any]) -> Optional[tuple]:
    """(peer address, ``up``/``down``/...) from one of ExaBGP's JSON messages, or None."""
    if message.get("type") != "state":
        return None
    neighbor = message.get("neighbor") or {}
    peer = (neighbor.get("address") or {}).get("peer")
    state = neighbor.get("state")
    return (str(peer), str(state)) if peer and state else None


class ApiSite:
    """What one site announces, and the lines that make ExaBGP announce it."""

    def __init__(self, args: Any, writer: RecordWriter, out: Any = None):
        self.args = args
        self.writer = writer
        self.out = out if out is not None else sys.stdout
        self.lock = threading.Lock()
        self.announced = False
        self.prepend: int = args.prepend
        self.med: Optional[int] = args.med
        self.communities: List[str] = list(args.community)
        self.peers: Dict[str, str] = {a: "Connect" for a in args.neighbor}
        self.fault: Optional[WriteFault] = None
        self.errors = 0

    def record(self, event: str, **fields: Any) -> None:
        """One record; a full disk is kept in :attr:`fault` (the program then exits)."""
        try:
            self.writer.write({"kind": "speaker", "site": self.args.site, "event": event, **fields})
        except WriteFault as exc:
            self.fault = self.fault or exc

    def emit(self, line: str) -> None:
        """One command to ExaBGP."""
        with self.lock:
            self.out.write(line + "\n")
            self.out.flush()

    def _route(self, announce: bool, prefix: Optional[str] = None) -> None:
        self.emit(
            route_line(
                prefix or self.args.prefix,
                self.args.asn,
                announce,
                self.prepend,
                self.med,
                self.communities,
            )
        )

    def announce(self) -> None:
        """Announce the anycast prefix (idempotent)."""
        if not self.announced:
            self._route(True)
            self.announced = True
            self.record(
                "announce",
                prefix=self.args.prefix,
                prepend=self.prepend,
                med=self.med,
                communities=self.communities,
            )

    def announce_unicast(self) -> None:
        """Announce the site's unicast prefix (at start; nothing without one)."""
        if self.args.unicast:
            self._route(True, self.args.unicast)
            self.record(
                "announce",
                prefix=self.args.unicast,
                unicast=True,
                prepend=self.prepend,
                med=self.med,
                communities=self.communities,
            )

    def withdraw(self) -> None:
        """Withdraw the anycast prefix (idempotent; the unicast prefix stays)."""
        if self.announced:
            self._route(False)
            self.announced = False
            self.record("withdraw", prefix=self.args.prefix)

    def policy(
        self, prepend: int, med: Optional[int], communities: Optional[List[str]] = None
    ) -> None:
        """Set the prepends, MED and (unless None) communities; the announced routes (the
        anycast one unless withdrawn, the unicast one) go again with them."""
        communities = self.communities if communities is None else list(communities)
        if (prepend, med, communities) == (self.prepend, self.med, self.communities):
            return
        self.prepend, self.med, self.communities = prepend, med, communities
        if self.announced:
            self._route(True)
        if self.args.unicast:
            self._route(True, self.args.unicast)
        self.record("policy", prepend=prepend, med=med, communities=communities)

    def handle(self, request: Dict[str, Any]) -> Dict[str, Any]:
        """Carry out one control command."""
        cmd = request.get("cmd")
        if cmd == "announce":
            self.announce()
        elif cmd == "withdraw":
            self.withdraw()
        elif cmd in ("med", "policy"):
            med = request.get("value" if cmd == "med" else "med")
            prepend = request.get("prepend", self.prepend) if cmd == "policy" else self.prepend
            if med is not None and not (isinstance(med, int) and 0 <= med < 2**32):
                return {"ok": False, "error": f"bad MED {med!r}"}
            if not (isinstance(prepend, int) and 0 <= prepend <= 64):
                return {"ok": False, "error": f"bad prepend {prepend!r}"}
            communities = request.get("communities") if cmd == "policy" else None
            if communities is not None and not (
                isinstance(communities, list) and all(community_ok(c) for c in communities)
            ):
                return {"ok": False, "error": f"bad communities {communities!r}"}
            self.policy(prepend, med, communities)
        elif cmd != "status":
            return {"ok": False, "error": f"unknown command {cmd!r}"}
        with self.lock:
            peers = dict(self.peers)
        return {
            "ok": True,
            "announced": self.announced,
            "unicast": self.args.unicast,
            "prepend": self.prepend,
            "med": self.med,
            "communities": self.communities,
            "peers": peers,
            "library": "exabgp",
            "errors": self.errors,
        }

    def from_exabgp(self, line: str) -> None:
        """One line ExaBGP wrote on our stdin: an acknowledgement or a JSON message."""
        line = line.strip()
        if not line or line == "done":
            return
        if line == "error":
            self.errors += 1
            self.record("error", what="ExaBGP refused a command")
            return
        try:
            message = json.loads(line)
        except ValueError:
            return
        change = peer_change(message)
        if change is None:
            return
        peer, state = change
        if state == "up":
            with self.lock:
                self.peers[peer] = "Established"
            self.record("peer_up", peer=peer)
        elif state == "down":
            with self.lock:
                self.peers[peer] = "Down"
            self.record("peer_down", peer=peer, reason=message.get("neighbor", {}).get("reason"))
        elif state == "connected":
            with self.lock:
                self.peers[peer] = "OpenSent"


def serve_control(site: ApiSite, path: str, stop: threading.Event) -> threading.Thread:
    """Answer control commands on ``path`` in a thread (one JSON line per connection)."""
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)
    server.settimeout(0.2)

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            with conn:
                conn.settimeout(5.0)
                try:
                    line = conn.makefile("rb").readline()
                    answer = site.handle(json.loads(line))
                except Exception as exc:  # noqa: BLE001 - reported to the caller
                    answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                with contextlib.suppress(OSError):
                    conn.sendall(json.dumps(answer).encode() + b"\n")
        server.close()

    thread = threading.Thread(target=loop, name="control", daemon=True)
    thread.start()
    return thread


def _community_arg(value: str) -> str:
    """argparse type: a numeric community."""
    if not community_ok(value):
        raise argparse.ArgumentTypeError(f"invalid community {value!r} (A:B or A:B:C)")
    return value


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog="python -m testbed.speaker.exabgp_api",
        description="ExaBGP API program of an anycast site (announce/withdraw on stdout).",
    )
    p.add_argument("--site", required=True, type=proc.name)
    p.add_argument("--asn", required=True, type=int)
    p.add_argument("--prefix", required=True, help="the anycast prefix")
    p.add_argument(
        "--unicast",
        default=None,
        type=prefix_arg,
        help="the site's own unicast prefix: announced at start, never withdrawn by a command",
    )
    p.add_argument("--neighbor", action="append", default=[], type=proc.ipv4, help="upstream")
    p.add_argument("--prepend", type=int, default=0, help="AS-path prepends at start")
    p.add_argument("--med", type=int, default=None, help="MED at start")
    p.add_argument(
        "--community",
        action="append",
        default=[],
        type=_community_arg,
        help="community at start, A:B or A:B:C (repeatable)",
    )
    p.add_argument("--control", required=True, help="control socket path")
    p.add_argument("--out", required=True, help="JSON Lines records")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.speaker.exabgp_api`` (started by ExaBGP)."""
    args = _parser().parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    proc.safe_stderr()
    with RecordWriter(args.out) as writer:
        site = ApiSite(args, writer)

        def read_stdin() -> None:
            for line in sys.stdin:
                site.from_exabgp(line)
            stop.set()  # ExaBGP went away

        serve_control(site, args.control, stop)
        site.record(
            "start",
            library="exabgp",
            asn=args.asn,
            prefix=args.prefix,
            unicast=args.unicast,
            neighbors=list(args.neighbor),
            pid=os.getpid(),
        )
        site.announce()
        site.announce_unicast()
        threading.Thread(target=read_stdin, name="stdin", daemon=True).start()
        while not stop.wait(0.2) and site.fault is None:
            pass
        site.record("stop")
    if site.fault is not None:
        sys.stderr.write(f"exabgp api {args.site}: error: {site.fault}: stopped\n")
        sys.exit(site.fault.exit_status)
    sys.exit(0)


if __name__ == "__main__":
    main()
