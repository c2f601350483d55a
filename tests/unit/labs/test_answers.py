"""Reading answer and prediction files."""

from testbed.labs import answers

CLIENTS = ["oslo", "lima", "riga"]


def test_read_answers_problems(tmp_path):
    assert answers.read_answers(tmp_path / "none.yaml") == ({}, "none.yaml is missing")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1,\nb: 2\n")
    data, problem = answers.read_answers(bad)
    assert data == {} and "YAML syntax error" in problem and "line" in problem
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n")
    assert "mapping" in answers.read_answers(listy)[1]
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n")
    assert answers.read_answers(empty) == ({}, None)


def test_lookup_dotted():
    data = {"a": {"b": [1]}, "c": 2}
    assert answers.lookup(data, "a.b") == [1]
    assert answers.lookup(data, "c.d") is None
    assert answers.lookup(data, "x") is None


def test_client_set():
    assert answers.client_set(None, CLIENTS) == (None, answers.UNANSWERED)
    assert answers.client_set([], CLIENTS) == (set(), None)
    assert answers.client_set("oslo", CLIENTS) == ({"oslo"}, None)
    assert answers.client_set(["lima", "riga"], CLIENTS) == ({"lima", "riga"}, None)
    value, why = answers.client_set(["paris"], CLIENTS)
    assert value is None and "'paris' is not a client" in why
    assert answers.client_set({"a": 1}, CLIENTS)[1].startswith("must be a list")


def test_site_map():
    sites = ["ams", "syd"]
    full = {"oslo": "ams", "lima": "syd", "riga": "ams"}
    assert answers.site_map(full, CLIENTS, sites) == (full, None)
    assert (
        "no site predicted for riga" in answers.site_map({**full, "riga": None}, CLIENTS, sites)[1]
    )
    assert "'fra' is not a site" in answers.site_map({**full, "oslo": "fra"}, CLIENTS, sites)[1]
    assert "'x' is not a client" in answers.site_map({**full, "x": "ams"}, CLIENTS, sites)[1]
    assert answers.site_map([1], CLIENTS, sites)[1].startswith("must map")


def test_number():
    assert answers.number(None) == (None, answers.UNANSWERED)
    assert answers.number(3) == (3.0, None)
    assert "must be a number" in answers.number("fast")[1]
    assert "must be a number" in answers.number(True)[1]
    assert "between" in answers.number(11, 0, 10)[1]


def test_wrong_count():
    assert (
        answers.wrong_count({"oslo": "a", "lima": "b"}, {"oslo": "a", "lima": "a"}, CLIENTS[:2])
        == 1
    )
    assert answers.wrong_count({"oslo"}, {"lima"}, CLIENTS) == 2
    assert answers.wrong_count(set(), set(), CLIENTS) == 0


def test_parse_all_parses_each_question_and_names_the_first_problem(tmp_path):
    questions = {
        "movers": lambda x: answers.client_set(x, CLIENTS),
        "outage_s": lambda x: answers.number(x, 0, 600),
        "prepends": lambda x: answers.integer(x, 0, 10),
    }
    path = tmp_path / "answers.yaml"
    path.write_text("movers: [oslo]\noutage_s: 4.5\nprepends: 2\n")
    assert answers.parse_all(path, questions) == (
        {"movers": {"oslo"}, "outage_s": 4.5, "prepends": 2},
        None,
    )
    path.write_text("movers: [paris]\noutage_s: null\nprepends: 2\n")
    given, problem = answers.parse_all(path, questions)
    assert given == {"movers": None, "outage_s": None, "prepends": 2}
    assert problem.startswith("movers: 'paris' is not a client")
    assert answers.parse_all(tmp_path / "none.yaml", questions) == ({}, "none.yaml is missing")


def test_client_sets():
    keys = ["atlas", "boreal"]
    ok = answers.client_sets({"atlas": [], "boreal": ["oslo", "lima"]}, keys, CLIENTS, "transit")
    assert ok == ({"atlas": set(), "boreal": {"oslo", "lima"}}, None)
    assert answers.client_sets(None, keys, CLIENTS, "transit") == (None, answers.UNANSWERED)
    assert "every transit" in answers.client_sets([1], keys, CLIENTS, "transit")[1]
    why = answers.client_sets({"atlas": [], "cobalt": []}, keys, CLIENTS, "transit")[1]
    assert why == "'cobalt' is not a transit here (atlas, boreal)"
    why = answers.client_sets({"atlas": []}, keys, CLIENTS, "transit")[1]
    assert why == "no list for boreal ([] for none)"
    why = answers.client_sets({"atlas": [], "boreal": ["paris"]}, keys, CLIENTS, "transit")[1]
    assert why.startswith("boreal: 'paris' is not a client here")
