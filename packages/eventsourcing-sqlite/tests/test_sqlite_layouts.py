"""SQLite: stores laid out by eventsourcing 9.1 are used as they are, durability
and file permissions by default, and what the factory chose is logged."""

from __future__ import annotations

import logging
import sqlite3
import stat
import threading
from pathlib import Path
from uuid import uuid4

import pytest

from eventsourcing.persistence import (
    ConfigurationError,
    InfrastructureFactory,
    OperationalError,
    StoredEvent,
    Tracking,
)
from eventsourcing.sqlite import Factory, SQLiteDatastore

# The tables eventsourcing 9.1 creates (see tests-integration/compat91/README.md).
DDL_91 = [
    (
        "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
        "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
    ),
    (
        "CREATE TABLE stored_snapshots (originator_id TEXT, "
        "originator_version INTEGER, topic TEXT, state BLOB, "
        "PRIMARY KEY (originator_id, originator_version)) "
        "WITHOUT ROWID"
    ),
    (
        "CREATE TABLE tracking (application_name TEXT, notification_id INTEGER, "
        "PRIMARY KEY (application_name, notification_id)) WITHOUT ROWID"
    ),
]


def store_91(path: Path, rows: int = 2) -> list[str]:
    """A database file as 9.1 leaves it, with ``rows`` events; returns their IDs."""
    ids = [uuid4().hex for _ in range(rows)]
    with sqlite3.connect(path) as connection:
        for statement in DDL_91:
            connection.execute(statement)
        for originator_id in ids:
            connection.execute(
                "INSERT INTO stored_events VALUES (?, 1, 'tests:Event', X'7B7D')",
                (originator_id,),
            )
        connection.execute("INSERT INTO tracking VALUES ('Upstream', 7)")
        # A table of the user's own, which makes SQLite add sqlite_sequence.
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT)")
        connection.execute("INSERT INTO notes DEFAULT VALUES")
    connection.close()
    return ids


def event() -> StoredEvent:
    return StoredEvent(uuid4(), 1, "tests:Event", b"{}")


def columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(f"PRAGMA table_info({table})").fetchall()
    connection.close()
    return [row[1] for row in rows]


