"""Connections lost under anycast and GSLB: the ``resolve`` probe's long streams in hand-made
records (each resolves the name before every connection), their figures in summary.json,
the report, the terminal and compare (no root)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, List, Optional, Tuple

import pytest

from testbed.analysis import build_summary
from testbed.analysis.compare import resolution_rows
from testbed.analysis.model import Summary
from testbed.analysis.report import comparison_rows, render_markdown, resolution_lines
from testbed.analysis.resolution import StreamEvent, is_tick, stream_window
from tests.unit.analysis.helpers import RunBuilder
from tests.unit.analysis.test_resolution import (
    ADDR,
    ANYCAST,
    NEAREST,
    RESOLVERS,
    anycast_moves,
    gslb_stuck,
    steady,
    ticks,
)

#: One stream's life: (seconds from t0, event, site, address) in time order.
Life = List[Tuple[float, str, Optional[str], Optional[str]]]


def stream(b: RunBuilder, client: str, method: str, k: int, life: Life) -> None:
    """One stream's records, as the probe writes them."""
    for t, event, site, addr in life:
        record = {"t": b.t0 + t, "kind": "resolve", "client": client, "method": method,
                  "stream": k, "event": event, "addr": addr, "site": site}  # fmt: skip
        if event == "broken":
            record.update(reason="timeout" if method == "gslb" else "reset", error="x")
        elif event == "connect_failed":
            record.update(ttl=3, error="EHOSTUNREACH")
        b._add(f"resolve-{client}", record)


def moved(site: str, addr: str, broke: float, back: Optional[float], to: str, to_addr: str,
          failed: Iterable[float] = (), end: float = 80.0) -> Life:  # fmt: skip
    """Up on ``site`` from 0.5 s, broken at ``broke``, failed reconnects (to ``addr``) at
    ``failed``, back on ``to`` at ``back`` (None: never; ``unrecovered`` at ``end``)."""
    life: Life = [(0.5, "connected", site, addr), (broke, "broken", site, addr)]
    life += [(t, "connect_failed", None, addr) for t in failed]
    if back is None:
        return [*life, (end - 0.01, "unrecovered", None, None)]
    return [*life, (back, "connected", to, to_addr), (end - 0.01, "closed", to, to_addr)]


def stayed(site: str, addr: str, end: float = 80.0) -> Life:
    return [(0.5, "connected", site, addr), (end - 0.01, "closed", site, addr)]


def streams_run(path: Path, duration: float = 80.0, event: str = "fail_site") -> Path:
    """both_run's ticks (lon fails at 10 s) and the streams:

    anycast: paris's two streams are reset and back on nyc after 0.5 and 0.7 s, berlin's
    after 0.8 s (one refused reconnect); tokyo's stays on nyc.  gslb: paris's stream
    times out at 13.1 s and reconnects twice to lon's cached address before nyc's at
    15.1 s; berlin's (behind the TTL violator) until 70.5 s, every 1.1 s; tokyo's stays
    on tyo.
    """
    b = RunBuilder(
        path,
        duration=duration,
        scenario="anycast-vs-gslb",
        topology="world",
        clients=["berlin", "paris", "tokyo"],
        sites=["lon", "nyc", "tyo"],
        service={"publish": "both", "ttl": 5, "health_interval": 1, "addresses": ADDR},
        resolvers=RESOLVERS,
        nearest_site=NEAREST,
    )
    ticks(b, "paris", "anycast", duration, anycast_moves(10.4))
    ticks(b, "berlin", "anycast", duration, anycast_moves(10.6))
    ticks(b, "tokyo", "anycast", duration, steady("nyc", ANYCAST))
    ticks(b, "paris", "gslb", duration, gslb_stuck(15.0))
    ticks(b, "berlin", "gslb", duration, gslb_stuck(70.2))
    ticks(b, "tokyo", "gslb", duration, steady("tyo", ADDR["tyo"]))
    end = duration
    if event == "fail_site":
        lon, nyc = ADDR["lon"], ADDR["nyc"]
        stream(
            b, "paris", "anycast", 0, moved("lon", ANYCAST, 10.35, 10.5, "nyc", ANYCAST, end=end)
        )
        stream(b, "paris", "anycast", 1, moved("lon", ANYCAST, 10.4, 10.7, "nyc", ANYCAST, end=end))
        berlin = moved("lon", ANYCAST, 10.55, 10.8, "nyc", ANYCAST, [10.6], end=end)
        stream(b, "berlin", "anycast", 0, berlin)
        stream(b, "paris", "gslb", 0, moved("lon", lon, 13.1, 15.1, "nyc", nyc, [13.2, 14.3], end))
        tries = [round(13.2 + 1.1 * k, 3) for k in range(52)]
        back = 70.5 if duration > 70.5 else None
        stream(b, "berlin", "gslb", 0, moved("lon", lon, 13.1, back, "nyc", nyc, tries, end))
    else:  # a withdrawal of the anycast prefix: GSLB's unicast streams stay on lon
        stream(
            b, "paris", "anycast", 0, moved("lon", ANYCAST, 10.35, 10.5, "nyc", ANYCAST, end=end)
        )
        stream(b, "paris", "gslb", 0, stayed("lon", ADDR["lon"], end))
    stream(b, "tokyo", "anycast", 0, stayed("nyc", ANYCAST, end))
    stream(b, "tokyo", "gslb", 0, stayed("tyo", ADDR["tyo"], end))
    b.event(10.0, event, "lon", {"how": "link-down"} if event == "fail_site" else None)
    return b.write()


