"""--seed: the same seed makes a probe send the same queries (DNS ids, start offsets)."""

from __future__ import annotations

import pytest

from testbed.probes.dns import Answer, QueryTracker, probe_rng, qname, query_ids
from testbed.probes.tcp import start_offsets
from tests.unit.probes.helpers import read
from tests.unit.probes.test_dns_probe import SlowOddServer, procs  # noqa: F401 (fixture)


def test_same_seed_and_client_give_the_same_query_ids():
    first = query_ids(probe_rng(7, "paris"), 50)
    assert first == query_ids(probe_rng(7, "paris"), 50)
    assert first != query_ids(probe_rng(8, "paris"), 50)  # another seed
    assert first != query_ids(probe_rng(7, "tokyo"), 50)  # another client
    assert all(0 <= q < 65536 for q in first)
    assert first != [seq % 65536 for seq in range(50)]  # random, not the sequence number


def test_an_answer_must_carry_the_drawn_id():
    tr = QueryTracker("paris", timeout=1.0)
    tr.sent(3, t=10.0, mono=0.0, qid=4242)
    assert tr.answered(Answer(qname(3, "paris"), 3, "NOERROR", "lon"), mono=0.01) is None
    record = tr.answered(Answer(qname(3, "paris"), 4242, "NOERROR", "lon"), mono=0.02)
    assert record is not None and record["id"] == 4242 and record["status"] == "ok"


def test_stream_start_offsets_are_seeded_and_within_one_interval():
    offsets = start_offsets(7, "paris", 4, 0.2)
    assert offsets == start_offsets(7, "paris", 4, 0.2)
    assert offsets != start_offsets(7, "tokyo", 4, 0.2)
    assert len(offsets) == 4 and all(0 <= o < 0.2 for o in offsets)
    assert len(set(offsets)) == 4


def run_probe(procs, tmp_path, port: int, seed: int, name: str):  # noqa: F811
    out = tmp_path / f"{name}.jsonl"
    probe = procs.start(
        "testbed.probes.dns", "--client", "paris", "--target", "127.0.0.1", "--port", str(port),
        "--rate", "20", "--timeout", "0.5", "--duration", "0.5", "--seed", str(seed),
        "--out", str(out),
    )  # fmt: skip
    _, err = probe.communicate(timeout=10)
    assert probe.returncode == 0, err
    return sorted(read(out), key=lambda r: r["seq"])


@pytest.mark.timeout(30)
def test_two_runs_with_one_seed_send_the_same_queries(procs, tmp_path):  # noqa: F811
    server = SlowOddServer(delay=0.0)
    try:
        a = run_probe(procs, tmp_path, server.port, 7, "a")
        b = run_probe(procs, tmp_path, server.port, 7, "b")
        c = run_probe(procs, tmp_path, server.port, 8, "c")
    finally:
        server.close()
    assert [r["seq"] for r in a] == list(range(10))
    assert [r["status"] for r in a] == ["ok"] * 10  # answers matched on the drawn ids
    ids = [r["id"] for r in a]
    assert ids == [r["id"] for r in b] == query_ids(probe_rng(7, "paris"), 10)
    assert ids != [r["id"] for r in c]


def test_the_first_query_offset_is_seeded_and_within_one_period():
    from testbed.probes.dns import start_offset

    assert start_offset(7, "paris", 0.05) == start_offset(7, "paris", 0.05)
    assert start_offset(7, "paris", 0.05) != start_offset(7, "tokyo", 0.05)
    assert all(0 <= start_offset(s, "paris", 0.05) < 0.05 for s in range(20))
