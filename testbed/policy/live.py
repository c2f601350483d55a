"""The policy check on a running testbed: every router's BGP table, judged valley-free.

:func:`check_testbed` reads every router's BGP table from its daemon (FRR's
``show bgp ipv4 unicast json``, BIRD's ``show route all`` in that shape), in
parallel, and hands the tables to the pure checker
(:func:`testbed.policy.valley.check_tables`) with the topology's
relationships, for the announced prefixes only (the anycast prefix and the
clients').  ``up`` prints its one line; the scenario engine records it after
convergence and at the end of the run (``records/policy.jsonl``), and the
analysis puts it in ``summary.json`` (``policy``) for the report and the
``valley_free`` expectation.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional

from testbed.errors import TestbedError
from testbed.policy.valley import PolicyCheck, check_tables, relationships_from_topology

#: The most violations a record keeps (the counts are always whole).
MAX_LISTED = 200


def read_table(tb: Any, router: str) -> Dict[str, Any]:
    """One router's BGP table in FRR's ``show bgp ipv4 unicast json`` shape, from its
    daemon (FRR or BIRD; {} if it does not answer)."""
    try:
        return tb.daemon(router).bgp_table(tb.plan.routers[router])
    except (TestbedError, OSError, ValueError):
        return {}


def read_tables(tb: Any, workers: int = 8) -> Dict[str, Dict[str, Any]]:
    """router -> its BGP table, every router of the testbed that runs a daemon."""
    routers = list(tb.plan.routed_routers())
    with ThreadPoolExecutor(max_workers=workers) as pool:
        tables = list(pool.map(lambda r: read_table(tb, r), routers))
    return dict(zip(routers, tables, strict=True))


def check_testbed(tb: Any) -> Optional[PolicyCheck]:
    """The valley-free check of a running testbed; None when its topology has no relationships."""
    from testbed.topology.relationships import uses_relationships

    if not uses_relationships(tb.topo):
        return None
    rels = relationships_from_topology(tb.topo)
    return check_tables(read_tables(tb), rels, prefixes=tb.plan.expected_prefixes())


def policy_record(check: PolicyCheck, phase: str) -> Dict[str, Any]:
    """The record of ``records/policy.jsonl`` (violations capped at :data:`MAX_LISTED`)."""
    data = check.to_dict()
    listed = data["violations"]
    data["violations"] = listed[:MAX_LISTED]
    return {
        "t": time.time(),
        "kind": "policy",
        "phase": phase,
        "line": check.line(),
        "violation_count": len(listed),
        **data,
    }
