"""Running a playbook on a started testbed: apply, wait, ask, revert, wait, ask.

Each action goes through the site's speaker (:class:`~testbed.speaker.base.SiteSpeaker`:
``withdraw``/``announce``, ``set_policy``), so every speaker kind takes it
the same way.  Waiting is the testbed's own event-driven
:meth:`~testbed.net.build.Testbed.wait_converged` (netlink route events, a
quiet period), never a sleep.  Where a client is served is asked of the
service itself: a DNS query from the client's namespace to the anycast
address (``dig CH TXT id.server``, which the site's NSD answers with its
site's name), all clients in parallel.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Tuple

from testbed.playbook.model import Action
from testbed.playbook.table import Observation

#: Seconds the routes must stay unchanged for BGP to count as converged.
QUIET_S = 1.0
#: Clients asked at once.
ASK_WORKERS = 16

Revert = Callable[[], None]


def dig_command(address: str) -> str:
    """The query that asks the service which site answers (one try per second, two tries)."""
    return f"dig +short +time=1 +tries=2 @{address} CH TXT id.server"


def parse_answer(output: str) -> Optional[str]:
    """The site named in ``dig +short``'s output (``"nyc"``), or None (no answer)."""
    for line in output.splitlines():
        line = line.strip()
        if len(line) >= 2 and line[0] == line[-1] == '"':
            return line[1:-1] or None
    return None


def apply_action(speaker: Any, action: Action) -> Revert:
    """Take ``action`` at the site of ``speaker``; return what undoes it.

    Prepends are added to the site's own (``sites[].prepend``); an action
    community is attached next to the site's own communities.  The revert
    puts back exactly what the topology announces.
    """
    spec = speaker.spec
    if action.kind == "withdraw":
        speaker.withdraw()
        return speaker.announce
    if action.kind == "prepend":
        speaker.set_policy(spec.base_prepend + action.prepend, spec.base_med, force=True)

        def unprepend() -> None:
            speaker.set_policy(spec.base_prepend, spec.base_med, force=True)

        return unprepend
    if action.kind == "community" and action.community:
        own = list(spec.base_communities)
        with_it = [*own, action.community]
        speaker.set_policy(spec.base_prepend, spec.base_med, communities=with_it, force=True)

        def detach() -> None:
            speaker.set_policy(spec.base_prepend, spec.base_med, communities=own, force=True)

        return detach
    raise ValueError(f"cannot apply {action.name!r} ({action.kind})")


class Runner:
    """Applies a playbook's actions on a started testbed (with NSD answering at every site).

    Args:
        tb: the started, converged :class:`~testbed.net.build.Testbed`.
        service: the anycast service address the clients ask.
        timeout: seconds to wait for BGP to converge after each change.
        quiet: seconds the routes must stay unchanged (:data:`QUIET_S`).
    """

    def __init__(self, tb: Any, service: str, timeout: float = 60.0, quiet: float = QUIET_S):
        self.tb = tb
        self.service = service
        self.timeout = timeout
        self.quiet = quiet
        self.clients: List[str] = [c.name for c in tb.plan.clients()]
        self.routers: Dict[str, str] = tb.plan.site_routers()  # site -> router
        self.prefixes = list(dict.fromkeys(s.prefix for s in tb.topo.sites))
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, min(ASK_WORKERS, len(self.clients))), thread_name_prefix="ask"
        )

    def close(self) -> None:
        """Wait for queries under way (at most a dig's two tries) and stop asking."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    # ----------------------------------------------------------------- asking
    def _ask_one(self, client: str) -> Optional[str]:
        return parse_answer(self.tb.cmd(client, dig_command(self.service)))

    def ask(self) -> Dict[str, Optional[str]]:
        """client -> the site that answers it now (None: none did, asked twice)."""
        sites = dict(zip(self.clients, self._pool.map(self._ask_one, self.clients), strict=True))
        again = [c for c, s in sites.items() if s is None]
        if again:  # a query lost while a route changed: ask once more
            sites.update(zip(again, self._pool.map(self._ask_one, again), strict=True))
        return sites

    # ---------------------------------------------------------------- waiting
    def _service_routes(self) -> Dict[str, Any]:
        return self.tb.routes(self.prefixes)

    def settle(self, since: float) -> Tuple[bool, float, List[str]]:
        """Wait for BGP to converge after a change made at ``since`` (wall clock).

        Returns:
            (converged in time, seconds from ``since`` to the last route
            change seen, routers left without a route to the service prefix).
        """
        conv = self.tb.wait_converged(timeout=self.timeout, quiet=self.quiet, wait_for_routes=False)
        wanted = {str(p) for p in self.prefixes}
        no_route = sorted(r for r, m in conv.missing.items() if wanted & set(m))
        return conv.converged, max(conv.at - since, 0.0), no_route

    # ------------------------------------------------------------------ steps
    def step(self, site: str, action: Action) -> Observation:
        """Apply ``action`` at ``site``, wait, ask every client, revert, wait, ask again."""
        speaker = self.tb.speaker(self.routers[site])
        before = self._service_routes()
        since = time.time()
        revert = apply_action(speaker, action)
        converged, shift_s, no_route = self.settle(since)
        after_routes = self._service_routes()
        after = self.ask()
        changed = sum(1 for r, t in after_routes.items() if before.get(r) != t)
        since = time.time()
        revert()
        revert_converged, revert_s, _ = self.settle(since)
        back_routes = self._service_routes()
        back = self.ask()
        reverted = sum(1 for r, t in back_routes.items() if after_routes.get(r) != t)
        return Observation(
            site=site,
            action=action,
            after=after,
            back=back,
            converged=converged,
            converge_s=shift_s if changed else 0.0,
            routers_changed=changed,
            no_route=no_route,
            revert_converged=revert_converged,
            revert_s=revert_s if reverted else 0.0,
        )
