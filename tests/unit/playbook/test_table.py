"""Shares, moves, the table and the files of a playbook, on hand-made observations (pure)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from testbed.playbook.actions import basic_actions
from testbed.playbook.model import Playbook, Timings
from testbed.playbook.output import csv_text, markdown, write_all
from testbed.playbook.table import (
    Observation,
    build_playbook,
    moves,
    problems,
    shares,
    table_header,
    table_rows,
)

SITES = ["east", "west"]
CLIENTS = [("ca", "ispa", 3.0), ("cb", "ispb", 1.0), ("cc", "ispc", 0.0)]
WEIGHTS = {n: w for n, _a, w in CLIENTS}
BASELINE = {"ca": "east", "cb": "west", "cc": "east"}
PREPEND1, PREPEND2, PREPEND3, WITHDRAW = basic_actions()


def observation(action, after, back=None, **kw):
    return Observation("east", action, after, dict(back or BASELINE), **kw)


def book(observations, **kw) -> Playbook:
    return build_playbook(
        topology="t",
        service="192.0.2.53",
        created="2026-12-01T00:00:00+00:00",
        sites=SITES,
        clients=CLIENTS,
        baseline=BASELINE,
        observations=observations,
        **kw,
    )


def test_shares_by_weight_and_by_count_cover_every_site():
    spread = shares(SITES + ["south"], {"ca": "east", "cb": None, "cc": "east"}, WEIGHTS)
    assert spread.weights == {"east": 3.0, "west": 0.0, "south": 0.0}
    assert spread.shares == {"east": 0.75, "west": 0.0, "south": 0.0}
    assert spread.client_shares == pytest.approx({"east": 2 / 3, "west": 0.0, "south": 0.0})
    assert (spread.no_answer, spread.unanswered) == (0.25, 1)
    assert sum(spread.shares.values()) + spread.no_answer == pytest.approx(1.0)


def test_moves_name_each_client_that_changed_site_with_its_weight():
    moved = moves(BASELINE, {"ca": "west", "cb": "west", "cc": None}, WEIGHTS)
    assert [(m.client, m.weight, m.from_site, m.to_site) for m in moved] == [
        ("ca", 3.0, "east", "west"),
        ("cc", 0.0, "east", None),
    ]


def test_withdrawing_a_site_moves_exactly_its_clients():
    result = book(
        [
            observation(
                WITHDRAW,
                {"ca": "west", "cb": "west", "cc": "west"},
                routers_changed=2,
                converge_s=0.3124,
            )
        ]  # fmt: skip
    )
    step = result.steps[0]
    assert step.label == "east withdraw"
    assert [m.client for m in step.moved] == ["ca", "cc"]
    assert (step.clients_moved, step.weight_moved, step.share_moved) == (2, 3.0, 0.75)
    assert step.after.shares == {"east": 0.0, "west": 1.0}
    assert step.converge_s == 0.312
    assert step.back and step.not_back == []
    assert result.baseline.shares == {"east": 0.75, "west": 0.25}
    assert result.total_weight == 4.0
    assert result.matrix["ca"] == {"baseline": "east", "east withdraw": "west"}


def test_a_client_not_back_after_the_revert_is_reported():
    result = book([observation(PREPEND1, BASELINE, back={**BASELINE, "cb": "east"})])
    step = result.steps[0]
    assert not step.back
    assert [(m.client, m.from_site, m.to_site) for m in step.not_back] == [("cb", "west", "east")]
    assert problems(result) == ["east prepend1: after the revert, cb at east (not west)"]
    assert table_rows(result)[1][-1] == "NO: cb at east"


def test_table_rows_and_columns():
    result = book(
        [
            observation(PREPEND1, BASELINE),
            observation(
                WITHDRAW,
                {"ca": "west", "cb": "west", "cc": None},
                routers_changed=3,
                converge_s=0.5,
                no_route=["x"],
            ),  # fmt: skip
            observation(PREPEND2, BASELINE, converged=False),
        ],
        timings=Timings(total_s=12.0),
    )
    header = table_header(result)
    assert header == [
        "action", "east", "west", "no answer",
        "clients moved", "weight moved", "converged in", "back",
    ]  # fmt: skip
    rows = table_rows(result)
    assert rows[0] == ["baseline", "75.0%", "25.0%", "0", "", "", "", ""]
    assert rows[1] == ["east prepend1", "75.0%", "25.0%", "0", "0", "0", "no change", "yes"]
    assert rows[2][1:7] == [
        "0",
        "100.0%",
        "0",
        "2 (ca, cc)",
        "3 (75.0%)",
        "0.50 s (1 routers without a route)",
    ]
    assert rows[3][6] == "NOT in time"
    assert "east prepend2: BGP did not converge in time after the action" in problems(result)


def test_csv_json_and_markdown_agree(tmp_path):
    result = book(
        [observation(WITHDRAW, {"ca": "west", "cb": "west", "cc": "west"}, routers_changed=1)],
        skipped=["nyc: no communities"],
    )
    rows = list(csv.reader(io.StringIO(csv_text(result))))
    head = rows[0]
    withdraw = dict(zip(head, rows[2], strict=True))
    assert withdraw["share_east"] == "0.0" and withdraw["share_west"] == "1.0"
    assert withdraw["moved"] == "ca cc" and withdraw["weight_moved"] == "3.0"
    assert rows[1][0] == "baseline" and len(rows[1]) == len(head)
    md = markdown(result)
    assert "| east withdraw | 0 | 100.0% | 2 (ca, cc) | 3 (75.0%) |" in md
    assert "- nyc: no communities" in md
    paths = write_all(result, tmp_path)
    assert [p.name for p in paths] == [
        "playbook.json",
        "playbook.csv",
        "playbook.md",
        "playbook.png",
    ]
    assert (tmp_path / "playbook.png").read_bytes()[:4] == b"\x89PNG"
    again = Playbook.model_validate(json.loads((tmp_path / "playbook.json").read_text()))
    assert again == result


def test_the_json_refuses_unknown_fields():
    data = json.loads(book([]).to_json())
    data["surprise"] = 1
    with pytest.raises(ValueError, match="surprise"):
        Playbook.model_validate(data)
