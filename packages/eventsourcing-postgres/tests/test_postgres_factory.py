"""The ``postgres`` infrastructure factory: environment variables, table names,
schemas and the refusal of names that could inject SQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from uuid import uuid4

import pytest

from eventsourcing.persistence import (
    ConfigurationError,
    InfrastructureFactory,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import (
    Factory,
    InvalidIdentifier,
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresProcessRecorder,
)

MakeFactory = Callable[..., Factory]


@pytest.fixture
def make_factory(pg_env: dict[str, str]) -> Iterator[MakeFactory]:
    """Construct factories from the test database's variables updated with keyword
    arguments (a value of None removes a variable); closed after the test."""
    factories: list[Factory] = []

    def make(application_name: str = "", **changes: str | None) -> Factory:
        env = {"INFRASTRUCTURE_FACTORY": "postgres", **pg_env}
        for key, value in changes.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        factory = InfrastructureFactory.construct(application_name, env)
        assert isinstance(factory, Factory)
        factories.append(factory)
        return factory

    yield make
    for factory in factories:
        factory.close()


def tables(admin: Any) -> set[str]:
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        return {row[0] for row in cursor.fetchall()}


def test_topic_selects_the_factory(pg_env: dict[str, str]) -> None:
    env = {"INFRASTRUCTURE_FACTORY": "eventsourcing.postgres:Factory", **pg_env}
    factory = InfrastructureFactory.construct("", env)
    assert isinstance(factory, Factory)
    factory.close()


def test_tables_are_named_after_application_and_purpose(
    make_factory: MakeFactory, admin: Any
) -> None:
    factory = make_factory("Worlds")
    assert isinstance(factory.aggregate_recorder(), PostgresAggregateRecorder)
    assert isinstance(
        factory.aggregate_recorder("snapshots"), PostgresAggregateRecorder
    )
    assert isinstance(factory.application_recorder(), PostgresApplicationRecorder)
    process = factory.process_recorder()
    assert isinstance(process, PostgresProcessRecorder)
    assert process.events_table_name == "worlds_events"
    assert process.tracking_table_name == "worlds_tracking"
    assert tables(admin) == {
        "public.worlds_events",
        "public.worlds_snapshots",
        "public.worlds_tracking",
    }


def test_tables_without_application_name(make_factory: MakeFactory, admin: Any) -> None:
    factory = make_factory("")
    factory.process_recorder()
    factory.aggregate_recorder("snapshots")
    assert tables(admin) == {
        "public.stored_events",
        "public.tracking",
        "public.snapshots",
    }


def test_create_table_false_creates_no_tables(
    make_factory: MakeFactory, admin: Any
) -> None:
    factory = make_factory("Worlds", CREATE_TABLE="n")
    recorder = factory.application_recorder()
    assert tables(admin) == set()
    with pytest.raises(ProgrammingError, match="worlds_events") as raised:
        recorder.select_events(uuid4())
    assert "Check that POSTGRES_DBNAME and POSTGRES_SCHEMA" in str(raised.value)
    assert "CREATE_TABLE=y" in str(raised.value)


def test_creating_tables_twice_is_harmless(make_factory: MakeFactory) -> None:
    factory = make_factory("Worlds")
    recorder = factory.application_recorder()
    event = StoredEvent(uuid4(), 1, "tests:Event", b"{}")
    recorder.insert_events([event])
    assert make_factory("Worlds").application_recorder().select_events(
        event.originator_id
    ) == [event]


def test_schema_holds_the_tables_and_is_created_if_missing(
    make_factory: MakeFactory, admin: Any
) -> None:
    factory = make_factory("Worlds", POSTGRES_SCHEMA="tenant1")
    recorder = factory.process_recorder()
    event = StoredEvent(uuid4(), 1, "tests:Event", b"{}")
    recorder.insert_events([event])
    assert recorder.select_events(event.originator_id) == [event]
    assert tables(admin) == {"tenant1.worlds_events", "tenant1.worlds_tracking"}
    other = make_factory("Worlds", POSTGRES_SCHEMA="tenant2").application_recorder()
    assert other.select_events(event.originator_id) == []


def test_application_prefixed_variables_win(make_factory: MakeFactory) -> None:
    factory = make_factory(
        "Worlds", WORLDS_POSTGRES_SCHEMA="worlds", POSTGRES_SCHEMA="x"
    )
    assert factory.datastore.schema == "worlds"


def test_settings_are_read_from_the_environment(make_factory: MakeFactory) -> None:
    factory = make_factory(
        POSTGRES_CONN_MAX_AGE="2.5",
        POSTGRES_PRE_PING="y",
        POSTGRES_LOCK_TIMEOUT="5",
        POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT="10",
        POSTGRES_PORT=None,
    )
    datastore = factory.datastore
    assert datastore.conn_max_age == 2.5
    assert datastore.pre_ping is True
    assert datastore.lock_timeout == 5
    assert datastore.idle_in_transaction_session_timeout == 10
    assert datastore.port == 5432
    assert datastore.schema is None


def test_defaults(make_factory: MakeFactory) -> None:
    factory = make_factory(
        POSTGRES_CONN_MAX_AGE="",
        POSTGRES_PRE_PING="",
        POSTGRES_LOCK_TIMEOUT="",
        POSTGRES_SCHEMA="",
    )
    datastore = factory.datastore
    assert datastore.conn_max_age is None
    assert datastore.pre_ping is False
    assert datastore.lock_timeout == 0
    assert datastore.idle_in_transaction_session_timeout == 0


def test_conn_max_age_zero(make_factory: MakeFactory) -> None:
    assert make_factory(POSTGRES_CONN_MAX_AGE="0").datastore.conn_max_age == 0


@pytest.mark.parametrize(
    "name", ["POSTGRES_DBNAME", "POSTGRES_HOST", "POSTGRES_USER", "POSTGRES_PASSWORD"]
)
def test_missing_required_variable_is_named(
    make_factory: MakeFactory, name: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"{name} is not set"):
        make_factory(**{name: None})


def test_empty_password_is_accepted(make_factory: MakeFactory) -> None:
    assert isinstance(make_factory(POSTGRES_PASSWORD=""), Factory)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("POSTGRES_PORT", "abc", "not a port number"),
        ("POSTGRES_PORT", "0", "not a port number"),
        ("POSTGRES_PORT", "70000", "not a port number"),
        ("POSTGRES_CONN_MAX_AGE", "abc", "idle connection is closed"),
        ("POSTGRES_CONN_MAX_AGE", "-1", "not a number of seconds"),
        ("POSTGRES_CONN_MAX_AGE", "nan", "not a number of seconds"),
        ("POSTGRES_CONN_MAX_AGE", "inf", "not a number of seconds"),
        ("POSTGRES_PRE_PING", "maybe", "not a truth value"),
        ("CREATE_TABLE", "maybe", "not a truth value"),
        ("POSTGRES_LOCK_TIMEOUT", "soon", "table lock"),
        ("POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", "-5", "idle inside"),
        ("POSTGRES_SCHEMA", "a;b", "Invalid PostgreSQL schema name"),
    ],
)
def test_invalid_values_are_configuration_errors(
    make_factory: MakeFactory, name: str, value: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as excinfo:
        make_factory(**{name: value})
    assert name in str(excinfo.value) or name == "POSTGRES_SCHEMA"


def test_password_does_not_appear_in_reprs_or_errors(
    make_factory: MakeFactory,
) -> None:
    secret = "pw-" + uuid4().hex
    factory = make_factory("Worlds", POSTGRES_PASSWORD=secret)
    assert secret not in repr(factory)
    assert secret not in repr(factory.datastore)
    assert "Worlds" in repr(factory)
    with pytest.raises(Exception) as excinfo:  # noqa: PT011 (checked below)
        factory.application_recorder()
    assert secret not in str(excinfo.value)
    assert "password authentication failed" in str(excinfo.value.__cause__)
    recorder = PostgresProcessRecorder(factory.datastore, "a", "b")
    assert secret not in repr(recorder)
    assert repr(recorder).startswith("PostgresProcessRecorder(PostgresDatastore(")
    assert secret not in repr(PostgresAggregateRecorder(factory.datastore, "a"))


@pytest.mark.parametrize(
    "application_name",
    [
        'x"; DROP TABLE stored_events; --',
        "x; DROP TABLE stored_events",
        "my-app",
        "app.name",
        "9lives",
        "ünïcode",
        "a" * 60,
    ],
)
def test_application_names_that_could_inject_sql_are_refused(
    make_factory: MakeFactory, application_name: str
) -> None:
    factory = make_factory(application_name)
    with pytest.raises(InvalidIdentifier, match="Invalid PostgreSQL table name"):
        factory.application_recorder()


@pytest.mark.parametrize("name", ['a"b', "", "a b", "a" * 64, "x;y"])
def test_recorders_refuse_table_names_that_are_not_plain_identifiers(
    new_datastore: Callable[..., PostgresDatastore], name: str
) -> None:
    datastore = new_datastore()
    with pytest.raises(InvalidIdentifier):
        PostgresAggregateRecorder(datastore, name)
    with pytest.raises(InvalidIdentifier):
        PostgresProcessRecorder(datastore, "events", name)
    with pytest.raises(ValueError, match="schema"):
        new_datastore(schema=name)


def test_upgrade_is_in_place_and_needs_the_tables(postgres_env: dict[str, str]) -> None:
    env = {**postgres_env, "POSTGRES_SCHEMA": f"up_{uuid4().hex[:8]}"}
    factory = Factory("Upgraded", {**env, "CREATE_TABLE": "no"})
    with pytest.raises(ConfigurationError, match="pg_dump it first"):
        factory.upgrade(lambda stored: stored.state, into="/tmp/x")
    with pytest.raises(ConfigurationError, match="nothing to upgrade"):
        factory.upgrade(lambda stored: stored.state)
    factory.close()


def test_the_database_and_tables_chosen_are_logged_without_the_password(
    postgres_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    with caplog.at_level(logging.INFO, logger="eventsourcing.postgres"):
        factory = Factory("Logged", {**postgres_env, "CREATE_TABLE": "no"})
    assert "logged_events, logged_snapshots, logged_tracking" in caplog.text
    assert postgres_env["POSTGRES_DBNAME"] in caplog.text
    assert postgres_env["POSTGRES_PASSWORD"] not in caplog.text
    factory.close()


def test_new_tables_beside_other_applications_tables_are_warned_of(
    postgres_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    env = {**postgres_env, "POSTGRES_SCHEMA": f"renamed_{uuid4().hex[:8]}"}
    Factory("Worlds", env).application_recorder()
    with caplog.at_level(logging.WARNING, logger="eventsourcing.postgres"):
        Factory("Worlds", env).application_recorder()
        assert caplog.text == ""  # its own tables: no warning
        Factory("World", env).application_recorder()
    assert "has no table 'world_events'" in caplog.text
    assert "(worlds_events)" in caplog.text
