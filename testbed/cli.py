"""The ``anycast-testbed`` command line (click).

Bad input of any kind (topology, options) ends with one line naming what is
wrong and exit status 2, before anything is started.
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional

import click
from rich.console import Console
from rich.table import Table

from testbed import __version__, signals
from testbed.errors import InputError, TestbedError
from testbed.labs.cli import lab
from testbed.reproduce.command import reproduce
from testbed.sweep.command import sweep

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
#: Seconds ``up --check --traffic`` runs services and probes before judging.
CHECK_TRAFFIC_S = 5.0


class FiniteRange(click.FloatRange):
    """``click.FloatRange`` that also refuses ``nan`` (which compares false with any bound)."""

    def convert(self, value, param, ctx):  # noqa: ANN001, ANN201 - click's signature
        number = super().convert(value, param, ctx)
        if number != number:  # NaN
            self.fail(f"{value!r} is not a number.", param, ctx)
        return number


def require_root() -> None:
    """Exit 2 with one line unless running as root."""
    if os.geteuid() != 0:
        raise InputError("needs root: namespaces, veth links and FRR need it (run with sudo)")


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="anycast-testbed")
def cli() -> None:
    """A Mininet + FRR testbed for learning and measuring BGP anycast.

    Sites announce the same prefix (192.0.2.0/24); clients reach the service
    address 192.0.2.53 over DNS/UDP and TCP; scenarios fail and restore sites.
    """


# --------------------------------------------------------------------- list
@cli.command("list")
def list_cmd() -> None:
    """List topologies and scenarios with a one-line description each."""
    from testbed.topology.load import list_topologies

    table = Table(title="topologies", show_header=True, header_style="bold")
    table.add_column("name")
    table.add_column("description")
    for name, desc in list_topologies():
        table.add_row(name, desc)
    console.print(table)
    try:
        from testbed.scenario.load import list_scenarios
    except ImportError:
        return
    table = Table(title="scenarios", show_header=True, header_style="bold")
    table.add_column("name")
    table.add_column("description")
    for name, desc in list_scenarios():
        table.add_row(name, desc)
    console.print(table)


# ----------------------------------------------------------------- validate
@cli.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a scenario or topology parameter of every scenario, as `run --set`.",
)
@click.option("--topology", help="Check every scenario on this topology, as `run --topology`.")
def validate(files: List[str], sets: List[str], topology: Optional[str]) -> int:
    """Check topologies and scenarios as `up` and `run` do, starting nothing (no root).

    FILE is a YAML or Python file, a name from `list` (a name that is both a
    topology and a scenario must be given as a path), or a generator such as
    chain:5.  One line per file: `ok FILE: ...` with what it holds, or the
    error `up` or `run` would print; warnings follow on their own lines.
    Exit status: 0 every file is valid, 2 otherwise.
    """
    from testbed.checkfile import check_file

    bad = 0
    for ref in files:
        try:
            check = check_file(ref, sets, topology)
        except InputError as exc:
            bad += 1
            _say(str(exc), err=True)
            continue
        _say(check.line())
        for warning in check.warnings:
            _say(f"warning: {warning}", err=True)
    return 2 if bad else 0


def _say(line: str, err: bool = False) -> None:
    """One line as given (no markup, never wrapped), flushed so stdout and stderr keep order."""
    print(" ".join(line.split()), file=sys.stderr if err else sys.stdout, flush=True)


# ----------------------------------------------------------------------- up
def sessions_established(tb) -> Dict[str, Dict[str, str]]:
    """router -> {peer: state}, read from every router in parallel."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        routers = list(tb.plan.routers)
        states = list(pool.map(tb.bgp_sessions, routers))
    return dict(zip(routers, states, strict=False))


