"""A notification log served as JSON and read back, installed alone."""

from uuid import uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.interface import (
    NotificationLogJSONClient,
    NotificationLogJSONService,
)


class Dog(Aggregate):
    pass


app = Application()
app.save(*(Dog._create(Dog.Created, id=uuid4()) for _ in range(3)))
client = NotificationLogJSONClient(NotificationLogJSONService(app))
section = client["1,10"]
assert [n.id for n in section.items] == [1, 2, 3]
print("ok: read", len(section.items), "notifications through the JSON interface")
