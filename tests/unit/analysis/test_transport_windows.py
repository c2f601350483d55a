"""Per-event transport outcomes on a many-event run: one pass per client, the old results.

:func:`reference_event_transport` is the implementation before the records
were cut at the event times (each window filtered from the whole list, the
outcomes before its start and end computed for every event); the cut one
must give the same outcomes, field for field and in the same order.
:func:`synthetic_run` makes the run (also used by ``bench/transport_windows.py``).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest

from testbed.analysis import transport
from testbed.analysis.load import RunRecords
from testbed.analysis.model import EventSummary, TransportOutcome
from testbed.probes.kinds import kind_class

Record = Dict[str, Any]
T0 = 1000.0
#: The kinds of the synthetic run, with the record kind and the events their outcomes read.
EVENTS = {
    "dns": ("dns", ()),
    "tcp-stream": ("tcp", ("connected", "reset", "timeout", "eof", "closed", "connect_failed")),
    "tcp-retry": ("retry", ("attempt", "attempt_failed", "break", "recovered", "stopped")),
    "dns-tcp": ("dnstcp", ("answered", "failed")),
    "http-short": ("http", ("ok", "failed")),
    "hybrid": ("hybrid", ("connected", "unrecovered", "reset", "timeout", "eof",
                          "connect_failed", "resolve_failed", "resolved")),
    "quic": ("quic", ("connected", "rtt", "closed", "stateless_reset", "idle_timeout",
                      "peer_closed")),
}  # fmt: skip


def synthetic_record(rng: random.Random, kind: str, t: float, seq: int) -> Record:
    """One record of ``kind`` at ``t`` with every field any outcome reads, drawn."""
    prefix, events = EVENTS[kind]
    record: Record = {"t": t, "seq": seq, "kind": prefix, "client": "c"}
    if kind == "dns":
        record.update(status=rng.choice(("ok", "ok", "ok", "timeout")), rtt=rng.random() / 50)
        return record
    record.update(
        event=rng.choice(events),
        stream=rng.randrange(3),
        conn=rng.randrange(3),
        attempt=rng.choice((1, 1, 2)),
        gap=rng.choice((None, round(rng.random(), 3))),
        since_answer=rng.choice((None, round(rng.random(), 3))),
        reason=rng.choice(("reset", "timeout", "eof")),
        up=rng.random() < 0.5,
        lost=rng.randrange(4),
        unanswered=rng.randrange(4),
        recover_s=round(rng.random(), 3),
        longest_gap=round(rng.random(), 3),
        silence=rng.choice((None, round(rng.random(), 3))),
        rtt=rng.random() / 50,
        latency=rng.random() / 20,
        error=rng.choice(("ECONNRESET", "timed out", "ECONNREFUSED", "eof")),
        resumed=rng.random() < 0.5,
        early_data=rng.random() < 0.3,
        stall=rng.random() < 0.2,
        again=rng.random() < 0.3,
    )
    return record


def synthetic_run(
    events: int,
    clients: int,
    records: int,
    kinds: Sequence[str] = tuple(EVENTS),
    seed: int = 14,
) -> Tuple[RunRecords, List[EventSummary], float]:
    """A run of ``events`` events over ``events + 1`` seconds, ``clients`` clients with
    ``records`` records of each kind in time order (as the loader gives them; a tenth at
    an event's time), each event moving a random share of the clients; the run, its events
    and its end (relative)."""
    rng = random.Random(seed)
    duration = float(events + 1)
    names = [f"c{i}" for i in range(clients)]
    at = sorted(rng.uniform(0.0, duration) for _ in range(events))

    def when() -> float:  # one in ten at an event's very time, on a window's edge
        if at and rng.random() < 0.1:
            return T0 + rng.choice(at)
        return T0 + rng.uniform(-1.0, duration + 1.0)

    def records_of(kind: str) -> List[Record]:
        times = sorted(when() for _ in range(records))
        return [synthetic_record(rng, kind, t, seq) for seq, t in enumerate(times)]

    per_kind = {kind: {name: records_of(kind) for name in names} for kind in kinds}
    run = RunRecords(
        run_dir=Path("synthetic"),
        meta={"traffic": {"kinds": list(kinds)}},
        t0=T0,
        dns=per_kind.pop("dns", {}),
        tcp=per_kind.pop("tcp-stream", {}),
        transport=per_kind,
    )
    summaries = [
        EventSummary(
            t=t, kind="fail_site", moved=sorted(rng.sample(names, rng.randint(0, clients)))
        )
        for t in at
    ]
    return run, summaries, duration


# ---------------------------------------------------------- the old implementation
def _before(records: Sequence[Record], t: float) -> List[Record]:
    return [r for r in records if float(r.get("t", 0.0)) < t]


def _between(records: Sequence[Record], start: float, end: float) -> List[Record]:
    return [r for r in records if start <= float(r.get("t", 0.0)) < end]


def reference_window_outcome(kind: str, records: Sequence[Record], start: float, end: float) -> Any:
    """``window_outcome`` before the cut: three passes over the whole list."""
    cls = kind_class(kind)
    inside = cls.outcome(_between(records, start, end))
    if inside is None or not cls.long_lived:
        return inside
    a, b = cls.outcome(_before(records, start)), cls.outcome(_before(records, end))
    out = TransportOutcome(kind=kind, lost_unit=b.lost_unit)
    out.reset = b.reset - a.reset
    out.timed_out = b.timed_out - a.timed_out
    out.failed = b.failed - a.failed
    out.recovered = b.recovered - a.recovered
    out.recover_s = list(b.recover_s[len(a.recover_s) :])
    out.longest_gap_s = inside.longest_gap_s
    if a.lost is not None and b.lost is not None:
        out.lost = b.lost - a.lost
    out.flows = a.survived if a.survived else b.flows - a.flows
    out.survived = max(out.flows - out.reset - out.timed_out - transport._other_breaks(a, b), 0)
    ends = transport._diff({k: v for k, v in a.ends.items() if k != "survived"}, b.ends)
    ends.pop("survived", None)
    ends["survived"] = out.survived
    out.ends = ends
    return out


def reference_event_transport(
    run: RunRecords, events: Sequence[EventSummary], end: float
) -> List[Dict[str, TransportOutcome]]:
    """``event_transport`` before the cut: every event, kind and moved client on its own."""
    kinds = transport.run_kinds(run)
    out: List[Dict[str, TransportOutcome]] = []
    for event, (start, stop) in zip(events, transport.windows(events, end), strict=True):
        table: Dict[str, TransportOutcome] = {}
        for kind in kinds:
            per_client = transport.records_of(run, kind)
            total: Optional[TransportOutcome] = None
            for client in event.moved:
                records = per_client.get(client)
                if not records:
                    continue
                one = reference_window_outcome(kind, records, run.t0 + start, run.t0 + stop)
                if one is not None:
                    total = transport.add(total, one)
            if total is not None:
                table[kind] = total
        out.append(table)
    return out


def dumped(tables: List[Dict[str, TransportOutcome]]) -> List[List[Tuple[str, Any]]]:
    """The tables as comparable data, kinds in their order (and ``ends`` keys in theirs)."""
    return [[(k, o.model_dump(), list(o.ends)) for k, o in table.items()] for table in tables]


# ------------------------------------------------------------------------ tests
def test_many_events_give_the_old_outcomes():
    run, events, end = synthetic_run(events=40, clients=6, records=600)
    got = transport.event_transport(run, events, end)
    want = reference_event_transport(run, events, end)
    assert dumped(got) == dumped(want)
    assert sum(len(table) for table in got) > 100  # the run exercised the kinds
    assert {k for table in got for k in table} == set(EVENTS)


def test_a_client_moved_twice_in_one_event_counts_twice_as_before():
    run, events, end = synthetic_run(events=5, clients=3, records=200, kinds=("tcp-stream",))
    events = [e.model_copy(update={"moved": ["c0", "c0", *e.moved]}) for e in events]
    got = transport.event_transport(run, events, end)
    assert dumped(got) == dumped(reference_event_transport(run, events, end))


@pytest.mark.parametrize("kind", sorted(EVENTS))
def test_records_out_of_time_order_keep_their_order_in_a_window(kind):
    rng = random.Random(7)
    records = [synthetic_record(rng, kind, T0 + rng.uniform(0, 30), seq) for seq in range(300)]
    for start, stop in ((T0 + 5, T0 + 12), (T0 - 1, T0 + 40), (T0 + 12, T0 + 5)):
        got = transport.window_outcome(kind, records, start, stop)
        want = reference_window_outcome(kind, records, start, stop)
        assert (got and got.model_dump()) == (want and want.model_dump())


def test_the_outcome_before_a_cut_is_computed_once():
    run, events, end = synthetic_run(events=10, clients=1, records=300, kinds=("tcp-stream",))
    cuts = transport.Cuts("tcp-stream", run.tcp["c0"])
    spans = [(run.t0 + a, run.t0 + b) for a, b in transport.windows(events, end)]
    for span in spans:
        cuts.window(*span)
    assert sorted(cuts._before) == sorted({t for span in spans for t in span})
