"""``anycast-testbed up``: bring a topology up, print its state, stay up until Ctrl-C.

The bring-up itself (start, convergence, sessions, the summary written to
``up.json``) is :mod:`testbed.net.bringup`'s; this module prints it, runs
the optional traffic with its live table, and judges ``--check``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from testbed import console as ui
from testbed import signals
from testbed.commands.options import FiniteRange, out_dir_option
from testbed.net import capacity
from testbed.net.bringup import BringUp, bring_up, client_paths, up_summary
from testbed.probes import defaults

#: Seconds ``up --check --traffic`` runs services and probes before judging.
CHECK_TRAFFIC_S = 5.0


@click.command()
@click.argument("topology")
@click.option(
    "--check",
    is_flag=True,
    help="Do not stay up: tear down and exit 0 only if BGP converged (within --timeout) "
    "with every session established. With --traffic, services and probes then run "
    f"{CHECK_TRAFFIC_S:g} s more and every client must reach a site; exit 1 otherwise.",
)
@click.option(
    "--timeout",
    type=FiniteRange(1, 3600),
    default=60.0,
    show_default=True,
    help="Seconds to wait for BGP convergence.",
)
@out_dir_option("Folder for run folders.")
@click.option(
    "--traffic",
    is_flag=True,
    help="Start services (NSD, stream), probes and recorders; show a live catchment table.",
)
@click.option(
    "--dns-rate",
    type=FiniteRange(0, defaults.MAX_DNS_RATE, min_open=True),
    default=defaults.DNS_RATE,
    show_default=True,
    help="DNS queries per second per client (with --traffic).",
)
@click.option(
    "--tcp-streams",
    type=click.IntRange(0, 16),
    default=defaults.TCP_STREAMS,
    show_default=True,
    help="TCP streams per client (with --traffic).",
)
def up(
    topology: str,
    check: bool,
    timeout: float,
    out: Path,
    traffic: bool,
    dns_rate: float,
    tcp_streams: int,
) -> int:
    """Bring TOPOLOGY up, wait for BGP convergence, print a summary, stay up until Ctrl-C.

    TOPOLOGY is a name from `list` (world, two-sites), a YAML file, or a
    generator such as chain:10 or clique:5.  With --traffic, every site
    serves DNS and TCP streams, every client probes them, route and BGP
    changes are recorded into the run folder, and a live table shows which
    site serves each client.
    """
    tb = open_testbed(topology, out)
    return stay_up(tb, check, timeout, traffic, dns_rate, tcp_streams)


def open_testbed(topology: str, out: Path) -> Any:
    """The checked topology's :class:`~testbed.net.build.Testbed`, not started (``up``, ``shell``).

    Bad input (the topology, its plan, ``--out``) fails first, then the root
    check, then a testbed already running, before the run folder is created.
    """
    return new_testbed(checked_topology(topology, out), out)


def checked_topology(topology: str, out: Path) -> Any:
    """The topology, checked as ``up`` checks it (its plan, ``--out``); nothing is started.

    Its warnings (legitimate but odd) are printed.

    Raises:
        InputError: bad input (exit 2).
    """
    from testbed.net.bird import require_bird
    from testbed.rundir import check_out_dir
    from testbed.topology.load import load_topology
    from testbed.topology.plan import checked_plan
    from testbed.topology.validate import topology_warnings

    topo = load_topology(topology)  # bad input: exit 2 before anything else
    require_bird(topo, topology)  # daemon: bird needs BIRD 2 installed
    for warning in topology_warnings(topo):  # legitimate but odd: said, not refused
        ui.err_console.print(f"[yellow]warning:[/] {warning}")
    checked_plan(topo, topology)  # a topology too big to address, too
    check_out_dir(out)
    return topo


def new_testbed(topo: Any, out: Path, label: str = "") -> Any:
    """A :class:`~testbed.net.build.Testbed` of a checked topology, not started.

    The root check, then a testbed already running (one line, exit 2), before
    the run folder ``OUT/YYYYMMDD-HHMMSS-LABEL`` (LABEL: the topology's name
    by default) is created; SIGTERM and SIGHUP then end the command like Ctrl-C.
    """
    from testbed.net.build import Testbed
    from testbed.net.state import refuse_if_running
    from testbed.rundir import new_run_dir

    ui.require_root()
    signals.install()
    refuse_if_running()  # another testbed runs: one line, exit 2, before anything is created
    return Testbed(topo, new_run_dir(label or topo.name, out), log=ui.err_console.print)


def stay_up(
    tb: Any, check: bool, timeout: float, traffic: bool, dns_rate: float, tcp_streams: int
) -> int:
    """Bring ``tb`` up and keep it up (with traffic) until Ctrl-C, or judge it (``--check``).

    Returns:
        The exit status; the testbed (and its traffic) is stopped, whatever happens.
    """
    from testbed.rundir import write_json
    from testbed.traffic import TrafficParams, TrafficRun

    ok = False
    flow = None
    try:
        result = bring_up(tb, timeout=timeout, status=ui.console.status)
        summary = print_up_summary(tb, result)
        write_json(tb.run_dir / "up.json", summary)
        ok = result.ok
        if check and (not ok or not traffic):
            return 0 if ok else 1
        ui.console.print(
            f"run folder: {tb.run_dir}\n"
            "from another terminal: anycast-testbed exec NODE -- CMD"
            " | anycast-testbed vtysh ROUTER\n"
            "Ctrl-C to stop"
        )
        if traffic:
            flow = TrafficRun(tb, TrafficParams(dns_rate=dns_rate, tcp_streams=tcp_streams))
            with ui.console.status("starting services, recorders and probes..."):
                flow.start()
            return live_table(flow, tcp_streams, check)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        ui.err_console.print("stopping")
        return 0 if ok or not check else 1
    finally:
        with signals.shielded():
            if flow is not None:
                flow.stop()
            tb.stop()


def print_up_summary(tb: Any, result: BringUp) -> dict:
    """Print the state of a freshly started testbed; return it (:func:`up_summary`)."""
    from testbed.policy.reach import no_route_line

    plan = tb.plan
    conv = result.convergence
    verdict = (
        f"BGP converged in {conv.seconds:.1f} s"
        if conv.converged
        else f"BGP did NOT converge within {conv.seconds:.0f} s"
    )
    ui.console.print(
        f"[bold]{tb.topo.name}[/]: {len(plan.routers)} routers, {len(tb.topo.sites)} sites, "
        f"{len(plan.clients())} clients up in {result.seconds_up:.1f} s; {verdict} "
        f"({result.established}/{result.total} sessions established)"
    )
    for warning in tb.warnings:
        ui.err_console.print(f"[yellow]warning:[/] {warning}")
    for router, missing in sorted(conv.missing.items())[:10]:
        ui.err_console.print(f"[red]{router}[/] has no route to {', '.join(missing)}")
    by_policy = no_route_line(conv.no_route)
    if by_policy:
        ui.console.print(by_policy)
    if result.policy is not None:
        colour = "green" if result.policy.passed else "red"
        ui.console.print(f"[{colour}]{result.policy.line()}[/]")
        for violation in result.policy.violations[:5]:
            ui.err_console.print(f"  [red]{violation.line()}[/]")
    paths = client_paths(tb)
    summary = up_summary(tb, result, paths)
    weighted = any(c.weight != 1 for c in tb.topo.clients)
    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("client")
    if weighted:
        table.add_column("weight", justify="right")
    table.add_column("site")
    table.add_column("path")
    for client, path in paths.items():
        site = summary["catchment"][client]
        row = [client, site or "[red]none[/]", " > ".join(path)]
        if weighted:
            row.insert(1, f"{summary['weights'][client]:g}")
        table.add_row(*row)
    if plan.clients():
        ui.console.print(table)
    for site in tb.topo.sites:
        if site.capacity is not None:
            ui.console.print(f"capacity of {site.name}: {capacity.describe(site.capacity)}")
    attackers = plan.attackers()
    if attackers:
        where = ", ".join(f"{h.name} ({h.as_name})" for h in attackers)
        ui.console.print(f"attack sources (idle until an attack_start event): {where}")
    return summary


def live_table(flow: Any, streams: int, once: bool = False) -> int:
    """Show the live catchment table, refreshed every second, until Ctrl-C.

    Args:
        flow: the running :class:`~testbed.traffic.TrafficRun`.
        streams: TCP streams per client (the table's denominator).
        once: stop after :data:`CHECK_TRAFFIC_S` seconds (``--check``): exit 0
            only if every client reached a site and nothing died.

    Returns:
        The exit status.
    """
    from rich.live import Live

    from testbed.live import LiveCatchment

    clients = [c.name for c in flow.testbed.plan.clients()]
    view = LiveCatchment(flow.records, clients)
    started = time.monotonic()
    with Live(view.table(streams), console=ui.console, refresh_per_second=2) as live:
        while not once or time.monotonic() - started < CHECK_TRAFFIC_S:
            time.sleep(1)
            view.update()
            live.update(view.table(streams))
            dead = flow.dead()
            if dead:
                ui.err_console.print(f"[red]died:[/] {', '.join(dead)}")
                return 1
    return 0 if all(view.view[c].site for c in clients) else 1
