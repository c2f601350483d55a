"""The BGP speaker of a ``speaker: ryu`` site: Ryu's BGPSpeaker (os-ken where Ryu is missing).

Runs in the site node's namespace, peers over eBGP with the site's upstream
router(s), and announces the anycast prefix with itself as next hop, the way
operators run a BGP daemon on each anycast server::

    python -m testbed.speaker.ryu_speaker --site east --asn 64500 --router-id 100.127.0.9 \\
        --prefix 192.0.2.0/24 [--unicast 100.66.0.0/24] --neighbor 100.64.0.13,65001,9 \\
        [--neighbor ...] --control RUN/speakers/east.sock --out RUN/records/speaker-east.jsonl

``--unicast`` is the site's own unicast prefix (``sites[].unicast``): announced
at start beside the anycast prefix and never withdrawn by a command (``withdraw``
and ``announce`` steer the anycast prefix alone); it goes when the speaker
stops or its sessions drop, i.e. when the site as a whole fails.  The MED is a
neighbour setting in Ryu, so it is on both routes, as an FRR site's outbound
route-map puts it on both.

Each ``--neighbor`` is ``ADDRESS,AS[,HOLD]``: HOLD is the session's hold time
from the topology, passed to Ryu's ``neighbor.create`` (see
:mod:`testbed.speaker.settings` for what Ryu honours and what it cannot).

Every announcement, withdrawal, MED change and session change is a record in
``--out`` (JSON Lines, flushed as written).  A control socket takes one JSON
line per connection (see :mod:`testbed.speaker.control`).  SIGTERM or SIGINT
withdraws nothing (like a crash of the process, the sessions just close),
shuts the speaker down and exits 0.  eventlet's deprecation warnings are
silenced; everything else the libraries print goes to the process's log.
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore")  # eventlet/Ryu deprecation noise, before importing them

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from typing import Any, Dict, List, Optional, Tuple  # noqa: E402

from testbed import proc  # noqa: E402
from testbed.records import RecordWriter, WriteFault  # noqa: E402
from testbed.speaker import import_bgpspeaker  # noqa: E402
from testbed.speaker.control import prefix_arg  # noqa: E402
from testbed.speaker.settings import neighbor_settings  # noqa: E402

#: One upstream: address, AS, hold time (None: Ryu's default).
Upstream = Tuple[str, int, Optional[int]]


def neighbor(value: str) -> Upstream:
    """argparse type: ``ADDRESS,AS[,HOLD]``."""
    parts = value.split(",")
    try:
        if len(parts) not in (2, 3):
            raise ValueError(value)
        hold = int(parts[2]) if len(parts) == 3 else None
        if hold is not None and hold < 3:
            raise ValueError(value)
        return proc.ipv4(parts[0]), int(parts[1]), hold
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(
            f"invalid neighbor {value!r} (ADDRESS,AS[,HOLD], HOLD at least 3)"
        ) from None


def load_speaker_class() -> Tuple[str, Any]:
    """Import eventlet and BGPSpeaker: Ryu, or os-ken where Ryu does not import."""
    import eventlet

    eventlet.monkey_patch()
    return import_bgpspeaker()


class SiteSpeaker:
    """One BGPSpeaker announcing one prefix to a site's upstreams."""

    def __init__(self, args: argparse.Namespace, writer: RecordWriter):
        self.args = args
        self.writer = writer
        self.fault: Optional[WriteFault] = None
        self.library, self.module = load_speaker_class()
        self.announced = False
        self.med: Optional[int] = None
        self.peers: Dict[str, str] = {}
        self.speaker = self.module.BGPSpeaker(
            as_number=args.asn,
            router_id=args.router_id,
            bgp_server_hosts=["0.0.0.0"],
            bgp_server_port=179,
            peer_up_handler=self._peer_up,
            peer_down_handler=self._peer_down,
        )

    def record(self, event: str, **fields: Any) -> None:
        """Write one record; a full disk is kept in :attr:`fault` (the main loop then exits)."""
        try:
            self.writer.write({"kind": "speaker", "site": self.args.site, "event": event, **fields})
        except WriteFault as exc:  # raised inside Ryu's callbacks: the main loop acts on it
            self.fault = self.fault or exc

    def _address(self, remote_ip: str, remote_as: int) -> str:
        """The neighbor's address (Ryu passes its router ID on peer up, its address on down)."""
        if remote_ip in self.peers:
            return remote_ip
        same_as = [a for a, asn, _ in self.args.neighbor if asn == remote_as]
        return same_as[0] if len(same_as) == 1 else remote_ip

    def _peer_up(self, remote_ip: str, remote_as: int) -> None:
        address = self._address(remote_ip, remote_as)
        self.peers[address] = "Established"
        self.record("peer_up", peer=address, remote_as=remote_as)

    def _peer_down(self, remote_ip: str, remote_as: int) -> None:
        address = self._address(remote_ip, remote_as)
        self.peers[address] = "Down"
        self.record("peer_down", peer=address, remote_as=remote_as)

    def start(self) -> None:
        """Add the neighbors (with their hold time) and announce the prefix.

        ``neighbor_add`` has no hold-time argument, so the neighbors are
        created through the API call it wraps (``neighbor.create``), which
        takes every neighbor setting.
        """
        settings = [neighbor_settings(a, asn, hold) for a, asn, hold in self.args.neighbor]
        for one in settings:
            self.peers[one["ip_address"]] = "Connect"
            self.module.call("neighbor.create", **one)
        self.record(
            "start",
            library=self.library,
            asn=self.args.asn,
            prefix=self.args.prefix,
            unicast=self.args.unicast,
            neighbors=[a for a, _, _ in self.args.neighbor],
            hold=[one["hold_time"] for one in settings],
        )
        self.announce()
        if self.args.unicast:  # the site's own prefix: announced for as long as the speaker runs
            self.speaker.prefix_add(self.args.unicast)
            self.record("announce", prefix=self.args.unicast, unicast=True)

    def announce(self) -> None:
        """Announce the anycast prefix (idempotent)."""
        if not self.announced:
            self.speaker.prefix_add(self.args.prefix)
            self.announced = True
            self.record("announce", prefix=self.args.prefix)

    def withdraw(self) -> None:
        """Withdraw the anycast prefix (idempotent; the unicast prefix stays)."""
        if self.announced:
            self.speaker.prefix_del(self.args.prefix)
            self.announced = False
            self.record("withdraw", prefix=self.args.prefix)

    def set_med(self, value: Optional[int]) -> None:
        """Set (or with None remove) the MED sent to every neighbor.

        Ryu's API cannot remove a MED once set (nor set MED 0: it re-sends
        its routes through an ``assert med``), so removing one clears the
        neighbors' MED setting without the notification, then originates the
        prefixes again (the anycast one if announced, the unicast one): the
        new paths go out without MED, as an implicit replacement (no
        withdrawal in between).
        """
        if value == self.med:
            return
        if value is not None:
            for address, _, _ in self.args.neighbor:
                self.speaker.neighbor_update(address, self.module.MULTI_EXIT_DISC, value)
        else:
            from importlib import import_module

            package = "ryu" if self.library == "ryu" else "os_ken"
            rtconf = import_module(f"{package}.services.protocols.bgp.api.rtconf")
            for address, _, _ in self.args.neighbor:
                conf = rtconf._get_neighbor_conf(address)
                conf._settings[self.module.MULTI_EXIT_DISC] = None
            if self.announced:
                self.speaker.prefix_add(self.args.prefix)
            if self.args.unicast:
                self.speaker.prefix_add(self.args.unicast)
        self.med = value
        self.record("med", value=value)

    def handle(self, request: Dict[str, Any]) -> Dict[str, Any]:
        """Carry out one control command."""
        cmd = request.get("cmd")
        if cmd == "announce":
            self.announce()
        elif cmd == "withdraw":
            self.withdraw()
        elif cmd == "med":
            value = request.get("value")
            if value is not None and not (isinstance(value, int) and 0 <= value < 2**32):
                return {"ok": False, "error": f"bad MED {value!r}"}
            self.set_med(value)
        elif cmd != "status":
            return {"ok": False, "error": f"unknown command {cmd!r}"}
        return {
            "ok": True,
            "announced": self.announced,
            "unicast": self.args.unicast,
            "med": self.med,
            "peers": self.peers,
            "library": self.library,
        }

    def shutdown(self) -> None:
        """Close the sessions."""
        self.record("stop")
        self.speaker.shutdown()


