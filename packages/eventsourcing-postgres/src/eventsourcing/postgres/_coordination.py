"""Wake-ups and leases on PostgreSQL: every insert of events notifies a channel
named after its table (``NOTIFY`` in the inserting transaction, so listeners
hear of it when it commits), and leases are session advisory locks, which the
server frees when the holding session ends.

Advisory locks rather than a table of leases with expiry times: the server
itself knows which sessions are alive, so a lease needs no renewal writes, no
clocks that agree, and no cleanup; a killed worker's session ends with its
process, and a dead host's when TCP keepalive gives up on it (after
"POSTGRES_LEASE_TIMEOUT" seconds). They need a direct session: a pooler in
transaction mode (PgBouncer) would hand the session to others.
"""

from __future__ import annotations

import hashlib
import logging
import select
import threading
import time
from typing import TYPE_CHECKING, Any

import psycopg2
from psycopg2 import sql

from eventsourcing.persistence import (
    Leases,
    PersistenceError,
    Wakeup,
    holder_identity,
)
from eventsourcing.postgres._datastore import MAX_IDENTIFIER_LENGTH, translate_error

if TYPE_CHECKING:
    from eventsourcing.postgres._datastore import PostgresDatastore

__all__ = [
    "DEFAULT_LEASE_TIMEOUT",
    "PostgresLeases",
    "PostgresWakeup",
    "channel_name",
    "keepalive_settings",
]

logger = logging.getLogger("eventsourcing.postgres")

DEFAULT_LEASE_TIMEOUT = 5.0
_HOLDER_PREFIX = "eventsourcing "


def channel_name(schema: str, table: str) -> str:
    """The channel that inserts into ``schema.table`` notify: the qualified table
    name, or a digest of it when that is longer than a channel name can be."""
    name = f"{schema}.{table}"
    if len(name.encode()) <= MAX_IDENTIFIER_LENGTH:
        return name
    digest = hashlib.blake2b(name.encode(), digest_size=8).hexdigest()
    return f"eventsourcing_{digest}"


class PostgresWakeup(Wakeup):
    """Listens on a channel with a connection of its own, and is woken by the
    notifications that committed inserts send.

    A lost connection is replaced on the next :meth:`wait`, which then returns
    ``True`` at once: what was committed meanwhile was not announced, so the
    reader should look.
    """

    def __init__(self, datastore: PostgresDatastore, channel: str) -> None:
        self.datastore = datastore
        self.channel = channel
        self._listen = sql.SQL("LISTEN {}").format(sql.Identifier(channel))
        self._conn: Any = None
        self._failing = False
        # Listen before the caller first reads, so no commit after it is missed.
        self._connect()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.datastore!r}, {self.channel!r})"

    def _connect(self) -> None:
        conn = self.datastore.connect_dedicated(
            application_name="eventsourcing listener"
        )
        try:
            with conn.cursor() as cursor:
                cursor.execute(self._listen)
        except psycopg2.Error as e:
            conn.close()
            raise translate_error(e, context=f"Could not LISTEN {self.channel}") from e
        self._conn = conn

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        conn = self._conn
        if conn is None:
            return self._reconnect(deadline)
        try:
            while True:
                conn.poll()
                if conn.notifies:
                    conn.notifies.clear()
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                select.select([conn], [], [], remaining)
        except (psycopg2.Error, OSError) as e:
            logger.warning(
                "The connection listening on %r was lost (%s); it will be replaced, "
                "and meanwhile readers look for new notifications when they poll",
                self.channel,
                str(e).strip() or type(e).__name__,
            )
            self._drop()
            return True

    def _reconnect(self, deadline: float) -> bool:
        try:
            self._connect()
        except PersistenceError as e:
            if not self._failing:
                logger.warning(
                    "Could not listen on %r again (%s); retrying while readers poll",
                    self.channel,
                    e,
                )
            self._failing = True
            time.sleep(max(0.0, deadline - time.monotonic()))
            return False
        if self._failing:
            logger.info("Listening on %r again", self.channel)
        self._failing = False
        return True

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        self._drop()


