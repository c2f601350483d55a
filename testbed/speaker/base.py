"""One interface for every kind of site speaker, and the registry of kinds.

A site announces the anycast prefix through a *site speaker*: FRR on a site
router (``speaker: frr``), Ryu's BGPSpeaker on the site node (``ryu``), or
ExaBGP there (``exabgp``).  The scenario events, the testbed's bring-up and
the health agents drive every kind through :class:`SiteSpeaker`; each kind is
one subclass, registered by name with :func:`register` (as ExaBGP registers
its message classes with ``@Message.register``) in :data:`SPEAKERS` (a
:class:`testbed.registry.Registry`), and found again with
:func:`speaker_class` / :func:`make_speaker`.

What a speaker does falls in two halves:

- **announcements** -- :meth:`~SiteSpeaker.announce`,
  :meth:`~SiteSpeaker.withdraw`, :meth:`~SiteSpeaker.set_policy` (prepend,
  MED, communities), :meth:`~SiteSpeaker.sessions`, :meth:`~SiteSpeaker.status` (the RIB
  query: what the site announces now).  These need only the
  :class:`SpeakerSpec` (names, AS, prefix, the control socket), so the health
  agent, a process of its own with a JSON config and no testbed, uses them too;
- **processes** -- :meth:`~SiteSpeaker.node_setup`,
  :meth:`~SiteSpeaker.start_all`, :meth:`~SiteSpeaker.start`,
  :meth:`~SiteSpeaker.processes`, :meth:`~SiteSpeaker.restart`,
  :meth:`~SiteSpeaker.stop`, :meth:`~SiteSpeaker.link_up_commands`.  These need
  the live :class:`~testbed.net.build.Testbed` (given as ``testbed``).

Built-in kinds live in :data:`BUILTIN` modules, imported on the first lookup
(function-level, so importing this module pulls in neither FRR's nor
ExaBGP's code).
"""

from __future__ import annotations

import signal
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    ClassVar,
    Dict,
    Iterable,
    List,
    Optional,
    Set,
    Tuple,
    Type,
    TypeVar,
)

from testbed.registry import Registry

if TYPE_CHECKING:  # pragma: no cover - typing only
    from testbed.net.state import Tracked
    from testbed.topology.model import Topology
    from testbed.topology.plan import RouterPlan

#: Modules that define the built-in kinds (each registers its class on import).
BUILTIN = ("testbed.speaker.frr", "testbed.speaker.ryu", "testbed.speaker.exabgp")

#: The site speaker kinds, by name (``speaker: KIND``); sets each class's ``kind``.
SPEAKERS: Registry[SiteSpeaker] = Registry(
    "speaker kind", BUILTIN, attribute="kind", unknown="no site speaker {name} (known: {known})"
)
S = TypeVar("S", bound="Type[SiteSpeaker]")


def register(kind: str) -> Callable[[S], S]:
    """Class decorator: make ``cls`` the site speaker of ``kind`` (``speaker: KIND``).

    Raises:
        ValueError: another class is registered for ``kind`` already.
    """
    return SPEAKERS.register(kind)


def kinds() -> List[str]:
    """Every registered kind (the built-in ones included), sorted."""
    return SPEAKERS.names()


def speaker_class(kind: str) -> Type[SiteSpeaker]:
    """The class registered for ``kind``.

    Raises:
        KeyError: no such kind (the message lists the known ones).
    """
    return SPEAKERS.get(kind)


def make_speaker(
    kind: str, spec: SpeakerSpec, testbed: Any = None, timeout: Optional[float] = None
) -> SiteSpeaker:
    """A speaker of ``kind`` for the site described by ``spec``."""
    return speaker_class(kind)(spec, testbed=testbed, timeout=timeout)


