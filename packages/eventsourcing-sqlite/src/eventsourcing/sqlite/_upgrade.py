"""Upgrading an application's SQLite store: every record's state written again in
the current formats, and a store laid out by eventsourcing 9.1 converted to the
current rows, in one transaction, after a copy of the file is kept."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import (
    ConfigurationError,
    NotSupportedError,
    StoredEvent,
    StoreUpgrade,
)
from eventsourcing.sqlite._datastore import SQLiteDatastore, quote_identifier
from eventsourcing.sqlite._recorders import (
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteProcessRecorder,
    _uuid,
)

if TYPE_CHECKING:
    from eventsourcing.sqlite._factory import Factory

_BATCH = 1000
_NEW = "__es_upgrade_"


def copy_database(source: str, target: str) -> None:
    """Copy a database with SQLite's backup API: a consistent copy, WAL included."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def upgrade(
    factory: Factory, reseal: Callable[[StoredEvent], bytes], into: str | None
) -> StoreUpgrade:
    """See :meth:`eventsourcing.sqlite.Factory.upgrade`."""
    datastore = factory.datastore
    if datastore.is_memory:
        msg = (
            "An in-memory SQLite database cannot be upgraded: it ends with its process"
        )
        raise NotSupportedError(msg)
    layout = factory.layout()
    tables = factory.table_columns()
    events = factory.table_name("events")
    snapshots = factory.table_name("snapshots")
    tracking = factory.table_name("tracking")
    if events not in tables:
        msg = (
            f"Application {factory.application_name!r} has no table {events!r} in "
            f"{datastore.db_name!r}: there is nothing to upgrade"
        )
        raise ConfigurationError(msg)
    backup = None
    env: dict[str, str] = {}
    if into is not None:
        if os.path.exists(into):
            msg = f"Cannot upgrade into {into!r}: the file exists (give a new path)"
            raise ConfigurationError(msg)
        copy_database(datastore.db_name, into)
        os.chmod(into, datastore.file_mode)
        target = SQLiteDatastore(
            into, synchronous=datastore.synchronous, file_mode=datastore.file_mode
        )
        env[f"{factory.application_name.upper()}_SQLITE_DBNAME"] = into
    else:
        backup = f"{datastore.db_name}.{time.strftime('%Y%m%dT%H%M%S')}.backup"
        copy_database(datastore.db_name, backup)
        os.chmod(backup, datastore.file_mode)
        target = datastore
    changes: list[str] = []
    try:
        with target.transaction(write=True) as connection:
            counts = [
                _rewrite(
                    connection,
                    events,
                    SQLiteApplicationRecorder,
                    layout.legacy,
                    reseal,
                    changes,
                ),
                _rewrite(
                    connection,
                    snapshots,
                    SQLiteAggregateRecorder,
                    layout.legacy,
                    reseal,
                    changes,
                )
                if snapshots in tables
                else 0,
                _copy_tracking(connection, events, tracking, changes)
                if tracking in tables and layout.legacy
                else _count(connection, tracking)
                if tracking in tables
                else 0,
            ]
    finally:
        if target is not datastore:
            target.close()
    factory.forget_layout()
    return StoreUpgrade(
        events=counts[0],
        snapshots=counts[1],
        tracking=counts[2],
        changes=tuple(changes),
        backup=backup,
        env=env,
    )


def _rows(connection: Any, sql: str) -> Any:
    cursor = connection.execute(sql)
    while batch := cursor.fetchmany(_BATCH):
        yield from batch


def _rewrite(
    connection: Any,
    table: str,
    recorder_class: type[SQLiteAggregateRecorder],
    legacy: bool,
    reseal: Callable[[StoredEvent], bytes],
    changes: list[str],
) -> int:
    quoted = quote_identifier(table)
    has_ids = recorder_class is SQLiteApplicationRecorder
    id_column = ("rowid" if legacy else "notification_id") if has_ids else "NULL"
    select = (
        f"SELECT {id_column}, originator_id, originator_version, topic, state "
        f"FROM {quoted}"
    )
    count = 0
    if not legacy:
        update = (
            f"UPDATE {quoted} SET state = ? WHERE originator_id = ? "
            "AND originator_version = ?"
        )
        for _, originator_id, version, topic, state in list(_rows(connection, select)):
            stored = StoredEvent(_uuid(originator_id), version, topic, state)
            connection.execute(update, (reseal(stored), originator_id, version))
            count += 1
        return count
    # A 9.1 table: the current rows in a new table, which then takes its name.
    new = recorder_class(_Unused(), _NEW + table)
    for statement in new.create_table_statements():
        connection.execute(statement.replace("IF NOT EXISTS ", ""))
    columns = "originator_id, originator_version, topic, state"
    if has_ids:
        insert = (
            f'INSERT INTO "{_NEW}{table}" (notification_id, {columns}) '
            "VALUES (?, ?, ?, ?, ?)"
        )
    else:
        insert = f'INSERT INTO "{_NEW}{table}" ({columns}) VALUES (?, ?, ?, ?)'
    for notification_id, originator_id, version, topic, state in _rows(
        connection, select + (" ORDER BY rowid" if has_ids else "")
    ):
        uuid = _uuid(originator_id)
        row = (
            str(uuid),
            version,
            topic,
            reseal(StoredEvent(uuid, version, topic, state)),
        )
        connection.execute(insert, (notification_id, *row) if has_ids else row)
        count += 1
    connection.execute(f"DROP TABLE {quoted}")
    connection.execute(f'ALTER TABLE "{_NEW}{table}" RENAME TO {quoted}')
    changes.append(f"{table}: eventsourcing 9.1's rows converted to the current rows")
    return count


def _copy_tracking(connection: Any, events: str, table: str, changes: list[str]) -> int:
    quoted = quote_identifier(table)
    new = SQLiteProcessRecorder(_Unused(), _NEW + events, _NEW + table)
    connection.execute(new.create_table_statements()[-1].replace("IF NOT EXISTS ", ""))
    connection.execute(
        f'INSERT INTO "{_NEW}{table}" (application_name, notification_id) '
        f"SELECT application_name, notification_id FROM {quoted}"
    )
    count = _count(connection, table)
    connection.execute(f"DROP TABLE {quoted}")
    connection.execute(f'ALTER TABLE "{_NEW}{table}" RENAME TO {quoted}')
    changes.append(f"{table}: columns made NOT NULL")
    return count


def _count(connection: Any, table: str) -> int:
    ((count,),) = connection.execute(
        f"SELECT COUNT(*) FROM {quote_identifier(table)}"
    ).fetchall()
    return int(count)


class _Unused(SQLiteDatastore):
    """A datastore never opened: recorders made only for their statements."""

    def __init__(self) -> None:
        self.key = ("unused",)
