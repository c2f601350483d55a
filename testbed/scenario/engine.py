"""The scenario engine: one run from topology up to report.

:func:`run_scenario` brings the topology up, waits for BGP to converge,
starts services, recorders and probes, lets traffic settle, fires the
timeline's events at their times (one line each, with a progress bar), stops
everything, and analyses the records into the run folder.  Every exit path
(normal, error, Ctrl-C, SIGTERM) tears the network down; whatever was
recorded up to then is still analysed.

Faults stop a run early (:class:`RunFault`, ``run`` exits 3):

- the disk fills (or a quota, or an I/O error) while anything of the run is
  written -- the engine's own files, a recorder's, or a probe's (which then
  exits with a write-fault status the watchdog reads): the run stops at
  once, every records file ends with a complete line, and nothing is
  analysed (the report can be made later with ``report RUN``);
- a probe, recorder, health agent or namespace shell dies on its own
  (:mod:`testbed.watchdog`): the run stops and what ran is analysed.

A daemon under test (FRR, a Ryu speaker, NSD, the stream service) that dies
on its own is recorded and the run carries on.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, TypeVar

from testbed import signals
from testbed.errors import TestbedError
from testbed.net import frr
from testbed.net.bringup import bring_up
from testbed.net.state import refuse_if_running
from testbed.policy.live import check_testbed, policy_record
from testbed.policy.reach import no_route_line
from testbed.policy.valley import PolicyCheck
from testbed.records import RecordWriter, WriteFault, as_write_fault, is_write_fault, repair
from testbed.rundir import new_run_dir, write_json, write_yaml
from testbed.scenario.events import Events
from testbed.scenario.model import BUSIEST, EventBase, event_from_record
from testbed.topology.resolution import resolution_meta
from testbed.traffic import TrafficParams, TrafficRun
from testbed.watchdog import Death, Watchdog

if TYPE_CHECKING:  # the analysis is imported when a run is analysed, the network when it starts
    from rich.progress import Progress, TaskID

    from testbed.analysis.model import Summary
    from testbed.net.build import Testbed
    from testbed.scenario.model import Scenario
    from testbed.topology.model import Topology

#: Bytes set aside in the run folder at the start, given back when the disk
#: fills so that the reason the run stopped can still be recorded.
RESERVE_BYTES = 64 * 1024
RESERVE_NAME = ".space-reserve"

Say = Callable[[str], None]
E = TypeVar("E", bound=EventBase)


def _quiet(_msg: str) -> None:
    pass


class RunFault(Exception):
    """Why a run stopped early: its files could not be written, or an instrument died.

    Attributes:
        reason: ``disk full while writing records/dns-ca.jsonl``, or
            ``dns-probe on ca died (killed by SIGKILL)``.
        at: seconds from the timeline's start when it was noticed (None: during bring-up).
        disk: True for a write fault (disk full, quota, I/O error).
        phase: ``run``, or ``report`` when only the analysis could not be written.
        death: the watchdog's :class:`~testbed.watchdog.Death`, if a process died.
    """

    def __init__(
        self,
        reason: str,
        at: Optional[float],
        disk: bool,
        phase: str = "run",
        death: Optional[Death] = None,
    ):
        super().__init__(reason)
        self.reason = reason
        self.at = at
        self.disk = disk
        self.phase = phase
        self.death = death

    def line(self, run_dir: Path) -> str:
        """The one line the CLI prints (after ``anycast-testbed: ``)."""
        if self.disk and self.phase == "report":
            return (
                f"{run_dir}: {self.reason}: the run finished but its report was not written "
                f"(free some space, then: anycast-testbed report {run_dir})"
            )
        if self.at is None:
            when = "the run stopped during bring-up, before its timeline (nothing to report)"
        else:
            when = f"the run stopped at t={self.at:.1f} s"
        if self.disk:
            more = (
                f"; the records so far are kept (free some space, then: "
                f"anycast-testbed report {run_dir})"
                if self.at is not None
                else ""
            )
            return f"{run_dir}: {self.reason}: {when}{more}"
        return (
            f"{run_dir}: {self.reason}: {when}, as its measurements would be wrong from then on"
            + (" (the report covers what ran)" if self.at is not None else "")
        )

    @property
    def summary_reason(self) -> str:
        """For ``summary.json``'s ``interrupted``: ``stopped: REASON at t=12.3 s``."""
        when = f" at t={self.at:.1f} s" if self.at is not None else " during bring-up"
        return f"stopped: {self.reason}{when}"


