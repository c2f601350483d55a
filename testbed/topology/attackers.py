"""Attack sources: which eyeball ASes host them and what they are called (pure).

A topology's (or scenario's) ``attackers`` names eyeball ASes, or a
``share`` of them; each chosen AS gets ``per_as`` sources, hosts hanging off
the AS's access router like its clients (an address in the same /24), named
``atk1``, ``atk2``, ... in AS order.  A share picks the ASes by a fixed hash
of their names, so the same topology always attacks from the same places and
the choice is spread rather than the first few in the file.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import List

from testbed.topology.model import Topology

#: Attack source hosts are called ``atk1``, ``atk2``, ...
PREFIX = "atk"


@dataclass(frozen=True)
class AttackSource:
    """One attack source host.

    Attributes:
        name: the host (node) name.
        as_name: the eyeball AS it sits in.
        router: its access router (the AS's first router).
    """

    name: str
    as_name: str
    router: str


def _hash(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def attack_ases(topo: Topology) -> List[str]:
    """The ASes that host attack sources, in the topology's AS order (empty without attackers)."""
    spec = topo.attackers
    if spec is None:
        return []
    if spec.ases:
        wanted = set(spec.ases)
    else:
        eyeballs = [a.name for a in topo.ases if a.role == "eyeball"]
        count = max(1, math.ceil((spec.share or 0) * len(eyeballs))) if eyeballs else 0
        wanted = set(sorted(eyeballs, key=_hash)[:count])
    return [a.name for a in topo.ases if a.name in wanted]


def attack_sources(topo: Topology) -> List[AttackSource]:
    """Every attack source host of a validated topology (empty without attackers)."""
    spec = topo.attackers
    if spec is None:
        return []
    out: List[AttackSource] = []
    for as_name in attack_ases(topo):
        asys = topo.as_by_name(as_name)
        assert asys is not None, "validated"
        for _ in range(spec.per_as):
            out.append(AttackSource(f"{PREFIX}{len(out) + 1}", as_name, asys.router_names()[0]))
    return out
