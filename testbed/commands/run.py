"""``anycast-testbed run``: one scenario, from bring-up to its report."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import click

from testbed import console as ui
from testbed import signals
from testbed.commands.options import out_dir_option, seed_option, sets_option, topology_option


@click.command()
@click.argument("scenario", default="site-failure")
@topology_option("Run on this topology instead of the scenario's.")
@sets_option(
    "Override a scenario or topology parameter (repeatable), e.g. duration=30, "
    "traffic.dns_rate=50, bgp.hold=9, timeline.0.at=12."
)
@out_dir_option("Folder for run folders.")
@seed_option(
    "Seed of the probes' random choices: each client's DNS query ids and start "
    "offsets come from it and the client's name, so the same seed sends the same "
    "queries (recorded in meta.json)."
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
    from testbed.scenario.prepare import execute, pcap_links, prepare_run

    prepared = prepare_run(scenario, sets, topology)
    links = pcap_links(pcap, prepared.topology)
    check_out_dir(out)
    ui.require_root()
    signals.install()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        ui.Counts(),
        TimeRemainingColumn(),
        console=ui.console,
        transient=True,
    )
    with progress:
        result = execute(
            prepared, out, say=progress.console.print, progress=progress, seed=seed, pcap=links
        )
    if result.summary:
        print_report(result.summary, ui.console)
        ui.console.print(f"report: {result.run_dir / 'report.md'}")
    if result.fault is not None:  # disk full, or a probe or recorder died: one line
        ui.fail(result.fault_line() or "")
        return 3
    if result.interrupted:
        return 130
    return 0 if result.expectations_met else 1
