"""The table lock of 1.6.13: concurrent writers are serialised, so a reader tailing
the notification log sees every notification exactly once and in order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import psycopg2.errors
import pytest

from eventsourcing.persistence import Notification, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

NewDatastore = Callable[..., PostgresDatastore]


def new_recorder(
    new_datastore: NewDatastore, **kwargs: Any
) -> PostgresApplicationRecorder:
    recorder = PostgresApplicationRecorder(new_datastore(**kwargs))
    recorder.create_table()
    return recorder


def test_tailing_reader_sees_every_notification_once_and_in_order(
    new_datastore: NewDatastore,
) -> None:
    recorder = new_recorder(new_datastore)
    writers_count, batches, batch_size = 6, 30, 3
    total = writers_count * batches * batch_size
    errors: list[BaseException] = []
    seen: list[Notification] = []

    def write() -> None:
        try:
            for _ in range(batches):
                originator_id = uuid4()
                recorder.insert_events(
                    [
                        StoredEvent(originator_id, v, "tests:Event", b"{}")
                        for v in range(1, batch_size + 1)
                    ]
                )
        except BaseException as e:
            errors.append(e)

    def tail() -> None:
        # Like a follower: ask for what comes after the last notification seen.
        try:
            deadline = time.monotonic() + 60
            while len(seen) < total and time.monotonic() < deadline:
                start = seen[-1].id + 1 if seen else 1
                seen.extend(recorder.select_notifications(start, 10))
        except BaseException as e:
            errors.append(e)

    reader = threading.Thread(target=tail)
    writers = [threading.Thread(target=write) for _ in range(writers_count)]
    reader.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    reader.join()

    assert errors == []
    assert seen == recorder.select_notifications(1, total + 1)
    assert len(seen) == total
    ids = [n.id for n in seen]
    assert ids == sorted(set(ids))


def test_writers_wait_for_the_table_lock_and_readers_do_not(
    new_datastore: NewDatastore, admin: Any
) -> None:
    recorder = new_recorder(new_datastore)
    recorder.insert_events([StoredEvent(uuid4(), 1, "tests:Event", b"{}")])
    done = threading.Event()
    with admin.cursor() as cursor:
        cursor.execute("BEGIN; LOCK TABLE stored_events IN EXCLUSIVE MODE")

        def write() -> None:
            recorder.insert_events([StoredEvent(uuid4(), 1, "tests:Event", b"{}")])
            done.set()

        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(0.3)
        assert not done.is_set()  # the writer waits for the lock ...
        assert recorder.max_notification_id() == 1  # ... while readers carry on
        cursor.execute("COMMIT")
    writer.join()
    assert done.is_set()
    assert recorder.max_notification_id() == 2


def test_lock_timeout_bounds_the_wait_for_the_table_lock(
    new_datastore: NewDatastore, admin: Any
) -> None:
    recorder = new_recorder(new_datastore, lock_timeout=0.2)
    with admin.cursor() as cursor:
        cursor.execute("BEGIN; LOCK TABLE stored_events IN EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(OperationalError) as excinfo:
            recorder.insert_events([StoredEvent(uuid4(), 1, "tests:Event", b"{}")])
        assert time.monotonic() - started < 5
        cursor.execute("ROLLBACK")
    assert isinstance(excinfo.value.__cause__, psycopg2.errors.LockNotAvailable)
    assert "lock timeout" in str(excinfo.value)
    # The connection is still good for the next write.
    recorder.insert_events([StoredEvent(uuid4(), 1, "tests:Event", b"{}")])
    assert recorder.max_notification_id() >= 1


def test_idle_in_transaction_session_timeout_is_set_on_sessions(
    new_datastore: NewDatastore,
) -> None:
    datastore = new_datastore(idle_in_transaction_session_timeout=2.5)

    def show(cursor: Any) -> str:
        cursor.execute("SHOW idle_in_transaction_session_timeout")
        value: str = cursor.fetchone()[0]
        return value

    assert datastore.read(show) == "2500ms"
