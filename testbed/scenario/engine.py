"""The scenario engine: one run from topology up to report.

:func:`run_scenario` brings the topology up, waits for BGP to converge,
starts services, recorders and probes, lets traffic settle, fires the
timeline's events at their times (one line each, with a progress bar), stops
everything, and analyses the records into the run folder.  Every exit path
(normal, error, Ctrl-C, SIGTERM) tears the network down; whatever was
recorded up to then is still analysed.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from testbed import signals
from testbed.errors import TestbedError
from testbed.net import frr
from testbed.records import RecordWriter
from testbed.rundir import new_run_dir, write_json, write_yaml
from testbed.scenario.events import Events
from testbed.traffic import Traffic, TrafficParams

Say = Callable[[str], None]


def _quiet(_msg: str) -> None:
    pass


@dataclass
class RunResult:
    """What a run produced."""

    run_dir: Path
    summary: Dict[str, Any] = field(default_factory=dict)
    interrupted: Optional[str] = None  # why the timeline did not finish

    @property
    def expectations_met(self) -> bool:
        """True if every expectation passed (and there was no interruption)."""
        return self.interrupted is None and all(e["passed"] for e in self.summary.get("expect", []))


def busiest_site(testbed: Any) -> str:
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


def event_params(event: Any) -> Dict[str, Any]:
    """An event model's own fields (without ``event`` and ``at``)."""
    return {k: v for k, v in event.model_dump().items() if k not in ("event", "at")}


def describe(kind: str, params: Dict[str, Any]) -> str:
    """One human line for an event, e.g. ``fail site lon (link-down)``."""
    if kind == "fail_site":
        return f"fail site {params['site']} ({params.get('how')})"
    if kind == "kill_service":
        return f"kill {params.get('service', 'all')} service at site {params['site']}"
    if kind == "link":
        return f"link {params['a']} - {params['b']} {params['state']}"
    if kind in ("prepend", "med"):
        value = params.get("count", params.get("value"))
        return f"{kind} {value} on site {params['site']}"
    return f"{kind.replace('_', ' ')} site {params.get('site')}"


def event_target(kind: str, params: Dict[str, Any]) -> str:
    """The thing an event acts on: a site, or ``a-b`` for a link."""
    if kind == "link":
        return f"{params['a']}-{params['b']}"
    return str(params.get("site"))