@dataclass
class RunResult:
    """What a run produced.

    ``fault`` is set when the run stopped early on a fault (``run`` then exits
    3 with :meth:`RunFault.line`); ``interrupted`` then says why, too.
    """

    run_dir: Path
    summary: Optional[Summary] = None  # None: the run was not analysed
    interrupted: Optional[str] = None  # why the timeline did not finish
    fault: Optional[RunFault] = None

    @property
    def expectations_met(self) -> bool:
        """True if every expectation passed (and there was no interruption)."""
        return self.interrupted is None and (self.summary is None or self.summary.expectations_met)

    def fault_line(self) -> Optional[str]:
        """The one line of a run stopped on a fault (None if it was not)."""
        return self.fault.line(self.run_dir) if self.fault is not None else None


def busiest_site(testbed: Testbed) -> str:
    """The site that serves the most clients now (ties: topology order).

    Read from the routers' forwarding tables (the path each client's packets
    to the service address take), not from probes.
    """
    counts = {site.name: 0 for site in testbed.topo.sites}
    for client in testbed.plan.clients():
        site = testbed.site_of(client.name)
        if site in counts:
            counts[site] += 1
    return max(counts, key=lambda s: counts[s])


def event_params(event: EventBase) -> Dict[str, Any]:
    """An event model's own fields (without ``event`` and ``at``)."""
    return {k: v for k, v in event.model_dump().items() if k not in ("event", "at")}


def resolve_busiest(event: E, busiest: str) -> E:
    """The event with its ``site`` ``busiest`` replaced by the real site (else itself)."""
    if getattr(event, "site", None) == BUSIEST:
        return event.model_copy(update={"site": busiest})
    return event


def describe(kind: str, params: Dict[str, Any]) -> str:
    """One human line for an event record, e.g. ``fail site lon (link-down)``: its class's
    :meth:`~testbed.scenario.model.EventBase.describe`."""
    event = event_from_record(kind, params)
    if event is None:
        return f"{kind.replace('_', ' ')} site {params.get('site')}"
    return event.describe()


def event_target(kind: str, params: Dict[str, Any]) -> str:
    """The thing an event record acts on (a site, ``a-b`` for a link, ``backend``,
    ``attack``): its class's :meth:`~testbed.scenario.model.EventBase.target`."""
    event = event_from_record(kind, params)
    return str(params.get("site")) if event is None else event.target()


def dampening_meta(topo: Topology) -> Optional[Dict[str, int]]:
    """meta.json's ``dampening``: the route-flap damping every FRR router of the run had
    (the effective topology's ``bgp.dampening``: half-life and max-suppress in minutes,
    reuse and suppress), None when it was off."""
    damping = topo.bgp.dampening
    if damping is None or not damping.enabled:
        return None
    return damping.model_dump(exclude={"enabled"})


def load_meta(topo: Topology, plan: Any) -> Dict[str, Any]:
    """meta.json's ``load``: site capacities, client weights, attack sources (docs/records.md)."""
    return {
        "capacity": {
            s.name: s.capacity.model_dump(mode="json") for s in topo.sites if s.capacity is not None
        },
        "weights": {c.name: c.weight for c in topo.clients},
        "attackers": {
            h.name: {
                "as": h.as_name,
                "address": str(h.interface.address.ip),
                "access_router": h.interface.peer,
            }
            for h in plan.attackers()
        },
    }