def test_stream_records_are_not_ticks(tmp_path):
    r = build_summary(streams_run(tmp_path)).resolution
    assert r is not None
    a, g = r.methods["anycast"], r.methods["gslb"]
    assert (a.queries, a.lost, g.queries) == (1200, 5, 1200)  # the ticks alone
    assert not is_tick({"t": 1.0, "method": "gslb", "stream": 0, "event": "connected"})
    assert a.steady.nearest_share == pytest.approx(0.6667)


def test_the_runs_streams_in_all(tmp_path):
    r = build_summary(streams_run(tmp_path)).resolution
    a, g = r.methods["anycast"].streams, r.methods["gslb"].streams
    assert a is not None and g is not None
    assert (a.streams, a.connections, a.broken, a.connect_failed, a.unrecovered) == (4, 7, 3, 1, 0)
    assert (g.streams, g.connections, g.broken, g.connect_failed) == (3, 5, 2, 54)


def test_anycast_connections_are_back_on_the_next_site_at_once(tmp_path):
    r = build_summary(streams_run(tmp_path)).resolution
    [f] = r.methods["anycast"].failovers
    c = f.connections
    assert c is not None
    assert (c.streams, c.broken, c.clients, c.back) == (3, 3, 2, 2)
    assert c.back_median_s == pytest.approx(0.75) and c.back_worst_s == pytest.approx(0.8)
    assert (c.connect_failed, c.dead_connects, c.resolve_failed) == (1, None, 0)
    paris, berlin = c.affected["paris"], c.affected["berlin"]
    assert (paris.streams, paris.broken, paris.back_s, paris.site_to) == (2, 2, 0.7, "nyc")
    assert (berlin.back_s, berlin.connect_failed, berlin.dead_connects) == (0.8, 1, None)
    assert "tokyo" not in c.affected  # its stream was on nyc
    pooled = r.methods["anycast"].connections
    assert pooled is not None and (pooled.streams, pooled.broken, pooled.clients) == (3, 3, 2)


def test_gslb_connections_go_back_to_the_dead_address_until_the_cache_expires(tmp_path):
    r = build_summary(streams_run(tmp_path)).resolution
    [f] = r.methods["gslb"].failovers
    c = f.connections
    assert c is not None and (c.streams, c.broken, c.clients, c.back) == (2, 2, 2, 2)
    paris, berlin = c.affected["paris"], c.affected["berlin"]
    assert paris.back_s == pytest.approx(5.1) and paris.dead_connects == 2
    assert not paris.violating
    assert berlin.back_s == pytest.approx(60.5) and berlin.violating
    assert berlin.connect_failed == berlin.dead_connects == 52
    assert c.back_median_s == pytest.approx(32.8) and c.back_worst_s == pytest.approx(60.5)
    assert (c.connect_failed, c.dead_connects) == (54, 54)


def test_a_stream_never_back_is_counted_as_never(tmp_path):
    r = build_summary(streams_run(tmp_path, duration=40.0)).resolution
    c = r.methods["gslb"].failovers[0].connections
    assert c is not None and (c.clients, c.back) == (2, 1)
    assert c.affected["berlin"].back_s is None and c.affected["berlin"].site_to is None
    assert c.back_median_s is None and c.back_worst_s is None
    assert r.methods["gslb"].streams.unrecovered == 1
    rows = {row[0]: row[1:] for row in comparison_rows(r)}
    lost = rows["connections lost / back on a healthy site (median / worst s)"]
    assert lost[1] == "2 of 2 lost; never (1 of 2) / never (1 of 2)"