def print_up_summary(tb, conv, sessions: Dict[str, Dict[str, str]], seconds_up: float) -> dict:
    """Print and return the state of a freshly started testbed."""
    plan = tb.plan
    total = sum(len(s) for s in sessions.values())
    established = sum(1 for s in sessions.values() for st in s.values() if st == "Established")
    verdict = (
        f"BGP converged in {conv.seconds:.1f} s"
        if conv.converged
        else f"BGP did NOT converge within {conv.seconds:.0f} s"
    )
    console.print(
        f"[bold]{tb.topo.name}[/]: {len(plan.routers)} routers, {len(tb.topo.sites)} sites, "
        f"{len(plan.clients())} clients up in {seconds_up:.1f} s; {verdict} "
        f"({established}/{total} sessions established)"
    )
    for warning in tb.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}")
    for router, missing in sorted(conv.missing.items())[:10]:
        err_console.print(f"[red]{router}[/] has no route to {', '.join(missing)}")
    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("client")
    table.add_column("site")
    table.add_column("path")
    catchment = {}
    for client in plan.clients():
        path = tb.path_to(client.name)
        site = plan.routers[path[-1]].site if path else None
        catchment[client.name] = site
        table.add_row(client.name, site or "[red]none[/]", " > ".join(path))
    if plan.clients():
        console.print(table)
    return {
        "topology": tb.topo.name,
        "routers": len(plan.routers),
        "converged": conv.converged,
        "convergence_s": round(conv.seconds, 3),
        "sessions": {"total": total, "established": established},
        "catchment": catchment,
        "warnings": tb.warnings,
        "timings": {k: round(v, 3) for k, v in tb.timings.items()},
    }


