"""Running what a lab check needs, and reading the figures it checks.

A checker gets a :class:`LabContext`: the working copy, the variant, and a
``run`` function that runs a scenario (plain data) on a topology with the
scenario engine and returns the run's summary (:class:`~testbed.analysis.model.Summary`).
The CLI passes the real engine (:func:`engine_runner`); unit tests pass a
fake that returns a made-up summary, so the checkers' logic is tested
without root.

Run folders are signed (:mod:`testbed.labs.signing`): the check's own runs
as it makes them, the student's own runs (lab 3 reads them) the first time a
check reads them; a check refuses a signed run folder whose files changed.
The answer files are read through :meth:`LabContext.read_answers`, which
gives the answers frozen at the first graded check (:mod:`testbed.labs.attempts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from testbed.analysis.model import Summary
from testbed.errors import InputError
from testbed.labs import answers
from testbed.labs.signing import Key, Keyring, canonical, check_folder, sign_folder
from testbed.labs.variant import Variant
from testbed.topology.model import Topology

RunFn = Callable[[Topology, Dict[str, Any]], Summary]
Say = Callable[[str], None]

#: The files of a run folder a signature covers (what the checks read).
RUN_FILES = ["summary.json", "topology.yaml", "scenario.yaml", "meta.json"]
#: Traffic of every lab run: enough DNS to time outages, two TCP streams.
LAB_TRAFFIC = {"dns_rate": 20, "tcp_streams": 2, "tcp_interval": 0.2, "tcp_timeout": 3.0}


def _quiet(_msg: str) -> None:
    pass


@dataclass
class LabContext:
    """What a checker works with."""

    workdir: Path
    variant: Variant
    run: RunFn
    say: Say = _quiet
    run_dirs: List[str] = field(default_factory=list)
    keyring: Optional[Keyring] = None
    #: Answer file name -> the content frozen at the first graded check.
    frozen: Dict[str, Any] = field(default_factory=dict)
    #: Answer file name -> its content now (files that could be read).
    answers_now: Dict[str, Any] = field(default_factory=dict)

    def read_answers(self, name: str) -> Tuple[Dict[str, Any], Optional[str]]:
        """An answer file of the working copy, as graded: its frozen first answers if any.

        Args:
            name: ``answers.yaml`` or ``predictions.yaml``.

        Returns:
            (mapping, None) or ({}, the file's problem), as
            :func:`testbed.labs.answers.read_answers`.
        """
        data, problem = answers.read_answers(self.workdir / name)
        if problem is None:
            self.answers_now[name] = data
        if name in self.frozen:
            return self.frozen[name], None
        return data, problem

    def changed(self) -> Set[str]:
        """The answer files whose content differs from the answers frozen at the first check."""
        return {
            name
            for name, data in self.frozen.items()
            if name not in self.answers_now or canonical(self.answers_now[name]) != canonical(data)
        }


def lab_scenario(
    name: str,
    duration: float,
    timeline: List[Dict[str, Any]],
    settle: float = 3.0,
    bgp: Optional[Dict[str, int]] = None,
    traffic: Optional[Dict[str, Any]] = None,
    topology_set: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """A scenario as plain data, with the labs' traffic.

    Args:
        name: the scenario's name.
        duration: seconds of timeline.
        timeline: events (``{"at": 3, "event": "fail_site", ...}``).
        settle: seconds of traffic before the timeline.
        bgp: timers for every session (None: the topology's).
        traffic: traffic settings over the labs' (``{"kinds": [...]}``).
        topology_set: topology settings the run changes (``{"service": {"ttl": 5}}``).

    Returns:
        Data for :func:`testbed.scenario.load.parse_scenario`.
    """
    data: Dict[str, Any] = {
        "name": name,
        "duration": duration,
        "settle": settle,
        "traffic": {**LAB_TRAFFIC, **(traffic or {})},
        "timeline": timeline,
    }
    if bgp:
        data["bgp"] = dict(bgp)
    if topology_set:
        data["topology_set"] = dict(topology_set)
    return data


def engine_runner(out: Path, say: Say, run_dirs: List[str], signer: Optional[Key] = None) -> RunFn:
    """A ``run`` function on the real scenario engine (needs root).

    Args:
        out: parent folder of the run folders.
        say: prints the engine's progress lines.
        run_dirs: every run folder made is appended here.
        signer: signs each run folder (:data:`RUN_FILES`) as soon as it is written.

    Returns:
        ``run(topology, scenario_data) -> summary``.
    """

    def run(topology: Topology, data: Dict[str, Any]) -> Summary:
        from testbed.scenario.effective import effective_topology
        from testbed.scenario.engine import run_scenario
        from testbed.scenario.load import parse_scenario
        from testbed.scenario.validate import validate_against

        source = f"lab scenario {data.get('name')}"
        scenario = parse_scenario(data, source)
        topo = effective_topology(topology, scenario, {}, source)
        validate_against(scenario, topo, source)
        result = run_scenario(scenario, topo, out, say=say)
        run_dirs.append(str(result.run_dir))
        sign_folder(signer, Path(result.run_dir), RUN_FILES)
        if result.interrupted:
            raise KeyboardInterrupt
        return result.summary if result.summary is not None else Summary()

    return run


def load_student_topology(path: Path) -> Tuple[Optional[Topology], str]:
    """Load the student's topology file, checked as ``anycast-testbed validate`` checks it.

    Args:
        path: the working copy's topology file.

    Returns:
        (topology, "") or (None, the one-line problem).
    """
    from testbed.checkfile import TOPOLOGY, check_file

    if not path.exists():
        return None, f"{path.name} is missing"
    try:
        return check_file(str(path), kind=TOPOLOGY).topology, ""
    except InputError as exc:
        return None, str(exc)


@dataclass
class PastRun:
    """A run folder the student made (``anycast-testbed run ... --out WORKDIR/runs``)."""

    path: Path
    summary: Summary
    topology: Topology  # the topology it ran on, the scenario's settings applied


def past_runs(folder: Path, ring: Optional[Keyring] = None) -> List[PastRun]:
    """The readable run folders under ``folder``, oldest first.

    A folder counts when it holds ``summary.json`` (the run was analysed) and
    ``topology.yaml`` (what it ran on, as the engine writes both); anything
    unreadable, or of the wrong shape, is left out
    (:mod:`testbed.runfolder` reads them, as ``report`` and ``compare`` do).

    Args:
        folder: usually the working copy's ``runs/``.
        ring: the check's keys: a run folder signed with one of them must
            still match (else :class:`~testbed.labs.signing.Tampered`); an
            unsigned one is signed now, so it cannot change after this check.

    Returns:
        The runs, by folder name (they start with the date and time).
    """
    from testbed.runfolder import read_run_topology, read_summary

    out: List[PastRun] = []
    if not folder.is_dir():
        return out
    for summary_path in sorted(folder.glob("*/summary.json")):
        run_dir = summary_path.parent
        if ring is not None and check_folder(ring, run_dir) is False:
            sign_folder(ring.signer, run_dir, RUN_FILES)
        try:
            summary = read_summary(run_dir)
            topology = read_run_topology(run_dir)
        except InputError:
            continue
        out.append(PastRun(run_dir, summary, topology))
    return out


# ------------------------------------------------------------ summary figures
def sites_before(summary: Summary) -> Dict[str, Optional[str]]:
    """Each client's site when the timeline started."""
    return {c: v.site_before for c, v in summary.clients.items()}


def sites_after_event(summary: Summary, index: int) -> Dict[str, Optional[str]]:
    """Each client's site after event ``index`` (its site before, moved by events 0..index)."""
    sites = sites_before(summary)
    for event in summary.events[: index + 1]:
        for client, move in (event.moves or {}).items():
            sites[client] = move.to
    return sites


def event_time(summary: Summary, index: int) -> Optional[float]:
    """Seconds from the timeline's start of event ``index`` (None if it did not happen)."""
    events = summary.events
    return events[index].t if index < len(events) else None


def window(summary: Summary, index: int) -> Tuple[float, float]:
    """[start, end) of event ``index``: from it to the next event (or the end of the run)."""
    start = event_time(summary, index)
    end = event_time(summary, index + 1)
    if end is None:
        end = float(summary.duration or 1e9) + 1e6
    return (start if start is not None else 1e9), end


def resets_in(summary: Summary, start: float, end: float) -> Dict[str, int]:
    """TCP stream resets per client with ``start <= t < end``."""
    return {
        client: sum(1 for r in figures.tcp.resets if start <= r.t < end)
        for client, figures in summary.clients.items()
    }


def max_outage_in(summary: Summary, client: str, start: float, end: float) -> float:
    """The longest DNS outage of a client that starts within [start, end)."""
    figures = summary.clients.get(client)
    outages = figures.dns.outages if figures is not None else []
    return max((float(o.duration) for o in outages if start <= o.start < end), default=0.0)


def dns_answered(summary: Summary, client: str) -> int:
    """DNS queries of a client that got an answer."""
    figures = summary.clients.get(client)
    return figures.dns.answered if figures is not None else 0
