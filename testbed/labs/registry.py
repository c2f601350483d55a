"""The labs: number, folder, title, the files a student edits, and the checker.

Hand-outs live in ``labs/N-slug/`` and instructor solutions in
``labs/solutions/N-slug/`` (files there replace the hand-out's of the same
name; ``$ANYCAST_LAB_SOLUTIONS`` points elsewhere, for a student copy of the
repository without ``labs/solutions/``); ``labs/_common/`` holds templates
every lab shares.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Tuple

from testbed.errors import InputError
from testbed.topology.load import ROOT

LABS_DIR = ROOT / "labs"
SOLUTIONS_DIR = LABS_DIR / "solutions"
COMMON_DIR = LABS_DIR / "_common"
#: Environment variable: the folder holding the instructor solutions instead of labs/solutions.
SOLUTIONS_ENV = "ANYCAST_LAB_SOLUTIONS"


@dataclass(frozen=True)
class Lab:
    """One lab."""

    number: int
    slug: str
    title: str
    summary: str
    edits: Tuple[str, ...]  # the files the student changes
    start: str  # what to run first (``lab start --up`` runs it), with {dir} for the working copy

    @property
    def folder(self) -> str:
        """``N-slug``."""
        return f"{self.number}-{self.slug}"

    @property
    def handout(self) -> Path:
        """The student hand-out folder."""
        return LABS_DIR / self.folder

    @property
    def solution(self) -> Path:
        """The instructor solution folder (under ``$ANYCAST_LAB_SOLUTIONS`` when it is set)."""
        return Path(os.environ.get(SOLUTIONS_ENV) or SOLUTIONS_DIR) / self.folder

    def default_dir(self) -> Path:
        """Where ``lab start`` puts the working copy by default (in the current folder)."""
        return Path(f"lab{self.number}-{self.slug}")

    def checker(self) -> Callable:
        """The lab's ``check(ctx) -> [CheckItem]`` function."""
        return importlib.import_module(f"testbed.labs.lab{self.number}").check


LABS: List[Lab] = [
    Lab(
        1,
        "anycast-basics",
        "Anycast basics",
        "announce the prefix from a second site; predict each client's site, also while a "
        "link is down, and verify",
        ("topology.yaml", "predictions.yaml"),
        "anycast-testbed up {dir}/topology.yaml --traffic --out {dir}/runs",
    ),
    Lab(
        2,
        "path-selection",
        "Path selection",
        "make a site a backup with AS-path prepending; see why MED does not help; predict "
        "who moves while a link is down",
        ("topology.yaml", "answers.yaml"),
        "anycast-testbed up {dir}/topology.yaml --traffic --out {dir}/runs",
    ),
    Lab(
        3,
        "failover",
        "Failover",
        "link-down versus silent failure; a BFD design within an outage budget",
        ("topology.yaml", "scenario.yaml", "answers.yaml"),
        "anycast-testbed run {dir}/scenario.yaml --out {dir}/runs",
    ),
    Lab(
        4,
        "health-checks",
        "Health checks",
        "turn a blackhole (dead server, live route) into a withdrawal that rides out a restart",
        ("topology.yaml", "answers.yaml"),
        "anycast-testbed run {dir}/scenario.yaml --out {dir}/runs",
    ),
    Lab(
        5,
        "tcp-vs-udp",
        "TCP versus UDP",
        "predict, for every site, which clients' TCP streams reset when it fails and when "
        "it prepends",
        ("predictions.yaml",),
        "anycast-testbed up {dir}/topology.yaml --traffic --out {dir}/runs",
    ),
    Lab(
        6,
        "business-relationships",
        "Business relationships",
        "predict a catchment that the shortest AS path gets wrong: customers before peers "
        "before providers, valley-free export",
        ("predictions.yaml",),
        "anycast-testbed up {dir}/topology.yaml --traffic --out {dir}/runs",
    ),
    Lab(
        7,
        "load-steering",
        "Load steering",
        "read the playbook table; choose the one action that brings an attacked site under "
        "capacity while moving the fewest users, and predict what it overloads",
        ("answers.yaml",),
        "anycast-testbed playbook {dir}/topology.yaml --out {dir}/runs",
    ),
    Lab(
        8,
        "tcp-remedies",
        "TCP remedies",
        "run every TCP remedy on the same te-shift and failure; pick the one that meets the "
        "needs of a video stream, a REST API and a chat socket, and justify it with a figure",
        ("answers.yaml",),
        "anycast-testbed run {dir}/scenario.yaml --out {dir}/runs",
    ),
    Lab(
        9,
        "anycast-vs-gslb",
        "Anycast versus GSLB",
        "choose the TTL and health-check interval that meet a GSLB failover target within "
        "query and check budgets; predict the worst case and say why anycast wins or loses",
        ("answers.yaml",),
        "anycast-testbed run {dir}/scenario.yaml --out {dir}/runs",
    ),
]


def get_lab(number: int) -> Lab:
    """The lab with this number.

    Raises:
        InputError: no such lab.
    """
    for lab in LABS:
        if lab.number == number:
            return lab
    raise InputError(f"no lab {number} (labs: {', '.join(str(lab.number) for lab in LABS)})")
