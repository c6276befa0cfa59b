"""Views on PostgreSQL: the user's tables beside the positions, changed in one
transaction whose BEGIN and positions cost no round trips of their own, named
after the view, emptied or dropped together; and the datastore's transactions."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import psycopg2
import pytest

from eventsourcing.persistence import (
    InfrastructureFactory,
    InternalError,
    OperationalError,
    ProgrammingError,
    RecordConflictError,
    Tracking,
)
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder

NewDatastore = Callable[..., PostgresDatastore]


class Totals(PostgresTrackingRecorder):
    def create_table_statements(self) -> list[str]:
        totals = self.table("totals")
        index = f'"{self.name.lower()}_totals_by_n"'
        return [
            *super().create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {totals} (name text PRIMARY KEY, n bigint)",
            f"CREATE INDEX IF NOT EXISTS {index} ON {totals} (n)",
            f"CREATE TABLE IF NOT EXISTS {self.table('more')} (x bigint)",
        ]

    def add(self, name: str, n: int) -> None:
        with self.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {self.table('totals')} VALUES (%s, %s)", (name, n)
            )

    def totals(self) -> dict[str, int]:
        def select(cursor: Any) -> dict[str, int]:
            cursor.execute(f"SELECT name, n FROM {self.table('totals')}")
            return dict(cursor.fetchall())

        return self.datastore.read(select)


def tables(datastore: PostgresDatastore) -> list[str]:
    def select(cursor: Any) -> list[str]:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "COALESCE(%s, current_schema()) ORDER BY table_name",
            (datastore.schema,),
        )
        return [name for (name,) in cursor.fetchall()]

    return datastore.read(select)


def backend_pid(cursor: Any) -> int:
    cursor.execute("SELECT pg_backend_pid()")
    pid: int = cursor.fetchone()[0]
    return pid


@pytest.fixture
def view(new_datastore: NewDatastore) -> Totals:
    view = Totals(new_datastore(schema="views"), "Totals")
    view.create_table()
    return view


def test_a_views_tables_are_named_after_it_in_its_schema(
    view: Totals, new_datastore: NewDatastore
) -> None:
    assert view.table("totals") == '"views"."totals_totals"'
    assert view.positions_table == '"views"."totals_positions"'
    assert tables(view.datastore) == [
        "totals_more",
        "totals_positions",
        "totals_totals",
    ]
    unnamed = Totals(new_datastore(), "")
    assert unnamed.table("totals") == '"totals"'
    assert repr(view).startswith("Totals(PostgresDatastore(")


def test_the_views_rows_commit_with_its_position(view: Totals) -> None:
    with view.transaction(Tracking("app", 1)):
        view.add("a", 1)

    def add_then_fail() -> None:
        with view.transaction(Tracking("app", 2)):
            view.add("b", 2)
            _ = 1 / 0

    with pytest.raises(ZeroDivisionError):
        add_then_fail()
    assert view.totals() == {"a": 1}
    assert view.max_tracking_id("app") == 1
    with view.transaction(Tracking("app", 2)):
        view.add("b", 2)
        with pytest.raises(RecordConflictError):
            view.add("a", 10)  # a nested transaction, undone alone
    assert view.totals() == {"a": 1, "b": 2}
    with (
        pytest.raises(RecordConflictError, match="Notification 2 of 'app' was"),
        view.transaction(Tracking("app", 2)),
    ):
        view.add("c", 3)
    assert view.totals() == {"a": 1, "b": 2}
    assert view.max_tracking_id("app") == 2


def test_another_conflict_at_commit_is_not_taken_for_the_positions(
    view: Totals,
) -> None:
    view.add("a", 1)
    with (
        pytest.raises(RecordConflictError, match="duplicate key"),
        view.transaction(Tracking("app", 1)) as cursor,
    ):
        cursor.defer(f"INSERT INTO {view.table('totals')} VALUES ('a', 1)".encode())
    assert view.max_tracking_id("app") == 0


def test_reset_empties_the_views_tables_and_drop_removes_them(
    view: Totals, new_datastore: NewDatastore
) -> None:
    with view.transaction(Tracking("app", 4)):
        view.add("a", 1)
    other = Totals(new_datastore(schema="views"), "Other")
    other.create_table()
    other.insert_tracking(Tracking("app", 9))
    view.reset()
    assert view.totals() == {}
    assert view.max_tracking_id("app") == 0
    assert other.max_tracking_id("app") == 9
    view.drop()
    assert tables(view.datastore) == ["other_more", "other_positions", "other_totals"]
    view.reset()  # nothing to empty
    view.create_table()
    assert view.max_tracking_id("app") == 0


def test_views_of_one_table_wake_each_others_waiters(
    view: Totals, new_datastore: NewDatastore
) -> None:
    again = Totals(new_datastore(schema="views"), "Totals")
    assert view.wakeup_key() == again.wakeup_key()
    assert view.wakeup_key() != Totals(new_datastore(), "Totals").wakeup_key()


def test_the_factory_makes_a_view_in_the_applications_schema(
    pg_env: dict[str, str],
) -> None:
    env = {**pg_env, "INFRASTRUCTURE_FACTORY": "postgres", "POSTGRES_SCHEMA": "s1"}
    factory = InfrastructureFactory.construct("Totals", env)
    view = factory.tracking_recorder(Totals)
    assert view.positions_table == '"s1"."totals_positions"'
    assert "totals_totals" in tables(view.datastore)
    factory.close()
    later = InfrastructureFactory.construct("Later", {**env, "CREATE_TABLE": "no"})
    assert "later_totals" not in tables(later.tracking_recorder(Totals).datastore)
    later.close()


# The datastore's transactions.


def test_a_transaction_commits_its_block(new_datastore: NewDatastore) -> None:
    datastore = new_datastore()
    with datastore.transaction() as cursor:
        cursor.execute("CREATE TABLE t (x int)")
        cursor.execute("INSERT INTO t VALUES (1)")

    def insert_then_fail() -> None:
        with datastore.transaction() as c:
            c.execute("INSERT INTO t VALUES (2)")
            c.execute("SELECT * FROM nowhere")

    with pytest.raises(ProgrammingError, match="nowhere"):
        insert_then_fail()

    def count(cursor: Any) -> int:
        cursor.execute("SELECT count(*) FROM t")
        value: int = cursor.fetchone()[0]
        return value

    assert datastore.read(count) == 1


def test_a_block_that_raises_before_any_statement_sends_nothing(
    new_datastore: NewDatastore,
) -> None:
    datastore = new_datastore()
    pid = datastore.read(backend_pid)
    with pytest.raises(KeyError), datastore.transaction():
        raise KeyError
    assert datastore.read(backend_pid) == pid  # the connection was kept


def test_an_error_caught_inside_the_block_fails_the_commit(
    new_datastore: NewDatastore,
) -> None:
    datastore = new_datastore()

    def catch_an_error() -> None:
        with datastore.transaction() as cursor:
            cursor.execute("CREATE TABLE u (x int)")
            with contextlib.suppress(psycopg2.Error):
                cursor.execute("SELECT * FROM nowhere")

    with pytest.raises(InternalError, match="rolled back, not committed"):
        catch_an_error()
    assert "u" not in tables(datastore)


def test_a_session_that_dies_before_commit_leaves_the_outcome_unknown(
    new_datastore: NewDatastore, admin: Any
) -> None:
    datastore = new_datastore()
    pids: list[int] = []

    def lose_the_session() -> None:
        with datastore.transaction() as cursor:
            pids.append(backend_pid(cursor))
            with admin.cursor() as other:
                other.execute("SELECT pg_terminate_backend(%s, 5000)", (pids[0],))

    with pytest.raises(OperationalError, match="unknown"):
        lose_the_session()
    assert datastore.read(backend_pid) != pids[0]


def test_an_interrupted_commit_discards_the_connection(
    new_datastore: NewDatastore,
) -> None:
    datastore = new_datastore()
    pids: list[int] = []

    def interrupted(query: Any, vars: Any = None) -> None:
        raise KeyboardInterrupt

    def interrupt_the_commit() -> None:
        with datastore.transaction() as cursor:
            pids.append(backend_pid(cursor))
            cursor.execute = interrupted  # type: ignore[method-assign]  # the commit

    with pytest.raises(KeyboardInterrupt):
        interrupt_the_commit()
    assert datastore.read(backend_pid) != pids[0]
