"""``anycast-testbed report`` on the records collected back from an exported lab.

The lab's ``shared/`` folder is the run folder: the export writes its meta.json,
scenario.yaml and topology.yaml; the lab's timeline.sh (run here for real, its ``on``
a no-op instead of ``kathara exec``) writes the timeline's start into meta.json and
the events into records/events.jsonl; the probes' records are made up here in their
real format. Then ``report`` (no Mininet) must give the outage it was built with.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest

from testbed.export import export_files, prepare, write_files

from ..cli.helpers import run_cli

SCENARIO = """
name: quick-failover
topology: two-sites
duration: 3
settle: 1
timeline:
  - {at: 0.5, event: fail_site, site: east, how: link-down}
  - {at: 1.5, event: restore, site: east}
expect:
  - {check: max_outage, clients: [ca], below: 1}
  - {check: stays, client: cb}
"""

#: The DNS probe's interval (20 queries a second) and its answers' round trip.
STEP, RTT = 0.05, 0.002
#: ca's queries seq LOST_FROM to LOST_TO - 1 are lost (0.55 s to 0.9 s from t0: east is
#: gone, BGP moving).
LOST_FROM, LOST_TO = 31, 39


def dns_records(client: str, t0: float, sites: List[str]) -> List[Dict[str, Any]]:
    """A client's dns-CLIENT.jsonl (docs/records.md): a query every STEP from t0 - 1 s to
    t0 + 3 s; ``sites`` = (before the failure, after it)."""
    out = []
    for seq in range(80):
        at = -1.0 + seq * STEP
        t = t0 + at
        lost = client == "ca" and LOST_FROM <= seq < LOST_TO
        site = sites[0] if at < 0.5 or at >= 1.6 else sites[1]
        record = {"t": round(t, 6), "kind": "dns", "client": client, "seq": seq,
                  "id": 1000 + seq, "status": "timeout" if lost else "ok",
                  "rtt": None if lost else RTT, "rcode": None if lost else "NOERROR",
                  "site": None if lost else site}  # fmt: skip
        out.append(record)
    return out


def run_timeline(lab: Path) -> None:
    """The lab's own timeline.sh, its ``kathara exec`` a no-op (``KATHARA=:``)."""
    env = {**os.environ, "KATHARA": ":", "SETTLE": "0"}
    proc = subprocess.run(
        ["sh", str(lab / "timeline.sh")], env=env, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0, proc.stderr
    assert "timeline of quick-failover done" in proc.stdout


@pytest.mark.skipif(
    not all(shutil.which(t) for t in ("sh", "awk", "sed", "date", "sleep")),
    reason="timeline.sh needs a POSIX shell, awk, sed, date and sleep",
)
def test_report_on_records_collected_from_an_exported_lab(tmp_path, capsys):
    scenario = tmp_path / "quick-failover.yaml"
    scenario.write_text(SCENARIO)
    lab = tmp_path / "lab"
    write_files(export_files("kathara", prepare("two-sites", str(scenario))), lab)
    run = lab / "shared"
    meta = json.loads((run / "meta.json").read_text())
    assert meta["t0"] is None and meta["clients"] == ["ca", "cb"]
    assert meta["access_routers"] == {"ca": "ispa", "cb": "ispb"}

    run_timeline(lab)
    meta = json.loads((run / "meta.json").read_text())
    t0 = meta["t0"]
    assert isinstance(t0, float) and abs(t0 - float((run / "records" / "t0").read_text())) < 1e-6
    events = [json.loads(line) for line in (run / "records" / "events.jsonl").read_text().split(
        "\n") if line]  # fmt: skip
    assert [(e["event"], e["target"], e["at"]) for e in events] == [
        ("fail_site", "east", 0.5),
        ("restore", "east", 1.5),
    ]
    assert all(e["t"] >= t0 + e["at"] - 0.05 and e["applied_s"] >= 0 for e in events)

    # the probes' records, as the clients write them into /shared/records
    for client, sites in (("ca", ["east", "west"]), ("cb", ["west", "west"])):
        lines = [json.dumps(r) for r in dns_records(client, t0, sites)]
        (run / "records" / f"dns-{client}.jsonl").write_text("\n".join(lines) + "\n")

    code, out, err = run_cli(capsys, "report", str(run), "--no-plots")
    assert code == 0, out + err
    summary = json.loads((run / "summary.json").read_text())
    ca, cb = summary["clients"]["ca"]["dns"], summary["clients"]["cb"]["dns"]
    # from the last answer before the losses to the first after them, in answer times
    expected = (LOST_TO - (LOST_FROM - 1)) * STEP  # 0.45 s
    assert ca["max_outage_s"] == pytest.approx(expected, abs=0.01)
    assert len(ca["outages"]) == 1 and cb["max_outage_s"] == 0
    assert summary["scenario"] == "quick-failover" and summary["topology"] == "two-sites"
    assert [e["passed"] for e in summary["expect"]] == [True, True]
    assert (run / "report.md").is_file()
