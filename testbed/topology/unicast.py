"""Each site's own unicast prefix and address (``sites[].unicast``), resolved.

A site with a unicast prefix announces it alone, next to the anycast prefix
every site announces, and its servers hold the unicast address on their
loopback next to the anycast service address.  A client that has learnt a
site's unicast address (an HTTP redirect from the anycast address, a DNS
answer from a GSLB) reaches that site whatever its catchment.

Opt-in, per site or for every site (``unicast: true`` at the top of the
topology), so a topology without it runs exactly as before.  ``auto`` (or
``true``) takes the next /24 of :data:`~testbed.topology.addressing.UNICAST_POOL`
in site order, with the address ``.53``; ``{prefix, address}`` names them
(outside the testbed's pools).  Pure and deterministic, like the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Dict, Optional, Union

from testbed.topology.addressing import UNICAST_POOL
from testbed.topology.model import Site, Topology, Unicast

#: The host part of a unicast address unless told otherwise (as the anycast ``192.0.2.53``).
HOST = 53


@dataclass(frozen=True)
class SiteUnicast:
    """A site's unicast prefix and its servers' unicast address."""

    site: str
    prefix: IPv4Network
    address: IPv4Address
    #: taken from the pool (``auto``/``true``), not named in the file
    auto: bool = False


def setting(topo: Topology, site: Site) -> Union[None, str, Unicast]:
    """What a site asks for: ``"auto"``, a :class:`Unicast`, or None (no unicast prefix).

    The site's own ``unicast`` wins; absent, the topology's ``unicast`` (true: auto).
    """
    value = site.unicast if site.unicast is not None else topo.unicast
    if value is True or value == "auto":
        return "auto"
    if isinstance(value, Unicast):
        return value
    return None


def default_address(prefix: IPv4Network) -> IPv4Address:
    """The unicast address of a prefix when none is given: ``.53`` in it, else its first host."""
    if prefix.num_addresses > HOST + 1:
        return prefix.network_address + HOST
    if prefix.prefixlen >= 31:
        return prefix.network_address
    return prefix.network_address + 1


def pool_prefix(index: int) -> IPv4Network:
    """The ``index``-th /24 of the unicast pool.

    Raises:
        ValueError: the pool has no such /24.
    """
    net = IPv4Network((int(UNICAST_POOL.network_address) + 256 * index, 24))
    if net.broadcast_address not in UNICAST_POOL:
        most = UNICAST_POOL.num_addresses // 256
        raise ValueError(
            f"address pool {UNICAST_POOL} exhausted: one /24 per site with a unicast "
            f"prefix, at most {most}"
        )
    return net


def site_unicast(topo: Topology) -> Dict[str, SiteUnicast]:
    """Site name -> its unicast prefix and address, for the sites that have one, in site order.

    Raises:
        ValueError: more ``auto`` sites than the pool holds (validation says so first).
    """
    out: Dict[str, SiteUnicast] = {}
    n_auto = 0
    for site in topo.sites:
        wanted = setting(topo, site)
        if wanted is None:
            continue
        if isinstance(wanted, Unicast):
            address = wanted.address or default_address(wanted.prefix)
            out[site.name] = SiteUnicast(site.name, wanted.prefix, address)
        else:
            prefix = pool_prefix(n_auto)
            n_auto += 1
            out[site.name] = SiteUnicast(site.name, prefix, default_address(prefix), auto=True)
    return out


def unicast_of(topo: Topology, site: str) -> Optional[SiteUnicast]:
    """One site's unicast prefix and address (None: it has none)."""
    return site_unicast(topo).get(site)
