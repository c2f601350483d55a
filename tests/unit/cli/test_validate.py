"""``validate FILE...``: the checks of ``up`` and ``run``, one line per file, nothing started.

The ``no_start`` fixture turns the root check into a test failure: validate
must never get that far.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import List

import pytest

from testbed.checkfile import SCENARIO, TOPOLOGY, check_file, file_kind
from testbed.errors import InputError
from testbed.labs.registry import LABS
from testbed.topology.load import ROOT

from .helpers import run_cli

SHIPPED = sorted(
    str(p.relative_to(ROOT))
    for folder in ("topologies", "scenarios")
    for p in (ROOT / folder).iterdir()
    if p.suffix in (".yaml", ".py")
)

BROKEN_TOPOLOGY = """
name: bad
ases:
  - {name: ta, asn: 65001, role: transit}
  - {name: anycast, asn: 64500, role: anycast}
links:
  - {a: ta, b: nowhere}
sites:
  - {name: s1, upstream: ta}
"""

SCENARIO_TEXT = """
name: x
duration: 30
topology: {topology}
timeline:
  - {{at: 5, event: fail_site, site: {site}}}
"""


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def validate(capsys, monkeypatch, *argv: str):
    """Run ``validate ARGV`` from the project root: (status, ok lines, error and warning lines)."""
    monkeypatch.chdir(ROOT)
    code, out, err = run_cli(capsys, "validate", *argv)
    assert "Traceback" not in err
    return code, out.splitlines(), err.splitlines()


# --------------------------------------------------------------- good files
def test_every_shipped_topology_and_scenario_is_ok(capsys, monkeypatch, no_start):
    assert "scenarios/rolling-maintenance.py" in SHIPPED and "topologies/world.yaml" in SHIPPED
    code, out, err = validate(capsys, monkeypatch, *SHIPPED)
    assert code == 0, err
    assert [line.split(":")[0] for line in out] == [f"ok {ref}" for ref in SHIPPED]
    assert not [line for line in err if not line.startswith("warning: ")]


def test_ok_lines_say_what_the_file_holds(capsys, monkeypatch, no_start):
    refs = ["topologies/world.yaml", "scenarios/site-failure.yaml", "chain:5", "clique:4"]
    code, out, _ = validate(capsys, monkeypatch, *refs)
    assert code == 0
    assert out == [
        "ok topologies/world.yaml: topology world: 16 routers, 4 sites, 8 clients, 18 sessions",
        "ok scenarios/site-failure.yaml: scenario site-failure on world: 2 events, 3 checks, "
        "60 s (16 routers, 4 sites, 8 clients, 18 sessions)",
        "ok chain:5: topology chain5: 7 routers, 1 site, 1 client, 6 sessions",
        "ok clique:4: topology clique4: 6 routers, 1 site, 1 client, 8 sessions",
    ]


def test_python_scenario_is_ok(capsys, monkeypatch, no_start):
    code, out, _ = validate(capsys, monkeypatch, "scenarios/rolling-maintenance.py")
    assert code == 0
    assert out == [
        "ok scenarios/rolling-maintenance.py: scenario rolling-maintenance on world: 8 events, "
        "6 checks, 70 s (16 routers, 4 sites, 8 clients, 18 sessions)"
    ]


def test_bare_names_are_a_topology_or_a_scenario(capsys, monkeypatch, no_start):
    code, out, _ = validate(capsys, monkeypatch, "world", "site-failure", "rolling-maintenance")
    assert code == 0
    assert [line.split(":")[1].split()[0] for line in out] == ["topology", "scenario", "scenario"]


def test_set_and_topology_apply_to_scenarios_as_in_run(capsys, monkeypatch, no_start):
    argv = ["site-failure", "--topology", "two-sites", "--set", "duration=45"]
    code, out, _ = validate(capsys, monkeypatch, *argv)
    assert code == 0
    assert out[0].startswith("ok site-failure: scenario site-failure on two-sites: 2 events")
    assert ", 45 s (6 routers" in out[0]


def test_set_given_for_a_topology_is_a_warning(capsys, monkeypatch, no_start):
    code, out, err = validate(capsys, monkeypatch, "world", "--set", "bgp.hold=9")
    assert code == 0 and out[0].startswith("ok world: topology world")
    assert err == ["warning: --set applies to scenarios only: not used"]


def test_warnings_follow_on_their_own_lines(capsys, monkeypatch, no_start):
    code, out, err = validate(capsys, monkeypatch, "silent-failure", "--set", "bgp.hold=30")
    assert code == 0 and len(out) == 1
    assert len(err) == 1 and err[0].startswith("warning: timeline[1]: the restore at 40 s")


# ---------------------------------------------------------------- bad files
def test_broken_files_one_line_each_as_up_and_run_print_them(
    capsys, monkeypatch, no_start, tmp_path
):
    topo = write(tmp_path, "bad-topo.yaml", BROKEN_TOPOLOGY)
    scen = write(tmp_path, "bad-scen.yaml", SCENARIO_TEXT.format(topology="two-sites", site="x"))
    on_bad = write(tmp_path, "on-bad.yaml", SCENARIO_TEXT.format(topology=topo, site="busiest"))
    expected = [
        f"{topo}: links[0].b: no router or AS called 'nowhere'",
        f"{scen}: timeline[0].site: no site 'x' in topology 'two-sites' (sites: east, west, "
        "or busiest)",
        f"{on_bad}: topology: {topo}: links[0].b: no router or AS called 'nowhere'",
    ]
    code, out, err = validate(capsys, monkeypatch, topo, scen, on_bad)
    assert (code, out, err) == (2, [], expected)
    for (command, ref), line in zip(
        [("up", topo), ("run", scen), ("run", on_bad)], expected, strict=True
    ):
        code, _, up_err = run_cli(capsys, command, ref)
        assert code == 2 and up_err == f"anycast-testbed: {line}\n"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("chain:0", "chain: N must be between 1 and 500, got 0"),
        ("clique:501", "clique: N must be between"),
        ("chain:x", "chain: N must be a whole number, got 'x'"),
        ("missing.yaml", "missing.yaml: no such file"),
        ("atlantis", "atlantis: no topology or scenario 'atlantis' (topologies: backup-path"),
    ],
)
def test_bad_references(capsys, monkeypatch, no_start, ref, expected):
    code, out, err = validate(capsys, monkeypatch, ref)
    assert code == 2 and out == []
    assert len(err) == 1 and err[0].startswith(expected), err


def test_a_mix_of_good_and_bad_files_exits_2_with_a_line_each(
    capsys, monkeypatch, no_start, tmp_path
):
    topo = write(tmp_path, "bad-topo.yaml", BROKEN_TOPOLOGY)
    code, out, err = validate(capsys, monkeypatch, "world", topo, "chain:0", "site-failure")
    assert code == 2
    assert [line.split(":")[0] for line in out] == ["ok world", "ok site-failure"]
    assert [line.split(":")[0] for line in err] == [topo, "chain"]


@pytest.mark.parametrize("text", ["foo: 1\n", "[1, 2]\n", "", "name: x\nsessions: []\n"])
def test_a_yaml_file_that_is_neither(capsys, monkeypatch, no_start, tmp_path, text):
    path = write(tmp_path, "other.yaml", text)
    code, _, err = validate(capsys, monkeypatch, path)
    assert code == 2
    assert err == [
        f"{path}: neither a topology (no ases:) nor a scenario (no timeline:, duration: or expect:)"
    ]


def test_a_topology_too_big_to_address(capsys, monkeypatch, no_start, tmp_path):
    """520 eyeball prefixes do not fit in 198.18.0.0/15 (512 /24s): refused as by up."""
    lines = ["name: big", "ases:", "  - {name: anycast, asn: 64500, role: anycast}"]
    lines += [f"  - {{name: t{t}, asn: {65000 + t}, role: transit}}" for t in range(8)]
    lines += [f"  - {{name: e{i}, asn: {100 + i}, role: eyeball}}" for i in range(520)]
    lines += ["links:"] + [f"  - {{a: t0, b: t{t}}}" for t in range(1, 8)]
    lines += [f"  - {{a: e{i}, b: t{1 + i % 7}}}" for i in range(520)]
    lines += ["sites:", "  - {name: s, upstream: t0}", "clients:"]
    lines += [f"  - {{name: c{i}, as: e{i}}}" for i in range(520)]
    path = write(tmp_path, "big.yaml", "\n".join(lines) + "\n")
    code, _, err = validate(capsys, monkeypatch, path)
    assert code == 2 and len(err) == 1
    assert err[0].startswith(f"{path}: ") and "198.18.0.0/15" in err[0] and "512" in err[0]
    code, _, up_err = run_cli(capsys, "up", path)  # up says the same, before root
    assert code == 2 and up_err == f"anycast-testbed: {err[0]}\n"


def test_the_plan_is_built_and_its_errors_are_one_line(monkeypatch):
    """Whatever validation lets through, an exhausted address pool is an InputError."""
    from ipaddress import IPv4Network

    from testbed.topology import plan
    from testbed.topology.load import load_topology

    monkeypatch.setattr(plan, "CLIENT_POOL", IPv4Network("198.18.0.0/23"))
    with pytest.raises(InputError) as info:
        check_file("world")
    assert str(info.value) == (
        "world: cannot allocate addresses: address pool 198.18.0.0/23 exhausted: one /24 per "
        "access router of an eyeball AS, at most 2"
    )
    monkeypatch.setattr(plan, "CLIENTS_PER_ACCESS_ROUTER", 0)
    with pytest.raises(InputError, match="has more than 0 clients"):
        plan.checked_plan(load_topology("two-sites"), "two-sites")


def test_no_file_is_a_usage_error(capsys, monkeypatch, no_start):
    code, _, err = validate(capsys, monkeypatch)
    assert code == 2 and "Missing argument 'FILE...'" in err[0]


# --------------------------------------------------------------------- kind
def test_file_kind(tmp_path):
    topo = write(tmp_path, "t.yml", "ases: []\n")
    scen = write(tmp_path, "s.yaml", "duration: 3\n")
    assert [file_kind(r) for r in ("chain:3", "world", topo)] == [TOPOLOGY] * 3
    assert [file_kind(r) for r in ("site-failure", "rolling-maintenance", scen)] == [SCENARIO] * 3
    assert file_kind("any.py") == SCENARIO  # by its suffix, before it is read


def test_a_name_that_is_both_is_ambiguous(tmp_path, monkeypatch):
    from testbed.scenario import load as scenario_load
    from testbed.topology import load as topology_load

    (tmp_path / "topologies").mkdir()
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "topologies" / "both.yaml").write_text("ases: []\n")
    (tmp_path / "scenarios" / "both.yaml").write_text("duration: 3\n")
    monkeypatch.setattr(topology_load, "ROOT", tmp_path)
    monkeypatch.setattr(topology_load, "TOPOLOGY_DIR", tmp_path / "topologies")
    monkeypatch.setattr(scenario_load, "SCENARIO_DIR", tmp_path / "scenarios")
    with pytest.raises(InputError) as info:
        file_kind("both")
    assert str(info.value) == (
        "both: both a topology and a scenario (topologies/both.yaml and scenarios/both.yaml): "
        "give the file path"
    )


# --------------------------------------------------------------------- labs
def _lab_files(tmp_path: Path, solution: bool) -> List[str]:
    from testbed.labs.variant import make_variant
    from testbed.labs.workcopy import render

    files = []
    for lab in LABS:
        dest = tmp_path / f"{lab.number}-{'solution' if solution else 'start'}"
        render(lab, make_variant(lab.number, None), dest, solution=solution)
        files += [str(p) for p in (dest / "topology.yaml", dest / "scenario.yaml") if p.exists()]
    return files


@pytest.mark.parametrize("solution", [False, True])
def test_every_lab_handout_and_solution_is_ok(capsys, monkeypatch, no_start, tmp_path, solution):
    files = _lab_files(tmp_path, solution)
    assert len(files) == 2 * len(LABS)
    code, out, err = validate(capsys, monkeypatch, *files)
    assert code == 0, err
    assert len(out) == len(files) and all(line.startswith("ok ") for line in out)


def test_lab_file_items_say_what_validate_says(tmp_path):
    """A lab's file check and validate are one function: the same line for the same file."""
    from testbed.labs.runner import load_student_topology

    path = tmp_path / "topology.yaml"
    path.write_text(textwrap.dedent(BROKEN_TOPOLOGY))
    with pytest.raises(InputError) as info:
        check_file(str(path))
    assert load_student_topology(path) == (None, str(info.value))
    topo, problem = load_student_topology(ROOT / "topologies" / "world.yaml")
    assert problem == "" and topo.name == "world"


