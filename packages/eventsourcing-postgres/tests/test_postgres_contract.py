"""The shared recorder and factory contracts, run against a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from eventsourcing.postgres import (
    Factory,
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresProcessRecorder,
    PostgresTrackingRecorder,
)
from eventsourcing.testing import (
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    EventStoreTestCase,
    InfrastructureFactoryTestCase,
    ProcessRecorderTestCase,
)


class _Database:
    """Mixin: gives each test an empty database through the conftest fixtures."""

    pg_env: dict[str, str]
    new_datastore: Callable[..., PostgresDatastore]

    @pytest.fixture(autouse=True)
    def _database(
        self, pg_env: dict[str, str], new_datastore: Callable[..., PostgresDatastore]
    ) -> None:
        self.pg_env = pg_env
        self.new_datastore = new_datastore


class TestPostgresAggregateRecorder(_Database, AggregateRecorderTestCase):
    def create_recorder(self) -> PostgresAggregateRecorder:
        recorder = PostgresAggregateRecorder(self.new_datastore(), "snapshots")
        recorder.create_table()
        return recorder


class TestPostgresApplicationRecorder(_Database, ApplicationRecorderTestCase):
    def create_recorder(self) -> PostgresApplicationRecorder:
        recorder = PostgresApplicationRecorder(self.new_datastore())
        recorder.create_table()
        return recorder


class TestPostgresProcessRecorder(_Database, ProcessRecorderTestCase):
    def create_recorder(self) -> PostgresProcessRecorder:
        recorder = PostgresProcessRecorder(self.new_datastore())
        recorder.create_table()
        return recorder


class TestPostgresEventStore(_Database, EventStoreTestCase):
    def create_recorder(self) -> PostgresApplicationRecorder:
        recorder = PostgresApplicationRecorder(self.new_datastore(), "worlds_events")
        recorder.create_table()
        return recorder


class TestPostgresFactory(_Database, InfrastructureFactoryTestCase):
    expected_factory_class = Factory
    expected_aggregate_recorder_class = PostgresAggregateRecorder
    expected_application_recorder_class = PostgresApplicationRecorder
    expected_process_recorder_class = PostgresProcessRecorder
    expected_tracking_recorder_class = PostgresTrackingRecorder

    def env(self) -> dict[str, str]:
        return {"INFRASTRUCTURE_FACTORY": "postgres", **self.pg_env}

    def construct_factory(
        self, application_name: str | None = None, **env: str
    ) -> Factory:
        factory = super().construct_factory(application_name, **env)
        assert isinstance(factory, Factory)
        self.addCleanup(factory.close)
        return factory
