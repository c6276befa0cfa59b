"""Connections of the PostgreSQL datastore: reuse, max age, pre-ping, recovery from
connections the server closed, and the mapping of driver errors."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import psycopg2
import psycopg2.errors
import pytest

from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    RecordConflictError,
    StoredEvent,
    Tracking,
)
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresProcessRecorder,
)
from eventsourcing.postgres._datastore import translate_error

NewDatastore = Callable[..., PostgresDatastore]


def backend_pid(datastore: PostgresDatastore) -> int:
    def select(cursor: Any) -> int:
        cursor.execute("SELECT pg_backend_pid()")
        pid: int = cursor.fetchone()[0]
        return pid

    return datastore.read(select)


def kill_sessions(admin: Any) -> int:
    """Terminate the datastores' sessions from a second session; wait until gone."""
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = 'eventsourcing'"
        )
        killed: int = cursor.fetchone()[0]
        return killed


def event(version: int = 1) -> StoredEvent:
    return StoredEvent(uuid4(), version, "tests:Event", b"{}")


def new_recorder(
    new_datastore: NewDatastore, **kwargs: Any
) -> PostgresApplicationRecorder:
    recorder = PostgresApplicationRecorder(new_datastore(**kwargs))
    recorder.create_table()
    return recorder


# Reuse and max age.


def test_connection_is_reused_by_its_thread(new_datastore: NewDatastore) -> None:
    datastore = new_datastore()
    assert backend_pid(datastore) == backend_pid(datastore)


def test_threads_have_connections_of_their_own(new_datastore: NewDatastore) -> None:
    datastore = new_datastore()
    pids: list[int] = []
    thread = threading.Thread(target=lambda: pids.append(backend_pid(datastore)))
    thread.start()
    thread.join()
    assert pids[0] != backend_pid(datastore)


def test_conn_max_age_zero_uses_each_connection_once(
    new_datastore: NewDatastore,
) -> None:
    datastore = new_datastore(conn_max_age=0)
    pid = backend_pid(datastore)
    assert datastore._connections == set()
    assert datastore._local.conn.raw.closed  # closed as soon as it was used
    assert backend_pid(datastore) != pid


def test_conn_max_age_replaces_old_connections(new_datastore: NewDatastore) -> None:
    datastore = new_datastore(conn_max_age=0.5)
    pid = backend_pid(datastore)
    assert backend_pid(datastore) == pid
    time.sleep(0.6)
    assert backend_pid(datastore) != pid


def test_idle_old_connections_of_other_threads_are_closed(
    new_datastore: NewDatastore,
) -> None:
    datastore = new_datastore(conn_max_age=0.3)
    release = threading.Event()
    pids: list[int] = []

    def idle_thread() -> None:
        pids.append(backend_pid(datastore))
        release.wait(10)

    thread = threading.Thread(target=idle_thread)
    thread.start()
    while not pids:
        time.sleep(0.01)
    time.sleep(0.4)
    backend_pid(datastore)  # any operation closes the other thread's old connection
    live = {backend_pid(datastore)}
    assert pids[0] not in live
    assert len(datastore._connections) == 1
    release.set()
    thread.join()


def test_connections_of_ended_threads_are_closed(new_datastore: NewDatastore) -> None:
    datastore = new_datastore()
    thread = threading.Thread(target=lambda: backend_pid(datastore))
    thread.start()
    thread.join()
    assert len(datastore._connections) == 1
    backend_pid(datastore)
    assert len(datastore._connections) == 1


def test_close_closes_connections_and_later_operations_reconnect(
    new_datastore: NewDatastore,
) -> None:
    datastore = new_datastore()
    pid = backend_pid(datastore)
    datastore.close()
    assert datastore._connections == set()
    assert backend_pid(datastore) != pid


# Connections the server closed.


