"""``anycast-testbed playbook``: every site action, applied, measured and reverted, as a table.

The actions and their selection are :mod:`testbed.playbook.actions`', the
measuring :mod:`testbed.playbook.runner`'s, the table
:mod:`testbed.playbook.table`'s and the files :mod:`testbed.playbook.output`'s;
this module checks the input (before anything starts), brings the topology
up as ``up`` does, prints, and tears down on every exit path.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

import click
from rich.table import Table

from testbed import console as ui
from testbed import signals
from testbed.commands.options import FiniteRange, out_dir_option
from testbed.errors import TestbedError
from testbed.playbook.actions import Selection, select, split_list
from testbed.playbook.model import Playbook, Timings
from testbed.playbook.table import (
    Observation,
    build_playbook,
    percent,
    problems,
    table_header,
    table_rows,
)


@click.command()
@click.argument("topology")
@out_dir_option("Folder the playbook's folder (YYYYMMDD-HHMMSS-playbook-TOPOLOGY) goes in.")
@click.option(
    "--sites", metavar="A,B", help="Only these sites (comma-separated; default: every site)."
)
@click.option(
    "--actions",
    metavar="ACTION,...",
    help="Only these actions: prepend1, prepend2, prepend3, withdraw, and the action "
    "communities of a site's upstreams (AS:ACTION such as na:no-export-eu, the same "
    "without 'AS:' for whichever upstream offers it, or the community itself). "
    "Default: every action of every chosen site.",
)
@click.option(
    "--timeout",
    type=FiniteRange(1, 3600),
    default=60.0,
    show_default=True,
    help="Seconds to wait for BGP convergence (at bring-up and after each change).",
)
@click.option("--dry-run", is_flag=True, help="Print the actions it would take; start nothing.")
def playbook(
    topology: str,
    out: Path,
    sites: Optional[str],
    actions: Optional[str],
    timeout: float,
    dry_run: bool,
) -> int:
    """Apply each site action on TOPOLOGY in turn and measure where the clients go.

    Brings TOPOLOGY up once; then, for each site and each action (prepend 1, 2
    and 3 times; withdraw; each action community its upstream ASes offer),
    applies it, waits for BGP to converge, asks every client's DNS which site
    answers it, reverts, and checks every client is back at its site before
    the next.  Prints and writes (playbook.json, .csv, .md, .png) the share of
    the clients' weight at each site after each action, who moved, and how
    long the shift took to converge.  Exit 0 when done, 1 if BGP did not
    converge in time (at bring-up or after an action), 130 if interrupted.
    """
    from testbed.commands.up import checked_topology, new_testbed

    started = time.monotonic()
    topo = checked_topology(topology, out)  # bad input: one line, exit 2, nothing started
    chosen = select(topo, split_list(sites, "--sites"), split_list(actions, "--actions"))
    for line in chosen.skipped:
        ui.err_console.print(f"[yellow]left out:[/] {line}")
    if dry_run:
        print_steps(chosen)
        return 0
    tb = new_testbed(topo, out, label=f"playbook-{topo.name}")
    book = run_playbook(tb, chosen, timeout, started)
    if book is None:
        return 1
    print_table(book)
    for line in problems(book):
        ui.err_console.print(f"[yellow]warning:[/] {line}")
    ui.console.print(
        f"playbook: {len(book.steps)} actions in {book.timings.total_s:.1f} s "
        f"(bring-up {book.timings.bring_up_s + book.timings.convergence_s:.1f} s, "
        f"actions {book.timings.actions_s:.1f} s); written to {tb.run_dir}/playbook.*"
    )
    if book.interrupted:
        return 130
    every = all(s.converged and s.revert_converged for s in book.steps)
    return 0 if every else 1


def print_steps(chosen: Selection) -> None:
    """``--dry-run``: the steps, one line each."""
    for site, action in chosen.steps:
        ui.say(f"{site} {action.name}: {action.description}")
    n, m = len(chosen.steps), len(chosen.sites())
    ui.say(f"{n} action{'s' * (n != 1)} at {m} site{'s' * (m != 1)}")


def run_playbook(tb: Any, chosen: Selection, timeout: float, started: float) -> Optional[Playbook]:
    """Bring ``tb`` up, run every step, tear down whatever happens; write the files.

    Returns:
        The playbook (also when interrupted: the steps done so far), or None
        when BGP did not converge at bring-up (nothing measured).

    Raises:
        TestbedError: something failed (after the steps so far were written).
        KeyboardInterrupt: interrupted before anything was measured.
    """
    from testbed.net.bringup import bring_up
    from testbed.playbook.runner import Runner
    from testbed.traffic import TrafficRun, service_address

    service = service_address(tb.topo)
    timings: Dict[str, float] = {}
    observations: List[Observation] = []
    baseline: Optional[Dict[str, Optional[str]]] = None
    interrupted: Optional[str] = None
    error: Optional[BaseException] = None
    flow: Any = None
    runner: Any = None
    t1 = time.monotonic()
    try:
        result = bring_up(
            tb, timeout=timeout, status=ui.console.status, sessions=False, policy=False
        )
        timings["bring_up_s"] = result.seconds_up
        timings["convergence_s"] = result.convergence.seconds
        if not result.convergence.converged:
            ui.err_console.print(
                f"[red]BGP did not converge within {timeout:g} s[/]: no action taken"
            )
            return None
        t0 = time.monotonic()
        with ui.console.status("starting NSD at every site..."):
            flow = TrafficRun(tb)
            for server in tb.plan.servers():
                flow.start_service(server.name, "dns")
            flow.wait_services(only={(s.name, "dns") for s in tb.plan.servers()})
        runner = Runner(tb, service, timeout=timeout)
        baseline = runner.ask()
        timings["services_s"] = time.monotonic() - t0
        t1 = time.monotonic()
        ui.console.print(
            f"[bold]{tb.topo.name}[/]: up and converged in "
            f"{result.seconds_up + result.convergence.seconds:.1f} s; "
            f"{len(chosen.steps)} actions to take"
        )
        for n, (site, action) in enumerate(chosen.steps, start=1):
            with ui.console.status(f"[{n}/{len(chosen.steps)}] {site} {action.name}..."):
                obs = runner.step(site, action)
            observations.append(obs)
            ui.console.print(step_line(n, len(chosen.steps), obs, baseline))
        timings["actions_s"] = time.monotonic() - t1
    except KeyboardInterrupt:
        ui.err_console.print("stopping")
        interrupted = "interrupted (Ctrl-C or SIGTERM)"
    except TestbedError as exc:
        interrupted, error = str(exc), exc
    finally:
        with signals.shielded():
            if runner is not None:
                runner.close()
            if flow is not None:
                flow.stop()
            tb.stop()
    if baseline is None:  # nothing measured
        if error is not None:
            raise error
        if interrupted:
            raise KeyboardInterrupt
        return None
    timings.setdefault("actions_s", time.monotonic() - t1)
    book = make_book(tb, chosen, baseline, observations, interrupted, timings, started)
    from testbed.playbook.output import write_all

    write_all(book, tb.run_dir)
    if error is not None:
        raise error
    return book


def make_book(
    tb: Any,
    chosen: Selection,
    baseline: Dict[str, Optional[str]],
    observations: List[Observation],
    interrupted: Optional[str],
    timings: Dict[str, float],
    started: float,
) -> Playbook:
    """The playbook's results from what was observed."""
    from testbed.traffic import service_address

    topo = tb.topo
    clients = [(c.name, c.as_, float(getattr(c, "weight", 1.0))) for c in topo.clients]
    timings["total_s"] = time.monotonic() - started
    return build_playbook(
        topology=topo.name,
        service=service_address(topo),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        sites=[s.name for s in topo.sites],
        clients=clients,
        baseline=baseline,
        observations=observations,
        skipped=chosen.skipped,
        interrupted=interrupted,
        timings=Timings(**{k: round(v, 3) for k, v in timings.items()}),
    )


