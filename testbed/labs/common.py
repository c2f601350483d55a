"""Check items every lab uses: the topology file, the untouched internet, the run."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import yaml

from testbed.errors import InputError, TestbedError
from testbed.labs.items import CheckItem, item, skipped
from testbed.labs.registry import get_lab
from testbed.labs.runner import LabContext, Summary, load_student_topology
from testbed.topology.model import Site, Topology

HINT_YAML = "see docs/topology.md: every error names the field and the problem"
HINT_INTERNET = (
    "you operate the anycast AS only: transit and eyeball ASes, their links (delay, loss...), "
    "their clients, their business relationships and their side of every BGP session belong "
    "to others and must stay as handed out"
)
HINT_RUN = "the testbed could not run your files; read the message, fix, and check again"
HINT_TESTBED = "the testbed failed, not your answers: check again (on a less busy machine)"
HINT_COMPLETE = (
    "replace every null; the comments in the file say what each answer looks like. "
    "Answers are graded together with the check's run, not before"
)


def topology_item(
    ctx: LabContext, name: str = "topology.yaml"
) -> Tuple[Optional[Topology], CheckItem]:
    """Load the student's topology file.

    Args:
        ctx: the lab context.
        name: the file in the working copy.

    Returns:
        (topology or None, the item).
    """
    topo, problem = load_student_topology(ctx.workdir / name)
    return topo, item(
        "topology-valid", f"{name} is a valid topology", topo is not None, problem, HINT_YAML
    )


def starting_topology(ctx: LabContext) -> Topology:
    """The lab's starting topology for this variant, rendered from the hand-out."""
    from testbed.labs.workcopy import render_text
    from testbed.topology.load import parse_topology

    lab = get_lab(ctx.variant.lab)
    text = render_text(lab, ctx.variant, lab.handout / "topology.yaml.j2")
    return parse_topology(yaml.safe_load(text), "hand-out topology")


def _others_sessions(topo: Topology) -> List[Tuple[str, ...]]:
    """The parts of ``sessions:`` that configure routers the student does not operate.

    A session's policy (prepend, MED, local preference, communities) applies
    at its ``a`` end; timers and BFD at both.  A session between two routers
    of others is theirs entirely; on a session with a site, the policy of the
    other end is theirs (communities too: with them the transit's route-maps
    change, tagging what it sends to the site, or its graceful-shutdown and
    no-export handling).  The student's own end (policy at the site, timers,
    BFD) is free.
    """
    from testbed.topology.validate import resolve_router

    sites = {s.name for s in topo.sites}
    out: List[Tuple[str, ...]] = []
    for sess in topo.sessions:
        a = resolve_router(topo, sess.a) or sess.a
        b = resolve_router(topo, sess.b) or sess.b
        if a in sites:
            continue
        if b in sites:
            policy = (sess.prepend, sess.med, sess.local_pref, tuple(sess.communities))
            if policy != (0, None, None, ()):
                out.append((a, b, "policy", repr(policy)))
            continue
        out.append((a, b, "session", sess.model_dump_json()))
    return sorted(out)


def _others_policy(topo: Topology) -> Dict[str, Any]:
    """The business relationships and routing policy of others' ASes.

    Relationships between two of others' ASes (declared on links or per AS,
    or implied), the action communities transits offer, and the local
    preference by relationship (it applies at every router).  The anycast
    AS's own relationships with its upstreams are the student's.
    """
    from testbed.topology.relationships import as_relationships

    anycast = {a.name for a in topo.ases if a.role == "anycast"}
    rel = as_relationships(topo)
    return {
        "relationships": sorted(
            (me, them, what) for (me, them), what in rel.items() if not anycast & {me, them}
        ),
        "actions": sorted(
            (a.name, action.model_dump_json()) for a in topo.ases for action in a.actions
        ),
        "local_pref": topo.local_pref.model_dump_json(),
    }


def _internet(topo: Topology) -> Dict[str, Any]:
    """What of a topology belongs to others: ASes, links with their shaping, clients,
    sessions, and their business relationships and policy."""

    def shaping(link: Any) -> str:
        return link.model_dump_json(include={"delay", "jitter", "loss", "bandwidth"})

    return {
        "ases": sorted(
            (a.name, a.asn, a.role, tuple(a.router_names()))
            for a in topo.ases
            if a.role != "anycast"
        ),
        "links": sorted((*sorted((lk.a, lk.b)), shaping(lk)) for lk in topo.links),
        "clients": sorted((c.name, c.as_, c.router or "", shaping(c.link)) for c in topo.clients),
        "sessions": _others_sessions(topo),
        "policy": _others_policy(topo),
    }


def internet_item(ctx: LabContext, topo: Topology) -> CheckItem:
    """Others' ASes, links (with their shaping), clients and sessions are as handed out."""
    start, now = _internet(starting_topology(ctx)), _internet(topo)
    changed = [part for part in start if start[part] != now[part]]
    detail = f"changed: {', '.join(changed)}" if changed else "as handed out"
    return item(
        "internet-unchanged",
        "the rest of the internet is untouched",
        not changed,
        detail,
        HINT_INTERNET,
    )