@cli.command()
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
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Folder for run folders.",
)
@click.option(
    "--traffic",
    is_flag=True,
    help="Start services (NSD, stream), probes and recorders; show a live catchment table.",
)
@click.option(
    "--dns-rate",
    type=FiniteRange(0, 200, min_open=True),
    default=20.0,
    show_default=True,
    help="DNS queries per second per client (with --traffic).",
)
@click.option(
    "--tcp-streams",
    type=click.IntRange(0, 16),
    default=2,
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
    from testbed.net.build import Testbed
    from testbed.rundir import check_out_dir, new_run_dir, write_json
    from testbed.topology.load import load_topology
    from testbed.topology.plan import checked_plan
    from testbed.topology.validate import topology_warnings
    from testbed.traffic import Traffic, TrafficParams

    topo = load_topology(topology)  # bad input: exit 2 before anything else
    for warning in topology_warnings(topo):  # legitimate but odd: said, not refused
        err_console.print(f"[yellow]warning:[/] {warning}")
    checked_plan(topo, topology)  # a topology too big to address, too
    check_out_dir(out)
    require_root()
    signals.install()
    from testbed.net.state import refuse_if_running

    refuse_if_running()  # another testbed runs: one line, exit 2, before anything is created
    tb = Testbed(topo, new_run_dir(topo.name, out), log=err_console.print)
    ok = False
    flow = None
    try:
        t0 = time.monotonic()
        with console.status(f"bringing up {topo.name}..."):
            tb.start()
        seconds_up = time.monotonic() - t0
        with console.status("waiting for BGP to converge..."):
            conv = tb.wait_converged(timeout=timeout)
        sessions = sessions_established(tb)
        summary = print_up_summary(tb, conv, sessions, seconds_up)
        write_json(tb.run_dir / "up.json", summary)
        ok = conv.converged and summary["sessions"]["established"] == summary["sessions"]["total"]
        if check and (not ok or not traffic):
            return 0 if ok else 1
        console.print(
            f"run folder: {tb.run_dir}\n"
            "from another terminal: anycast-testbed exec NODE -- CMD"
            " | anycast-testbed vtysh ROUTER\n"
            "Ctrl-C to stop"
        )
        if traffic:
            flow = Traffic(tb, TrafficParams(dns_rate=dns_rate, tcp_streams=tcp_streams))
            with console.status("starting services, recorders and probes..."):
                flow.start()
            return live_table(flow, tcp_streams, check)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        err_console.print("stopping")
        return 0 if ok or not check else 1
    finally:
        with signals.shielded():
            if flow is not None:
                flow.stop()
            tb.stop()


def live_table(flow, streams: int, once: bool = False) -> int:
    """Show the live catchment table, refreshed every second, until Ctrl-C.

    Args:
        flow: the running :class:`~testbed.traffic.Traffic`.
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
    with Live(view.table(streams), console=console, refresh_per_second=2) as live:
        while not once or time.monotonic() - started < CHECK_TRAFFIC_S:
            time.sleep(1)
            view.update()
            live.update(view.table(streams))
            dead = flow.dead()
            if dead:
                err_console.print(f"[red]died:[/] {', '.join(dead)}")
                return 1
    return 0 if all(view.view[c].site for c in clients) else 1


# ---------------------------------------------------------------------- run
@cli.command()
@click.argument("scenario", default="site-failure")
@click.option("--topology", "topology", help="Run on this topology instead of the scenario's.")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a scenario or topology parameter (repeatable), e.g. duration=30, "
    "traffic.dns_rate=50, bgp.hold=9, timeline.0.at=12.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Folder for run folders.",
)
@click.option(
    "--seed",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Seed of the probes' random choices: each client's DNS query ids and start "
    "offsets come from it and the client's name, so the same seed sends the same "
    "queries (recorded in meta.json).",
)
@click.option(
    "--pcap",
    is_flag=False,
    flag_value="uplinks",
    default=None,
    metavar="[LINKS]",
    help="Capture packets with tcpdump into RUN/pcap/: every site uplink, or the links "
    "given as A-B[,C-D...]; the report counts the TCP resets each capture holds.",
)
def run(
    scenario: str,
    topology: Optional[str],
    sets: List[str],
    out: Path,
    seed: int,
    pcap: Optional[str],
) -> int:
    """Run SCENARIO (default: site-failure) and write a run folder with its report.

    SCENARIO is a name from `list`, a YAML file, or a Python file whose
    scenario(topology) returns the scenario (docs/scenarios.md).

    Brings the topology up, starts services, probes and recorders, fires the
    timeline's events, tears everything down, analyses the records and prints
    a summary.  Exit status: 0 every expectation met, 1 some failed, 2 bad input
    (or another testbed is running), 3 the run stopped early on a fault (the disk
    filled, or a probe or recorder died), 130 interrupted.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from testbed.analysis.report import print_report
    from testbed.rundir import check_out_dir
    from testbed.scenario.prepare import execute, prepare_run
    from testbed.topology.plan import make_plan

    prepared = prepare_run(scenario, sets, topology)
    topo = prepared.topology
    pcap_links = None if pcap is None else ([] if pcap == "uplinks" else pcap.split(","))
    if pcap_links:
        ends = [(lk.a.node, lk.b.node) for lk in make_plan(topo).links]
        known = {f"{a}-{b}" for a, b in ends} | {f"{b}-{a}" for a, b in ends}
        bad = [name for name in pcap_links if name not in known]
        if bad:
            raise InputError(f"--pcap: no link {bad[0]!r} in topology {topo.name} (use A-B)")
    check_out_dir(out)
    require_root()
    signals.install()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:>5.1f}/{task.total:.0f} s"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with progress:
        result = execute(
            prepared, out, say=progress.console.print, progress=progress, seed=seed, pcap=pcap_links
        )
    if result.summary:
        print_report(result.summary, console)
        console.print(f"report: {result.run_dir / 'report.md'}")
    if result.fault is not None:  # disk full, or a probe or recorder died: one line
        _fail(result.fault_line() or "")
        return 3
    if result.interrupted:
        return 130
    return 0 if result.expectations_met else 1


def run_expectations(run_dir: Path) -> Optional[list]:
    """The ``expect`` checks of the scenario a run folder ran (``RUN/scenario.yaml``).

    Returns:
        The check models, or None for a folder without scenario.yaml (``up --traffic``).

    Raises:
        InputError: scenario.yaml is unreadable or not a valid scenario (naming it).
    """
    from testbed.scenario.load import parse_scenario
    from testbed.topology.load import read_yaml

    path = run_dir / "scenario.yaml"
    if not os.path.lexists(path):
        return None
    return list(parse_scenario(read_yaml(path), str(path)).expect)


