"""Print throughput figures for each installed backend, and raw-driver floors.

Usage: ``hatch run bench [--quick] [--backend NAME ...]``. PostgreSQL is measured
when ``POSTGRES_HOST`` (and friends) point at a server, or when the test
harness can start a throwaway one (``tests-integration/pgserver.py``).

Figures, per backend: events written per second through ``EventStore.put()``
in batches of 1 and of 10 (and through the recorder alone), events read per
second by ``EventStore.get()`` of a 1000-event sequence, notifications read per
second through ``select_notifications()``; then the same rows written and read
with the raw driver in the same transaction sizes, as the floor; then
application-level figures.
"""

from __future__ import annotations

import argparse
import atexit
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.persistence import (
    DatetimeAsISO,
    EventStore,
    InfrastructureFactory,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)

ROOT = Path(__file__).resolve().parent.parent


class Account(Aggregate):
    def __init__(self) -> None:
        self.balance = 0

    @classmethod
    def create(cls) -> Account:
        return cls._create(cls.Created, id=uuid4())

    class Created(AggregateCreated["Account"]):
        pass

    def credit(self, amount: int) -> None:
        self.trigger_event(self.Credited, amount=amount)

    class Credited(AggregateEvent["Account"]):
        amount: int

        def apply(self, aggregate: Account) -> None:
            aggregate.balance += self.amount


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>12,.0f}/s"


