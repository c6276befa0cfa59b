"""``singledispatchmethod`` for aggregate ``apply()``, as in the Cargo example."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent


class Cargo(Aggregate):
    """The aggregate-level ``apply`` style of the Cargo shipping example."""

    def __init__(self, origin: str) -> None:
        self._origin = origin
        self._destination: str | None = None
        self._route: list[str] = []

    @classmethod
    def new_booking(cls, origin: str) -> Cargo:
        return cls._create(event_class=Cargo.BookingStarted, id=uuid4(), origin=origin)

    class BookingStarted(AggregateCreated["Cargo"]):
        origin: str

    class Event(AggregateEvent["Cargo"]):
        def apply(self, aggregate: Cargo) -> None:
            aggregate.apply(self)

    @singledispatchmethod
    def apply(self, event: Cargo.Event) -> None:
        """
        Default aggregate projection.
        """

    def change_destination(self, destination: str) -> None:
        self.trigger_event(self.DestinationChanged, destination=destination)

    class DestinationChanged(Event):
        destination: str

    @apply.register(DestinationChanged)
    def destination_changed(self, event: DestinationChanged) -> None:
        self._destination = event.destination

    def assign_route(self, route: list[str]) -> None:
        self.trigger_event(self.RouteAssigned, route=route)

    class RouteAssigned(Event):
        route: list[str]

    @apply.register
    def route_assigned(self, event: Cargo.RouteAssigned) -> None:
        # Registered by annotation, which names the class being defined.
        self._route = event.route

    def ping(self) -> None:
        self.trigger_event(self.Pinged)

    class Pinged(Event):
        pass


def test_cargo_style_apply_dispatches_on_event_type() -> None:
    cargo = Cargo.new_booking("HONGKONG")
    cargo.change_destination("DALLAS")
    cargo.assign_route(["HONGKONG", "NEWYORK", "DALLAS"])
    cargo.ping()  # falls back to the default projection
    assert cargo._destination == "DALLAS"
    assert cargo._route == ["HONGKONG", "NEWYORK", "DALLAS"]
    copy: Any = None
    for e in cargo.collect_events():
        copy = e.mutate(copy)
    assert copy == cargo


def test_policy_style_with_explicit_method_argument() -> None:
    class Policies:
        @singledispatchmethod
        def policy(self, event: object) -> str:
            return "default"

        def _on_int(self, event: int) -> str:
            return "int"

        policy.register(int, _on_int)

    assert Policies().policy(1) == "int"
    assert Policies().policy("x") == "default"


def test_annotation_naming_an_undefined_class_fails_clearly_on_use() -> None:
    class Broken:
        @singledispatchmethod
        def handle(self, event: object) -> None:
            pass

        @handle.register
        def _(self, event: NoSuchClass) -> None:  # type: ignore[name-defined]  # noqa: F821  (the point)
            pass

    with pytest.raises(TypeError, match="annotation names an undefined class"):
        Broken().handle(1)
