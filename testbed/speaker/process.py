"""Site speakers that are a process on the site node (Ryu, ExaBGP), behind a control socket.

The site node is then its own server: the service address sits on its
loopback (the plan puts it there), and since such a speaker does not
program the kernel, the node's replies leave by a default route through
every upstream (:func:`default_route`).  The testbed starts the process
with :meth:`~testbed.net.build.Testbed.spawn` (tracked as ``speaker``), and
talks to it with one JSON line per connection on its control socket
(:mod:`testbed.speaker.control`): ``announce``, ``withdraw``, ``med``,
``policy`` and ``status``.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import Any, Dict, List

from testbed.errors import TestbedError
from testbed.speaker import control
from testbed.speaker.base import SiteSpeaker

#: Seconds a control-socket call may take unless the caller says otherwise.
CONTROL_TIMEOUT_S = 5.0


def default_route(router: Any) -> str:
    """The default route of a speaker site node: through every upstream (multipath).

    The speaker does not program the kernel, so replies to clients follow
    this route.  With several upstreams it has one next hop per uplink, so
    the site keeps a way back when one uplink goes down (the kernel skips a
    next hop whose interface is down, or has lost its carrier with
    ``ignore_routes_with_linkdown``, set by :func:`node_setup`).  ``replace``
    so that it also puts the route back after its interfaces came up again.
    """
    hops = [str(n.address) for n in router.neighbors]
    if len(hops) == 1:
        return f"ip route replace default via {hops[0]}"
    return "ip route replace default " + " ".join(f"nexthop via {h}" for h in hops)


def node_setup(router: Any) -> List[str]:
    """A speaker site node: the service address on lo, and a default route via its upstreams."""
    parts = [f"ip addr add {lo} dev lo" for lo in router.loopbacks]
    parts.append("sysctl -qw net.ipv4.conf.all.ignore_routes_with_linkdown=1")
    parts.append(default_route(router))
    return parts


class ProcessSpeaker(SiteSpeaker):
    """A speaker process on the site node, driven through its control socket."""

    control_socket = True

    # ------------------------------------------------------------ control
    def send(self, command: str, **args: Any) -> Dict[str, Any]:
        """One command on the control socket; the speaker's answer.

        Raises:
            TestbedError: the speaker does not answer or refuses.
        """
        if not self.spec.control:
            raise RuntimeError(f"{self!r} has no control socket")
        return control.send(
            Path(self.spec.control), command, timeout=self.timeout or CONTROL_TIMEOUT_S, **args
        )

    def announce(self) -> None:
        self.send("announce")
        self.announced = True

    def withdraw(self) -> None:
        self.send("withdraw")
        self.announced = False

    def sessions(self) -> Dict[str, str]:
        names = {str(n.address): n.peer for n in self.plan.neighbors} if self.testbed else {}
        try:
            peers = self.send("status")["peers"]
        except TestbedError:  # the speaker is down (crashed, frozen): so are its sessions
            return {n: "Down" for n in (names.values() or self.spec.peers)}
        return {names.get(a, a): state for a, state in peers.items()}

    def status(self) -> Dict[str, Any]:
        answer = self.send("status")
        names = {str(n.address): n.peer for n in self.plan.neighbors} if self.testbed else {}
        answer["peers"] = {names.get(a, a): s for a, s in answer.get("peers", {}).items()}
        answer.setdefault("prepend", self.prepend)
        answer.pop("ok", None)
        return answer

    # ---------------------------------------------------------- processes
    def node_setup(self) -> List[str]:
        return node_setup(self.plan)

    def link_up_commands(self) -> List[str]:
        return [default_route(self.plan)]

    @abstractmethod
    def argv(self) -> List[str]:
        """The speaker process's command line."""

    def prepare(self) -> None:
        """Write what the process needs before it starts (default: nothing)."""

    @property
    def log(self) -> Path:
        """The process's own log (stdout and stderr)."""
        return Path(self.tb.run_dir) / "logs" / f"speaker-{self.name}.log"

    def start(self) -> None:
        tb = self.tb
        tb.state.processes = [
            p for p in tb.state.processes if not (p.node == self.name and p.name == "speaker")
        ]
        Path(str(self.spec.control)).parent.mkdir(parents=True, exist_ok=True)
        (Path(tb.run_dir) / "records").mkdir(parents=True, exist_ok=True)
        self.prepare()
        tb.spawn(self.name, self.argv(), "speaker", self.log)
        self.announced = True

    def processes(self) -> List[Any]:
        return [
            p
            for p in self.tb.state.processes
            if p.node == self.name and p.name == "speaker" and p.alive()
        ]

    @classmethod
    def start_all(cls, speakers: List[SiteSpeaker]) -> None:
        """Start every speaker process (their folder is in the state file first)."""
        if not speakers:
            return
        tb = speakers[0].tb
        folder = str(Path(str(speakers[0].spec.control)).parent)
        if folder not in tb.state.dirs:
            tb.state.dirs.append(folder)
            tb.state.save()
        for one in speakers:
            one.start()