class Engine:
    """Runs one scenario on a topology; see :func:`run_scenario`."""

    def __init__(
        self,
        scenario: Any,
        topology: Any,
        out: Path,
        say: Say = _quiet,
        progress: Any = None,
        pcap: Optional[List[str]] = None,
        extra_meta: Optional[Dict[str, Any]] = None,
    ):
        self.scenario = scenario
        self.topo = topology
        self.say = say
        self.progress = progress
        self.pcap = pcap
        self.extra_meta = extra_meta or {}
        self.run_dir = new_run_dir(scenario.name, out)
        self.testbed = None
        self.traffic: Optional[Traffic] = None
        self.events: Optional[Events] = None
        self.t0: Optional[float] = None
        self.captures: List[Any] = []
        self.timings: Dict[str, float] = {}

    # ---------------------------------------------------------------- run
    def run(self) -> RunResult:
        """Bring up, run the timeline, tear down, analyse."""
        from testbed.net.build import Testbed

        result = RunResult(self.run_dir)
        write_yaml(self.run_dir / "scenario.yaml", self.scenario.model_dump(mode="json"))
        write_yaml(self.run_dir / "topology.yaml", self.topo.model_dump(mode="json"))
        self.testbed = Testbed(self.topo, self.run_dir, log=self.say)
        mark = time.monotonic()
        try:
            self._bring_up()
            self.timings["bring_up_with_settle_s"] = time.monotonic() - mark
            mark = time.monotonic()
            self._timeline()
            self.timings["timeline_s"] = time.monotonic() - mark
        except KeyboardInterrupt:
            result.interrupted = "interrupted (Ctrl-C)"
        except signals.Terminated as exc:
            result.interrupted = f"stopped by {exc}"
        finally:
            mark = time.monotonic()
            with signals.shielded():
                self._tear_down()
            self.timings["teardown_s"] = time.monotonic() - mark
        if result.interrupted:
            self.say(f"{result.interrupted}: analysing what was recorded")
        if self.t0 is not None:
            mark = time.monotonic()
            result.summary = self._analyse(result.interrupted)
            self.timings["analysis_s"] = time.monotonic() - mark
        write_json(self.run_dir / "timings.json", {k: round(v, 3) for k, v in self.timings.items()})
        return result

    def _bring_up(self) -> None:
        tb = self.testbed
        started = time.monotonic()
        tb.start()
        conv = tb.wait_converged(timeout=max(60.0, 3 * self.topo.bgp.hold))
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
        params = TrafficParams(
            **self.scenario.traffic.model_dump(), seed=int(self.extra_meta.get("seed", 0))
        )
        self.traffic = Traffic(tb, params)
        self.traffic.start()
        self.events = Events(tb, self.traffic)
        if self.pcap is not None:
            self._start_pcap()
        self.timings["network_and_services_s"] = time.monotonic() - started
        time.sleep(self.scenario.settle)

    def _timeline(self) -> None:
        sc = self.scenario
        self.t0 = time.time()
        self._write_meta()
        busiest = busiest_site(self.testbed)
        task = None
        if self.progress is not None:
            task = self.progress.add_task(sc.name, total=sc.duration)
        with RecordWriter(self.run_dir / "records" / "events.jsonl") as events:
            for index, event in enumerate(sc.timeline):
                self._sleep_until(self.t0 + event.at, task)
                params = event_params(event)
                if params.get("site") == "busiest":
                    params["site"] = busiest
                kind = event.event
                t = time.time()
                details = self.events.apply(kind, **params)
                events.write(
                    {
                        "t": t,
                        "kind": "event",
                        "index": index,
                        "event": kind,
                        "target": event_target(kind, params),
                        "params": params,
                        "at": event.at,
                        "details": details,
                    }
                )
                self.say(f"t={t - self.t0:5.1f}s  {describe(kind, params)}")
                dead = self.traffic.dead()
                if dead and kind != "kill_service":
                    self.say(f"warning: died: {', '.join(dead)}")
            self._sleep_until(self.t0 + sc.duration, task)

    def _sleep_until(self, when: float, task: Any) -> None:
        while True:
            now = time.time()
            if task is not None:
                self.progress.update(task, completed=min(now - self.t0, self.scenario.duration))
            if now >= when:
                return
            time.sleep(min(0.2, when - now))

    def _tear_down(self) -> None:
        for capture in self.captures:
            self.testbed.stop_process(capture, grace=2)
        if self.traffic is not None:
            self.traffic.stop()
        if self.testbed is not None:
            self.testbed.stop()

    # ----------------------------------------------------------- recording
    def _write_meta(self) -> None:
        tb = self.testbed
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
                link = self.events.find_link(a, b)
                ends.append(link.a)
        else:
            for site in self.topo.sites:
                ends += self.events.uplinks(site.name)
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
                self.testbed.spawn(
                    end.node, argv, "tcpdump", self.run_dir / "logs" / f"tcpdump-{end.name}.log"
                )
            )

    def _analyse(self, interrupted: Optional[str]) -> Dict[str, Any]:
        from testbed.analysis import analyse
        from testbed.scenario.expect import evaluate

        return analyse(
            self.run_dir,
            judge=lambda summary: evaluate(self.scenario.expect, summary),
            extra={"interrupted": interrupted} if interrupted else None,
        )


def _speaker_library(topology: Any, run_dir: Path) -> Optional[str]:
    """The BGPSpeaker library the run's Ryu sites imported (``ryu`` or ``os-ken``), None without.

    Read from the speakers' own ``start`` records, so it names what runs.
    """
    if not any(s.speaker == "ryu" for s in topology.sites):
        return None
    from testbed.speaker import run_library

    return run_library(run_dir)


def run_scenario(
    scenario: Any,
    topology: Any,
    out: Path,
    say: Say = _quiet,
    progress: Any = None,
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
    """
    return Engine(scenario, topology, out, say, progress, pcap, extra_meta).run()
