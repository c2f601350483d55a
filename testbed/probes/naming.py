"""The name-resolution services of a run with a ``service`` block, as service kinds.

- ``gslb``: PowerDNS (:mod:`testbed.services.gslb`) on every site server when
  ``gslb`` is published, answering ``gslb.test`` on the GSLB authority's
  anycast address and on the site's own authority address (``.54`` of its
  unicast prefix: resolvers list every one, so a silently failed site's
  routes do not take name resolution with them); the zone (every site's
  unicast address, the views of :func:`testbed.topology.resolution.gslb_views`,
  the TTL and health-check interval) is the same at every site.
- ``resolver``: unbound (:mod:`testbed.services.resolver`) on every per-AS
  resolver host, with the AS's caching behaviour (a TTL violator keeps
  answers ``violating.min_ttl``).
- ``public-resolver``: unbound on every site server, on the public
  resolver's anycast address (``resolvers.placement: public``).

Each writes its input (the zone or the resolver's settings, as JSON) into
the node's own folder of the run and returns the wrapper's command line;
its ``problem`` asks the daemon over DNS whether it answers.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from testbed.probes.kinds import ServiceKind, register_service
from testbed.topology.model import PUBLIC_RESOLVER, Topology
from testbed.topology.resolution import site_authorities

#: The zones the testbed serves, and what a resolver asks for them.
ANYCAST_ZONE, GSLB_ZONE = "anycast.test", "gslb.test"
#: The service name's label in the GSLB zone.
SERVICE_LABEL = "svc"
#: A health check's connect timeout (s: the zone's default) and the margin after the
#: first round before PowerDNS counts as ready.
CHECK_TIMEOUT_S, WARM_MARGIN_S = 1.0, 0.5
#: (testbed, server) -> when its PowerDNS was first asked the service name (monotonic).
_WARMING: Dict[Tuple[int, str], float] = {}


def topology_services(topo: Topology) -> List[str]:
    """The service kinds every site server runs for the topology's name resolution."""
    service = getattr(topo, "service", None)
    if service is None:
        return []
    out = ["gslb"] if "gslb" in service.methods() else []
    if topo.resolvers is not None and topo.resolvers.placement == "public":
        out.append("public-resolver")
    return out


def gslb_zone(topo: Topology, plan: Any) -> Any:
    """The GSLB zone every site's PowerDNS serves (:class:`testbed.services.gslb.GslbZone`)."""
    from testbed.services.gslb import GslbView, GslbZone
    from testbed.topology.resolution import gslb_views

    service = topo.service
    assert service is not None, "a service block"
    return GslbZone(
        ttl=service.ttl,
        interval=service.health.interval,
        sites={site: str(u.address) for site, u in plan.unicast.items()},
        views=[GslbView(tuple(nets), tuple(order)) for nets, order in gslb_views(topo, plan)],
    )


def resolver_settings(
    topo: Topology, address: str, min_ttl: int, max_ttl: int, outgoing: Optional[str] = None
) -> Any:
    """A resolver's settings (:class:`testbed.services.resolver.ResolverSettings`);
    ``outgoing``: the address it asks the authorities from (default: ``address``)."""
    from testbed.services.resolver import ResolverSettings

    service, spec = topo.service, topo.resolvers
    assert service is not None, "a service block"
    anycast = str(topo.sites[0].service) if topo.sites else "192.0.2.53"
    stubs = {ANYCAST_ZONE: [anycast]}
    if "gslb" in service.methods():
        own = [str(a) for a in site_authorities(topo).values()]
        stubs[GSLB_ZONE] = [str(service.authority), *own]
    return ResolverSettings(
        address=address,
        stubs=stubs,
        min_ttl=min_ttl,
        max_ttl=max_ttl,
        serve_stale=bool(spec and spec.serve_stale),
        prefetch=bool(spec and spec.prefetch),
        ecs=bool(spec and spec.ecs),
        outgoing=outgoing,
    )


