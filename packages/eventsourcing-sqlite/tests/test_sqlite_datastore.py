"""Connections, transactions and error mapping of :class:`SQLiteDatastore`."""

from __future__ import annotations

import gc
import logging
import os
import sqlite3
import threading
import warnings
from pathlib import Path
from uuid import uuid4

import pytest

from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    RecordConflictError,
)
from eventsourcing.sqlite import SQLiteDatastore, _datastore
from eventsourcing.sqlite._datastore import has_wal_reset_bug, translate_error


def _shared_uri() -> str:
    return f"file:datastore_{uuid4().hex}?mode=memory&cache=shared"


@pytest.mark.parametrize(
    ("db_name", "memory", "shared"),
    [
        (":memory:", True, False),
        ("", True, False),
        ("file::memory:", True, False),
        ("file:x?mode=memory", True, False),
        ("file::memory:?cache=shared", True, True),
        ("file:x?mode=memory&cache=shared", True, True),
        ("file:{tmp}/a.db?cache=shared", False, False),
        ("{tmp}/a.db", False, False),
    ],
)
def test_kind_of_database_follows_its_name(
    db_name: str, memory: bool, shared: bool, tmp_path: Path
) -> None:
    datastore = SQLiteDatastore(db_name.format(tmp=tmp_path))

    assert (datastore.is_memory, datastore.is_shared_cache) == (memory, shared)
    datastore.close()


def test_file_database_uses_wal_and_lock_timeout(tmp_path: Path) -> None:
    datastore = SQLiteDatastore(str(tmp_path / "wal.db"), lock_timeout=0.25)

    with datastore.transaction(write=False) as connection:
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
        (busy,) = connection.execute("PRAGMA busy_timeout").fetchone()

    assert mode == "wal"
    assert busy == 250
    assert SQLiteDatastore(":memory:").lock_timeout == 5.0


def test_write_lock_timeout_is_an_operational_error(tmp_path: Path) -> None:
    db_name = str(tmp_path / "locked.db")
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
    datastore.close()


def test_failed_block_rolls_back(tmp_path: Path) -> None:
    datastore = SQLiteDatastore(str(tmp_path / "rollback.db"))
    with datastore.transaction(write=True) as connection:
        connection.execute("CREATE TABLE t (x INTEGER)")

    def insert_then_fail() -> None:
        with datastore.transaction(write=True) as connection:
            connection.execute("INSERT INTO t VALUES (1)")
            raise KeyError

    with pytest.raises(KeyError):
        insert_then_fail()

    with datastore.transaction(write=False) as connection:
        assert connection.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)


def test_failed_commit_leaves_no_open_transaction() -> None:
    datastore = SQLiteDatastore(":memory:")

    with (
        pytest.raises(OperationalError),
        datastore.transaction(write=True) as connection,
    ):
        connection.execute("COMMIT")  # ends the transaction, so the final COMMIT fails

    with datastore.transaction(write=True) as connection:
        assert connection.in_transaction


def test_unopenable_database_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "x.db"

    with pytest.raises(
        OperationalError, match="Could not open SQLite database"
    ) as info:
        SQLiteDatastore(str(missing)).transaction(write=False).__enter__()

    assert str(missing) in str(info.value)
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)


def test_closed_datastore_refuses_use(tmp_path: Path) -> None:
    for db_name in (":memory:", str(tmp_path / "closed.db"), _shared_uri()):
        datastore = SQLiteDatastore(db_name)
        with datastore.transaction(write=False) as connection:
            connection.execute("SELECT 1")
        datastore.close()

        with pytest.raises(InterfaceError, match="is closed"):
            datastore.transaction(write=False).__enter__()


@pytest.mark.parametrize(
    ("driver_error", "expected"),
    [
        (sqlite3.InterfaceError, InterfaceError),
        (sqlite3.DataError, DataError),
        (sqlite3.OperationalError, OperationalError),
        (sqlite3.IntegrityError, RecordConflictError),
        (sqlite3.InternalError, InternalError),
        (sqlite3.ProgrammingError, ProgrammingError),
        (sqlite3.NotSupportedError, NotSupportedError),
        (sqlite3.DatabaseError, DatabaseError),
        (sqlite3.Error, PersistenceError),
    ],
)
def test_driver_errors_map_to_the_persistence_tree(
    driver_error: type[sqlite3.Error], expected: type[PersistenceError]
) -> None:
    original = driver_error("boom")

    translated = translate_error(original)

    assert type(translated) is expected
    assert translated.__cause__ is original
    assert str(translated) == "boom"