def find_site(topo: Topology, name: str) -> Optional[Site]:
    """The site called ``name`` (None if there is none)."""
    return next((s for s in topo.sites if s.name == name), None)


def site_item(ctx: LabContext, topo: Topology, role: str, id_: str) -> CheckItem:
    """A site of the variant is present, behind its transit, in the anycast AS."""
    want = ctx.variant.site[role]
    site = find_site(topo, want.name)
    if site is None:
        names = ", ".join(s.name for s in topo.sites) or "none"
        return item(
            id_,
            f"site {want.name} is announced",
            False,
            f"sites: {names}",
            "every site of your task must be in sites: (see TASK.md)",
        )
    problems = []
    if site.upstreams() != [want.upstream]:
        problems.append(f"upstream is {', '.join(site.upstreams())}, TASK.md says {want.upstream}")
    if topo.site_as(site).asn != ctx.variant.anycast_asn:
        problems.append("not in your anycast AS")
    return item(
        id_,
        f"site {want.name} is announced behind {want.upstream}",
        not problems,
        "; ".join(problems) or "ok",
        "an anycast site is one more origin of the same prefix, in the same AS, "
        "attached where TASK.md says",
    )


def run_item(
    ctx: LabContext,
    topo: Topology,
    scenario: Dict[str, Any],
    title: str,
    handout: bool = False,
) -> Tuple[Optional[Summary], CheckItem]:
    """Run a scenario on the student's topology (or the hand-out's).

    A run that raises :class:`~testbed.errors.TestbedError` is the testbed's
    failure (exit status 3), as is a hand-out network whose clients did not
    all reach a site; an :class:`~testbed.errors.InputError` (the student's
    files do not fit the run) and unreachable clients on the student's own
    topology are the student's.

    Args:
        ctx: the lab context.
        topo: the student's topology.
        scenario: scenario data (see :func:`testbed.labs.runner.lab_scenario`).
        title: what the run is, for the item.
        handout: ``topo`` is the hand-out's, which the student does not edit.

    Returns:
        (summary or None, the item).
    """
    try:
        summary = ctx.run(topo, scenario)
    except InputError as exc:
        return None, item("run", f"the testbed ran {title}", False, str(exc), HINT_RUN)
    except TestbedError as exc:
        return None, item(
            "run", f"the testbed ran {title}", False, str(exc), HINT_TESTBED, testbed=True
        )
    served = [c for c, v in summary.clients.items() if v.site_before]
    ok = len(served) == len(ctx.variant.clients)
    detail = f"{len(served)}/{len(ctx.variant.clients)} clients reached a site"
    return summary, item(
        "run",
        f"the testbed ran {title}",
        ok,
        detail,
        HINT_TESTBED if handout else HINT_RUN,
        testbed=handout and not ok,
    )


def complete_item(id_: str, name: str, problem: Optional[str]) -> CheckItem:
    """The instant item of an answer file: every answer is there and well-formed (not graded).

    Args:
        id_: the item id.
        name: the file (``answers.yaml``).
        problem: the first problem found (None: all answered).

    Returns:
        The item.
    """
    return item(
        id_,
        f"{name} answers every question",
        problem is None,
        problem or "all answered (graded below, with the run)",
        HINT_COMPLETE,
    )


def of(part: int, whole: int, what: str) -> str:
    """``3/5 clients``: a count, never names (names would give answers away)."""
    return f"{part}/{whole} {what}"


def skip_all(pairs: List[Tuple[str, str]]) -> List[CheckItem]:
    """Failed items that depend on a run that did not happen: (id, title) pairs."""
    return [skipped(id_, title) for id_, title in pairs]


def uplink_neighbors(topo: Topology, site: str) -> List[Any]:
    """The BGP neighbours of a site router as planned (prepend, MED, BFD per session)."""
    from testbed.topology.plan import make_plan

    return list(make_plan(topo).routers[site].neighbors)


def announced_prepend(topo: Topology, site: str) -> int:
    """The fewest prepends a site puts on its announcement to any upstream."""
    return min((n.prepend or 0 for n in uplink_neighbors(topo, site)), default=0)


def scenario_topology_item(
    ctx: LabContext, name: str = "scenario.yaml"
) -> Tuple[Optional[Any], Optional[Topology], CheckItem]:
    """Load the student's scenario and the topology it runs on (its settings applied).

    The scenario's ``bgp``, ``bfd`` and ``health`` blocks are applied to its
    topology, so a setting counts wherever the student put it.  The checks
    are those of ``anycast-testbed validate`` (:func:`testbed.checkfile.check_file`).

    Args:
        ctx: the lab context.
        name: the scenario file in the working copy.

    Returns:
        (scenario or None, effective topology or None, the item).
    """
    from testbed.checkfile import SCENARIO, check_file

    path = ctx.workdir / name
    title = f"{name} and the topology it names are valid"
    if not path.exists():
        return None, None, item("scenario-valid", title, False, f"{name} is missing", HINT_YAML)
    try:
        check = check_file(str(path), kind=SCENARIO)
    except InputError as exc:
        return None, None, item("scenario-valid", title, False, str(exc), HINT_YAML)
    return check.scenario, check.topology, item("scenario-valid", title, True, "ok")
