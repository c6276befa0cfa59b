"""Projection figures: events per second a projection catches up with into a SQL
view of balances that answers "the accounts with balances over X" (a row
inserted for each account opened, its balance updated for each credit, the
balance indexed for the query), against the same statements and the position's
write run with sqlite3 and psycopg2 alone; and the latency of ``wait()`` after a
save, with a runner tailing the log.

The library's catch-up reads pages of 100 notifications, turns each into a
domain event, calls the projection, and commits each page in one transaction of
the view with its position. The raw floor reads the same pages of rows, decodes
the JSON of their state, and runs the same statements and the position's write in
the same transactions, with the same pragmas: what any code doing this work must
do.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from bench_common import Account, Config, connect_postgres, unique_name

from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.popo import POPOTrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionProcessor, ProjectionRunner
from eventsourcing.sqlite import SQLiteTrackingRecorder

PAGE = 100
# The checksum envelope around the JSON of a state: 4 bytes before, 4 after.
ENVELOPE = slice(4, -4)
BACKENDS = ("popo", "sqlite:file", "postgres")


class BalancesView:
    """What the projection does to its view (implemented for each backend)."""

    def opened(self, account_id: Any) -> None:
        raise NotImplementedError

    def credited(self, account_id: Any, amount: int) -> None:
        raise NotImplementedError


class SQLiteBalances(SQLiteTrackingRecorder, BalancesView):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        # Composed once, as the raw floor's statements are.
        balances = self.table("balances")
        self._insert = f"INSERT INTO {balances} VALUES (?, 0)"
        self._update = (
            f"UPDATE {balances} SET balance = balance + ? WHERE account_id = ?"
        )

    def create_table_statements(self) -> list[str]:
        return [
            *super().create_table_statements(),
            (
                f"CREATE TABLE IF NOT EXISTS {self.table('balances')} "
                "(account_id TEXT PRIMARY KEY, balance INTEGER NOT NULL)"
            ),
            (
                f"CREATE INDEX IF NOT EXISTS {self.table('by_balance')} "
                f"ON {self.table('balances')} (balance)"
            ),
        ]

    def opened(self, account_id: Any) -> None:
        with self.transaction() as connection:
            connection.execute(self._insert, (str(account_id),))

    def credited(self, account_id: Any, amount: int) -> None:
        with self.transaction() as connection:
            connection.execute(self._update, (amount, str(account_id)))


class PostgresBalances(PostgresTrackingRecorder, BalancesView):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        balances = self.table("balances")
        self._insert = f"INSERT INTO {balances} VALUES (%s, 0)"
        self._update = (
            f"UPDATE {balances} SET balance = balance + %s WHERE account_id = %s"
        )

    def create_table_statements(self) -> list[str]:
        return [
            *super().create_table_statements(),
            (
                f"CREATE TABLE IF NOT EXISTS {self.table('balances')} "
                "(account_id uuid PRIMARY KEY, balance bigint NOT NULL)"
            ),
            (
                f'CREATE INDEX IF NOT EXISTS "{self.name.lower()}_by_balance" '
                f"ON {self.table('balances')} (balance)"
            ),
        ]

    def opened(self, account_id: Any) -> None:
        with self.transaction() as cursor:
            cursor.execute(self._insert, (account_id,))

    def credited(self, account_id: Any, amount: int) -> None:
        with self.transaction() as cursor:
            cursor.execute(self._update, (amount, account_id))


class POPOBalances(POPOTrackingRecorder, BalancesView):
    def opened(self, account_id: Any) -> None:
        with self.transaction():
            self.table("balances")[account_id] = 0

    def credited(self, account_id: Any, amount: int) -> None:
        with self.transaction():
            balances = self.table("balances")
            balances[account_id] += amount


VIEWS: dict[str, type[Any]] = {
    "popo": POPOBalances,
    "sqlite": SQLiteBalances,
    "postgres": PostgresBalances,
}


class Balances(Projection[Any]):
    def process_event(self, domain_event: DomainEvent[Any], tracking: Tracking) -> None:
        if isinstance(domain_event, Account.Credited):
            self.view.credited(domain_event.originator_id, domain_event.amount)
        else:
            self.view.opened(domain_event.originator_id)


def ledger(env: dict[str, str], n: int) -> Application:
    """An application with ``n`` events: accounts of 10 events, saved at once."""
    app: Application = type(
        "BenchLedger", (Application,), {"name": unique_name("ledger")}
    )(env=env)
    for _ in range(n // 10):
        account = Account.create()
        for i in range(9):
            account.credit(i)
        app.save(account)
    return app


def new_view(env: dict[str, str]) -> Any:
    """A new, empty view of the backend."""
    name = unique_name("balances")
    factory = InfrastructureFactory.construct(name, env)
    return factory.tracking_recorder(VIEWS[env["INFRASTRUCTURE_FACTORY"]])


def catch_up(app: Application, env: dict[str, str], n: int) -> float:
    """Events/s of a projection catching up with ``n`` events into a new view."""
    view = new_view(env)
    processor = ProjectionProcessor(app, Balances(view), page_size=PAGE)
    started = time.perf_counter()
    processor.catch_up()
    seconds = time.perf_counter() - started
    assert view.max_tracking_id(app.name) == n
    processor.close()
    return n / seconds


def wait_latencies(env: dict[str, str], saves: int) -> list[float]:
    """Seconds from each save's return to the view having processed it, with a
    runner tailing the log."""
    name = env["INFRASTRUCTURE_FACTORY"]
    app_class = type("BenchShop", (Application,), {"name": unique_name("shop")})
    projection = type("Latency", (Balances,), {"name": unique_name("latency")})
    latencies = []
    runner: ProjectionRunner[Any, Any]
    with ProjectionRunner(app_class, projection, VIEWS[name], env) as runner:
        app: Application = runner.app
        for i in range(saves):
            account = Account.create()
            account.credit(i)
            notification_id = app.save(account)[-1].notification.id
            saved = time.perf_counter()
            runner.wait(notification_id, timeout=30)
            latencies.append(time.perf_counter() - saved)
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def repeats(cfg: Config) -> int:
    """Runs of each catch-up figure: more than the others, being short ones."""
    return max(cfg.repeats, 5)


def library(env: dict[str, str], cfg: Config) -> dict[str, float]:
    n = cfg.events
    app = ledger(env, n)
    backend = env["INFRASTRUCTURE_FACTORY"]
    library_rates, raw_rates = [], []
    # Taken in turns, so that a busy moment of the machine spoils both alike.
    for _ in range(repeats(cfg)):
        library_rates.append(catch_up(app, env, n))
        if backend == "sqlite":
            raw_rates.append(raw_sqlite(app, env, n))
        elif backend == "postgres":
            raw_rates.append(raw_postgres(app, n))
    results = {"catch-up": max(library_rates)}
    if raw_rates:
        results["catch-up raw"] = max(raw_rates)
    app.factory.close()
    latencies = wait_latencies(env, cfg.aggregates)
    results["wait p50 (us)"] = percentile(latencies, 0.5) * 1e6
    results["wait p99 (us)"] = percentile(latencies, 0.99) * 1e6
    return results


def raw_sqlite(app: Application, env: dict[str, str], n: int) -> float:
    """Events/s of the same work with sqlite3: pages of rows, their JSON decoded,
    the view's statements and the position's write, a transaction to a page."""
    db = sqlite3.connect(env["SQLITE_DBNAME"], isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")  # the library's default
    name = unique_name("raw")
    db.execute(
        f"CREATE TABLE {name}_balances "
        "(account_id TEXT PRIMARY KEY, balance INTEGER NOT NULL)"
    )
    db.execute(f"CREATE INDEX {name}_by_balance ON {name}_balances (balance)")
    db.execute(
        f"CREATE TABLE {name}_positions (application_name TEXT PRIMARY KEY, "
        "notification_id INTEGER NOT NULL) WITHOUT ROWID"
    )
    select = (
        "SELECT notification_id, originator_id, originator_version, topic, state "
        f"FROM {app.name.lower()}_events WHERE notification_id >= ? "
        "ORDER BY notification_id LIMIT ?"
    )
    insert = f"INSERT INTO {name}_balances VALUES (?, 0)"
    update = f"UPDATE {name}_balances SET balance = balance + ? WHERE account_id = ?"
    track = (
        f"INSERT INTO {name}_positions VALUES (?, ?) ON CONFLICT (application_name) "
        "DO UPDATE SET notification_id = excluded.notification_id"
    )
    position = 0
    started = time.perf_counter()
    while True:
        rows = db.execute(select, (position + 1, PAGE)).fetchall()
        if rows:
            db.execute("BEGIN IMMEDIATE")
            for _, originator_id, _, topic, state in rows:
                data = json.loads(state[ENVELOPE])
                if topic.endswith("Credited"):
                    db.execute(update, (data["amount"], originator_id))
                else:
                    db.execute(insert, (originator_id,))
            position = rows[-1][0]
            db.execute(track, (app.name, position))
            db.execute("COMMIT")
        if len(rows) < PAGE:
            break
    seconds = time.perf_counter() - started
    assert position == n
    db.close()
    return n / seconds


def raw_postgres(app: Application, n: int) -> float:
    """Events/s of the same work with psycopg2."""
    conn = connect_postgres()
    name = unique_name("raw")
    with conn.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {name}_balances (account_id uuid PRIMARY KEY, "
            "balance bigint NOT NULL); "
            f"CREATE INDEX {name}_by_balance ON {name}_balances (balance); "
            f"CREATE TABLE {name}_positions (application_name text PRIMARY KEY, "
            "notification_id bigint NOT NULL)"
        )
    select = (
        "SELECT notification_id, originator_id, originator_version, topic, state "
        f"FROM {app.name.lower()}_events WHERE notification_id >= %s "
        "ORDER BY notification_id LIMIT %s"
    )
    insert = f"INSERT INTO {name}_balances VALUES (%s, 0)"
    update = f"UPDATE {name}_balances SET balance = balance + %s WHERE account_id = %s"
    track = (
        f"INSERT INTO {name}_positions VALUES (%s, %s) ON CONFLICT "
        "(application_name) DO UPDATE SET notification_id = EXCLUDED.notification_id"
    )
    position = 0
    started = time.perf_counter()
    with conn.cursor() as cursor:
        while True:
            cursor.execute(select, (position + 1, PAGE))
            rows = cursor.fetchall()
            if rows:
                cursor.execute("BEGIN")
                for _, originator_id, _, topic, state in rows:
                    data = json.loads(bytes(state)[ENVELOPE])
                    if topic.endswith("Credited"):
                        cursor.execute(update, (data["amount"], originator_id))
                    else:
                        cursor.execute(insert, (originator_id,))
                position = rows[-1][0]
                cursor.execute(track, (app.name, position))
                cursor.execute("COMMIT")
            if len(rows) < PAGE:
                break
    seconds = time.perf_counter() - started
    assert position == n
    conn.close()
    return n / seconds
