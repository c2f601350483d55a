"""Link shaping with tc: netem for delay, jitter and loss; tbf for bandwidth.

Delay, jitter and loss need the kernel's ``sch_netem``.  Where it is missing
(this project's CI kernel, for one), they are skipped with one warning and
only the bandwidth limit (tbf, always available) applies.  Shaping is applied
on both ends of a link, so a link's delay is one-way and its RTT twice it.
"""

from __future__ import annotations

import os
from typing import List

from testbed.topology.model import LinkParams

NETEM_UNAVAILABLE = (
    "the kernel has no netem (sch_netem): link delay, jitter and loss are skipped; "
    "routing, failover and TCP/UDP behaviour are unchanged, only RTTs are shorter"
)


def netem_in_kernel() -> bool:
    """Best guess without root: netem loaded as a module or built in."""
    if os.path.isdir("/sys/module/sch_netem"):
        return True
    try:
        release = os.uname().release
        with open(f"/lib/modules/{release}/modules.builtin", encoding="ascii") as fh:
            if "sch_netem" in fh.read():
                return True
        with open(f"/lib/modules/{release}/modules.dep", encoding="ascii") as fh:
            return "sch_netem" in fh.read()
    except OSError:
        return False


def probe_command(intf: str) -> str:
    """A shell line that exits 0 only if netem can be attached to ``intf`` (then removes it)."""
    return (
        f"tc qdisc add dev {intf} root handle 1: netem delay 0ms 2>/dev/null "
        f"&& tc qdisc del dev {intf} root"
    )


def _fmt(ms: float) -> str:
    return f"{ms:g}ms"


def shaping_commands(intf: str, params: LinkParams, netem: bool) -> List[str]:
    """The tc commands that shape one interface.

    Args:
        intf: interface name (inside its node's namespace).
        params: the link's delay, jitter, loss and bandwidth.
        netem: whether the kernel has netem.

    Returns:
        Shell commands, in order; empty when there is nothing to apply.
    """
    delay, jitter = params.delay_ms(), params.jitter_ms()
    wants_netem = bool(delay or jitter or params.loss)
    if wants_netem and netem:
        cmd = f"tc qdisc replace dev {intf} root handle 1: netem"
        if delay or jitter:
            cmd += f" delay {_fmt(delay or 0)}"
            if jitter:
                cmd += f" {_fmt(jitter)} distribution normal"
        if params.loss:
            cmd += f" loss {params.loss:g}%"
        if params.bandwidth:
            cmd += f" rate {params.bandwidth:g}mbit"
        return [cmd]
    if params.bandwidth:
        burst = max(int(params.bandwidth * 1000 / 8 / 250), 2) * 1000  # ~4 ms of data, >= 2 kB
        return [
            f"tc qdisc replace dev {intf} root handle 1: tbf rate {params.bandwidth:g}mbit "
            f"burst {burst} latency 50ms"
        ]
    return []
