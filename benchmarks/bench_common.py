"""Shared parts of the benchmarks: the benchmark aggregate, timing (best of N),
backend environments and the throwaway PostgreSQL server."""

from __future__ import annotations

import atexit
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent

ROOT = Path(__file__).resolve().parent.parent

# The library's default for SQLite files, which the raw floors use too.
SQLITE_SYNCHRONOUS = "FULL"

# Backend names, in the order they are measured and printed.
BACKENDS = ("popo", "sqlite:memory", "sqlite:file", "postgres")
# What each --backend argument selects.
ALIASES = {
    "popo": ("popo",),
    "sqlite": ("sqlite:memory", "sqlite:file"),
    "sqlite:memory": ("sqlite:memory",),
    "sqlite:file": ("sqlite:file",),
    "postgres": ("postgres",),
}


@dataclass(frozen=True)
class Config:
    """Sizes of the work timed for each figure."""

    events: int  # events written per write figure
    reads: int  # events read per read figure
    aggregates: int  # aggregates (of 10 events) saved per application figure
    system_aggregates: int  # aggregates (of 10 events) per system figure
    repeats: int  # each figure is the best of this many runs
    quick: bool = False  # small numbers, fast

    @classmethod
    def make(cls, *, quick: bool, smoke: bool = False) -> Config:
        if smoke:  # only that every figure prints: its numbers mean nothing
            return cls(
                events=30,
                reads=200,
                aggregates=5,
                system_aggregates=5,
                repeats=1,
                quick=True,
            )
        if quick:
            return cls(
                events=300,
                reads=2000,
                aggregates=30,
                system_aggregates=15,
                repeats=3,
                quick=True,
            )
        return cls(
            events=3000, reads=20000, aggregates=300, system_aggregates=150, repeats=3
        )


class Account(Aggregate):
    """The aggregate of every benchmark: created, then credited."""

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


def make_events(n: int) -> list[AggregateEvent[Account]]:
    """The events of one new account: created, then credited ``n - 1`` times."""
    account = Account.create()
    for i in range(n - 1):
        account.credit(i)
    return list(account.collect_events())


def timed(fn: Callable[[], object]) -> float:
    """Seconds taken by one call of ``fn`` (after a garbage collection)."""
    gc.collect()
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def best_rate(
    repeats: int, count: int, setup: Callable[[], Callable[[], object]]
) -> float:
    """The best of ``repeats`` runs, as ``count`` per second; ``setup()`` (not
    timed) prepares fresh work and returns the function to time."""
    return max(count / timed(setup()) for _ in range(repeats))


def paired_runs(
    rounds: int, *setups: Callable[[], Callable[[], object]]
) -> list[list[float]]:
    """Seconds of each of ``rounds`` runs of each setup (as in :func:`best_rate`),
    taking turns in every round, so that a machine that slows down or speeds up
    during the run (as shared ones do) weighs on all of them alike: for figures
    compared as ratios. The garbage collector is off while a run is timed (as in
    ``timeit``): a collection would land in one run of a pair at random, and weigh
    on it alone."""
    times: list[list[float]] = [[] for _ in setups]
    order = list(enumerate(setups))
    for _ in range(rounds):
        for i, setup in order:
            times[i].append(timed_without_gc(setup()))
        order.reverse()  # neither goes first every time
    return times


def paired_best_rates(
    repeats: int, count: int, *setups: Callable[[], Callable[[], object]]
) -> list[float]:
    """The best of ``repeats`` runs of each setup, as ``count`` per second, taking
    turns (see :func:`paired_runs`)."""
    return [count / min(runs) for runs in paired_runs(repeats, *setups)]


def median_cost(new: list[float], old: list[float]) -> float:
    """How much longer the runs of ``new`` take than those of ``old`` (0.05 is 5%):
    the median of the ratios of the runs of each round, which ran side by side.
    Steadier than the ratio of the best runs on a shared machine: with 400 rounds
    of gets on a busy VM it stayed within 1%, where that ratio swung by 5%."""
    return statistics.median(a / b for a, b in zip(new, old, strict=True)) - 1


def timed_without_gc(fn: Callable[[], object]) -> float:
    """Seconds taken by one call of ``fn``, with the garbage collector off."""
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        fn()
        return time.perf_counter() - started
    finally:
        gc.enable()


def rounds(repeats: int, fn: Callable[[], float]) -> float:
    """The best of ``repeats`` rates returned by ``fn`` (which times itself)."""
    return max(fn() for _ in range(repeats))


_pg: dict[str, str] | None = None


def postgres_settings() -> dict[str, str]:
    """``POSTGRES_*`` variables: from the environment, else a throwaway server."""
    global _pg
    if _pg is None:
        if os.environ.get("POSTGRES_HOST") and os.environ.get("POSTGRES_DBNAME"):
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


def connect_postgres() -> Any:
    """A raw autocommit psycopg2 connection to the benchmark database."""
    import psycopg2
    import psycopg2.extras

    s = postgres_settings()
    conn = psycopg2.connect(
        dbname=s["POSTGRES_DBNAME"],
        host=s["POSTGRES_HOST"],
        port=int(s.get("POSTGRES_PORT") or 5432),
        user=s["POSTGRES_USER"],
        password=s["POSTGRES_PASSWORD"],
    )
    conn.autocommit = True
    psycopg2.extras.register_uuid(conn_or_curs=conn)
    return conn


@contextmanager
def backend_env(name: str) -> Iterator[dict[str, str]]:
    """Environment variables that choose the backend ``name`` (one of BACKENDS)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"INFRASTRUCTURE_FACTORY": name.split(":")[0]}
        if name == "sqlite:file":
            env["SQLITE_DBNAME"] = os.path.join(tmp, "bench.db")
        elif name == "sqlite:memory":
            # Plain, not shared-cache: like the raw floor's in-memory database.
            env["SQLITE_DBNAME"] = ":memory:"
        elif name == "postgres":
            env.update(postgres_settings())
        yield env


def unique_name(prefix: str) -> str:
    """An application name of its own, so that its tables are fresh."""
    return f"{prefix}{uuid4().hex[:10]}"


def print_table(
    title: str, rows: dict[str, dict[str, float]], columns: list[str], unit: str
) -> None:
    """Print ``rows[figure][column]`` as a table; missing cells are blank."""
    print(f"\n{title}")
    widths = [max(13, len(c) + 2) for c in columns]
    print(
        f"  {unit:<22}"
        + "".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True))
    )
    for figure, values in rows.items():
        cells = "".join(
            f"{values[c]:>{w},.0f}" if c in values else " " * w
            for c, w in zip(columns, widths, strict=True)
        )
        print(f"  {figure:<22}{cells}")
