"""Load, the attack and who suffered, on hand-made load, attack and DNS records.

The ``ddos`` runs (:func:`ddos_run`): two sites, lon (1,000 packets/s) and
nyc (2 Mbit/s, 100-byte packets: 2,500 packets/s); paris on lon, newyork on
nyc, 200 legitimate packets/s offered to each site; two attack sources in AS
eu send 1,500 packets/s each from 10 s to 30 s, 3,000 to lon and 20 to nyc
(0.66% of the attack: below the 1% that makes a site attacked).  ``absorb``:
lon keeps announcing.  ``withdraw``: lon withdraws at 20 s; from 20.5 s the
attack and paris go to nyc, which overloads (a cascade).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Dict, Tuple

import pytest

from testbed.analysis import analyse_run, siteload
from testbed.analysis.load import load_run
from testbed.analysis.model import Summary
from testbed.analysis.plots import plot_load
from testbed.analysis.report import render_markdown
from testbed.analysis.summary import summarise
from testbed.scenario.expect import evaluate
from tests.unit.analysis.helpers import T0, RunBuilder

STEP = 0.25
SIZE = 100  # bytes per packet
CAPACITY = {
    "lon": {"bandwidth": None, "packets": 1000, "queue": 50},
    "nyc": {"bandwidth": 2.0, "packets": None, "queue": 50},
}
ATTACKERS = {
    "atk-eu-1": {"as": "eu", "address": "10.9.0.2", "access_router": "eu"},
    "atk-eu-2": {"as": "eu", "address": "10.9.0.3", "access_router": "eu"},
}


def offered(site: str, mid: float, withdraw: bool) -> Tuple[float, float]:
    """(legitimate, attack) packets/s offered to ``site`` in the sample around ``mid``."""
    moved = withdraw and mid >= 20.5
    on = 10 <= mid < 30
    if site == "lon":
        return (0.0 if moved else 200.0), (3000.0 if on and not moved else 0.0)
    return (400.0 if moved else 200.0), ((3020.0 if moved else 20.0) if on else 0.0)


def capacity_pps(site: str) -> float:
    cap = CAPACITY[site]
    return cap["packets"] or cap["bandwidth"] * 1e6 / 8 / SIZE


def add_load(b: RunBuilder, site: str, withdraw: bool) -> None:
    """Cumulative counters every 0.25 s from -2 s to 40 s, a blind policer or queue at capacity."""
    total: Dict[str, float] = {}
    drop_key = "policed_packets" if CAPACITY[site]["packets"] else "queue_drops"
    for k in range(0, 169):
        t = -2 + k * STEP
        if k:
            legit, attack = offered(site, t - STEP / 2, withdraw)
            rx = (legit + attack) * STEP
            passed = min(rx, capacity_pps(site) * STEP)
            share = legit / (legit + attack) if rx else 1.0
            add = {
                "rx_packets": rx,
                "rx_bytes": rx * SIZE,
                "legit_packets": passed * share,
                "attack_packets": passed * (1 - share),
                drop_key: rx - passed,
                "answered_legit": passed * share,
                "answered_attack": passed * (1 - share),
            }
            for key, value in add.items():
                total[key] = total.get(key, 0.0) + value
        b.load(site, t, **{key: round(value) for key, value in total.items()})


def add_dns(b: RunBuilder, withdraw: bool) -> None:
    """paris loses 3 queries in 5 during the attack; newyork half of them once nyc overloads."""
    for seq in range(420):
        t = round(-2 + seq / 10, 6)
        on = 10 <= t < 30
        site = "nyc" if withdraw and t >= 20.5 else "lon"
        if on and seq % 5 in (0, 1, 2):
            b.dns("paris", seq, t, "timeout")
        else:
            b.dns("paris", seq, t, "ok", site, rtt=0.05 if on else 0.004)
        hit = withdraw and 20.5 <= t < 30
        if hit and seq % 2 == 0:
            b.dns("newyork", seq, t, "timeout")
        else:
            b.dns("newyork", seq, t, "ok", "nyc", rtt=0.03 if hit else 0.002)


def add_attack(b: RunBuilder) -> None:
    for host in ATTACKERS:
        b.attack(host, 10.0, "start", **{"as": "eu"}, target="192.0.2.53", rate=1500,
                 ramp=0.0, size=SIZE, attack="dns", duration=600)  # fmt: skip
        for s in range(1, 21):
            b.attack(host, 10.0 + s, "sent", sent=1500 * s, errors=0)
        b.attack(host, 30.0, "stop", sent=30000, errors=0, reason="stopped")


def ddos_run(path: Path, withdraw: bool = False, events: bool = True) -> Path:
    b = RunBuilder(
        path,
        duration=40,
        scenario="ddos-withdraw" if withdraw else "ddos-absorb",
        topology="two-sites",
        clients=["newyork", "paris"],
        sites=["lon", "nyc"],
        load={
            "capacity": CAPACITY,
            "weights": {"paris": 3.0, "newyork": 1.0},
            "attackers": ATTACKERS,
        },  # fmt: skip
    )
    for site in ("lon", "nyc"):
        add_load(b, site, withdraw)
    add_dns(b, withdraw)
    add_attack(b)
    if events:
        b.event(10.0, "attack_start", None, {"ramp": 0.0})
        if withdraw:
            b.event(20.0, "withdraw", "lon")
        b.event(30.0, "attack_stop", None)
    elif withdraw:
        b.event(20.0, "withdraw", "lon")
    return b.write()


@pytest.fixture
def absorb(tmp_path) -> Summary:
    return summarise(load_run(ddos_run(tmp_path / "absorb")))


@pytest.fixture
def withdraw(tmp_path) -> Summary:
    return summarise(load_run(ddos_run(tmp_path / "withdraw", withdraw=True)))


# ------------------------------------------------------------------ samples
def record(t: float, **counters: int) -> Dict[str, float]:
    return {"t": t, **counters}


def test_rates_from_cumulative_counters_and_the_split_by_after_queue_shares():
    records = [
        record(0.0, rx_packets=100, rx_bytes=10_000, legit_packets=50, attack_packets=0),
        # 0.5 s: 2,000 offered (4,000/s), 500 passed: 100 legit, 400 attack; 1,500 policed
        record(
            0.5,
            rx_packets=2100,
            rx_bytes=210_000,
            legit_packets=150,
            attack_packets=400,
            policed_packets=1500,
            answered_legit=90,
            answered_attack=300,
        ),  # fmt: skip
    ]
    [s] = siteload.samples(records, siteload.Capacity(packets=1000))
    assert s.dt == 0.5 and s.rx_packets == 2000 and s.pps == 4000
    assert s.mbps == pytest.approx(3.2)  # 200,000 bytes in 0.5 s
    assert s.legit_share == pytest.approx(0.2)  # 100 of the 500 that passed
    assert s.offered_legit == pytest.approx(400) and s.offered_attack == pytest.approx(1600)
    assert s.dropped == 1500 and s.answered_legit == 90 and s.overloaded


def test_a_sample_where_nothing_passed_keeps_the_previous_shares():
    records = [
        record(0.0),
        record(1.0, rx_packets=100, legit_packets=10, attack_packets=90),
        record(2.0, rx_packets=200, legit_packets=10, attack_packets=90, queue_drops=100),
    ]
    first, second = siteload.samples(records)
    assert second.legit_packets == 0 and second.attack_packets == 0
    assert second.legit_share == first.legit_share == pytest.approx(0.1)
    assert second.offered_attack == pytest.approx(90)


def test_a_counter_that_went_down_counts_from_zero():
    records = [record(0.0, rx_packets=500), record(1.0, rx_packets=700), record(2.0, rx_packets=40)]
    assert [s.rx_packets for s in siteload.samples(records)] == [200, 40]


def test_overloaded_by_capacity_or_by_drops():
    cap = siteload.Capacity(bandwidth=1.0)  # 125,000 bytes/s
    assert siteload.is_overloaded(100, 130_000, 0, 1.0, cap)
    assert not siteload.is_overloaded(100, 120_000, 0, 1.0, cap)
    assert siteload.is_overloaded(1000, 0, 11, 1.0, None)  # 1.1% dropped, no capacity known
    assert not siteload.is_overloaded(1000, 0, 10, 1.0, None)  # exactly 1%
    assert not siteload.is_overloaded(500, 0, 0, 1.0, siteload.Capacity(packets=500))
    assert siteload.is_overloaded(501, 0, 0, 1.0, siteload.Capacity(packets=500))
    assert siteload.Capacity.of({"bandwidth": None, "packets": None}) is None


def test_peak_rate_adds_the_sources_where_they_overlap():
    attack = {
        "a": [{"t": 0.0, "kind": "start"}, {"t": 10.0, "kind": "sent", "sent": 1000}],
        "b": [{"t": 5.0, "kind": "start"}, {"t": 15.0, "kind": "sent", "sent": 2000}],
    }
    assert siteload.peak_rate(attack) == pytest.approx(300)
    assert siteload.peak_rate({}) is None


# -------------------------------------------------------------- the sites
def test_site_figures_of_an_absorbed_attack(absorb):
    load = absorb.load
    assert load is not None and set(load.sites) == {"lon", "nyc"}
    lon, nyc = load.sites["lon"], load.sites["nyc"]
    assert lon.capacity.packets == 1000 and lon.capacity.bandwidth is None
    assert nyc.capacity.bandwidth == 2.0
    assert lon.samples == 168
    assert lon.peak_pps == 3200 and nyc.peak_pps == 220
    assert lon.peak_mbps == pytest.approx(2.56)
    # 20 s of attack: 64,000 offered, 4,000 of them legitimate; plus 22 s of 200/s
    assert lon.offered == 64_000 + 4_400
    assert lon.offered_legit == pytest.approx(8_400, abs=40)
    assert lon.offered_attack == pytest.approx(60_000, abs=40)
    assert lon.attack_share == pytest.approx(60_000 / 68_400, abs=0.001)
    assert lon.mean_pps == pytest.approx(68_400 / 42, abs=0.1)
    assert lon.dropped == lon.policed == 44_000 and lon.queue_drops == 0
    assert lon.passed_attack == pytest.approx(18_750, abs=2)  # 1,000/s * 20 s * 3000/3200
    assert lon.drop_share == pytest.approx(44_000 / 68_400, abs=0.001)
    assert lon.overloaded_s == 20.0 and lon.first_overloaded == 10.0
    assert nyc.overloaded_s == 0.0 and nyc.first_overloaded is None and nyc.dropped == 0
    assert lon.attack_received == pytest.approx(3000 / 3020, abs=0.001)


def test_the_attack_its_window_rate_and_attacked_catchment(absorb):
    attack = absorb.load.attack
    assert attack.kind == "dns" and sorted(attack.sources) == ["atk-eu-1", "atk-eu-2"]
    src = attack.sources["atk-eu-1"]
    assert (src.as_, src.rate, src.sent, src.start, src.stop, src.reason) == (
        "eu", 1500, 30_000, 10.0, 30.0, "stopped",
    )  # fmt: skip
    assert attack.sent == 60_000 and attack.errors == 0
    assert (attack.start, attack.stop, attack.duration_s) == (10.0, 30.0, 20.0)
    assert attack.windows == [[10.0, 30.0]]
    assert attack.configured_pps == 3000 and attack.rate_pps == 3000 and attack.peak_pps == 3000
    assert attack.first_phase_end == 30.0  # no other event
    assert attack.shares["lon"] == pytest.approx(0.9934, abs=0.0005)
    assert attack.shares["nyc"] == pytest.approx(0.0066, abs=0.0005)  # below 1%
    assert attack.attacked == ["lon"]


def test_the_attack_window_from_the_records_without_attack_events(tmp_path):
    summary = summarise(load_run(ddos_run(tmp_path, events=False)))
    attack = summary.load.attack
    assert attack.windows == [[10.0, 30.0]] and attack.attacked == ["lon"]


def test_legitimate_loss_inside_and_outside(absorb):
    load = absorb.load
    paris, newyork = load.clients["paris"], load.clients["newyork"]
    assert (paris.site, paris.inside, paris.weight) == ("lon", True, 3.0)
    assert (newyork.site, newyork.inside) == ("nyc", False)
    assert (paris.before.sent, paris.before.lost, paris.before.loss_pct) == (120, 0, 0.0)
    assert (paris.during.sent, paris.during.lost, paris.during.loss_pct) == (200, 120, 60.0)
    assert paris.before.median_rtt_ms == 4.0 and paris.during.median_rtt_ms == 50.0
    assert newyork.during.loss_pct == 0.0 and newyork.during.median_rtt_ms == 2.0
    assert load.inside.clients == ["paris"] and load.inside.weight == 3.0
    assert load.inside.during.loss_pct == 60.0
    assert load.outside.clients == ["newyork"] and load.outside.during.loss_pct == 0.0


def test_no_cascade_when_the_site_absorbs(absorb):
    load = absorb.load
    assert load.cascade is False and load.cascades == []
    [phase] = load.phases
    assert (phase.after, phase.start, phase.stop, phase.event) == ("attack start", 10.0, 30.0, None)
    assert phase.overloaded == {"lon": 20.0}


def test_a_withdrawal_that_pushes_the_attack_onto_the_next_site_is_a_cascade(withdraw):
    load = withdraw.load
    assert load.attack.first_phase_end == 20.0 and load.attack.attacked == ["lon"]
    first, second = load.phases
    assert first.overloaded == {"lon": 10.0}
    assert (second.after, second.event, second.start, second.stop) == (
        "withdraw lon",
        1,
        20.0,
        30.0,
    )
    assert second.overloaded == {"lon": 0.5, "nyc": 9.5}
    [cascade] = load.cascades
    assert load.cascade is True
    assert (cascade.site, cascade.after, cascade.event, cascade.t) == (
        "nyc",
        "withdraw lon",
        1,
        20.0,
    )
    assert cascade.overloaded_at == 20.5 and cascade.overloaded_s == 9.5
    nyc = load.sites["nyc"]
    assert nyc.queue_drops > 0 and nyc.policed == 0 and nyc.peak_pps == 3420
    # newyork was outside the attacked catchment, and suffered once the attack came
    lost = sum(1 for seq in range(225, 320) if seq % 2 == 0)
    assert load.clients["newyork"].inside is False
    assert load.clients["newyork"].during.lost == lost
    assert load.outside.during.loss_pct == round(100 * lost / 200, 3)


def test_a_health_agent_withdrawal_cuts_a_phase_too(tmp_path):
    path = ddos_run(tmp_path, withdraw=True, events=False)
    # no events at all (the window comes from the attack records): lon's agent withdraws it
    (path / "records" / "events.jsonl").unlink()
    health = {"t": T0 + 20.0, "kind": "health", "site": "lon", "event": "state", "state": "down",
              "previous": "up", "action": "withdraw", "applied": ["withdraw"],
              "failures": ["dns: Timeout"], "reason": "checks", "error": None}  # fmt: skip
    (path / "records" / "health.jsonl").write_text(json.dumps(health) + "\n")
    load = summarise(load_run(path)).load
    assert load.attack.windows == [[10.0, 30.0]]
    assert [p.after for p in load.phases] == ["attack start", "health lon up -> down (withdraw)"]
    [cascade] = load.cascades
    assert cascade.site == "nyc" and cascade.event is None
    assert cascade.after == "health lon up -> down (withdraw)"


def test_a_run_without_load_or_attack_records_has_no_load_block(tmp_path):
    b = RunBuilder(tmp_path, duration=5.0, clients=["paris"], sites=["lon"])
    b.dns_series("paris", 0, 5, 5, "lon")
    summary = summarise(load_run(b.write()))
    assert summary.load is None


def test_load_records_without_an_attack(tmp_path):
    b = RunBuilder(tmp_path, duration=5.0, clients=["paris"], sites=["lon"])
    for k in range(5):
        b.load("lon", k, rx_packets=100 * k, rx_bytes=10_000 * k, legit_packets=100 * k)
    load = summarise(load_run(b.write())).load
    assert load.attack is None and load.cascade is None and load.clients == {}
    assert load.sites["lon"].peak_pps == 100 and load.sites["lon"].capacity is None
    assert load.sites["lon"].attack_share == 0.0 and load.sites["lon"].attack_received is None


def test_an_attack_without_load_records_has_no_attacked_catchment(tmp_path):
    b = RunBuilder(tmp_path, duration=40, clients=["paris"], sites=["lon"])
    b.dns_series("paris", 0, 40, 5, "lon")
    add_attack(b)
    load = summarise(load_run(b.write())).load
    assert load.sites == {} and load.attack.sent == 60_000 and load.attack.attacked == []
    assert load.cascade is None and load.clients["paris"].inside is False


# -------------------------------------------------------------- catchment
def test_catchment_shares_by_count_and_by_weight(withdraw):
    start, *after, end = withdraw.catchment
    assert start.when == "start" and end.when == "end"
    assert start.sites["lon"].clients == 1 and start.sites["lon"].share == 0.5
    assert start.sites["lon"].weight == 3.0 and start.sites["lon"].weight_share == 0.75
    assert start.sites["nyc"].weight_share == 0.25
    assert [m.when for m in after] == ["event 0", "event 1", "event 2"]
    assert after[1].t == 20.0 and after[1].event == 1
    assert set(after[1].sites) == {"nyc"} and after[1].sites["nyc"].weight_share == 1.0
    assert end.sites["nyc"].clients == 2 and end.unanswered == []


def test_catchment_default_weights_and_unanswered_clients(tmp_path):
    b = RunBuilder(tmp_path, duration=10.0, clients=["a", "b", "c", "d"], sites=["lon", "nyc"],
                   load={"weights": {"a": 2, "b": 0}})  # fmt: skip
    b.dns_series("a", 0, 10, 5, "lon")
    b.dns_series("b", 0, 10, 5, "lon")
    b.dns_series("c", 0, 10, 5, "nyc")
    b.dns("d", 0, 0.0, "timeout")  # never answered
    [start, _] = summarise(load_run(b.write())).catchment
    lon, nyc = start.sites["lon"], start.sites["nyc"]
    assert (lon.clients, lon.share, lon.weight, lon.weight_share) == (2, 0.5, 2, 0.5)
    assert (nyc.clients, nyc.share, nyc.weight, nyc.weight_share) == (1, 0.25, 1, 0.25)
    assert start.unanswered == ["d"] and start.unanswered_weight_share == 0.25  # d weighs 1


# ------------------------------------------------------------ expectations
def one(check, summary):
    [result] = evaluate([check], summary)
    return result


def test_legit_loss_inside_and_outside(absorb):
    r = one({"check": "legit_loss", "clients": "attacked", "min_percent": 20}, absorb)
    assert r == {
        "check": "legitimate DNS loss of attacked clients during the attack ≥ 20%",
        "passed": True,
        "detail": "min loss 60.00% (paris) ≥ 20% (attacked catchment: lon)",
    }
    r = one({"check": "legit_loss", "clients": "unattacked", "max_percent": 0.1}, absorb)
    assert (
        r["passed"] and r["detail"] == "max loss 0.00% (newyork) ≤ 0.1% (attacked catchment: lon)"
    )
    r = one({"check": "legit_loss", "clients": "all", "max_percent": 10}, absorb)
    assert not r["passed"] and r["detail"].startswith("max loss 60.00% (paris) > 10%")
    r = one({"check": "legit_loss", "clients": ["newyork"], "max_percent": 1, "min_percent": 0},
            absorb)  # fmt: skip
    assert r["passed"] and r["check"].endswith("≥ 0% and ≤ 1%")
    r = one({"check": "legit_loss", "clients": ["gotham"], "max_percent": 1}, absorb)
    assert not r["passed"] and r["detail"] == "not in the run: gotham"


def test_legit_loss_of_the_unattacked_fails_after_a_cascade(withdraw):
    r = one({"check": "legit_loss", "clients": "unattacked", "max_percent": 0.1}, withdraw)
    assert not r["passed"] and "(newyork) > 0.1%" in r["detail"]


def test_cascade_checks(absorb, withdraw):
    r = one({"check": "cascade", "happens": True}, withdraw)
    assert r["passed"] and r["check"] == "a cascade happens"
    assert r["detail"] == (
        "cascade: nyc overloaded at t=20.5 s after withdraw lon (t=20.0 s, 9.5 s)"
    )
    assert not one({"check": "cascade", "happens": False}, withdraw)["passed"]
    r = one({"check": "cascade", "happens": False}, absorb)
    assert r["passed"] and r["check"] == "no cascade"
    assert r["detail"] == (
        "no cascade: overloaded in the attack's first phase: lon; 0 later events during the attack"
    )


def test_attack_checks_fail_on_a_run_without_an_attack(tmp_path):
    b = RunBuilder(tmp_path, duration=5.0, clients=["paris"], sites=["lon"])
    b.dns_series("paris", 0, 5, 5, "lon")
    summary = summarise(load_run(b.write()))
    for check in (
        {"check": "legit_loss", "clients": "attacked", "max_percent": 1},
        {"check": "cascade", "happens": False},
    ):
        r = one(check, summary)
        assert r["passed"] is False
        assert r["detail"] == "the run had no attack (no attack_start event, no attack records)"


def test_attack_events_make_no_client_affected(absorb):
    r = one({"check": "max_outage", "clients": "affected", "below": 100}, absorb)
    assert r == {
        "check": "max DNS outage of affected clients < 100 s",
        "passed": False,
        "detail": "no affected clients",
    }


@pytest.mark.parametrize(
    "check, problem",
    [
        ({"check": "legit_loss", "clients": "attacked"}, "give max_percent, min_percent or both"),
        ({"check": "legit_loss", "clients": "moved", "max_percent": 1}, "must be one of attacked"),
        ({"check": "legit_loss", "clients": "all", "max_percent": 101}, "less than or equal"),
        ({"check": "legit_loss", "clients": "all", "max_percent": 1, "min_percent": 2},
         "min_percent (2) is above max_percent (1)"),
        ({"check": "cascade"}, "happens"),
    ],
)  # fmt: skip
def test_bad_attack_checks_are_refused(check, problem):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        evaluate([check], Summary())


# ------------------------------------------------------------ report, plot
def test_report_load_section(withdraw):
    text = render_markdown(withdraw)
    assert "## Load" in text and "## Catchment" in text
    assert "| lon | 1,000 packets/s | 3,200 | 2.56 |" in text
    assert "| nyc | 2 Mbit/s (queue 50 ms) | 3,420 |" in text
    assert (
        "Attack (dns): 2 sources in eu sent 60,000 packets from t=10.000 to 30.000 s (20 s): "
        "3,000 packets/s achieved on average, peak 3,000 (configured 3,000)."
    ) in text
    assert "In its first phase it landed on lon 99.3%, nyc 0.7%; attacked catchment: lon." in text
    assert "| inside | paris | 3 | 0.00% | 60.00% | 4.0 ms | 50.0 ms |" in text
    assert (
        "Cascade: nyc overloaded from t=20.500 s after withdraw lon (t=20.000 s), 9.5 s in all."
    ) in text
    assert "| withdraw lon | 20.000 | 30.000 | lon 0.5, nyc 9.5 |" in text
    assert "| start | lon | 1 | 50.0% | 3 | 75.0% |" in text
    assert "| paris | lon | yes | 3 | 0.00% | 60.00% | 4.0 ms | 50.0 ms |" in text


def test_report_without_a_cascade_says_why(absorb):
    text = render_markdown(absorb)
    assert "No cascade: no event during the attack." in text


def test_load_plot_is_written(tmp_path):
    run_dir = ddos_run(tmp_path / "run", withdraw=True)
    run = load_run(run_dir)
    path = plot_load(run, summarise(run), tmp_path / "load.png")
    assert path is not None and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 20_000


def test_analyse_writes_the_load_plot_and_links_it(tmp_path):
    run_dir = ddos_run(tmp_path, withdraw=True)
    summary = analyse_run(run_dir)
    assert (run_dir / "plots" / "load.png").is_file()
    report = (run_dir / "report.md").read_text()
    assert "(plots/load.png)" in report
    assert Summary.model_validate_json((run_dir / "summary.json").read_text()) == summary


def test_no_load_plot_without_load_records(tmp_path):
    b = RunBuilder(tmp_path / "run", duration=5.0, clients=["paris"], sites=["lon"])
    b.dns_series("paris", 0, 5, 5, "lon")
    run = load_run(b.write())
    assert plot_load(run, summarise(run), tmp_path / "load.png") is None
    assert not (tmp_path / "load.png").exists()


def test_the_figures_are_finite_and_written_back_unchanged(withdraw):
    text = withdraw.to_json()
    assert Summary.model_validate_json(text).to_json() == text
    assert all(math.isfinite(s.peak_pps) for s in withdraw.load.sites.values())


def test_terminal_lines(withdraw):
    from testbed.analysis.report import load_lines

    lines = load_lines(withdraw)
    assert lines[0] == (
        "load lon: peak 3,200 packets/s (1,000 packets/s), overloaded 10.5 s, "
        "dropped 23,100 (64.2%), attack 87.5% of its traffic"
    )
    assert any(line.startswith("Attack (dns): 2 sources in eu") for line in lines)
    assert (
        "legitimate DNS inside the attacked catchment (1 clients): loss 0.00% before, "
        "60.00% during; median RTT 4.0 ms before, 50.0 ms during"
    ) in lines
    assert lines[-1].startswith("Cascade: nyc overloaded")
    assert load_lines(Summary()) == []
    quiet = withdraw.model_copy(deep=True)
    quiet.load.attack = None
    for site in quiet.load.sites.values():
        site.capacity = None
    assert load_lines(quiet) == []  # a plain run: no load lines in the terminal


def test_an_attack_event_without_any_records_still_makes_an_attack(tmp_path):
    b = RunBuilder(tmp_path, duration=20, clients=["paris"], sites=["lon"])
    b.dns_series("paris", 0, 20, 5, "lon", lost=range(50, 60))  # 10 of 50 lost in 10-20 s
    b.event(10.0, "attack_start", None, {"ramp": 0.0})
    load = summarise(load_run(b.write())).load
    assert load.attack.sources == {} and load.attack.sent == 0 and load.attack.rate_pps is None
    assert load.attack.windows == [[10.0, 20.0]]
    assert load.clients["paris"].during.loss_pct == 20.0 and load.cascade is None


def test_answers_per_server(tmp_path):
    """``served`` counts each server's answers; the report lists them for multi-server sites."""
    b = RunBuilder(tmp_path / "run", clients=["paris"])
    for k, (one, two) in enumerate(((0, 0), (100, 90), (250, 240))):
        b.load("lon", k * 0.25, rx_packets=400 * k, served={"lon-1": one, "lon-2": two})
    run = load_run(b.write())
    series = siteload.site_samples(run)["lon"]
    assert [s.served for s in series] == [
        {"lon-1": 100, "lon-2": 90},
        {"lon-1": 150, "lon-2": 150},
    ]
    site = siteload.site_load(series, None, T0)
    assert site.served == {"lon-1": 250, "lon-2": 240}