def test_each_thread_has_its_own_connection_to_a_file(tmp_path: Path) -> None:
    datastore = SQLiteDatastore(str(tmp_path / "threads.db"))
    seen: list[sqlite3.Connection] = []

    def use() -> None:
        with datastore.transaction(write=False) as connection:
            seen.append(connection)

    use()
    use()
    for _ in range(3):
        thread = threading.Thread(target=use)
        thread.start()
        thread.join()

    assert seen[0] is seen[1]
    assert len({id(c) for c in seen}) == 4
    # Finished threads' connections are closed when the next thread connects.
    assert len(datastore._connections) == 2
    datastore.close()
    assert datastore._connections == {}


def test_plain_memory_database_is_one_connection_shared_by_threads() -> None:
    datastore = SQLiteDatastore(":memory:")
    seen: list[sqlite3.Connection] = []

    def use() -> None:
        with datastore.transaction(write=False) as connection:
            seen.append(connection)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join()
    use()

    assert seen[0] is seen[1]


def test_shared_cache_database_is_seen_by_every_thread_and_datastore() -> None:
    uri = _shared_uri()
    first = SQLiteDatastore(uri)
    second = SQLiteDatastore(uri)
    with first.transaction(write=True) as connection:
        connection.execute("CREATE TABLE t (x INTEGER)")
        connection.execute("INSERT INTO t VALUES (1)")
    counts: list[int] = []

    def count() -> None:
        with second.transaction(write=False) as connection:
            counts.append(connection.execute("SELECT COUNT(*) FROM t").fetchone()[0])

    thread = threading.Thread(target=count)
    thread.start()
    thread.join()

    assert counts == [1]
    first.close()
    second.close()


@pytest.mark.parametrize("lock_timeout", [-0.1, float("nan"), float("inf"), 3e6])
def test_lock_timeout_sqlite_cannot_honour_is_refused(lock_timeout: float) -> None:
    with pytest.raises(ValueError, match="lock timeout must be a number of seconds"):
        SQLiteDatastore(":memory:", lock_timeout=lock_timeout)


def test_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    datastore = SQLiteDatastore(str(tmp_path / "fork.db"))
    with datastore.transaction(write=True) as connection:
        connection.execute("CREATE TABLE t (pid INTEGER)")
    parent_connection = connection

    with warnings.catch_warnings():
        # Python 3.12+ warns when forking a process that has threads; this child
        # runs no threads and only uses SQLite.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover (runs in the child, which coverage does not see)
        code = 1
        try:
            with datastore.transaction(write=True) as child_connection:
                child_connection.execute("INSERT INTO t VALUES (?)", (os.getpid(),))
            code = 0 if child_connection is not parent_connection else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    with datastore.transaction(write=False) as connection:
        assert connection is parent_connection
        assert connection.execute("SELECT pid FROM t").fetchall() == [(pid,)]


def test_connections_of_another_process_are_abandoned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the child of a fork sees, without forking (coverage cannot see a child).
    datastore = SQLiteDatastore(str(tmp_path / "pid.db"))
    with datastore.transaction(write=False) as before:
        pass
    monkeypatch.setattr(os, "getpid", lambda: -1)

    with datastore.transaction(write=False) as after:
        after.execute("SELECT 1")

    assert after is not before
    assert list(datastore._connections.values()) == [after]
    before.close()


