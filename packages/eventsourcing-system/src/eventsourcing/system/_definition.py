"""The definition of a system: which applications follow which."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise
from typing import Any, cast

from eventsourcing.application import Application

from ._application import Follower, Leader, ProcessApplication


class System:
    """Defines a system of applications.

    Each pipe is a sequence of application classes in which each class follows the
    one before it. Pipes may share applications and may form loops. Applications
    are identified by their ``name`` (by default the class name).
    """

    def __init__(self, pipes: Iterable[Iterable[type[Application]]]) -> None:
        self.nodes: dict[str, type[Application]] = {}
        self.edges: list[tuple[str, str]] = []
        self.leads: dict[str, list[str]] = {}
        self.follows: dict[str, list[str]] = {}
        self.pipes = [list(pipe) for pipe in pipes]
        for pipe in self.pipes:
            for cls in pipe:
                self._add_node(cls)
            for leader_cls, follower_cls in pairwise(pipe):
                self._add_edge(leader_cls, follower_cls)
        self._leader_classes: dict[str, type[Leader]] = {}

    def _add_node(self, cls: Any) -> None:
        if not (isinstance(cls, type) and issubclass(cls, Application)):
            msg = (
                f"Not an application class: {cls!r}. Each pipe of a System must "
                "list subclasses of eventsourcing.application.Application"
            )
            raise TypeError(msg)
        existing = self.nodes.setdefault(cls.name, cls)
        if existing is not cls:
            msg = (
                f"Two application classes in the system have the name "
                f"{cls.name!r}: {existing!r} and {cls!r}. Give one of them another "
                "name (the class attribute 'name')"
            )
            raise ValueError(msg)

    def _add_edge(
        self, leader_cls: type[Application], follower_cls: type[Application]
    ) -> None:
        if not issubclass(follower_cls, Follower):
            msg = (
                f"{follower_cls.__qualname__} follows "
                f"{leader_cls.__qualname__} in the system but is not a follower "
                "class: derive it from eventsourcing.system.ProcessApplication "
                "(or Follower) and implement policy()"
            )
            raise TypeError(msg)
        edge = (leader_cls.name, follower_cls.name)
        if edge not in self.edges:
            self.edges.append(edge)
            self.leads.setdefault(edge[0], []).append(edge[1])
            self.follows.setdefault(edge[1], []).append(edge[0])

    @property
    def leaders(self) -> list[str]:
        """Names of the applications that are followed."""
        return list(self.leads)

    @property
    def followers(self) -> list[str]:
        """Names of the applications that follow others."""
        return list(self.follows)

    @property
    def leaders_only(self) -> list[str]:
        """Names of the applications that are followed but follow nothing."""
        return [name for name in self.leads if name not in self.follows]

    @property
    def followers_only(self) -> list[str]:
        """Names of the applications that follow but are not followed."""
        return [name for name in self.follows if name not in self.leads]

    @property
    def processors(self) -> list[str]:
        """Names of the applications that both follow and are followed."""
        return [name for name in self.follows if name in self.leads]

    @property
    def singles(self) -> list[str]:
        """Names of the applications that neither follow nor are followed."""
        return [
            name
            for name in self.nodes
            if name not in self.leads and name not in self.follows
        ]

    def get_app_cls(self, name: str) -> type[Application]:
        """Returns the application class with the given name."""
        try:
            return self.nodes[name]
        except KeyError:
            msg = (
                f"No application named {name!r} in the system "
                f"(applications: {', '.join(self.nodes)})"
            )
            raise KeyError(msg) from None

    def leader_cls(self, name: str) -> type[Leader]:
        """Returns the named class as a :class:`Leader`: the class itself when it
        is one, otherwise a subclass of it that also derives from ``Leader`` and
        keeps its name, so that it can prompt its followers."""
        cls = self.get_app_cls(name)
        if issubclass(cls, Leader):
            return cls
        if name not in self._leader_classes:
            namespace = {
                "name": cls.name,
                "__module__": cls.__module__,
                "__qualname__": cls.__qualname__,
                "__doc__": cls.__doc__,
            }
            # The most derived metaclass (ABCMeta for followers) builds the class.
            metaclass: type = type(cls)
            self._leader_classes[name] = cast(
                type[Leader], metaclass(cls.__name__, (Leader, cls), namespace)
            )
        return self._leader_classes[name]

    def follower_cls(self, name: str) -> type[Follower]:
        """Returns the named class, which must be a :class:`Follower`."""
        cls = self.get_app_cls(name)
        if not issubclass(cls, Follower):
            msg = (
                f"Application {name!r} is not a follower class: derive it from "
                "eventsourcing.system.ProcessApplication (or Follower)"
            )
            raise TypeError(msg)
        return cls

    def process_cls(self, name: str) -> type[ProcessApplication]:
        """Returns the named class, which must be a :class:`ProcessApplication`."""
        cls = self.get_app_cls(name)
        if not issubclass(cls, ProcessApplication):
            msg = (
                f"Application {name!r} is not a process application class: derive "
                "it from eventsourcing.system.ProcessApplication"
            )
            raise TypeError(msg)
        return cls

    def runnable_cls(self, name: str) -> type[Application]:
        """Returns the class a runner constructs for the named application: its
        :meth:`leader_cls` when it is followed, otherwise the class itself."""
        if name in self.leads:
            return self.leader_cls(name)
        return self.get_app_cls(name)
