"""A site's capacity and load counters, as tc and nftables commands (pure).

Every site node gets an nftables table, ``anycast_load``, whose named counters
the load recorder (:mod:`testbed.recorders.load`) reads: packets to the site's
prefixes split by source (``attack`` from the attack sources' addresses,
``legit`` from everyone else), packets the packet-rate policer dropped
(``policed``) and DNS answers leaving the site split by destination
(``answered_attack``, ``answered_legit``).

A site's prefixes are the anycast prefix and, when it has one, its own
unicast prefix (``sites[].unicast``): traffic to either is the site's load
(a hybrid client's long stream on the unicast address is served by the same
site), so both pass the same queue and policer and are counted alike.

A site's ``capacity`` is enforced with the kernel's own queueing:

- ``bandwidth``: all traffic to the site's prefixes arriving on any uplink is
  redirected (tc ingress + mirred) into one IFB device, ``cap0``, whose tbf
  queue is ``queue`` ms long, so the whole site has one queue: an overloaded
  site drops and delays, whichever uplink the packets came in on;
- ``packets``: an nftables ``limit rate over`` policer in the prerouting
  hook drops what exceeds the rate (no queue: a packet rate is a server's
  budget, not a link's).

BGP, BFD and anything else to the site router's own addresses is neither
queued nor policed, as a router's control-plane protection would keep it.
The counters come after the bandwidth queue (tc ingress runs before
netfilter); the offered load is the uplinks' receive counters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import List, Optional, Sequence, Tuple

from testbed.topology.model import Capacity, capacity_words

#: The IFB device that holds a site's bandwidth queue (inside the site's namespace).
IFB = "cap0"
#: The nftables table of every site node.
TABLE = "anycast_load"
#: Its named counters, as the load recorder writes them.
COUNTERS = ("legit", "attack", "policed", "answered_legit", "answered_attack")


@dataclass
class SiteLoadPlan:
    """What a site node needs for its capacity and load counters.

    Attributes:
        site: the site's name.
        uplinks: the site node's uplink interfaces.
        prefix: the site's announced prefix (where the service lives).
        capacity: the site's capacity, or None (counters only).
        attackers: the attack sources' addresses (for the split).
        servers: the site's servers in order, each with the site node's
            interface towards it (None: the site node is its own server).
        unicast: the site's own unicast prefix (None: it has none), queued,
            policed and counted as the anycast prefix is.
    """

    site: str
    uplinks: List[str]
    prefix: IPv4Network
    capacity: Optional[Capacity] = None
    attackers: List[IPv4Address] = field(default_factory=list)
    servers: List[Tuple[str, Optional[str]]] = field(default_factory=list)
    unicast: Optional[IPv4Network] = None

    @property
    def prefixes(self) -> List[IPv4Network]:
        """Every prefix whose traffic is the site's load: the anycast one, then the unicast one."""
        return [self.prefix] + ([self.unicast] if self.unicast is not None else [])

    @property
    def match(self) -> str:
        """The prefixes as an nftables value: one prefix, or an anonymous set of both."""
        if self.unicast is None:
            return str(self.prefix)
        return "{ " + ", ".join(str(p) for p in self.prefixes) + " }"


def served_counter(index: int) -> str:
    """The counter of the answers of the site's server number ``index`` (from 0)."""
    return f"served_{index + 1}"


def tbf_burst(mbit: float) -> int:
    """The tbf bucket in bytes: about 4 ms of the rate, at least two full frames."""
    return max(int(math.ceil(mbit * 1e6 / 8 * 0.004)), 3028)


