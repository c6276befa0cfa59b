"""The ``sqlite`` infrastructure factory and the environment variables it reads."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from eventsourcing.persistence import (
    ConfigurationError,
    InfrastructureFactory,
    OperationalError,
    StoredEvent,
)
from eventsourcing.sqlite import (
    Factory,
    InvalidTableName,
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteProcessRecorder,
)


def _event() -> StoredEvent:
    return StoredEvent(uuid4(), 1, "tests:Event", b"{}")


def test_entry_point_name_and_topic_both_select_this_factory(tmp_path: Path) -> None:
    db_name = str(tmp_path / "f.db")
    for value in ("sqlite", "eventsourcing.sqlite:Factory"):
        env = {"INFRASTRUCTURE_FACTORY": value, "SQLITE_DBNAME": db_name}
        factory = InfrastructureFactory.construct("App", env)
        assert type(factory) is Factory
        factory.close()


def test_missing_database_name_is_named_in_the_error() -> None:
    with pytest.raises(ConfigurationError, match="SQLITE_DBNAME is not set"):
        Factory("App", {})
    with pytest.raises(ConfigurationError, match="SQLITE_DBNAME is not set"):
        Factory("App", {"SQLITE_DBNAME": ""})


def test_recorders_are_of_each_kind_and_tables_are_named_after_the_app(
    tmp_path: Path,
) -> None:
    factory = Factory("Worlds", {"SQLITE_DBNAME": str(tmp_path / "w.db")})

    aggregate = factory.aggregate_recorder("snapshots")
    application = factory.application_recorder()
    process = factory.process_recorder()

    assert isinstance(aggregate, SQLiteAggregateRecorder)
    assert isinstance(application, SQLiteApplicationRecorder)
    assert isinstance(process, SQLiteProcessRecorder)
    assert aggregate.events_table_name == "worlds_snapshots"
    assert application.events_table_name == "worlds_events"
    assert process.events_table_name == "worlds_events"
    assert process.tracking_table_name == "worlds_tracking"
    assert factory.aggregate_recorder().events_table_name == "worlds_events"
    factory.close()


def test_unnamed_application_uses_the_default_table_names() -> None:
    factory = Factory("", {"SQLITE_DBNAME": ":memory:"})

    process = factory.process_recorder()

    assert process.events_table_name == "stored_events"
    assert process.tracking_table_name == "tracking"
    snapshots = factory.aggregate_recorder("snapshots")
    assert snapshots.events_table_name == "snapshots"


def test_application_name_that_is_not_an_identifier_is_refused() -> None:
    factory = Factory("my-app", {"SQLITE_DBNAME": ":memory:"})

    with pytest.raises(InvalidTableName, match="'my-app_events'"):
        factory.application_recorder()


def test_several_applications_share_one_file(tmp_path: Path) -> None:
    env = {"SQLITE_DBNAME": str(tmp_path / "shared.db")}
    first = Factory("First", env).application_recorder()
    second = Factory("Second", env).application_recorder()

    first.insert_events([_event()])

    assert first.max_notification_id() == 1
    assert second.max_notification_id() == 0


def test_prefixed_variables_win_for_their_application(tmp_path: Path) -> None:
    env = {
        "SQLITE_DBNAME": str(tmp_path / "plain.db"),
        "WORLDS_SQLITE_DBNAME": str(tmp_path / "worlds.db"),
        "WORLDS_SQLITE_LOCK_TIMEOUT": "0.5",
    }

    worlds = Factory("Worlds", env)
    other = Factory("Other", env)

    assert worlds.datastore.db_name == env["WORLDS_SQLITE_DBNAME"]
    assert worlds.datastore.lock_timeout == 0.5
    assert other.datastore.db_name == env["SQLITE_DBNAME"]
    assert other.datastore.lock_timeout == 5.0


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf!"])
def test_lock_timeout_that_is_not_a_number_of_seconds_is_refused(value: str) -> None:
    env = {"SQLITE_DBNAME": ":memory:", "SQLITE_LOCK_TIMEOUT": value}

    with pytest.raises(ConfigurationError, match="SQLITE_LOCK_TIMEOUT"):
        Factory("App", env)


def test_lock_timeout_is_read(tmp_path: Path) -> None:
    env = {"SQLITE_DBNAME": str(tmp_path / "t.db"), "SQLITE_LOCK_TIMEOUT": "10"}

    assert Factory("App", env).datastore.lock_timeout == 10.0


@pytest.mark.parametrize("value", ["n", "no", "f", "false", "off", "0", "FALSE"])
def test_create_table_false_creates_no_tables(value: str) -> None:
    env = {"SQLITE_DBNAME": ":memory:", "CREATE_TABLE": value}
    recorder = Factory("App", env).application_recorder()

    with pytest.raises(OperationalError, match="no such table") as raised:
        recorder.max_notification_id()
    assert "Check that SQLITE_DBNAME" in str(raised.value)
    assert "CREATE_TABLE=y" in str(raised.value)


@pytest.mark.parametrize("value", ["y", "yes", "t", "true", "on", "1", ""])
def test_create_table_true_or_unset_creates_tables(value: str) -> None:
    env = {"SQLITE_DBNAME": ":memory:", "CREATE_TABLE": value}

    recorder = Factory("App", env).process_recorder()

    assert recorder.max_notification_id() == 0
    assert recorder.max_tracking_id("upstream") == 0


def test_create_table_that_is_not_a_truth_value_is_refused() -> None:
    env = {"SQLITE_DBNAME": ":memory:", "CREATE_TABLE": "maybe"}

    with pytest.raises(ConfigurationError, match="CREATE_TABLE='maybe'"):
        Factory("App", env)


def test_existing_tables_are_used_when_create_table_is_false(tmp_path: Path) -> None:
    env = {"SQLITE_DBNAME": str(tmp_path / "existing.db")}
    Factory("App", env).application_recorder().insert_events([_event()])

    recorder = Factory("App", {**env, "CREATE_TABLE": "false"}).application_recorder()

    assert recorder.max_notification_id() == 1


@pytest.mark.parametrize("value", ["inf", "1e12"])
def test_lock_timeout_beyond_what_sqlite_can_wait_is_refused(value: str) -> None:
    env = {"SQLITE_DBNAME": ":memory:", "SQLITE_LOCK_TIMEOUT": value}

    with pytest.raises(ConfigurationError, match="from 0 to 2000000"):
        Factory("App", env)
