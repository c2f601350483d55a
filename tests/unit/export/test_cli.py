"""``anycast-testbed export``: what it writes, and bad input as one line with exit 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testbed.export import MANIFEST

from ..cli.helpers import one_line_error, run_cli

RYU = """
name: ryu-sites
ases:
  - {name: ta, asn: 65001, role: transit}
  - {name: anycast, asn: 64500, role: anycast}
  - {name: isp, asn: 64512, role: eyeball}
links:
  - {a: isp, b: ta}
sites:
  - {name: east, upstream: ta}
  - {name: west, upstream: ta, speaker: ryu}
clients:
  - {name: c1, as: isp}
"""


def test_export_writes_the_lab_and_says_so(capsys, tmp_path):
    out = tmp_path / "lab"
    code, stdout, _err = run_cli(
        capsys, "export", "two-sites", "two-sites-failover", "--to", "kathara", "--out", str(out)
    )
    assert code == 0
    assert "exported two-sites to kathara: 10 devices, 9 collision domains" in stdout
    assert "timeline of 2 events" in stdout
    for rel in ("lab.conf", "ta.startup", "ta/etc/frr/frr.conf", "timeline.sh", "README.md"):
        assert (out / rel).is_file(), rel
    assert os.access(out / "timeline.sh", os.X_OK) and os.access(out / "traffic.sh", os.X_OK)
    listed = (out / MANIFEST).read_text().splitlines()
    assert "lab.conf" in listed and "timeline.sh" in listed


def test_force_replaces_an_earlier_export_and_nothing_else(capsys, tmp_path):
    out = tmp_path / "lab"
    assert run_cli(capsys, "export", "two-sites", "two-sites-failover", "--to", "kathara",
                   "--out", str(out))[0] == 0  # fmt: skip
    mine = out / "notes.txt"
    mine.write_text("keep me")
    error = one_line_error(capsys, "export", "two-sites", "--to", "kathara", "--out", str(out))
    assert error == f"{out}: not empty (use --force to export into it)"
    code, _out, _err = run_cli(
        capsys, "export", "two-sites", "--to", "kathara", "--out", str(out), "--force"
    )
    assert code == 0
    assert not (out / "timeline.sh").exists()  # the earlier export's, gone
    assert mine.read_text() == "keep me"
    assert (out / "lab.conf").is_file()


def test_images_on_the_command_line(capsys, tmp_path):
    out = tmp_path / "lab"
    code, _o, _e = run_cli(capsys, "export", "two-sites", "--to", "kathara", "--out", str(out),
                           "--router-image", "frr:x", "--host-image", "host:y")  # fmt: skip
    assert code == 0
    conf = (out / "lab.conf").read_text()
    assert 'ta[image]="frr:x"' in conf and 'ca[image]="host:y"' in conf


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--to", "gns3"], "--to: no engine 'gns3' (known: kathara, containerlab)"),
        (["--to", "containerlab", "--image", "frr"], "--image: 'frr': expected KIND=IMAGE"),
        (["--to", "kathara", "--image", "quagga=x"], "--image: 'quagga=x': expected"),
        (["--to", "kathara", "--set", "duration=5"], "--set: needs a SCENARIO"),
    ],
)
def test_bad_options_are_one_line(capsys, tmp_path, args, expected):
    error = one_line_error(capsys, "export", "two-sites", *args, "--out", str(tmp_path / "x"))
    assert error.startswith(expected)
    assert not (tmp_path / "x").exists()


def test_a_ryu_site_is_refused_naming_the_field(capsys, tmp_path):
    topo = tmp_path / "ryu.yaml"
    topo.write_text(RYU)
    error = one_line_error(capsys, "export", str(topo), "--to", "kathara", "--out",
                           str(tmp_path / "x"))  # fmt: skip
    assert error.startswith(f"{topo}: sites[1].speaker: ryu: ")
    assert "only FRR sites are exported to kathara" in error
    # the same through a scenario's --set
    error = one_line_error(capsys, "export", "two-sites", "two-sites-failover", "--to", "kathara",
                           "--out", str(tmp_path / "x"), "--set", "speaker=exabgp")  # fmt: skip
    assert "sites[0].speaker: exabgp: " in error
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "timeline, field",
    [
        ("[{at: 5, event: fail_site, site: busiest}]", "timeline[0].site: busiest: "),
        (
            "[{at: 5, event: withdraw, site: east}, {at: 6, event: restore, site: busiest}]",
            "timeline[1].site: busiest: ",
        ),
    ],
)
def test_what_a_script_cannot_play_is_refused(capsys, tmp_path, timeline, field):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"name: s\ntopology: two-sites\nduration: 30\ntimeline: {timeline}\n")
    error = one_line_error(capsys, "export", "two-sites", str(scenario), "--to", "kathara",
                           "--out", str(tmp_path / "x"))  # fmt: skip
    assert error.startswith(f"{scenario}: {field}")


def test_health_and_capacity_are_refused(capsys, tmp_path):
    scenario = tmp_path / "h.yaml"
    scenario.write_text("name: h\ntopology: two-sites\nduration: 30\nhealth: {sites: all}\n")
    error = one_line_error(capsys, "export", "two-sites", str(scenario), "--to", "kathara",
                           "--out", str(tmp_path / "x"))  # fmt: skip
    assert error.startswith(f"{scenario}: health: health agents")
    error = one_line_error(capsys, "export", "world-ddos", "--to", "kathara",
                           "--out", str(tmp_path / "x"))  # fmt: skip
    assert "capacity" in error or "attackers" in error


def test_out_is_a_file(capsys, tmp_path):
    out = tmp_path / "file"
    out.write_text("x")
    error = one_line_error(capsys, "export", "two-sites", "--to", "kathara", "--out", str(out))
    assert error == f"{out}: not a folder"


def test_help_names_the_engine(capsys):
    code, out, _err = run_cli(capsys, "export", "--help")
    assert code == 0 and "kathara" in out and "--out" in out


def test_written_lab_is_what_export_files_makes(capsys, tmp_path):
    from testbed.export import export_files, prepare
    from testbed.export.kathara import Options

    out = tmp_path / "lab"
    assert run_cli(capsys, "export", "two-sites", "--to", "kathara", "--out", str(out))[0] == 0
    options = Options(command="anycast-testbed export two-sites --to kathara")
    files = export_files("kathara", prepare("two-sites"), options)
    for rel, text in files.items():
        assert (out / rel).read_text() == text, rel
    assert sorted(p.name for p in Path(out).iterdir() if p.is_file()) == sorted(
        [MANIFEST, *[r for r in files if "/" not in r]]
    )


def test_events_of_processes_an_export_has_not_are_refused():
    from testbed.export.support import scenario_refusal
    from testbed.scenario.model import Scenario

    for event, why in (
        ({"at": 1, "event": "backend", "state": "down"}, "backend: the shared backend"),
        ({"at": 1, "event": "attack_start"}, "attack_start: attack senders"),
    ):
        scenario = Scenario(name="s", duration=10, timeline=[event])
        field, message = scenario_refusal(scenario, "kathara") or ("", "")
        assert field == "timeline[0].event" and message.startswith(why)


def test_busiest_names_the_site_of_a_shipped_scenario(capsys, tmp_path):
    out = tmp_path / "lab"
    error = one_line_error(capsys, "export", "world", "site-failure", "--to", "kathara",
                           "--out", str(out))  # fmt: skip
    assert "timeline[0].site: busiest: " in error and "--busiest SITE" in error
    code, _o, _e = run_cli(capsys, "export", "world", "site-failure", "--to", "kathara",
                           "--out", str(out), "--busiest", "tyo")  # fmt: skip
    assert code == 0
    script = (out / "timeline.sh").read_text()
    assert "# t=15 s: fail site tyo (link-down)" in script
    assert "--busiest tyo" in script  # the command line in its header