def _write(folder: Path, name: str, data: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def _dig(testbed: Any, node: str, address: str, question: str) -> str:
    return str(testbed.cmd(node, f"dig +short +time=1 +tries=1 @{address} {question}")).strip()


@register_service("gslb")
class PowerDnsService(ServiceKind):
    """PowerDNS with the GSLB zone on the authority's anycast address."""

    process = "pdns"

    def argv(self, topo: Any, host: Any, run: Path, params: Any) -> List[str]:
        """PowerDNS's wrapper, its zone written into the server's folder."""
        from testbed.topology.plan import make_plan

        folder = run / "services" / host.name / "pdns"
        zone = _write(folder, "zone.json", gslb_zone(topo, make_plan(topo)).to_dict())
        own = site_authorities(topo).get(host.site)
        also = ["--also", str(own)] if own is not None else []
        if getattr(host, "unicast", None):  # checks from an address the others route back to
            also += ["--check-from", str(host.unicast)]
        return [
            sys.executable, "-m", "testbed.services.gslb", "--site", host.site,
            "--address", str(topo.service.authority), *also,
            "--zone", str(zone), "--dir", str(folder),
        ]  # fmt: skip

    def cleanup(self, host: Any, run: Path) -> None:
        """Remove the control socket's folder when a long run path put it under /tmp."""
        from testbed.services.gslb import socket_dir

        folder = (run / "services" / host.name / "pdns").resolve()
        sockets = socket_dir(folder)
        if sockets != folder:
            shutil.rmtree(sockets, ignore_errors=True)

    def problem(self, testbed: Any, host: Any, params: Any) -> Optional[str]:
        """PowerDNS answers the zone's SOA on the authority's address and its first round
        of health checks is done, or the problem.

        PowerDNS 4.7 starts a record's checks at its first query and counts a
        site down until its check has a result (docs/gslb.md): the first ask
        of the service name starts them, and the service is ready a round
        (interval + the connect timeout, and a margin) later, so no client is
        sent to a far site while the checks settle.
        """
        authority = str(testbed.topo.service.authority)
        out = _dig(testbed, host.name, authority, f"{GSLB_ZONE} SOA")
        if not out:
            return f"{host.name}: PowerDNS does not answer {GSLB_ZONE} on {authority}"
        key = (id(testbed), host.name)
        now = time.monotonic()
        first = _WARMING.setdefault(key, now)
        if first == now:
            _dig(testbed, host.name, authority, f"{SERVICE_LABEL}.{GSLB_ZONE} A")
        health = testbed.topo.service.health
        if now - first < health.interval + CHECK_TIMEOUT_S + WARM_MARGIN_S:
            return f"{host.name}: PowerDNS's first health checks are not done yet"
        return None


class _Unbound(ServiceKind):
    """unbound from its settings file; ready when it answers ``id.server``."""

    process = "unbound"

    def address(self, topo: Any, host: Any) -> str:
        """The address it listens on."""
        raise NotImplementedError

    def outgoing(self, topo: Any, host: Any) -> Optional[str]:
        """The address it asks the authorities from (None: the one it listens on)."""
        return None

    def ttls(self, topo: Any, host: Any) -> tuple:
        """(min_ttl, max_ttl) of this resolver."""
        spec = topo.resolvers
        return (spec.min_ttl, spec.max_ttl) if spec is not None else (0, 86400)

    def argv(self, topo: Any, host: Any, run: Path, params: Any) -> List[str]:
        """The resolver's wrapper, its settings written into the node's folder."""
        folder = run / "services" / host.name / "unbound"
        settings = resolver_settings(
            topo, self.address(topo, host), *self.ttls(topo, host), self.outgoing(topo, host)
        )
        path = _write(folder, "settings.json", settings.to_dict())
        return [
            sys.executable, "-m", "testbed.services.resolver", "--name", host.name,
            "--settings", str(path), "--dir", str(folder),
        ]  # fmt: skip

    def problem(self, testbed: Any, host: Any, params: Any) -> Optional[str]:
        """unbound answers ``id.server`` with its name, or the problem."""
        address = self.address(testbed.topo, host)
        out = _dig(testbed, host.name, address, "CH TXT id.server")
        if out != f'"{host.name}"':
            return f"{host.name}: unbound does not answer on {address} ({out or 'no answer'})"
        return None


@register_service("resolver")
class ResolverService(_Unbound):
    """An eyeball AS's resolver, on its host's own address."""

    def address(self, topo: Any, host: Any) -> str:
        """The host's interface address."""
        return str(host.interface.address.ip)

    def ttls(self, topo: Any, host: Any) -> tuple:
        """The AS's: a TTL violator keeps every answer ``violating.min_ttl``."""
        from testbed.topology.resolution import resolver_hosts

        mine = next((r for r in resolver_hosts(topo) if r.name == host.name), None)
        return (mine.min_ttl, mine.max_ttl) if mine is not None else super().ttls(topo, host)


@register_service("public-resolver")
class PublicResolverService(_Unbound):
    """The operator's public resolver, on its anycast address at every site server."""

    def address(self, topo: Any, host: Any) -> str:
        """The public resolver's anycast address."""
        return str(PUBLIC_RESOLVER)

    def outgoing(self, topo: Any, host: Any) -> Optional[str]:
        """The server's own address: the GSLB locates the resolver's site by it (as a
        public resolver's queries leave each site from that site's unicast addresses)."""
        return str(host.interface.address.ip)