def step_line(n: int, total: int, obs: Observation, baseline: Dict[str, Optional[str]]) -> str:
    """One line per step as it ends: who moved, how fast, whether they came back."""
    moved = [c for c in baseline if obs.after.get(c) != baseline[c]]
    back = [c for c in baseline if obs.back.get(c) != baseline[c]]
    text = f"[{n}/{total}] {obs.label}: "
    text += f"{len(moved)} moved ({', '.join(moved)})" if moved else "nobody moved"
    if obs.routers_changed:
        text += f", converged in {obs.converge_s:.2f} s"
    if not obs.converged:
        text += ", [red]BGP did not converge in time[/]"
    if back:
        where = ", ".join(f"{c} at {obs.back.get(c) or 'no site'}" for c in back)
        text += f"; [red]not back after the revert: {where}[/]"
    return text


def print_table(book: Playbook) -> None:
    """The playbook table on the terminal (clients moved by number; their names are in the files).

    Off a terminal (a pipe, a log) the table keeps its natural width instead of
    being squeezed into 80 columns.
    """
    header = [h.replace(" ", "\n", 1) if " " in h else h for h in table_header(book)]
    header[: 1 + len(book.sites)] = table_header(book)[: 1 + len(book.sites)]
    table = Table(show_header=True, header_style="bold", box=None)
    for i, name in enumerate(header):
        right = 0 < i < len(header) - 1
        table.add_column(name, justify="right" if right else "left", no_wrap=right)
    for row in table_rows(book, names=False):
        table.add_row(*row)
    if ui.console.is_terminal:
        ui.console.print(table)
    else:  # rich would fit it into 80 columns
        from rich.console import Console

        Console(file=ui.console.file, width=1000, highlight=False).print(table)
    if book.steps:
        top = max(book.steps, key=lambda s: s.share_moved)
        ui.console.print(
            f"largest shift: {top.label} moves {percent(top.share_moved)} of the weight"
        )
