"""The testbed's own address pools, and the ranges a site prefix may not use.

Shared by the plan (which allocates from the pools) and the validation
(which refuses a topology the pools cannot hold, or a site prefix that
collides with them).  The layout is documented in docs/addressing.md.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Optional

#: Router-to-router links (site uplinks included), one /30 each.
INFRA_POOL = IPv4Network("100.64.0.0/16")
#: Site router to server links, one /30 each.
SERVER_POOL = IPv4Network("100.65.0.0/16")
#: Router IDs (also on each router's loopback), one address each.
ROUTER_ID_POOL = IPv4Network("100.127.0.0/16")
#: Client prefixes: one /24 per access router of an eyeball AS, a /30 per client.
CLIENT_POOL = IPv4Network("198.18.0.0/15")
#: Sites' own unicast prefixes (``sites[].unicast: auto``), one /24 each, in site order.
UNICAST_POOL = IPv4Network("100.66.0.0/16")

#: How many of each the pools hold.
MAX_LINKS = INFRA_POOL.num_addresses // 4
MAX_SERVERS = SERVER_POOL.num_addresses // 4
MAX_ROUTERS = ROUTER_ID_POOL.num_addresses - 2
MAX_ACCESS_ROUTERS = CLIENT_POOL.num_addresses // 256
MAX_CLIENTS_PER_ROUTER = 256 // 4
MAX_UNICAST_SITES = UNICAST_POOL.num_addresses // 256

#: Ranges no announced prefix may overlap: the pools above and special-purpose space.
RESERVED = {
    INFRA_POOL: "the testbed's link pool",
    SERVER_POOL: "the testbed's server link pool",
    ROUTER_ID_POOL: "the testbed's router-ID pool",
    CLIENT_POOL: "the testbed's client pool",
    UNICAST_POOL: "the testbed's unicast pool",
    IPv4Network("0.0.0.0/8"): "'this network' (RFC 1122)",
    IPv4Network("127.0.0.0/8"): "loopback",
    IPv4Network("169.254.0.0/16"): "link-local",
    IPv4Network("224.0.0.0/4"): "multicast",
    IPv4Network("240.0.0.0/4"): "reserved (240/4) and broadcast",
}


def prefix_clash(prefix: IPv4Network) -> Optional[str]:
    """What a site prefix overlaps that it must not, or None.

    Args:
        prefix: the announced prefix.

    Returns:
        A phrase such as ``"overlaps loopback 127.0.0.0/8"``, or None.
    """
    for net, what in RESERVED.items():
        if prefix.overlaps(net):
            return f"overlaps {what} {net}"
    return None
