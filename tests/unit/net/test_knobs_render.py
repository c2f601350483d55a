"""Failover knobs from the command line end up in frr.conf: timers, MRAI, BFD.

``--set bgp.*`` and ``--set bfd*`` go through the same path as a run
(scenario, topology overrides, plan, template); a golden file pins the whole
config of one router with every knob set.  Refresh it after an intended
change with ``UPDATE_GOLDEN=1 pytest tests/unit/net/test_knobs_render.py``.
"""

import os
from pathlib import Path

import pytest

from testbed.net.frr import daemons_for, render_config
from testbed.scenario.prepare import prepare_run
from testbed.topology.model import Bfd
from testbed.topology.plan import make_plan

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "frr" / "knobs"
ALL_KNOBS = [
    "bgp.keepalive=3",
    "bgp.hold=9",
    "bgp.mrai=5",
    "bgp.connect_retry=2",
    "bfd=on",
    "bfd.interval=50",
    "bfd.multiplier=4",
]


def config(router: str, *sets: str, scenario: str = "two-sites-failover") -> str:
    plan = make_plan(prepare_run(scenario, list(sets)).topology)
    return render_config(plan.routers[router], plan)


def neighbor_lines(text: str, option: str) -> list:
    return [line for line in text.splitlines() if line.startswith(" neighbor ") and option in line]


def test_every_knob_golden():
    text = config("ta", *ALL_KNOBS)
    path = GOLDEN / "ta.conf"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_timers_and_mrai_on_every_session():
    text = config("ta", "bgp.keepalive=3", "bgp.hold=9", "bgp.mrai=30", "bgp.connect_retry=5")
    assert " timers bgp 3 9\n" in text
    sessions = neighbor_lines(text, "remote-as")
    assert len(sessions) == 3  # tb, ispa, east
    assert len(neighbor_lines(text, " timers 3 9")) == 3
    assert len(neighbor_lines(text, "advertisement-interval 30")) == 3
    assert len(neighbor_lines(text, "timers connect 5")) == 3


def test_mrai_is_written_even_when_zero():
    """FRR's default MRAI is 0 anyway; the config still says so."""
    assert len(neighbor_lines(config("tb"), "advertisement-interval 0")) == 3


@pytest.mark.parametrize("router", ["ta", "east"])
def test_bfd_on_renders_peers_and_starts_bfdd(router):
    plan = make_plan(prepare_run("two-sites-failover", ["bfd=on", "bfd.interval=100"]).topology)
    text = render_config(plan.routers[router], plan)
    n = len(plan.routers[router].neighbors)
    assert len(neighbor_lines(text, " bfd")) == n
    assert text.count("  detect-multiplier 3\n") == n
    assert text.count("  transmit-interval 100\n") == n
    assert text.count("  receive-interval 100\n") == n
    assert "bfdd" in daemons_for(plan.routers[router])


def test_bfd_off_and_default_render_no_bfd():
    for sets in ((), ("bfd=off",), ("bfd.interval=50",)):
        text = config("ta", *sets)
        assert "\nbfd\n" not in text and not neighbor_lines(text, " bfd"), sets


def test_bfd_switch_overrides_topology_and_sessions(tmp_path):
    """--set bfd=off wins over the topology's bfd and every session's bfd."""
    from testbed.topology.load import ROOT

    topo = (ROOT / "topologies" / "two-sites.yaml").read_text()
    topo += "bfd: {enabled: true}\nsessions:\n  - {a: ta, b: tb, bfd: true}\n"
    path = tmp_path / "bfd-sites.yaml"
    path.write_text(topo.replace("name: two-sites", "name: bfd-sites"))
    assert len(neighbor_lines(config("ta", f"topology={path}"), " bfd")) == 3
    assert not neighbor_lines(config("ta", f"topology={path}", "bfd=off"), " bfd")
    # a topology override comes after the scenario's knobs, as documented
    assert neighbor_lines(config("ta", "bfd=off", "topology.bfd.enabled=true"), " bfd")


def test_bfd_block_in_a_scenario_file(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\ntopology: two-sites\nduration: 10\nbfd: {enabled: true, multiplier: 5}\n"
    )
    text = config("ta", scenario=str(path))
    assert text.count("  detect-multiplier 5\n") == 3
    path.write_text("name: s\ntopology: two-sites\nduration: 10\nbfd: on\n")
    text = config("ta", "bfd.interval=200", scenario=str(path))
    assert text.count("  transmit-interval 200\n") == 3


def test_scenario_bfd_bounds_match_the_topology():
    from testbed.scenario.model import ScenarioBfd

    for name in ("interval", "multiplier"):
        bounds = ("Ge", "Le", "Gt", "Lt")
        ours = {type(m).__name__: m for m in ScenarioBfd.model_fields[name].metadata}
        theirs = {type(m).__name__: m for m in Bfd.model_fields[name].metadata}
        assert {k: v for k, v in ours.items() if k in bounds} == {
            k: v for k, v in theirs.items() if k in bounds
        }, name