def policer_burst(pps: int) -> int:
    """The policer's burst in packets: 50 ms of the rate, at least 5."""
    return max(pps // 20, 5)


def tc_commands(plan: SiteLoadPlan) -> List[str]:
    """The commands (ip, tc) that make the site's bandwidth queue; none without a bandwidth."""
    cap = plan.capacity
    if cap is None or cap.bandwidth is None:
        return []
    out = [
        f"ip link add {IFB} type ifb",
        f"ip link set {IFB} up",
        f"tc qdisc replace dev {IFB} root handle 1: tbf rate {cap.bandwidth:g}mbit "
        f"burst {tbf_burst(cap.bandwidth)} latency {cap.queue:g}ms",
    ]
    for intf in plan.uplinks:
        out.append(f"tc qdisc replace dev {intf} handle ffff: ingress")
        out += [
            f"tc filter add dev {intf} parent ffff: protocol ip prio 1 u32 "
            f"match ip dst {prefix} action mirred egress redirect dev {IFB}"
            for prefix in plan.prefixes
        ]
    return out


def _answers(prefix: str) -> Sequence[str]:
    return (
        f"ip saddr {prefix} udp sport 53 ip daddr @attackers counter name answered_attack",
        f"ip saddr {prefix} udp sport 53 ip daddr != @attackers counter name answered_legit",
    )


def nft_ruleset(plan: SiteLoadPlan) -> str:
    """The site node's nftables table (``nft -f`` input): counters, and the policer if asked."""
    prefix = plan.match
    elements = ", ".join(str(a) for a in sorted(plan.attackers))
    lines = [f"table ip {TABLE} {{", "  set attackers {", "    type ipv4_addr"]
    if elements:
        lines.append(f"    elements = {{ {elements} }}")
    lines.append("  }")
    lines += [f"  counter {name} {{ }}" for name in COUNTERS]
    lines += [f"  counter {served_counter(k)} {{ }}" for k in range(len(plan.servers))]
    lines += [
        "  chain pre {",
        "    type filter hook prerouting priority -300; policy accept;",
        f"    ip daddr {prefix} ip saddr @attackers counter name attack",
        f"    ip daddr {prefix} ip saddr != @attackers counter name legit",
    ]
    cap = plan.capacity
    if cap is not None and cap.packets is not None:
        lines.append(
            f"    ip daddr {prefix} limit rate over {cap.packets}/second "
            f"burst {policer_burst(cap.packets)} packets counter name policed drop"
        )
    lines.append("  }")
    for chain, hook in (("answers", "forward"), ("local_answers", "output")):
        lines += [f"  chain {chain} {{", f"    type filter hook {hook} priority 0; policy accept;"]
        lines += [f"    {rule}" for rule in _answers(prefix)]
        for k, (_server, intf) in enumerate(plan.servers):
            if (intf is None) == (hook == "output"):  # its own server answers locally
                where = "" if intf is None else f'iifname "{intf}" '
                lines.append(
                    f"    {where}ip saddr {prefix} udp sport 53 counter name {served_counter(k)}"
                )
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def describe(capacity: Optional[Capacity]) -> str:
    """A capacity in words, as ``up`` shows it (:func:`~testbed.topology.model.capacity_words`)."""
    if capacity is None:
        return "unlimited"
    return capacity_words(capacity.bandwidth, capacity.packets, capacity.queue)


def site_load_plans(plan) -> List[SiteLoadPlan]:
    """One :class:`SiteLoadPlan` per site of ``plan`` (a :class:`~testbed.topology.plan.Plan`)."""
    attackers = [h.interface.address.ip for h in plan.attackers()]
    towards = {lk.b.node: lk.a.name for lk in plan.links if lk.kind == "server"}
    out = []
    for site in plan.topology.sites:
        uplinks = [lk.a.name for lk in plan.links if lk.kind == "uplink" and lk.a.node == site.name]
        servers: List[Tuple[str, Optional[str]]] = [
            (h.name, None if h.on_router else towards[h.name]) for h in plan.servers(site.name)
        ]
        own = plan.unicast.get(site.name)
        out.append(
            SiteLoadPlan(
                site.name,
                uplinks,
                site.prefix,
                site.capacity,
                attackers,
                servers,
                own.prefix if own is not None else None,
            )
        )
    return out
