"""The documentation's system of section 1.7 on every installed backend, with both
runners, each application keeping its own tables in the one database."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import pytest
from harness import installed_backends, outlives_process

from eventsourcing.application import AggregateNotFound, Application
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.system import (
    MultiThreadedRunner,
    ProcessApplication,
    ProcessEvent,
    Runner,
    SingleThreadedRunner,
    System,
)


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


def settle(runner: Runner) -> None:
    if isinstance(runner, MultiThreadedRunner):
        runner.wait(timeout=30)


@pytest.fixture(params=[SingleThreadedRunner, MultiThreadedRunner])
def runner_cls(request: pytest.FixtureRequest) -> type[Runner]:
    cls: type[Runner] = request.param
    return cls


def test_counters_count_what_the_worlds_make_so(
    backend_env: dict[str, str], runner_cls: type[Runner]
) -> None:
    system = System(pipes=[[WorldsApplication, Counters]])
    runner = runner_cls(system, env=backend_env)
    runner.start()
    try:
        worlds = runner.get(WorldsApplication)
        counters = runner.get(Counters)
        world_ids = [worlds.create_world() for _ in range(3)]
        for world_id in world_ids:
            worlds.make_it_so(world_id, "dinosaurs")
        for world_id in world_ids[:2]:
            worlds.make_it_so(world_id, "trucks")
        worlds.make_it_so(world_ids[0], "internet")
        settle(runner)
        assert counters.get_count("dinosaurs") == 3
        assert counters.get_count("trucks") == 2
        assert counters.get_count("internet") == 1
        assert counters.get_count("satellites") == 0
    finally:
        runner.stop()


# Only what outlives the process is there to resume from (each backend says).
@pytest.mark.parametrize(
    "backend", [b for b in installed_backends() if outlives_process(b)]
)
def test_a_restarted_system_resumes_after_its_last_recorded_position(
    backend_env: dict[str, str], runner_cls: type[Runner]
) -> None:
    system = System(pipes=[[WorldsApplication, Counters]])
    first = runner_cls(system, env=backend_env)
    first.start()
    worlds = first.get(WorldsApplication)
    world_id = worlds.create_world()
    worlds.make_it_so(world_id, "dinosaurs")
    settle(first)
    first.stop()

    # The leader records more while the follower is not running.
    WorldsApplication(env=backend_env).make_it_so(world_id, "trucks")

    second = runner_cls(system, env=backend_env)
    second.start()
    try:
        settle(second)
        counters = second.get(Counters)
        assert counters.get_count("dinosaurs") == 1
        assert counters.get_count("trucks") == 1
        factory = InfrastructureFactory.construct("Counters", backend_env)
        recorder = factory.process_recorder()
        assert recorder.max_tracking_id("WorldsApplication") == 3
    finally:
        second.stop()


def test_each_application_can_encrypt_with_its_own_key(
    backend_env: dict[str, str],
) -> None:
    # The follower reads its leader's log with the leader's key, and records its
    # own events with its own key.
    from eventsourcing.cipher import AESCipher

    env = {
        **backend_env,
        "CIPHER_TOPIC": "aes",
        "WORLDSAPPLICATION_CIPHER_KEY": AESCipher.create_key(16),
        "COUNTERS_CIPHER_KEY": AESCipher.create_key(32),
    }
    runner = SingleThreadedRunner(System(pipes=[[WorldsApplication, Counters]]), env)
    runner.start()
    try:
        worlds = runner.get(WorldsApplication)
        worlds.make_it_so(worlds.create_world(), "dinosaurs")
        assert runner.get(Counters).get_count("dinosaurs") == 1
        assert runner.get(Counters).mapper.cipher is not worlds.mapper.cipher
    finally:
        runner.stop()
    stored = worlds.log["1,10"].items[-1]
    assert b"dinosaurs" not in stored.state
    assert isinstance(worlds.mapper.to_domain_event(stored), World.SomethingHappened)
    wrong_key = {**env, "WORLDSAPPLICATION_CIPHER_KEY": env["COUNTERS_CIPHER_KEY"]}
    factory = InfrastructureFactory.construct("WorldsApplication", wrong_key)
    mapper = factory.mapper(transcoder=worlds.construct_transcoder())
    with pytest.raises(ValueError, match="decrypt"):
        mapper.to_domain_event(stored)
