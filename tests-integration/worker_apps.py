"""Applications run by worker processes in the tests (importable by topic,
``worker_apps:system``, with ``tests-integration`` on the path).

``Items`` is the leader: each item is created, then touched, so that each has
several events in order. ``Results`` follows it in four partitions and, for
every notification it processes, records a new ``Result`` that names the
notification, the item and its version, and the process that did it, so that a
test can count the results of each notification and check their order.
"""

from __future__ import annotations

import os
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.system import ProcessApplication, ProcessEvent, System


class Item(Aggregate):
    @classmethod
    def create(cls) -> Item:
        item: Item = cls._create(event_class=cls.Created, id=uuid4())
        return item

    class Created(AggregateCreated["Item"]):
        pass

    def touch(self) -> None:
        self.trigger_event(self.Touched)

    class Touched(AggregateEvent["Item"]):
        pass


class Items(Application):
    def add(self, touches: int) -> UUID:
        item = Item.create()
        self.save(item)
        for _ in range(touches):
            item.touch()
            self.save(item)
        return item.id


class Result(Aggregate):
    def __init__(
        self, notification_id: int, item_id: UUID, item_version: int, pid: int
    ) -> None:
        self.notification_id = notification_id
        self.item_id = item_id
        self.item_version = item_version
        self.pid = pid


class Results(ProcessApplication):
    partitions = 4

    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        assert process_event.tracking is not None
        process_event.save(
            Result(
                process_event.tracking.notification_id,
                domain_event.originator_id,
                domain_event.originator_version,
                os.getpid(),
            )
        )


system = System(pipes=[[Items, Results]])
