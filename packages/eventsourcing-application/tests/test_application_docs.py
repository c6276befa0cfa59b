"""The code examples of the application module documentation (section 1.5), as tests.

The ``World``, ``Page`` and ``Index`` aggregates are those of the domain module
documentation (sections 1.4.3 and 1.4.8).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import pytest

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.persistence import (
    Notification,
    RecordConflictError,
    Transcoder,
    Transcoding,
)

# Each test runs on each installed backend, chosen through os.environ.
pytestmark = pytest.mark.usefixtures("backend_environ")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Starts and ends each test without "IS_SNAPSHOTTING_ENABLED", which the
    examples set and delete in os.environ."""
    monkeypatch.delenv("IS_SNAPSHOTTING_ENABLED", raising=False)
    yield
    os.environ.pop("IS_SNAPSHOTTING_ENABLED", None)


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


class Worlds(Application):
    def create_world(self) -> UUID:
        world = World.create()
        self.save(world)
        return world.id

    def make_it_so(self, world_id: UUID, what: str) -> None:
        world = self.repository.get(world_id)
        world.make_it_so(what)
        self.save(world)

    def get_world_history(self, world_id: UUID) -> list[str]:
        world = self.repository.get(world_id)
        return list(world.history)


def make_worlds_with_history() -> tuple[Worlds, UUID]:
    application = Worlds()

    world_id = application.create_world()

    application.make_it_so(world_id, "dinosaurs")
    application.make_it_so(world_id, "trucks")
    application.make_it_so(world_id, "internet")
    return application, world_id


def test_basic_example() -> None:
    application = Worlds()

    world_id = application.create_world()

    application.make_it_so(world_id, "dinosaurs")
    application.make_it_so(world_id, "trucks")
    application.make_it_so(world_id, "internet")

    history = application.get_world_history(world_id)
    assert history[0] == "dinosaurs"
    assert history[1] == "trucks"
    assert history[2] == "internet"


def test_repository() -> None:
    application, world_id = make_worlds_with_history()

    world_latest = application.repository.get(world_id)

    assert world_latest.version == 4
    assert len(world_latest.history) == 3

    world_v1 = application.repository.get(world_id, version=1)

    assert world_v1.version == 1
    assert len(world_v1.history) == 0

    world_v2 = application.repository.get(world_id, version=2)

    assert world_v2.version == 2
    assert len(world_v2.history) == 1
    assert world_v2.history[-1] == "dinosaurs"

    world_v3 = application.repository.get(world_id, version=3)

    assert world_v3.version == 3
    assert len(world_v3.history) == 2
    assert world_v3.history[-1] == "trucks"

    world_v4 = application.repository.get(world_id, version=4)

    assert world_v4.version == 4
    assert len(world_v4.history) == 3
    assert world_v4.history[-1] == "internet"

    world_v5 = application.repository.get(world_id, version=5)

    assert world_v5.version == 4  # There is no version 5.
    assert len(world_v5.history) == 3
    assert world_v5.history[-1] == "internet"


def test_notification_log() -> None:
    application, world_id = make_worlds_with_history()

    section = application.log["1,10"]

    assert len(section.items) == 4
    assert section.id == "1,4"
    assert section.next_id is None

    assert isinstance(section.items[0], Notification)
    assert section.items[0].id == 1
    assert section.items[1].id == 2
    assert section.items[2].id == 3
    assert section.items[3].id == 4

    assert section.items[0].originator_id == world_id
    assert section.items[1].originator_id == world_id
    assert section.items[2].originator_id == world_id
    assert section.items[3].originator_id == world_id

    assert section.items[0].originator_version == 1
    assert section.items[1].originator_version == 2
    assert section.items[2].originator_version == 3
    assert section.items[3].originator_version == 4

    assert "World.Created" in section.items[0].topic
    assert "World.SomethingHappened" in section.items[1].topic
    assert "World.SomethingHappened" in section.items[2].topic
    assert "World.SomethingHappened" in section.items[3].topic

    assert b"dinosaurs" in section.items[1].state
    assert b"trucks" in section.items[2].state
    assert b"internet" in section.items[3].state

    domain_event = application.mapper.to_domain_event(section.items[0])
    assert isinstance(domain_event, World.Created)
    assert domain_event.originator_id == world_id

    domain_event = application.mapper.to_domain_event(section.items[3])
    assert isinstance(domain_event, World.SomethingHappened)
    assert domain_event.originator_id == world_id
    assert domain_event.what == "internet"


def test_snapshotting_is_not_enabled_by_default() -> None:
    application, _ = make_worlds_with_history()
    assert application.snapshots is None


def test_enabling_snapshotting() -> None:
    application = Worlds(env={"IS_SNAPSHOTTING_ENABLED": "y"})
    assert application.snapshots is not None

    os.environ["IS_SNAPSHOTTING_ENABLED"] = "y"

    application = Worlds()

    assert application.snapshots is not None

    del os.environ["IS_SNAPSHOTTING_ENABLED"]

    os.environ["IS_SNAPSHOTTING_ENABLED"] = "y"
    application = Worlds(env={"IS_SNAPSHOTTING_ENABLED": "n"})

    assert application.snapshots is None

    del os.environ["IS_SNAPSHOTTING_ENABLED"]

    class WorldsWithSnapshottingEnabled(Worlds):
        is_snapshotting_enabled = True

    application = WorldsWithSnapshottingEnabled()
    assert application.snapshots is not None

    application = WorldsWithSnapshottingEnabled(env={"IS_SNAPSHOTTING_ENABLED": "n"})
    assert application.snapshots is None

    os.environ["IS_SNAPSHOTTING_ENABLED"] = "n"
    application = WorldsWithSnapshottingEnabled()
    assert application.snapshots is None
    del os.environ["IS_SNAPSHOTTING_ENABLED"]


