"""``anycast-testbed doctor``: readiness checks, each with its fix."""

from __future__ import annotations

import click
from rich.table import Table

from testbed import console as ui


@click.command()
def doctor() -> int:
    """Check root, FRR, Mininet, NSD, netem, ryu/os-ken; say how to fix each problem."""
    from testbed.doctor import run_checks

    table = Table(show_header=True, header_style="bold", box=None)
    for col in ("check", "", "detail", "fix"):
        table.add_column(col)
    checks = run_checks()
    for c in checks:
        mark = "[green]ok[/]" if c.ok else ("[red]FAIL[/]" if c.required else "[yellow]warn[/]")
        table.add_row(c.name, mark, c.detail, "" if c.ok else (c.fix or ""))
    ui.console.print(table)
    failed = [c.name for c in checks if c.required and not c.ok]
    if failed:
        ui.console.print(f"[red]not ready[/]: {', '.join(failed)}")
        return 1
    ui.console.print("[green]ready[/]")
    return 0
