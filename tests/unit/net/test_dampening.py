"""Route-flap damping (``bgp.dampening``): the model, its checks, ``--set``, and frr.conf.

A golden file pins one dampened router's whole config; refresh it after an
intended change with ``UPDATE_GOLDEN=1 pytest tests/unit/net/test_dampening.py``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from testbed.cli import main
from testbed.net.frr import check_configs, render_config
from testbed.scenario.model import ScenarioDampening
from testbed.scenario.prepare import prepare_run
from testbed.topology.model import DAMPENING_RANGES, BgpTimers, Dampening, dampening_problem
from testbed.topology.plan import make_plan

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "golden" / "frr" / "dampening"
SMALL = "bgp.dampening={half_life: 1, reuse: 750, suppress: 2000, max_suppress: 4}"


def configs(*sets: str, scenario: str = "two-sites-failover") -> dict:
    plan = make_plan(prepare_run(scenario, list(sets)).topology)
    return {name: render_config(r, plan) for name, r in plan.routers.items()}


def damping_lines(text: str) -> list:
    return [line for line in text.splitlines() if "dampening" in line]


# -- the model ------------------------------------------------------------------


def test_on_off_and_mappings():
    assert BgpTimers().dampening is None
    on = Dampening.model_validate("on")
    assert on.enabled and (on.half_life, on.reuse, on.suppress, on.max_suppress) == (
        15,
        750,
        2000,
        60,
    )  # FRR's own defaults
    assert not Dampening.model_validate("off").enabled
    assert not Dampening.model_validate(False).enabled
    assert Dampening.model_validate({"half_life": 2}).enabled  # a block turns it on
    assert not Dampening.model_validate({"enabled": False, "half_life": 2}).enabled
    with pytest.raises(ValidationError, match="must be on, off or a mapping"):
        Dampening.model_validate("sometimes")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"half_life": 0}, "greater than or equal to 1"),
        ({"half_life": 46}, "less than or equal to 45"),
        ({"reuse": 20001, "suppress": 30000}, "less than or equal to 20000"),
        ({"suppress": 50001}, "less than or equal to 50000"),
        ({"max_suppress": 256}, "less than or equal to 255"),
        ({"reuse": 2000, "suppress": 2000}, r"suppress \(2000\) must exceed reuse \(2000\)"),
        ({"half_life": 1, "max_suppress": 1}, r"never reached: .* = 1500"),
    ],
)
def test_out_of_range_and_useless_settings_are_refused(fields, message):
    with pytest.raises(ValidationError, match=message):
        Dampening.model_validate(fields)


def test_a_disabled_setting_is_not_judged():
    assert not Dampening.model_validate(
        {"enabled": False, "half_life": 1, "max_suppress": 1}
    ).enabled


def test_the_ceiling_rule_follows_frr():
    """FRR: ceiling = reuse x 2^(max/half); the first withdrawal's 1000 is not capped."""
    assert dampening_problem(15, 750, 2000, 60) is None  # 750 x 16 = 12000
    assert dampening_problem(1, 750, 2000, 2) is None  # 3000
    assert dampening_problem(1, 400, 1000, 1) is None  # ceiling 800, but 1000 reaches it
    assert "never reached" in (dampening_problem(1, 400, 1001, 1) or "")


def test_scenario_and_topology_bounds_are_the_same():
    for name, (low, high) in DAMPENING_RANGES.items():
        for model in (Dampening, ScenarioDampening):
            meta = {type(m).__name__: m for m in model.model_fields[name].metadata}
            assert (meta["Ge"].ge, meta["Le"].le) == (low, high), (model, name)


# -- --set and the scenario -----------------------------------------------------


def test_set_on_renders_frr_defaults_on_every_router():
    texts = configs("bgp.dampening=on")
    assert len(texts) == 6
    for name, text in texts.items():
        assert damping_lines(text) == ["  bgp dampening 15 750 2000 60"], name
        af = text.index(" address-family ipv4 unicast\n")
        assert af < text.index("  bgp dampening") < text.index(" exit-address-family")


def test_off_and_absent_render_nothing():
    for sets in ((), ("bgp.dampening=off",), (SMALL, "bgp.dampening.enabled=false")):
        assert not any(damping_lines(t) for t in configs(*sets).values()), sets


def test_fields_given_replace_only_themselves(tmp_path):
    scenario = tmp_path / "s.yaml"
    text = (ROOT / "scenarios" / "two-sites-failover.yaml").read_text()
    scenario.write_text(text.replace("bgp: {keepalive: 1, hold: 3}", "bgp: {dampening: on}"))
    texts = configs(
        "bgp.dampening.half_life=1", "bgp.dampening.max_suppress=4", scenario=str(scenario)
    )
    assert damping_lines(texts["ta"]) == ["  bgp dampening 1 750 2000 4"]
    # a topology key: the same model, the same rendering
    texts = configs("topology.bgp.dampening={half_life: 2, reuse: 500, suppress: 1000}")
    assert damping_lines(texts["tb"]) == ["  bgp dampening 2 500 1000 60"]


def fail(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert err.count("\n") == 1, err
    return err.strip()


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("bgp.dampening=maybe", "--set: bgp.dampening: must be on or off (got 'maybe')"),
        ("bgp.dampening.half_life=0", "--set: bgp.dampening.half_life: Input should be greater"),
        ("bgp.dampening.max_suppress=300", "--set: bgp.dampening.max_suppress: Input should be"),
        ("bgp.dampening.suppress=600", "--set: bgp.dampening.suppress: suppress (600) must exceed"),
        ("bgp.dampening.colour=red", "--set: bgp.dampening.colour: unknown field"),
        (
            "bgp.dampening={half_life: 1, max_suppress: 1}",
            "--set: bgp.dampening: suppress (2000) is never reached",
        ),
        ("topology.bgp.dampening.reuse=0", "--set: topology.bgp.dampening.reuse: Input should be"),
    ],
)
def test_bad_settings_are_one_line_exit_2(capsys, item, expected):
    err = fail(capsys, "run", "two-sites-failover", "--set", item)
    assert err.startswith(f"anycast-testbed: {expected}"), err


# -- frr.conf -------------------------------------------------------------------


def test_dampened_router_golden():
    text = configs(SMALL)["ta"]
    path = GOLDEN / "ta.conf"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


@pytest.mark.skipif(
    not shutil.which("vtysh") or os.geteuid() != 0, reason="needs FRR's vtysh, as root"
)
@pytest.mark.parametrize(
    "item",
    [
        "bgp.dampening=on",
        SMALL,
        "bgp.dampening={half_life: 45, reuse: 20000, suppress: 50000, max_suppress: 255}",
    ],
)
def test_frr_accepts_the_rendered_lines(tmp_path, item):
    """vtysh --dryrun (FRR's grammar, as at bring-up) takes every dampened config."""
    paths = {}
    for name, text in configs(item).items():
        paths[name] = tmp_path / f"{name}.conf"
        paths[name].write_text(text)
    check_configs(paths)
