"""Anycast versus GSLB from hand-made ``resolve`` records: totals, steady state, failovers,
the report's section and the plot (no root)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Tuple

import pytest

from testbed.analysis import analyse_run, build_summary
from testbed.analysis.model import EventSummary, Summary
from testbed.analysis.plots import plot_resolution
from testbed.analysis.report import PLOTS, comparison_rows, render_markdown
from testbed.analysis.resolution import summarise_methods
from tests.unit.analysis.helpers import T0, RunBuilder, fixed_run

ANYCAST = "192.0.2.53"
ADDR = {"lon": "100.66.1.53", "nyc": "100.66.2.53", "tyo": "100.66.3.53"}
RTT = {"resolve_rtt": 0.0005, "rtt": 0.001}
INTERVAL = 0.2
#: One tick's plan: (status, site, address) at its send time.
Plan = Callable[[float], Tuple[str, Optional[str], Optional[str]]]

RESOLVERS = {
    "paris": {"resolver": "res-isp1", "min_ttl": 0, "max_ttl": 86400, "serve_stale": False,
              "prefetch": False, "ecs": False, "violating": False},
    "berlin": {"resolver": "res-isp2", "min_ttl": 60, "max_ttl": 86400, "serve_stale": False,
               "prefetch": False, "ecs": False, "violating": True},
    "tokyo": {"resolver": "res-isp3", "min_ttl": 0, "max_ttl": 86400, "serve_stale": False,
              "prefetch": False, "ecs": True, "violating": False},
}  # fmt: skip
NEAREST = {"paris": "lon", "berlin": "lon", "tokyo": "tyo"}


def ticks(b: RunBuilder, client: str, method: str, duration: float, plan: Plan) -> None:
    """A tick every 0.2 s from 0 to ``duration``, each as ``plan`` says."""
    b._add(f"resolve-{client}", {"type": "start", "t": b.t0 - 3.0, "kind": "resolve",
                                 "client": client, "resolver_addr": "10.1.3.2",
                                 "methods": {"anycast": "svc.anycast.test",
                                             "gslb": "svc.gslb.test"},
                                 "interval": INTERVAL})  # fmt: skip
    for k in range(round(duration / INTERVAL)):
        t = round(k * INTERVAL, 6)
        status, site, addr = plan(t)
        fields = {}
        if status == "resolve_failed":
            fields["error"] = "SERVFAIL"
        else:
            fields.update(addr=addr, ttl=5)
        if status == "ok":
            fields.update(site=site, **RTT)
        b.resolve(client, method, k, t, status, **fields)


def anycast_moves(at: float, failed: str = "lon", to: str = "nyc") -> Plan:
    """Answered by ``failed`` before 10 s, nothing until ``at``, then by ``to``."""

    def plan(t: float):
        if t < 10:
            return "ok", failed, ANYCAST
        return ("timeout", None, ANYCAST) if t < at else ("ok", to, ANYCAST)

    return plan


def gslb_stuck(until: float) -> Plan:
    """Given lon's address (dead from 10 s) until ``until``, then nyc's."""

    def plan(t: float):
        if t < 10:
            return "ok", "lon", ADDR["lon"]
        if t < until:
            return "timeout", None, ADDR["lon"]
        return "ok", "nyc", ADDR["nyc"]

    return plan


def steady(site: str, addr: str, failed_at: Optional[float] = None) -> Plan:
    def plan(t: float):
        if failed_at is not None and abs(t - failed_at) < 1e-6:
            return "resolve_failed", None, None
        return "ok", site, addr

    return plan


def both_run(path: Path, duration: float = 80.0, event: str = "fail_site", target="lon") -> Path:
    """paris and berlin on lon, tokyo on nyc (anycast) / tyo (gslb); lon fails at 10 s.

    anycast: paris fails over in 0.4 s, berlin in 0.6 s; gslb: paris is stuck on
    lon's cached address until its TTL (5 s) runs out, berlin (behind a
    TTL-violating resolver) for about 60 s.
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
    ticks(b, "tokyo", "anycast", duration, steady("nyc", ANYCAST, failed_at=50.0))
    ticks(b, "paris", "gslb", duration, gslb_stuck(15.0))
    ticks(b, "berlin", "gslb", duration, gslb_stuck(70.2))
    ticks(b, "tokyo", "gslb", duration, steady("tyo", ADDR["tyo"]))
    b.event(10.0, event, target, {"how": "link-down"} if event == "fail_site" else None)
    return b.write()


