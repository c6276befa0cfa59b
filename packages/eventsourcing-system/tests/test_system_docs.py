"""The code examples of the documentation's system module page (1.7), run with
the default (POPO) persistence and, through environment variables, with SQLite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from time import sleep
from typing import Any
from uuid import NAMESPACE_URL, uuid4, uuid5

import pytest

from eventsourcing.application import AggregateNotFound, Application
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.system import (
    MultiThreadedRunner,
    ProcessApplication,
    SingleThreadedRunner,
    System,
)

# The examples are untyped documentation code.
# mypy: disable-error-code="no-untyped-def,no-untyped-call,misc,type-arg"
# mypy: disable-error-code="no-redef,attr-defined"


class World(Aggregate):
    def __init__(self, **kwargs):
        super(World, self).__init__(**kwargs)  # noqa: UP008 (as documented)
        self.history = []

    @classmethod
    def create(cls):
        return cls._create(
            event_class=cls.Created,
            id=uuid4(),
        )

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

    def get_world_history(self, world_id):
        world = self.repository.get(world_id)
        return list(world.history)


class Counter(Aggregate):
    def __init__(self, **kwargs):
        super(Counter, self).__init__(**kwargs)  # noqa: UP008 (as documented)
        self.count = 0

    @classmethod
    def create_id(cls, name):
        return uuid5(NAMESPACE_URL, f"/counters/{name}/")

    @classmethod
    def create(cls, name):
        return cls._create(
            event_class=cls.Created,
            id=cls.create_id(name),
        )

    class Created(AggregateCreated):
        pass

    def increment(self):
        self.trigger_event(self.Incremented)

    class Incremented(AggregateEvent):
        def apply(self, counter):
            counter.count += 1


class Counters(ProcessApplication):
    def policy(self, domain_event, process_event):
        pass

    @singledispatchmethod
    def policy(self, domain_event, process_event):  # noqa: F811 (as documented)
        """Default policy"""

    @policy.register(World.SomethingHappened)
    def _(self, domain_event, process_event):
        what = domain_event.what
        counter_id = Counter.create_id(what)
        try:
            counter = self.repository.get(counter_id)
        except AggregateNotFound:
            counter = Counter.create(what)
        counter.increment()
        process_event.save(counter)

    def get_count(self, what):
        counter_id = Counter.create_id(what)
        try:
            counter = self.repository.get(counter_id)
        except AggregateNotFound:
            return 0
        return counter.count


@pytest.fixture(params=["popo", "sqlite"])
def persistence(request: Any, tmp_path: Path) -> Iterator[str]:
    """Runs each example with the default persistence and with SQLite, configured
    through the operating system environment as the documentation describes."""
    saved = dict(os.environ)
    if request.param == "sqlite":
        os.environ["INFRASTRUCTURE_FACTORY"] = "eventsourcing.sqlite:Factory"
        os.environ["SQLITE_DBNAME"] = str(tmp_path / "system.db")
    try:
        yield request.param
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_system_definition(persistence: str) -> None:
    system = System(pipes=[[WorldsApplication, Counters]])

    assert system.leads == {"WorldsApplication": ["Counters"]}
    assert system.follows == {"Counters": ["WorldsApplication"]}


def test_single_threaded_runner(persistence: str) -> None:
    system = System(pipes=[[WorldsApplication, Counters]])

    runner = SingleThreadedRunner(system)
    runner.start()
    worlds = runner.get(WorldsApplication)
    counters = runner.get(Counters)

    world_id1 = worlds.create_world()
    world_id2 = worlds.create_world()
    world_id3 = worlds.create_world()

    assert counters.get_count("dinosaurs") == 0
    assert counters.get_count("trucks") == 0
    assert counters.get_count("internet") == 0

    worlds.make_it_so(world_id1, "dinosaurs")
    worlds.make_it_so(world_id2, "dinosaurs")
    worlds.make_it_so(world_id3, "dinosaurs")

    assert counters.get_count("dinosaurs") == 3
    assert counters.get_count("trucks") == 0
    assert counters.get_count("internet") == 0

    worlds.make_it_so(world_id1, "trucks")
    worlds.make_it_so(world_id2, "trucks")

    assert counters.get_count("dinosaurs") == 3
    assert counters.get_count("trucks") == 2
    assert counters.get_count("internet") == 0

    worlds.make_it_so(world_id1, "internet")

    assert counters.get_count("dinosaurs") == 3
    assert counters.get_count("trucks") == 2
    assert counters.get_count("internet") == 1

    runner.stop()


def test_multi_threaded_runner(persistence: str) -> None:
    system = System(pipes=[[WorldsApplication, Counters]])

    runner = MultiThreadedRunner(system)
    runner.start()
    try:
        worlds = runner.get(WorldsApplication)
        counters = runner.get(Counters)

        world_id1 = worlds.create_world()
        world_id2 = worlds.create_world()
        world_id3 = worlds.create_world()

        worlds.make_it_so(world_id1, "dinosaurs")
        worlds.make_it_so(world_id2, "dinosaurs")
        worlds.make_it_so(world_id3, "dinosaurs")

        worlds.make_it_so(world_id1, "trucks")
        worlds.make_it_so(world_id2, "trucks")

        worlds.make_it_so(world_id1, "internet")

        sleep(0.01)
        # Not in the documentation: the sleep is enough on an idle machine, and
        # waiting for the follower to catch up keeps the test exact under load.
        runner.wait()

        assert counters.get_count("dinosaurs") == 3
        assert counters.get_count("trucks") == 2
        assert counters.get_count("internet") == 1
    finally:
        runner.stop()
