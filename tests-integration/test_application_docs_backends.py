"""The documentation's examples that configure other infrastructure (sections 1.5.7
and 1.5.9): SQLite persistence, and encryption with compression."""

from __future__ import annotations

import os
from collections.abc import Iterator
from tempfile import NamedTemporaryFile
from uuid import UUID, uuid4

import pytest

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent

EXAMPLE_ENV_KEYS = (
    "INFRASTRUCTURE_FACTORY",
    "SQLITE_DBNAME",
    "CREATE_TABLE",
    "CIPHER_KEY",
    "CIPHER_TOPIC",
    "COMPRESSOR_TOPIC",
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in EXAMPLE_ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    yield
    for key in EXAMPLE_ENV_KEYS:
        os.environ.pop(key, None)


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


def test_configuring_persistence_sqlite() -> None:
    with NamedTemporaryFile(suffix="_eventsourcing_test.db") as tmpfile:
        tmpfile.name

        os.environ["INFRASTRUCTURE_FACTORY"] = "eventsourcing.sqlite:Factory"
        os.environ["SQLITE_DBNAME"] = tmpfile.name
        application = Worlds()

        world_id = application.create_world()

        application.make_it_so(world_id, "dinosaurs")
        application.make_it_so(world_id, "trucks")
        application.make_it_so(world_id, "internet")

        os.environ["INFRASTRUCTURE_FACTORY"] = "eventsourcing.sqlite:Factory"
        os.environ["CREATE_TABLE"] = "n"

        application = Worlds()

        history = application.get_world_history(world_id)
        assert history[0] == "dinosaurs"
        assert history[1] == "trucks"
        assert history[2] == "internet"


def test_encryption_and_compression() -> None:
    from eventsourcing.cipher import AESCipher

    # Generate a cipher key (keep this safe).
    cipher_key = AESCipher.create_key(num_bytes=32)

    # Configure cipher key.
    os.environ["CIPHER_KEY"] = cipher_key

    # Configure cipher topic.
    os.environ["CIPHER_TOPIC"] = "eventsourcing.cipher:AESCipher"

    # Configure compressor topic.
    os.environ["COMPRESSOR_TOPIC"] = "eventsourcing.compressor:ZlibCompressor"

    # Continues the example: the application's stored state is now unreadable,
    # while the application works as before.
    application = Worlds()
    world_id = application.create_world()
    application.make_it_so(world_id, "dinosaurs")

    assert application.get_world_history(world_id) == ["dinosaurs"]
    section = application.log["1,10"]
    assert len(section.items) == 2
    assert b"dinosaurs" not in section.items[1].state
    domain_event = application.mapper.to_domain_event(section.items[1])
    assert isinstance(domain_event, World.SomethingHappened)
    assert domain_event.what == "dinosaurs"
