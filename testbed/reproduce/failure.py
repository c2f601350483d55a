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
setting once per repeat.  Measured: the longest DNS outage of the moved
client (``ca``) and the network convergence after the failure.  A small
allowance covers what comes after detection (route change, next probe).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from testbed.reproduce.base import (
    Experiment,
    Finding,
    Planned,
    Row,
    Verdict,
    complete,
    mid,
    spread,
    timeline,
    values,
)

SCENARIO = "silent-failure"
#: Seconds allowed after detection: the route change and the next DNS probe.
SLACK_S = 0.6
#: Seconds allowed before the lower bound (timer granularity).
EARLY_S = 0.1


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


def judge_detector(det: Detector, outages: Sequence[float]) -> Finding:
    """Compare the outages of one setting with the standard's window.

    Args:
        det: the setting.
        outages: the moved client's longest DNS outage in each run.

    Returns:
        The finding: passes when the median lies in the window, allowing
        :data:`EARLY_S` before it and :data:`SLACK_S` after it.
    """
    low, high = det.window()
    rfc = "RFC 5880: multiplier x interval" if det.bfd else "RFC 4271: hold - keepalive .. hold"
    expected = f"{low:.2f}-{high:.2f} s ({rfc})"
    m = mid(outages)
    passed = None if m is None else (low - EARLY_S <= m <= high + SLACK_S)
    return Finding(det.case, expected, f"outage {spread(outages)}", passed)


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
                sets += [f"bgp.keepalive={det.keepalive}", f"bgp.hold={det.hold}"]
                if det.bfd:
                    sets += ["bfd=on", f"bfd.interval={det.bfd[0]}", f"bfd.multiplier={det.bfd[1]}"]
                else:
                    sets.append("bfd=off")
                sets += timeline(3, [fail, fail + det.hold + 5], 5)
                out.append(Planned(det.labels(), SCENARIO, sets, r))
        return out

    def judge(self, rows: Sequence[Row], quick: bool) -> Verdict:
        """One finding per setting; a note compares the fastest BFD with the hold timer."""
        rows = complete(rows)
        verdict = Verdict()
        for det in self.detectors(quick):
            outages = values(rows, "max_outage_s", **_match(det))
            verdict.findings.append(judge_detector(det, outages))
        conv = [values(rows, "convergence_e0_s", **_match(d)) for d in self.detectors(quick)]
        for det, c in zip(self.detectors(quick), conv, strict=True):
            if c:
                verdict.notes.append(f"{det.case}: control plane converged {spread(c)} after")
        return verdict

    def plots(self, rows: Sequence[Row], folder: Path, quick: bool) -> List[Path]:
        """``outage.png``: each setting's outages against its window."""
        from testbed.reproduce.plots import window_plot

        done = complete(rows)
        cases = [
            (d.case, d.window(), values(done, "max_outage_s", **_match(d)))
            for d in self.detectors(quick)
        ]
        png = window_plot(cases, folder / "outage.png", "silent failure: longest DNS outage")
        return [png] if png else []


def _match(det: Detector) -> dict:
    labels = det.labels()
    return {k: labels[k] for k in ("detector", "keepalive", "hold", "bfd_interval")}
