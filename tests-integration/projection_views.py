"""A ledger, and a projection of its entries into a view on each backend, for the
projection tests; run as a script, it runs the projection until it is killed.

The view keeps one row for each entry it processes, without a unique key, so that
an entry processed twice would show as two rows rather than as an error.
"""

from __future__ import annotations

import json
import sys
import time
from abc import abstractmethod
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, DomainEvent, event
from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.popo import POPOTrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from eventsourcing.sqlite import SQLiteTrackingRecorder

VIEW_BACKENDS = ("popo", "sqlite", "postgres")


class Account(Aggregate):
    class Opened(Aggregate.Created):
        pass

    class Entered(Aggregate.Event):
        amount: int

    class Noted(Aggregate.Event):
        text: str

    @event(Opened)
    def __init__(self) -> None:
        self.balance = 0

    @event(Entered)
    def enter(self, amount: int) -> None:
        self.balance += amount

    @event(Noted)
    def note(self, text: str) -> None:
        pass


class Ledger(Application):
    def open(self) -> UUID:
        account = Account()
        self.save(account)
        return account.id

    def enter(self, account_id: UUID, amount: int) -> int:
        account = self.repository.get(account_id)
        account.enter(amount)
        return self.save(account)[-1].notification.id

    def note(self, account_id: UUID, text: str) -> int:
        account = self.repository.get(account_id)
        account.note(text)
        return self.save(account)[-1].notification.id


class EntriesView(TrackingRecorder):
    """One row for each entry: its notification ID and amount."""

    fail_at: int | None = None
    """The notification whose row is the last written: the view then fails, before
    the position is recorded, as if the process had been killed."""
    delay: float = 0.0
    """Seconds each row takes, so that a process can be killed while it works."""

    @abstractmethod
    def add(self, notification_id: int, amount: int) -> None:
        """Adds the row of an entry."""

    @abstractmethod
    def rows(self) -> list[tuple[int, int]]:
        """The rows, in order of notification ID."""

    def _after_row(self, notification_id: int) -> None:
        if self.delay:
            time.sleep(self.delay)
        if notification_id == self.fail_at:
            msg = f"killed after the row of notification {notification_id}"
            raise SystemExit(msg)


class InMemoryEntries(POPOTrackingRecorder, EntriesView):
    def add(self, notification_id: int, amount: int) -> None:
        with self.transaction():
            rows = self.table("rows")
            rows[len(rows)] = (notification_id, amount)
            self._after_row(notification_id)

    def rows(self) -> list[tuple[int, int]]:
        return sorted(self.table("rows").values())


class SQLiteEntries(SQLiteTrackingRecorder, EntriesView):
    def create_table_statements(self) -> list[str]:
        return [
            *super().create_table_statements(),
            (
                f"CREATE TABLE IF NOT EXISTS {self.table('rows')} "
                "(notification_id INTEGER NOT NULL, amount INTEGER NOT NULL)"
            ),
        ]

    def add(self, notification_id: int, amount: int) -> None:
        with self.transaction() as connection:
            connection.execute(
                f"INSERT INTO {self.table('rows')} VALUES (?, ?)",
                (notification_id, amount),
            )
            self._after_row(notification_id)

    def rows(self) -> list[tuple[int, int]]:
        return [
            (n, a)
            for n, a in self.datastore.fetchall(
                f"SELECT notification_id, amount FROM {self.table('rows')} "
                "ORDER BY notification_id"
            )
        ]


class PostgresEntries(PostgresTrackingRecorder, EntriesView):
    def create_table_statements(self) -> list[str]:
        return [
            *super().create_table_statements(),
            (
                f"CREATE TABLE IF NOT EXISTS {self.table('rows')} "
                "(notification_id bigint NOT NULL, amount bigint NOT NULL)"
            ),
        ]

    def add(self, notification_id: int, amount: int) -> None:
        with self.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {self.table('rows')} VALUES (%s, %s)",
                (notification_id, amount),
            )
            self._after_row(notification_id)

    def rows(self) -> list[tuple[int, int]]:
        def select(cursor: Any) -> list[tuple[int, int]]:
            cursor.execute(
                f"SELECT notification_id, amount FROM {self.table('rows')} "
                "ORDER BY notification_id"
            )
            return [(int(n), int(a)) for n, a in cursor.fetchall()]

        return self.datastore.read(select)


class Entries(Projection[EntriesView]):
    topics = (Account.Entered,)

    def process_event(self, domain_event: DomainEvent[Any], tracking: Tracking) -> None:
        assert isinstance(domain_event, Account.Entered)
        self.view.add(tracking.notification_id, domain_event.amount)


def view_env(env: dict[str, str], db_path: str) -> dict[str, str]:
    """The environment of the ledger and its view: a backend without views of its
    own keeps the view in SQLite (variables prefixed with the projection's name)."""
    if env["INFRASTRUCTURE_FACTORY"] in VIEW_BACKENDS:
        return env
    return {
        **env,
        "ENTRIES_INFRASTRUCTURE_FACTORY": "sqlite",
        "ENTRIES_SQLITE_DBNAME": db_path,
    }


def main(argv: list[str]) -> None:
    """Runs the projection for ever: ``projection_views.py ENV_JSON DELAY``."""
    env = json.loads(argv[0])
    runner = ProjectionRunner(Ledger, Entries, EntriesView, env, page_size=5)
    runner.view.delay = float(argv[1])
    print("running", flush=True)
    runner.run_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
