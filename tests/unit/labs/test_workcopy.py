"""Working copies: rendered hand-outs, the solution kept apart, the state file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from testbed.errors import InputError
from testbed.labs.registry import LABS, LABS_DIR, get_lab
from testbed.labs.signing import Tampered
from testbed.labs.variant import generation, make_variant
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


def _tamper(dest, change):
    state = json.loads((dest / STATE).read_text())
    change(state)
    (dest / STATE).write_text(json.dumps(state))


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.update(student="bob"),  # another student's variant, same files
        lambda s: s.update(student=None),  # the reference variant
        lambda s: s["variant"]["params"].update(min_prepend=0),
        lambda s: s.pop("digest"),
    ],
    ids=["student", "no-student", "variant", "digest"],
)
def test_an_edited_state_file_is_refused(tmp_path, change):
    item = get_lab(2)
    dest = tmp_path / "w"
    render(item, make_variant(2, "alice"), dest)
    assert variant_of(item, dest, None) == make_variant(2, "alice")
    _tamper(dest, change)
    with pytest.raises(Tampered, match=r"\.lab\.json: was edited"):
        variant_of(item, dest, None)


@pytest.mark.parametrize(
    ("text", "problem"),
    [("[1, 2]\n", "must hold a JSON object"), ("{not json\n", "not valid JSON")],
)
def test_a_broken_state_file_is_one_clear_error(tmp_path, text, problem):
    item = get_lab(1)
    dest = tmp_path / "w"
    render(item, make_variant(1, "alice"), dest)
    (dest / STATE).write_text(text)
    with pytest.raises(InputError, match=problem) as err:
        variant_of(item, dest, None)
    assert str(err.value).startswith(str(dest / STATE)) and "\n" not in str(err.value)


def test_a_bad_student_in_the_state_file_is_refused(tmp_path):
    item = get_lab(1)
    dest = tmp_path / "w"
    render(item, make_variant(1, "alice"), dest)
    _tamper(dest, lambda s: s.update(student="  "))
    with pytest.raises(InputError, match="student ID is empty"):
        variant_of(item, dest, None)


def test_an_unwritable_folder_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="cannot write the working copy") as err:
        render(get_lab(1), make_variant(1, "alice"), Path("/proc/anycast-lab"))
    assert str(err.value).startswith("/proc/anycast-lab: ")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="cannot write the working copy"):
        render(get_lab(1), make_variant(1, "alice"), tmp_path / "file" / "w")


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


@pytest.mark.parametrize("lab", NUMBERS)
def test_every_lab_hands_out_a_valid_scenario(tmp_path, lab):
    """A starting topology and scenario for each lab; for 5 the check's own run, for 2 its
    first part.

    Labs 1 and 6 hand out the topology alone: the link failures of their
    check are drawn when the check runs (and are links of the topology).
    """
    import importlib

    from testbed.scenario.load import load_scenario, scenario_topology

    item = get_lab(lab)
    variant = make_variant(lab, "s7")
    render(item, variant, tmp_path / "w")
    loaded = load_scenario(str(tmp_path / "w" / "scenario.yaml"))
    topo = scenario_topology(loaded)
    assert {s.name for s in topo.sites} <= {s.name for s in variant.site.values()}
    assert "scenario.yaml" in (item.handout / "README.md").read_text()
    if lab == 1:
        from testbed.labs import lab1

        assert loaded.scenario.timeline == []
        links = lab1.drawn_links(variant)
        assert len(links) == lab1.DRAWN and set(links) <= set(variant.moving_cases())
        events = lab1.timeline(links)
        assert [(e["event"], e["state"]) for e in events] == [("link", "down"), ("link", "up")] * 2
    if lab == 6:
        from testbed.labs import lab6
        from testbed.labs.runner import lab_scenario
        from testbed.scenario.load import parse_scenario
        from testbed.scenario.validate import validate_against

        assert loaded.scenario.timeline == []
        links = lab6.drawn_links(variant)
        assert len(links) == lab6.DRAWN and set(links) <= set(variant.policy_moving_cases())
        data = lab_scenario("lab6-check", lab6.DURATION_S, lab6.timeline(links))
        validate_against(parse_scenario(data, "lab 6 check"), topo, "lab 6 check")
    if lab in (2, 5):
        checker = importlib.import_module(f"testbed.labs.lab{lab}")
        keys = ("event", "site", "how", "count")
        handed = [
            {k: v for k, v in e.model_dump().items() if k in keys and v is not None}
            for e in loaded.scenario.timeline
        ]
        events = (
            checker.timeline(variant, checker.drawn_links(variant))
            if lab == 2
            else checker.timeline(variant)
        )
        ran = [{k: v for k, v in e.items() if k in keys} for e in events]
        if lab == 2:  # the hand-out's failure, then the restore and the drawn links
            from testbed.labs.runner import lab_scenario
            from testbed.scenario.load import parse_scenario
            from testbed.scenario.validate import validate_against

            assert [e["event"] for e in events] == ["fail_site", "restore"] + ["link"] * 4
            ran = ran[: len(handed)]
            data = lab_scenario("lab2-check", checker.DURATION_S, events)
            validate_against(parse_scenario(data, "lab 2 check"), topo, "lab 2 check")
        assert handed == ran
        assert all(e.at > 0 for e in loaded.scenario.timeline)


@pytest.mark.parametrize("lab", NUMBERS)
def test_a_copy_records_the_generation_of_its_variants(tmp_path, lab):
    item = get_lab(lab)
    render(item, make_variant(lab, "alice"), tmp_path / "w")
    assert read_state(tmp_path / "w")["generation"] == generation(lab)


def test_a_copy_made_before_the_variants_changed_is_told_to_start_again(tmp_path):
    """Lab 1's variants changed (generation 2): an older copy is bad input, not tampering."""
    item = get_lab(1)
    dest = tmp_path / "w"
    render(item, make_variant(1, "alice"), dest)
    _tamper(dest, lambda s: s.pop("generation"))  # as copies made before it had none
    with pytest.raises(InputError, match=r"made by an older anycast-testbed, whose lab 1 "):
        variant_of(item, dest, None)