@dataclass
class SpeakerSpec:
    """What a site speaker needs to change its announcements (JSON-friendly).

    Attributes:
        site: the site's name.
        router: the node that speaks BGP for it (the site router / site node).
        asn: the anycast AS.
        prefixes: the prefixes it announces.
        peers: its upstream routers' names.
        control: the control socket of a speaker process (None for FRR).
        base_prepend: the prepends the topology asks for (before any change).
        base_med: the MED the topology asks for (None: none).
        base_communities: the site's own communities in the topology
            (``sites[].communities``), which ``set_communities`` replaces.
        peer_communities: upstream -> the communities its session adds
            (``sessions[].communities`` from the site), which stay.
    """

    site: str
    router: str
    asn: int
    prefixes: List[str]
    peers: List[str] = field(default_factory=list)
    control: Optional[str] = None
    base_prepend: int = 0
    base_med: Optional[int] = None
    base_communities: List[str] = field(default_factory=list)
    peer_communities: Dict[str, List[str]] = field(default_factory=dict)

    @classmethod
    def from_router(
        cls,
        router: RouterPlan,
        control: Optional[Path] = None,
        topology: Optional[Topology] = None,
    ) -> SpeakerSpec:
        """The spec of a site router of the plan (``topology``: where its communities come from)."""
        site, peers = site_communities(router, topology)
        return cls(
            site=str(router.site or router.name),
            router=router.name,
            asn=router.asn,
            # the anycast prefix: a site's own unicast prefix stays announced
            # whatever its speaker is told (withdraw moves the catchment only)
            prefixes=[str(p) for p in router.networks if p != router.unicast],
            peers=[n.peer for n in router.neighbors],
            control=str(control) if control is not None else None,
            base_prepend=max((n.prepend for n in router.neighbors), default=0),
            base_med=next((n.med for n in router.neighbors if n.med is not None), None),
            base_communities=site,
            peer_communities=peers,
        )

    @classmethod
    def from_health_config(cls, config: Dict[str, Any]) -> SpeakerSpec:
        """The spec in a health agent's config (``Traffic.health_config``)."""
        return cls(
            site=config.get("site", config["router"]),
            router=config["router"],
            asn=int(config["asn"]),
            prefixes=[config["prefix"]],
            peers=list(config.get("peers") or []),
            control=config.get("control"),
            base_prepend=int(config.get("base_prepend") or 0),
            base_med=config.get("base_med"),
            base_communities=[str(c) for c in config.get("base_communities") or []],
        )

    def to_dict(self) -> Dict[str, Any]:
        """As a dict (JSON)."""
        return asdict(self)

    def communities_towards(self, peer: str, communities: Iterable[str]) -> List[str]:
        """What the announcement to ``peer`` carries: the site's ``communities``, then
        the session's own (each once, in that order)."""
        return unique([*communities, *self.peer_communities.get(peer, [])])


def unique(values: Iterable[str]) -> List[str]:
    """Each value once, in order of first appearance."""
    return list(dict.fromkeys(str(v) for v in values))


def site_communities(
    router: RouterPlan, topology: Optional[Topology] = None
) -> Tuple[List[str], Dict[str, List[str]]]:
    """A site router's communities: (the site's own, upstream -> its session's own).

    From the topology when given (``sites[].communities``,
    ``sessions[].communities`` with the site as ``a``); without it, from the
    plan's per-session lists: what every session carries counts as the
    site's, the rest as the session's.
    """
    rendered = {
        n.peer: unique([*n.policy.communities, *n.policy.large_communities])
        for n in router.neighbors
        if n.policy is not None
    }
    if topology is None:
        lists = list(rendered.values())
        common = [c for c in lists[0] if all(c in other for other in lists)] if lists else []
        extra = {p: [c for c in v if c not in common] for p, v in rendered.items()}
        return common, {p: v for p, v in extra.items() if v}
    from testbed.topology.validate import resolve_router

    site = next((s for s in topology.sites if s.name == router.site), None)
    own = unique(site.communities) if site is not None else []
    peers: Dict[str, List[str]] = {}
    for session in topology.sessions:
        if session.communities and resolve_router(topology, session.a) == router.name:
            peer = resolve_router(topology, session.b)
            if peer is not None:
                peers[peer] = unique([*peers.get(peer, []), *session.communities])
    return own, peers


