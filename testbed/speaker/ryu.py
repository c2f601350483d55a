"""``speaker: ryu``: Ryu's BGPSpeaker (os-ken where Ryu does not import) on the site node.

The process is :mod:`testbed.speaker.ryu_speaker`; this is its side in the
testbed.  Ryu's API has no AS-path prepending, so :meth:`RyuSpeaker.set_policy`
has the upstreams prepend on receipt (``route-map SITE-in``, the same path
for everyone beyond them), and sets the MED through the speaker.  Nor has it
communities for the speaker's own routes (``prefix_add`` takes a prefix, a
next hop and a route distinguisher; out-filters only permit or deny): a Ryu
site sends none (a caveat, :mod:`testbed.topology.capabilities`), and a
``set_communities`` event on it is refused when the scenario is checked.

A site's own unicast prefix (``sites[].unicast``) is announced by the
speaker from its start and stays through ``withdraw`` and MED/prepend
changes, which steer the anycast catchment (the MED and the upstreams'
prepends are per session, so they are on the unicast route too, as on an
FRR site's); it goes when the site goes (the speaker stopped, its uplinks down).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, List, Optional, Set

from testbed.errors import TestbedError
from testbed.net import frr
from testbed.speaker.base import register
from testbed.speaker.frr import VTYSH_TIMEOUT_S, inbound_prepend_commands
from testbed.speaker.process import ProcessSpeaker


def speaker_argv(router: Any, records: Path, control: Path) -> List[str]:
    """The command line of a ryu site node's BGP speaker.

    Every upstream goes as ``ADDRESS,AS,HOLD``: the session's hold time from
    the topology (timers, session overrides, ``--set bgp.hold``).  A site with
    a unicast prefix (``sites[].unicast``) passes it as ``--unicast``: the
    speaker announces it beside the anycast prefix and never withdraws it.

    Args:
        router: the ryu site node's plan.
        records: the run's records folder (absolute).
        control: the speaker's control socket.
    """
    argv = [
        sys.executable, "-m", "testbed.speaker.ryu_speaker", "--site", str(router.site),
        "--asn", str(router.asn), "--router-id", str(router.router_id),
        "--prefix", str(router.networks[0]),
        *(["--unicast", str(router.unicast)] if router.unicast is not None else []),
        "--control", str(control),
        "--out", str(records / f"speaker-{router.site}.jsonl"),
    ]  # fmt: skip
    for n in router.neighbors:
        argv += ["--neighbor", f"{n.address},{n.remote_as},{n.timers.hold}"]
    return argv


@register("ryu")
class RyuSpeaker(ProcessSpeaker):
    """A Ryu BGPSpeaker process; prepending is done by the upstreams."""

    def argv(self) -> List[str]:
        records = (Path(self.tb.run_dir) / "records").resolve()
        return speaker_argv(self.plan, records, Path(str(self.spec.control)))

    def _apply_policy(
        self,
        prepend: int,
        med: Optional[int],
        communities: Optional[List[str]],
        changed: Set[str],
    ) -> List[str]:
        if communities is not None and "communities" in changed:
            raise TestbedError(f"{self!r}: Ryu's BGPSpeaker API cannot attach communities")
        done = []
        if "med" in changed:
            self.send("med", value=med)
            done.append(f"med {med}")
        if "prepend" in changed:
            timeout = self.timeout or VTYSH_TIMEOUT_S
            for upstream in self.spec.peers:
                cmds = inbound_prepend_commands(self.spec.asn, self.name, prepend)
                frr.vtysh(upstream, *cmds, timeout=timeout)
            done.append(f"prepend {prepend} (at the upstreams)")
        return done
