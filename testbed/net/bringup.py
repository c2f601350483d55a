"""Bringing a :class:`~testbed.net.build.Testbed` up: start, convergence, sessions, summary.

``up``, ``shell`` and the scenario engine all bring a testbed up with
:func:`bring_up` (start the network and FRR, wait for BGP to converge, and,
for ``up``, read every router's BGP sessions); what each then does with the
result (a summary table, a shell, a run) is theirs.  :func:`up_summary` is
the state ``up`` prints and writes to ``RUN/up.json``.

Nothing here prints: a phase can be shown by passing ``status`` (a context
manager per phase, given its one-line description, e.g. rich's
``console.status``); when what it yields has an ``update(text)``, the
testbed's own progress lines (``namespaces made 250/502``, ``daemons started
120/502``, ``routes: 340/502 routers have all theirs``) replace the text as
the phase goes.
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ContextManager, Dict, List, Optional

if TYPE_CHECKING:
    from testbed.net.build import ConvergenceResult
    from testbed.policy.valley import PolicyCheck

#: A context manager around one phase of the bring-up, given its description.
Status = Callable[[str], ContextManager[Any]]


def _no_status(_what: str) -> ContextManager[Any]:
    return contextlib.nullcontext()


def _quiet(_line: str) -> None:
    pass


def _follow(tb: Any, shown: Any, prefix: str) -> None:
    """Show the testbed's progress lines in a phase's status, when it can change its text
    (rich's ``Status.update``)."""
    update = getattr(shown, "update", None)
    if callable(update):
        tb.progress = lambda line: update(f"{prefix}: {line}")


@dataclass
class BringUp:
    """What bringing a testbed up found.

    Attributes:
        convergence: whether BGP converged, and in how long.
        seconds_up: how long starting the network and FRR took (without
            the wait for convergence).
        sessions: router -> {peer: BGP state}, or None when not read.
        policy: the valley-free check of every router's BGP table once
            converged; None when the topology has no relationships.
    """

    convergence: ConvergenceResult
    seconds_up: float
    sessions: Optional[Dict[str, Dict[str, str]]] = None
    policy: Optional[PolicyCheck] = None

    @property
    def total(self) -> int:
        """BGP sessions, counted from each router's side (0 when not read)."""
        return sum(len(s) for s in (self.sessions or {}).values())

    @property
    def established(self) -> int:
        """Of :attr:`total`, those in state Established."""
        return sum(
            1 for s in (self.sessions or {}).values() for st in s.values() if st == "Established"
        )

    @property
    def ok(self) -> bool:
        """BGP converged, every session is established and no path violates the
        relationships (``up --check``'s verdict)."""
        policy_ok = self.policy is None or self.policy.passed
        return self.convergence.converged and self.established == self.total and policy_ok


def sessions_established(tb: Any) -> Dict[str, Dict[str, str]]:
    """router -> {peer: state}, read from every router in parallel."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        routers = list(tb.plan.routers)
        states = list(pool.map(tb.bgp_sessions, routers))
    return dict(zip(routers, states, strict=False))


def bring_up(
    tb: Any,
    timeout: float = 60.0,
    status: Status = _no_status,
    sessions: bool = True,
    policy: bool = True,
) -> BringUp:
    """Start a testbed and wait for BGP to converge; read its sessions; check the policy.

    Args:
        tb: the :class:`~testbed.net.build.Testbed` (not started).
        timeout: seconds to wait for convergence.
        status: wraps each phase (``bringing up NAME...``, ``waiting for BGP
            to converge...``), e.g. ``console.status``; by default nothing.
        sessions: read every router's BGP sessions once converged (or not).
        policy: check every router's BGP table against the relationships
            (:func:`testbed.policy.live.check_testbed`; nothing without them).

    Returns:
        The convergence, the start time, the sessions and the policy check.

    Raises:
        TestbedBusy: another testbed runs (nothing was created).
        TestbedError: something failed to start.
    """
    t0 = time.monotonic()
    name = tb.topo.name
    with status(f"bringing up {name}...") as shown:
        _follow(tb, shown, name)
        tb.start()
    seconds_up = time.monotonic() - t0
    with status("waiting for BGP to converge...") as shown:
        _follow(tb, shown, f"{name}: BGP converging")
        conv = tb.wait_converged(timeout=timeout)
    tb.progress = _quiet
    result = BringUp(conv, seconds_up, sessions_established(tb) if sessions else None)
    if policy:
        from testbed.policy.live import check_testbed

        with status("checking every path against the relationships..."):
            result.policy = check_testbed(tb)
    return result


def client_paths(tb: Any) -> Dict[str, List[str]]:
    """client -> the routers its packets to the service cross now (by the FIBs)."""
    return {client.name: tb.path_to(client.name) for client in tb.plan.clients()}


def up_summary(tb: Any, result: BringUp, paths: Dict[str, List[str]]) -> Dict[str, Any]:
    """The state of a freshly started testbed, as ``RUN/up.json`` holds it.

    Args:
        tb: the started testbed.
        result: from :func:`bring_up` (with sessions).
        paths: from :func:`client_paths`.
    """
    plan = tb.plan
    catchment = {
        name: plan.routers[path[-1]].site if path else None for name, path in paths.items()
    }
    conv = result.convergence
    return {
        "topology": tb.topo.name,
        "routers": len(plan.routers),
        "converged": conv.converged,
        "convergence_s": round(conv.seconds, 3),
        "sessions": {"total": result.total, "established": result.established},
        "catchment": catchment,
        "no_route": conv.no_route.get("policy", {}),
        "policy": result.policy.to_dict() if result.policy is not None else None,
        "warnings": tb.warnings,
        "timings": {k: round(v, 3) for k, v in tb.timings.items()},
        "capacity": {
            s.name: s.capacity.model_dump(mode="json") for s in tb.topo.sites if s.capacity
        },
        "weights": {c.name: c.weight for c in tb.topo.clients},
        "attackers": [h.name for h in plan.attackers()],
    }