class Engine:
    """Runs one scenario on a topology; see :func:`run_scenario`."""

    def __init__(
        self,
        scenario: Scenario,
        topology: Topology,
        out: Path,
        say: Say = _quiet,
        progress: Optional[Progress] = None,
        pcap: Optional[List[str]] = None,
        extra_meta: Optional[Dict[str, Any]] = None,
    ):
        self.scenario = scenario
        self.topo = topology
        self.say = say
        self.progress = progress
        self.pcap = pcap
        self.extra_meta = extra_meta or {}
        refuse_if_running()  # another testbed runs: one line, before the run folder exists
        self.run_dir = new_run_dir(scenario.name, out)
        self.testbed: Optional[Testbed] = None
        self.traffic: Optional[TrafficRun] = None
        self.events: Optional[Events] = None
        self.watchdog: Optional[Watchdog] = None
        self.t0: Optional[float] = None
        self.captures: List[Any] = []
        self.timings: Dict[str, float] = {}

    @property
    def _tb(self) -> Testbed:
        """The Testbed handle (made by :meth:`_prepare_folder`, before anything uses it)."""
        if self.testbed is None:
            raise TestbedError("the testbed is not made yet")
        return self.testbed

    @property
    def _events(self) -> Events:
        """The events of the run (made by :meth:`_bring_up`, before the timeline)."""
        if self.events is None:
            raise TestbedError("the network is not up yet")
        return self.events

    # ---------------------------------------------------------------- run
    def run(self) -> RunResult:
        """Bring up, run the timeline, tear down, analyse."""
        result = RunResult(self.run_dir)
        fault: Optional[RunFault] = None
        mark = time.monotonic()
        try:
            self._prepare_folder()
            self._bring_up()
            self.timings["bring_up_with_settle_s"] = time.monotonic() - mark
            mark = time.monotonic()
            self._timeline()
            self.timings["timeline_s"] = time.monotonic() - mark
        except KeyboardInterrupt:
            result.interrupted = "interrupted (Ctrl-C)"
        except signals.Terminated as exc:
            result.interrupted = f"stopped by {exc}"
        except RunFault as exc:
            fault = exc
        except (OSError, WriteFault) as exc:  # the disk filled, seen in this thread
            fault = self._disk_fault(exc)
            if fault is None:
                raise
        finally:
            mark = time.monotonic()
            with signals.shielded():
                self._tear_down()
            self.timings["teardown_s"] = time.monotonic() - mark
        if fault is None:
            fault = self._late_fault()  # noticed while the last events ran
        repair(self.run_dir / "records")  # a line cut short by a writer killed mid-way
        self._release_reserve()
        if fault is not None:
            result.fault = fault
            result.interrupted = fault.summary_reason
            self._record_stop(fault)
        elif result.interrupted:
            self.say(f"{result.interrupted}: analysing what was recorded")
        if self.t0 is not None and not (fault is not None and fault.disk):
            mark = time.monotonic()
            try:
                result.summary = self._analyse(result.interrupted)
            except (OSError, WriteFault) as exc:
                late = self._disk_fault(exc, phase="report")
                if late is None:
                    raise
                result.fault = result.fault or late
            self.timings["analysis_s"] = time.monotonic() - mark
        with contextlib.suppress(OSError):  # a full disk has been reported already
            write_json(
                self.run_dir / "timings.json", {k: round(v, 3) for k, v in self.timings.items()}
            )
        return result

    # ------------------------------------------------------------- faults
    def _prepare_folder(self) -> None:
        """The space reserve, scenario.yaml and topology.yaml, then the Testbed handle."""
        from testbed.net.build import Testbed

        reserve = self.run_dir / RESERVE_NAME
        try:
            with open(reserve, "wb") as fh:
                fh.write(b"\0" * RESERVE_BYTES)
        except OSError as exc:
            with contextlib.suppress(OSError):
                reserve.unlink()
            raise as_write_fault(exc, reserve) or exc from None
        write_yaml(self.run_dir / "scenario.yaml", self.scenario.model_dump(mode="json"))
        write_yaml(self.run_dir / "topology.yaml", self.topo.model_dump(mode="json"))
        self.testbed = Testbed(self.topo, self.run_dir, log=self.say)

    def _release_reserve(self) -> None:
        with contextlib.suppress(OSError):
            (self.run_dir / RESERVE_NAME).unlink()

    def _at(self, t: Optional[float] = None) -> Optional[float]:
        """Seconds from the timeline's start (None before it started)."""
        if self.t0 is None:
            return None
        return (t if t is not None else time.time()) - self.t0

    def _relative(self, path: Any) -> str:
        try:
            return str(Path(path).resolve().relative_to(self.run_dir.resolve()))
        except (ValueError, OSError, TypeError):
            return str(path)

    def _disk_fault(self, exc: Exception, phase: str = "run") -> Optional[RunFault]:
        """The RunFault of a write error (disk full...), None for any other error."""
        if isinstance(exc, WriteFault):
            fault: Optional[WriteFault] = exc
        elif isinstance(exc, OSError) and is_write_fault(exc):
            fault = as_write_fault(exc)
        else:
            fault = None
        if fault is None:
            return None
        reason = f"{fault.reason} while writing {self._relative(fault.path)}"
        return RunFault(reason, self._at(), disk=True, phase=phase)

    def _fault_of(self, death: Death) -> RunFault:
        at = self._at(death.t)
        if death.fault:
            return RunFault(f"{death.fault} while writing {death.file}", at, True, death=death)
        return RunFault(death.line(), at, False, death=death)

    def _check(self) -> None:
        """Raise the watchdog's fatal finding, if any (called every tick of the timeline).

        Raises:
            RunFault: a write fault, or a probe or recorder that died.
        """
        watchdog = self.watchdog
        if watchdog is None:
            return
        if watchdog.fatal is not None:
            raise self._fault_of(watchdog.fatal)
        if watchdog.write_fault is not None:
            raise self._disk_fault(watchdog.write_fault)  # type: ignore[misc]

    def _late_fault(self) -> Optional[RunFault]:
        try:
            self._check()
        except RunFault as exc:
            return exc
        return None

    def _record_stop(self, fault: RunFault) -> None:
        """A ``run_stopped`` record in records/run.jsonl (best effort: the disk may be full)."""
        death = fault.death
        record = {
            "kind": "run_stopped",
            "reason": fault.reason,
            "fault": (death.fault if death else None) or ("write" if fault.disk else None),
            "file": death.file if death else None,
            "process": death.process if death else None,
            "node": death.node if death else None,
            "at": None if fault.at is None else round(fault.at, 3),
        }
        if fault.disk and death is None:
            record["fault"] = fault.reason.split(" while ")[0]
            record["file"] = fault.reason.split(" while writing ")[-1]
        with (
            contextlib.suppress(OSError, ValueError, WriteFault),
            RecordWriter(self.run_dir / "records" / "run.jsonl") as writer,
        ):
            writer.write(record)

    def _bring_up(self) -> None:
        tb = self._tb
        started = time.monotonic()
        timeout = max(60.0, 3 * self.topo.bgp.hold)
        up = bring_up(tb, timeout=timeout, status=self._status, sessions=False)
        conv = up.convergence
        plan = tb.plan
        self.say(
            f"{self.topo.name}: {len(plan.routers)} routers, {len(self.topo.sites)} sites, "
            f"{len(plan.clients())} clients up, BGP converged in {conv.seconds:.1f} s"
            f" ({time.monotonic() - started:.1f} s in all)"
        )
        for warning in tb.warnings:
            self.say(f"warning: {warning}")
        if not conv.converged:
            missing = "; ".join(f"{r}: {', '.join(p)}" for r, p in sorted(conv.missing.items()))
            raise TestbedError(f"BGP did not converge: {missing[:300]}")
        by_policy = no_route_line(conv.no_route)
        if by_policy:
            self.say(by_policy)
        if up.policy is not None:
            self._record_policy(up.policy, "converged", conv.no_route)
        params = TrafficParams.of(self.scenario.traffic, int(self.extra_meta.get("seed", 0)))
        self.traffic = TrafficRun(tb, params)
        self.traffic.start()
        self.events = Events(tb, self.traffic)
        if self.pcap is not None:
            self._start_pcap()
        self.watchdog = Watchdog(
            tb,
            self.traffic,
            self.run_dir / "records" / "run.jsonl",
            t0=lambda: self.t0,
            say=self.say,
        ).start()
        self.timings["network_and_services_s"] = time.monotonic() - started
        self._pause(self.scenario.settle)

    @contextlib.contextmanager
    def _status(self, what: str) -> Iterator[Any]:
        """A phase of the bring-up as a line of the run's progress display (if it has one);
        yields what takes the testbed's progress lines (``update(text)``)."""
        if self.progress is None:
            yield None
            return
        progress = self.progress
        task = progress.add_task(what, total=None)

        class Shown:
            def update(self, text: str) -> None:
                progress.update(task, description=text)

        try:
            yield Shown()
        finally:
            progress.remove_task(task)

    def _record_policy(
        self, check: PolicyCheck, phase: str, no_route: Optional[Dict[str, Any]] = None
    ) -> None:
        """Say the policy check's line and append it to ``records/policy.jsonl``."""
        self.say(check.line() if phase == "converged" else f"at the end: {check.line()}")
        record = policy_record(check, phase)
        if no_route is not None:
            record["no_route"] = no_route.get("policy", {})
        with RecordWriter(self.run_dir / "records" / "policy.jsonl") as out:
            out.write(record)

    def _pause(self, seconds: float) -> None:
        """Sleep, looking at the watchdog's findings every 0.2 s."""
        until = time.monotonic() + seconds
        while True:
            self._check()
            left = until - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.2, left))

    def _timeline(self) -> None:
        sc = self.scenario
        self.t0 = t0 = time.time()
        self._events.ends_at = t0 + sc.duration
        self._write_meta()
        busiest = busiest_site(self._tb)
        task = None
        if self.progress is not None:
            task = self.progress.add_task(sc.name, total=sc.duration)
        with RecordWriter(self.run_dir / "records" / "events.jsonl") as events:
            for index, event in enumerate(sc.timeline):
                self._sleep_until(t0 + event.at, task)
                event = resolve_busiest(event, busiest)
                params = event_params(event)
                kind = event.event
                t = time.time()
                details = self._events.apply(event)
                done = time.time()
                events.write(
                    {
                        "t": t,
                        "kind": "event",
                        "index": index,
                        "event": kind,
                        "target": event.target(),
                        "params": params,
                        "at": event.at,
                        "details": details,
                        "applied_s": round(done - t, 6),
                    }
                )
                self.say(f"t={t - t0:5.1f}s  {event.describe()}")
                self._check()
            self._sleep_until(t0 + sc.duration, task)
        end_check = check_testbed(self._tb)
        if end_check is not None:
            self._record_policy(end_check, "end")

    def _sleep_until(self, when: float, task: Optional[TaskID]) -> None:
        while True:
            self._check()
            now = time.time()
            if task is not None and self.progress is not None and self.t0 is not None:
                self.progress.update(task, completed=min(now - self.t0, self.scenario.duration))
            if now >= when:
                return
            time.sleep(min(0.2, when - now))

    def _tear_down(self) -> None:
        """Stop the watchdog, captures, traffic, then the network; the network always."""
        try:
            if self.watchdog is not None:
                self.watchdog.stop()
            for capture in self.captures:
                self._tb.stop_process(capture, grace=2)
            if self.traffic is not None:
                self.traffic.stop()
        finally:
            if self.testbed is not None:
                self.testbed.stop()

    # ----------------------------------------------------------- recording
    def _write_meta(self) -> None:
        tb = self._tb
        meta = {
            "t0": self.t0,
            "duration": self.scenario.duration,
            "scenario": self.scenario.name,
            "description": self.scenario.description,
            "topology": self.topo.name,
            "frr_version": frr.frr_version(),
            "speaker": sorted({s.speaker for s in self.topo.sites}),
            "speaker_library": _speaker_library(self.topo, self.run_dir),
            "clients": [c.name for c in tb.plan.clients()],
            "sites": [s.name for s in self.topo.sites],
            "routers": list(tb.plan.routers),
            "traffic": self.scenario.traffic.model_dump(),
            "catchment_at_start": {c.name: tb.site_of(c.name) for c in tb.plan.clients()},
            "access_routers": {c.name: self.topo.access_router(c) for c in self.topo.clients},
            "load": load_meta(self.topo, tb.plan),
            "dampening": dampening_meta(self.topo),
            **resolution_meta(self.topo, tb.plan),
            **self.extra_meta,
        }
        write_json(self.run_dir / "meta.json", meta)

    def _start_pcap(self) -> None:
        """tcpdump on every site uplink (or the named links) into RUN/pcap/."""
        folder = (self.run_dir / "pcap").resolve()
        folder.mkdir(exist_ok=True)
        ends = []
        if self.pcap:
            for name in self.pcap:
                a, _, b = name.partition("-")
                link = self._events.find_link(a, b)
                ends.append(link.a)
        else:
            for site in self.topo.sites:
                ends += self._events.uplinks(site.name)
        tcpdump = shutil.which("tcpdump") or "/usr/bin/tcpdump"
        for end in ends:
            argv = [
                tcpdump,
                "-i",
                end.name,
                "-U",
                "-n",
                "-s",
                "200",
                "-Z",
                "root",
                "-w",
                str(folder / f"{end.name}.pcap"),
            ]
            self.captures.append(
                self._tb.spawn(
                    end.node, argv, "tcpdump", self.run_dir / "logs" / f"tcpdump-{end.name}.log"
                )
            )

    def _analyse(self, interrupted: Optional[str]) -> Summary:
        from testbed.analysis import analyse_run
        from testbed.scenario.expect import evaluate

        return analyse_run(
            self.run_dir,
            judge=lambda summary: evaluate(self.scenario.expect, summary),
            extra={"interrupted": interrupted} if interrupted else None,
        )


