"""Wake-ups and leases on PostgreSQL: inserts notify listeners in other sessions
when they commit, and leases are advisory locks of a session of their own, freed
when that session ends."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import uuid4

import psycopg2
import pytest

from eventsourcing.persistence import (
    ConfigurationError,
    InfrastructureFactory,
    InProcessWakeup,
    OperationalError,
    ProgrammingError,
    StoredEvent,
    Tracking,
)
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.postgres import Factory, PostgresLeases, PostgresWakeup
from eventsourcing.postgres._coordination import channel_name, keepalive_settings

MakeFactory = Callable[..., Factory]


@pytest.fixture
def make_factory(pg_env: dict[str, str]) -> Iterator[MakeFactory]:
    """Factories on the test database, each as if in a process of its own."""
    factories: list[Factory] = []

    def make(application_name: str = "Worlds", **changes: str) -> Factory:
        env = {"INFRASTRUCTURE_FACTORY": "postgres", **pg_env, **changes}
        factory = InfrastructureFactory.construct(application_name, env)
        assert isinstance(factory, Factory)
        factories.append(factory)
        return factory

    yield make
    for factory in factories:
        factory.close()


def stored() -> StoredEvent:
    return StoredEvent(uuid4(), 1, "tests:Event", b"{}")


def backend_pids(admin: Any, application_name: str) -> list[int]:
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name LIKE %s "
            "AND datname = current_database()",
            (application_name,),
        )
        return [pid for (pid,) in cursor.fetchall()]


def terminate(admin: Any, application_name: str) -> None:
    pids = backend_pids(admin, application_name)
    assert pids
    with admin.cursor() as cursor:
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


def test_channels_are_named_after_the_qualified_table() -> None:
    assert channel_name("public", "worlds_events") == "public.worlds_events"
    long = channel_name("s" * 40, "t" * 40)
    assert long.startswith("eventsourcing_")
    assert len(long) <= 63
    assert long != channel_name("s" * 40, "u" * 40)


def test_an_insert_wakes_a_listener_in_another_session_when_it_commits(
    make_factory: MakeFactory,
) -> None:
    reader = make_factory()
    recorder = reader.application_recorder()
    wakeup = reader.wakeup(recorder)
    assert isinstance(wakeup, PostgresWakeup)
    assert wakeup.channel == f"public.{recorder.events_table_name}"
    assert repr(wakeup) == f"PostgresWakeup({reader.datastore!r}, {wakeup.channel!r})"
    assert wakeup.wait(0.05) is False
    writer = make_factory().application_recorder()
    started = time.monotonic()
    writer.insert_events([stored()])
    assert wakeup.wait(5.0) is True
    assert time.monotonic() - started < 1.0
    # Several commits that arrived before a wait wake it once.
    writer.insert_events([stored()])
    writer.insert_events([stored()])
    time.sleep(0.3)
    assert wakeup.wait(5.0) is True
    assert wakeup.wait(0.05) is False
    wakeup.close()


def test_each_schema_has_channels_of_its_own(make_factory: MakeFactory) -> None:
    reader = make_factory(POSTGRES_SCHEMA="first")
    wakeup = reader.wakeup(reader.application_recorder())
    other = make_factory(POSTGRES_SCHEMA="second").application_recorder()
    other.insert_events([stored()])
    assert wakeup.wait(0.1) is False
    assert isinstance(wakeup, PostgresWakeup)
    assert wakeup.channel == "first.worlds_events"
    wakeup.close()


def test_recording_a_position_alone_wakes_no_one(make_factory: MakeFactory) -> None:
    factory = make_factory("Counters")
    recorder = factory.process_recorder()
    wakeup = factory.wakeup(recorder)
    recorder.insert_events([], tracking=Tracking("Worlds", 1))
    assert wakeup.wait(0.1) is False
    recorder.insert_events([stored()], tracking=Tracking("Worlds", 2))
    assert wakeup.wait(5.0) is True
    wakeup.close()


def test_a_killed_listening_connection_is_replaced(
    make_factory: MakeFactory, admin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    factory = make_factory()
    wakeup = factory.wakeup(factory.application_recorder())
    writer = make_factory().application_recorder()
    terminate(admin, "eventsourcing listener")
    with caplog.at_level(logging.WARNING, "eventsourcing.postgres"):
        assert wakeup.wait(5.0) is True  # lost: look, in case
    assert "was lost" in caplog.text
    assert wakeup.wait(0.0) is True  # listening again: look, in case
    assert wakeup.wait(0.05) is False
    writer.insert_events([stored()])
    assert wakeup.wait(5.0) is True
    wakeup.close()
    wakeup.close()


def test_a_listener_that_cannot_reconnect_waits_and_tries_again(
    make_factory: MakeFactory,
    admin: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    factory = make_factory()
    wakeup = factory.wakeup(factory.application_recorder())
    terminate(admin, "eventsourcing listener")
    assert wakeup.wait(5.0) is True
    connect = factory.datastore.connect_dedicated

    def refuse(**kwargs: Any) -> Any:
        raise OperationalError("the server is down")

    monkeypatch.setattr(factory.datastore, "connect_dedicated", refuse)
    with caplog.at_level(logging.INFO, "eventsourcing.postgres"):
        started = time.monotonic()
        assert wakeup.wait(0.1) is False
        assert time.monotonic() - started >= 0.1
        assert wakeup.wait(0.0) is False
        monkeypatch.setattr(factory.datastore, "connect_dedicated", connect)
        assert wakeup.wait(1.0) is True
    messages = [record.getMessage() for record in caplog.records]
    assert sum("Could not listen" in m for m in messages) == 1  # said once
    assert any("Listening on" in m and "again" in m for m in messages)
    wakeup.close()


def test_a_listen_that_fails_is_raised_and_closes_its_connection(
    make_factory: MakeFactory, admin: Any
) -> None:
    factory = make_factory()
    with pytest.raises(ProgrammingError, match="Could not LISTEN"):
        PostgresWakeup(factory.datastore, "")
    # A closed session leaves pg_stat_activity a moment later.
    deadline = time.monotonic() + 5
    while backend_pids(admin, "eventsourcing listener"):
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_recorders_of_other_backends_get_the_default_wakeup(
    make_factory: MakeFactory,
) -> None:
    wakeup = make_factory().wakeup(POPOApplicationRecorder())
    assert isinstance(wakeup, InProcessWakeup)


def test_leases_are_advisory_locks_that_exclude_other_sessions(
    make_factory: MakeFactory,
) -> None:
    first = make_factory("Counters").leases()
    second = make_factory("Counters").leases()
    other_app = make_factory("Others").leases()
    assert first.held() == set()
    assert first.try_acquire("partition/0")
    assert first.try_acquire("partition/0")  # held already: a success
    assert not second.try_acquire("partition/0")
    assert other_app.try_acquire("partition/0")  # another application's
    assert first.held() == {"partition/0"}
    first.release("partition/0")
    first.release("never held")
    assert second.try_acquire("partition/0")
    assert second.holder("partition/0") == f"{socket.gethostname()}:{os.getpid()}"
    assert first.holder("partition/1") is None
    first.close()
    second.close()
    other_app.close()
    assert first.held() == set()


def test_closing_the_session_frees_its_leases(make_factory: MakeFactory) -> None:
    first = make_factory("Counters").leases()
    second = make_factory("Counters").leases()
    first.try_acquire("p0")
    first.try_acquire("p1")
    first.close()
    assert second.try_acquire("p0")
    assert second.try_acquire("p1")
    second.close()


def test_a_killed_lease_session_loses_its_leases_and_a_new_one_is_made(
    make_factory: MakeFactory, admin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    leases = make_factory("Counters").leases()
    other = make_factory("Counters").leases()
    leases.try_acquire("p0")
    terminate(admin, f"eventsourcing {socket.gethostname()}:%")
    with caplog.at_level(logging.WARNING, "eventsourcing.postgres"):
        assert leases.held() == set()
    assert "holding leases p0 was lost" in caplog.text
    assert other.try_acquire("p0")
    assert not leases.try_acquire("p0")
    assert leases.try_acquire("p1")  # with a new session
    terminate(admin, f"eventsourcing {socket.gethostname()}:%")
    leases.release("p1")  # lost with its session: nothing to do
    with pytest.raises(OperationalError):
        other.try_acquire("p2")  # the loss is raised, and the session replaced
    assert other.try_acquire("p2")
    leases.close()
    other.close()


class _Failing:
    """A connection whose statements fail although the session lives on."""

    closed = 0

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def cursor(self) -> Any:
        raise psycopg2.OperationalError("canceling statement due to user request")

    def close(self) -> None:
        self.conn.close()


def test_an_error_that_leaves_the_session_holding_its_leases_is_raised(
    make_factory: MakeFactory,
) -> None:
    leases = make_factory("Counters").leases()
    leases.try_acquire("p0")
    live = leases._conn
    leases._conn = _Failing(live)
    with pytest.raises(OperationalError, match="canceling statement"):
        leases.held()
    with pytest.raises(OperationalError, match="canceling statement"):
        leases.release("p0")
    leases._conn = live
    assert leases.held() == set()  # given up by the call that failed
    leases.close()


def test_held_leases_are_the_locks_the_session_has(make_factory: MakeFactory) -> None:
    leases = make_factory("Counters").leases()
    leases.try_acquire("p0")
    with leases._conn.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock_all()")
    assert leases.held() == set()
    leases.close()


def test_a_lease_held_by_a_session_of_someone_else_has_no_known_holder(
    make_factory: MakeFactory, admin: Any
) -> None:
    leases = make_factory("Counters").leases()
    with admin.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", (leases.key("p0"),))
    assert not leases.try_acquire("p0")
    assert leases.holder("p0") is None
    leases.close()


def test_the_lease_session_gives_up_on_a_silent_peer_after_the_lease_timeout(
    make_factory: MakeFactory,
) -> None:
    leases = make_factory("Counters", POSTGRES_LEASE_TIMEOUT="8").leases()
    assert leases.timeout == 8
    leases.try_acquire("p0")
    settings = {}
    with leases._conn.cursor() as cursor:
        for name in (
            "tcp_keepalives_idle",
            "tcp_keepalives_interval",
            "tcp_keepalives_count",
            "tcp_user_timeout",
        ):
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
    assert settings == {
        "tcp_keepalives_idle": "4",
        "tcp_keepalives_interval": "2",
        "tcp_keepalives_count": "2",
        "tcp_user_timeout": "8000",
    }
    assert repr(leases).startswith("PostgresLeases(PostgresDatastore(")
    assert "timeout=8.0" in repr(leases)
    leases.close()


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [(1, (1, 1, 1)), (2, (1, 1, 1)), (5, (2, 1, 3)), (10, (5, 2, 2))],
)
def test_keepalive_gives_up_after_about_the_timeout(
    timeout: float, expected: tuple[int, int, int]
) -> None:
    idle, interval, count = keepalive_settings(timeout)
    assert (idle, interval, count) == expected
    assert idle + interval * count <= max(timeout, 2)


def test_the_lease_timeout_defaults_to_five_seconds(make_factory: MakeFactory) -> None:
    assert make_factory().lease_timeout == 5.0


@pytest.mark.parametrize(
    ("value", "message"),
    [("soon", "host or network went silent"), ("0.5", "too short")],
)
def test_a_lease_timeout_that_is_not_a_number_of_seconds_is_refused(
    make_factory: MakeFactory, value: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as excinfo:
        make_factory(POSTGRES_LEASE_TIMEOUT=value)
    assert "POSTGRES_LEASE_TIMEOUT" in str(excinfo.value)


def test_a_schema_is_asked_of_the_server_once_when_not_configured(
    make_factory: MakeFactory,
) -> None:
    datastore = make_factory().datastore
    assert datastore.current_schema() == "public"
    datastore.close()
    assert datastore.current_schema() == "public"  # remembered
    assert make_factory(POSTGRES_SCHEMA="mine").datastore.current_schema() == "mine"


def test_leases_are_scoped_to_schema_and_application(make_factory: MakeFactory) -> None:
    leases = make_factory("Counters", POSTGRES_SCHEMA="mine").leases()
    assert isinstance(leases, PostgresLeases)
    assert leases.scope == "mine.Counters"
    leases.close()


def test_recording_a_position_alone_does_not_queue_for_the_table_lock(
    make_factory: MakeFactory, pg_env: dict[str, str]
) -> None:
    recorder = make_factory("Counters", POSTGRES_LOCK_TIMEOUT="0.2").process_recorder()
    blocker = psycopg2.connect(
        dbname=pg_env["POSTGRES_DBNAME"],
        host=pg_env["POSTGRES_HOST"],
        port=pg_env["POSTGRES_PORT"],
        user=pg_env["POSTGRES_USER"],
        password=pg_env["POSTGRES_PASSWORD"],
    )
    try:
        with blocker.cursor() as cursor:
            cursor.execute("LOCK TABLE counters_events IN EXCLUSIVE MODE")
        # Another worker of the follower holds the lock, writing its results.
        recorder.insert_events([], tracking=Tracking("Worlds", 1))
        with pytest.raises(OperationalError, match="lock timeout"):
            recorder.insert_events([stored()], tracking=Tracking("Worlds", 2))
    finally:
        blocker.close()
    assert recorder.max_tracking_id("Worlds") == 1
