"""The ``World`` aggregate in declarative style: the created event is defined from
``__init__()`` and the ``SomethingHappened`` event from the decorated command method
(section 1.4.9, "The World aggregate class revisited")."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event


class World(Aggregate):
    def __init__(self) -> None:
        self.history: list[str] = []

    @event("SomethingHappened")
    def make_it_so(self, what: str) -> None:
        self.history.append(what)