def keepalive_settings(timeout: float) -> tuple[int, int, int]:
    """TCP keepalive idle time, probe interval and probe count (seconds) that
    give up on a silent peer after about ``timeout`` seconds."""
    idle = max(1, int(timeout // 2))
    interval = max(1, int(timeout // 4))
    count = max(1, int((timeout - idle) // interval))
    return idle, interval, count


class PostgresLeases(Leases):
    """Leases that are session advisory locks, held by a connection of their own.

    The server frees a session's locks when it ends: at once when the holder's
    process dies, and, for a host that went silent, when TCP keepalive gives up
    after about ``timeout`` seconds (set on both ends of the connection, so the
    holder also notices that its leases are gone). Lease names map to 64-bit lock
    keys by a digest of ``scope`` and the name.
    """

    def __init__(
        self,
        datastore: PostgresDatastore,
        scope: str,
        *,
        timeout: float = DEFAULT_LEASE_TIMEOUT,
    ) -> None:
        self.datastore = datastore
        self.scope = scope
        self.timeout = timeout
        self.identity = holder_identity()
        self._conn: Any = None
        self._keys: dict[str, int] = {}
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.datastore!r}, {self.scope!r}, "
            f"timeout={self.timeout!r})"
        )

    def key(self, name: str) -> int:
        """The advisory lock key of the lease ``name``."""
        digest = hashlib.blake2b(
            f"{self.scope}\0{name}".encode(), digest_size=8
        ).digest()
        return int.from_bytes(digest, "big", signed=True)

    def _connection(self) -> Any:
        if self._conn is None:
            idle, interval, count = keepalive_settings(self.timeout)
            user_timeout = round(self.timeout * 1000)
            options = (
                f"-c tcp_keepalives_idle={idle} "
                f"-c tcp_keepalives_interval={interval} "
                f"-c tcp_keepalives_count={count} "
                f"-c tcp_user_timeout={user_timeout}"
            )
            self._conn = self.datastore.connect_dedicated(
                options=options,
                application_name=(_HOLDER_PREFIX + self.identity)[
                    :MAX_IDENTIFIER_LENGTH
                ],
                # The worker's end: it notices, as the server does, that its
                # leases are gone (tcp_user_timeout needs libpq 12 or later).
                keepalives=1,
                keepalives_idle=idle,
                keepalives_interval=interval,
                keepalives_count=count,
                tcp_user_timeout=user_timeout,
            )
        return self._conn

    def _query(self, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
        conn = self._connection()
        try:
            with conn.cursor() as cursor:
                cursor.execute(statement, params)
                rows: list[Any] = cursor.fetchall()
                return rows
        except psycopg2.Error as e:
            if conn.closed:
                self._lose(e)
            raise translate_error(e, context="Leases") from e

    def _lose(self, error: Exception) -> None:
        """The session ended, and with it every lock it held."""
        conn, self._conn = self._conn, None
        if self._keys:
            logger.warning(
                "The connection holding leases %s was lost (%s): they are free now",
                ", ".join(sorted(self._keys)),
                str(error).strip() or type(error).__name__,
            )
        self._keys.clear()
        conn.close()

    def try_acquire(self, name: str) -> bool:
        with self._guard:
            if name in self._keys:
                return True
            key = self.key(name)
            ((acquired,),) = self._query("SELECT pg_try_advisory_lock(%s)", (key,))
            if acquired:
                self._keys[name] = key
            return bool(acquired)

    def release(self, name: str) -> None:
        with self._guard:
            key = self._keys.pop(name, None)
            if key is None:
                return
            try:
                self._query("SELECT pg_advisory_unlock(%s)", (key,))
            except PersistenceError:
                if self._conn is not None:
                    raise
                # The session is gone, and the lock with it.

    def held(self) -> set[str]:
        with self._guard:
            if not self._keys:
                return set()
            try:
                rows = self._query(
                    "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks "
                    "WHERE locktype = 'advisory' AND objsubid = 1 AND granted "
                    "AND pid = pg_backend_pid()"
                )
            except PersistenceError:
                if self._conn is None:
                    return set()
                raise
            locked = {value & 0xFFFFFFFFFFFFFFFF for (value,) in rows}
            for name, key in list(self._keys.items()):
                if key & 0xFFFFFFFFFFFFFFFF not in locked:
                    del self._keys[name]
            return set(self._keys)

    def holder(self, name: str) -> str | None:
        unsigned = self.key(name) & 0xFFFFFFFFFFFFFFFF
        with self._guard:
            rows = self._query(
                "SELECT a.application_name FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted "
                "AND l.classid::bigint = %s AND l.objid::bigint = %s "
                "AND l.database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database())",
                (unsigned >> 32, unsigned & 0xFFFFFFFF),
            )
        if not rows:
            return None
        application_name: str = rows[0][0] or ""
        return application_name.removeprefix(_HOLDER_PREFIX) or None

    def close(self) -> None:
        with self._guard:
            conn, self._conn = self._conn, None
            self._keys.clear()
        if conn is not None:
            # Ending the session frees its locks.
            conn.close()