def _speaker_library(topology: Topology, run_dir: Path) -> Optional[str]:
    """The BGPSpeaker library the run's Ryu sites imported (``ryu`` or ``os-ken``), None without.

    Read from the speakers' own ``start`` records, so it names what runs.
    """
    if not any(s.speaker == "ryu" for s in topology.sites):
        return None
    from testbed.speaker import run_library

    return run_library(run_dir)


def run_scenario(
    scenario: Scenario,
    topology: Topology,
    out: Path,
    say: Say = _quiet,
    progress: Optional[Progress] = None,
    pcap: Optional[List[str]] = None,
    extra_meta: Optional[Dict[str, Any]] = None,
) -> RunResult:
    """Run one scenario on a topology and write its run folder.

    Args:
        scenario: the validated scenario.
        topology: the topology, with the scenario's overrides applied.
        out: parent folder of the run folder.
        say: prints one line (progress, events).
        progress: a rich Progress to show the timeline in (optional).
        pcap: None (no capture), [] (every site uplink) or link names ``a-b``.
        extra_meta: more keys for meta.json (seed, overrides...).

    Returns:
        The run folder, its summary, and whether it was interrupted.

    Raises:
        InputError: the topology has an AS with ``daemon: bird`` and BIRD 2 is
            not installed.
    """
    from testbed.net.bird import require_bird

    require_bird(topology, f"topology {topology.name}")
    return Engine(scenario, topology, out, say, progress, pcap, extra_meta).run()
