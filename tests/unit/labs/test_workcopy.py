"""Working copies: rendered hand-outs, the solution kept apart, the state file."""

from __future__ import annotations

import json

import pytest
import yaml

from testbed.errors import InputError
from testbed.labs.registry import LABS, LABS_DIR, get_lab
from testbed.labs.variant import make_variant
from testbed.labs.workcopy import STATE, read_state, render, sources, variant_of

NUMBERS = [lab.number for lab in LABS]


@pytest.mark.parametrize("lab", NUMBERS)
def test_handout_folders_are_complete(lab):
    item = get_lab(lab)
    names = set(sources(item))
    assert {"README.md", "TASK.md"} <= names
    assert set(item.edits) <= names
    assert item.solution.is_dir() and item.solution.parent.name == "solutions"
    assert not (item.handout / "solutions").exists()


@pytest.mark.parametrize("lab", NUMBERS)
def test_readme_has_the_required_sections(lab):
    text = (get_lab(lab).handout / "README.md").read_text().lower()
    for section in ("## goal", "## background", "## steps", "## questions"):
        assert section in text, section


@pytest.mark.parametrize("lab", NUMBERS)
def test_handout_has_no_answers(tmp_path, lab):
    item = get_lab(lab)
    variant = make_variant(lab, "s1")
    render(item, variant, tmp_path / "w")
    text = "\n".join(p.read_text() for p in (tmp_path / "w").iterdir() if p.suffix == ".yaml")
    assert "solution" not in text.lower()
    for name in item.edits:
        if name.startswith(("answers", "predictions")):
            data = yaml.safe_load((tmp_path / "w" / name).read_text())
            leaves = list(_leaves(data))
            assert leaves and all(v is None for v in leaves), (name, data)


def _leaves(data):
    if isinstance(data, dict):
        for value in data.values():
            yield from _leaves(value)
    else:
        yield data


def test_state_file_and_variant_of(tmp_path):
    item = get_lab(1)
    dest = tmp_path / "w"
    render(item, make_variant(1, "alice"), dest)
    state = read_state(dest)
    assert state["lab"] == 1 and state["student"] == "alice" and not state["solution"]
    assert json.loads((dest / STATE).read_text())["variant"]["site"]["first"]["name"]
    assert variant_of(item, dest, None) == make_variant(1, "alice")
    assert variant_of(item, dest, "alice") == make_variant(1, "alice")
    with pytest.raises(InputError, match="student 'alice'"):
        variant_of(item, dest, "bob")
    with pytest.raises(InputError, match="working copy of lab 1"):
        variant_of(get_lab(2), dest, None)
    with pytest.raises(InputError, match="lab start 1"):
        variant_of(item, tmp_path / "nothing", None)


def test_the_variant_comes_from_the_id_not_the_file(tmp_path):
    item = get_lab(2)
    dest = tmp_path / "w"
    render(item, make_variant(2, "alice"), dest)
    state = json.loads((dest / STATE).read_text())
    state["variant"]["params"]["min_prepend"] = 0
    (dest / STATE).write_text(json.dumps(state))
    assert variant_of(item, dest, None).params == make_variant(2, "alice").params


def test_no_overwrite_without_force(tmp_path):
    item = get_lab(1)
    dest = tmp_path / "w"
    render(item, make_variant(1, "alice"), dest)
    (dest / "topology.yaml").write_text("# my work\n")
    with pytest.raises(InputError, match="--force"):
        render(item, make_variant(1, "alice"), dest)
    assert (dest / "topology.yaml").read_text() == "# my work\n"
    render(item, make_variant(1, "alice"), dest, force=True)
    assert "my work" not in (dest / "topology.yaml").read_text()


def test_labs_index_lists_every_lab():
    text = (LABS_DIR / "README.md").read_text()
    for item in LABS:
        assert item.folder in text
    assert "--json" in text and "--student" in text
