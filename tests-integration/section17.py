"""The system of the documentation's section 1.7 (``WorldsApplication`` followed
by ``Counters``), importable by topic (``section17:system``) so that workers in
processes of their own can run it."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFound, Application
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.system import ProcessApplication, ProcessEvent, System


class World(Aggregate):
    def __init__(self) -> None:
        self.history: list[str] = []

    @classmethod
    def create(cls) -> World:
        return cls._create(event_class=cls.Created, id=uuid4())

    class Created(AggregateCreated["World"]):
        pass

    def make_it_so(self, what: str) -> None:
        self.trigger_event(self.SomethingHappened, what=what)

    class SomethingHappened(AggregateEvent["World"]):
        what: str

        def apply(self, world: World) -> None:
            world.history.append(self.what)


class WorldsApplication(Application):
    def create_world(self) -> UUID:
        world = World.create()
        self.save(world)
        return world.id

    def make_it_so(self, world_id: UUID, what: str) -> None:
        world = self.repository.get(world_id)
        world.make_it_so(what)
        self.save(world)


class Counter(Aggregate):
    def __init__(self) -> None:
        self.count = 0

    @classmethod
    def create_id(cls, name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/counters/{name}/")

    @classmethod
    def create(cls, name: str) -> Counter:
        return cls._create(event_class=cls.Created, id=cls.create_id(name))

    class Created(AggregateCreated["Counter"]):
        pass

    def increment(self) -> None:
        self.trigger_event(self.Incremented)

    class Incremented(AggregateEvent["Counter"]):
        def apply(self, counter: Counter) -> None:
            counter.count += 1


class Counters(ProcessApplication):
    @singledispatchmethod
    def policy(self, domain_event: object, process_event: ProcessEvent) -> None:
        """Default policy"""

    @policy.register(World.SomethingHappened)
    def _(
        self, domain_event: World.SomethingHappened, process_event: ProcessEvent
    ) -> None:
        counter_id = Counter.create_id(domain_event.what)
        try:
            counter = self.repository.get(counter_id)
        except AggregateNotFound:
            counter = Counter.create(domain_event.what)
        counter.increment()
        process_event.save(counter)

    def get_count(self, what: str) -> int:
        try:
            count: int = self.repository.get(Counter.create_id(what)).count
        except AggregateNotFound:
            return 0
        return count


system = System(pipes=[[WorldsApplication, Counters]])
