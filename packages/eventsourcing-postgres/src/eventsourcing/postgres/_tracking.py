"""A tracking recorder on a PostgreSQL table, whose subclasses are views: read
models in tables of the user's own, in the same database, changed in the same
transactions as the positions."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import psycopg2
import psycopg2.errors
from psycopg2 import sql

from eventsourcing.persistence import (
    IntegrityError,
    RecordConflictError,
    TrackingRecorder,
)
from eventsourcing.postgres._datastore import (
    PostgresDatastore,
    check_identifier,
    translate_error,
)

__all__ = ["PostgresTrackingRecorder"]


class PostgresTrackingRecorder(TrackingRecorder):
    """Records positions in the table ``<name>_positions`` (one row for each
    application), in the schema of "POSTGRES_SCHEMA" if set; a view derived from it
    adds tables of its own.

    A view names its tables with :meth:`table` (``table("orders")`` is
    ``"<name>_orders"``, quoted and schema-qualified), adds their ``CREATE TABLE
    IF NOT EXISTS`` statements to :meth:`create_table_statements`, and changes them
    with the cursor that
    :meth:`~eventsourcing.persistence.TrackingRecorder.transaction` gives its
    block, in one transaction with the positions. ``BEGIN`` goes with the block's
    first statement and the positions with ``COMMIT``, so they cost no round trip
    of their own. Nested transactions are savepoints. Queries can use
    :meth:`PostgresDatastore.read` (``view.datastore``).
    """

    def __init__(self, datastore: PostgresDatastore, name: str = "") -> None:
        self.datastore = datastore
        self.name = name
        # The names given by table() while this is a dict, not None.
        self._named: dict[str, str] | None = None
        # Purpose -> the table's name and its quoted name (a view's statements
        # name their tables each time they run).
        self._tables: dict[str, tuple[str, str]] = {}
        self._positions_name = self._prefixed("positions")
        self.positions_table = self._quote(self._positions_name)
        self._select_sql = (
            f"SELECT notification_id FROM {self.positions_table} "
            "WHERE application_name = %s"
        )
        # A position that is already at or after the first notification becomes
        # NULL, which the NOT NULL column refuses: the conflict fails the statement.
        self._upsert_sql = (
            f"INSERT INTO {self.positions_table} AS p (application_name, "
            "notification_id) VALUES (%s, %s) ON CONFLICT (application_name) DO "
            "UPDATE SET notification_id = CASE WHEN p.notification_id < %s "
            "THEN EXCLUDED.notification_id END"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.datastore!r}, {self.name!r})"

    def _prefixed(self, purpose: str) -> str:
        name = f"{self.name.lower()}_{purpose}" if self.name else purpose
        return check_identifier(name, "table name")

    def _quote(self, name: str) -> str:
        # Identifiers are checked (letters, digits, underscores), so quoting them
        # is all it takes.
        schema = self.datastore.schema
        return f'"{schema}"."{name}"' if schema else f'"{name}"'

    def table(self, purpose: str) -> str:
        """The quoted (schema-qualified) name of the view's table for ``purpose``:
        ``<name>_<purpose>`` (just ``<purpose>`` when the view has no name)."""
        known = self._tables.get(purpose)
        if known is None:
            name = self._prefixed(purpose)
            known = self._tables[purpose] = (name, self._quote(name))
        if self._named is not None:
            self._named[known[0]] = known[1]
        return known[1]

    def create_table_statements(self) -> list[str]:
        """The SQL that creates the view's tables when they do not exist; a view
        extends the list with its own, naming them with :meth:`table`."""
        return [
            (
                f"CREATE TABLE IF NOT EXISTS {self.positions_table} ("
                "application_name text PRIMARY KEY, "
                "notification_id bigint NOT NULL)"
            )
        ]

    def create_table(self) -> None:
        """Create the view's tables (and schema) unless they exist."""
        self.datastore.create_tables(
            [sql.SQL(statement) for statement in self.create_table_statements()]
        )

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

        def run(cursor: Any) -> None:
            for name, quoted in named.items():
                # Only tables: a name given to an index goes with its table.
                cursor.execute(
                    "SELECT 1 FROM information_schema.tables WHERE table_schema = "
                    "COALESCE(%s, current_schema()) AND table_name = %s AND "
                    "table_type = 'BASE TABLE'",
                    (self.datastore.schema, name),
                )
                if cursor.fetchall():
                    cursor.execute(statement.format(quoted))

        self.datastore.write(run)

    def wakeup_key(self) -> Hashable:
        datastore = self.datastore
        return (
            "positions",
            datastore.host,
            datastore.port,
            datastore.dbname,
            self.positions_table,
        )

    def max_tracking_id(self, application_name: str) -> int:
        """Returns the position of the named application (0 before any)."""

        def select(cursor: Any) -> int:
            cursor.execute(self._select_sql, (application_name,))
            rows = cursor.fetchall()
            return int(rows[0][0]) if rows else 0

        return self.datastore.read(select)

    def _begin(self) -> tuple[Any, Any]:
        transaction = self.datastore.transaction()
        cursor = transaction.__enter__()
        return (transaction, cursor), cursor

    def _commit(self, state: Any, positions: dict[str, tuple[int, int]]) -> None:
        transaction, cursor = state
        for name, (first, last) in positions.items():
            cursor.defer(cursor.mogrify(self._upsert_sql, (name, last, first)))
        try:
            transaction.__exit__(None, None, None)
        except IntegrityError as error:
            if not isinstance(error.__cause__, psycopg2.errors.NotNullViolation):
                raise
            names = ", ".join(
                f"{first} of {name!r}" for name, (first, _) in positions.items()
            )
            msg = (
                f"Notification {names} was already processed into {self!r}; "
                "nothing was recorded"
            )
            raise RecordConflictError(msg) from error

    def _rollback(self, state: Any, error: BaseException) -> None:
        transaction, _ = state
        transaction.__exit__(type(error), error, error.__traceback__)

    def _savepoint(self, state: Any, depth: int) -> None:
        state[1].defer(f"SAVEPOINT nested_{depth}".encode())

    def _release(self, state: Any, depth: int) -> None:
        state[1].defer(f"RELEASE SAVEPOINT nested_{depth}".encode())

    def _rollback_to(self, state: Any, depth: int, error: BaseException) -> None:
        state[1].execute(
            f"ROLLBACK TO SAVEPOINT nested_{depth}; RELEASE SAVEPOINT nested_{depth}"
        )
        if isinstance(error, psycopg2.Error):
            raise translate_error(error, self.datastore._password) from error