@cli.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--no-plots", is_flag=True, help="Do not redraw the plots.")
def report(run_dir: Path, no_plots: bool) -> int:
    """Re-render summary.json, report.md and plots/ of RUN_DIR from its records alone.

    The scenario's expectations (RUN_DIR/scenario.yaml) are evaluated again
    on the records; the old summary.json is not read for them.  Exit
    status: 0 every expectation met, 1 some failed, 2 bad input (a corrupt
    record or meta.json, a folder that cannot be written).
    """
    from testbed.analysis import analyse
    from testbed.analysis.report import print_report
    from testbed.records import BadRecordError
    from testbed.runfolder import check_report_folder, read_json_object
    from testbed.scenario.expect import evaluate

    meta = check_report_folder(run_dir)  # not a run folder, nothing in it: one line
    checks = run_expectations(run_dir)
    if checks is not None and meta is None:
        raise InputError(
            "no such file: the run stopped before its timeline started (nothing to report)",
            str(run_dir / "meta.json"),
        )
    extra = {}
    try:  # only why the run was cut short is kept from the old summary, never a verdict
        old = read_json_object(run_dir / "summary.json")
        if isinstance(old.get("interrupted"), str):
            extra["interrupted"] = old["interrupted"]
    except InputError:
        pass
    try:
        judge = (lambda current: evaluate(checks, current)) if checks else None
        summary = analyse(run_dir, judge=judge, extra=extra, plots=not no_plots)
    except BadRecordError as exc:
        raise InputError(exc.problem, str(exc.path), f"line {exc.line}") from None
    except OSError as exc:
        where = str(exc.filename or run_dir)
        raise InputError(f"cannot read or write: {exc.strerror or exc}", where) from None
    print_report(summary, console)
    if checks is None:
        err_console.print(f"no {run_dir / 'scenario.yaml'}: no expectations to evaluate")
    console.print(f"report: {run_dir / 'report.md'}")
    return 0 if all(e.get("passed") for e in summary.get("expect", [])) else 1


