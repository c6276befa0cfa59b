"""A transaction that cannot begin raises a persistence error and holds no lock."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from eventsourcing.persistence import OperationalError
from eventsourcing.sqlite import SQLiteDatastore


def test_begin_blocked_by_another_writer_is_an_operational_error(
    tmp_path: Path,
) -> None:
    db_name = str(tmp_path / "busy.db")
    SQLiteDatastore(db_name).close()  # now in WAL mode, so only BEGIN can wait
    holder = sqlite3.connect(db_name, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    datastore = SQLiteDatastore(db_name, lock_timeout=0.05)

    with (
        pytest.raises(OperationalError, match="locked") as info,
        datastore.transaction(write=True),
    ):
        pass  # pragma: no cover (BEGIN IMMEDIATE fails before the block runs)

    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    holder.execute("ROLLBACK")
    holder.close()
    with datastore.transaction(write=True) as connection:
        assert connection.in_transaction
    datastore.close()


def test_begin_inside_a_transaction_releases_the_lock() -> None:
    datastore = SQLiteDatastore(":memory:")
    with datastore.transaction(write=False) as connection:
        connection.execute("BEGIN")
        with pytest.raises(OperationalError, match="within a transaction"):
            datastore.transaction(write=True).__enter__()
        connection.execute("ROLLBACK")
    lock = datastore._lock
    assert lock is not None
    acquired: list[bool] = []

    def try_lock() -> None:
        acquired.append(lock.acquire(blocking=False))
        if acquired[-1]:
            lock.release()

    thread = threading.Thread(target=try_lock)  # the lock is reentrant
    thread.start()
    thread.join()
    assert acquired == [True]
    datastore.close()
