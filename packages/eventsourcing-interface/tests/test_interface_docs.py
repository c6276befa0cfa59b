"""Section 1.8 of the documentation has no code example, only the class
reference; this walks through each documented class and method as a reader of
that reference would use them."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

from eventsourcing.application import Application, Section
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.interface import (
    NotificationLogInterface,
    NotificationLogJSONClient,
    NotificationLogJSONService,
)
from eventsourcing.persistence import Notification


class World(Aggregate):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.history: list[str] = []

    @classmethod
    def create(cls) -> World:
        world: World = cls._create(event_class=cls.Created, id=uuid4())
        return world

    class Created(AggregateCreated["World"]):
        pass

    def make_it_so(self, what: str) -> None:
        self.trigger_event(self.SomethingHappened, what=what)

    class SomethingHappened(AggregateEvent["World"]):
        what: str

        def apply(self, world: World) -> None:
            world.history.append(self.what)


class Worlds(Application):
    def create_world(self) -> Any:
        world = World.create()
        self.save(world)
        return world.id

    def make_it_so(self, world_id: Any, what: str) -> None:
        world = self.repository.get(world_id)
        world.make_it_so(what)
        self.save(world)


def test_notification_log_json_service_and_client() -> None:
    application = Worlds()
    world_id = application.create_world()
    application.make_it_so(world_id, "dinosaurs")
    application.make_it_so(world_id, "trucks")
    application.make_it_so(world_id, "internet")

    # NotificationLogJSONService presents serialised sections of the log.
    service = NotificationLogJSONService(application)
    assert isinstance(service, NotificationLogInterface)

    section_json = service.get_log_section("1,10")
    assert json.loads(section_json)["id"] == "1,4"

    notifications_json = service.get_notifications(start=2, limit=2)
    assert [n["id"] for n in json.loads(notifications_json)] == [2, 3]

    # NotificationLogJSONClient presents the deserialised sections.
    client = NotificationLogJSONClient(service)

    section = client["1,10"]
    assert isinstance(section, Section)
    assert section.id == "1,4"
    assert section.next_id is None
    assert len(section.items) == 4
    assert isinstance(section.items[0], Notification)
    assert section.items[0].originator_id == world_id
    assert b"dinosaurs" in section.items[1].state

    notifications = client.select(start=2, limit=2)
    assert [n.id for n in notifications] == [2, 3]

    domain_event = application.mapper.to_domain_event(section.items[3])
    assert isinstance(domain_event, World.SomethingHappened)
    assert domain_event.what == "internet"
