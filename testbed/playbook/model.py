"""The format of ``playbook.json``, as pydantic models.

:func:`testbed.playbook.table.build_playbook` makes a :class:`Playbook` from
what the runner observed; :mod:`testbed.playbook.output` writes it (and the
CSV, Markdown and plot made from it).  Shares are fractions (0 to 1) of the
clients' total weight (``clients[].weight``, 1 unless the topology says
otherwise); times are seconds.
"""

from __future__ import annotations

from typing import Dict, List, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

#: What a playbook action does: prepend the site's own AS, withdraw the
#: prefix, or attach an upstream's action community.
ActionKind = Literal["prepend", "withdraw", "community"]


class Part(BaseModel):
    """Common settings: field docstrings as descriptions, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Action(Part):
    """One action a site can take."""

    name: str
    """Its name on the command line: ``prepend1``, ``withdraw``, ``na:no-export-eu``."""
    kind: ActionKind
    prepend: int = 0
    """Extra copies of the site's AS (``prepend``), or the upstream's prepends (``community``)."""
    community: Optional[str] = None
    """The action community attached (``community``)."""
    upstream: Optional[str] = None
    """The AS that offers the action community."""
    description: str = ""


class Client(Part):
    """A client and where it is served before any action."""

    name: str
    as_name: str
    weight: float
    """How many users it stands for."""
    baseline: Optional[str]
    """The site that answered it before any action (None: none answered)."""


class Move(Part):
    """A client served by another site after an action than before."""

    client: str
    weight: float
    from_site: Optional[str]
    to_site: Optional[str]
    """None: no site answered it."""


class Shares(Part):
    """How the clients are spread over the sites at one moment."""

    weights: Dict[str, float]
    """Site -> the weight of the clients it serves (every site, in topology order)."""
    shares: Dict[str, float]
    """Site -> that weight's share of the total."""
    client_shares: Dict[str, float]
    """Site -> its share of the clients, by count."""
    no_answer: float = 0.0
    """Share of the weight of clients no site answered."""
    unanswered: int = 0
    """How many clients no site answered."""


class Step(Part):
    """One action at one site: where the clients went, how fast, and whether they came back."""

    label: str
    """``SITE ACTION``, e.g. ``nyc prepend1``."""
    site: str
    action: Action
    after: Shares
    """The spread once BGP converged after the action."""
    moved: List[Move]
    clients_moved: int
    weight_moved: float
    share_moved: float
    """``weight_moved`` as a share of the total weight."""
    converged: bool
    """BGP converged within the timeout after the action."""
    converge_s: float
    """From the action to the last route change it caused (0: no router's route changed)."""
    routers_changed: int
    """Routers whose route to the service prefix differs once converged."""
    no_route: List[str] = Field(default_factory=list)
    """Routers left without a route to the service prefix by the action."""
    revert_converged: bool
    revert_s: float
    """From the revert to the last route change it caused."""
    back: bool
    """Every client is answered by its baseline site again after the revert."""
    not_back: List[Move] = Field(default_factory=list)
    """The clients that are not (where they were instead)."""


class Timings(Part):
    """Where the time went (seconds)."""

    bring_up_s: float = 0.0
    convergence_s: float = 0.0
    services_s: float = 0.0
    actions_s: float = 0.0
    total_s: float = 0.0
    """From the command's start to the results: checks, bring-up, actions and teardown."""


class Playbook(Part):
    """``playbook.json``: every action's outcome, and each client's site after each."""

    format: Literal[1] = 1
    topology: str
    service: str
    """The anycast service address the clients asked (DNS, ``CH TXT id.server``)."""
    created: str
    """When the playbook ran (ISO 8601, UTC)."""
    sites: List[str]
    clients: List[Client]
    total_weight: float
    baseline: Shares
    steps: List[Step]
    matrix: Dict[str, Dict[str, Optional[str]]]
    """Client -> {``baseline`` and each step's label -> the site that answered it (None: none)}."""
    skipped: List[str] = Field(default_factory=list)
    """Actions left out, and why (e.g. a speaker that cannot attach communities)."""
    interrupted: Optional[str] = None
    """Why the playbook stopped before its last action (None: it did not)."""
    timings: Timings = Field(default_factory=Timings)

    def to_json(self) -> str:
        """The file's text."""
        return self.model_dump_json(indent=2) + "\n"
