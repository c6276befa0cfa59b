"""User code in the documented style, with type hints: mypy --strict checks this module.

Nothing here needs a ``cast`` or ``type: ignore``: that is the point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import (
    Aggregate,
    AggregateCreated,
    AggregateEvent,
    Snapshot,
    event,
    triggers,
)


class World(Aggregate):
    def __init__(self) -> None:
        self.history: list[str] = []

    @classmethod
    def create(cls) -> World:
        return cls._create(cls.Created, id=uuid4())

    class Created(AggregateCreated["World"]):
        pass

    def make_it_so(self, what: str) -> None:
        self.trigger_event(self.SomethingHappened, what=what)

    class SomethingHappened(AggregateEvent["World"]):
        what: str

        def apply(self, world: World) -> None:
            world.history.append(self.what)


@dataclass
class Page(Aggregate):
    name: str
    body: str = ""
    tags: list[str] = field(default_factory=list, init=False)

    @event("NameUpdated")
    def update_name(self, name: str) -> None:
        self.name = name

    @triggers
    def tag_added(self, tag: str) -> None:
        self.tags.append(tag)

    @property
    def title(self) -> str:
        return self.name.title()

    @title.setter
    @event("TitleChanged")
    def title(self, title: str) -> None:
        self.name = title.lower()


class Index(Aggregate, created_event_name="Started"):
    name: str
    ref: UUID | None

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/pages/{name}")

    @event
    def ref_updated(self, ref: UUID | None) -> None:
        self.ref = ref


class Counter(Aggregate):
    id: UUID
    count: int = 0

    class Incremented(Aggregate.Event):
        by: int

    @event(Incremented)
    def increment(self, by: int = 1) -> None:
        self.count += by


class Order(Aggregate):
    def __init__(self, name: str) -> None:
        self.name = name
        self.confirmed_at: datetime | None = None

    @event("Confirmed")
    def confirm(self, at: datetime) -> None:
        self.confirmed_at = at


class Shipment(Aggregate):
    def __init__(self) -> None:
        self.port = ""

    class Event(AggregateEvent["Shipment"]):
        def apply(self, aggregate: Shipment) -> None:
            aggregate.apply(self)

    @singledispatchmethod
    def apply(self, event: Shipment.Event) -> None:
        """Default projection."""

    class Arrived(Event):
        port: str

    @apply.register(Arrived)
    def arrived(self, event: Arrived) -> None:
        self.port = event.port

    def arrive(self, port: str) -> None:
        self.trigger_event(self.Arrived, port=port)


def test_typed_user_code_runs() -> None:
    world = World.create()
    world.make_it_so("dinosaurs")
    snapshot = Snapshot.take(world)
    copy: World = snapshot.mutate()
    assert copy.history == ["dinosaurs"]

    page = Page(name="erth")
    page.update_name("earth")
    page.tag_added("planet")
    page.title = "Earth"
    assert (page.name, page.title, page.tags) == ("earth", "Earth", ["planet"])

    index = Index(name=page.name, ref=page.id)
    index.ref_updated(None)
    assert index.id == Index.create_id("earth")
    assert index.ref is None

    counter = Counter(id=uuid4())
    counter.increment()
    counter.increment(by=2)
    assert counter.count == 3

    order = Order("o")
    order.confirm(datetime.now())
    assert order.confirmed_at is not None

    shipment = Shipment()
    shipment.arrive("DALLAS")
    assert shipment.port == "DALLAS"

    events: list[AggregateEvent[World]] = world.collect_events()
    rebuilt: World | None = None
    for e in events:
        rebuilt = e.mutate(rebuilt)
    assert rebuilt is not None
    assert rebuilt.history == world.history
