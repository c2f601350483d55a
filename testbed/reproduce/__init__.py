"""Reproduce published results: experiments that print what the literature or
the standard says next to what was measured, and a verdict.

- :mod:`~testbed.reproduce.base`: what an experiment is (runs, checks, verdict)
- :mod:`~testbed.reproduce.failure`: ``failure-detection`` (RFC 4271 hold timer, RFC 5880 BFD)
- :mod:`~testbed.reproduce.labovitz`: ``delayed-convergence`` (Labovitz et al., SIGCOMM 2000)
- :mod:`~testbed.reproduce.mrai`: ``mrai-multiples`` (failover in whole multiples of MRAI)
- :mod:`~testbed.reproduce.report`: ``report.md`` and the terminal table
- :mod:`~testbed.reproduce.command`: the ``anycast-testbed reproduce`` command
"""

from __future__ import annotations

from typing import Dict

from testbed.reproduce.base import Experiment
from testbed.reproduce.failure import FailureDetection
from testbed.reproduce.labovitz import DelayedConvergence
from testbed.reproduce.mrai import MraiMultiples

#: name -> experiment, in the order ``reproduce`` lists them.
EXPERIMENTS: Dict[str, Experiment] = {
    e.name: e for e in (FailureDetection(), DelayedConvergence(), MraiMultiples())
}