def timed(fn: Callable[[], object]) -> float:
    """Seconds taken by one call of ``fn``."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def each(fn: Callable[[Any], object], chunks: list[Any]) -> None:
    for chunk in chunks:
        fn(chunk)


def make_events(n: int) -> list[AggregateEvent[Account]]:
    account = Account.create()
    for i in range(n - 1):
        account.credit(i)
    return list(account.collect_events())


@contextmanager
def backend_env(name: str) -> Iterator[dict[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"INFRASTRUCTURE_FACTORY": name.split(":")[0]}
        if name == "sqlite":
            env["SQLITE_DBNAME"] = os.path.join(tmp, "bench.db")
        elif name == "sqlite:memory":
            env["SQLITE_DBNAME"] = "file:bench?mode=memory&cache=shared"
        elif name == "postgres":
            env.update(postgres_settings())
        yield env


_pg: dict[str, str] | None = None


def postgres_settings() -> dict[str, str]:
    global _pg
    if _pg is None:
        if os.environ.get("POSTGRES_HOST"):
            _pg = {k: v for k, v in os.environ.items() if k.startswith("POSTGRES_")}
        else:
            sys.path.insert(0, str(ROOT / "tests-integration"))
            import pgserver

            server = pgserver.acquire()
            dbname = f"bench_{os.getpid()}"
            server.create_database(dbname)

            def cleanup() -> None:
                server.drop_database(dbname)
                server.release()

            atexit.register(cleanup)
            _pg = server.settings.env(dbname)
    return _pg


def bench_backend(name: str, n: int) -> dict[str, float]:
    results: dict[str, float] = {}
    with backend_env(name) as env:
        factory = InfrastructureFactory.construct(f"bench{uuid4().hex[:8]}", env)
        recorder = factory.application_recorder()
        transcoder = JSONTranscoder()
        transcoder.register(UUIDAsHex())
        transcoder.register(DatetimeAsISO())
        mapper = Mapper(transcoder=transcoder)
        store = EventStore(mapper=mapper, recorder=recorder)

        for batch in (1, 10):
            events = make_events(n)
            chunks = [events[i : i + batch] for i in range(0, n, batch)]
            seconds = timed(partial(each, store.put, chunks))
            results[f"put x{batch}"] = n / seconds
            stored = [mapper.from_domain_event(e) for e in make_events(n)]
            schunks = [stored[i : i + batch] for i in range(0, n, batch)]
            seconds = timed(partial(each, recorder.insert_events, schunks))
            results[f"insert x{batch}"] = n / seconds

        events = make_events(1000)
        store.put(events)
        originator_id = events[0].originator_id
        reps = max(1, n // 1000)
        seconds = timed(lambda: [list(store.get(originator_id)) for _ in range(reps)])
        results["get 1000"] = 1000 * reps / seconds
        seconds = timed(
            lambda: [recorder.select_events(originator_id) for _ in range(reps)]
        )
        results["select 1000"] = 1000 * reps / seconds
        top = recorder.max_notification_id()

        def read_all() -> int:
            count, start = 0, 1
            while start <= top:
                got = recorder.select_notifications(start, 100)
                count += len(got)
                start = got[-1].id + 1
            return count

        seconds = timed(read_all)
        results["notifications"] = top / seconds
    return results


def raw_sqlite(n: int, memory: bool) -> dict[str, float]:
    """The floor: the same rows and transaction sizes with the sqlite3 module."""
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = ":memory:" if memory else os.path.join(tmp, "raw.db")
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if not memory:
            # The same durability settings as the library's file databases.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE events (originator_id TEXT, originator_version INTEGER,"
            " topic TEXT, state BLOB, notification_id INTEGER PRIMARY KEY,"
            " UNIQUE (originator_id, originator_version))"
        )
        for batch in (1, 10):
            rows = [
                (uuid4().hex, 1, "t", b'{"amount":1,"timestamp":"x"}') for _ in range(n)
            ]
            chunks = [rows[i : i + batch] for i in range(0, n, batch)]

            def write(chunks: list[list[tuple[str, int, str, bytes]]] = chunks) -> None:
                for chunk in chunks:
                    db.execute("BEGIN IMMEDIATE")
                    db.executemany(
                        "INSERT INTO events (originator_id, originator_version, topic,"
                        " state) VALUES (?, ?, ?, ?)",
                        chunk,
                    )
                    db.execute("COMMIT")

            results[f"insert x{batch}"] = n / timed(write)
        oid = uuid4().hex
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO events (originator_id, originator_version, topic, state)"
            " VALUES (?, ?, ?, ?)",
            [(oid, v, "t", b"{}") for v in range(1, 1001)],
        )
        db.execute("COMMIT")
        reps = max(1, n // 1000)

        def read() -> None:
            for _ in range(reps):
                [
                    (UUID(r[0]), r[1], r[2], r[3])
                    for r in db.execute(
                        "SELECT originator_id, originator_version, topic, state FROM"
                        " events WHERE originator_id = ? ORDER BY originator_version",
                        (oid,),
                    )
                ]

        results["select 1000"] = 1000 * reps / timed(read)
        top = db.execute("SELECT MAX(notification_id) FROM events").fetchone()[0]

        def notes() -> None:
            start = 1
            while start <= top:
                got = [
                    (r[0], UUID(r[1]), r[2], r[3], r[4])
                    for r in db.execute(
                        "SELECT notification_id, originator_id, originator_version,"
                        " topic, state FROM events WHERE notification_id >= ?"
                        " ORDER BY notification_id LIMIT 100",
                        (start,),
                    )
                ]
                start = got[-1][0] + 1

        results["notifications"] = top / timed(notes)
    return results


def print_table(title: str, results: dict[str, float]) -> None:
    print(f"\n{title}")
    for key, value in results.items():
        print(f"  {key:<16}{value:>14,.0f} /s")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small numbers, fast")
    parser.add_argument("--backend", action="append")
    args = parser.parse_args(argv)
    n = 500 if args.quick else 5000
    backends = args.backend or ["popo", "sqlite:memory", "sqlite", "postgres"]
    all_results: dict[str, dict[str, float]] = {}
    for name in backends:
        try:
            all_results[name] = bench_backend(name, n)
        except Exception as e:  # the bench reports what it could not measure
            print(f"\n{name}: not measured ({e.__class__.__name__}: {e})")
            continue
        print_table(f"{name} ({n} events)", all_results[name])
    for memory in (True, False):
        label = "raw sqlite3 :memory:" if memory else "raw sqlite3 file"
        all_results[label] = raw_sqlite(n, memory)
        print_table(f"{label} (floor)", all_results[label])

    print("\nRatios (library cost / raw floor cost; lower is better, target <= 1.5)")
    for lib, raw in (
        ("sqlite:memory", "raw sqlite3 :memory:"),
        ("sqlite", "raw sqlite3 file"),
    ):
        if lib in all_results:
            for key in ("insert x1", "insert x10", "select 1000", "notifications"):
                ratio = all_results[raw][key] / all_results[lib][key]
                print(f"  {lib:<14} {key:<14} {ratio:5.2f}x")
    if "popo" in all_results and "sqlite:memory" in all_results:
        print("\nPOPO speed-up over in-memory SQLite (target >= 4x)")
        for key in ("insert x1", "insert x10", "select 1000", "notifications"):
            ratio = all_results["popo"][key] / all_results["sqlite:memory"][key]
            print(f"  {key:<14} {ratio:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
