"""The aggregates: dogs and their tricks, and a count of each trick taught.

Type checkers see only what a class body declares, and ``@event("Name")`` makes
its event class when the class is created, too late for them. So each event is
declared: as a class in the body, given to ``@event`` (type checkers then know its
attributes too), or, for an event that ``@event("Name")`` makes, as a ``ClassVar``.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


class Dog(Aggregate):
    """A dog of the school, with the tricks it has learnt."""

    class Registered(Aggregate.Created):
        name: str

    class TrickAdded(Aggregate.Event):
        trick: str

    # Made by @event("Renamed") below; declared for type checkers.
    Renamed: ClassVar[type[Aggregate.Event]]

    @event(Registered)
    def __init__(self, name: str) -> None:
        self.name = name
        self.tricks: list[str] = []

    @event(TrickAdded)
    def add_trick(self, trick: str) -> None:
        self.tricks.append(trick)

    @event("Renamed")
    def rename(self, name: str) -> None:
        self.name = name


class TrickCount(Aggregate):
    """How many dogs have learnt one trick: one aggregate per trick, whose ID is
    derived from the trick, so the follower finds it without an index."""

    class Started(Aggregate.Created):
        trick: str

    class Counted(Aggregate.Event):
        pass

    @event(Started)
    def __init__(self, trick: str) -> None:
        self.trick = trick
        self.dogs = 0

    @staticmethod
    def create_id(trick: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/tricks/{trick}")

    @event(Counted)
    def count(self) -> None:
        self.dogs += 1
