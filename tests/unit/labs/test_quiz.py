"""``anycast-testbed lab quiz N``: reasoning questions on a random variant (no root, no network)."""

from __future__ import annotations

import copy

import pytest
import yaml
from click.testing import CliRunner

from testbed.labs import answers, lab1, lab2, lab3, lab4, lab5, lab6, lab7, lab8, lab9
from testbed.labs.cli import lab
from testbed.labs.quiz import QUIZZES, make_quiz, parse
from testbed.labs.registry import get_lab
from testbed.labs.workcopy import render

SUPPORTED = sorted(QUIZZES)
SEEDS = (0, 1, 2, 17, 4242)


def quiz(*args, stdin=None):
    """``lab quiz ARGS`` through click's runner: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(lab, ["quiz", *map(str, args)], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path, data, name="answers.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_supported_labs():
    assert SUPPORTED == [1, 2, 3, 4, 5, 6, 7, 8, 9]


@pytest.mark.parametrize("number", SUPPORTED)
@pytest.mark.parametrize("seed", SEEDS)
def test_the_reasonings_answers_score_full_marks(tmp_path, number, seed):
    _variant, q = make_quiz(number, seed)
    path = write(tmp_path, q.solution)
    code, out, err = quiz(number, "--seed", seed, "--answers", path)
    marks = len(q.grade(_parsed(q, _variant)))
    assert code == 0, out + err
    assert f"score: {marks}/{marks}" in out
    assert "WRONG" not in out and "hint:" not in out
    assert f"seed {seed}" in out


def _parsed(q, variant):
    clients = [c.name for c in variant.clients]
    return {x.key: parse(x, answers.lookup(q.solution, x.key), clients)[0] for x in q.questions}


@pytest.mark.parametrize("number", SUPPORTED)
def test_the_instructor_solution_scores_full_marks(tmp_path, number):
    """The lab's own solution files, rendered for the quiz's variant, are right in the quiz."""
    variant, q = make_quiz(number, 99)
    dest = tmp_path / "sol"
    render(get_lab(number), variant, dest, solution=True)
    code, out, err = quiz(number, "--seed", 99, "--answers", dest / q.file)
    assert code == 0, out + err


def _lab7_wrong(data, variant):
    sites = [s.name for s in variant.site.values()]
    data["overloaded_after"] = sorted(set(data["overloaded_after"]) ^ {sites[0]})


def _flip_first(data, variant, key):
    first = variant.clients[0].name
    data[key] = sorted(set(data[key]) ^ {first})


#: lab -> (spoil one answer of the solution, the hint it must print, the right value hidden).
WRONG = {
    1: (lambda d, v: d["catchment"].update(
        {v.clients[0].name: next(s.name for s in v.site.values()
                                 if s.name != d["catchment"][v.clients[0].name])}),
        lab1.HINT_PREDICT, None),
    2: (lambda d, v: d.update(min_prepend=d["min_prepend"] + 1), lab2.HINT_MIN, "min_prepend"),
    3: (lambda d, v: d.update(largest_interval_ms=d["largest_interval_ms"] + 10),
        lab3.HINT_INTERVAL, "largest_interval_ms"),
    4: (lambda d, v: _flip_first(d, v, "blackholed_clients"), lab4.HINT_BLACKHOLED, None),
    5: (lambda d, v: d["udp_outage_over_1s"].update(
        {v.site["a"].name: sorted(set(d["udp_outage_over_1s"][v.site["a"].name])
                                  ^ {v.clients[0].name})}), lab5.HINT_UDP, None),
    6: (lambda d, v: _flip_first(d, v, "not_shortest"), lab6.HINT_SHORTEST, None),
    7: (_lab7_wrong, lab7.HINT_CASCADE, None),
    8: (lambda d, v: d.update(video_recovery_s=d["video_recovery_s"] + 5), lab8.HINT_FIGURE,
        None),
    9: (lambda d, v: d.update(faster="gslb" if d["faster"] == "anycast" else "anycast"),
        lab9.HINT_FASTER, "faster"),
}  # fmt: skip


@pytest.mark.parametrize("number", SUPPORTED)
@pytest.mark.parametrize("seed", SEEDS[:3])
def test_a_wrong_answer_scores_less_and_gets_the_hint(tmp_path, number, seed):
    variant, q = make_quiz(number, seed)
    spoil, hint, key = WRONG[number]
    data = copy.deepcopy(q.solution)
    spoil(data, variant)
    path = write(tmp_path, data)
    code, out, _err = quiz(number, "--seed", seed, "--answers", path)
    assert code == 1
    total = out.count("RIGHT ") + out.count("WRONG ")
    assert out.count("WRONG ") == 1 and f"score: {total - 1}/{total}" in out
    assert f"hint: {hint}" in out
    assert "The right answers" not in out
    if key is not None:  # the right value is nowhere in the output
        assert f"{key}: {q.solution[key]}" not in out
    code, shown, _err = quiz(number, "--seed", seed, "--answers", path, "--show")
    assert code == 1 and "The right answers" in shown
    assert yaml.safe_load(shown.split("The right answers", 1)[1].split("\n", 1)[1]) == (q.solution)


def test_same_seed_same_quiz(tmp_path):
    for number in SUPPORTED:
        _v, q = make_quiz(number, 5)
        path = write(tmp_path, q.solution, f"lab{number}.yaml")
        first = quiz(number, "--seed", 5, "--answers", path)
        assert first == quiz(number, "--seed", 5, "--answers", path)
        assert make_quiz(number, 5)[1].solution == q.solution
        assert make_quiz(number, 5)[1].intro == q.intro
    intros = {make_quiz(1, seed)[1].intro for seed in range(6)}
    assert len(intros) > 1  # other seeds, other quizzes


def test_without_seed_a_random_one_is_printed(tmp_path):
    code, out, _err = quiz(2, stdin="")
    assert "--seed " in out and code != 0  # no input: aborted at the first prompt


def test_interactive(tmp_path):
    variant, q = make_quiz(2, 3)
    sol = q.solution
    lines = [sol["before"][c.name] for c in variant.clients]
    lines += [", ".join(sol["med_backup_clients"]) or "-", str(sol["min_prepend"])]
    links = [", ".join(names) or "-" for names in sol["if_link_down"].values()]
    code, out, err = quiz(2, "--seed", 3, stdin="\n".join(lines + links) + "\n")
    assert code == 0, out + err
    assert "score: 4/4" in out
    # a wrong number, after a name that is not a client (asked again)
    lines[-2] = "nobody-here"
    lines.insert(-1, ", ".join(sol["med_backup_clients"]) or "-")
    lines[-1] = str(sol["min_prepend"] + 2)
    code, out, _err = quiz(2, "--seed", 3, stdin="\n".join(lines + links) + "\n")
    assert code == 1 and "again" in out and f"hint: {lab2.HINT_MIN}" in out


def test_interactive_lab9(tmp_path):
    _variant, q = make_quiz(9, 11)
    sol = q.solution
    lines = [str(sol["ttl"]), str(sol["interval"]), str(sol["predicted_gslb_worst_s"]),
             sol["faster"]]  # fmt: skip
    code, out, err = quiz(9, "--seed", 11, stdin="\n".join(lines) + "\n")
    assert code == 0 and "score: 5/5" in out, out + err


def one_line(code, out, err):
    assert code == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert not out.strip()
    return lines[0]


def test_unknown_lab():
    assert "no lab 12" in one_line(*quiz(12, "--seed", 1))


def test_lab3_grades_the_silent_outage_and_the_largest_interval(tmp_path):
    variant, q = make_quiz(3, 5)
    data = dict(q.solution, predicted_outage_silent_s=variant.params["hold"] + 2)
    code, out, _err = quiz(3, "--seed", 5, "--answers", write(tmp_path, data))
    assert code == 1 and "score: 1/2" in out and lab3.HINT_SILENT in out
    data = dict(q.solution, largest_interval_ms=q.solution["largest_interval_ms"] * 2)
    code, out, _err = quiz(3, "--seed", 5, "--answers", write(tmp_path, data))
    assert code == 1 and "score: 1/2" in out and lab3.HINT_INTERVAL in out


def test_bad_answer_files(tmp_path):
    variant, q = make_quiz(2, 1)
    missing = tmp_path / "nope.yaml"
    assert str(missing) in one_line(*quiz(2, "--seed", 1, "--answers", missing))
    broken = tmp_path / "broken.yaml"
    broken.write_text("before: [unclosed\n")
    assert str(broken) in one_line(*quiz(2, "--seed", 1, "--answers", broken))
    listed = write(tmp_path, ["a", "b"], "list.yaml")
    assert "mapping" in one_line(*quiz(2, "--seed", 1, "--answers", listed))
    data = copy.deepcopy(q.solution)
    data["med_backup_clients"] = ["not-a-client"]
    line = one_line(*quiz(2, "--seed", 1, "--answers", write(tmp_path, data, "bad.yaml")))
    assert line.startswith("anycast-testbed: ") and "bad.yaml: med_backup_clients:" in line
    data = copy.deepcopy(q.solution)
    data["min_prepend"] = None
    line = one_line(*quiz(2, "--seed", 1, "--answers", write(tmp_path, data, "null.yaml")))
    assert "null.yaml: min_prepend: not answered" in line
    _v5, q5 = make_quiz(5, 1)
    data = copy.deepcopy(q5.solution)
    del data["prepend"]
    line = one_line(*quiz(5, "--seed", 1, "--answers", write(tmp_path, data, "nested.yaml")))
    assert "nested.yaml: prepend:" in line


def test_through_the_main_entry_point(tmp_path, capsys):
    """``anycast-testbed lab quiz``: the same statuses through the real entry point."""
    from testbed.cli import main

    _v, q = make_quiz(6, 8)
    path = write(tmp_path, q.solution)
    with pytest.raises(SystemExit) as done:
        main(["lab", "quiz", "6", "--seed", "8", "--answers", str(path)])
    assert done.value.code == 0 and "score: 4/4" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        main(["lab", "quiz", "12"])
    assert done.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_in_the_student_build():
    """The quiz and the reasoning it grades with stay in the student build."""
    from tests.unit.labs.test_student_dist import _module

    files = set(_module().members())
    reasoning = ("reasoning", "steering", "remedies", "gslbdesign", "healthdesign")
    for name in ("quiz", *reasoning, "variant"):
        assert f"testbed/labs/{name}.py" in files
    assert "testbed/labs/solution.py" not in files
