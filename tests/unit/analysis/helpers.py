"""Builders of synthetic run folders for the analysis tests.

Times given to the builder are seconds from ``t0``; records get wall-clock
times ``t0 + t`` as the recorders write them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

T0 = 1763845400.0


class RunBuilder:
    """Collects records, then writes ``meta.json`` and ``records/*.jsonl``."""

    def __init__(self, path: Path, t0: float = T0, **meta: Any):
        self.path = Path(path)
        self.t0 = t0
        self.meta: Dict[str, Any] = {"t0": t0, **meta}
        self.files: Dict[str, List[Dict[str, Any]]] = {}

    def _add(self, name: str, record: Dict[str, Any]) -> RunBuilder:
        self.files.setdefault(name, []).append(record)
        return self

    def dns(
        self,
        client: str,
        seq: int,
        t: float,
        status: str = "ok",
        site: Optional[str] = None,
        rtt: Optional[float] = 0.004,
    ) -> RunBuilder:
        """One DNS record of query ``seq`` sent at ``t``."""
        answered = status in ("ok", "late")
        return self._add(
            f"dns-{client}",
            {
                "t": self.t0 + t,
                "kind": "dns",
                "client": client,
                "seq": seq,
                "id": seq % 65536,
                "status": status,
                "rtt": rtt if answered else None,
                "rcode": "NOERROR" if answered else None,
                "site": site if answered else None,
            },
        )

    def dns_series(
        self,
        client: str,
        start: float,
        stop: float,
        rate: float,
        site: Any,
        lost: Iterable[int] = (),
        first_seq: int = 0,
    ) -> RunBuilder:
        """Queries every ``1/rate`` s in ``[start, stop)``; ``site`` a name or seq -> name.

        Lost seqs get a ``timeout`` record.
        """
        lost = set(lost)
        n = round((stop - start) * rate)
        for i in range(n):
            seq = first_seq + i
            t = round(start + i / rate, 6)
            if seq in lost:
                self.dns(client, seq, t, "timeout")
            else:
                name = site(seq) if callable(site) else site
                self.dns(client, seq, t, "ok", name)
        return self

    def tcp(
        self, client: str, stream: int, t: float, event: str, site: Optional[str] = None, **extra
    ) -> RunBuilder:
        """One TCP record."""
        return self._add(
            f"tcp-{client}",
            {
                "t": self.t0 + t,
                "kind": "tcp",
                "client": client,
                "stream": stream,
                "event": event,
                "site": site,
                **extra,
            },
        )

    def route(
        self, router: str, t: float, change: str = "nexthop", via: Iterable[str] = ("x",)
    ) -> RunBuilder:
        """One route record of ``router``."""
        via = list(via)
        return self._add(
            "routes",
            {
                "t": self.t0 + t,
                "kind": "route",
                "router": router,
                "prefix": "192.0.2.0/24",
                "change": change,
                "nexthops": [f"100.64.0.{i + 1}" for i in range(len(via))],
                "via": via,
            },
        )

    def event(
        self, t: float, event: str, target: str, params: Optional[Dict[str, Any]] = None
    ) -> RunBuilder:
        """One scenario event applied at ``t`` (scheduled at ``t`` too)."""
        return self._add(
            "events",
            {
                "t": self.t0 + t,
                "kind": "event",
                "event": event,
                "target": target,
                "params": params or {},
                "at": t,
            },
        )

    def write(self, reverse: Iterable[str] = ()) -> Path:
        """Write the run folder; files named in ``reverse`` are written in reverse order."""
        reverse = set(reverse)
        (self.path / "records").mkdir(parents=True, exist_ok=True)
        (self.path / "meta.json").write_text(json.dumps(self.meta))
        for name, records in self.files.items():
            rows = list(reversed(records)) if name in reverse else records
            text = "".join(json.dumps(r) + "\n" for r in rows)
            (self.path / "records" / f"{name}.jsonl").write_text(text)
        return self.path


def fixed_run(path: Path) -> Path:
    """A small site-failure run, fixed for the golden report and the plot smoke test.

    Two sites (lon, nyc), three clients, two events (fail lon at 10 s,
    restore at 20 s), 30 s; paris loses queries and moves, tokyo never
    moves, berlin moves without a loss; paris has two TCP streams, one reset.
    """
    b = RunBuilder(
        path,
        duration=30.0,
        scenario="site-failure",
        topology="two-sites",
        frr_version="8.4.4",
        speaker="frr",
        clients=["berlin", "paris", "tokyo"],
        sites=["lon", "nyc"],
        routers=["ispa", "ispb", "lon", "nyc", "ta", "tb"],
    )
    # paris: lon until 10 s; lost 10.0-10.4; nyc until 20 s; back to lon after 20 s
    b.dns_series(
        "paris",
        0,
        30,
        5,
        lambda s: "lon" if s < 50 or s >= 101 else "nyc",
        lost=[50, 51, 52],
    )
    b.dns("paris", 51, 0.0 + 51 / 5, "late", "lon", rtt=1.5)
    # tokyo: always nyc
    b.dns_series("tokyo", 0, 30, 5, "nyc")
    # berlin: lon, moves to nyc at 10.2 without a loss, back at 20.2
    b.dns_series("berlin", 0, 30, 5, lambda s: "nyc" if 51 <= s < 101 else "lon")
    b.event(10.0, "fail_site", "lon", {"how": "link-down"})
    b.event(20.0, "restore_site", "lon")
    for router, t in (("ta", 0.0), ("tb", 0.0), ("ispa", 0.0), ("ispb", 0.0)):
        b.route(router, t - 1.0, "initial", via=["lon"])
    b.route("ta", 10.05, "removed", via=[])
    b.route("ispa", 10.12, "nexthop", via=["tb"])
    b.route("ispa", 10.31, "nexthop", via=["isp-x"])
    b.route("ta", 20.08, "added", via=["lon"])
    b.route("ispa", 20.2, "nexthop", via=["ta"])
    b.tcp("paris", 0, 0.5, "connected", "lon", attempt=1, gap=None)
    b.tcp("paris", 1, 0.5, "connected", "lon", attempt=1, gap=None)
    b.tcp("paris", 0, 10.45, "reset", "lon", error="ECONNRESET")
    b.tcp("paris", 0, 10.6, "connected", "nyc", attempt=2, gap=0.15)
    b.tcp("paris", 1, 10.45, "site_changed", "nyc", previous="lon")
    b.tcp("paris", 0, 30.0, "closed", "nyc")
    b.tcp("paris", 1, 30.0, "closed", "nyc")
    return b.write(reverse=["dns-paris"])