def test_totals_and_the_steady_state(tmp_path):
    r = build_summary(both_run(tmp_path)).resolution
    assert r is not None and list(r.methods) == ["anycast", "gslb"]
    assert (r.publish, r.ttl, r.health_interval) == ("both", 5, 1)
    assert r.resolvers["berlin"].violating and r.resolvers["berlin"].min_ttl == 60
    a, g = r.methods["anycast"], r.methods["gslb"]
    assert a.name == "svc.anycast.test" and a.clients == ["berlin", "paris", "tokyo"]
    assert (a.queries, a.answered, a.lost, a.resolve_failed) == (1200, 1194, 6, 1)
    assert (g.queries, g.lost, g.resolve_failed) == (1200, 25 + 301, 0)
    # before the first event: anycast sends tokyo to nyc, not its nearest tyo
    assert (a.steady.start, a.steady.stop) == (0.0, 10.0)
    assert a.steady.clients["tokyo"].site == "nyc" and a.steady.clients["tokyo"].nearest == "tyo"
    assert a.steady.nearest_share == pytest.approx(0.6667)
    assert a.steady.sites == {"lon": 2, "nyc": 1}
    assert g.steady.nearest_share == 1.0 and g.steady.sites == {"lon": 2, "tyo": 1}
    assert g.steady.resolvers == 3 and g.steady.split_resolvers == []


def test_anycast_fails_over_in_a_fraction_of_a_second(tmp_path):
    a = build_summary(both_run(tmp_path)).resolution.methods["anycast"]
    [f] = a.failovers
    assert (f.event, f.t, f.kind, f.site, f.window_s) == (0, 10.0, "fail_site", "lon", 70.0)
    assert sorted(f.affected) == ["berlin", "paris"]  # tokyo was on nyc
    assert f.affected["paris"].failover_s == pytest.approx(0.4015, abs=0.001)
    assert f.affected["paris"].site_to == "nyc" and f.affected["paris"].lost == 2
    assert f.affected["berlin"].failover_s == pytest.approx(0.6015, abs=0.001)
    assert f.failover_median_s == pytest.approx(0.5015, abs=0.001)
    assert f.failover_worst_s == pytest.approx(0.6015, abs=0.001)
    assert (f.clients, f.recovered, f.lost) == (2, 2, 5)
    assert (f.failing_1s, f.failing_10s, f.failing_60s) == (0.0, 0.0, 0.0)
    assert (f.dead_address_1s, f.dead_address_10s, f.dead_address_60s) == (None, None, None)
    assert f.affected["paris"].dead_address_s is None
    # exact, not sampled: a point where each client's state changed, and the window's end
    assert f.series == [[0.0, 1.0], [0.4, 0.5], [0.6, 0.0], [70.0, 0.0]]
    assert a.failover is not None and a.failover.clients == 2


def test_gslb_waits_for_the_ttl_and_a_violating_resolver_for_a_minute(tmp_path):
    g = build_summary(both_run(tmp_path)).resolution.methods["gslb"]
    [f] = g.failovers
    paris, berlin = f.affected["paris"], f.affected["berlin"]
    assert paris.failover_s == pytest.approx(5.0015, abs=0.001) and paris.lost == 25
    assert paris.dead_address_s == pytest.approx(4.8) and not paris.violating
    assert berlin.failover_s == pytest.approx(60.2015, abs=0.001) and berlin.lost == 301
    assert berlin.violating and berlin.resolver == "res-isp2"
    assert berlin.dead_address_s == pytest.approx(60.0)
    assert f.violating == ["berlin"]
    assert f.failover_median_s == pytest.approx(32.6015, abs=0.001)
    assert f.failover_worst_s == pytest.approx(60.2015, abs=0.001)
    assert (f.failing_1s, f.failing_10s, f.failing_60s) == (1.0, 0.5, 0.5)
    assert (f.dead_address_1s, f.dead_address_10s, f.dead_address_60s) == (2, 1, 1)
    assert f.series == [[0.0, 1.0], [5.0, 0.5], [60.2, 0.0], [70.0, 0.0]]


def test_a_window_shorter_than_60_s_and_a_client_that_never_recovers(tmp_path):
    r = build_summary(both_run(tmp_path, duration=40.0)).resolution
    [f] = r.methods["gslb"].failovers
    assert f.window_s == 30.0
    assert (f.failing_1s, f.failing_10s, f.failing_60s) == (1.0, 0.5, None)
    assert (f.dead_address_1s, f.dead_address_10s, f.dead_address_60s) == (2, 1, None)
    berlin = f.affected["berlin"]
    assert berlin.failover_s is None and berlin.site_to is None  # stuck to the end
    assert (f.clients, f.recovered) == (2, 1)
    assert f.failover_worst_s is None  # one never recovered
    assert f.failover_median_s is None  # of two, the median falls on the one that never did
    [a] = r.methods["anycast"].failovers
    assert a.failing_60s is None and a.failing_10s == 0.0
    text = render_markdown(build_summary(both_run(tmp_path / "again", duration=40.0)))
    assert "never (1 of 2) / never (1 of 2)" in text
    assert "Never answered by another site in the window: gslb berlin (fail_site lon)." in text


