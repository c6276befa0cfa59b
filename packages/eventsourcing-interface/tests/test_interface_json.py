"""The JSON notification log service and client, connected directly."""

from __future__ import annotations

import json
from base64 import b64decode
from typing import Any
from uuid import UUID, uuid4

import pytest

from eventsourcing.application import Application
from eventsourcing.cipher import AESCipher
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.interface import (
    NotificationLogInterface,
    NotificationLogJSONClient,
    NotificationLogJSONService,
    notification_from_dict,
    notification_to_dict,
)
from eventsourcing.persistence import Notification
from eventsourcing.system import NotificationLogReader, ProcessApplication, ProcessEvent


class Note(Aggregate):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = ""

    @classmethod
    def create(cls, text: str) -> Note:
        note: Note = cls._create(event_class=cls.Created, id=uuid4())
        note.write(text)
        return note

    class Created(AggregateCreated["Note"]):
        pass

    def write(self, text: str) -> None:
        self.trigger_event(self.Written, text=text)

    class Written(AggregateEvent["Note"]):
        text: str

        def apply(self, note: Note) -> None:
            note.text = self.text


class Notes(Application):
    def add(self, text: str) -> UUID:
        note = Note.create(text)
        self.save(note)
        return note.id


class Copier(ProcessApplication):
    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        if isinstance(domain_event, Note.Written):
            process_event.save(Note.create(domain_event.text.upper()))


def make_notes(count: int, env: dict[str, str] | None = None) -> Notes:
    notes = Notes(env=env)
    for i in range(count):
        notes.add(f"note {i}")
    return notes


def test_section_round_trips_through_json() -> None:
    notes = make_notes(3)
    client = NotificationLogJSONClient(NotificationLogJSONService(notes))

    section = client["1,4"]

    assert section == notes.log["1,4"]
    assert section.id == "1,4"
    assert section.next_id == "5,8"
    assert client["7,10"].next_id is None
    assert client["7,10"].items == notes.log["7,10"].items


def test_empty_section_round_trips_through_json() -> None:
    client = NotificationLogJSONClient(NotificationLogJSONService(Notes()))

    section = client["1,10"]

    assert section.id is None
    assert section.items == []
    assert section.next_id is None


def test_selection_round_trips_through_json() -> None:
    notes = make_notes(3)
    client = NotificationLogJSONClient(NotificationLogJSONService(notes))

    assert client.select(2, 3) == notes.log.select(2, 3)
    assert client.select(7, 10) == notes.log.select(7, 10)
    assert client.select(100, 10) == []


def test_json_has_plain_fields_and_base64_state() -> None:
    notes = make_notes(1)
    service = NotificationLogJSONService(notes)

    data = json.loads(service.get_log_section("1,10"))
    items = json.loads(service.get_notifications(1, 10))

    assert data["items"] == items
    item = items[1]
    assert set(item) == {"id", "originator_id", "originator_version", "topic", "state"}
    assert item["id"] == 2
    assert UUID(item["originator_id"]) == notes.log.select(1, 1)[0].originator_id
    assert item["originator_version"] == 2
    assert item["topic"].endswith("Note.Written")
    assert b"note 0" in b64decode(item["state"])


def test_encrypted_states_travel_as_stored() -> None:
    env = {
        "CIPHER_TOPIC": "eventsourcing.cipher:AESCipher",
        "CIPHER_KEY": AESCipher.create_key(num_bytes=32),
    }
    notes = make_notes(2, env=env)
    service = NotificationLogJSONService(notes)

    items = json.loads(service.get_notifications(1, 10))

    stored = notes.log.select(1, 10)
    assert [b64decode(item["state"]) for item in items] == [n.state for n in stored]
    assert not any(b"note" in b64decode(item["state"]) for item in items)

    # A follower with the same key processes them.
    copier = Copier(env=env)
    copier.follow("Notes", NotificationLogJSONClient(service))
    copier.pull_and_process("Notes")
    assert copier.recorder.max_tracking_id("Notes") == 4


def test_follower_follows_a_json_client() -> None:
    notes = make_notes(12)
    copier = Copier()
    copier.follow("Notes", NotificationLogJSONClient(NotificationLogJSONService(notes)))

    copier.pull_and_process("Notes")

    assert copier.recorder.max_tracking_id("Notes") == 24
    assert copier.recorder.max_notification_id() == 24


def test_reader_reads_sections_through_a_json_client() -> None:
    notes = make_notes(12)
    client = NotificationLogJSONClient(NotificationLogJSONService(notes))

    ids = [n.id for n in NotificationLogReader(client, section_size=5).read(start=3)]

    assert ids == list(range(3, 25))


@pytest.mark.parametrize("section_id", ["", "1", "a,b", "1,2,3", "10,1"])
def test_service_rejects_malformed_section_ids(section_id: str) -> None:
    service = NotificationLogJSONService(make_notes(1))
    with pytest.raises(ValueError, match="Invalid section ID"):
        service.get_log_section(section_id)


@pytest.mark.parametrize(("start", "limit"), [(0, 1), (1, 0), (-1, 5), (True, 5)])
def test_service_rejects_selections_without_positive_integers(
    start: int, limit: int
) -> None:
    service = NotificationLogJSONService(make_notes(1))
    with pytest.raises(ValueError, match="must be an integer of at least 1"):
        service.get_notifications(start, limit)


class Canned(NotificationLogInterface):
    def __init__(self, text: str) -> None:
        self.text = text

    def get_log_section(self, section_id: str) -> str:
        return self.text

    def get_notifications(self, start: int, limit: int) -> str:
        return self.text


GOOD_ITEM = {
    "id": 1,
    "originator_id": str(uuid4()),
    "originator_version": 1,
    "topic": "a:B",
    "state": "e30=",
}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "Invalid notification log JSON"),
        ("[]", "Invalid notification log section JSON"),
        ('{"id": null, "next_id": null}', "Invalid notification log section JSON"),
        ('{"id": 1, "items": [], "next_id": null}', "Invalid notification log section"),
        ('{"id": null, "items": [{}], "next_id": null}', "Invalid notification in"),
    ],
)
def test_client_rejects_malformed_sections(text: str, message: str) -> None:
    client = NotificationLogJSONClient(Canned(text))
    with pytest.raises(ValueError, match=message):
        client["1,10"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{}", "Expected a list"),
        ("[1]", "Invalid notification in"),
        (json.dumps([{**GOOD_ITEM, "id": "1"}]), "expected an integer"),
        (json.dumps([{**GOOD_ITEM, "id": True}]), "expected an integer"),
        (json.dumps([{**GOOD_ITEM, "topic": 3}]), "expected a string"),
        (json.dumps([{**GOOD_ITEM, "originator_id": "x"}]), "Invalid notification"),
        (json.dumps([{**GOOD_ITEM, "state": "!!"}]), "base64"),
        (json.dumps([{**GOOD_ITEM, "originator_version": None}]), "an integer"),
    ],
)
def test_client_rejects_malformed_selections(text: str, message: str) -> None:
    client = NotificationLogJSONClient(Canned(text))
    with pytest.raises(ValueError, match=message):
        client.select(1, 10)


def test_notification_dict_round_trip() -> None:
    notification = Notification(
        originator_id=uuid4(),
        originator_version=3,
        topic="m:T",
        state=b"\x00\xff",
        id=7,
    )

    assert notification_from_dict(notification_to_dict(notification)) == notification
    assert json.loads(json.dumps(notification_to_dict(notification)))["state"] == "AP8="