class SiteSpeaker(ABC):
    """The BGP speaker of one anycast site, whatever its kind.

    Args:
        spec: the site (names, AS, prefixes, upstreams, control socket).
        testbed: the live testbed (None in the health agent: then only the
            announcement methods may be called).
        timeout: seconds a call to the speaker may take (None: the kind's default).
    """

    #: ``speaker: KIND`` in the topology; set by :func:`register`.
    kind: ClassVar[str] = ""
    #: True if the site node runs FRR (started with every FRR router of the testbed).
    runs_frr: ClassVar[bool] = False
    #: True if the speaker is a process the testbed talks to over a control socket.
    control_socket: ClassVar[bool] = False

    def __init__(self, spec: SpeakerSpec, testbed: Any = None, timeout: Optional[float] = None):
        self.spec = spec
        self.testbed = testbed
        self.timeout = timeout
        #: what the site announces now (as this object last set it)
        self.prepend: int = spec.base_prepend
        self.med: Optional[int] = spec.base_med
        self.communities: List[str] = list(spec.base_communities)
        self.announced = True

    @classmethod
    def for_router(cls, router: RouterPlan, testbed: Any) -> SiteSpeaker:
        """The speaker of a site router of ``testbed``'s plan."""
        control = testbed.speaker_socket(router.name) if cls.control_socket else None
        spec = SpeakerSpec.from_router(router, control, getattr(testbed, "topo", None))
        return cls(spec, testbed=testbed)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec.site} on {self.spec.router}>"

    # ----------------------------------------------------------- helpers
    @property
    def name(self) -> str:
        """The node that speaks BGP for the site."""
        return self.spec.router

    @property
    def tb(self) -> Any:
        """The testbed (raises when the speaker was made without one)."""
        if self.testbed is None:
            raise RuntimeError(f"{self!r}: this needs the running testbed")
        return self.testbed

    @property
    def plan(self) -> RouterPlan:
        """The site router's plan (needs the testbed)."""
        return self.tb.plan.routers[self.name]

    # ----------------------------------------------------- announcements
    @abstractmethod
    def announce(self) -> None:
        """Announce the site's prefixes (idempotent)."""

    @abstractmethod
    def withdraw(self) -> None:
        """Withdraw the site's prefixes (idempotent)."""

    @abstractmethod
    def _apply_policy(
        self,
        prepend: int,
        med: Optional[int],
        communities: Optional[List[str]],
        changed: Set[str],
    ) -> List[str]:
        """Make the announcements carry ``prepend``, ``med`` and ``communities``.

        ``communities`` (the site's own, :meth:`SpeakerSpec.communities_towards`
        adds each session's) is None when they are to be left as they are;
        ``changed`` says which of ``prepend``, ``med`` and ``communities``
        differ from what is in place.

        Returns:
            What was done, in words for a record.
        """

    def set_policy(
        self,
        prepend: int,
        med: Optional[int],
        communities: Optional[Iterable[str]] = None,
        force: bool = False,
    ) -> List[str]:
        """Announce with ``prepend`` extra copies of the site's AS, MED ``med`` and ``communities``.

        Args:
            prepend: AS-path prepends (0: none).
            med: the MED (None: no MED).
            communities: the site's communities (``[]``: none; None: leave
                them as they are, e.g. a health agent changing only the MED).
            force: apply even if this object believes it is in place already
                (another process, e.g. a health agent, may have changed it).

        Returns:
            What was done, in words for a record (empty: nothing changed).
        """
        prepend = int(prepend or 0)
        want: Dict[str, Any] = {"prepend": prepend, "med": med}
        wanted = unique(communities) if communities is not None else None
        if wanted is not None:
            want["communities"] = wanted
        changed = set(want) if force else {k for k, v in want.items() if v != getattr(self, k)}
        if not changed:
            return []
        done = self._apply_policy(prepend, med, wanted, changed)
        self.prepend, self.med = prepend, med
        if wanted is not None:
            self.communities = wanted
        return done

    @abstractmethod
    def sessions(self) -> Dict[str, str]:
        """Upstream name -> BGP state (``Established``, ``Down``, ...)."""

    @abstractmethod
    def status(self) -> Dict[str, Any]:
        """The RIB query: what the site announces now.

        Returns:
            ``announced`` (bool), ``prepend``, ``med``, ``communities`` and
            ``peers`` (as :meth:`sessions`), plus whatever the kind adds.
        """

    # --------------------------------------------------------- processes
    def node_setup(self) -> List[str]:
        """Shell commands that prepare the site node after its addresses are set."""
        return []

    def link_up_commands(self) -> List[str]:
        """Shell commands to run on the node after one of its links came up again."""
        return []

    @classmethod
    def start_all(cls, speakers: List[SiteSpeaker]) -> None:
        """Start the speakers of this kind at bring-up (default: one after another)."""
        for one in speakers:
            one.start()

    @abstractmethod
    def start(self) -> None:
        """Start the speaker's daemons or processes (also after a crash)."""

    @abstractmethod
    def processes(self) -> List[Tracked]:
        """The speaker's running processes (frozen or killed by ``fail_site``)."""

    def restart(self) -> None:
        """Start the speaker again after its processes were killed."""
        self.start()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the speaker's processes (``sig``, then SIGKILL after a grace period)."""
        for proc in self.processes():
            self.tb.stop_process(proc, sig)
