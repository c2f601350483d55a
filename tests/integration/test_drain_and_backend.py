"""graceful-drain and all-sites-withdraw end to end (real FRR, NSD, ExaBGP, probes; root).

- GRACEFUL_SHUTDOWN (``set_communities [graceful-shutdown]``) moves lon's
  clients away before the withdrawal, with no DNS loss; the withdrawal then
  moves nobody; a prepend moves nobody on world-policy (customer routes win);
  the same through ExaBGP; refused for Ryu before anything starts.
- a shared backend's death withdraws every site; ``min_sites`` keeps one.
"""

from __future__ import annotations

from typing import Any, Dict, List

from testbed.analysis.report import drains
from tests.integration.helpers import cli
from tests.integration.test_scenarios import run


def states(summary: Dict[str, Any], state: str) -> List[Dict[str, Any]]:
    return [h for h in summary["health"] if h["event"] == "state" and h["state"] == state
            and not h.get("shutdown")]  # fmt: skip


#: graceful-drain's timeline, compressed (80 s -> 25 s): the same events, 2-3 s apart.
SHORT_DRAIN = (
    "settle=3",
    *(f"timeline.{i}.at={at}" for i, at in enumerate((3, 6, 9, 11, 14, 17, 19, 22))),
    "duration=25",
)
#: all-sites-withdraw's, compressed (60 s -> 14 s): the backend down at 3 s, up at 10 s.
SHORT_BACKEND = ("settle=3", "timeline.0.at=3", "timeline.1.at=10", "duration=14")
#: lon drained through ExaBGP: GRACEFUL_SHUTDOWN at 2 s, the withdrawal at 5 s.
EXABGP_DRAIN = (
    "speaker=exabgp",
    "settle=3",
    "timeline=[{at: 2, event: set_communities, site: lon, communities: [graceful-shutdown]},"
    " {at: 5, event: withdraw, site: lon}]",
    "expect=[]",
    "duration=8",
)


def test_graceful_drain_meets_its_expectations(tmp_path_factory):
    s = run(tmp_path_factory, "graceful-drain", *SHORT_DRAIN)
    failed = [e for e in s["expect"] if not e["passed"]]
    assert s["_exit"] == 0 and not failed, (failed, s["_out"][-2000:])
    events = s["events"]
    assert events[2]["moved"] == []  # prepend tyo: asia keeps its customer route
    assert {"paris", "frankfurt"} <= set(events[5]["moved"])  # graceful-shutdown
    assert events[6]["moved"] == []  # the withdrawal after it moves nobody
    rows = {row[0]: row for row in drains(s)}
    assert rows["lon"][1] == "communities graceful-shutdown → withdraw"
    assert rows["lon"][3] == "0", rows  # no DNS query lost
    assert float(rows["tyo"][6]) >= 2.0  # the prepend drained nothing: withdraw 2 s later
    assert (s["_dir"] / "report.md").read_text().count("## Drains") == 1


def test_graceful_drain_through_exabgp(tmp_path_factory):
    s = run(tmp_path_factory, "graceful-drain", *EXABGP_DRAIN)
    assert s["_exit"] == 0, s["_out"][-2000:]
    first, second = s["events"]
    assert {"paris", "frankfurt"} <= set(first["moved"])  # moved by the community alone
    assert second["moved"] == []
    for client in ("paris", "frankfurt"):
        assert s["clients"][client]["dns"]["lost"] == 0, s["clients"][client]["dns"]
    records = (s["_dir"] / "records" / "speaker-lon.jsonl").read_text()
    assert '"communities": ["65535:0"]' in records and '"event": "error"' not in records


def test_set_communities_on_ryu_is_refused_before_anything_starts(tmp_path):
    done = cli("run", "graceful-drain", "--set", "speaker=ryu", "--out", str(tmp_path / "runs"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "timeline[5].site" in lines[0] and "ryu" in lines[0], lines
    assert not (tmp_path / "runs").exists()


def test_a_dead_backend_withdraws_every_site(tmp_path_factory):
    s = run(tmp_path_factory, "all-sites-withdraw", *SHORT_BACKEND)
    failed = [e for e in s["expect"] if not e["passed"]]
    assert s["_exit"] == 0 and not failed, (failed, s["_out"][-2000:])
    down = states(s, "down")
    assert sorted(h["site"] for h in down) == ["gru", "lon", "nyc", "tyo"]
    assert all(h["applied"] and not h.get("held") for h in down)
    assert all(any(f.startswith("backend:") for f in h["failures"]) for h in down)
    assert sorted(h["site"] for h in states(s, "up")) == ["gru", "lon", "nyc", "tyo"]
    assert not (s["_dir"] / "backend.sock").exists()  # removed at teardown
    assert not [p for p in s["processes"] if p["process"] == "backend"]  # killed by the event


def test_min_sites_keeps_one_site_announced(tmp_path_factory):
    s = run(tmp_path_factory, "all-sites-withdraw", *SHORT_BACKEND, "health.min_sites=1")
    held = [h for h in states(s, "down") if h.get("held")]
    assert len(held) == 1, states(s, "down")
    assert held[0]["held"] == "min_sites 1: 0 sites would remain announced"
    assert held[0]["applied"] == []
    retries = [h for h in s["health"] if h["event"] == "retry" and h["site"] == held[0]["site"]]
    assert retries == []  # never withdrawn, not even when the others came back
    worst = max(c["dns"]["max_outage_s"] for c in s["clients"].values())
    assert worst < 5, worst
    assert "kept announced (min_sites 1" in (s["_dir"] / "report.md").read_text()
