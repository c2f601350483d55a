"""``sweep.csv``: one row per run, written and flushed as each run ends.

Columns: ``run``, each swept parameter (as typed), ``repeat``, ``status``
(``ok``, ``failed``: some expectation failed, ``interrupted``, ``error``),
``exit``, the figures (:data:`testbed.sweep.figures.FIGURES`, ``expect``,
per-event convergence and UPDATEs), ``frr_version``, ``run_dir`` (relative
to the sweep folder) and ``error``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from testbed.sweep.figures import FIGURES, event_columns

#: Statuses whose figures are meaningful (plotted, judged).
COMPLETE = ("ok", "failed")


def columns(params: Sequence[str], n_events: int, labels: Sequence[str] = ()) -> List[str]:
    """The CSV header.

    Args:
        params: the swept parameter keys.
        n_events: the most events any run of the sweep has.
        labels: extra label columns (experiments: ``n``, ``mrai``...), before the parameters.

    Returns:
        Column names in order.
    """
    return [
        "run",
        *labels,
        *params,
        "repeat",
        "status",
        "exit",
        *FIGURES,
        "expect",
        *event_columns(n_events),
        "frr_version",
        "run_dir",
        "error",
    ]


class SweepCsv:
    """Append rows to ``sweep.csv``, flushing after each (a crash keeps them)."""

    def __init__(self, path: Path, header: Sequence[str]):
        self.path = path
        self.header = list(header)
        self._fh = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.DictWriter(self._fh, fieldnames=self.header, extrasaction="ignore")
        self._writer.writeheader()
        self._fh.flush()

    def write(self, row: Dict[str, Any]) -> None:
        """Write one row (missing columns empty, None as empty) and flush it."""
        self._writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in self.header})
        self._fh.flush()

    def close(self) -> None:
        """Close the file."""
        self._fh.close()

    def __enter__(self) -> SweepCsv:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def read_rows(path: Path) -> List[Dict[str, Any]]:
    """Read ``sweep.csv`` back, numbers as numbers and empty cells as None.

    Args:
        path: the CSV file.

    Returns:
        One dict per row.
    """
    with open(path, newline="", encoding="utf-8") as fh:
        return [{k: _cell(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def _cell(text: Optional[str]) -> Any:
    if text is None or text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
