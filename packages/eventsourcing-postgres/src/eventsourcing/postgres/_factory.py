"""Infrastructure factory that builds PostgreSQL recorders from environment
variables."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from eventsourcing.persistence import (
    ApplicationRecorder,
    ConfigurationError,
    InfrastructureFactory,
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
from eventsourcing.utils import strtobool

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Factory"]

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

    def _table_name(self, purpose: str) -> str:
        prefix = self.application_name.lower()
        if prefix:
            return f"{prefix}_{purpose}"
        return "stored_events" if purpose == "events" else purpose

    def _prepare(self, recorder: PostgresAggregateRecorder) -> None:
        if self._create_table:
            recorder.create_table()

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
