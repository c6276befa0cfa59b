"""The documentation's Worlds application, installed alone."""

from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent


class World(Aggregate):
    def __init__(self):
        self.history = []

    @classmethod
    def create(cls):
        return cls._create(cls.Created, id=uuid4())

    class Created(AggregateCreated):
        pass

    def make_it_so(self, what):
        self.trigger_event(self.SomethingHappened, what=what)

    class SomethingHappened(AggregateEvent):
        what: str

        def apply(self, world):
            world.history.append(self.what)


class Worlds(Application):
    def create_world(self) -> UUID:
        world = World.create()
        self.save(world)
        return world.id

    def make_it_so(self, world_id: UUID, what: str):
        world = self.repository.get(world_id)
        world.make_it_so(what)
        self.save(world)

    def get_world_history(self, world_id: UUID) -> list[str]:
        world = self.repository.get(world_id)
        return list(world.history)


application = Worlds()
world_id = application.create_world()
for what in ("dinosaurs", "trucks", "internet"):
    application.make_it_so(world_id, what)
assert application.get_world_history(world_id) == ["dinosaurs", "trucks", "internet"]
assert len(application.log["1,10"].items) == 4
print("ok: Worlds application on popo")
