"""BIRD routers in an export: ``world`` with transit AS eu on BIRD (tests/data/export/
world-bird.yaml), to Kathará and containerlab. Golden files, bird.conf byte for byte the
testbed's, BIRD's own parser on it, Kathará's parser on the lab (no container started).

Refresh the golden files with ``UPDATE_GOLDEN=1 pytest tests/unit/export/test_bird.py``.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
import yaml

from testbed.export import Prepared, export_files, kathara, prepare, write_files
from testbed.export import containerlab as clab
from testbed.export.lab import Options
from testbed.net import bird, frr

from .golden import DATA, GOLDEN, check_golden

WORLD_BIRD = DATA / "export" / "world-bird.yaml"
COMMAND = "anycast-testbed export world-bird.yaml site-failure --busiest lon --to {engine}"
HAS_BIRD = shutil.which("bird") is not None or Path(bird.BIRD).exists()


@pytest.fixture(scope="module")
def mixed() -> Prepared:
    return prepare(str(WORLD_BIRD), "site-failure", busiest="lon")


def exported(prepared: Prepared, engine: str, **images: str):
    return export_files(engine, prepared, Options(command=COMMAND.format(engine=engine), **images))


@pytest.mark.parametrize("engine", ["kathara", "containerlab"])
def test_mixed_frr_bird_golden(mixed, engine):
    assert mixed.plan.bird_routers() == ["eu"]
    check_golden(exported(mixed, engine), GOLDEN / engine / "world-bird")


@pytest.mark.parametrize("engine", ["kathara", "containerlab"])
def test_bird_conf_is_the_testbeds_and_frr_the_rest(mixed, engine):
    files = exported(mixed, engine)
    plan = mixed.plan
    for name, router in plan.routers.items():
        if router.bird:
            assert files[f"{name}/etc/bird/bird.conf"] == bird.render_config(router, plan)
            assert f"{name}/etc/frr/frr.conf" not in files
        else:
            assert files[f"{name}/etc/frr/frr.conf"] == frr.render_config(router, plan)
    # the testbed's own rendering is what its goldens hold: the export changed nothing there
    golden = Path(__file__).resolve().parents[2] / "golden" / "bird" / "world" / "eu.conf"
    if golden.is_file():
        assert 'log "/run/bird/eu/bird.log" all;' in golden.read_text()


@pytest.mark.skipif(not HAS_BIRD, reason="BIRD is not installed (apt-get install bird2)")
def test_birds_parser_takes_the_exported_bird_conf(mixed, tmp_path):
    files = exported(mixed, "kathara")
    path = tmp_path / "bird.conf"
    path.write_text(files["eu/etc/bird/bird.conf"])
    bird.check_configs({"eu": path})


def test_kathara_starts_bird_on_its_bird2_image(mixed, tmp_path):
    lab_parser = pytest.importorskip("Kathara.parser.netkit.LabParser")
    files = exported(mixed, "kathara")
    startup = files["eu.startup"]
    assert startup.rstrip().endswith(
        "mkdir -p /run/bird/eu\nbird -c /etc/bird/bird.conf -s /run/bird/bird.ctl "
        "-P /run/bird/bird.pid"
    )
    assert "systemctl start frr" not in startup
    out = tmp_path / "lab"
    write_files(files, out)
    lab = lab_parser.LabParser.parse(str(out))
    assert lab.machines["eu"].get_image() == kathara.BIRD_IMAGE == "kathara/bird2"
    assert lab.machines["na"].get_image() == kathara.ROUTER_IMAGE
    with tarfile.open(fileobj=io.BytesIO(lab.machines["eu"].pack_data())) as packed:
        conf = packed.extractfile("hostlab/eu/etc/bird/bird.conf")
        assert conf is not None
        assert conf.read().decode() == files["eu/etc/bird/bird.conf"]


def test_containerlab_binds_bird_conf_and_starts_bird(mixed):
    files = exported(mixed, "containerlab", bird_image="my/bird:2")
    data = yaml.safe_load(files["anycast-world-bird-site-failure.clab.yml"])
    eu = data["topology"]["nodes"]["eu"]
    assert eu["image"] == "my/bird:2"
    assert eu["binds"] == ["eu/etc/bird/bird.conf:/etc/bird/bird.conf:ro"]
    assert eu["exec"][-2:] == [
        "mkdir -p /run/bird/eu",
        "bird -c /etc/bird/bird.conf -s /run/bird/bird.ctl -P /run/bird/bird.pid",
    ]
    default = exported(mixed, "containerlab")
    assert f"image: {clab.BIRD_IMAGE}" in default["anycast-world-bird-site-failure.clab.yml"]
    meta = json.loads(default["shared/meta.json"])
    assert meta["bird_routers"] == ["eu"] and meta["exported_to"] == "containerlab"


def test_the_cli_exports_bird_with_the_image_given(capsys, tmp_path):
    from ..cli.helpers import run_cli

    out = tmp_path / "lab"
    code, _o, _e = run_cli(capsys, "export", str(WORLD_BIRD), "--to", "kathara", "--out",
                           str(out), "--image", "bird=b:1")  # fmt: skip
    assert code == 0
    assert 'eu[image]="b:1"' in (out / "lab.conf").read_text()
    assert 'na[image]="kathara/frr"' in (out / "lab.conf").read_text()
