"""Sweep rows: figures from a summary, UPDATE counts, the CSV, the time estimate, plots."""

import csv

from testbed.analysis.model import Summary
from testbed.analysis.updates import updates_per_event
from testbed.sweep.eta import Eta, human
from testbed.sweep.figures import moved_clients, run_figures
from testbed.sweep.plots import plot_sweep
from testbed.sweep.table import SweepCsv, columns, read_rows


def client(before, after, max_outage, lost=0, resets=0):
    return {
        "site_before": before,
        "site_after": after,
        "dns": {"max_outage_s": max_outage, "lost": lost},
        "tcp": {"resets": [{"stream": i, "t": 10.0 + i} for i in range(resets)]},
    }


SUMMARY = Summary.model_validate(
    {
        "frr_version": "8.4.4",
        "clients": {
            "ca": client("east", "east", 2.5, lost=50, resets=2),
            "cb": client("west", "west", 0.0),
            "cc": client("east", "west", 1.5, lost=30, resets=1),
        },
        "events": [
            {"convergence_s": 2.4, "moved": ["ca", "cc"]},
            {"convergence_s": 0.2, "moved": ["ca"]},
            {"convergence_s": None, "moved": []},
        ],
        "network": {"route_changes": 7},
        "expect": [{"passed": True}, {"passed": False}],
    }
)


def test_moved_clients_from_events_and_end_sites():
    assert moved_clients(SUMMARY) == ["ca", "cc"]
    alone = Summary.model_validate({"clients": {"x": client("a", "b", 0)}, "events": []})
    assert moved_clients(alone) == ["x"]


def test_run_figures():
    row = run_figures(SUMMARY, updates=[12, 4, None])
    assert row["moved"] == 2
    assert row["max_outage_s"] == 2.5 and row["mean_outage_s"] == 2.0
    assert row["dns_lost"] == 80 and row["tcp_resets"] == 3
    assert row["convergence_s"] == 2.4 and row["route_changes"] == 7
    assert row["expect"] == "1/2"
    assert row["convergence_e0_s"] == 2.4 and row["convergence_e2_s"] is None
    assert row["updates_e0"] == 12 and row["updates_e1"] == 4 and row["updates_e2"] is None


def test_run_figures_without_moves_or_events():
    quiet = Summary.model_validate({"clients": {"a": client("s", "s", 0.0)}, "events": []})
    row = run_figures(quiet, n_events=2)
    assert row["moved"] == 0 and row["max_outage_s"] is None and row["mean_outage_s"] is None
    assert row["convergence_s"] is None and row["convergence_e1_s"] is None
    assert row["expect"] == "0/0"


def counter(t, router, peer, out):
    return {
        "t": t,
        "kind": "bgp",
        "router": router,
        "peer": peer,
        "event": "counters",
        "updates_in": 0,
        "updates_out": out,
    }


def test_updates_per_event_from_counter_snapshots():
    bgp = [
        counter(1, "a", "b", 10),
        counter(1, "b", "a", 5),
        counter(6, "a", "b", 14),
        counter(6, "b", "a", 9),  # after event 0 (t=5)
        counter(12, "a", "b", 20),
        counter(12, "b", "a", 9),  # after event 1 (t=10), final
        {"t": 3, "kind": "bgp", "event": "state", "router": "a", "peer": "b"},
    ]
    assert updates_per_event(bgp, [5, 10]) == [8, 6]
    assert updates_per_event(bgp, [0.5]) == [None]  # no snapshot before the event
    # a session reset starts its counter again
    reset = [counter(1, "a", "b", 10), counter(6, "a", "b", 3)]
    assert updates_per_event(reset, [2]) == [3]


def test_csv_is_written_row_by_row_and_read_back(tmp_path):
    path = tmp_path / "sweep.csv"
    header = columns(["bgp.hold", "bfd"], n_events=2)
    assert header[:6] == ["run", "bgp.hold", "bfd", "repeat", "status", "exit"]
    assert "convergence_e1_s" in header and "updates_e1" in header
    with SweepCsv(path, header) as table:
        table.write(
            {
                "run": 1,
                "bgp.hold": "3",
                "bfd": "off",
                "repeat": 1,
                "status": "ok",
                **run_figures(SUMMARY, [12, 4], n_events=2),
            }
        )
        # flushed: readable before the file is closed
        assert len(list(csv.DictReader(path.open()))) == 1
        table.write(
            {
                "run": 2,
                "bgp.hold": "9",
                "bfd": "on",
                "repeat": 1,
                "status": "error",
                "error": "TestbedError: boom",
            }
        )
    rows = read_rows(path)
    assert rows[0]["bgp.hold"] == 3 and rows[0]["bfd"] == "off" and rows[0]["max_outage_s"] == 2.5
    assert rows[0]["updates_e1"] == 4
    assert rows[1]["status"] == "error" and rows[1]["max_outage_s"] is None


def test_eta_learns_the_overhead():
    eta = Eta([20, 20, 40], overhead=10)
    assert eta.left(0) == 110
    eta.done(0, 26)  # 6 s beyond its traffic
    assert eta.left(1) == 60 + 2 * 6
    assert eta.left(3) == 0
    assert human(45) == "45 s" and human(600) == "10 min" and human(3900) == "1 h 05 min"


def test_plots_one_png_per_parameter(tmp_path):
    rows = []
    for r in (1, 2, 3):
        for hold in ("3", "9"):
            for bfd in ("off", "on"):
                out = 0.3 if bfd == "on" else int(hold) - 0.2 * r
                rows.append(
                    {
                        "bgp.hold": hold,
                        "bfd": bfd,
                        "repeat": r,
                        "status": "ok",
                        "max_outage_s": out,
                        "convergence_s": out - 0.05,
                    }
                )
    rows.append({"bgp.hold": "3", "bfd": "on", "status": "interrupted", "max_outage_s": 99})
    pngs = plot_sweep(rows, [("bgp.hold", ("3", "9")), ("bfd", ("off", "on"))], tmp_path)
    assert [p.name for p in pngs] == ["by-bgp.hold.png", "by-bfd.png"]
    assert all(p.stat().st_size > 5000 for p in pngs)
    assert plot_sweep([], [("bfd", ("off",))], tmp_path / "none") == []
