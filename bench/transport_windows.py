"""Transport outcomes per event window on a long many-event run (pure, no root).

Times :func:`testbed.analysis.transport.event_transport` on a synthetic run
(the unit test's: ``tests/unit/analysis/test_transport_windows.py``): each
client's records are cut at the event times once, an outcome before a cut
computed once.  ``--old`` also times the implementation before the cut (every
window filtered from the whole list, the outcomes before its start and end
computed per event) and checks both give the same tables.

    .venv/bin/python bench/transport_windows.py [--events 200] [--clients 8]
        [--records 5000] [--kinds tcp-stream,dns] [--old]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from testbed.analysis import transport  # noqa: E402
from tests.unit.analysis.test_transport_windows import (  # noqa: E402
    EVENTS,
    dumped,
    reference_event_transport,
    synthetic_run,
)


def main() -> None:
    """Build the run, time the analysis, print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=200, help="events (default 200)")
    p.add_argument("--clients", type=int, default=8, help="clients (default 8)")
    p.add_argument("--records", type=int, default=5000, help="records per client and kind")
    p.add_argument("--kinds", default="tcp-stream,dns", help=f"of {', '.join(EVENTS)}")
    p.add_argument("--old", action="store_true", help="also time the old implementation")
    args = p.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = [k for k in kinds if k not in EVENTS]
    if unknown:
        p.error(f"unknown kinds {', '.join(unknown)} (one of {', '.join(EVENTS)})")
    run, events, end = synthetic_run(args.events, args.clients, args.records, kinds)
    moved = sum(len(e.moved) for e in events)
    print(
        f"{args.events} events x {args.clients} clients x {args.records} records "
        f"({', '.join(kinds)}; {moved} client moves)"
    )
    start = time.perf_counter()
    new = transport.event_transport(run, events, end)
    new_s = time.perf_counter() - start
    print(f"cut once per client: {new_s:8.3f} s")
    if args.old:
        start = time.perf_counter()
        old = reference_event_transport(run, events, end)
        old_s = time.perf_counter() - start
        same = "same tables" if dumped(new) == dumped(old) else "TABLES DIFFER"
        print(f"old, per event:      {old_s:8.3f} s  ({old_s / new_s:.1f}x; {same})")


if __name__ == "__main__":
    main()
