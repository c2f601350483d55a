"""A node's addresses and routes as ``ip`` commands (pure), from its plan.

The testbed runs them in each node's namespace at bring-up (one ``ip
-batch`` per node, :mod:`testbed.net.build`); an export writes the same
commands into each device's startup file (:mod:`testbed.export`), with the
engine's interface names (``eth0``...) in place of the plan's (``ta-e0``).
Each command is an ``ip`` command line without the leading ``ip``.
"""

from __future__ import annotations

from typing import Callable, Dict, List

from testbed.topology.plan import HostPlan, Interface, RouterPlan

#: The name a node's interface has where the commands run (default: the plan's).
IfName = Callable[[Interface], str]


def plan_name(intf: Interface) -> str:
    """The plan's own interface name (``NODE-eK``): what the testbed's namespaces use."""
    return intf.name


def router_ip_commands(router: RouterPlan, ifname: IfName = plan_name) -> List[str]:
    """A router's loopback (router ID), interface addresses, blackholes and static routes.

    The blackholes (every prefix it announces) and the static routes (the
    service and unicast addresses towards the site's servers, one next hop
    per server) are kernel routes, which zebra reads when it starts.
    """
    parts = ["link set lo up", f"addr add {router.router_id}/32 dev lo"]
    for intf in router.interfaces:
        name = ifname(intf)
        parts += [f"addr add {intf.address} dev {name}", f"link set {name} up"]
    parts += [f"route add blackhole {net}" for net in router.blackholes]
    by_prefix: Dict[str, List[str]] = {}
    for prefix, nexthop in router.statics:
        by_prefix.setdefault(str(prefix), []).append(str(nexthop))
    for dest, hops in by_prefix.items():
        parts.append(f"route add {dest} " + " ".join(f"nexthop via {h}" for h in hops))
    return parts


def host_ip_commands(host: HostPlan, ifname: IfName = plan_name) -> List[str]:
    """A client's or server's loopback addresses, its one interface and its default route."""
    name = ifname(host.interface)
    parts = ["link set lo up"]
    parts += [f"addr add {lo} dev lo" for lo in host.loopbacks]
    parts += [
        f"addr add {host.interface.address} dev {name}",
        f"link set {name} up",
        f"route add default via {host.gateway}",
    ]
    return parts
