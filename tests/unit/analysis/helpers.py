"""Builders of synthetic run folders for the analysis tests.

Times given to the builder are seconds from ``t0``; records get wall-clock
times ``t0 + t`` as the recorders write them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from tests.world import WORLD_CATCHMENT

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

    def load(self, site: str, t: float, **counters: int) -> RunBuilder:
        """One load record of ``site`` at ``t``: cumulative counters (missing ones 0)."""
        keys = ("rx_packets", "rx_bytes", "legit_packets", "legit_bytes", "attack_packets",
                "attack_bytes", "queue_drops", "policed_packets", "answered_legit",
                "answered_attack")  # fmt: skip
        record = {"t": self.t0 + t, "site": site, **{k: 0 for k in keys}, **counters}
        return self._add(f"load-{site}", record)

    def attack(self, host: str, t: float, kind: str, **fields: Any) -> RunBuilder:
        """One record of attack source ``host`` at ``t`` (``start``, ``sent`` or ``stop``)."""
        return self._add(f"attack-{host}", {"t": self.t0 + t, "kind": kind, "source": host,
                                            **fields})  # fmt: skip

    def resolve(self, client: str, method: str, seq: int, t: float, status: str = "ok",
                **fields: Any) -> RunBuilder:  # fmt: skip
        """One ``resolve`` tick of ``method`` sent at ``t`` (``addr``, ``site``, rtts in fields)."""
        return self._add(f"resolve-{client}", {"t": self.t0 + t, "kind": "resolve",
                                               "client": client, "method": method, "seq": seq,
                                               "status": status, **fields})  # fmt: skip

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


def health_record(b: RunBuilder, t: float, site: str, event: str, **fields: Any) -> RunBuilder:
    """One health agent record of ``site`` at ``t`` (as testbed.health.agent writes it)."""
    return b._add("health", {"t": b.t0 + t, "kind": "health", "site": site, "event": event,
                             **fields})  # fmt: skip


WORLD = WORLD_CATCHMENT
WORLD_ROUTERS = ["asia", "eu", "gru", "lon", "na", "nyc", "sa", "tyo"]


def _world(path: Path, scenario: str, duration: float, **meta: Any) -> RunBuilder:
    return RunBuilder(
        path,
        duration=duration,
        scenario=scenario,
        topology="world",
        frr_version="8.4.4",
        speaker=["frr"],
        clients=sorted(WORLD),
        sites=["gru", "lon", "nyc", "tyo"],
        routers=WORLD_ROUTERS,
        **meta,
    )


def health_run(path: Path, action: str) -> Path:
    """healthcheck-modes on world, synthetic: lon's servers die at 15 s, its agent acts at 17 s.

    Rates: 5 DNS queries/s per client, 2 TCP streams each.  With ``withdraw``
    (or ``prepend``) paris and frankfurt lose queries 15-17.3 s and move to
    nyc; with ``med`` the route stays preferred (other upstreams) and they
    get no answer until the end.  The agent's shutdown at 40.6 s removes
    lon's service address (the site was withdrawn long before).
    """
    b = _world(path, "healthcheck-modes", 40.0)
    moves = action != "med"
    for client, site in sorted(WORLD.items()):
        if site != "lon":
            b.dns_series(client, 0, 40, 5, site)
            for stream in (0, 1):
                b.tcp(client, stream, 0.5, "connected", site, attempt=1, gap=None)
                b.tcp(client, stream, 40.0, "closed", site)
            continue
        # answered by lon until 15 s (seq 74); lost from then; nyc from 17.4 s (seq 87)
        lost = range(75, 87) if moves else range(75, 200)
        b.dns_series(client, 0, 40, 5, lambda s: "lon" if s < 75 else "nyc", lost=lost)
        for stream in (0, 1):
            b.tcp(client, stream, 0.5, "connected", "lon", attempt=1, gap=None)
            b.tcp(client, stream, 15.0, "eof", "lon", error="EOF")
            b.tcp(client, stream, 15.2, "connect_failed", None, error="ECONNREFUSED")
            if moves:
                b.tcp(client, stream, 17.5, "connected", "nyc", attempt=2, gap=2.5)
                b.tcp(client, stream, 40.0, "closed", "nyc")
    b.event(15.0, "kill_service", "lon", {"service": "all"})
    for router in WORLD_ROUTERS:
        b.route(router, -1.0, "initial", via=["lon"])
    applied = {"withdraw": ["withdraw"], "med": ["med 1000 prepend 0"],
               "prepend": ["med None prepend 3"]}[action]  # fmt: skip
    if moves:
        b.route("eu", 17.05, "nexthop", via=["na"])
    health_record(b, -5.0, "lon", "start", state="up", action=action, interval=1.0, rise=2,
                  fall=2, checks=["dns", "tcp"], drain=1.0)  # fmt: skip
    health_record(b, 16.95, "lon", "state", state="down", previous="up", action=action,
                  applied=applied, failures=["dns: Timeout", "tcp: Connection refused"],
                  reason="checks", error=None)  # fmt: skip
    health_record(b, 40.6, "lon", "address", address="192.0.2.53", removed=["lon-1"],
                  drain_s=23.65, error=None)  # fmt: skip
    health_record(b, 40.6, "lon", "stop", state="down")
    return b.write()


FLAP_TIMES = (10, 18, 26, 34, 42, 50)


def flap_run(path: Path) -> Path:
    """flap on world, synthetic: tyo fails at 10, 26, 42 s and comes back at 18, 34, 50 s.

    tokyo, singapore and sydney move to nyc on every failure and back on
    every restore, losing two queries (5/s) each time; each of their 2 TCP
    streams is reset 0.3 s after every move and reconnects 0.1 s later on the
    new site: 6 resets per stream, 12 per client.  The others never notice.
    """
    b = _world(path, "flap", 60.0)
    moved = [c for c, s in WORLD.items() if s == "tyo"]

    def site_of(seq: int) -> str:
        t = seq / 5
        flaps = sum(1 for at in FLAP_TIMES if t >= at + 0.4)
        return "nyc" if flaps % 2 else "tyo"

    lost = [round(at * 5) + k for at in FLAP_TIMES for k in (0, 1)]
    for client, site in sorted(WORLD.items()):
        if client in moved:
            b.dns_series(client, 0, 60, 5, site_of, lost=lost)
        else:
            b.dns_series(client, 0, 60, 5, site)
        for stream in (0, 1):
            b.tcp(client, stream, 0.5, "connected", site, attempt=1, gap=None)
            here = site
            if client in moved:
                for k, at in enumerate(FLAP_TIMES):
                    b.tcp(client, stream, at + 0.3, "reset", here, error="ECONNRESET")
                    here = "nyc" if k % 2 == 0 else "tyo"
                    b.tcp(client, stream, at + 0.4, "connected", here, attempt=k + 2, gap=0.1)
            b.tcp(client, stream, 60.0, "closed", here)
    for router in WORLD_ROUTERS:
        b.route(router, -1.0, "initial", via=["tyo"])
    for k, at in enumerate(FLAP_TIMES):
        if k % 2 == 0:
            b.event(at, "fail_site", "tyo", {"how": "link-down"})
            b.route("asia", at + 0.1, "nexthop", via=["na"])
        else:
            b.event(at, "restore", "tyo")
            b.route("asia", at + 0.2, "nexthop", via=["tyo"])
    return b.write()
