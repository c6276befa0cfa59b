"""Stored events, notifications, tracking records and the exception tree."""

import dataclasses
from uuid import uuid4

import pytest

from eventsourcing.persistence import (
    ConfigurationError,
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    Notification,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    RecordConflictError,
    StoredEvent,
    Tracking,
)


def test_records_are_frozen_dataclasses() -> None:
    stored = StoredEvent(uuid4(), 1, "topic", b"{}")
    notification = Notification(uuid4(), 1, "topic", b"{}", id=3)
    tracking = Tracking("upstream", 3)
    for record in (stored, notification, tracking):
        with pytest.raises(dataclasses.FrozenInstanceError):
            record.application_name = "x"  # type: ignore[misc,union-attr]
    assert isinstance(notification, StoredEvent)
    assert [f.name for f in dataclasses.fields(Notification)] == [
        "originator_id",
        "originator_version",
        "topic",
        "state",
        "id",
    ]


def test_records_behave_as_the_generated_dataclass_init_would_make_them() -> None:
    # The records have hand-written __init__ methods, for speed.
    originator_id = uuid4()
    by_position = Notification(originator_id, 2, "topic", b"{}", 7)
    by_keyword = Notification(
        id=7,
        state=b"{}",
        topic="topic",
        originator_version=2,
        originator_id=originator_id,
    )
    assert by_position == by_keyword
    assert hash(by_position) == hash(by_keyword)
    assert by_position != Notification(originator_id, 2, "topic", b"{}", 8)
    assert dataclasses.replace(by_position, id=8).id == 8
    assert dataclasses.asdict(Tracking("upstream", 3)) == {
        "application_name": "upstream",
        "notification_id": 3,
    }
    stored = StoredEvent(originator_id, 2, "topic", b"{}")
    assert stored != by_position  # a notification is not a bare stored event
    assert repr(stored) == (
        f"StoredEvent(originator_id={originator_id!r}, originator_version=2,"
        " topic='topic', state=b'{}')"
    )


def test_exception_tree_follows_pep_249() -> None:
    assert issubclass(PersistenceError, Exception)
    for cls in (InterfaceError, DatabaseError):
        assert cls.__bases__ == (PersistenceError,)
    for cls in (
        DataError,
        OperationalError,
        IntegrityError,
        InternalError,
        ProgrammingError,
        NotSupportedError,
    ):
        assert cls.__bases__ == (DatabaseError,)
    assert issubclass(RecordConflictError, IntegrityError)
    assert issubclass(ConfigurationError, ValueError)
    assert not issubclass(ConfigurationError, PersistenceError)