def test_lab_scenario_item_says_what_validate_says(tmp_path):
    from testbed.labs.common import scenario_topology_item
    from testbed.labs.runner import LabContext
    from testbed.labs.variant import make_variant

    ctx = LabContext(tmp_path, make_variant(3, None), run=lambda *_: {})
    path = Path(write(tmp_path, "scenario.yaml", SCENARIO_TEXT.format(topology="world", site="x")))
    with pytest.raises(InputError) as info:
        check_file(str(path))
    scenario, topo, item = scenario_topology_item(ctx)
    assert (scenario, topo, item.passed, item.detail) == (None, None, False, str(info.value))
    path.write_text(textwrap.dedent(SCENARIO_TEXT.format(topology="world", site="busiest")))
    scenario, topo, item = scenario_topology_item(ctx)
    assert item.passed and scenario.name == "x" and topo.name == "world"


def test_odd_topology_warns_but_is_ok(capsys, monkeypatch, no_start, tmp_path):
    path = write(
        tmp_path,
        "island.yaml",
        """
        name: island
        ases:
          - {name: ta, asn: 65001, role: transit}
          - {name: tb, asn: 65002, role: transit}
          - {name: anycast, asn: 64500, role: anycast}
          - {name: isp, asn: 64512, role: eyeball}
        links:
          - {a: isp, b: tb}
        sites:
          - {name: s1, upstream: ta}
        clients:
          - {name: c1, as: isp}
        """,
    )
    code, out, err = validate(capsys, monkeypatch, path)
    assert code == 0
    assert out == [f"ok {path}: topology island: 4 routers, 1 site, 1 client, 2 sessions"]
    assert err == [
        "warning: client 'c1' can reach no site: no chain of links joins its router 'isp' to one"
    ]