def test_connections_opened_at_once_on_a_new_file_all_succeed(tmp_path: Path) -> None:
    # Switching a new file to WAL takes a lock SQLite's busy handler does not
    # wait for; without retrying, about one run in five failed here,
    # so forty runs fail all but surely without it.
    for run in range(40):
        path = tmp_path / f"new{run}.db"
        errors: list[Exception] = []

        def connect(path: Path = path, errors: list[Exception] = errors) -> None:
            try:
                with SQLiteDatastore(str(path)).transaction(write=True) as conn:
                    conn.execute("SELECT 1")
            except Exception as e:  # collected for the assertion below
                errors.append(e)

        threads = [threading.Thread(target=connect) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []


class _LockedThenFine:
    """A connection whose journal-mode switch is locked ``times`` times."""

    def __init__(self, times: int, error: str = "database is locked") -> None:
        self.times = times
        self.error = error
        self.switched = False

    def execute(self, sql: str) -> sqlite3.Cursor:
        if sql == "PRAGMA journal_mode=WAL":
            if self.times:
                self.times -= 1
                raise sqlite3.OperationalError(self.error)
            self.switched = True
        return _JournalMode()  # type: ignore[return-value]


class _JournalMode:
    """The answer to "PRAGMA journal_mode" on a database not yet in WAL mode."""

    def fetchone(self) -> tuple[str]:
        return ("delete",)


def test_switch_to_wal_is_retried_while_locked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    datastore = SQLiteDatastore(str(tmp_path / "db"), lock_timeout=5)
    connection = _LockedThenFine(times=3)
    with caplog.at_level(logging.WARNING, logger="eventsourcing.sqlite"):
        datastore._use_wal(connection)  # type: ignore[arg-type]
    assert connection.switched
    # Once, not at each retry (records of other warnings aside).
    (warning,) = [r for r in caplog.records if "while switching" in r.message]
    assert "is locked while switching it to WAL" in warning.message


def test_switch_to_wal_gives_up_after_the_lock_timeout(tmp_path: Path) -> None:
    datastore = SQLiteDatastore(str(tmp_path / "db"), lock_timeout=0.05)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        datastore._use_wal(_LockedThenFine(times=10**6))  # type: ignore[arg-type]


def test_switch_to_wal_does_not_retry_other_errors(tmp_path: Path) -> None:
    datastore = SQLiteDatastore(str(tmp_path / "db"), lock_timeout=5)
    connection = _LockedThenFine(times=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        datastore._use_wal(connection)  # type: ignore[arg-type]
    assert connection.times == 0


@pytest.mark.parametrize("db_name", [":memory:", "file"])
def test_single_statements_run_alone_and_translate_errors(
    db_name: str, tmp_path: Path
) -> None:
    name = str(tmp_path / "alone.db") if db_name == "file" else db_name
    datastore = SQLiteDatastore(name)
    datastore.execute_alone("CREATE TABLE t (k INTEGER PRIMARY KEY)")
    datastore.execute_alone("INSERT INTO t VALUES (?)", (1,))
    assert datastore.fetchall("SELECT k FROM t") == [(1,)]
    with pytest.raises(RecordConflictError):
        datastore.execute_alone("INSERT INTO t VALUES (?)", (1,))
    with pytest.raises(OperationalError, match="no such table"):
        datastore.fetchall("SELECT * FROM missing")
    # Nothing is left open: a write transaction can begin.
    with datastore.transaction(write=True) as connection:
        connection.execute("INSERT INTO t VALUES (2)")
    assert datastore.fetchall("SELECT k FROM t ORDER BY k") == [(1,), (2,)]
    datastore.close()


def _dropped_in_a_cycle(db_name: str) -> sqlite3.Connection:
    """A datastore with an open connection, left in a reference cycle (as an
    application and its factory can be) without close(); returns the connection."""
    datastore = SQLiteDatastore(db_name)
    datastore.fetchall("SELECT 1")
    datastore.cycle = datastore  # type: ignore[attr-defined]
    connection: sqlite3.Connection = datastore._local.connection
    return connection


def test_a_datastore_dropped_in_a_cycle_closes_its_connections(tmp_path: Path) -> None:
    connection = _dropped_in_a_cycle(str(tmp_path / "dropped.db"))
    gc.collect()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        connection.execute("SELECT 1")


def test_a_connection_opened_while_another_thread_closes_is_closed_too(
    tmp_path: Path,
) -> None:
    datastore = SQLiteDatastore(str(tmp_path / "racing.db"))
    opened: list[sqlite3.Connection] = []
    connect = datastore._connect

    def connect_while_closed() -> sqlite3.Connection:
        connection = connect()
        opened.append(connection)
        datastore.close()  # as if another thread closed it meanwhile
        return connection

    datastore._connect = connect_while_closed  # type: ignore[method-assign]
    with pytest.raises(InterfaceError, match="is closed"):
        datastore.fetchall("SELECT 1")
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        opened[0].execute("SELECT 1")


@pytest.mark.parametrize(
    ("version", "has_it"),
    [
        ((3, 6, 23), False),  # before WAL
        ((3, 7, 0), True),
        ((3, 40, 1), True),
        ((3, 44, 5), True),
        ((3, 44, 6), False),  # a patch release with the fix
        ((3, 45, 0), True),
        ((3, 50, 6), True),
        ((3, 50, 7), False),  # a patch release with the fix
        ((3, 51, 2), True),
        ((3, 51, 3), False),
        ((3, 53, 0), False),
    ],
)
def test_the_sqlite_versions_with_the_wal_reset_bug(
    version: tuple[int, int, int], has_it: bool
) -> None:
    assert has_wal_reset_bug(version) is has_it


def test_a_file_database_warns_once_of_sqlite_s_wal_reset_bug(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_datastore, "_warned_of_wal_reset_bug", False)
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 40, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.40.1")
    with caplog.at_level(logging.WARNING, logger="eventsourcing.sqlite"):
        SQLiteDatastore(":memory:").close()  # a database in memory has no WAL
        assert "WAL-reset bug" not in caplog.text
        for name in ("one.db", "two.db"):
            SQLiteDatastore(str(tmp_path / name)).close()
    (warning,) = [r for r in caplog.records if "WAL-reset bug" in r.message]
    assert "SQLite 3.40.1" in warning.message
    assert "3.51.3 or later" in warning.message


def test_a_fixed_sqlite_is_not_warned_of(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_datastore, "_warned_of_wal_reset_bug", False)
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 51, 3))
    with caplog.at_level(logging.WARNING, logger="eventsourcing.sqlite"):
        SQLiteDatastore(str(tmp_path / "fixed.db")).close()
    assert "WAL-reset bug" not in caplog.text
