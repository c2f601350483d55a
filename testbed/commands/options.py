"""Click settings, types and options more than one command uses, defined once.

Each option factory takes the help text, which says what the option means
for that command; the rest (name, type, default, metavar) is the same
everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

import click

#: The group's and every command's context settings.
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

Decorator = Callable[[Any], Any]


class FiniteRange(click.FloatRange):
    """``click.FloatRange`` that also refuses ``nan`` (which compares false with any bound)."""

    def convert(self, value, param, ctx):  # noqa: ANN001, ANN201 - click's signature
        number = super().convert(value, param, ctx)
        if number != number:  # NaN
            self.fail(f"{value!r} is not a number.", param, ctx)
        return number


def out_dir_option(help: Optional[str] = None) -> Decorator:
    """``--out``: the folder new run folders go in (default ``runs``)."""
    return click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("runs"),
        show_default=True,
        help=help,
    )


def sets_option(help: str) -> Decorator:
    """``--set KEY=VALUE`` (repeatable), into the parameter ``sets``."""
    return click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help=help)


def topology_option(help: str) -> Decorator:
    """``--topology``: a topology to use instead of the scenario's."""
    return click.option("--topology", help=help)


def seed_option(help: str) -> Decorator:
    """``--seed``: a non-negative seed (default 0)."""
    return click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help=help)


def topology_out_option(
    help: str = "Write the topology to this .yaml file (default: print it).",
) -> Decorator:
    """``--out FILE.yaml``: where a command writes a topology (default: standard output)."""
    return click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help=help)


def force_option(help: str = "Overwrite the --out file if it exists.") -> Decorator:
    """``--force``: overwrite what ``--out`` names."""
    return click.option("--force", is_flag=True, help=help)
