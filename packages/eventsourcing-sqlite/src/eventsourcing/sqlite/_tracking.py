"""A tracking recorder on a SQLite table, whose subclasses are views: read models
in tables of the user's own, in the same database, changed in the same
transactions as the positions."""

from __future__ import annotations

import sqlite3
from collections.abc import Hashable
from typing import Any

from eventsourcing.persistence import RecordConflictError, TrackingRecorder
from eventsourcing.sqlite._datastore import (
    SQLiteDatastore,
    quote_identifier,
    translate_error,
)

__all__ = ["SQLiteTrackingRecorder"]


class SQLiteTrackingRecorder(TrackingRecorder):
    """Records positions in the table ``<name>_positions`` (one row for each
    application); a view derived from it adds tables of its own.

    A view names its tables with :meth:`table` (``table("orders")`` is
    ``"<name>_orders"``, quoted), adds their ``CREATE TABLE IF NOT EXISTS``
    statements to :meth:`create_table_statements`, and changes them with the
    connection that :meth:`~eventsourcing.persistence.TrackingRecorder.transaction`
    gives its block, in one ``BEGIN IMMEDIATE`` transaction with the positions.
    Nested transactions are savepoints. Queries can use
    :meth:`SQLiteDatastore.fetchall` (``view.datastore``), which never waits for a
    writer.
    """

    def __init__(self, datastore: SQLiteDatastore, name: str = "") -> None:
        self.datastore = datastore
        self.name = name
        # The names given by table() while this is a dict, not None.
        self._named: dict[str, str] | None = None
        # Purpose -> the table's name and its quoted name (a view's statements
        # name their tables each time they run).
        self._tables: dict[str, tuple[str, str]] = {}
        self._positions_name = self._prefixed("positions")
        self.positions_table = quote_identifier(self._positions_name)
        self._select_sql = (
            f"SELECT notification_id FROM {self.positions_table} "
            "WHERE application_name = ?"
        )
        # A position that is already at or after the first notification becomes
        # NULL, which the NOT NULL column refuses: the conflict fails the statement.
        self._upsert_sql = (
            f"INSERT INTO {self.positions_table} (application_name, notification_id) "
            "VALUES (?, ?) ON CONFLICT (application_name) DO UPDATE SET "
            "notification_id = CASE WHEN notification_id < ? "
            "THEN excluded.notification_id END"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.datastore.db_name!r}, {self.name!r})"

    def table(self, purpose: str) -> str:
        """The quoted name of the view's table for ``purpose``: ``<name>_<purpose>``
        (just ``<purpose>`` when the view has no name)."""
        known = self._tables.get(purpose)
        if known is None:
            name = self._prefixed(purpose)
            known = self._tables[purpose] = (name, quote_identifier(name))
        if self._named is not None:
            self._named[known[0]] = known[1]
        return known[1]

    def _prefixed(self, purpose: str) -> str:
        return f"{self.name.lower()}_{purpose}" if self.name else purpose

    def create_table_statements(self) -> list[str]:
        """The SQL that creates the view's tables when they do not exist; a view
        extends the list with its own, naming them with :meth:`table`."""
        return [
            (
                f"CREATE TABLE IF NOT EXISTS {self.positions_table} ("
                "application_name TEXT PRIMARY KEY, "
                "notification_id INTEGER NOT NULL) WITHOUT ROWID"
            )
        ]

    def create_table(self) -> None:
        """Create the view's tables unless they exist."""
        with self.datastore.transaction(write=True) as connection:
            for statement in self.create_table_statements():
                connection.execute(statement)

    def reset(self) -> None:
        """Deletes the rows of the view's tables (those that
        :meth:`create_table_statements` names) and its positions, in one
        transaction, so that a projection replays every notification into it."""
        self._on_each_table("DELETE FROM {}")

    def drop(self) -> None:
        """Drops the view's tables and positions (an old version's, once a new
        version answers the queries)."""
        self._on_each_table("DROP TABLE {}")

    def _on_each_table(self, statement: str) -> None:
        self._named = {}
        try:
            self.create_table_statements()
            named = {self._positions_name: self.positions_table, **self._named}
        finally:
            self._named = None
        with self.datastore.transaction(write=True) as connection:
            for name, quoted in named.items():
                # Only tables: a name given to an index is dropped with its table.
                if connection.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                    (name,),
                ).fetchall():
                    connection.execute(statement.format(quoted))

    def wakeup_key(self) -> Hashable:
        return ("positions", self.datastore.key, self.positions_table)

    def max_tracking_id(self, application_name: str) -> int:
        """Returns the position of the named application (0 before any)."""
        rows = self.datastore.fetchall(self._select_sql, (application_name,))
        return int(rows[0][0]) if rows else 0

    def _begin(self) -> tuple[Any, Any]:
        transaction = self.datastore.transaction(write=True)
        connection = transaction.__enter__()
        return (transaction, connection), connection

    def _commit(self, state: Any, positions: dict[str, tuple[int, int]]) -> None:
        transaction, connection = state
        try:
            for name, (first, last) in positions.items():
                connection.execute(self._upsert_sql, (name, last, first))
        except sqlite3.IntegrityError as error:
            msg = (
                f"Notification {first} of {name!r} was already processed into "
                f"{self!r}; nothing was recorded"
            )
            conflict = RecordConflictError(msg)
            transaction.__exit__(RecordConflictError, conflict, None)
            raise conflict from error
        except BaseException as error:
            transaction.__exit__(type(error), error, error.__traceback__)
            raise
        transaction.__exit__(None, None, None)

    def _rollback(self, state: Any, error: BaseException) -> None:
        transaction, _ = state
        transaction.__exit__(type(error), error, error.__traceback__)

    def _savepoint(self, state: Any, depth: int) -> None:
        state[1].execute(f"SAVEPOINT nested_{depth}")

    def _release(self, state: Any, depth: int) -> None:
        state[1].execute(f"RELEASE nested_{depth}")

    def _rollback_to(self, state: Any, depth: int, error: BaseException) -> None:
        connection = state[1]
        connection.execute(f"ROLLBACK TO nested_{depth}")
        connection.execute(f"RELEASE nested_{depth}")
        if isinstance(error, sqlite3.Error):
            raise translate_error(error) from error
