"""Infrastructure factory that builds SQLite recorders from environment variables."""

from __future__ import annotations

from collections.abc import Mapping

from eventsourcing.persistence import (
    ConfigurationError,
    InfrastructureFactory,
)
from eventsourcing.sqlite._datastore import MAX_LOCK_TIMEOUT, SQLiteDatastore
from eventsourcing.sqlite._recorders import (
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteProcessRecorder,
)
from eventsourcing.utils import strtobool


class Factory(InfrastructureFactory):
    """Constructs SQLite recorders for one application, configured by environment.

    ``"SQLITE_DBNAME"`` (required) names the database file, ``":memory:"``, or a
    ``file:`` URI; ``"SQLITE_LOCK_TIMEOUT"`` is the seconds to wait for the write
    lock (default 5); ``"CREATE_TABLE"`` (default true) says whether to create
    missing tables. Tables are named after the application, so several
    applications can share one database file.
    """

    SQLITE_DBNAME = "SQLITE_DBNAME"
    SQLITE_LOCK_TIMEOUT = "SQLITE_LOCK_TIMEOUT"
    CREATE_TABLE = "CREATE_TABLE"

    def __init__(self, application_name: str, env: Mapping[str, str]) -> None:
        super().__init__(application_name, env)
        db_name = self.getenv(self.SQLITE_DBNAME)
        if not db_name:
            msg = (
                f"{self.SQLITE_DBNAME} is not set. Set {self.SQLITE_DBNAME} to the "
                "path of a database file (or ':memory:') to use the 'sqlite' "
                "persistence backend."
            )
            raise ConfigurationError(msg)
        create_table_str = self.getenv(self.CREATE_TABLE) or "yes"
        try:
            self._create_table = bool(strtobool(create_table_str))
        except ValueError as e:
            msg = (
                f"{self.CREATE_TABLE}={create_table_str!r} is not a truth value. Use "
                "one of 'y', 'yes', 't', 'true', 'on', '1' or 'n', 'no', 'f', 'false', "
                "'off', '0'."
            )
            raise ConfigurationError(msg) from e
        lock_timeout_str = self.getenv(self.SQLITE_LOCK_TIMEOUT) or ""
        try:
            lock_timeout = float(lock_timeout_str) if lock_timeout_str else None
            self.datastore = SQLiteDatastore(db_name=db_name, lock_timeout=lock_timeout)
        except ValueError as e:
            msg = (
                f"{self.SQLITE_LOCK_TIMEOUT}={lock_timeout_str!r} is not a number of "
                f"seconds from 0 to {MAX_LOCK_TIMEOUT:.0f}. Set it to a number such as "
                "'5' or '0.5', or unset it for the default of 5."
            )
            raise ConfigurationError(msg) from e

    def _table_name(self, purpose: str) -> str:
        prefix = self.application_name.lower()
        if prefix:
            return f"{prefix}_{purpose}"
        return "stored_events" if purpose == "events" else purpose

    def _prepare(self, recorder: SQLiteAggregateRecorder) -> None:
        if self._create_table:
            recorder.create_table()

    def aggregate_recorder(self, purpose: str = "events") -> SQLiteAggregateRecorder:
        """Construct an aggregate recorder whose table is named after ``purpose``."""
        recorder = SQLiteAggregateRecorder(self.datastore, self._table_name(purpose))
        self._prepare(recorder)
        return recorder

    def application_recorder(self) -> SQLiteApplicationRecorder:
        """Construct an application recorder."""
        recorder = SQLiteApplicationRecorder(self.datastore, self._table_name("events"))
        self._prepare(recorder)
        return recorder

    def process_recorder(self) -> SQLiteProcessRecorder:
        """Construct a process recorder, with a tracking table beside the events."""
        recorder = SQLiteProcessRecorder(
            self.datastore,
            self._table_name("events"),
            self._table_name("tracking"),
        )
        self._prepare(recorder)
        return recorder

    def close(self) -> None:
        """Close the database connections."""
        self.datastore.close()
