"""BIRD 2's log lines, read as the BGP recorder reads FRR's: pure parsers.

A BIRD router logs (``timeformat log iso long ms``, ``debug protocols {
states }`` in its config, ``events`` and ``routes`` turned on by the
recorder through ``birdc debug``, :data:`testbed.net.daemons.BIRD_DEBUG`)::

    2026-12-05 12:20:36.148 <TRACE> peer_b2: BGP session established
    2026-12-05 12:20:36.148 <TRACE> peer_b2: State changed to up
    2026-12-05 12:20:37.068 <TRACE> peer_b2.ipv4 > added [best] 198.51.100.0/24 0L 5G unicast
    2026-12-05 12:20:38.292 <TRACE> bfd1: Session to 10.9.0.2 changed state from Up to Down
    2026-12-05 12:20:38.292 <TRACE> peer_b2: BFD session down
    2026-12-05 12:20:38.292 <TRACE> peer_b2: State changed to stop
    2026-12-05 12:20:38.292 <TRACE> peer_b2.ipv4 > removed [sole] 198.51.100.0/24 0L 5G unicast
    2026-12-05 12:20:10.833 <INFO> Started

:func:`parse_line` turns one into a :class:`BirdLine`; :class:`BirdSessions`
keeps, per router, what a ``stop`` needs to become the same ``state``
record as FRR's ``%ADJCHANGE ... Down`` line: whether the session was up
and the event that closed it, worded as bgpd words it (``BFD down
received``, ``Hold Timer Expired``...), so the detection analysis reads
both daemons alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, Optional, Tuple

_TS = r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)"
_LINE = re.compile(_TS + r" <(?P<level>[A-Z]+)> (?P<text>.*)$")
_STATE = re.compile(r"^(?P<proto>peer_\S+): State changed to (?P<state>\w+)$")
_ROUTE = re.compile(
    r"^(?P<proto>peer_[^.\s]+)\.ipv4 > (?P<what>added|removed)\b.*?"
    r"(?P<prefix>\d+\.\d+\.\d+\.\d+/\d+)"
)
_BFD = re.compile(
    r"^bfd\S*: Session to (?P<addr>[0-9.]+) changed state from (?P<previous>\w+) to (?P<state>\w+)"
)
_EVENT = re.compile(r"^(?P<proto>peer_[^.\s:]+): (?P<event>.+)$")

#: BIRD's words for why a session closed -> bgpd's (FRR's ``peer_down_str``).
REASONS = (
    ("BFD session down", "BFD down received"),
    ("Error: Hold timer expired", "Hold Timer Expired"),
    ("Received: ", "BGP Notification received"),
    ("Error: ", "BGP Notification send"),
    ("Neighbor lost", "Interface down"),
    ("Connection lost", "Peer closed the session"),
    ("Connection closed", "Peer closed the session"),
)


def log_time(ts: str) -> float:
    """A BIRD log timestamp (local time, ``iso long ms``) as epoch seconds."""
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in ts else "%Y-%m-%d %H:%M:%S"
    return datetime.strptime(ts, fmt).timestamp()


def bgpd_reason(event: str) -> Optional[str]:
    """bgpd's wording of a BIRD session event that closes a session (None: not one)."""
    for start, reason in REASONS:
        if event.startswith(start):
            return reason
    return None


@dataclass(frozen=True)
class BirdLine:
    """One log line the recorder uses.

    Attributes:
        t: its time.
        kind: ``state`` (a BGP protocol's state: ``up``, ``stop``, ``start``...),
            ``event`` (a BGP protocol's event text), ``withdraw`` / ``added``
            (a route from a peer), ``bfd`` (a BFD session's change), ``started``
            (BIRD started: the debug settings are gone).
        protocol: the BGP protocol (``peer_NAME``), or None.
        value: the state, the event's text or the prefix.
        address: a BFD session's neighbour.
        previous: a BFD session's previous state.
    """

    t: float
    kind: str
    protocol: Optional[str] = None
    value: str = ""
    address: Optional[str] = None
    previous: Optional[str] = None


def parse_line(line: str) -> Optional[BirdLine]:
    """Parse one BIRD log line (None: nothing the recorder uses)."""
    m = _LINE.match(line.strip())
    if not m:
        return None
    t, text = log_time(m.group("ts")), m.group("text")
    if m.group("level") == "INFO" and text == "Started":
        return BirdLine(t, "started")
    state = _STATE.match(text)
    if state:
        return BirdLine(t, "state", state.group("proto"), state.group("state"))
    route = _ROUTE.match(text)
    if route:
        kind = "withdraw" if route.group("what") == "removed" else "added"
        return BirdLine(t, kind, route.group("proto"), route.group("prefix"))
    bfd = _BFD.match(text)
    if bfd:
        return BirdLine(
            t, "bfd", None, bfd.group("state").lower(), bfd.group("addr"), bfd.group("previous")
        )
    event = _EVENT.match(text)
    if event:
        return BirdLine(t, "event", event.group("proto"), event.group("event"))
    return None


@dataclass
class BirdSessions:
    """Per (router, protocol): was the session up, and why it is closing.

    :meth:`transition` turns BIRD's protocol states into FRR's two logged
    transitions: ``up`` is Up (Established); ``stop`` of a session that was
    up is Down, with the last closing event seen as the reason.
    """

    up: Dict[Tuple[str, str], bool] = field(default_factory=dict)
    why: Dict[Tuple[str, str], str] = field(default_factory=dict)

    def event(self, router: str, protocol: str, text: str) -> None:
        """Keep a session event that closes it (its bgpd wording)."""
        reason = bgpd_reason(text)
        if reason is not None:
            self.why[(router, protocol)] = reason

    def transition(self, router: str, protocol: str, state: str) -> Optional[Tuple[str, str]]:
        """(``Up`` or ``Down``, reason) for a protocol state change, or None."""
        key = (router, protocol)
        if state == "up":
            self.up[key] = True
            self.why.pop(key, None)
            return "Up", ""
        if state in ("stop", "down") and self.up.get(key):
            self.up[key] = False
            return "Down", self.why.pop(key, "")
        return None

    def restarted(self, router: str) -> None:
        """BIRD started again on a router: none of its sessions is up."""
        for key in [k for k in self.up if k[0] == router]:
            self.up[key] = False
