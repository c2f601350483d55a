"""The actions of a topology's sites, and the selection ``--sites``/``--actions`` make (pure).

Every site can prepend its AS 1, 2 or 3 more times (on top of the topology's
own ``prepend``) and withdraw its prefix.  Where the site's upstream ASes
offer action communities (``ases[].actions``), attaching each is an action
too: prepend towards the upstream's peers, or do not export to its peers or
to one named neighbour.  A speaker that cannot attach communities (Ryu) has
no community actions (said in ``skipped``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from testbed.errors import InputError
from testbed.playbook.model import Action
from testbed.topology.model import PEERS, ActionCommunity, Site, Topology

#: The prepend counts every site tries.
PREPENDS = (1, 2, 3)
#: The names of the actions every site has.
BASIC = frozenset({*(f"prepend{n}" for n in PREPENDS), "withdraw"})


def basic_actions() -> List[Action]:
    """The actions every site has: ``prepend1``..``prepend3`` and ``withdraw``."""
    out = [
        Action(
            name=f"prepend{n}",
            kind="prepend",
            prepend=n,
            description=f"prepend the site's AS {n} more time{'s' if n > 1 else ''}",
        )
        for n in PREPENDS
    ]
    out.append(Action(name="withdraw", kind="withdraw", description="withdraw the prefix"))
    return out


def matches(action: Action, token: str) -> bool:
    """True if ``--actions`` item ``token`` names ``action``.

    An action community is named by its full name (``na:no-export-eu``), by
    its name without the AS (``no-export-eu``: at whichever upstream offers
    it) unless that is a site's own action (``prepend1`` is the site's
    prepend, ``na:prepend1`` the upstream's), or by the community itself
    (``65001:6602``).
    """
    if token == action.name or (action.community is not None and token == action.community):
        return True
    short = action.name.split(":", 1)[1] if action.upstream else None
    return short == token and token not in BASIC


def community_action(upstream: str, action: ActionCommunity) -> Action:
    """The playbook action of attaching one of ``upstream``'s action communities."""
    if action.prepend is not None:
        what = f"prepend{action.prepend}"
        told = f"{upstream} prepends {action.prepend}x towards its peers"
    elif action.no_export_to == PEERS:
        what, told = "no-export-peers", f"{upstream} does not export to its peers"
    else:
        what = f"no-export-{action.no_export_to}"
        told = f"{upstream} does not export to {action.no_export_to}"
    description = f"{told} ({action.community})"
    if action.description:
        description += f": {action.description}"
    return Action(
        name=f"{upstream}:{what}",
        kind="community",
        prepend=action.prepend or 0,
        community=str(action.community),
        upstream=upstream,
        description=description,
    )


def upstream_ases(topo: Topology, site: Site) -> List[str]:
    """The names of the ASes a site's upstreams belong to, each once, in order."""
    from testbed.topology.validate import resolve_router

    routers = topo.router_index()
    out: List[str] = []
    for name in site.upstreams():
        router = resolve_router(topo, name)
        asys = routers.get(router) if router is not None else None
        if asys is not None and asys.name not in out:
            out.append(asys.name)
    return out


def site_actions(topo: Topology, site: Site) -> Tuple[List[Action], List[str]]:
    """Every action of one site, and the actions it cannot take (with why).

    Returns:
        (actions in playbook order: the basic ones, then each upstream's action
        communities as declared; lines saying what was left out).
    """
    from testbed.topology.capabilities import NO_COMMUNITIES

    actions = basic_actions()
    skipped: List[str] = []
    for name in upstream_ases(topo, site):
        asys = topo.as_by_name(name)
        offered = list(asys.actions) if asys is not None else []
        if offered and site.speaker in NO_COMMUNITIES:
            skipped.append(
                f"{site.name}: {name}'s {len(offered)} action communities "
                f"({site.speaker}: {NO_COMMUNITIES[site.speaker]})"
            )
            continue
        for offer in offered:
            action = community_action(name, offer)
            if any(a.name == action.name for a in actions):  # the same action twice
                action = action.model_copy(update={"name": f"{name}:{offer.community}"})
            actions.append(action)
    return actions, skipped


def split_list(text: Optional[str], option: str) -> Optional[List[str]]:
    """A comma-separated option's items (None: the option was not given).

    Raises:
        InputError: the option names nothing, or an item twice.
    """
    if text is None:
        return None
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise InputError(f"an empty item in {text!r} (give NAME,NAME,...)", option)
    twice = sorted({item for item in items if items.count(item) > 1})
    if twice:
        raise InputError(f"{', '.join(twice)} given twice", option)
    return items


@dataclass
class Selection:
    """What a playbook runs: (site, action) steps in order, and what was left out."""

    steps: List[Tuple[str, Action]] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)

    def sites(self) -> List[str]:
        """The sites that take an action, in order."""
        return list(dict.fromkeys(site for site, _ in self.steps))


def select(
    topo: Topology, sites: Optional[Sequence[str]] = None, actions: Optional[Sequence[str]] = None
) -> Selection:
    """The steps of a playbook: each chosen site in topology order, each chosen action in order.

    Args:
        topo: the topology.
        sites: site names (None: every site).
        actions: ``--actions`` items (None: every action of every chosen site);
            see :func:`matches`.

    Raises:
        InputError: a site or action that does not exist, a topology without
            sites or clients, or clients that all weigh 0.
    """
    if not topo.sites:
        raise InputError("has no sites: nothing to move", topo.name)
    if not topo.clients:
        raise InputError("has no clients: nobody to move", topo.name)
    if sum(float(getattr(c, "weight", 1.0)) for c in topo.clients) <= 0:
        raise InputError("every client weighs 0: no share to compute", topo.name, "clients")
    known = [s.name for s in topo.sites]
    for name in sites or []:
        if name not in known:
            raise InputError(
                f"no site {name!r} in {topo.name} (sites: {', '.join(known)})", "--sites"
            )
    chosen = [s for s in topo.sites if sites is None or s.name in sites]
    offered: Dict[str, List[Action]] = {}
    out = Selection()
    for site in chosen:
        offered[site.name], skipped = site_actions(topo, site)
        out.skipped += skipped
    every = list(dict.fromkeys(a.name for acts in offered.values() for a in acts))
    for token in actions or []:
        if not any(matches(a, token) for acts in offered.values() for a in acts):
            where = ", ".join(s.name for s in chosen)
            raise InputError(
                f"no action {token!r} at {where} (actions: {', '.join(every)})", "--actions"
            )
    for site in chosen:
        for action in offered[site.name]:
            if actions is None or any(matches(action, t) for t in actions):
                out.steps.append((site.name, action))
    return out
