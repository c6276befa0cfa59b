"""SQLite connections and transactions, raising persistence errors for driver errors."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

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

logger = logging.getLogger("eventsourcing.sqlite")

DEFAULT_LOCK_TIMEOUT = 5.0
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
DEFAULT_SYNCHRONOUS = "FULL"
DEFAULT_FILE_MODE = 0o600
# SQLite keeps its busy timeout as a 32-bit count of milliseconds, and the driver
# silently turns larger values (and infinity) into no waiting at all.
MAX_LOCK_TIMEOUT = 2_000_000.0

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Whether this process has warned of the WAL-reset bug (once is enough).
_warned_of_wal_reset_bug = False


def has_wal_reset_bug(version: tuple[int, int, int] | None = None) -> bool:
    """Tell whether a SQLite version (by default the one in use) has the WAL-reset bug
    (https://sqlite.org/wal.html#walresetbug): with two or more connections to one
    file in WAL mode, a rare race between checkpoints and a commit can lose
    committed transactions or corrupt the file. Versions 3.7.0 to 3.51.2 have it,
    but for the patch releases 3.44.6 and 3.50.7 that carry the fix.

    .. versionadded:: 9.1.0
    """
    if version is None:
        version = sqlite3.sqlite_version_info
    fixed_in_patch = (3, 44, 6) <= version < (3, 45) or (3, 50, 7) <= version < (3, 51)
    return (3, 7) <= version < (3, 51, 3) and not fixed_in_patch


def _warn_of_wal_reset_bug() -> None:
    global _warned_of_wal_reset_bug
    if _warned_of_wal_reset_bug or not has_wal_reset_bug():
        return
    _warned_of_wal_reset_bug = True
    logger.warning(
        "SQLite %s, which Python's sqlite3 module uses here, has the WAL-reset bug "
        "(https://sqlite.org/wal.html#walresetbug): when two or more connections "
        "write one database file (threads, processes or applications), a rare race "
        "can lose committed transactions or corrupt the file. Use a Python whose "
        "sqlite3.sqlite_version is 3.51.3 or later (or 3.44.6, 3.50.7), or "
        "PostgreSQL for concurrent writers",
        sqlite3.sqlite_version,
    )


MISSING_TABLE_HINT = (
    "Check that SQLITE_DBNAME names the database the application's tables are "
    "in, and that the application's name is the one that named them; or let it "
    "create them (CREATE_TABLE=y, the default)."
)

_ERRORS: dict[type[BaseException], type[PersistenceError]] = {
    sqlite3.InterfaceError: InterfaceError,
    sqlite3.DataError: DataError,
    sqlite3.OperationalError: OperationalError,
    # Our tables' only constraints are the unique keys of events and tracking
    # records, so every integrity error here is a conflict with a recorded record.
    sqlite3.IntegrityError: RecordConflictError,
    sqlite3.InternalError: InternalError,
    sqlite3.ProgrammingError: ProgrammingError,
    sqlite3.NotSupportedError: NotSupportedError,
    sqlite3.DatabaseError: DatabaseError,
    sqlite3.Error: PersistenceError,
}

# Shared-cache in-memory databases report contention as SQLITE_LOCKED, which the
# busy timeout does not cover, so every datastore on one such database in this
# process takes the same lock instead.
_shared_memory_locks: dict[str, threading.RLock] = {}
_shared_memory_locks_guard = threading.Lock()


class InvalidTableName(ProgrammingError, ValueError):
    """A table name that is not a plain SQL identifier, refused to prevent injection."""


def quote_identifier(name: str) -> str:
    """Return ``name`` quoted for SQL after checking it is a plain identifier.

    Table names come from application names and purposes, so anything other than
    letters, digits and underscores is refused rather than escaped.
    """
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        msg = (
            f"Invalid SQLite table name {name!r}: use letters, digits and "
            "underscores only, not starting with a digit (table names are "
            "derived from the application name and purpose)"
        )
        raise InvalidTableName(msg)
    return f'"{name}"'


def translate_error(error: sqlite3.Error, message: str = "") -> PersistenceError:
    """Return the persistence exception that corresponds to a sqlite3 error.

    The driver error becomes the ``__cause__`` of the returned exception.
    """
    cls = next(_ERRORS[c] for c in type(error).__mro__ if c in _ERRORS)
    message = message or str(error)
    if message.startswith("no such table:"):
        message += f". {MISSING_TABLE_HINT}"
    translated = cls(message)
    translated.__cause__ = error
    return translated


def _is_memory(db_name: str) -> tuple[bool, bool]:
    """Say whether ``db_name`` is in memory, and whether it is a shared cache."""
    if db_name in ("", ":memory:"):
        return True, False
    if not db_name.startswith("file:"):
        return False, False
    parts = urlsplit(db_name)
    query = parse_qs(parts.query)
    memory = parts.path == ":memory:" or "memory" in query.get("mode", [])
    return memory, memory and "shared" in query.get("cache", [])


# Connections a forked child inherited: never used, closed or collected there,
# since closing could checkpoint the WAL under the parent's feet.
_ABANDONED: list[sqlite3.Connection] = []


def _close_connections(
    per_thread: dict[int, sqlite3.Connection],
    others: list[sqlite3.Connection],
    guard: threading.Lock,
) -> None:
    with guard:
        for connection in [*per_thread.values(), *others]:
            connection.close()
        per_thread.clear()
        others.clear()


class SQLiteDatastore:
    """Opens connections to one SQLite database and runs transactions on it.

    A file database gets one connection per thread in WAL mode, so readers never
    wait for the writer; writes take the database lock with ``BEGIN IMMEDIATE`` and
    so are serialised, which gives notification ids in commit order. A plain
    ``":memory:"`` database exists only inside its one connection, so all threads
    share that connection under a lock. A shared-cache memory URI
    (``"file:name?mode=memory&cache=shared"``) gets a connection per thread and a
    process-wide lock per URI, while one extra connection keeps the database alive.
    """

    def __init__(
        self,
        db_name: str,
        lock_timeout: float | None = None,
        *,
        synchronous: str = DEFAULT_SYNCHRONOUS,
        file_mode: int = DEFAULT_FILE_MODE,
    ) -> None:
        self.db_name = db_name
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            msg = (
                f"SQLite synchronous mode must be one of {', '.join(SYNCHRONOUS_MODES)}"
                f", not {synchronous!r}"
            )
            raise ValueError(msg)
        self.synchronous = synchronous.upper()
        if not 0 <= file_mode <= 0o777:
            msg = f"SQLite file mode must be from 0o000 to 0o777, not {file_mode!r}"
            raise ValueError(msg)
        self.file_mode = file_mode
        if lock_timeout is None:
            lock_timeout = DEFAULT_LOCK_TIMEOUT
        if not 0 <= lock_timeout <= MAX_LOCK_TIMEOUT:  # also refuses NaN
            msg = (
                "SQLite lock timeout must be a number of seconds from 0 to "
                f"{MAX_LOCK_TIMEOUT:.0f}, not {lock_timeout!r}"
            )
            raise ValueError(msg)
        self.lock_timeout = lock_timeout
        self.is_memory, self.is_shared_cache = _is_memory(db_name)
        self._uri = db_name.startswith("file:")
        # The database file's real path (None in memory).
        self.path: str | None = (
            None
            if self.is_memory
            else os.path.realpath(urlsplit(db_name).path if self._uri else db_name)
        )
        # What identifies the database for readers in this process: its file, or
        # this datastore for a private in-memory database.
        self.key: object = (
            ("memory", id(self))
            if self.is_memory and not self.is_shared_cache
            else ("shared", db_name)
            if self.is_memory
            else ("file", self.path)
        )
        self._local = threading.local()
        self._connections: dict[int, sqlite3.Connection] = {}
        self._connections_guard = threading.Lock()
        self._lock: threading.RLock | None = None
        self._single: sqlite3.Connection | None = None
        self._keeper: sqlite3.Connection | None = None
        self._others: list[sqlite3.Connection] = []  # _single or _keeper
        # A datastore dropped without close() closes its connections as the
        # garbage collector takes it. Not in __del__: when the datastore is part
        # of a reference cycle, the collector may finalize its connections
        # first, which Python 3.13 reports as unclosed (a ResourceWarning). A
        # finalizer's callback runs before any of the cycle is finalized.
        self._finalizer = weakref.finalize(
            self,
            _close_connections,
            self._connections,
            self._others,
            self._connections_guard,
        )
        self._closed = False
        self._pid = os.getpid()
        if self.is_memory and not self.is_shared_cache:
            self._lock = threading.RLock()
            self._single = self._connect()
            self._others.append(self._single)
        elif self.is_shared_cache:
            with _shared_memory_locks_guard:
                self._lock = _shared_memory_locks.setdefault(db_name, threading.RLock())
            self._keeper = self._connect()
            self._others.append(self._keeper)
        else:
            self._create_file()
            _warn_of_wal_reset_bug()
        logger.info(
            "SQLite database %r (%s)",
            db_name,
            "in memory"
            if self.is_memory
            else f"WAL journal, synchronous={self.synchronous}",
        )

    def _create_file(self) -> None:
        """Create a new database file with ``file_mode`` (owner only, by default),
        which SQLite gives its WAL and shared-memory files too."""
        path = urlsplit(self.db_name).path if self._uri else self.db_name
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, self.file_mode)
        except FileExistsError:
            return  # an existing file keeps its mode
        except OSError:
            return  # let SQLite report what is wrong with the path
        os.close(fd)

    def _connect(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                self.db_name,
                timeout=self.lock_timeout,
                isolation_level=None,
                check_same_thread=False,
                uri=self._uri,
            )
        except sqlite3.Error as e:
            msg = f"Could not open SQLite database {self.db_name!r}: {e}"
            raise translate_error(e, msg) from e
        if not self.is_memory:
            try:
                self._use_wal(connection)
                # FULL (SQLite's default) syncs the WAL at each commit, so what
                # was committed survives a power loss; NORMAL only an application
                # crash (see the durability page of the documentation).
                connection.execute(f"PRAGMA synchronous={self.synchronous}")
            except sqlite3.Error as e:
                # Nobody else holds it: close it now rather than leave it to the
                # garbage collector (which Python 3.13 reports as a ResourceWarning).
                connection.close()
                msg = f"Could not open SQLite database {self.db_name!r}: {e}"
                raise translate_error(e, msg) from e
        return connection

    def _use_wal(self, connection: sqlite3.Connection) -> None:
        """Switches a file database to WAL, which is then a property of the file.

        SQLite does not call the busy handler while switching journal modes, so
        connections opened at once on a new file can see "database is locked":
        retry until the lock timeout runs out.
        """
        deadline = time.monotonic() + self.lock_timeout
        warned = False
        while True:
            try:
                if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    connection.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() >= deadline:
                    raise
                if not warned:
                    warned = True
                    logger.warning(
                        "SQLite database %r is locked while switching it to WAL "
                        "(another connection is opening it): retrying for up to "
                        "%.1f s",
                        self.db_name,
                        self.lock_timeout,
                    )
                time.sleep(0.005)
            else:
                return

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            msg = f"SQLite datastore {self.db_name!r} is closed: create a new one"
            raise InterfaceError(msg)
        if self._single is not None:
            return self._single
        if self._pid != os.getpid():
            # SQLite connections must not cross a fork. A forked child abandons
            # its copies of the parent's connections without closing them, since
            # closing could checkpoint the WAL under the parent's feet.
            self._pid = os.getpid()
            self._local = threading.local()
            with self._connections_guard:
                _ABANDONED.extend(self._connections.values())
                self._connections.clear()
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._connect()
            self._local.connection = connection
            me = threading.get_ident()
            with self._connections_guard:
                # Connections of finished threads (whose ident may now be reused,
                # even by this thread) are closed here rather than leaked.
                alive = {t.ident for t in threading.enumerate()} - {me}
                for ident in [i for i in self._connections if i not in alive]:
                    self._connections.pop(ident).close()
                if self._closed:  # closed by another thread meanwhile
                    connection.close()
                    msg = f"SQLite datastore {self.db_name!r} is closed"
                    raise InterfaceError(msg)
                self._connections[me] = connection
        return connection

    def transaction(self, *, write: bool) -> AbstractContextManager[sqlite3.Connection]:
        """Run the block in one transaction, mapping sqlite3 errors.

        A write transaction starts with ``BEGIN IMMEDIATE`` so that it holds the
        write lock from its first statement; it commits when the block ends and
        rolls back when it raises.
        """
        return _Transaction(self, write)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one query in its own read transaction and return its rows.

        The same as ``transaction(write=False)`` with one statement, for less
        work on the hot paths of reading.
        """
        lock = self._lock
        if lock is not None:
            lock.acquire()
        try:
            return self._connection().execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise translate_error(e) from e
        finally:
            if lock is not None:
                lock.release()

    def execute_alone(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement as a transaction of its own (SQLite's autocommit),
        which for a single write costs less than ``transaction(write=True)``
        (no ``BEGIN IMMEDIATE`` and ``COMMIT`` statements) and is just as atomic.
        """
        lock = self._lock
        if lock is not None:
            lock.acquire()
        try:
            self._connection().execute(sql, params)
        except sqlite3.Error as e:
            raise translate_error(e) from e
        finally:
            if lock is not None:
                lock.release()

    def close(self) -> None:
        """Close every connection this datastore opened; it cannot be used again."""
        self._closed = True
        self._finalizer()
        self._single = None
        self._keeper = None


class _Transaction:
    """The context manager of :meth:`SQLiteDatastore.transaction`.

    A class rather than a ``@contextmanager`` generator, which costs several
    times more for each of the many small transactions of reads and writes.
    """

    __slots__ = ("_connection", "_datastore", "_write")

    def __init__(self, datastore: SQLiteDatastore, write: bool) -> None:
        self._datastore = datastore
        self._write = write

    def __enter__(self) -> sqlite3.Connection:
        lock = self._datastore._lock
        if lock is not None:
            lock.acquire()
        try:
            connection = self._datastore._connection()
            if self._write:
                connection.execute("BEGIN IMMEDIATE")
        except BaseException as e:
            self._release()
            if isinstance(e, sqlite3.Error):
                raise translate_error(e) from e
            raise
        self._connection = connection
        return connection

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self._connection
        try:
            try:
                if self._write and exc is None:
                    connection.execute("COMMIT")
            finally:
                # After an error in the block, or in COMMIT, roll back what is
                # left (a successful COMMIT leaves no transaction).
                if self._write and connection.in_transaction:
                    connection.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise translate_error(exc) from exc
        except sqlite3.Error as e:
            raise translate_error(e) from e
        finally:
            self._release()

    def _release(self) -> None:
        lock = self._datastore._lock
        if lock is not None:
            lock.release()
