"""Persistence figures: the event store and recorders of each backend, and the
floors: the same rows written and read with the raw drivers (sqlite3, psycopg2)
in the same transaction sizes, with the same durability settings."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable
from typing import Any
from uuid import UUID

from bench_common import (
    SQLITE_SYNCHRONOUS,
    Config,
    best_rate,
    connect_postgres,
    make_events,
    unique_name,
)

from eventsourcing.persistence import (
    ApplicationRecorder,
    DatetimeAsISO,
    EventStore,
    InfrastructureFactory,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)

WRITE_FIGURES = ("put x1", "put x10", "insert x1", "insert x10")
READ_FIGURES = ("get 1000", "select 1000", "notifications")
# Which library figure each raw floor figure is compared with.
FLOOR_OF = {
    "insert x1": "insert x1",
    "insert x10": "insert x10",
    "put x1": "insert x1",
    "put x10": "insert x10",
    "select 1000": "select 1000",
    "get 1000": "select 1000",
    "notifications": "notifications",
}
PAGE = 100  # notifications per select_notifications() call


def make_mapper() -> Mapper:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    return Mapper(transcoder=transcoder)


def stored_events(mapper: Mapper, n: int) -> list[StoredEvent]:
    """The stored events of ``n`` new events of accounts of 10 events each."""
    events = [e for _ in range(0, n, 10) for e in make_events(10)][:n]
    return [mapper.from_domain_event(e) for e in events]


def chunked(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def each(fn: Callable[[Any], object], chunks: list[Any]) -> Callable[[], None]:
    def run() -> None:
        for chunk in chunks:
            fn(chunk)

    return run


def library(env: dict[str, str], cfg: Config) -> dict[str, float]:
    """Figures of the backend chosen by ``env``, through EventStore and recorder."""
    factory = InfrastructureFactory.construct(unique_name("bench"), env)
    recorder = factory.application_recorder()
    mapper = make_mapper()
    store = EventStore(mapper=mapper, recorder=recorder)
    n, results = cfg.events, {}
    for batch in (1, 10):

        def put_work(batch: int = batch) -> Callable[[], None]:
            events = [e for _ in range(0, n, 10) for e in make_events(10)][:n]
            return each(store.put, chunked(events, batch))

        def insert_work(batch: int = batch) -> Callable[[], None]:
            return each(
                recorder.insert_events, chunked(stored_events(mapper, n), batch)
            )

        results[f"put x{batch}"] = best_rate(cfg.repeats, n, put_work)
        results[f"insert x{batch}"] = best_rate(cfg.repeats, n, insert_work)

    events = make_events(1000)
    store.put(events)
    originator_id = events[0].originator_id
    reps = max(1, cfg.reads // 1000)

    def get() -> None:
        for _ in range(reps):
            list(store.get(originator_id))

    def select() -> None:
        for _ in range(reps):
            recorder.select_events(originator_id)

    results["get 1000"] = best_rate(cfg.repeats, 1000 * reps, lambda: get)
    results["select 1000"] = best_rate(cfg.repeats, 1000 * reps, lambda: select)
    count = min(recorder.max_notification_id(), cfg.reads)
    results["notifications"] = best_rate(
        cfg.repeats, count, lambda: lambda: read_notifications(recorder, count)
    )
    if hasattr(factory, "close"):
        factory.close()
    return results


def read_notifications(recorder: ApplicationRecorder, count: int) -> None:
    start = 1
    while start <= count:
        got = recorder.select_notifications(start, PAGE)
        start = got[-1].id + 1


def raw_rows(n: int) -> list[tuple[UUID, int, str, bytes]]:
    """The rows the library writes for ``n`` events: the same topics and states."""
    return [
        (s.originator_id, s.originator_version, s.topic, s.state)
        for s in stored_events(make_mapper(), n)
    ]


def one_sequence() -> tuple[UUID, list[tuple[UUID, int, str, bytes]]]:
    """The rows of the library's 1000-event sequence read by "select 1000"."""
    mapper = make_mapper()
    rows = [
        (s.originator_id, s.originator_version, s.topic, s.state)
        for s in map(mapper.from_domain_event, make_events(1000))
    ]
    return rows[0][0], rows


# The library's SQLite application table (eventsourcing.sqlite).
SQLITE_TABLE = (
    "CREATE TABLE events (notification_id INTEGER PRIMARY KEY, "
    "originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, "
    "topic TEXT NOT NULL, state BLOB NOT NULL, "
    "UNIQUE (originator_id, originator_version))"
)


