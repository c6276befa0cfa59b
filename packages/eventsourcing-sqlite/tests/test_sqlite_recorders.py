"""Behaviour of the SQLite recorders beyond the shared contract: atomic batches,
tracking, table naming, and the three kinds of database name."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from eventsourcing.persistence import (
    IntegrityError,
    OperationalError,
    RecordConflictError,
    StoredEvent,
    Tracking,
)
from eventsourcing.sqlite import (
    InvalidTableName,
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteDatastore,
    SQLiteProcessRecorder,
)


@pytest.fixture(params=["file", "memory", "shared"])
def datastore(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[SQLiteDatastore]:
    names = {
        "file": str(tmp_path / "events.db"),
        "memory": ":memory:",
        "shared": f"file:recorders_{uuid4().hex}?mode=memory&cache=shared",
    }
    datastore = SQLiteDatastore(db_name=names[request.param])
    yield datastore
    datastore.close()


def _event(originator_id: object = None, version: int = 1) -> StoredEvent:
    return StoredEvent(
        originator_id=originator_id or uuid4(),  # type: ignore[arg-type]
        originator_version=version,
        topic="tests:Event",
        state=b'{"x": 1}',
    )


def test_conflicting_batch_writes_nothing(datastore: SQLiteDatastore) -> None:
    recorder = SQLiteApplicationRecorder(datastore)
    recorder.create_table()
    existing = _event()
    recorder.insert_events([existing])
    fresh = _event()
    clash = _event(existing.originator_id, 1)

    with pytest.raises(RecordConflictError) as info:
        recorder.insert_events([fresh, clash])

    assert isinstance(info.value, IntegrityError)
    assert isinstance(info.value.__cause__, sqlite3.IntegrityError)
    assert recorder.select_events(fresh.originator_id) == []
    assert recorder.max_notification_id() == 1
    assert len(recorder.select_notifications(1, 10)) == 1


def test_aggregate_recorder_conflict_writes_nothing(datastore: SQLiteDatastore) -> None:
    recorder = SQLiteAggregateRecorder(datastore, "snapshots")
    recorder.create_table()
    event = _event()
    recorder.insert_events([event])

    with pytest.raises(RecordConflictError):
        recorder.insert_events([_event(event.originator_id, 2), event])

    assert recorder.select_events(event.originator_id) == [event]


def test_select_events_filters_and_orders(datastore: SQLiteDatastore) -> None:
    recorder = SQLiteAggregateRecorder(datastore, "snapshots")
    recorder.create_table()
    originator_id = uuid4()
    events = [_event(originator_id, v) for v in range(1, 6)]
    recorder.insert_events(events)
    recorder.insert_events([_event()])

    assert recorder.select_events(originator_id) == events
    assert recorder.select_events(originator_id, gt=2) == events[2:]
    assert recorder.select_events(originator_id, lte=2) == events[:2]
    assert recorder.select_events(originator_id, gt=1, lte=3) == events[1:3]
    assert recorder.select_events(originator_id, desc=True) == events[::-1]
    assert recorder.select_events(originator_id, desc=True, limit=2) == events[:2:-1]
    assert recorder.select_events(originator_id, gt=1, lte=4, desc=True, limit=1) == [
        events[3]
    ]
    assert recorder.select_events(uuid4()) == []


def test_duplicate_tracking_record_writes_nothing(datastore: SQLiteDatastore) -> None:
    recorder = SQLiteProcessRecorder(datastore)
    recorder.create_table()
    recorder.insert_events([_event()], tracking=Tracking("upstream", 1))

    with pytest.raises(RecordConflictError):
        recorder.insert_events([_event()], tracking=Tracking("upstream", 1))

    assert recorder.max_notification_id() == 1
    assert recorder.max_tracking_id("upstream") == 1
    assert recorder.max_tracking_id("other") == 0


def test_tracking_without_events_and_events_without_tracking(
    datastore: SQLiteDatastore,
) -> None:
    recorder = SQLiteProcessRecorder(datastore, "worlds_events")
    recorder.create_table()

    recorder.insert_events([], tracking=Tracking("upstream", 5))
    recorder.insert_events([_event()])

    assert recorder.tracking_table_name == "worlds_tracking"
    assert recorder.max_tracking_id("upstream") == 5
    assert recorder.max_notification_id() == 1


def test_default_tracking_table_names() -> None:
    datastore = SQLiteDatastore(":memory:")
    names = {
        events: SQLiteProcessRecorder(datastore, events).tracking_table_name
        for events in ("stored_events", "app_events", "things")
    }
    explicit = SQLiteProcessRecorder(datastore, "a", "b").tracking_table_name

    assert names == {
        "stored_events": "tracking",
        "app_events": "app_tracking",
        "things": "things_tracking",
    }
    assert explicit == "b"


def test_notifications_are_selected_from_start_in_order(
    datastore: SQLiteDatastore,
) -> None:
    recorder = SQLiteApplicationRecorder(datastore)
    recorder.create_table()
    assert recorder.max_notification_id() == 0
    events = [_event() for _ in range(5)]
    recorder.insert_events(events[:3])
    recorder.insert_events(events[3:])

    notifications = recorder.select_notifications(start=2, limit=2)

    assert [n.id for n in notifications] == [2, 3]
    assert notifications[0].originator_id == events[1].originator_id
    assert notifications[0].state == events[1].state
    assert notifications[0].topic == events[1].topic
    assert recorder.select_notifications(start=6, limit=10) == []
    assert recorder.max_notification_id() == 5


def test_several_applications_share_one_file(tmp_path: Path) -> None:
    datastore = SQLiteDatastore(str(tmp_path / "shared.db"))
    first = SQLiteApplicationRecorder(datastore, "first_events")
    second = SQLiteApplicationRecorder(datastore, "second_events")
    snapshots = SQLiteAggregateRecorder(datastore, "first_snapshots")
    for recorder in (first, second, snapshots):
        recorder.create_table()
    event = _event()

    first.insert_events([event])
    snapshots.insert_events([event])

    assert second.select_events(event.originator_id) == []
    assert first.select_events(event.originator_id) == [event]
    assert snapshots.select_events(event.originator_id) == [event]
    assert second.max_notification_id() == 0


@pytest.mark.parametrize(
    "name",
    ['events"; DROP TABLE x; --', "1events", "", "my-app_events", "events ", "évents"],
)
def test_table_name_that_is_not_an_identifier_is_refused(name: str) -> None:
    datastore = SQLiteDatastore(":memory:")

    with pytest.raises(InvalidTableName, match="Invalid SQLite table name") as info:
        SQLiteApplicationRecorder(datastore, name)

    assert isinstance(info.value, ValueError)


def test_bad_tracking_table_name_is_refused() -> None:
    with pytest.raises(InvalidTableName):
        SQLiteProcessRecorder(SQLiteDatastore(":memory:"), "ok", "not ok")


def test_missing_table_is_an_operational_error() -> None:
    recorder = SQLiteApplicationRecorder(SQLiteDatastore(":memory:"))

    with pytest.raises(OperationalError, match="no such table") as info:
        recorder.max_notification_id()

    assert isinstance(info.value.__cause__, sqlite3.OperationalError)


def test_create_table_is_idempotent(tmp_path: Path) -> None:
    db_name = str(tmp_path / "twice.db")
    event = _event()
    recorder = SQLiteProcessRecorder(SQLiteDatastore(db_name))
    recorder.create_table()
    recorder.insert_events([event])

    again = SQLiteProcessRecorder(SQLiteDatastore(db_name))
    again.create_table()

    assert again.select_events(event.originator_id) == [event]
