"""One interface for every kind of site speaker, and the registry of kinds.

A site announces the anycast prefix through a *site speaker*: FRR on a site
router (``speaker: frr``), Ryu's BGPSpeaker on the site node (``ryu``), or
ExaBGP there (``exabgp``).  The scenario events, the testbed's bring-up and
the health agents drive every kind through :class:`SiteSpeaker`; each kind is
one subclass, registered by name with :func:`register` (as ExaBGP registers
its message classes with ``@Message.register``), and found again with
:func:`speaker_class` / :func:`make_speaker`.

What a speaker does falls in two halves:

- **announcements** -- :meth:`~SiteSpeaker.announce`,
  :meth:`~SiteSpeaker.withdraw`, :meth:`~SiteSpeaker.set_policy` (prepend,
  MED), :meth:`~SiteSpeaker.sessions`, :meth:`~SiteSpeaker.status` (the RIB
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

import importlib
import signal
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Dict, List, Optional, Set, Type, TypeVar

if TYPE_CHECKING:  # pragma: no cover - typing only
    from testbed.net.state import Tracked
    from testbed.topology.plan import RouterPlan

#: Modules that define the built-in kinds (each registers its class on import).
BUILTIN = ("testbed.speaker.frr", "testbed.speaker.ryu", "testbed.speaker.exabgp")

_REGISTRY: Dict[str, Type[SiteSpeaker]] = {}
S = TypeVar("S", bound="Type[SiteSpeaker]")


def register(kind: str) -> Callable[[S], S]:
    """Class decorator: make ``cls`` the site speaker of ``kind`` (``speaker: KIND``).

    Raises:
        ValueError: another class is registered for ``kind`` already.
    """

    def decorate(cls: S) -> S:
        old = _REGISTRY.get(kind)
        if old is not None and old is not cls:
            raise ValueError(f"speaker kind {kind!r} is registered already ({old.__name__})")
        cls.kind = kind
        _REGISTRY[kind] = cls
        return cls

    return decorate


def _load_builtins() -> None:
    for module in BUILTIN:
        importlib.import_module(module)


def kinds() -> List[str]:
    """Every registered kind (the built-in ones included), sorted."""
    _load_builtins()
    return sorted(_REGISTRY)


def speaker_class(kind: str) -> Type[SiteSpeaker]:
    """The class registered for ``kind``.

    Raises:
        KeyError: no such kind (the message lists the known ones).
    """
    _load_builtins()
    try:
        return _REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"no site speaker {kind!r} (known: {known})") from None


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
    """

    site: str
    router: str
    asn: int
    prefixes: List[str]
    peers: List[str] = field(default_factory=list)
    control: Optional[str] = None
    base_prepend: int = 0
    base_med: Optional[int] = None

    @classmethod
    def from_router(cls, router: RouterPlan, control: Optional[Path] = None) -> SpeakerSpec:
        """The spec of a site router of the plan."""
        return cls(
            site=str(router.site or router.name),
            router=router.name,
            asn=router.asn,
            prefixes=[str(p) for p in router.networks],
            peers=[n.peer for n in router.neighbors],
            control=str(control) if control is not None else None,
            base_prepend=max((n.prepend for n in router.neighbors), default=0),
            base_med=next((n.med for n in router.neighbors if n.med is not None), None),
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
        )

    def to_dict(self) -> Dict[str, Any]:
        """As a dict (JSON)."""
        return asdict(self)


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
        self.announced = True

    @classmethod
    def for_router(cls, router: RouterPlan, testbed: Any) -> SiteSpeaker:
        """The speaker of a site router of ``testbed``'s plan."""
        control = testbed.speaker_socket(router.name) if cls.control_socket else None
        return cls(SpeakerSpec.from_router(router, control), testbed=testbed)

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
    def _apply_policy(self, prepend: int, med: Optional[int], changed: Set[str]) -> List[str]:
        """Make the announcements carry ``prepend`` and ``med``; return what was done.

        ``changed`` says which of ``prepend`` and ``med`` differ from what is in place.
        """

    def set_policy(self, prepend: int, med: Optional[int], force: bool = False) -> List[str]:
        """Announce with ``prepend`` extra copies of the site's AS and MED ``med``.

        Args:
            prepend: AS-path prepends (0: none).
            med: the MED (None: no MED).
            force: apply even if this object believes it is in place already
                (another process, e.g. a health agent, may have changed it).

        Returns:
            What was done, in words for a record (empty: nothing changed).
        """
        prepend = int(prepend or 0)
        changed = {"prepend", "med"}
        if not force:
            changed = {k for k, v in (("prepend", prepend), ("med", med)) if v != getattr(self, k)}
        if not changed:
            return []
        done = self._apply_policy(prepend, med, changed)
        self.prepend, self.med = prepend, med
        return done

    @abstractmethod
    def sessions(self) -> Dict[str, str]:
        """Upstream name -> BGP state (``Established``, ``Down``, ...)."""

    @abstractmethod
    def status(self) -> Dict[str, Any]:
        """The RIB query: what the site announces now.

        Returns:
            ``announced`` (bool), ``prepend``, ``med`` and ``peers`` (as
            :meth:`sessions`), plus whatever the kind adds.
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
