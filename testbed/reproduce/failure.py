"""``failure-detection``: how long a silent failure lasts, with and without BFD.

RFC 4271 (section 4.4 and 6.5): a BGP speaker that hears nothing from its
peer for the hold time closes the session.  Keepalives come every keepalive
interval, so after a silent failure the last one arrived between 0 and one
keepalive interval before it: the session drops between ``hold - keepalive``
and ``hold`` after the failure.  RFC 5880 (section 6.8.4): BFD declares the
session down after ``detect multiplier x interval`` without a packet, i.e.
between ``(multiplier - 1) x interval`` and ``multiplier x interval`` after
the failure.

The runs: ``silent-failure`` on ``two-sites`` (site ``east`` freezes: its
daemons are stopped and its packets dropped, links stay up), each detector
setting once per repeat, with the DNS probe at 200 queries/s (5 ms).
Judged: the detection, measured where it happens (the first daemon that
declared the session down, from its own log: bfdd with BFD, bgpd's hold
timer without), against the standard's window, widened only by the log's
millisecond and the time the freeze took to apply.  Shown beside it: the
moved client's outage, split into detection, control plane, FIB and
sampling (:mod:`testbed.analysis.parts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from testbed.reproduce.base import (
    TIMESTAMP_S,
    Bounds,
    Experiment,
    Finding,
    Planned,
    Row,
    Verdict,
    complete,
    judge_all,
    mid,
    spread,
    timeline,
    values,
)

SCENARIO = "silent-failure"


@dataclass(frozen=True)
class Detector:
    """One setting: BGP timers, and BFD (interval in ms, multiplier) or None."""

    keepalive: int
    hold: int
    bfd: Optional[Tuple[int, int]] = None

    @property
    def case(self) -> str:
        """``hold 3 s, keepalive 1 s`` or ``BFD 100 ms x 3 (hold 9 s)``."""
        if self.bfd:
            return f"BFD {self.bfd[0]} ms x {self.bfd[1]} (hold {self.hold} s)"
        return f"hold {self.hold} s, keepalive {self.keepalive} s"

    def window(self) -> Tuple[float, float]:
        """When the standard says the failure is detected (seconds after it)."""
        if self.bfd:
            interval, mult = self.bfd[0] / 1000.0, self.bfd[1]
            return (mult - 1) * interval, mult * interval
        return float(self.hold - self.keepalive), float(self.hold)

    def reference(self) -> str:
        """The rule the window comes from."""
        if self.bfd:
            return "RFC 5880: (multiplier - 1) x interval .. multiplier x interval"
        return "RFC 4271: hold - keepalive .. hold"

    def labels(self) -> dict:
        """CSV label columns."""
        return {
            "detector": "bfd" if self.bfd else "hold",
            "keepalive": self.keepalive,
            "hold": self.hold,
            "bfd_interval": self.bfd[0] if self.bfd else None,
            "bfd_multiplier": self.bfd[1] if self.bfd else None,
        }


FULL = (
    Detector(1, 3),
    Detector(3, 9),
    Detector(10, 30),
    Detector(3, 9, (50, 3)),
    Detector(3, 9, (100, 3)),
    Detector(3, 9, (300, 3)),
)
QUICK = (Detector(1, 3), Detector(3, 9, (100, 3)))
#: The column that shows the outage beside the judged detection.
OUTAGE = "outage = detection + control plane + FIB + sampling"
#: The probe rate of the runs: 200 queries/s per client, 5 ms between two.
PROBE_RATE = 200


def detection_bounds(det: Detector, applied: Sequence[float]) -> Bounds:
    """The standard's window, widened only by what the testbed cannot time exactly.

    Below: the log's millisecond.  Above: the millisecond, and the longest time
    the freeze took to apply (the site fell silent somewhere in it, so the
    detection measured from the event's start can be late by that much).
    """
    low, high = det.window()
    took = max(applied, default=0.0)
    why = f"log timestamps 1 ms; the freeze took up to {took * 1000:.0f} ms to apply"
    return Bounds(low, high, TIMESTAMP_S, TIMESTAMP_S + took, why)


def judge_detector(
    det: Detector,
    detections: Sequence[float],
    applied: Sequence[float] = (),
    outage: str = "",
) -> Finding:
    """Compare the measured detection of one setting with the standard's window.

    Args:
        det: the setting.
        detections: the failure's detection in each run (the first daemon's
            declaration, from its log, after the event).
        applied: how long the freeze took to apply in each run.
        outage: the outage column's text (shown, not judged).

    Returns:
        The finding: passes when every run's detection lies in the window,
        within :func:`detection_bounds`.
    """
    bounds = detection_bounds(det, applied)
    return Finding(
        det.case,
        f"detection {bounds.expected()} ({det.reference()})",
        f"detection {spread(detections)}",
        judge_all(bounds, detections),
        tolerance=bounds.text(),
        extra={OUTAGE: outage},
    )


def outage_text(rows: Sequence[Row], **match: object) -> str:
    """``0.33 s = 0.270 + 0.040 + 0.000 + 0.020 (probe ±0.005 s)``: median outage and parts."""
    outages = values(rows, "max_outage_s", **match)
    if not outages:
        return "no data"
    parts = [
        mid(values(rows, col, **match))
        for col in ("detection_e0_s", "control_plane_e0_s", "fib_e0_s", "sampling_e0_s")
    ]
    text = spread(outages)
    if all(p is not None for p in parts):
        text += " = " + " + ".join(f"{p:.3f}" for p in parts if p is not None)
    interval = mid(values(rows, "probe_interval_s", **match))
    if interval:
        text += f" (probe ±{interval:.3f} s)"
    return text


class FailureDetection(Experiment):
    """Silent failure: hold timer (RFC 4271) against BFD (RFC 5880)."""

    name = "failure-detection"
    title = "Failure detection: hold timer against BFD"
    claim = (
        "Under a silent failure (links up, peer mute), BGP notices only when the hold "
        "timer expires: between hold - keepalive and hold after the failure. BFD "
        "notices after detect multiplier x interval without a packet."
    )
    source = "RFC 4271, sections 4.4 and 6.5 (hold timer); RFC 5880, section 6.8.4 (BFD)"
    labels = ("detector", "keepalive", "hold", "bfd_interval", "bfd_multiplier")

    def detectors(self, quick: bool) -> Sequence[Detector]:
        """The settings run."""
        return QUICK if quick else FULL

    def plan(self, quick: bool, repeat: Optional[int] = None) -> List[Planned]:
        """Each setting once per repeat (default: 1 quick, 3 full)."""
        out = []
        for r in range(1, (repeat or (1 if quick else 3)) + 1):
            for det in self.detectors(quick):
                fail = 3.0
                sets = ["topology=two-sites", "expect=[]", "traffic.tcp_streams=1"]
                sets.append(f"traffic.dns_rate={PROBE_RATE}")
                sets += [f"bgp.keepalive={det.keepalive}", f"bgp.hold={det.hold}"]
                if det.bfd:
                    sets += ["bfd=on", f"bfd.interval={det.bfd[0]}", f"bfd.multiplier={det.bfd[1]}"]
                else:
                    sets.append("bfd=off")
                sets += timeline(3, [fail, fail + det.hold + 5], 5)
                out.append(Planned(det.labels(), SCENARIO, sets, r))
        return out

    def judge(self, rows: Sequence[Row], quick: bool) -> Verdict:
        """One finding per setting: the detection judged, the outage and its parts shown."""
        rows = complete(rows)
        verdict = Verdict(columns=[OUTAGE])
        for det in self.detectors(quick):
            match = _match(det)
            detections = values(rows, "detection_e0_s", **match)
            applied = values(rows, "applied_e0_s", **match)
            finding = judge_detector(det, detections, applied, outage_text(rows, **match))
            verdict.findings.append(finding)
            note = detection_bounds(det, applied).limit_note(det.case)
            if note:
                verdict.notes.append(note)
        for det in self.detectors(quick):
            c = values(rows, "convergence_e0_s", **_match(det))
            if c:
                verdict.notes.append(f"{det.case}: control plane converged {spread(c)} after")
        return verdict

    def plots(self, rows: Sequence[Row], folder: Path, quick: bool) -> List[Path]:
        """``detection.png``: each setting's detections against its window."""
        from testbed.reproduce.plots import window_plot

        done = complete(rows)
        cases = [
            (d.case, d.window(), values(done, "detection_e0_s", **_match(d)))
            for d in self.detectors(quick)
        ]
        png = window_plot(cases, folder / "detection.png", "silent failure: detection")
        return [png] if png else []


def _match(det: Detector) -> dict:
    labels = det.labels()
    return {k: labels[k] for k in ("detector", "keepalive", "hold", "bfd_interval")}
