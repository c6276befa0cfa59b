"""Views on SQLite: the user's tables beside the positions, changed in the same
transaction, named after the view, emptied or dropped together."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from eventsourcing.persistence import (
    InfrastructureFactory,
    OperationalError,
    RecordConflictError,
    StoredEvent,
    Tracking,
)
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteDatastore,
    SQLiteTrackingRecorder,
)


class Totals(SQLiteTrackingRecorder):
    def create_table_statements(self) -> list[str]:
        totals = self.table("totals")
        return [
            *super().create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {totals} (name TEXT PRIMARY KEY, n INTEGER)",
            f"CREATE INDEX IF NOT EXISTS {self.table('totals_by_n')} ON {totals} (n)",
            f"CREATE TABLE IF NOT EXISTS {self.table('more')} (x INTEGER)",
        ]

    def add(self, name: str, n: int) -> None:
        with self.transaction() as connection:
            connection.execute(
                f"INSERT INTO {self.table('totals')} VALUES (?, ?)", (name, n)
            )

    def totals(self) -> dict[str, int]:
        return dict(self.datastore.fetchall(f"SELECT * FROM {self.table('totals')}"))


def tables(datastore: SQLiteDatastore) -> list[str]:
    rows = datastore.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    )
    return [name for (name,) in rows]


def new_view(tmp_path: Path, name: str = "Totals") -> Totals:
    view = Totals(SQLiteDatastore(str(tmp_path / "views.db")), name)
    view.create_table()
    return view


def test_a_views_tables_are_named_after_it(tmp_path: Path) -> None:
    view = new_view(tmp_path)
    assert view.table("totals") == '"totals_totals"'
    assert view.positions_table == '"totals_positions"'
    assert tables(view.datastore) == [
        "totals_more",
        "totals_positions",
        "totals_totals",
    ]
    unnamed = Totals(view.datastore, "")
    assert unnamed.table("totals") == '"totals"'
    assert repr(view) == f"Totals({str(tmp_path / 'views.db')!r}, 'Totals')"


def test_the_views_rows_commit_with_its_position(tmp_path: Path) -> None:
    view = new_view(tmp_path)
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
        pytest.raises(RecordConflictError, match="Notification 2 of 'app' was already"),
        view.transaction(Tracking("app", 2)),
    ):
        view.add("c", 3)
    assert view.totals() == {"a": 1, "b": 2}


def test_a_driver_error_in_the_block_arrives_as_a_persistence_error(
    tmp_path: Path,
) -> None:
    view = new_view(tmp_path)
    with pytest.raises(OperationalError), view.transaction() as connection:
        connection.execute("SELECT nonsense FROM nowhere")


def test_a_failure_to_record_the_positions_rolls_everything_back(
    tmp_path: Path,
) -> None:
    view = new_view(tmp_path)

    def lose_the_positions_table() -> None:
        with view.transaction(Tracking("app", 1)) as connection:
            view.add("a", 1)
            connection.execute(f"DROP TABLE {view.positions_table}")

    with pytest.raises(OperationalError, match="no such table"):
        lose_the_positions_table()
    assert view.totals() == {}
    assert view.max_tracking_id("app") == 0


def test_an_interrupt_while_recording_the_positions_rolls_everything_back(
    tmp_path: Path,
) -> None:
    class Interrupting(str):
        def __conform__(self, protocol: object) -> None:
            raise KeyboardInterrupt

    view = new_view(tmp_path)

    def add_then_record() -> None:
        with view.transaction(Tracking(Interrupting("app"), 1)):
            view.add("a", 1)

    with pytest.raises(KeyboardInterrupt):
        add_then_record()
    assert view.totals() == {}
    assert view.max_tracking_id("app") == 0


def test_reset_empties_the_views_tables_and_drop_removes_them(tmp_path: Path) -> None:
    view = new_view(tmp_path)
    with view.transaction(Tracking("app", 4)):
        view.add("a", 1)
    other = new_view(tmp_path, "Other")
    other.insert_tracking(Tracking("app", 9))
    view.reset()
    assert view.totals() == {}
    assert view.max_tracking_id("app") == 0
    assert other.max_tracking_id("app") == 9
    view.drop()
    assert "totals_totals" not in tables(view.datastore)
    assert "totals_positions" not in tables(view.datastore)
    view.reset()  # nothing to empty
    assert tables(view.datastore) == ["other_more", "other_positions", "other_totals"]
    view.create_table()
    assert view.max_tracking_id("app") == 0


def test_views_of_one_table_wake_each_others_waiters(tmp_path: Path) -> None:
    view, again = new_view(tmp_path), new_view(tmp_path)
    assert view.wakeup_key() == again.wakeup_key()
    assert view.wakeup_key() != new_view(tmp_path, "Other").wakeup_key()


def test_the_factory_makes_a_view_in_the_applications_database(tmp_path: Path) -> None:
    env = {"INFRASTRUCTURE_FACTORY": "sqlite", "SQLITE_DBNAME": str(tmp_path / "db")}
    view = InfrastructureFactory.construct("Totals", env).tracking_recorder(Totals)
    assert "totals_totals" in tables(view.datastore)
    env["CREATE_TABLE"] = "no"
    factory = InfrastructureFactory.construct("Later", env)
    later = factory.tracking_recorder(Totals)
    assert "later_totals" not in tables(later.datastore)


def test_the_legacy_layout_filters_notifications_by_topic(tmp_path: Path) -> None:
    recorder = SQLiteApplicationRecorder(
        SQLiteDatastore(str(tmp_path / "legacy.db")), legacy=True
    )
    recorder.create_table()
    originator_id = uuid4()
    recorder.insert_events(
        [
            StoredEvent(originator_id, 1, "a:A", b"{}"),
            StoredEvent(originator_id, 2, "b:B", b"{}"),
        ]
    )
    (notification,) = recorder.select_notifications(1, 10, topics=["b:B"])
    assert notification.originator_version == 2
