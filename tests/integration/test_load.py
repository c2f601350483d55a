"""Load, capacity and DDoS end to end (real FRR, NSD, tc and nftables queues, probes; root).

One compressed run of ddos-withdraw on world-ddos: two Asian attack sources
send three times tyo's capacity; tyo drops legitimate queries too while the
other sites' clients lose none; then tyo withdraws and the attack's packets
move with its catchment: the next site's counters rise and it overloads (a
cascade).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List

import pytest

from tests.integration.helpers import cli
from tests.integration.test_scenarios import run

#: ddos-withdraw compressed (45 s -> 18 s): attack at 3 s, withdraw at 9 s, stop at 15 s.
SHORT = (
    "settle=3",
    "timeline.0.at=3",
    "timeline.1.at=9",
    "timeline.2.at=15",
    "timeline.3.at=16",
    "duration=18",
)


def attack_counts(folder: Path, site: str, t0: float) -> List[tuple]:
    """(seconds into the timeline, cumulative attack packets) of one site's load records."""
    out = []
    for line in (folder / "records" / f"load-{site}.jsonl").read_text().splitlines():
        record = json.loads(line)
        out.append((record["t"] - t0, record["attack_packets"]))
    return out


def rise(samples: List[tuple], start: float, stop: float) -> int:
    """How much a cumulative counter rose between two times."""
    inside = [v for t, v in samples if start <= t <= stop]
    return inside[-1] - inside[0] if inside else 0


def test_an_attacked_site_drops_then_its_withdrawal_moves_the_attack(tmp_path_factory):
    s = run(tmp_path_factory, "ddos-withdraw", *SHORT)
    assert s["_exit"] == 0, s["_out"][-3000:]
    failed = [e for e in s["expect"] if not e["passed"]]
    assert not failed, failed
    load = s["load"]
    attack = load["attack"]
    assert attack["attacked"] == ["tyo"]
    assert attack["sent"] > 0.8 * 6000 * 12, attack  # 2 x 3000 packets/s for 12 s, ramp 1 s
    assert all(src["reason"] == "stopped" for src in attack["sources"].values())
    # tyo was overloaded and dropped legitimate queries; its clients lost some
    tyo = load["sites"]["tyo"]
    assert tyo["overloaded_s"] >= 4 and tyo["drop_share"] > 0.3, tyo
    inside = {c: v for c, v in load["clients"].items() if v["inside"]}
    assert sorted(inside) == ["singapore", "sydney", "tokyo"]
    assert all(v["during"]["lost"] > 0 for v in inside.values()), inside
    # clients of sites the attack never reached lost nothing
    spared = [site for site, v in load["sites"].items() if v["attack_received"] == 0]
    assert spared, load["sites"]
    for client, v in load["clients"].items():
        if v["site"] in spared:
            assert v["during"]["lost"] == 0, (client, v)
    # the withdrawal moved the attack: the next site's attack counter rises after it
    moved_to = s["events"][1]["moves"]["tokyo"]["to"]
    t0 = s["_meta"]["t0"]
    tyo_counts = attack_counts(s["_dir"], "tyo", t0)
    next_counts = attack_counts(s["_dir"], moved_to, t0)
    assert rise(next_counts, 3, 8.5) == 0  # nothing before the withdrawal
    assert rise(next_counts, 10, 15) > 3 * rise(tyo_counts, 10, 15)
    assert rise(next_counts, 10, 15) > 5000
    # and it overloaded in turn
    assert load["cascade"] is True
    assert [c["site"] for c in load["cascades"]] == [moved_to]


def test_the_report_and_plot_show_the_load(tmp_path_factory):
    s = run(tmp_path_factory, "ddos-withdraw", *SHORT)
    report = (s["_dir"] / "report.md").read_text()
    assert "## Load" in report and "| tyo | 2 Mbit/s" in report
    assert (s["_dir"] / "plots" / "load.png").stat().st_size > 10_000
    meta: Dict = s["_meta"]["load"]
    assert meta["capacity"]["tyo"]["bandwidth"] == 2.0
    assert sorted(meta["attackers"]) == ["atk1", "atk2"]


def test_an_attack_without_attackers_is_refused_before_anything_starts(tmp_path):
    done = cli("run", "ddos-absorb", "--set", "topology=world", "--out", str(tmp_path / "runs"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "timeline[0]: no attackers declared" in lines[0], lines
    assert not (tmp_path / "runs").exists()


def test_a_prepend_under_attack_moves_what_the_playbook_predicts(tmp_path, tmp_path_factory):
    """The playbook's prediction for tyo prepend3, then the same prepend during the attack."""
    from testbed.playbook.model import Playbook

    done = cli(
        "playbook", "world-ddos", "--sites", "tyo", "--actions", "prepend3",
        "--out", str(tmp_path), timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (folder,) = list(tmp_path.iterdir())
    book = Playbook.model_validate_json((folder / "playbook.json").read_text())
    (step,) = book.steps
    predicted = sorted(m.client for m in step.moved)
    assert predicted == ["singapore", "sydney", "tokyo"]
    s = run(tmp_path_factory, "ddos-prepend", *SHORT)
    assert s["_exit"] == 0, s["_out"][-3000:]
    assert sorted(s["events"][1]["moves"]) == predicted
    moved_weight = sum(s["_meta"]["load"]["weights"][c] for c in predicted)
    assert moved_weight == pytest.approx(step.weight_moved)
    # the attack went with them: tyo's attack counter stops rising after the prepend
    t0 = s["_meta"]["t0"]
    assert rise(attack_counts(s["_dir"], "tyo", t0), 10, 15) < 500
