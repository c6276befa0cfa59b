"""PostgreSQL connections (one per thread, reused) and transactions, with driver
errors mapped to the PEP 249 tree of :mod:`eventsourcing.persistence`."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, TypeVar

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
from psycopg2 import sql

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
from eventsourcing.persistence import IntegrityError as PersistenceIntegrityError

__all__ = [
    "DeferringCursor",
    "InvalidIdentifier",
    "PostgresDatastore",
    "Statement",
    "check_identifier",
    "translate_error",
]

T = TypeVar("T")

logger = logging.getLogger("eventsourcing.postgres")

# PostgreSQL truncates longer identifiers (NAMEDATALEN - 1 bytes) silently.
MAX_IDENTIFIER_LENGTH = 63
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# Taken by every CREATE ... IF NOT EXISTS transaction: concurrent "IF NOT
# EXISTS" statements can otherwise both try to create the object and one fails
# with a unique violation in the system catalogues.
_DDL_ADVISORY_LOCK_KEY = 0x6576_656E_7473_7263  # "eventsrc"

MISSING_TABLE_HINT = (
    "Check that POSTGRES_DBNAME and POSTGRES_SCHEMA name the database and schema "
    "the application's tables are in, and that the application's name is the "
    "one that named them; or let it create them (CREATE_TABLE=y, the default)."
)

# The most specific class first: the first isinstance() match wins.
_ERRORS: tuple[tuple[type[Exception], type[PersistenceError]], ...] = (
    (psycopg2.errors.UniqueViolation, RecordConflictError),
    (psycopg2.IntegrityError, PersistenceIntegrityError),
    (psycopg2.DataError, DataError),
    (psycopg2.OperationalError, OperationalError),
    (psycopg2.InternalError, InternalError),
    (psycopg2.ProgrammingError, ProgrammingError),
    (psycopg2.NotSupportedError, NotSupportedError),
    (psycopg2.InterfaceError, InterfaceError),
    (psycopg2.DatabaseError, DatabaseError),
)


class InvalidIdentifier(ProgrammingError, ValueError):
    """A schema or table name that is not a plain SQL identifier, refused so that
    names derived from configuration can never inject SQL."""


def check_identifier(name: str, what: str) -> str:
    """Return ``name`` if it is a plain identifier PostgreSQL keeps as it is.

    Names are also quoted with :class:`psycopg2.sql.Identifier` wherever they are
    used; refusing anything unusual up front gives a clear error instead of a
    surprising table name.
    """
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        msg = (
            f"Invalid PostgreSQL {what} {name!r}: use ASCII letters, digits and "
            "underscores only, not starting with a digit (table names are derived "
            "from the application name and purpose, the schema from POSTGRES_SCHEMA)"
        )
        raise InvalidIdentifier(msg)
    if len(name) > MAX_IDENTIFIER_LENGTH:
        msg = (
            f"Invalid PostgreSQL {what} {name!r}: longer than "
            f"{MAX_IDENTIFIER_LENGTH} characters, which PostgreSQL would truncate "
            "(use a shorter application name)"
        )
        raise InvalidIdentifier(msg)
    return name


def translate_error(
    error: Exception, password: str = "", context: str = ""
) -> PersistenceError:
    """Return the persistence exception for a psycopg2 error, the error chained.

    The password is masked in the message, in case a driver message quotes it.
    """
    cls = next(
        (ours for theirs, ours in _ERRORS if isinstance(error, theirs)),
        PersistenceError,
    )
    message = str(error).strip() or type(error).__name__
    if isinstance(error, psycopg2.errors.UndefinedTable):
        message += f"\n{MISSING_TABLE_HINT}"
    if context:
        message = f"{context}: {message}"
    if password:
        message = message.replace(password, "********")
    translated = cls(message)
    translated.__cause__ = error
    return translated


class Statement:
    """SQL composed with quoted identifiers, rendered once (on first use) to text."""

    __slots__ = ("composed", "text")

    def __init__(self, composed: sql.Composable) -> None:
        self.composed = composed
        self.text: str | None = None

    def render(self, cursor: Any) -> str:
        if self.text is None:
            self.text = self.composed.as_string(cursor)
        return self.text


class DeferringCursor(psycopg2.extensions.cursor):  # type: ignore[misc]
    """A cursor that sends deferred statements with the next one, saving round trips.

    :meth:`PostgresDatastore.write` defers ``BEGIN`` (and the table lock), so a
    one-statement write costs two round trips: the statement, then ``COMMIT``.
    """

    deferred = b""

    def defer(self, statement: bytes) -> None:
        """Send ``statement`` (complete SQL, no parameters) with the next one."""
        self.deferred += statement + b"; "

    def execute(self, query: Any, vars: Any = None) -> None:
        if self.deferred:
            if isinstance(query, sql.Composable):
                query = query.as_string(self)
            if isinstance(query, str):
                query = query.encode(
                    psycopg2.extensions.encodings[self.connection.encoding]
                )
            prefix = self.deferred
            if vars is not None:
                prefix = prefix.replace(b"%", b"%%")
            self.deferred = b""
            query = prefix + query
        super().execute(query, vars)

    def flush(self) -> None:
        """Send any deferred statements now."""
        if self.deferred:
            statement, self.deferred = self.deferred, b""
            super().execute(statement)


class _Connection:
    """A psycopg2 connection with what the datastore needs to know about it."""

    __slots__ = ("created", "in_use", "owner", "raw")

    def __init__(self, raw: Any, owner: threading.Thread) -> None:
        self.raw = raw
        self.owner = owner
        self.created = time.monotonic()
        self.in_use = False


class PostgresDatastore:
    """Connects to one PostgreSQL database and runs statements and transactions.

    Each thread gets its own connection, reused for later operations. A
    connection is replaced when it is older than ``conn_max_age`` seconds at the
    start or end of an operation (``0``: one operation per connection; ``None``:
    reuse forever), when ``pre_ping`` finds it unusable, and when the server has
    closed it. A read that fails because the server closed the connection is
    retried once on a new connection; so is a write that failed that way before
    its ``COMMIT`` was sent (so nothing was committed). A write whose ``COMMIT``
    fails is never retried: its outcome is unknown.

    Writes run in explicit transactions on autocommit connections, so a read is
    one round trip. ``lock_timeout`` bounds the wait for the table lock of
    :meth:`lock_table`; ``idle_in_transaction_session_timeout`` ends sessions
    stuck inside a transaction (both in seconds, ``0`` for no limit).
    """

    def __init__(
        self,
        dbname: str,
        host: str,
        port: int | str,
        user: str,
        password: str,
        *,
        conn_max_age: float | None = None,
        pre_ping: bool = False,
        lock_timeout: float = 0,
        idle_in_transaction_session_timeout: float = 0,
        schema: str | None = None,
        connect_timeout: int = 30,
    ) -> None:
        self.dbname = dbname
        self.host = host
        self.port = int(port)
        self.user = user
        self._password = password
        self.conn_max_age = conn_max_age
        self.pre_ping = pre_ping
        self.lock_timeout = lock_timeout
        self.idle_in_transaction_session_timeout = idle_in_transaction_session_timeout
        self.schema = (
            None if schema is None else check_identifier(schema, "schema name")
        )
        self.connect_timeout = connect_timeout
        self._local = threading.local()
        self._guard = threading.Lock()
        self._connections: set[_Connection] = set()
        self._current_schema: str | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(dbname={self.dbname!r}, host={self.host!r}, "
            f"port={self.port!r}, user={self.user!r}, schema={self.schema!r})"
        )

    # Names and statements.

    def table(self, name: str) -> sql.Identifier:
        """Return the quoted (schema-qualified, if configured) name of a table."""
        check_identifier(name, "table name")
        if self.schema is None:
            return sql.Identifier(name)
        return sql.Identifier(self.schema, name)

    def lock_table(self, table: sql.Composable) -> Statement:
        """Statements that take the ``EXCLUSIVE`` lock on ``table`` until commit.

        Writers of one table are serialised by it, so notification IDs are
        committed in ascending order and a reader tailing the notification log
        cannot miss one committed by a concurrent writer. Readers (``ACCESS
        SHARE``) are neither blocked by it nor block it.
        """
        timeout_ms = round(self.lock_timeout * 1000)
        return Statement(
            sql.SQL(
                "SET LOCAL lock_timeout = {}; LOCK TABLE {} IN EXCLUSIVE MODE"
            ).format(sql.Literal(f"{timeout_ms}ms"), table)
        )

    def create_tables(self, statements: list[sql.Composable]) -> None:
        """Create the schema (if configured) and run ``CREATE ... IF NOT EXISTS``."""
        ddl: list[sql.Composable] = [
            sql.SQL("SELECT pg_advisory_xact_lock({})").format(
                sql.Literal(_DDL_ADVISORY_LOCK_KEY)
            )
        ]
        if self.schema is not None:
            ddl.append(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(self.schema)
                )
            )
        ddl.extend(statements)

        def create(cursor: Any) -> None:
            cursor.execute(sql.SQL("; ").join(ddl))

        self.write(create)

    # Operations.

    def read(self, operation: Callable[[Any], T]) -> T:
        """Run ``operation(cursor)`` outside a transaction (autocommit).

        Retried once on a new connection when the server had closed the old one.
        """
        retried = False
        while True:
            conn = self._checkout()
            try:
                with conn.raw.cursor() as cursor:
                    result = operation(cursor)
            except psycopg2.Error as e:
                broken = conn.raw.closed != 0
                self._checkin(conn, broken=broken)
                if broken and not retried:
                    logger.warning(
                        "PostgreSQL connection to %r at %s:%s was closed (%s): "
                        "reconnecting and reading again",
                        self.dbname,
                        self.host,
                        self.port,
                        str(e).strip() or type(e).__name__,
                    )
                    retried = True
                    continue
                raise translate_error(e, self._password) from e
            except BaseException:
                self._checkin(conn, broken=True)
                raise
            self._checkin(conn, broken=False)
            return result

    def write(
        self, operation: Callable[[DeferringCursor], T], begin: Statement | None = None
    ) -> T:
        """Run ``operation(cursor)`` in a transaction and commit it.

        ``BEGIN`` and the statements of ``begin`` (such as :meth:`lock_table`) are
        sent with the operation's first statement, in one round trip. Retried once
        on a new connection when the server had closed the old one before ``COMMIT``
        was sent; never when ``COMMIT`` failed.
        """
        retried = False
        while True:
            conn = self._checkout()
            committing = False
            try:
                with conn.raw.cursor(cursor_factory=DeferringCursor) as cursor:
                    start = b"BEGIN"
                    if begin is not None:
                        start += b"; " + begin.render(cursor).encode()
                    cursor.defer(start)
                    result = operation(cursor)
                    cursor.flush()
                    committing = True
                    cursor.execute("COMMIT")
            except psycopg2.Error as e:
                broken = conn.raw.closed != 0 or not self._rollback(conn)
                self._checkin(conn, broken=broken)
                if broken and committing:
                    context = (
                        "The connection failed while committing, so whether the "
                        "transaction was committed is unknown (it was not retried)"
                    )
                    raise translate_error(e, self._password, context) from e
                if broken and not retried:
                    logger.warning(
                        "PostgreSQL connection to %r at %s:%s was closed before "
                        "COMMIT was sent (%s): reconnecting and writing again",
                        self.dbname,
                        self.host,
                        self.port,
                        str(e).strip() or type(e).__name__,
                    )
                    retried = True
                    continue
                raise translate_error(e, self._password) from e
            except BaseException:
                # Closing the connection makes the server roll the transaction back.
                self._checkin(conn, broken=True)
                raise
            self._checkin(conn, broken=False)
            return result

    def transaction(self) -> AbstractContextManager[DeferringCursor]:
        """A transaction for a block that runs statements with the cursor it gets.

        ``BEGIN`` is sent with the block's first statement, ``COMMIT`` (with any
        statements deferred until then) when the block ends, ``ROLLBACK`` when it
        raises; driver errors arrive as persistence errors. Unlike :meth:`write`,
        never retried: a block cannot be run again. If a statement failed inside
        the block, whose error the block caught, nothing is committed and
        :class:`~eventsourcing.persistence.InternalError` is raised.
        """
        return _Transaction(self)

    def close(self) -> None:
        """Close every connection of this datastore (new operations reconnect)."""
        with self._guard:
            connections, self._connections = self._connections, set()
        for conn in connections:
            conn.raw.close()

    # Connections.

    def _connect(self) -> _Connection:
        options = (
            "-c idle_in_transaction_session_timeout="
            f"{round(self.idle_in_transaction_session_timeout * 1000)}"
        )
        raw = self.connect_dedicated(options=options)
        return _Connection(raw, threading.current_thread())

    def connect_dedicated(
        self,
        *,
        options: str = "",
        application_name: str = "eventsourcing",
        **parameters: Any,
    ) -> Any:
        """A new autocommit psycopg2 connection of the caller's own, outside the
        per-thread ones (listening for notifications and holding advisory locks
        need a session that nothing else uses). ``options`` and ``parameters``
        go to libpq; psycopg2 errors are raised as persistence errors."""
        try:
            raw = psycopg2.connect(
                dbname=self.dbname,
                host=self.host,
                port=self.port,
                user=self.user,
                password=self._password,
                connect_timeout=self.connect_timeout,
                options=options,
                application_name=application_name,
                **parameters,
            )
            raw.autocommit = True
            psycopg2.extras.register_uuid(conn_or_curs=raw)
        except psycopg2.Error as e:
            context = (
                f"Could not connect to PostgreSQL database {self.dbname!r} at "
                f"{self.host}:{self.port} as user {self.user!r} (check POSTGRES_HOST, "
                "POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DBNAME)"
            )
            raise translate_error(e, self._password, context) from e
        return raw

    def current_schema(self) -> str:
        """The schema that holds the tables: the configured one, else the first
        of the server's search path (asked once)."""
        if self.schema is not None:
            return self.schema
        if self._current_schema is None:

            def select(cursor: Any) -> str:
                cursor.execute("SELECT current_schema()")
                # NULL when no schema of the search path exists yet.
                name: str = cursor.fetchone()[0] or "public"
                return name

            self._current_schema = self.read(select)
        return self._current_schema

    def _checkout(self) -> _Connection:
        now = time.monotonic()
        with self._guard:
            # The sweep also closes this thread's connection if it is too old.
            self._sweep(now)
            conn: _Connection | None = getattr(self._local, "conn", None)
            if conn is not None and (conn not in self._connections or conn.raw.closed):
                self._discard(conn)
                conn = None
            if conn is not None:
                conn.in_use = True
        if conn is not None and self.pre_ping and not self._ping(conn):
            with self._guard:
                self._discard(conn)
            conn = None
        if conn is None:
            conn = self._connect()
            conn.in_use = True
            with self._guard:
                self._connections.add(conn)
            self._local.conn = conn
        return conn

    def _checkin(self, conn: _Connection, *, broken: bool) -> None:
        with self._guard:
            conn.in_use = False
            if broken or conn.raw.closed or self._too_old(conn, time.monotonic()):
                self._discard(conn)

    def _too_old(self, conn: _Connection, now: float) -> bool:
        return self.conn_max_age is not None and now - conn.created >= self.conn_max_age

    def _sweep(self, now: float) -> None:
        """Close idle connections that are too old or whose thread has ended."""
        for conn in list(self._connections):
            if not conn.in_use and (
                not conn.owner.is_alive() or self._too_old(conn, now)
            ):
                self._discard(conn)

    def _discard(self, conn: _Connection) -> None:
        self._connections.discard(conn)
        conn.raw.close()

    @staticmethod
    def _ping(conn: _Connection) -> bool:
        try:
            with conn.raw.cursor() as cursor:
                cursor.execute("SELECT 1")
        except psycopg2.Error:
            return False
        return True

    @staticmethod
    def _rollback(conn: _Connection) -> bool:
        """Roll back the failed transaction; say whether the connection survived."""
        try:
            with conn.raw.cursor() as cursor:
                cursor.execute("ROLLBACK")
        except psycopg2.Error:
            return False
        return True


