"""The documentation's World aggregate, with only the domain installed."""

from datetime import datetime
from uuid import uuid4

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


world = World.create()
assert world.created_on == world.modified_on
assert isinstance(world.created_on, datetime)
for what in ("dinosaurs", "trucks", "internet"):
    world.make_it_so(what)
assert world.history == ["dinosaurs", "trucks", "internet"]
assert world.modified_on > world.created_on
pending = world.collect_events()
assert len(pending) == 4
assert world.pending_events == []
assert pending[3].timestamp == world.modified_on
print("ok: World has", len(world.history), "things in its history")