def test_nobody_affected(tmp_path):
    r = build_summary(both_run(tmp_path, target="gru")).resolution
    for m in r.methods.values():
        assert m.failovers == [] and m.failover is None
    text = render_markdown(build_summary(both_run(tmp_path / "again", target="gru")))
    assert "No event took a site out from any client." in text
    assert "| failover speed (median / worst s) | no client affected | no client affected |" in text


def test_a_withdrawal_leaves_gslb_clients_on_the_site(tmp_path):
    b = RunBuilder(tmp_path, duration=30.0, clients=["paris"], sites=["lon", "nyc"],
                   service={"publish": "both", "addresses": ADDR},
                   resolvers={"paris": {"resolver": "res1"},
                              "tokyo": {"resolver": "res9", "violating": True}})  # fmt: skip
    ticks(b, "paris", "anycast", 30.0, anycast_moves(10.4))
    ticks(b, "paris", "gslb", 30.0, steady("lon", ADDR["lon"]))  # its unicast prefix stays
    b.event(10.0, "withdraw", "lon")
    r = build_summary(b.write()).resolution
    assert sorted(r.methods["anycast"].failovers[0].affected) == ["paris"]
    g = r.methods["gslb"].failovers[0]
    assert g.affected == {} and g.clients == 0 and g.series == []
    assert g.failover_median_s is None and g.failing_1s is None and g.dead_address_1s is None
    summary = build_summary(b.write())
    text = render_markdown(summary)
    row = "| withdraw lon (t=10.000 s) | gslb | none | - | no client affected | - | 0 | - |"
    assert row in text
    assert "No affected client sits behind a TTL-violating resolver (res9)." in text


def test_summarise_methods_on_plain_records():
    def rec(t, method, status, site=None, addr=ANYCAST):
        r = {"t": T0 + t, "kind": "resolve", "client": "ca", "method": method, "seq": 0,
             "status": status, "addr": addr}  # fmt: skip
        return {**r, "site": site, "rtt": 0.001} if site else r

    records = {
        "ca": [{"type": "start", "t": T0, "kind": "resolve", "client": "ca",
                "resolver": "res1", "methods": {"anycast": "svc.anycast.test"}},  # fmt: skip
               *[rec(0.2 * k, "anycast", "ok", "east") for k in range(10)],
               rec(2.0, "anycast", "timeout"), rec(2.2, "anycast", "ok", "west")],
        "cb": [rec(0.2 * k, "anycast", "ok", "west") for k in range(12)],
    }  # fmt: skip
    events = [EventSummary(t=2.0, kind="fail_site", target="east")]
    r = summarise_methods(records, events, {"nearest_site": {"ca": "east"}}, T0, T0 + 3.0)
    m = r.methods["anycast"]
    assert r.resolvers["ca"].resolver == "res1" and r.publish is None
    assert m.steady.nearest_share == 1.0  # cb has no known nearest site: not judged
    [f] = m.failovers
    assert list(f.affected) == ["ca"] and f.affected["ca"].failover_s == pytest.approx(0.201)
    assert f.failing_1s == 0.0 and f.failing_10s is None
    assert summarise_methods({}, events, {}, T0, T0 + 3.0) is None
    assert summarise_methods({"ca": []}, events, {}, T0, T0 + 3.0) is None


def test_resolvers_split_across_sites_under_anycast(tmp_path):
    shared = {"resolver": "res1", "violating": False}
    b = RunBuilder(tmp_path, duration=5.0, resolvers={"ca": shared, "cb": shared})
    ticks(b, "ca", "anycast", 5.0, steady("east", ANYCAST))
    ticks(b, "cb", "anycast", 5.0, steady("west", ANYCAST))
    ticks(b, "ca", "gslb", 5.0, steady("east", "100.66.1.53"))
    ticks(b, "cb", "gslb", 5.0, steady("east", "100.66.1.53"))
    r = build_summary(b.write()).resolution
    assert r.methods["anycast"].steady.split_resolvers == ["res1"]
    assert r.methods["gslb"].steady.split_resolvers == []
    assert r.methods["anycast"].steady.stop == 5.0  # no events: to the end


