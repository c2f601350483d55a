"""The live catchment table of ``up --traffic``: client -> site, RTT, DNS loss, TCP up.

It follows the probes' JSON Lines files as they grow (never blocking the
probes) and keeps a small per-client state; :meth:`LiveCatchment.table`
renders it with rich.
"""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Deque, Dict, Optional, Tuple

from rich.table import Table

WINDOW = 10.0  # seconds of DNS history behind the loss figure


@dataclass
class ClientView:
    """What the table shows for one client."""

    site: Optional[str] = None
    rtt: Optional[float] = None
    answers: Deque[Tuple[float, bool]] = field(default_factory=deque)  # (t, answered)
    streams: Dict[int, str] = field(default_factory=dict)  # stream -> site while connected
    resets: int = 0

    def loss(self, now: float) -> Optional[float]:
        """Fraction of DNS queries lost in the last WINDOW seconds."""
        while self.answers and self.answers[0][0] < now - WINDOW:
            self.answers.popleft()
        if not self.answers:
            return None
        return sum(1 for _, ok in self.answers if not ok) / len(self.answers)


class _Follower:
    """Reads the complete new lines of a growing file."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0

    def lines(self):
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except OSError:
            return
        cut = chunk.rfind(b"\n") + 1
        self.offset += cut
        for raw in chunk[:cut].splitlines():
            try:
                yield json.loads(raw)
            except ValueError:
                continue


class LiveCatchment:
    """Per-client state built from dns-*.jsonl and tcp-*.jsonl in a records folder."""

    def __init__(self, records: Path, clients):
        self.records = Path(records)
        self.clients = list(clients)
        self.view: Dict[str, ClientView] = {c: ClientView() for c in self.clients}
        self._followers = {}
        for client in self.clients:
            for kind in ("dns", "tcp"):
                path = self.records / f"{kind}-{client}.jsonl"
                self._followers[(kind, client)] = _Follower(path)

    def update(self) -> None:
        """Read what the probes wrote since the last call."""
        for (kind, client), follower in self._followers.items():
            view = self.view[client]
            for rec in follower.lines():
                if kind == "dns":
                    self._dns(view, rec)
                else:
                    self._tcp(view, rec)

    @staticmethod
    def _dns(view: ClientView, rec: dict) -> None:
        status = rec.get("status")
        if status == "ok":
            view.site = rec.get("site") or view.site
            view.rtt = rec.get("rtt")
            view.answers.append((rec["t"], True))
        elif status == "timeout":
            view.answers.append((rec["t"], False))

    @staticmethod
    def _tcp(view: ClientView, rec: dict) -> None:
        stream, event = rec.get("stream", 0), rec.get("event")
        if event == "connected":
            view.streams[stream] = rec.get("site") or "?"
        elif event in ("reset", "timeout", "eof", "closed", "connect_failed"):
            view.streams.pop(stream, None)
            if event == "reset":
                view.resets += 1

    def table(self, streams_per_client: int, now: Optional[float] = None) -> Table:
        """The table as rich renders it."""
        now = now or time.time()
        table = Table(show_header=True, header_style="bold", box=None)
        for col in ("client", "site", "DNS RTT", f"DNS loss ({WINDOW:.0f} s)", "TCP up", "resets"):
            table.add_column(col)
        for client in self.clients:
            v = self.view[client]
            loss = v.loss(now)
            table.add_row(
                client,
                v.site or "-",
                f"{v.rtt * 1000:.1f} ms" if v.rtt is not None else "-",
                f"{loss:.0%}" if loss is not None else "-",
                f"{len(v.streams)}/{streams_per_client}",
                str(v.resets),
            )
        return table
