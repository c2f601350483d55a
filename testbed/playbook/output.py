"""The playbook's files: ``playbook.json``, ``.csv``, ``.md`` and ``.png``.

All are made from the :class:`~testbed.playbook.model.Playbook` alone (the
Markdown and CSV from :mod:`testbed.playbook.table`'s rows), so the terminal
table, the files and the plot always agree.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Dict, List, Sequence

from testbed.playbook.model import Playbook
from testbed.playbook.table import csv_rows, problems, table_header, table_rows

#: The files written into the playbook's folder.
FILES = ("playbook.json", "playbook.csv", "playbook.md", "playbook.png")


def csv_text(book: Playbook) -> str:
    """``playbook.csv``'s text."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(csv_rows(book))
    return buf.getvalue()


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def markdown(book: Playbook) -> str:
    """``playbook.md``: what was done, the table, what went wrong, where the time went."""
    t = book.timings
    n, m = len(book.steps), len({s.site for s in book.steps})
    lines = [
        f"# Playbook: {book.topology}",
        "",
        f"{n} action{'s' * (n != 1)} at {m} site{'s' * (m != 1)}, "
        f"{len(book.clients)} clients (total weight {book.total_weight:g}), "
        f"each client's site asked of the service ({book.service}, DNS `CH TXT id.server`) "
        f"once BGP converged after each action. Run {book.created}.",
        "",
        "Shares are of the clients' weight; *converged in* is the time from the action "
        "to the last route change it caused; *back* says whether every client was "
        "answered by its baseline site again after the action was reverted.",
        "",
    ]
    header = table_header(book)
    lines += [_md_row(header), _md_row(["---"] + ["---:"] * (len(header) - 2) + ["---"])]
    lines += [_md_row(row) for row in table_rows(book)]
    notes = problems(book)
    if notes:
        lines += ["", "## Problems", ""] + [f"- {note}" for note in notes]
    if book.skipped:
        lines += ["", "## Left out", ""] + [f"- {line}" for line in book.skipped]
    lines += ["", "## Actions", ""]
    seen: Dict[str, str] = {}
    for step in book.steps:
        seen.setdefault(step.action.name, step.action.description)
    lines += [f"- `{name}`: {text}" for name, text in seen.items()]
    lines += [
        "",
        f"Time: bring-up {t.bring_up_s:.1f} s, BGP convergence {t.convergence_s:.1f} s, "
        f"services {t.services_s:.1f} s, actions {t.actions_s:.1f} s; "
        f"{t.total_s:.1f} s in all.",
        "",
    ]
    return "\n".join(lines)


def plot(book: Playbook, path: Path) -> None:
    """``playbook.png``: a bar per action, stacked by each site's share of the weight."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    from testbed.analysis.plots import UNKNOWN, site_colours

    labels: List[str] = ["baseline"] + [s.label for s in book.steps]
    spreads = [book.baseline] + [s.after for s in book.steps]
    sites = list(dict.fromkeys([*book.sites, *[k for sp in spreads for k in sp.shares]]))
    colours = site_colours(sites)
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.32 * len(labels) + 1.4)))
    rows = range(len(labels))
    left = [0.0] * len(labels)
    columns = [(s, [sp.shares.get(s, 0.0) for sp in spreads], colours[s]) for s in sites]
    if any(sp.no_answer for sp in spreads):
        columns.append(("no answer", [sp.no_answer for sp in spreads], UNKNOWN))
    for name, values, colour in columns:
        ax.barh(rows, values, left=left, color=colour, label=name, edgecolor="white", height=0.75)
        for i, v in enumerate(values):
            if v >= 0.08:
                ax.text(left[i] + v / 2, i, f"{100 * v:.3g}%", ha="center", va="center",
                        fontsize=7, color="white")  # fmt: skip
        left = [a + b for a, b in zip(left, values, strict=True)]
    for i, step in enumerate(book.steps, start=1):
        if step.converged and step.routers_changed:
            ax.text(1.01, i, f"{step.converge_s:.2f} s", va="center", fontsize=7)
    ax.set_yticks(list(rows), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of the clients' weight (right: time to converge)")
    ax.set_title(f"Playbook on {book.topology}: where the load goes")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08 - 0.3 / len(labels)),
              ncol=min(len(columns), 6), fontsize=8, frameon=False)  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_all(book: Playbook, folder: Path) -> List[Path]:
    """Write :data:`FILES` into ``folder``; return their paths."""
    from testbed.rundir import write_atomic

    folder = Path(folder)
    paths = [folder / name for name in FILES]
    write_atomic(paths[0], book.to_json())
    write_atomic(paths[1], csv_text(book))
    write_atomic(paths[2], markdown(book))
    plot(book, paths[3])
    return paths