def raw_sqlite(cfg: Config, *, memory: bool) -> dict[str, float]:
    """The floor: the same rows and transaction sizes with the sqlite3 module."""
    results: dict[str, float] = {}
    n = cfg.events
    with tempfile.TemporaryDirectory() as tmp:
        path = ":memory:" if memory else os.path.join(tmp, "raw.db")
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if not memory:
            # The same durability settings as the library's file databases
            # (its default, FULL: each commit syncs the WAL).
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        db.execute(SQLITE_TABLE)
        insert = (
            "INSERT INTO events (originator_id, originator_version, topic, state)"
            " VALUES (?, ?, ?, ?)"
        )

        def write(chunks: list[list[tuple[UUID, int, str, bytes]]]) -> None:
            # Like the library's, the rows start with UUIDs, stored as text.
            for chunk in chunks:
                db.execute("BEGIN IMMEDIATE")
                db.executemany(insert, [(str(u), v, t, s) for u, v, t, s in chunk])
                db.execute("COMMIT")

        for batch in (1, 10):

            def work(batch: int = batch) -> Callable[[], None]:
                chunks = chunked(raw_rows(n), batch)
                return lambda: write(chunks)

            results[f"insert x{batch}"] = best_rate(cfg.repeats, n, work)

        oid, sequence = one_sequence()
        write([sequence])
        reps = max(1, cfg.reads // 1000)
        select = (
            "SELECT originator_version, topic, state FROM events"
            " WHERE originator_id = ? ORDER BY originator_version"
        )

        def read() -> None:
            for _ in range(reps):
                rows = db.execute(select, (str(oid),)).fetchall()
                [(oid, v, t, s) for v, t, s in rows]

        results["select 1000"] = best_rate(cfg.repeats, 1000 * reps, lambda: read)
        (top,) = db.execute("SELECT MAX(notification_id) FROM events").fetchone()
        count = min(cfg.reads, top)
        notes_sql = (
            "SELECT notification_id, originator_id, originator_version, topic,"
            " state FROM events WHERE notification_id >= ?"
            " ORDER BY notification_id LIMIT ?"
        )

        def notes() -> None:
            start = 1
            while start <= count:
                rows = db.execute(notes_sql, (start, PAGE)).fetchall()
                got = [(i, UUID(u), v, t, s) for i, u, v, t, s in rows]
                start = got[-1][0] + 1

        results["notifications"] = best_rate(cfg.repeats, count, lambda: notes)
        db.close()
    return results


# The library's PostgreSQL application table (eventsourcing.postgres).
POSTGRES_TABLE = (
    "CREATE TABLE {} (originator_id uuid NOT NULL, "
    "originator_version bigint NOT NULL, topic text NOT NULL, "
    "state bytea NOT NULL, notification_id bigserial UNIQUE, "
    "PRIMARY KEY (originator_id, originator_version))"
)


def raw_postgres(cfg: Config) -> dict[str, float]:
    """The floor: the same rows and transaction sizes with psycopg2.

    Each transaction is two round trips, like the library's: ``BEGIN`` sent with
    the ``INSERT`` (execute_values, one statement), then ``COMMIT``. The figures
    marked ``+lock`` also take the table lock the library takes so that
    notification ids are committed in order.
    """
    from psycopg2.extras import execute_values

    results: dict[str, float] = {}
    n = cfg.events
    conn = connect_postgres()
    table = unique_name("raw")
    cursor = conn.cursor()
    cursor.execute(POSTGRES_TABLE.format(table))
    insert = (
        f"INSERT INTO {table} (originator_id, originator_version, topic, state)"
        " VALUES %s"
    )
    lock = f"SET LOCAL lock_timeout = '0ms'; LOCK TABLE {table} IN EXCLUSIVE MODE; "

    def write(chunks: list[list[tuple[UUID, int, str, bytes]]], begin: str) -> None:
        for chunk in chunks:
            execute_values(cursor, begin + insert, chunk, page_size=len(chunk))
            cursor.execute("COMMIT")

    for batch in (1, 10):
        for label, begin in (("", "BEGIN; "), (" +lock", "BEGIN; " + lock)):

            def work(batch: int = batch, begin: str = begin) -> Callable[[], None]:
                chunks = chunked(raw_rows(n), batch)
                return lambda: write(chunks, begin)

            results[f"insert x{batch}{label}"] = best_rate(cfg.repeats, n, work)

    oid, sequence = one_sequence()
    write([sequence], "BEGIN; ")
    reps = max(1, cfg.reads // 1000)
    select = (
        f"SELECT originator_version, topic, state FROM {table}"
        " WHERE originator_id = %s ORDER BY originator_version"
    )

    def read() -> None:
        for _ in range(reps):
            cursor.execute(select, (oid,))
            [(oid, v, t, bytes(s)) for v, t, s in cursor.fetchall()]

    results["select 1000"] = best_rate(cfg.repeats, 1000 * reps, lambda: read)
    cursor.execute(f"SELECT MAX(notification_id) FROM {table}")
    count = min(cfg.reads, cursor.fetchone()[0])
    notes_sql = (
        "SELECT notification_id, originator_id, originator_version, topic, state"
        f" FROM {table} WHERE notification_id >= %s"
        " ORDER BY notification_id LIMIT %s"
    )

    def notes() -> None:
        start = 1
        while start <= count:
            cursor.execute(notes_sql, (start, PAGE))
            got = [(i, u, v, t, bytes(s)) for i, u, v, t, s in cursor.fetchall()]
            start = got[-1][0] + 1

    results["notifications"] = best_rate(cfg.repeats, count, lambda: notes)
    cursor.execute(f"DROP TABLE {table}")
    conn.close()
    return results