def test_a_9_1_store_is_found_and_written_in_its_layout(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    ids = store_91(path)
    factory = Factory("Bank", {"SQLITE_DBNAME": str(path)})
    recorder = factory.process_recorder()
    assert recorder.legacy_layout
    assert recorder.events_table_name == "stored_events"
    assert recorder.tracking_table_name == "tracking"
    assert factory.aggregate_recorder("snapshots").events_table_name == (
        "stored_snapshots"
    )
    notifications = recorder.select_notifications(1, 10)
    assert [n.originator_id.hex for n in notifications] == ids
    assert recorder.max_tracking_id("Upstream") == 7
    new = [event(), event()]
    assert list(recorder.insert_events(new) or []) == [3, 4]
    assert recorder.insert_events([event()], tracking=Tracking("Upstream", 8)) == [5]
    assert recorder.select_events(new[0].originator_id) == [new[0]]
    assert recorder.max_notification_id() == 5
    factory.close()
    # Written as 9.1 writes: hex IDs in the rowid table, no tables of our own.
    with sqlite3.connect(path) as connection:
        written = connection.execute(
            "SELECT rowid, originator_id FROM stored_events WHERE rowid > 2"
        ).fetchall()
        tables = {
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
    connection.close()
    assert written[0] == (3, new[0].originator_id.hex)
    assert tables == {
        "stored_events",
        "stored_snapshots",
        "tracking",
        "notes",
        "sqlite_sequence",
    }
    assert "notification_id" not in columns(path, "stored_events")


def test_the_9_1_layout_can_be_chosen_for_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    env = {"SQLITE_DBNAME": str(path), "SQLITE_LAYOUT": "9.1"}
    factory = Factory("Bank", env)
    factory.process_recorder().insert_events([event()])
    factory.aggregate_recorder("snapshots").insert_events([event()])
    factory.close()
    assert columns(path, "stored_events") == [
        "originator_id",
        "originator_version",
        "topic",
        "state",
    ]
    assert columns(path, "tracking") == ["application_name", "notification_id"]


def test_a_store_upgraded_in_place_keeps_its_shared_tables(tmp_path: Path) -> None:
    path = tmp_path / "upgraded.db"
    factory = Factory("", {"SQLITE_DBNAME": str(path)})  # current rows, shared name
    factory.application_recorder().insert_events([event()])
    factory.close()
    other = Factory("Bank", {"SQLITE_DBNAME": str(path)})
    recorder = other.application_recorder()
    assert (recorder.events_table_name, recorder.legacy_layout) == (
        "stored_events",
        False,
    )
    assert recorder.max_notification_id() == 1
    other.close()


def test_tables_are_not_created_beside_both_layouts_silently(tmp_path: Path) -> None:
    path = tmp_path / "mixed.db"
    store_91(path)
    Factory("Ledger", {"SQLITE_DBNAME": str(path), "SQLITE_LAYOUT": "current"})
    ledger = Factory("Ledger", {"SQLITE_DBNAME": str(path), "SQLITE_LAYOUT": "current"})
    ledger.application_recorder()
    ledger.close()
    with pytest.raises(ConfigurationError) as raised:
        Factory("Bank", {"SQLITE_DBNAME": str(path)}).application_recorder()
    message = str(raised.value)
    assert "no table 'bank_events'" in message
    assert "'stored_events'" in message
    assert "'ledger_events'" in message
    assert "SQLITE_LAYOUT=9.1" in message
    assert "BANK_SQLITE_LAYOUT" in message
    shared = Factory("Bank", {"SQLITE_DBNAME": str(path), "SQLITE_LAYOUT": "9.1"})
    assert shared.application_recorder().events_table_name == "stored_events"
    shared.close()
    own = Factory("Bank", {"SQLITE_DBNAME": str(path), "SQLITE_LAYOUT": "current"})
    assert own.application_recorder().events_table_name == "bank_events"
    own.close()


def test_an_unknown_layout_is_refused() -> None:
    with pytest.raises(
        ConfigurationError, match=r"SQLITE_LAYOUT='9\.2' is not a layout"
    ):
        Factory("App", {"SQLITE_DBNAME": ":memory:", "SQLITE_LAYOUT": "9.2"})


def test_the_layout_and_tables_chosen_are_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "old.db"
    store_91(path)
    with caplog.at_level(logging.INFO, logger="eventsourcing.sqlite"):
        factory = Factory("Bank", {"SQLITE_DBNAME": str(path)})
        factory.application_recorder()
        new = Factory("Other", {"SQLITE_DBNAME": str(tmp_path / "new.db")})
        new.application_recorder()
    assert "shared tables of eventsourcing 9.1 (eventsourcing 9.1's layout)" in (
        caplog.text
    )
    assert "stored_events, stored_snapshots, tracking" in caplog.text
    assert "tables of its own" in caplog.text
    assert "other_events, other_snapshots, other_tracking" in caplog.text
    assert "synchronous=FULL" in caplog.text
    factory.close()
    new.close()


# Durability and permissions.


def synchronous(datastore: SQLiteDatastore) -> int:
    ((value,),) = datastore.fetchall("PRAGMA synchronous")
    return int(value)


def test_commits_are_durable_by_default_and_the_trade_is_a_setting(
    tmp_path: Path,
) -> None:
    full = Factory("App", {"SQLITE_DBNAME": str(tmp_path / "a.db")})
    assert synchronous(full.datastore) == 2  # FULL: the WAL is synced each commit
    normal = Factory(
        "App", {"SQLITE_DBNAME": str(tmp_path / "b.db"), "SQLITE_SYNCHRONOUS": "normal"}
    )
    assert synchronous(normal.datastore) == 1
    full.close()
    normal.close()
    with pytest.raises(ConfigurationError, match="SQLITE_SYNCHRONOUS='sometimes'"):
        Factory("App", {"SQLITE_DBNAME": ":memory:", "SQLITE_SYNCHRONOUS": "sometimes"})
    with pytest.raises(ValueError, match="synchronous mode must be one of"):
        SQLiteDatastore(":memory:", synchronous="LATER")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_database_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    factory = Factory("App", {"SQLITE_DBNAME": str(path)})
    factory.application_recorder().insert_events([event()])
    assert mode(path) == 0o600
    assert mode(tmp_path / "private.db-wal") == 0o600
    factory.close()
    shared = tmp_path / "shared.db"
    env = {"SQLITE_DBNAME": f"file:{shared}?cache=private", "SQLITE_FILE_MODE": "640"}
    factory = Factory("App", env)
    assert mode(shared) == 0o640
    factory.close()
    existing = tmp_path / "existing.db"
    existing.touch(mode=0o644)
    existing.chmod(0o644)
    Factory("App", {"SQLITE_DBNAME": str(existing)}).close()
    assert mode(existing) == 0o644


def test_a_bad_file_mode_is_refused(tmp_path: Path) -> None:
    for value in ("rw", "1000", "-1"):
        with pytest.raises(ConfigurationError, match="SQLITE_FILE_MODE"):
            Factory("App", {"SQLITE_DBNAME": ":memory:", "SQLITE_FILE_MODE": value})
    with pytest.raises(ValueError, match="file mode must be"):
        SQLiteDatastore(":memory:", file_mode=0o1000)


def test_a_path_that_cannot_be_created_is_reported_by_sqlite(tmp_path: Path) -> None:
    factory = Factory("App", {"SQLITE_DBNAME": str(tmp_path / "missing" / "x.db")})
    assert "missing" in repr(factory)
    with pytest.raises(OperationalError, match="unable to open database file"):
        factory.application_recorder()


def test_an_empty_save_does_not_wait_for_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    env = {"SQLITE_DBNAME": str(path), "SQLITE_LOCK_TIMEOUT": "5"}
    factory = InfrastructureFactory.construct(
        "App", {**env, "INFRASTRUCTURE_FACTORY": "sqlite"}
    )
    recorder = factory.process_recorder()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    done = threading.Event()

    def save_nothing() -> None:
        recorder.insert_events([])
        done.set()

    thread = threading.Thread(target=save_nothing)
    thread.start()
    assert done.wait(1.0), "an empty insert waited for the write lock"
    thread.join()
    blocker.execute("ROLLBACK")
    blocker.close()
    factory.close()


def test_new_tables_beside_other_applications_tables_are_warned_of(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "renamed.db"
    Factory("Worlds", {"SQLITE_DBNAME": str(path)}).application_recorder()
    with caplog.at_level(logging.WARNING, logger="eventsourcing.sqlite"):
        Factory("Worlds", {"SQLITE_DBNAME": str(path)}).application_recorder()
        assert "has no table" not in caplog.text  # its own tables: no warning
        Factory("World", {"SQLITE_DBNAME": str(path)}).application_recorder()
    assert "has no table 'world_events'" in caplog.text
    assert "holds the tables of other applications (worlds_events)" in caplog.text
    assert "If the application was renamed" in caplog.text