def test_a_withdrawal_breaks_no_gslb_connection(tmp_path):
    r = build_summary(streams_run(tmp_path, event="withdraw")).resolution
    [a] = r.methods["anycast"].failovers
    assert a.connections is not None and a.connections.broken == 1
    [g] = r.methods["gslb"].failovers
    c = g.connections
    assert c is not None and (c.streams, c.broken, c.clients) == (1, 0, 0)
    assert c.back_median_s is None and c.affected["paris"].broken == 0
    rows = {row[0]: row[1:] for row in comparison_rows(r)}
    assert rows["connections lost / back on a healthy site (median / worst s)"][:2] == [
        "1 of 1 lost; 0.500 / 0.500",
        "0 of 1 lost",
    ]


def test_a_stream_down_at_the_event_or_back_on_the_failed_site():
    lon = [StreamEvent(0.5, "connected", "lon"), StreamEvent(5.0, "broken", "lon")]
    assert stream_window(lon, "lon", 10.0, 20.0) is None  # already down: not the event's
    on_nyc = [StreamEvent(0.5, "connected", "nyc")]
    assert stream_window(on_nyc, "lon", 10.0, 20.0) is None
    kept = stream_window([StreamEvent(0.5, "connected", "lon")], "lon", 10.0, 20.0)
    assert kept is not None and not kept.broken and kept.back is None
    flap = [
        StreamEvent(0.5, "connected", "lon"),
        StreamEvent(10.2, "broken", "lon"),
        StreamEvent(10.4, "connected", "lon"),  # back on the failed site: not healthy
        StreamEvent(11.0, "broken", "lon"),
        StreamEvent(11.1, "resolve_failed"),
        StreamEvent(11.3, "connect_failed", None, "100.66.1.53"),
        StreamEvent(11.6, "connected", "nyc"),
        StreamEvent(25.0, "broken", "nyc"),
    ]
    w = stream_window(flap, "lon", 10.0, 20.0, ["100.66.1.53"])
    assert w is not None and w.broken and w.back == pytest.approx(1.6) and w.site_to == "nyc"
    assert (w.connect_failed, w.dead_connects, w.resolve_failed) == (1, 1, 1)
    late = stream_window(flap, "lon", 10.0, 11.5)  # the window ends before it was back
    assert late is not None and late.broken and late.back is None


def test_the_report_terminal_and_compare_give_the_connections(tmp_path):
    summary = build_summary(streams_run(tmp_path))
    r = summary.resolution
    rows = {row[0]: row[1:] for row in comparison_rows(r)}
    lost = rows["connections lost / back on a healthy site (median / worst s)"]
    assert lost[:2] == ["3 of 3 lost; 0.750 / 0.800", "2 of 2 lost; 32.800 / 60.500"]
    assert "dead address until the resolver's cached answer expires" in lost[2]
    text = render_markdown(summary)
    assert "resolving the name before every connection" in text
    assert "| 70.000 | 3 of 3 lost; 0.750 / 0.800 |" in text  # the per-event table
    assert "| fail_site lon (t=10.000 s) | gslb | berlin | res-isp2 (TTL violator) | " in text
    assert "| 1 of 1 | 60.500 | 52 (52 to the dead address) |" in text
    assert (
        "| fail_site lon (t=10.000 s) | anycast | paris | res-isp1 | 2 of 2 | 0.700 | 0 |" in text
    )
    lines = resolution_lines(summary)
    assert lines[1] == (
        "anycast: 2 clients affected, failover median 0.501 s, worst 0.601 s; still failing "
        "0.0% / 0.0% / 0.0% after 1 / 10 / 60 s; connections lost 3 of 3, back on a healthy "
        "site median 0.750 s, worst 0.800 s; nearest site 66.7% (2 of 3 clients)"
    )
    assert "connections lost 2 of 2, back on a healthy site median 32.800 s" in lines[2]
    compare = {row[0]: row[1:] for row in resolution_rows([summary])}
    assert compare["gslb: connections lost; back median / worst (s)"] == [
        "2 of 2 lost; 32.800 / 60.500"
    ]
    again = Summary.model_validate_json(summary.to_json())
    assert again.to_json() == summary.to_json()


def test_without_streams_the_figures_are_null_and_say_so(tmp_path):
    from tests.unit.analysis.test_resolution import both_run

    r = build_summary(both_run(tmp_path)).resolution
    for m in r.methods.values():
        assert m.streams is None and m.connections is None
        assert all(f.connections is None for f in m.failovers)
    rows = {row[0]: row[1:] for row in comparison_rows(r)}
    lost = rows["connections lost / back on a healthy site (median / worst s)"]
    assert lost[:2] == ["no streams", "no streams"]
    assert "connections lost" not in " ".join(resolution_lines(build_summary(both_run(tmp_path))))
    assert all(
        "connections" not in row[0]
        for row in resolution_rows([build_summary(both_run(tmp_path / "b"))])
    )
