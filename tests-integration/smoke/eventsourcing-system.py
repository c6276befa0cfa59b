"""A leader and a process application in a system, and a projection of the
leader's events into a view in memory, installed alone."""

from uuid import NAMESPACE_URL, uuid4, uuid5

from eventsourcing.application import AggregateNotFound, Application
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.popo import POPOTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from eventsourcing.system import ProcessApplication, SingleThreadedRunner, System


class World(Aggregate):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.history = []

    @classmethod
    def create(cls):
        return cls._create(event_class=cls.Created, id=uuid4())

    class Created(AggregateCreated):
        pass

    def make_it_so(self, what):
        self.trigger_event(self.SomethingHappened, what=what)

    class SomethingHappened(AggregateEvent):
        what: str

        def apply(self, world):
            world.history.append(self.what)


class WorldsApplication(Application):
    def create_world(self):
        world = World.create()
        self.save(world)
        return world.id

    def make_it_so(self, world_id, what):
        world = self.repository.get(world_id)
        world.make_it_so(what)
        self.save(world)


class Counter(Aggregate):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.count = 0

    @classmethod
    def create_id(cls, name):
        return uuid5(NAMESPACE_URL, f"/counters/{name}/")

    @classmethod
    def create(cls, name):
        return cls._create(event_class=cls.Created, id=cls.create_id(name))

    class Created(AggregateCreated):
        pass

    def increment(self):
        self.trigger_event(self.Incremented)

    class Incremented(AggregateEvent):
        def apply(self, counter):
            counter.count += 1


class Counters(ProcessApplication):
    @singledispatchmethod
    def policy(self, domain_event, process_event):
        """Default policy"""

    @policy.register(World.SomethingHappened)
    def _(self, domain_event, process_event):
        counter_id = Counter.create_id(domain_event.what)
        try:
            counter = self.repository.get(counter_id)
        except AggregateNotFound:
            counter = Counter.create(domain_event.what)
        counter.increment()
        process_event.save(counter)

    def get_count(self, what):
        try:
            return self.repository.get(Counter.create_id(what)).count
        except AggregateNotFound:
            return 0


runner = SingleThreadedRunner(System(pipes=[[WorldsApplication, Counters]]))
runner.start()
worlds = runner.get(WorldsApplication)
counters = runner.get(Counters)
world_ids = [worlds.create_world() for _ in range(3)]
for world_id in world_ids:
    worlds.make_it_so(world_id, "dinosaurs")
assert counters.get_count("dinosaurs") == 3
runner.stop()


class Happenings(Projection):
    topics = (World.SomethingHappened,)

    def process_event(self, domain_event, tracking):
        with self.view.transaction():
            self.view.table("what")[tracking.notification_id] = domain_event.what


with ProjectionRunner(WorldsApplication, Happenings, POPOTrackingRecorder) as runner:
    worlds = runner.app
    world_id = worlds.create_world()
    worlds.make_it_so(world_id, "trucks")
    runner.wait(worlds.recorder.max_notification_id(), timeout=5)
    assert list(runner.view.table("what").values()) == ["trucks"]
print("ok: system counted 3 dinosaurs, and a projection saw the trucks")