class _Transaction:
    """The context manager of :meth:`PostgresDatastore.transaction`."""

    __slots__ = ("_conn", "_cursor", "_datastore")

    def __init__(self, datastore: PostgresDatastore) -> None:
        self._datastore = datastore

    def __enter__(self) -> DeferringCursor:
        datastore = self._datastore
        conn = datastore._checkout()
        cursor: DeferringCursor = conn.raw.cursor(cursor_factory=DeferringCursor)
        cursor.defer(b"BEGIN")
        self._conn = conn
        self._cursor = cursor
        return cursor

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        datastore, conn, cursor = self._datastore, self._conn, self._cursor
        if exc is not None:
            # Nothing was sent while BEGIN is still deferred.
            sent = not cursor.deferred.startswith(b"BEGIN")
            broken = conn.raw.closed != 0 or (sent and not datastore._rollback(conn))
            cursor.close()
            datastore._checkin(conn, broken=broken)
            if isinstance(exc, psycopg2.Error):
                raise translate_error(exc, datastore._password) from exc
            return
        try:
            cursor.execute("COMMIT")
            committed = cursor.statusmessage == "COMMIT"
        except psycopg2.Error as e:
            broken = conn.raw.closed != 0 or not datastore._rollback(conn)
            cursor.close()
            datastore._checkin(conn, broken=broken)
            context = (
                "The connection failed while committing, so whether the "
                "transaction was committed is unknown"
                if broken
                else ""
            )
            raise translate_error(e, datastore._password, context) from e
        except BaseException:
            datastore._checkin(conn, broken=True)
            raise
        cursor.close()
        datastore._checkin(conn, broken=False)
        if not committed:
            msg = (
                "The transaction was rolled back, not committed: a statement in it "
                "failed, and its error was caught inside the block. Let database "
                "errors leave the block (or use a nested transaction)"
            )
            raise InternalError(msg)
