"""The policy check in summary.json, the report and the valley_free expectation."""

from __future__ import annotations

from testbed.analysis.report import render_markdown
from testbed.analysis.summary import build_summary
from testbed.scenario.expect import evaluate
from tests.unit.analysis.helpers import RunBuilder

VIOLATION = {
    "router": "t5",
    "prefix": "198.18.1.0/24",
    "as_path": "65001 65002 64513",
    "best": True,
    "reason": "peer-peer: 65001 passed a route from its peer 65002 to its peer 65005",
}


def policy_run(tmp_path, violations=()):
    b = RunBuilder(tmp_path, duration=10, clients=["c1"], sites=["a"])
    b.dns_series("c1", 0, 10, 5, "a")
    for phase, t in (("converged", -1.0), ("end", 10.0)):
        listed = list(violations) if phase == "end" else []
        b._add(
            "policy",
            {
                "t": b.t0 + t,
                "kind": "policy",
                "phase": phase,
                "line": "policy check ...",
                "passed": not listed,
                "paths": 40,
                "ok": 40 - len(listed),
                "unknown": 0,
                "violation_count": len(listed),
                "violations": listed,
                **({"no_route": {"isp1": ["198.18.2.0/24"]}} if phase == "converged" else {}),
            },
        )
    return build_summary(b.write())


def test_the_checks_reach_the_summary_and_the_report(tmp_path):
    summary = policy_run(tmp_path)
    assert [(p.phase, p.t, p.passed, p.paths) for p in summary.policy] == [
        ("converged", -1.0, True, 40),
        ("end", 10.0, True, 40),
    ]
    assert summary.policy[0].no_route == {"isp1": ["198.18.2.0/24"]}
    report = render_markdown(summary)
    assert "## Policy check" in report
    assert "| converged | 40 | 40 | 0 | 0 |" in report
    assert "| isp1 | 198.18.2.0/24 |" in report
    (result,) = evaluate([{"check": "valley_free"}], summary)
    assert result["passed"] and result["check"] == "every path is valley-free"
    assert result["detail"] == "no violation (converged: 40 of 40 paths, end: 40 of 40 paths)"


def test_a_violation_fails_the_expectation_and_is_listed(tmp_path):
    summary = policy_run(tmp_path, [VIOLATION])
    (result,) = evaluate([{"check": "valley_free"}], summary)
    assert not result["passed"]
    assert result["detail"] == (
        "violations (end: 1); e.g. t5 198.18.1.0/24: peer-peer: 65001 passed a route "
        "from its peer 65002 to its peer 65005"
    )
    report = render_markdown(summary)
    assert "| end | t5 | 198.18.1.0/24 | 65001 65002 64513 | peer-peer:" in report


def test_without_a_check_the_expectation_fails_plainly(tmp_path):
    b = RunBuilder(tmp_path, duration=10, clients=["c1"], sites=["a"])
    b.dns_series("c1", 0, 10, 5, "a")
    summary = build_summary(b.write())
    assert summary.policy == []
    (result,) = evaluate([{"check": "valley_free"}], summary)
    assert not result["passed"] and "no policy check was made" in result["detail"]
    assert "## Policy check" not in render_markdown(summary)
