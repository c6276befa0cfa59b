"""Infrastructure factory that builds PostgreSQL recorders from environment
variables."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any, cast

from eventsourcing.persistence import (
    ApplicationRecorder,
    ConfigurationError,
    InfrastructureFactory,
    StoredEvent,
    StoreUpgrade,
    TrackingRecorder,
    Wakeup,
)
from eventsourcing.postgres._coordination import (
    DEFAULT_LEASE_TIMEOUT,
    PostgresLeases,
    PostgresWakeup,
)
from eventsourcing.postgres._datastore import PostgresDatastore
from eventsourcing.postgres._recorders import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresProcessRecorder,
)
from eventsourcing.postgres._tracking import PostgresTrackingRecorder
from eventsourcing.utils import strtobool

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["Factory"]

logger = logging.getLogger("eventsourcing.postgres")

_TRUTH_VALUES = (
    "one of 'y', 'yes', 't', 'true', 'on', '1' or 'n', 'no', 'f', 'false', 'off', '0'"
)


class Factory(InfrastructureFactory):
    """Constructs PostgreSQL recorders for one application, configured by environment.

    Required: "POSTGRES_DBNAME", "POSTGRES_HOST", "POSTGRES_USER" and
    "POSTGRES_PASSWORD"; "POSTGRES_PORT" defaults to 5432. Optional:
    "POSTGRES_CONN_MAX_AGE", "POSTGRES_PRE_PING", "POSTGRES_LOCK_TIMEOUT",
    "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", "POSTGRES_SCHEMA",
    "POSTGRES_LEASE_TIMEOUT" and "CREATE_TABLE" (see the package README).
    Tables are named after the application, so several applications can share
    one database.
    """

    POSTGRES_DBNAME = "POSTGRES_DBNAME"
    POSTGRES_HOST = "POSTGRES_HOST"
    POSTGRES_PORT = "POSTGRES_PORT"
    POSTGRES_USER = "POSTGRES_USER"
    POSTGRES_PASSWORD = "POSTGRES_PASSWORD"
    POSTGRES_CONN_MAX_AGE = "POSTGRES_CONN_MAX_AGE"
    POSTGRES_PRE_PING = "POSTGRES_PRE_PING"
    POSTGRES_LOCK_TIMEOUT = "POSTGRES_LOCK_TIMEOUT"
    POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT = (
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT"
    )
    POSTGRES_SCHEMA = "POSTGRES_SCHEMA"
    POSTGRES_LEASE_TIMEOUT = "POSTGRES_LEASE_TIMEOUT"
    CREATE_TABLE = "CREATE_TABLE"
    DEFAULT_PORT = 5432

    def __init__(self, application_name: str, env: Mapping[str, str]) -> None:
        super().__init__(application_name, env)
        dbname = self._required(self.POSTGRES_DBNAME, "the name of the database")
        host = self._required(self.POSTGRES_HOST, "the database server's host name")
        user = self._required(self.POSTGRES_USER, "the database user name")
        password = self.getenv(self.POSTGRES_PASSWORD)
        if password is None:
            msg = (
                f"{self.POSTGRES_PASSWORD} is not set. Set it to the database user's "
                "password to use the 'postgres' persistence backend."
            )
            raise ConfigurationError(msg)
        self._create_table = self._bool(self.CREATE_TABLE, default=True)
        self._checked_tables = False
        self.datastore = PostgresDatastore(
            dbname=dbname,
            host=host,
            port=self._port(),
            user=user,
            password=password,
            conn_max_age=self._conn_max_age(),
            pre_ping=self._bool(self.POSTGRES_PRE_PING, default=False),
            lock_timeout=self._timeout(
                self.POSTGRES_LOCK_TIMEOUT,
                "the time to wait for the table lock when inserting events",
            ),
            idle_in_transaction_session_timeout=self._timeout(
                self.POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT,
                "the time after which a session idle inside a transaction is ended",
            ),
            schema=self.getenv(self.POSTGRES_SCHEMA) or None,
        )
        self.lease_timeout = self._lease_timeout()
        logger.info(
            "Application %r uses PostgreSQL database %r at %s:%s as user %r, "
            "schema %r: %s",
            application_name,
            dbname,
            host,
            self.datastore.port,
            user,
            self.datastore.schema or "(the search path)",
            ", ".join(self._table_name(p) for p in ("events", "snapshots", "tracking")),
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(application_name={self.application_name!r}, "
            f"datastore={self.datastore!r})"
        )

    # Reading the environment.

    def _required(self, key: str, what: str) -> str:
        value = self.getenv(key)
        if not value:
            msg = (
                f"{key} is not set. Set it to {what} to use the 'postgres' "
                "persistence backend."
            )
            raise ConfigurationError(msg)
        return value

    def _port(self) -> int:
        value = self.getenv(self.POSTGRES_PORT) or str(self.DEFAULT_PORT)
        try:
            port = int(value)
        except ValueError:
            port = 0
        if not 0 < port < 65536:
            msg = (
                f"{self.POSTGRES_PORT}={value!r} is not a port number. Set it to "
                f"a number from 1 to 65535, or unset it for {self.DEFAULT_PORT}."
            )
            raise ConfigurationError(msg)
        return port

    def _bool(self, key: str, *, default: bool) -> bool:
        value = self.getenv(key)
        if not value:
            return default
        try:
            return strtobool(value)
        except ValueError as e:
            msg = f"{key}={value!r} is not a truth value. Use {_TRUTH_VALUES}."
            raise ConfigurationError(msg) from e

    def _number(self, key: str, meaning: str) -> float | None:
        """A non-negative finite number of seconds, or None when unset or empty."""
        value = self.getenv(key)
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and number >= 0):
            msg = (
                f"{key}={value!r} is not a number of seconds. Set it to a number "
                f"such as '5' or '0.5': {meaning}"
            )
            raise ConfigurationError(msg)
        return number

    def _timeout(self, key: str, what: str) -> float:
        meaning = f"{what} (0, empty or unset: no timeout)."
        return self._number(key, meaning) or 0.0

    def _lease_timeout(self) -> float:
        meaning = (
            "the time after which the server frees the leases of a worker whose "
            "host or network went silent, at least 1 "
            f"(default {DEFAULT_LEASE_TIMEOUT:g})."
        )
        value = self._number(self.POSTGRES_LEASE_TIMEOUT, meaning)
        if value is None:
            return DEFAULT_LEASE_TIMEOUT
        if value < 1:
            msg = (
                f"{self.POSTGRES_LEASE_TIMEOUT}={value!r} is too short: TCP "
                "keepalive counts in whole seconds, so set it to 1 or more."
            )
            raise ConfigurationError(msg)
        return value

    def _conn_max_age(self) -> float | None:
        meaning = (
            "the age after which an idle connection is closed (0: each connection "
            "is used for one transaction; empty or unset: connections are reused "
            "indefinitely)."
        )
        return self._number(self.POSTGRES_CONN_MAX_AGE, meaning)

    # Recorders.

    def upgrade(
        self, reseal: Callable[[StoredEvent], bytes], *, into: str | None = None
    ) -> StoreUpgrade:
        """Writes the application's events and snapshots again with the state
        ``reseal`` returns, in one transaction (so an interrupted upgrade changes
        nothing). The tables of eventsourcing 9.1 already have the current layout."""
        from eventsourcing.postgres._upgrade import upgrade

        return upgrade(self, reseal, into)

    def table_name(self, purpose: str) -> str:
        """The name of the application's table for ``purpose`` ("events",
        "snapshots", "tracking")."""
        return self._table_name(purpose)

    def _table_name(self, purpose: str) -> str:
        prefix = self.application_name.lower()
        if prefix:
            return f"{prefix}_{purpose}"
        return "stored_events" if purpose == "events" else purpose

    def _prepare(self, recorder: PostgresAggregateRecorder) -> None:
        if self._create_table:
            if not self._checked_tables:
                self._checked_tables = True
                self._warn_of_new_tables()
            recorder.create_table()

    def _warn_of_new_tables(self) -> None:
        """Say so when an application starts with new tables beside other
        applications' tables: it may have been renamed, and would not see its
        events."""
        own = self._table_name("events")

        def tables(cursor: Any) -> list[str]:
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE "
                "table_schema = COALESCE(%s, current_schema()) AND "
                "table_name LIKE %s",
                (self.datastore.schema, "%\\_events"),
            )
            return sorted(row[0] for row in cursor.fetchall())

        found = self.datastore.read(tables)
        if found and own not in found:
            logger.warning(
                "Application %r has no table %r in PostgreSQL database %r, which "
                "holds the tables of other applications (%s): new, empty tables are "
                "created. If the application was renamed, give its class the old "
                "name (the class attribute 'name') to keep its events.",
                self.application_name,
                own,
                self.datastore.dbname,
                ", ".join(found),
            )

    def aggregate_recorder(self, purpose: str = "events") -> PostgresAggregateRecorder:
        """Constructs an aggregate recorder whose table is named after ``purpose``."""
        recorder = PostgresAggregateRecorder(self.datastore, self._table_name(purpose))
        self._prepare(recorder)
        return recorder

    def application_recorder(self) -> PostgresApplicationRecorder:
        """Constructs an application recorder."""
        recorder = PostgresApplicationRecorder(
            self.datastore, self._table_name("events")
        )
        self._prepare(recorder)
        return recorder

    def process_recorder(self) -> PostgresProcessRecorder:
        """Constructs a process recorder, with a tracking table beside the events."""
        recorder = PostgresProcessRecorder(
            self.datastore, self._table_name("events"), self._table_name("tracking")
        )
        self._prepare(recorder)
        return recorder

    tracking_recorder_base = PostgresTrackingRecorder

    def _construct_tracking_recorder(
        self, cls: type[TrackingRecorder]
    ) -> PostgresTrackingRecorder:
        """Constructs a tracking recorder (a view) named after the application, in
        the application's database and schema."""
        recorder = cast(type[PostgresTrackingRecorder], cls)(
            self.datastore, self.application_name
        )
        if self._create_table:
            recorder.create_table()
        return recorder

    # Coordination.

    def wakeup(self, recorder: ApplicationRecorder) -> Wakeup:
        """Listens, on a connection of its own, for the notifications that inserts
        into a PostgreSQL recorder's table send when they commit; other recorders
        get the default.

        .. versionadded:: 9.1.0
        """
        if isinstance(recorder, PostgresApplicationRecorder):
            return PostgresWakeup(recorder.datastore, recorder.channel())
        return super().wakeup(recorder)

    def leases(self) -> PostgresLeases:
        """Leases that are the server's session advisory locks, shared by every
        worker of this application on any host that uses this database (see
        "POSTGRES_LEASE_TIMEOUT").

        .. versionadded:: 9.1.0
        """
        return PostgresLeases(
            self.datastore,
            scope=f"{self.datastore.current_schema()}.{self.application_name}",
            timeout=self.lease_timeout,
        )

    def close(self) -> None:
        """Close the database connections."""
        self.datastore.close()
