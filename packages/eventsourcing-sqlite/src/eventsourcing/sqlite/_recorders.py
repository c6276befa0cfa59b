"""Aggregate, application and process recorders that keep stored events in SQLite.

Two row layouts. The current one declares ``notification_id INTEGER PRIMARY KEY``
and stores originator IDs as ``str(uuid)``. With ``legacy=True`` a recorder reads
and writes the rows of a store that eventsourcing 9.1 laid out: notification IDs
are the table's implicit ``rowid``, originator IDs 32 hex digits, and the
columns nullable, so that 9.1 can still read what is written.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from functools import partial
from itertools import starmap
from typing import Any
from uuid import UUID, SafeUUID

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    Notification,
    ProcessRecorder,
    StoredEvent,
    Tracking,
)
from eventsourcing.sqlite._datastore import SQLiteDatastore, quote_identifier

_new = object.__new__
_setattr = object.__setattr__


def _uuid(text: str) -> UUID:
    # UUID(text) strips braces and a "urn:uuid:" prefix and checks the length,
    # none of which a string written by str(UUID) or UUID.hex needs; this is equal
    # to it.
    uuid: UUID = _new(UUID)
    _setattr(uuid, "int", int(text.replace("-", ""), 16))
    _setattr(uuid, "is_safe", SafeUUID.unknown)
    return uuid


def _tracking_table_name(events_table_name: str) -> str:
    if events_table_name == "stored_events":
        return "tracking"
    if events_table_name.endswith("_events"):
        return events_table_name[: -len("events")] + "tracking"
    return events_table_name + "_tracking"


def _id_text(legacy: bool) -> Any:
    return (lambda uuid: uuid.hex) if legacy else str


class SQLiteAggregateRecorder(AggregateRecorder):
    """Records stored events in aggregate sequences in one SQLite table.

    The primary key ``(originator_id, originator_version)`` makes a second event
    at the same version a conflict, which fails the whole batch.
    """

    def __init__(
        self,
        datastore: SQLiteDatastore,
        events_table_name: str = "stored_events",
        *,
        legacy: bool = False,
    ) -> None:
        self.datastore = datastore
        self.events_table_name = events_table_name
        self.legacy_layout = legacy
        self._id_text = _id_text(legacy)
        self._events = quote_identifier(events_table_name)
        table = self._events
        self._insert_sql = (
            f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)"
        )
        # One statement per combination of filters, so sqlite3's statement cache
        # keeps each prepared.
        self._select_sql: dict[tuple[bool, bool, bool, bool], str] = {}
        for gt in (False, True):
            for lte in (False, True):
                for desc in (False, True):
                    for limit in (False, True):
                        self._select_sql[gt, lte, desc, limit] = (
                            f"SELECT originator_version, topic, state FROM {table} "
                            "WHERE originator_id = ?"
                            + (" AND originator_version > ?" if gt else "")
                            + (" AND originator_version <= ?" if lte else "")
                            + " ORDER BY originator_version"
                            + (" DESC" if desc else "")
                            + (" LIMIT ?" if limit else "")
                        )

    def create_table_statements(self) -> list[str]:
        """The SQL that creates this recorder's tables when they do not exist."""
        if self.legacy_layout:
            return [
                (
                    f"CREATE TABLE IF NOT EXISTS {self._events} (originator_id TEXT, "
                    "originator_version INTEGER, topic TEXT, state BLOB, "
                    "PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID"
                )
            ]
        return [
            (
                f"CREATE TABLE IF NOT EXISTS {self._events} ("
                "originator_id TEXT NOT NULL, "
                "originator_version INTEGER NOT NULL, "
                "topic TEXT NOT NULL, "
                "state BLOB NOT NULL, "
                "PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID"
            )
        ]

    def create_table(self) -> None:
        """Create this recorder's tables unless they exist."""
        with self.datastore.transaction(write=True) as connection:
            for statement in self.create_table_statements():
                connection.execute(statement)

    def _insert_events(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        """Write the stored events atomically: all of them, or none on any conflict."""
        with self.datastore.transaction(write=True) as connection:
            return self._insert(connection, stored_events, tracking)

    def _insert(
        self,
        connection: Any,
        stored_events: list[StoredEvent],
        tracking: Tracking | None,
    ) -> Sequence[int] | None:
        id_text = self._id_text
        rows = [
            (id_text(e.originator_id), e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        if len(rows) == 1:
            cursor = connection.execute(self._insert_sql, rows[0])
            return [cursor.lastrowid]
        connection.executemany(self._insert_sql, rows)
        # The write lock is held, so the new rows got the next IDs in turn.
        ((last,),) = connection.execute("SELECT last_insert_rowid()").fetchall()
        return range(last - len(rows) + 1, last + 1)

    def select_events(
        self,
        originator_id: UUID,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """Read the events of one aggregate, filtered by version and ordered."""
        params: list[Any] = [self._id_text(originator_id)]
        if gt is not None:
            params.append(gt)
        if lte is not None:
            params.append(lte)
        if limit is not None:
            params.append(limit)
        sql = self._select_sql[gt is not None, lte is not None, desc, limit is not None]
        rows = self.datastore.fetchall(sql, params)
        # starmap() loops in C: reading long sequences is a hot path.
        return list(starmap(partial(StoredEvent, originator_id), rows))


class SQLiteApplicationRecorder(SQLiteAggregateRecorder, ApplicationRecorder):
    """Records stored events with notification ids in the order they were committed.

    Writers take the database's write lock before inserting, so an id is never
    visible before a smaller one: a reader tailing the log misses nothing.
    """

    def __init__(
        self,
        datastore: SQLiteDatastore,
        events_table_name: str = "stored_events",
        *,
        legacy: bool = False,
    ) -> None:
        super().__init__(datastore, events_table_name, legacy=legacy)
        table = self._events
        id_column = "rowid" if legacy else "notification_id"
        self._select_notifications_sql = (
            f"SELECT {id_column}, originator_id, originator_version, topic, state "
            f"FROM {table} WHERE {id_column} >= ? ORDER BY {id_column} LIMIT ?"
        )
        self._select_topics_sql = (
            f"SELECT {id_column}, originator_id, originator_version, topic, state "
            f"FROM {table} WHERE {id_column} >= ? AND topic IN ({{}}) "
            f"ORDER BY {id_column} LIMIT ?"
        )
        # Number of topics -> the statement that filters by that many.
        self._select_topics: dict[int, str] = {}
        self._max_notification_id_sql = f"SELECT MAX({id_column}) FROM {table}"

    def wakeup_key(self) -> Hashable:
        """The database and the table: recorders of one log share it, so a commit
        by any of them in this process wakes the log's readers."""
        return (self.datastore.key, self.events_table_name)

    def create_table_statements(self) -> list[str]:
        """The SQL that creates this recorder's tables when they do not exist."""
        if self.legacy_layout:
            return [
                (
                    f"CREATE TABLE IF NOT EXISTS {self._events} (originator_id TEXT, "
                    "originator_version INTEGER, topic TEXT, state BLOB, "
                    "PRIMARY KEY (originator_id, originator_version))"
                )
            ]
        return [
            (
                f"CREATE TABLE IF NOT EXISTS {self._events} ("
                "notification_id INTEGER PRIMARY KEY, "
                "originator_id TEXT NOT NULL, "
                "originator_version INTEGER NOT NULL, "
                "topic TEXT NOT NULL, "
                "state BLOB NOT NULL, "
                "UNIQUE (originator_id, originator_version))"
            )
        ]

    def select_notifications(
        self, start: int, limit: int, *, topics: Sequence[str] = ()
    ) -> list[Notification]:
        """Return up to ``limit`` notifications with ids from ``start``, ascending
        (only those of ``topics``, if given: filtered by SQLite)."""
        if topics:
            sql = self._select_topics.get(len(topics))
            if sql is None:
                sql = self._select_topics_sql.format(", ".join("?" * len(topics)))
                self._select_topics[len(topics)] = sql
            rows = self.datastore.fetchall(sql, (start, *topics, limit))
        else:
            rows = self.datastore.fetchall(
                self._select_notifications_sql, (start, limit)
            )
        return [
            Notification(_uuid(originator_id), version, topic, state, notification_id)
            for notification_id, originator_id, version, topic, state in rows
        ]

    def max_notification_id(self) -> int:
        """Return the largest notification id, or 0 when there are no events."""
        ((value,),) = self.datastore.fetchall(self._max_notification_id_sql)
        return int(value or 0)


class SQLiteProcessRecorder(SQLiteApplicationRecorder, ProcessRecorder):
    """Records stored events atomically with the tracking record of what was processed.

    A tracking record that exists already fails the batch, so one upstream
    notification is never processed twice.
    """

    def __init__(
        self,
        datastore: SQLiteDatastore,
        events_table_name: str = "stored_events",
        tracking_table_name: str | None = None,
        *,
        legacy: bool = False,
    ) -> None:
        super().__init__(datastore, events_table_name, legacy=legacy)
        if tracking_table_name is None:
            tracking_table_name = _tracking_table_name(events_table_name)
        self.tracking_table_name = tracking_table_name
        self._tracking = quote_identifier(tracking_table_name)
        self._insert_tracking_sql = (
            f"INSERT INTO {self._tracking} (application_name, notification_id) "
            "VALUES (?, ?)"
        )
        self._max_tracking_id_sql = (
            f"SELECT MAX(notification_id) FROM {self._tracking} "
            "WHERE application_name = ?"
        )

    def create_table_statements(self) -> list[str]:
        """The SQL that creates this recorder's tables when they do not exist."""
        not_null = "" if self.legacy_layout else " NOT NULL"
        return [
            *super().create_table_statements(),
            (
                f"CREATE TABLE IF NOT EXISTS {self._tracking} ("
                f"application_name TEXT{not_null}, "
                f"notification_id INTEGER{not_null}, "
                "PRIMARY KEY (application_name, notification_id)) WITHOUT ROWID"
            ),
        ]

    def _insert_events(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        """Write the stored events and the tracking record atomically: all of them,
        or none on any conflict."""
        if tracking is not None and not stored_events:
            # Only a follower's position (its policy saved nothing): one
            # statement, which is atomic on its own.
            self.datastore.execute_alone(
                self._insert_tracking_sql,
                (tracking.application_name, tracking.notification_id),
            )
            return []
        return super()._insert_events(stored_events, tracking)

    def _insert(
        self,
        connection: Any,
        stored_events: list[StoredEvent],
        tracking: Tracking | None,
    ) -> Sequence[int] | None:
        if tracking is not None:
            connection.execute(
                self._insert_tracking_sql,
                (tracking.application_name, tracking.notification_id),
            )
        return super()._insert(connection, stored_events, tracking)

    def max_tracking_id(self, application_name: str) -> int:
        """Return the last notification id tracked from ``application_name``, or 0."""
        ((value,),) = self.datastore.fetchall(
            self._max_tracking_id_sql, (application_name,)
        )
        return int(value or 0)