def serve_control(site: SiteSpeaker, path: str) -> Any:
    """Listen on the control socket in an eventlet green thread."""
    import eventlet

    if os.path.exists(path):
        os.unlink(path)
    server = eventlet.listen(path, family=socket.AF_UNIX)

    def one(conn: Any) -> None:
        with conn:
            line = conn.makefile("rb").readline()
            try:
                answer = site.handle(json.loads(line))
            except Exception as exc:  # noqa: BLE001 - reported to the caller
                answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            conn.sendall(json.dumps(answer).encode() + b"\n")

    def loop() -> None:
        while True:
            conn, _ = server.accept()
            eventlet.spawn(one, conn)

    eventlet.spawn(loop)
    return server


def _parser() -> proc.Parser:
    p = proc.Parser(
        prog="python -m testbed.speaker.ryu_speaker",
        description="BGP speaker of an anycast site (Ryu BGPSpeaker; os-ken fallback).",
    )
    p.add_argument("--site", required=True, type=proc.name)
    p.add_argument("--asn", required=True, type=int)
    p.add_argument("--router-id", required=True, type=proc.ipv4)
    p.add_argument("--prefix", required=True, help="the anycast prefix")
    p.add_argument(
        "--unicast",
        default=None,
        type=prefix_arg,
        help="the site's own unicast prefix: announced at start, never withdrawn by a command",
    )
    p.add_argument(
        "--neighbor",
        required=True,
        action="append",
        type=neighbor,
        help="upstream ADDRESS,AS[,HOLD] (repeatable; HOLD: the session's hold time, s)",
    )
    p.add_argument("--control", required=True, help="control socket path")
    p.add_argument("--out", required=True, help="JSON Lines records")
    return p


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``python -m testbed.speaker.ryu_speaker``."""
    args = _parser().parse_args(argv)
    stop = {"now": False}

    def on_signal(_signum: int, _frame: Any) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if os.environ.get("ANYCAST_SPEAKER_DEBUG"):
        import logging

        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    proc.safe_stderr()
    with RecordWriter(args.out) as writer:
        site = SiteSpeaker(args, writer)
        import eventlet

        serve_control(site, args.control)
        site.start()
        sys.stderr.write(f"speaker {args.site}: {site.library} BGPSpeaker AS {args.asn} up\n")
        sys.stderr.flush()
        while not stop["now"] and site.fault is None:
            eventlet.sleep(0.1)
        site.shutdown()
    if site.fault is not None:  # its records cannot be written: say why by the exit status
        sys.stderr.write(f"speaker {args.site}: error: {site.fault}: stopped\n")
        sys.exit(site.fault.exit_status)
    sys.exit(0)


if __name__ == "__main__":
    main()
