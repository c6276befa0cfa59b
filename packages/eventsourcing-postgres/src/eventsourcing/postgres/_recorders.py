"""Aggregate, application and process recorders on PostgreSQL tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from psycopg2 import sql
from psycopg2.extras import execute_values

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    Notification,
    ProcessRecorder,
    StoredEvent,
    Tracking,
)
from eventsourcing.postgres._coordination import channel_name
from eventsourcing.postgres._datastore import Statement, check_identifier

if TYPE_CHECKING:
    from uuid import UUID

    from eventsourcing.postgres._datastore import DeferringCursor, PostgresDatastore

__all__ = [
    "PostgresAggregateRecorder",
    "PostgresApplicationRecorder",
    "PostgresProcessRecorder",
]

_EVENT_COLUMNS = sql.SQL(
    "originator_id uuid NOT NULL, "
    "originator_version bigint NOT NULL, "
    "topic text NOT NULL, "
    "state bytea NOT NULL"
)


class PostgresAggregateRecorder(AggregateRecorder):
    """Records stored events in a table keyed by originator ID and version."""

    def __init__(
        self, datastore: PostgresDatastore, events_table_name: str = "stored_events"
    ) -> None:
        self.datastore = datastore
        self.events_table_name = check_identifier(events_table_name, "table name")
        self.events_table = datastore.table(events_table_name)
        self._insert = Statement(
            sql.SQL(
                "INSERT INTO {} (originator_id, originator_version, topic, state) "
                "VALUES %s"
            ).format(self.events_table)
        )
        self._selects: dict[tuple[bool, bool, bool, bool], Statement] = {}
        self._returns_ids = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.datastore!r}, {self.events_table_name!r})"

    def create_table_statements(self) -> list[sql.Composable]:
        """The statements that create this recorder's tables if they do not exist."""
        return [
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ({}, "
                "PRIMARY KEY (originator_id, originator_version))"
            ).format(self.events_table, _EVENT_COLUMNS)
        ]

    def create_table(self) -> None:
        """Create the tables (and schema) unless they exist."""
        self.datastore.create_tables(self.create_table_statements())

    def _insert_events(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        """Writes stored events into database, all or none of them."""
        self.datastore.write(lambda cursor: self._write_rows(cursor, stored_events))
        return None

    def _write_rows(
        self, cursor: Any, stored_events: list[StoredEvent]
    ) -> list[int] | None:
        """Insert the rows; returns their notification IDs if the statement
        returns them."""
        rows = execute_values(
            cursor,
            self._insert.render(cursor),
            [
                (e.originator_id, e.originator_version, e.topic, e.state)
                for e in stored_events
            ],
            page_size=len(stored_events),
            fetch=self._returns_ids,
        )
        return [row[0] for row in rows] if self._returns_ids else None

    def select_events(
        self,
        originator_id: UUID,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """Reads stored events from database."""
        query = self._select_query(
            gt is not None, lte is not None, desc, limit is not None
        )
        params: list[Any] = [originator_id]
        params.extend(p for p in (gt, lte, limit) if p is not None)

        def select(cursor: Any) -> list[StoredEvent]:
            cursor.execute(query.render(cursor), params)
            return [
                StoredEvent(originator_id, version, topic, bytes(state))
                for version, topic, state in cursor.fetchall()
            ]

        return self.datastore.read(select)

    def _select_query(self, gt: bool, lte: bool, desc: bool, limit: bool) -> Statement:
        key = (gt, lte, desc, limit)
        query = self._selects.get(key)
        if query is None:
            parts = [
                sql.SQL(
                    "SELECT originator_version, topic, state FROM {} "
                    "WHERE originator_id = %s"
                ).format(self.events_table)
            ]
            if gt:
                parts.append(sql.SQL(" AND originator_version > %s"))
            if lte:
                parts.append(sql.SQL(" AND originator_version <= %s"))
            parts.append(sql.SQL(" ORDER BY originator_version"))
            if desc:
                parts.append(sql.SQL(" DESC"))
            if limit:
                parts.append(sql.SQL(" LIMIT %s"))
            query = self._selects[key] = Statement(sql.Composed(parts))
        return query


class PostgresApplicationRecorder(PostgresAggregateRecorder, ApplicationRecorder):
    """Records stored events with notification IDs in commit order.

    Inserts take the table's ``EXCLUSIVE`` lock, so concurrent writers are
    serialised and a reader tailing the notification log never misses one, and
    notify the table's :meth:`channel` in the same transaction, so listeners hear
    of new notifications when they commit.
    """

    def __init__(
        self, datastore: PostgresDatastore, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name)
        self._insert = Statement(
            sql.SQL(
                "INSERT INTO {} (originator_id, originator_version, topic, state) "
                "VALUES %s RETURNING notification_id"
            ).format(self.events_table)
        )
        self._returns_ids = True
        self._lock = datastore.lock_table(self.events_table)
        self._lock_and_notify: Statement | None = None
        self._select_notifications = Statement(
            sql.SQL(
                "SELECT notification_id, originator_id, originator_version, topic, "
                "state FROM {} WHERE notification_id >= %s "
                "ORDER BY notification_id LIMIT %s"
            ).format(self.events_table)
        )
        self._select_topics = Statement(
            sql.SQL(
                "SELECT notification_id, originator_id, originator_version, topic, "
                "state FROM {} WHERE notification_id >= %s AND topic = ANY(%s) "
                "ORDER BY notification_id LIMIT %s"
            ).format(self.events_table)
        )
        self._max_notification_id = Statement(
            sql.SQL("SELECT MAX(notification_id) FROM {}").format(self.events_table)
        )

    def create_table_statements(self) -> list[sql.Composable]:
        return [
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ({}, "
                "notification_id bigserial UNIQUE, "
                "PRIMARY KEY (originator_id, originator_version))"
            ).format(self.events_table, _EVENT_COLUMNS)
        ]

    def channel(self) -> str:
        """The channel that each insert notifies when it commits (see
        :meth:`Factory.wakeup`): named after the schema-qualified table."""
        return channel_name(self.datastore.current_schema(), self.events_table_name)

    def _begin_notifying(self) -> Statement:
        """The table lock, and a notification sent when the transaction commits."""
        statement = self._lock_and_notify
        if statement is None:
            statement = self._lock_and_notify = Statement(
                sql.SQL("{}; NOTIFY {}").format(
                    self._lock.composed, sql.Identifier(self.channel())
                )
            )
        return statement

    def _insert_events(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        """Writes stored events into database, all or none of them; returns their
        notification IDs."""
        ids: list[int] | None = self.datastore.write(
            lambda cursor: self._write_rows(cursor, stored_events),
            begin=self._begin_notifying(),
        )
        return ids

    def select_notifications(
        self, start: int, limit: int, *, topics: Sequence[str] = ()
    ) -> list[Notification]:
        """Returns a list of event notifications from 'start', limited by 'limit'
        (only those of ``topics``, if given: filtered by PostgreSQL)."""

        def select(cursor: Any) -> list[Notification]:
            if topics:
                cursor.execute(
                    self._select_topics.render(cursor), (start, list(topics), limit)
                )
            else:
                cursor.execute(
                    self._select_notifications.render(cursor), (start, limit)
                )
            return [
                Notification(
                    originator_id, version, topic, bytes(state), notification_id
                )
                for notification_id, originator_id, version, topic, state in (
                    cursor.fetchall()
                )
            ]

        return self.datastore.read(select)

    def max_notification_id(self) -> int:
        """Returns the maximum notification ID (0 when there are none)."""

        def select(cursor: Any) -> int:
            cursor.execute(self._max_notification_id.render(cursor))
            value: int | None = cursor.fetchone()[0]
            return value or 0

        return self.datastore.read(select)


class PostgresProcessRecorder(PostgresApplicationRecorder, ProcessRecorder):
    """Records stored events atomically with tracking records."""

    def __init__(
        self,
        datastore: PostgresDatastore,
        events_table_name: str = "stored_events",
        tracking_table_name: str = "tracking",
    ) -> None:
        super().__init__(datastore, events_table_name)
        self.tracking_table_name = check_identifier(tracking_table_name, "table name")
        self.tracking_table = datastore.table(tracking_table_name)
        self._insert_tracking = Statement(
            sql.SQL(
                "INSERT INTO {} (application_name, notification_id) VALUES (%s, %s)"
            ).format(self.tracking_table)
        )
        self._max_tracking_id = Statement(
            sql.SQL(
                "SELECT MAX(notification_id) FROM {} WHERE application_name = %s"
            ).format(self.tracking_table)
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.datastore!r}, {self.events_table_name!r}, "
            f"{self.tracking_table_name!r})"
        )

    def create_table_statements(self) -> list[sql.Composable]:
        return [
            *super().create_table_statements(),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                "application_name text NOT NULL, "
                "notification_id bigint NOT NULL, "
                "PRIMARY KEY (application_name, notification_id))"
            ).format(self.tracking_table),
        ]

    def _insert_events(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        """Writes stored events and the ``tracking`` record (if given) atomically."""
        if tracking is None:
            return super()._insert_events(stored_events, tracking)

        def insert(cursor: DeferringCursor) -> list[int] | None:
            # Sent with BEGIN and the events, in one round trip.
            cursor.defer(
                cursor.mogrify(
                    self._insert_tracking.render(cursor),
                    (tracking.application_name, tracking.notification_id),
                )
            )
            if stored_events:
                return self._write_rows(cursor, stored_events)
            return []

        # A position alone adds no notification: no one to wake, and no order
        # of notification IDs to keep, so no table lock for the workers of one
        # follower to queue for (the tracking table's key refuses duplicates).
        begin = self._begin_notifying() if stored_events else None
        ids: list[int] | None = self.datastore.write(insert, begin=begin)
        return ids

    def max_tracking_id(self, application_name: str) -> int:
        """Returns the last recorded notification ID from given application."""

        def select(cursor: Any) -> int:
            cursor.execute(self._max_tracking_id.render(cursor), (application_name,))
            value: int | None = cursor.fetchone()[0]
            return value or 0

        return self.datastore.read(select)
