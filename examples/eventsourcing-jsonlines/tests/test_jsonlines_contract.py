"""The jsonlines backend runs the contract test cases of eventsourcing-testing, on
recorders constructed directly and through the factory."""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import TestCase

from eventsourcing_jsonlines import (
    Factory,
    JSONLinesAggregateRecorder,
    JSONLinesApplicationRecorder,
    JSONLinesProcessRecorder,
    JSONLinesTrackingRecorder,
)

from eventsourcing.persistence import EventStore, JSONTranscoder, Mapper
from eventsourcing.testing import (
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    EventStoreTestCase,
    InfrastructureFactoryTestCase,
    ProcessRecorderTestCase,
)


def new_directory(case: TestCase) -> Path:
    """A new, empty directory, removed after the test."""
    directory = tempfile.TemporaryDirectory()
    case.addCleanup(directory.cleanup)
    return Path(directory.name)


class TestJSONLinesAggregateRecorder(AggregateRecorderTestCase):
    def create_recorder(self) -> JSONLinesAggregateRecorder:
        recorder = JSONLinesAggregateRecorder(new_directory(self) / "snapshots.jsonl")
        self.addCleanup(recorder.close)
        return recorder


class TestJSONLinesApplicationRecorder(ApplicationRecorderTestCase):
    concurrent_writers = 8
    batches_per_writer = 50

    def create_recorder(self) -> JSONLinesApplicationRecorder:
        recorder = JSONLinesApplicationRecorder(new_directory(self) / "events.jsonl")
        self.addCleanup(recorder.close)
        return recorder


class TestJSONLinesApplicationRecorderWithFsync(ApplicationRecorderTestCase):
    def create_recorder(self) -> JSONLinesApplicationRecorder:
        path = new_directory(self) / "events.jsonl"
        return JSONLinesApplicationRecorder(path, fsync=True)


class TestJSONLinesProcessRecorder(ProcessRecorderTestCase):
    def create_recorder(self) -> JSONLinesProcessRecorder:
        recorder = JSONLinesProcessRecorder(new_directory(self) / "events.jsonl")
        self.addCleanup(recorder.close)
        return recorder


class TestJSONLinesEventStore(EventStoreTestCase):
    def create_recorder(self) -> JSONLinesApplicationRecorder:
        return JSONLinesApplicationRecorder(new_directory(self) / "events.jsonl")

    def test_create_event_store(self) -> None:
        event_store = self.create_event_store()
        self.assertIsInstance(event_store, EventStore)
        self.assertIsInstance(event_store.mapper, Mapper)
        self.assertIsInstance(event_store.mapper.transcoder, JSONTranscoder)


class TestJSONLinesFactory(InfrastructureFactoryTestCase):
    expected_factory_class = Factory
    expected_aggregate_recorder_class = JSONLinesAggregateRecorder
    expected_application_recorder_class = JSONLinesApplicationRecorder
    expected_process_recorder_class = JSONLinesProcessRecorder
    expected_tracking_recorder_class = JSONLinesTrackingRecorder

    def setUp(self) -> None:
        self.directory = new_directory(self) / "not-yet-created"

    def env(self) -> dict[str, str]:
        return {
            "INFRASTRUCTURE_FACTORY": "jsonlines",
            "JSONLINES_PATH": str(self.directory),
        }


class TestJSONLinesFactoryByTopic(TestJSONLinesFactory):
    def env(self) -> dict[str, str]:
        return {
            **super().env(),
            "INFRASTRUCTURE_FACTORY": "eventsourcing_jsonlines:Factory",
        }


class TestJSONLinesFactoryWithFsync(TestJSONLinesFactory):
    def env(self) -> dict[str, str]:
        return {**super().env(), "JSONLINES_FSYNC": "yes"}