def test_read_after_server_closed_connection_is_retried(
    new_datastore: NewDatastore, admin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    datastore = new_datastore()
    calls: list[int] = []

    def select(cursor: Any) -> int:
        calls.append(1)
        cursor.execute("SELECT pg_backend_pid()")
        pid: int = cursor.fetchone()[0]
        return pid

    pid = datastore.read(select)
    assert kill_sessions(admin) >= 1
    with caplog.at_level(logging.WARNING, logger="eventsourcing.postgres"):
        assert datastore.read(select) != pid
    assert len(calls) == 3  # the failed attempt and its retry
    (warning,) = caplog.records
    assert "reconnecting and reading again" in warning.message


def test_read_failing_twice_raises_operational_error(
    new_datastore: NewDatastore,
) -> None:
    datastore = new_datastore()
    calls: list[int] = []

    def suicide(cursor: Any) -> None:
        calls.append(1)
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    with pytest.raises(OperationalError) as excinfo:
        datastore.read(suicide)
    assert len(calls) == 2
    assert isinstance(excinfo.value.__cause__, psycopg2.OperationalError)
    assert datastore._connections == set()


def test_pre_ping_replaces_a_closed_connection_before_use(
    new_datastore: NewDatastore, admin: Any
) -> None:
    datastore = new_datastore(pre_ping=True)
    calls: list[int] = []

    def select(cursor: Any) -> int:
        calls.append(1)
        cursor.execute("SELECT pg_backend_pid()")
        pid: int = cursor.fetchone()[0]
        return pid

    pid = datastore.read(select)
    assert kill_sessions(admin) >= 1
    assert datastore.read(select) != pid
    assert len(calls) == 2  # no failed attempt: the ping found the dead connection


def test_write_after_server_closed_connection_is_retried(
    new_datastore: NewDatastore, admin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = new_recorder(new_datastore)
    event1, event2 = event(), event()
    recorder.insert_events([event1])
    assert kill_sessions(admin) >= 1
    with caplog.at_level(logging.WARNING, logger="eventsourcing.postgres"):
        recorder.insert_events([event2])
    assert "reconnecting and writing again" in caplog.text
    assert recorder.select_events(event2.originator_id) == [event2]
    assert [n.originator_id for n in recorder.select_notifications(1, 10)] == [
        event1.originator_id,
        event2.originator_id,
    ]


def _kill_trigger(admin: Any, table: str, *, deferred: bool, times: int) -> None:
    """Make inserts into ``table`` kill their own session (counted in a sequence)
    the first ``times`` times: during the INSERT, or at COMMIT when deferred."""
    with admin.cursor() as cursor:
        cursor.execute(
            "CREATE SEQUENCE attempts; "
            "CREATE FUNCTION kill_own_session() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF nextval('attempts') <= " + str(times) + " THEN "
            "PERFORM pg_terminate_backend(pg_backend_pid()); END IF; "
            "RETURN NULL; END $$; "
            "CREATE CONSTRAINT TRIGGER kill_own_session AFTER INSERT ON "
            + table
            + " "
            + ("DEFERRABLE INITIALLY DEFERRED " if deferred else "")
            + "FOR EACH ROW EXECUTE FUNCTION kill_own_session()"
        )


def _attempts(admin: Any) -> int:
    with admin.cursor() as cursor:
        cursor.execute("SELECT last_value FROM attempts")
        value: int = cursor.fetchone()[0]
        return value


def test_write_whose_session_dies_before_commit_is_retried_once(
    new_datastore: NewDatastore, admin: Any
) -> None:
    recorder = new_recorder(new_datastore)
    _kill_trigger(admin, "stored_events", deferred=False, times=1)
    event1 = event()
    recorder.insert_events([event1])
    assert _attempts(admin) == 2
    assert recorder.select_events(event1.originator_id) == [event1]


def test_write_whose_session_dies_twice_before_commit_raises(
    new_datastore: NewDatastore, admin: Any
) -> None:
    recorder = new_recorder(new_datastore)
    _kill_trigger(admin, "stored_events", deferred=False, times=99)
    event1 = event()
    with pytest.raises(OperationalError):
        recorder.insert_events([event1])
    assert _attempts(admin) == 2
    assert recorder.select_events(event1.originator_id) == []


def test_write_whose_commit_fails_is_not_retried(
    new_datastore: NewDatastore, admin: Any
) -> None:
    recorder = new_recorder(new_datastore)
    _kill_trigger(admin, "stored_events", deferred=True, times=1)
    event1 = event()
    with pytest.raises(OperationalError, match="unknown") as excinfo:
        recorder.insert_events([event1])
    assert isinstance(excinfo.value.__cause__, psycopg2.OperationalError)
    assert _attempts(admin) == 1
    # Here the server rolled back; the caller could not know, so it was not retried.
    assert recorder.select_events(event1.originator_id) == []


def test_failed_write_whose_rollback_fails_is_retried(
    new_datastore: NewDatastore, admin: Any
) -> None:
    datastore = new_datastore()
    calls: list[int] = []

    def operation(cursor: Any) -> str:
        calls.append(1)
        if len(calls) == 1:
            # The session dies unnoticed, then the operation fails some other way:
            # only the ROLLBACK finds the connection gone.
            kill_sessions(admin)
            raise psycopg2.DataError("failed")
        return "done"

    assert datastore.write(operation) == "done"
    assert len(calls) == 2


def test_failed_write_on_a_live_connection_rolls_back_and_reuses_it(
    new_datastore: NewDatastore,
) -> None:
    recorder = new_recorder(new_datastore)
    event1 = event()
    recorder.insert_events([event1])
    pid = backend_pid(recorder.datastore)
    with pytest.raises(RecordConflictError) as excinfo:
        recorder.insert_events([event1])
    assert isinstance(excinfo.value.__cause__, psycopg2.errors.UniqueViolation)
    assert backend_pid(recorder.datastore) == pid
    assert recorder.max_notification_id() == 1


def test_non_driver_errors_discard_the_connection(
    new_datastore: NewDatastore,
) -> None:
    datastore = new_datastore()
    pid = backend_pid(datastore)

    def fail(cursor: Any) -> None:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        datastore.read(fail)
    with pytest.raises(RuntimeError):
        datastore.write(fail)
    assert backend_pid(datastore) != pid


def test_sessions_killed_in_the_middle_of_a_run(
    new_datastore: NewDatastore, admin: Any
) -> None:
    recorder = new_recorder(new_datastore)
    written: list[StoredEvent] = []
    for i in range(30):
        batch = [event(1), event(1)]
        recorder.insert_events(batch)
        written.extend(batch)
        if i % 3 == 0:
            kill_sessions(admin)
        assert recorder.select_events(batch[0].originator_id) == [batch[0]]
        if i % 3 == 1:
            kill_sessions(admin)
    notifications = recorder.select_notifications(1, 100)
    assert [(n.originator_id, n.originator_version) for n in notifications] == [
        (e.originator_id, e.originator_version) for e in written
    ]


def test_concurrent_writers_survive_sessions_being_killed(
    new_datastore: NewDatastore, admin: Any
) -> None:
    recorder = new_recorder(new_datastore)
    stop = threading.Event()
    written: set[object] = set()  # committed
    unknown: set[object] = set()  # COMMIT failed: outcome unknown
    failed: set[object] = set()  # failed twice before COMMIT: not committed
    errors: list[BaseException] = []
    guard = threading.Lock()

    def write() -> None:
        for _ in range(40):
            batch = [event(1)]
            outcome = written
            try:
                recorder.insert_events(batch)
            except OperationalError as e:
                outcome = unknown if "unknown" in str(e) else failed
            except BaseException as e:
                with guard:
                    errors.append(e)
            with guard:
                outcome.add(batch[0].originator_id)
            # Killed twice in a row, a read may fail; it never wrongly succeeds.
            with contextlib.suppress(OperationalError):
                recorder.select_notifications(1, 10)

    def kill() -> None:
        while not stop.wait(0.03):
            kill_sessions(admin)

    killer = threading.Thread(target=kill)
    writers = [threading.Thread(target=write) for _ in range(4)]
    killer.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    killer.join()

    # No write was applied twice (that would have raised RecordConflictError).
    assert errors == []
    recorded = {n.originator_id for n in recorder.select_notifications(1, 1000)}
    assert written <= recorded
    assert not failed & recorded
    assert recorded <= written | unknown
    assert len(written) > 80


# Errors.


def test_connection_failure_is_an_operational_error_without_the_password(
    pg_env: dict[str, str],
) -> None:
    password = "wrong-" + uuid4().hex
    datastore = PostgresDatastore(
        dbname=pg_env["POSTGRES_DBNAME"],
        host=pg_env["POSTGRES_HOST"],
        port=pg_env["POSTGRES_PORT"],
        user=pg_env["POSTGRES_USER"],
        password=password,
    )
    with pytest.raises(OperationalError) as excinfo:
        backend_pid(datastore)
    message = str(excinfo.value)
    assert "Could not connect to PostgreSQL database" in message
    assert "POSTGRES_PASSWORD" in message
    assert password not in message
    assert password not in repr(datastore)
    assert isinstance(excinfo.value.__cause__, psycopg2.OperationalError)


def test_repr_names_the_database_but_not_the_password(
    new_datastore: NewDatastore, pg_env: dict[str, str]
) -> None:
    datastore = new_datastore(schema="myschema")
    text = repr(datastore)
    assert pg_env["POSTGRES_DBNAME"] in text
    assert "myschema" in text
    assert pg_env["POSTGRES_PASSWORD"] not in text


@pytest.mark.parametrize(
    ("driver_error", "expected"),
    [
        (psycopg2.errors.UniqueViolation("x"), RecordConflictError),
        (psycopg2.errors.ForeignKeyViolation("x"), IntegrityError),
        (psycopg2.DataError("x"), DataError),
        (psycopg2.OperationalError("x"), OperationalError),
        (psycopg2.InternalError("x"), InternalError),
        (psycopg2.ProgrammingError("x"), ProgrammingError),
        (psycopg2.NotSupportedError("x"), NotSupportedError),
        (psycopg2.InterfaceError("x"), InterfaceError),
        (psycopg2.DatabaseError("x"), DatabaseError),
        (psycopg2.Error("x"), PersistenceError),
    ],
)
def test_driver_errors_map_to_the_persistence_tree(
    driver_error: Exception, expected: type[PersistenceError]
) -> None:
    translated = translate_error(driver_error)
    assert type(translated) is expected
    assert translated.__cause__ is driver_error
    assert str(translated) == "x"


def test_translated_errors_mask_the_password() -> None:
    error = psycopg2.OperationalError("password=s3cret failed")
    translated = translate_error(error, "s3cret", "Could not connect")
    assert str(translated) == "Could not connect: password=******** failed"
    assert str(translate_error(psycopg2.Error())) == "Error"


def test_data_errors_from_the_server_are_data_errors(
    new_datastore: NewDatastore,
) -> None:
    def divide(cursor: Any) -> None:
        cursor.execute("SELECT 1 / 0")

    with pytest.raises(DataError) as excinfo:
        new_datastore().read(divide)
    assert "division by zero" in str(excinfo.value)


def test_missing_table_is_a_programming_error(new_datastore: NewDatastore) -> None:
    recorder = PostgresApplicationRecorder(new_datastore(), "never_created")
    with pytest.raises(ProgrammingError, match="never_created"):
        recorder.max_notification_id()


def test_deferred_statements_are_sent_with_the_next_one(
    new_datastore: NewDatastore,
) -> None:
    datastore = new_datastore()

    def operation(cursor: Any) -> int:
        cursor.defer(b"CREATE TABLE t (x text)")
        cursor.defer(b"INSERT INTO t VALUES ('100%')")
        cursor.execute("SELECT count(*) FROM t WHERE x = %s", ("100%",))
        count: int = cursor.fetchone()[0]
        return count

    assert datastore.write(operation) == 1


def test_tracking_with_percent_signs_in_the_application_name(
    new_datastore: NewDatastore,
) -> None:
    recorder = PostgresProcessRecorder(new_datastore())
    recorder.create_table()
    recorder.insert_events([event()], tracking=Tracking("up%s%%stream", 7))
    recorder.insert_events([], tracking=Tracking("up%s%%stream", 8))
    assert recorder.max_tracking_id("up%s%%stream") == 8
