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
