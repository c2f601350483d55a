"""Shipped scenarios end to end through the CLI, with real FRR, NSD and probes.

Each scenario runs once (timeline shortened with --set), and the tests check
that its summary tells what really happens in each kind of failure:
link-down moves exactly the failed site's clients; their TCP streams are
reset while DNS recovers by itself; a silent failure lasts about the hold
time; a blackhole never recovers while the route stays; prepending moves
clients with their TCP streams reset but almost no DNS loss.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Sequence

import pytest

from tests.integration.helpers import cli, run_scenario

#: Shorter timelines than the shipped 60 s (the events keep their order): 5 s of
#: baseline, 6 s for a failure (a hold time of 3 s and convergence) and for the restore.
SHORT = ["settle=3", "duration=17", "timeline.0.at=5", "timeline.1.at=11"]
#: flap's six events 7 s apart instead of 8 (a failover or a restore takes under 3 s).
FLAP = ["settle=3", "duration=45", *(f"timeline.{i}.at={5 + 7 * i}" for i in range(6))]
KEEPALIVE, HOLD = 1, 3

_runs: Dict[str, dict] = {}


def run(tmp_path_factory, scenario: str, *sets: str, flags: Sequence[str] = ()) -> dict:
    """Run a scenario once per session; return its summary plus meta (key ``_meta``)."""
    key = " ".join((scenario, *sets, *flags))
    if key not in _runs:
        out = tmp_path_factory.mktemp(scenario)
        done = run_scenario(scenario, out, *sets, flags=flags, check=False)
        summary = done.summary
        summary["_meta"] = json.loads((done.folder / "meta.json").read_text())
        summary["_exit"] = done.returncode
        summary["_dir"] = done.folder
        summary["_out"] = done.stdout + done.stderr
        _runs[key] = summary
    return _runs[key]


def clients_of(summary: dict, site: str) -> List[str]:
    """The clients a site served when the timeline started (from the FIB)."""
    return sorted(c for c, s in summary["_meta"]["catchment_at_start"].items() if s == site)


def failed_site(summary: dict) -> str:
    return summary["events"][0]["target"]


def test_site_failure_moves_exactly_the_failed_sites_clients(tmp_path_factory):
    s = run(tmp_path_factory, "site-failure", *SHORT)
    assert s["_exit"] == 0, s["_out"]
    site = failed_site(s)
    assert site == "tyo"  # the busiest site of world: tokyo, singapore, sydney
    victims = clients_of(s, site)
    assert victims == ["singapore", "sydney", "tokyo"]
    assert s["events"][0]["moved"] == victims
    assert s["events"][1]["moved"] == victims  # restore brings them back
    for name, client in s["clients"].items():
        streams = client["tcp"]["streams"]
        assert streams == 2, (name, client["tcp"])
        if name in victims:
            # the new site's kernel resets every bidirectional stream ...
            assert client["tcp"]["reset"] == streams, (name, client["tcp"])
            # ... while DNS recovers by itself, within a few probe intervals
            assert client["dns"]["outages"], name
            assert all(w["recovered"] for w in client["dns"]["outages"]), client["dns"]
            assert client["dns"]["max_outage_s"] < 2.0, client["dns"]
            assert client["site_after"] == site
        else:
            assert client["dns"]["lost"] == 0, (name, client["dns"])
            assert client["tcp"]["survived"] == streams, (name, client["tcp"])
            assert client["site_before"] == client["site_after"]
    report = (s["_dir"] / "report.md").read_text()
    assert "fail_site" in report and "tokyo" in report
    for plot in ("timeline", "tcp", "routes", "catchment"):
        assert (s["_dir"] / "plots" / f"{plot}.png").stat().st_size > 10_000


def test_silent_failure_lasts_about_the_hold_time(tmp_path_factory):
    s = run(tmp_path_factory, "silent-failure", *SHORT)
    victims = clients_of(s, failed_site(s))
    assert s["events"][0]["moved"] == victims
    interval = 1 / s["_meta"]["traffic"]["dns_rate"]
    dns_timeout = s["_meta"]["traffic"]["dns_timeout"]
    for name in victims:
        outage = s["clients"][name]["dns"]["max_outage_s"]
        # the upstream notices after hold - keepalive .. hold; then BGP converges
        low, high = HOLD - KEEPALIVE - interval, HOLD + 2 * interval + dns_timeout
        assert low <= outage <= high, (name, outage, (low, high))


def test_blackhole_clients_never_recover_while_the_route_stays(tmp_path_factory):
    s = run(tmp_path_factory, "blackhole", *SHORT)
    site = failed_site(s)
    victims = clients_of(s, site)
    assert s["events"][0]["moved"] == []  # nobody moves: the route stays
    t_fail, t_restore = s["events"][0]["t"], s["events"][1]["t"]
    for name, client in s["clients"].items():
        windows = client["dns"]["outages"]
        if name in victims:
            # one outage from the kill to the restore: no answer in between
            (window,) = [w for w in windows if w["lost"] > 5]
            assert window["start"] <= t_fail + 0.1 and window["end"] >= t_restore, window
            assert client["site_before"] == client["site_after"] == site
        else:
            assert client["dns"]["lost"] == 0, (name, client["dns"])


def test_te_shift_resets_exactly_the_moved_clients_tcp(tmp_path_factory):
    s = run(tmp_path_factory, "te-shift", *SHORT)
    moved = s["events"][0]["moved"]
    assert set(moved) == {"paris", "frankfurt"}, moved  # lon's clients
    for name, client in s["clients"].items():
        if name in moved:
            assert client["tcp"]["reset"] == client["tcp"]["streams"], client["tcp"]
            assert client["dns"]["lost"] <= 2 * 2, client["dns"]  # a probe or two per shift
        else:
            assert client["tcp"]["reset"] == 0, (name, client["tcp"])


def test_maintenance_withdraw_is_graceful(tmp_path_factory):
    s = run(tmp_path_factory, "maintenance", *SHORT)
    victims = clients_of(s, failed_site(s))
    assert s["events"][0]["moved"] == victims
    for name in victims:
        assert s["clients"][name]["dns"]["max_outage_s"] < 1.0, s["clients"][name]["dns"]
    assert s["events"][0]["convergence_s"] < 3.0


def test_bad_scenario_input_exits_2_and_starts_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\nduration: 10\ntimeline:\n  - {at: 1, event: fail_site, site: lon, how: crash}\n"
    )
    done = cli("run", str(bad), "--out", str(tmp_path / "runs"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "timeline[0].how" in lines[0] and "bad.yaml" in lines[0], lines
    assert not (tmp_path / "runs").exists()
    done = cli("run", "site-failure", "--set", "timeline.0.site=mars")
    assert done.returncode == 2 and "mars" in done.stderr, done.stderr


def test_report_rerenders_from_records_alone(tmp_path_factory):
    s = run(tmp_path_factory, "site-failure", *SHORT)
    folder: Path = s["_dir"]
    (folder / "report.md").unlink()
    (folder / "summary.json").rename(folder / "summary.old.json")
    done = cli("report", str(folder))
    # the expectations are evaluated again from the records (RUN/scenario.yaml), not copied
    assert done.returncode == s["_exit"], done.stdout + done.stderr
    again = json.loads((folder / "summary.json").read_text())
    assert again["events"][0]["moved"] == s["events"][0]["moved"]
    verdicts = [(e["check"], e["passed"]) for e in s["expect"]]
    assert [(e["check"], e["passed"]) for e in again["expect"]] == verdicts
    assert len(verdicts) == 3  # site-failure's three checks
    assert (folder / "report.md").exists()


@pytest.mark.parametrize("scenario", ["two-sites-failover"])
def test_shipped_scenario_meets_its_expectations(tmp_path_factory, scenario):
    s = run(tmp_path_factory, scenario, *SHORT, flags=["--pcap"])
    failed = [e for e in s["expect"] if not e["passed"]]
    assert s["_exit"] == 0 and not failed, failed


def test_flap_resets_the_moved_clients_streams_on_every_failover(tmp_path_factory):
    s = run(tmp_path_factory, "flap", *FLAP)
    failed = [e for e in s["expect"] if not e["passed"]]
    assert s["_exit"] == 0 and not failed, failed
    victims = clients_of(s, failed_site(s))
    assert victims == ["singapore", "sydney", "tokyo"]
    for name in victims:
        tcp = s["clients"][name]["tcp"]
        # three failovers and three restores: every stream is reset each time it moves
        assert tcp["reset"] == tcp["streams"] == 2, (name, tcp)
        assert tcp["reset_events"] >= 3 * tcp["streams"], (name, tcp)
    for event in s["events"]:
        assert event["moved"] == victims, event


def test_healthcheck_withdraw_moves_lons_clients_and_only_them(tmp_path_factory):
    s = run(tmp_path_factory, "healthcheck-modes")
    failed = [e for e in s["expect"] if not e["passed"]]
    assert s["_exit"] == 0 and not failed, failed
    lon_down = ("lon", "state", "down")
    downs = [h for h in s["health"] if (h["site"], h["event"], h.get("state")) == lon_down]
    assert downs and downs[0]["action"] == "withdraw", s["health"]
    assert sorted(downs[0]["moved"]) == ["frankfurt", "paris"], downs[0]
    for name in ("paris", "frankfurt"):
        outage = s["clients"][name]["dns"]["max_outage_s"]
        assert outage < 6.0, (name, outage)  # fall x interval + convergence, not the whole run


def test_pcap_shows_which_site_sent_the_resets(tmp_path_factory):
    """east fails: west resets ca's streams; east restored: east resets them again."""
    s = run(tmp_path_factory, "two-sites-failover", *SHORT, flags=["--pcap"])
    caps = {c["node"]: c for c in s["pcap"]}
    assert set(caps) == {"east", "west"}, s["pcap"]
    assert all((s["_dir"] / "pcap" / c["file"]).stat().st_size > 0 for c in caps.values())
    streams = s["clients"]["ca"]["tcp"]["streams"]
    fail_t, restore_t = (e["t"] for e in s["events"])
    west, east = caps["west"], caps["east"]
    assert west["to"] == {"ca": streams} and fail_t < west["first_s"] < restore_t, west
    assert east["to"] == {"ca": streams} and east["first_s"] > restore_t, east
    report = (s["_dir"] / "report.md").read_text()
    assert f"| `{west['file']}` | west | {streams} | ca {streams} |" in report


def test_python_rolling_maintenance_on_two_sites(tmp_path_factory):
    """The Python scenario, generated for two-sites: each site withdraws in turn."""
    s = run(tmp_path_factory, "rolling-maintenance", flags=["--topology", "two-sites"])
    assert s["_exit"] == 0, [e for e in s["expect"] if not e["passed"]]
    kinds = [(e["kind"], e["target"]) for e in s["events"]]
    assert kinds == [
        ("withdraw", "east"),
        ("restore", "east"),
        ("withdraw", "west"),
        ("restore", "west"),
    ]
    start = s["_meta"]["catchment_at_start"]
    for i, site in ((0, "east"), (2, "west")):
        served = sorted(c for c, home in start.items() if home == site)
        assert s["events"][i]["moved"] == served, s["events"][i]
    for name, client in s["clients"].items():
        assert client["dns"]["max_outage_s"] < 1.0, (name, client["dns"])
        assert client["tcp"]["reset"] >= 1, (name, client["tcp"])
