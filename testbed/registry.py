"""A registry of classes by name: probe kinds, service kinds, site speakers.

One shape for every "kind" the testbed looks up by the name a file gives:
a class registers itself with ``@REGISTRY.register("name")`` (as ExaBGP
registers its message classes with ``@Message.register``), which also sets
the name on the class; :meth:`Registry.get` finds it again, with a one-line
``KeyError`` naming the known ones; :meth:`Registry.names` lists them.  The
built-in kinds live in modules imported on the first lookup (function-level,
so importing a registry pulls in none of its kinds' code).
"""

from __future__ import annotations

import importlib
from typing import Callable, Dict, Generic, List, Sequence, Type, TypeVar

T = TypeVar("T")
C = TypeVar("C", bound=type)


class Registry(Generic[T]):
    """Subclasses of ``T`` by name.

    Attributes:
        what: what a name names, for messages (``probe kind``).
        builtins: modules that register the built-in classes, imported on
            the first lookup.
        attribute: the class attribute :meth:`register` sets to the name.
        unknown: the message of an unknown name, with ``{what}``, ``{name}``
            (the name, quoted) and ``{known}`` (the known names, sorted).
        entries: name -> class (also for tests to swap).
    """

    def __init__(
        self,
        what: str,
        builtins: Sequence[str] = (),
        *,
        attribute: str = "name",
        unknown: str = "unknown {what} {name} (one of {known})",
    ) -> None:
        self.what = what
        self.builtins = tuple(builtins)
        self.attribute = attribute
        self.unknown = unknown
        self.entries: Dict[str, Type[T]] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[C], C]:
        """Class decorator: register the class under ``name`` (and set its name attribute).

        Raises:
            ValueError: another class is registered under ``name`` already.
        """

        def decorate(cls: C) -> C:
            old = self.entries.get(name)
            if old is not None and old is not cls:
                raise ValueError(
                    f"{self.what} {name!r} registered twice ({old.__name__}, {cls.__name__})"
                )
            setattr(cls, self.attribute, name)
            self.entries[name] = cls
            return cls

        return decorate

    def load(self) -> None:
        """Import the built-in modules (once; again after a failed import)."""
        if self._loaded:
            return
        self._loaded = True  # a built-in module looking a name up while it loads finds the rest
        try:
            for module in self.builtins:
                importlib.import_module(module)
        except BaseException:
            self._loaded = False
            raise

    def names(self) -> List[str]:
        """Every registered name (the built-in ones included), sorted."""
        self.load()
        return sorted(self.entries)

    def get(self, name: str) -> Type[T]:
        """The class registered under ``name``.

        Raises:
            KeyError: no such name (the message lists the known ones).
        """
        self.load()
        try:
            return self.entries[name]
        except KeyError:
            known = ", ".join(sorted(self.entries))
            message = self.unknown.format(what=self.what, name=repr(name), known=known)
            raise KeyError(message) from None

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self.entries