def test_the_report_compares_the_methods(tmp_path):
    summary = build_summary(both_run(tmp_path))
    text = render_markdown(summary)
    assert "## Anycast versus GSLB" in text
    assert "| figure | anycast | gslb | what the primers say |" in text
    rows = {row[0]: row[1:] for row in comparison_rows(summary.resolution)}
    assert rows["clients still failing after 1 / 10 / 60 s"][:2] == [
        "0.0% / 0.0% / 0.0%",
        "100.0% / 50.0% / 50.0%",
    ]
    assert rows["steady-state accuracy (share served by the nearest site)"][:2] == [
        "66.7% (2 of 3 clients)",
        "100.0% (3 of 3 clients)",
    ]
    assert rows["failover speed (median / worst s)"][1].endswith("/ 60.201")
    assert "BGP convergence" in rows["failover speed (median / worst s)"][2]
    assert rows["granularity"][1].startswith("per resolver: 3 resolvers")
    assert rows["client visibility"][1] == "the resolver's address; ECS from 1 of 3 resolvers"
    assert "| fail_site lon (how=link-down) (t=10.000 s) | gslb | berlin, paris | 2 of 2 |" in text
    assert "| 2 / 1 / 1 | 70.000 |" in text  # given the dead address, the window
    assert "Clients behind TTL-violating resolvers" in text
    tail = "| fail_site lon (t=10.000 s) | gslb | berlin | res-isp2 | 60 | 60.201 | 60.000 |"
    assert tail in text
    assert "- gslb, fail_site lon: behind TTL-violating resolvers 1 of 1 failed over" in text


def test_no_section_without_resolve_records(tmp_path):
    summary = build_summary(fixed_run(tmp_path))
    assert summary.resolution is None
    assert "Anycast versus GSLB" not in render_markdown(summary)
    assert Summary.model_validate(summary.to_dict()).resolution is None


def test_the_summary_round_trips(tmp_path):
    summary = build_summary(both_run(tmp_path))
    again = Summary.model_validate_json(summary.to_json())
    assert again.resolution == summary.resolution
    assert again.to_json() == summary.to_json()


def test_the_plot_is_written_and_listed(tmp_path):
    run = both_run(tmp_path / "run")
    summary = analyse_run(run)
    png = run / "plots" / "resolution.png"
    assert png.is_file() and png.stat().st_size > 1000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "(plots/resolution.png)" in (run / "report.md").read_text()
    assert "resolution.png" in dict(PLOTS)
    # nobody affected: a panel that says so; no resolve records: no plot
    quiet = build_summary(both_run(tmp_path / "quiet", target="gru"))
    out = plot_resolution(None, quiet, tmp_path / "quiet.png")  # type: ignore[arg-type]
    assert out is not None and out.stat().st_size > 0
    plain = build_summary(fixed_run(tmp_path / "f"))
    assert plot_resolution(None, plain, tmp_path / "x.png") is None  # type: ignore[arg-type]
    assert summary.resolution is not None


def test_the_terminal_gives_a_line_per_method(tmp_path):
    import io

    from rich.console import Console

    from testbed.analysis.report import print_report, resolution_lines

    summary = build_summary(both_run(tmp_path))
    assert resolution_lines(summary) == [
        "name resolution: publish: both, TTL 5 s, health checks every 1 s",
        "anycast: 2 clients affected, failover median 0.501 s, worst 0.601 s; still failing "
        "0.0% / 0.0% / 0.0% after 1 / 10 / 60 s; nearest site 66.7% (2 of 3 clients)",
        "gslb: 2 clients affected, failover median 32.601 s, worst 60.201 s; still failing "
        "100.0% / 50.0% / 50.0% after 1 / 10 / 60 s; nearest site 100.0% (3 of 3 clients)",
    ]
    out = io.StringIO()
    print_report(summary, Console(file=out, width=300, color_system=None))
    assert "gslb: 2 clients affected, failover median 32.601 s" in out.getvalue()
    short = build_summary(both_run(tmp_path / "short", duration=40.0))
    assert resolution_lines(short)[2].startswith(
        "gslb: 2 clients affected, failover median never (1 of 2), worst never (1 of 2); "
        "still failing 100.0% / 50.0% / - after"
    )
    quiet = build_summary(both_run(tmp_path / "quiet", target="gru"))
    assert resolution_lines(quiet)[1] == (
        "anycast: no client affected by a site failure; nearest site 66.7% (2 of 3 clients)"
    )
    plain = build_summary(fixed_run(tmp_path / "plain"))
    assert resolution_lines(plain) == []
    out = io.StringIO()
    print_report(plain, Console(file=out, width=300, color_system=None))
    assert "name resolution" not in out.getvalue()