@cli.command()
@click.argument(
    "run_dirs",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the comparison as Markdown here (default: compare.md in the last run).",
)
def compare(run_dirs: List[Path], out: Optional[Path]) -> None:
    """Compare runs side by side: per client, site, DNS outage and loss, TCP resets.

    Example: anycast-testbed compare runs/...-blackhole runs/...-blackhole-healthcheck
    """
    from testbed.analysis.compare import load_summaries, render_markdown, rich_table
    from testbed.rundir import check_out_file

    path = out or Path(run_dirs[-1]) / "compare.md"
    check_out_file(path, "--out" if out else "compare")
    summaries = load_summaries(run_dirs)  # a folder without a good summary.json: one line
    console.print(rich_table(summaries, run_dirs))
    try:
        path.write_text(render_markdown(summaries, run_dirs), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", str(path)) from None
    console.print(f"comparison: {path}")


# --------------------------------------------------------- exec and vtysh
def _live_state():
    from testbed.net.state import load_state

    state = load_state()
    if state is None or not state.owner_alive():
        raise InputError("no testbed is up (start one with: anycast-testbed up TOPOLOGY)")
    return state


@cli.command("exec", context_settings={"ignore_unknown_options": True, **CONTEXT})
@click.argument("node")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def exec_cmd(node: str, command: List[str]) -> None:
    """Run COMMAND inside NODE's namespace while a testbed is up.

    Example: anycast-testbed exec paris -- dig +short @192.0.2.53 CH TXT id.server
    """
    require_root()
    state = _live_state()
    pid = state.node_pid(node)
    if pid is None:
        known = ", ".join(sorted(state.nodes))
        raise InputError(f"no node {node!r} in the running testbed ({known})")
    argv = ["nsenter", f"--net=/proc/{pid}/ns/net", "--", *command]
    os.execvp(argv[0], argv)


@cli.command()
@click.argument("router")
@click.option("-c", "--command", "commands", multiple=True, help="vtysh command (repeatable).")
def vtysh(router: str, commands: List[str]) -> None:
    """Open vtysh on ROUTER (or run -c commands) while a testbed is up."""
    from testbed.net.frr import vtysh_argv

    require_root()
    state = _live_state()
    if state.node_pid(router) is None or not Path(f"/run/frr/{router}").exists():
        raise InputError(f"no router {router!r} in the running testbed")
    argv = vtysh_argv(router, list(commands))
    os.execvp(argv[0], argv)


# -------------------------------------------------------------------- shell
@cli.command()
@click.argument("topology")
@click.option(
    "--script",
    type=click.Path(exists=True, dir_okay=False),
    help="Run these CLI commands instead of reading the terminal.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs"),
    show_default=True,
)
def shell(topology: str, script: Optional[str], out: Path) -> None:
    """Bring TOPOLOGY up and open the Mininet CLI, with vtysh, routes and sites."""
    from testbed.net.build import Testbed
    from testbed.net.shell import TestbedCLI
    from testbed.rundir import check_out_dir, new_run_dir
    from testbed.topology.load import load_topology
    from testbed.topology.plan import checked_plan
    from testbed.topology.validate import topology_warnings

    topo = load_topology(topology)  # bad input: exit 2 before anything else
    for warning in topology_warnings(topo):  # legitimate but odd: said, not refused
        err_console.print(f"[yellow]warning:[/] {warning}")
    checked_plan(topo, topology)  # a topology too big to address, too
    check_out_dir(out)
    require_root()
    signals.install()
    from testbed.net.state import refuse_if_running

    refuse_if_running()  # another testbed runs: one line, exit 2, before anything is created
    tb = Testbed(topo, new_run_dir(topo.name, out), log=err_console.print)
    try:
        with console.status(f"bringing up {topo.name}..."):
            tb.start()
            conv = tb.wait_converged()
        console.print(
            f"{topo.name}: BGP {'converged' if conv.converged else 'NOT converged'} "
            f"in {conv.seconds:.1f} s. Commands: vtysh ROUTER \\[cmd], routes, sites, "
            "and Mininet's (NODE cmd, net, links, exit)"
        )
        TestbedCLI(tb, script=script)
    except KeyboardInterrupt:
        err_console.print("stopping")
    finally:
        with signals.shielded():
            tb.stop()


# -------------------------------------------------------------------- clean
@cli.command()
def clean() -> None:
    """Remove what a killed testbed left: only its own processes, namespaces and files."""
    from testbed.net.cleanup import clean as do_clean

    require_root()
    try:
        counts = do_clean()
    except RuntimeError as exc:
        raise InputError(str(exc)) from None
    if counts is None:
        console.print("nothing to clean: no testbed state left behind")
    else:
        console.print(
            "cleaned: {processes} processes, {namespaces} namespaces, {dirs} directories".format(
                **counts
            )
        )


# ------------------------------------------------------------------- doctor
@cli.command()
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
    console.print(table)
    failed = [c.name for c in checks if c.required and not c.ok]
    if failed:
        console.print(f"[red]not ready[/]: {', '.join(failed)}")
        return 1
    console.print("[green]ready[/]")
    return 0


# ------------------------------------------------------ sweep and reproduce
cli.add_command(sweep)
cli.add_command(reproduce)
cli.add_command(lab)


# --------------------------------------------------------------------- main
def _fail(message: str) -> None:
    """One line on stderr, never wrapped."""
    print(f"anycast-testbed: {' '.join(message.split())}", file=sys.stderr, flush=True)


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point: run the CLI; map every error to one line and an exit status."""
    try:
        code = cli.main(args=argv, prog_name="anycast-testbed", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help())
        code = 0
    except click.UsageError as exc:
        hint = f" (see: {exc.ctx.command_path} --help)" if exc.ctx else ""
        _fail(f"{exc.format_message()}{hint}")
        code = 2
    except click.Abort:
        code = 130
    except InputError as exc:
        _fail(str(exc))
        code = 2
    except TestbedError as exc:
        _fail(str(exc))
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code if isinstance(code, int) else 0)
