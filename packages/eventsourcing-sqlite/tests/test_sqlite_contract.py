"""The shared recorder contract, run on a file, on ":memory:" and on a shared-cache
in-memory URI."""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import TestCase
from uuid import uuid4

from eventsourcing.sqlite import (
    Factory,
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteDatastore,
    SQLiteProcessRecorder,
    SQLiteTrackingRecorder,
)
from eventsourcing.testing import (
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    EventStoreTestCase,
    InfrastructureFactoryTestCase,
    ProcessRecorderTestCase,
)


def new_datastore(case: TestCase, kind: str) -> SQLiteDatastore:
    """A new, empty datastore of one kind, closed (and removed) after the test."""
    if kind == "file":
        directory = tempfile.TemporaryDirectory()
        case.addCleanup(directory.cleanup)
        db_name = str(Path(directory.name) / "events.db")
    elif kind == "memory":
        db_name = ":memory:"
    else:
        db_name = f"file:contract_{uuid4().hex}?mode=memory&cache=shared"
    datastore = SQLiteDatastore(db_name)
    case.addCleanup(datastore.close)
    return datastore


class _Aggregate(AggregateRecorderTestCase):
    __test__ = False
    kind = "file"

    def create_recorder(self) -> SQLiteAggregateRecorder:
        recorder = SQLiteAggregateRecorder(new_datastore(self, self.kind), "snapshots")
        recorder.create_table()
        return recorder


class _Application(ApplicationRecorderTestCase):
    __test__ = False
    kind = "file"

    def create_recorder(self) -> SQLiteApplicationRecorder:
        recorder = SQLiteApplicationRecorder(new_datastore(self, self.kind))
        recorder.create_table()
        return recorder


class _Process(ProcessRecorderTestCase):
    __test__ = False
    kind = "file"

    def create_recorder(self) -> SQLiteProcessRecorder:
        recorder = SQLiteProcessRecorder(new_datastore(self, self.kind))
        recorder.create_table()
        return recorder


class TestFileAggregateRecorder(_Aggregate):
    kind = "file"


class TestFileApplicationRecorder(_Application):
    kind = "file"


class TestFileProcessRecorder(_Process):
    kind = "file"


class TestMemoryAggregateRecorder(_Aggregate):
    kind = "memory"


class TestMemoryApplicationRecorder(_Application):
    kind = "memory"


class TestMemoryProcessRecorder(_Process):
    kind = "memory"


class TestSharedCacheAggregateRecorder(_Aggregate):
    kind = "shared"


class TestSharedCacheApplicationRecorder(_Application):
    kind = "shared"


class TestSharedCacheProcessRecorder(_Process):
    kind = "shared"


class _EventStore(EventStoreTestCase):
    __test__ = False
    kind = "file"

    def create_recorder(self) -> SQLiteApplicationRecorder:
        recorder = SQLiteApplicationRecorder(new_datastore(self, self.kind))
        recorder.create_table()
        return recorder


class TestFileEventStore(_EventStore):
    kind = "file"


class TestMemoryEventStore(_EventStore):
    kind = "memory"


class _Factory(InfrastructureFactoryTestCase):
    __test__ = False
    expected_factory_class = Factory
    expected_aggregate_recorder_class = SQLiteAggregateRecorder
    expected_application_recorder_class = SQLiteApplicationRecorder
    expected_process_recorder_class = SQLiteProcessRecorder
    expected_tracking_recorder_class = SQLiteTrackingRecorder
    kind = "file"

    def setUp(self) -> None:
        if self.kind == "file":
            directory = tempfile.TemporaryDirectory()
            self.addCleanup(directory.cleanup)
            self.db_name = str(Path(directory.name) / "factory.db")
        else:
            self.db_name = f"file:factory_{uuid4().hex}?mode=memory&cache=shared"

    def env(self) -> dict[str, str]:
        return {"INFRASTRUCTURE_FACTORY": "sqlite", "SQLITE_DBNAME": self.db_name}


class TestFileFactory(_Factory):
    kind = "file"


class TestSharedCacheFactory(_Factory):
    kind = "shared"
