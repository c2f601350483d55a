"""The interactive shell: Mininet's CLI plus ``vtysh``, ``routes`` and ``sites``."""

from __future__ import annotations

import subprocess
from ipaddress import IPv4Address
from typing import Optional

from mininet.cli import CLI
from mininet.log import setLogLevel

from testbed.net import frr


class TestbedCLI(CLI):
    """Mininet's CLI over a running :class:`~testbed.net.build.Testbed`."""

    prompt = "anycast> "

    def __init__(self, testbed, script: Optional[str] = None):
        self.testbed = testbed
        setLogLevel("output")  # Mininet's CLI prints node output at this level
        super().__init__(testbed.net, script=script)

    def do_vtysh(self, line: str) -> None:
        """vtysh ROUTER [command]: run a vtysh command on a router (or open vtysh)."""
        parts = line.split(None, 1)
        if not parts or parts[0] not in self.testbed.plan.routers:
            self.stdout.write(
                f"usage: vtysh ROUTER [command]; routers: {' '.join(self.testbed.plan.routers)}\n"
            )
            return
        argv = frr.vtysh_argv(parts[0], [parts[1]] if len(parts) > 1 else [])
        if len(parts) > 1:
            out = subprocess.run(argv, capture_output=True, text=True)
            self.stdout.write(out.stdout + out.stderr)
        else:
            subprocess.call(argv)

    def do_routes(self, _line: str) -> None:
        """routes: each router's route to the anycast prefix (next hops, via whom)."""
        plan = self.testbed.plan
        prefixes = list(dict.fromkeys(s.prefix for s in self.testbed.topo.sites))
        for router, table in self.testbed.routes(prefixes).items():
            for prefix in prefixes:
                hops = table.get(prefix)
                if hops is None:
                    text = "no route"
                elif hops[0] in ("blackhole", "connected"):
                    text = f"{hops[0]} (originated here)"
                else:
                    text = ", ".join(f"{h} ({plan.owner_of(IPv4Address(h))})" for h in hops)
                self.stdout.write(f"{router:<11} {prefix}  {text}\n")

    def do_sites(self, _line: str) -> None:
        """sites: which site each client reaches now, and the path."""
        for client in self.testbed.plan.clients():
            path = self.testbed.path_to(client.name)
            site = self.testbed.plan.routers[path[-1]].site if path else None
            self.stdout.write(f"{client.name:<11} {site or 'none':<6} {' > '.join(path)}\n")