def test_taking_snapshots() -> None:
    application = Worlds(env={"IS_SNAPSHOTTING_ENABLED": "y"})
    world_id = application.create_world()

    application.make_it_so(world_id, "dinosaurs")
    application.make_it_so(world_id, "trucks")
    application.make_it_so(world_id, "internet")

    application.take_snapshot(world_id)

    assert application.snapshots is not None
    snapshots: Any = application.snapshots.get(world_id, desc=True, limit=1)

    snapshots = list(snapshots)
    assert len(snapshots) == 1, len(snapshots)
    snapshot = snapshots[0]

    assert snapshot.originator_id == world_id
    assert snapshot.originator_version == 4


class WorldsWithAutomaticSnapshotting(Worlds):
    snapshotting_intervals = {World: 2}


def test_automatic_snapshotting() -> None:
    application = WorldsWithAutomaticSnapshotting()

    world_id = application.create_world()

    application.make_it_so(world_id, "dinosaurs")
    application.make_it_so(world_id, "trucks")
    application.make_it_so(world_id, "internet")

    assert application.snapshots is not None
    snapshots: Any = application.snapshots.get(world_id)
    snapshots = list(snapshots)

    assert len(snapshots) == 2

    assert snapshots[0].originator_id == world_id
    assert snapshots[0].originator_version == 2

    assert snapshots[1].originator_id == world_id
    assert snapshots[1].originator_version == 4


class MyApplication(Application):
    def register_transcodings(self, transcoder: Transcoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, o: date) -> str:
        return o.isoformat()

    def decode(self, d: str | dict[str, Any]) -> date:
        assert isinstance(d, str)
        return date.fromisoformat(d)


class Holiday(Aggregate):
    """An aggregate whose events carry a date, to exercise the custom transcoding."""

    def __init__(self, on: date) -> None:
        self.on = on

    @classmethod
    def book(cls, on: date) -> Holiday:
        return cls._create(cls.Booked, id=uuid4(), on=on)

    class Booked(AggregateCreated["Holiday"]):
        on: date


def test_registering_custom_transcodings() -> None:
    application = MyApplication()
    holiday = Holiday.book(on=date(2021, 12, 25))
    application.save(holiday)

    copy = application.repository.get(holiday.id)
    assert copy.on == date(2021, 12, 25)
    section = application.log["1,1"]
    assert b"2021-12-25" in section.items[0].state


class Page(Aggregate):
    def __init__(self, name: str, body: str) -> None:
        self.name = name
        self.body = body

    @classmethod
    def create(cls, name: str, body: str = "") -> Page:
        return cls._create(id=uuid4(), event_class=cls.Created, name=name, body=body)

    class Created(AggregateCreated["Page"]):
        name: str
        body: str

    def update_name(self, name: str) -> None:
        self.trigger_event(self.NameUpdated, name=name)

    class NameUpdated(AggregateEvent["Page"]):
        name: str

        def apply(self, page: Page) -> None:
            page.name = self.name


class Index(Aggregate):
    def __init__(self, name: str, ref: UUID) -> None:
        self.name = name
        self.ref: UUID | None = ref

    @classmethod
    def create(cls, page: Page) -> Index:
        return cls._create(
            event_class=cls.Created,
            id=cls.create_id(page.name),
            name=page.name,
            ref=page.id,
        )

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/pages/{name}")

    class Created(AggregateCreated["Index"]):
        name: str
        ref: UUID

    def update_ref(self, ref: UUID | None) -> None:
        self.trigger_event(self.RefUpdated, ref=ref)

    class RefUpdated(AggregateEvent["Index"]):
        ref: UUID | None

        def apply(self, index: Index) -> None:
            index.ref = self.ref


class Wiki(Application):
    def create_page(self, name: str, body: str) -> None:
        page = Page.create(name, body)
        index = Index.create(page)
        self.save(page, index)

    def rename_page(self, name: str, new_name: str) -> str:
        page = self.get_page(name)
        page.update_name(new_name)
        index = Index.create(page)
        self.save(page, index)
        return page.body

    def get_page(self, name: str) -> Page:
        index_id = Index.create_id(name)
        index = self.repository.get(index_id)
        page_id = index.ref
        page: Page = self.repository.get(page_id)
        return page


def test_saving_multiple_aggregates() -> None:
    wiki = Wiki()

    wiki.create_page(name="Erth", body="Lorem ipsum...")

    assert wiki.get_page(name="Erth").body == "Lorem ipsum..."

    wiki.rename_page(name="Erth", new_name="Earth")

    assert wiki.get_page(name="Earth").body == "Lorem ipsum..."

    # Can't create another page using an existing name.
    try:
        wiki.create_page(name="Earth", body="Neque porro quisquam...")
    except RecordConflictError:
        pass
    else:
        raise AssertionError("RecordConflictError not raised")

    assert wiki.get_page(name="Earth").body == "Lorem ipsum..."

    # Can't rename another page to an existing name.
    wiki.create_page(name="Mars", body="Neque porro quisquam...")
    try:
        wiki.rename_page(name="Mars", new_name="Earth")
    except RecordConflictError:
        pass
    else:
        raise AssertionError("RecordConflictError not raised")

    assert wiki.get_page(name="Earth").body == "Lorem ipsum..."
    assert wiki.get_page(name="Mars").body == "Neque porro quisquam..."
