"""The popo backend runs the contract test cases of eventsourcing-testing."""

from eventsourcing.persistence import EventStore, JSONTranscoder, Mapper
from eventsourcing.popo import (
    Factory,
    POPOAggregateRecorder,
    POPOApplicationRecorder,
    POPOProcessRecorder,
    POPOTrackingRecorder,
)
from eventsourcing.testing import (
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    EventStoreTestCase,
    InfrastructureFactoryTestCase,
    ProcessRecorderTestCase,
)


class TestPOPOAggregateRecorder(AggregateRecorderTestCase):
    def create_recorder(self) -> POPOAggregateRecorder:
        return POPOAggregateRecorder()


class TestPOPOApplicationRecorder(ApplicationRecorderTestCase):
    concurrent_writers = 8
    batches_per_writer = 100

    def create_recorder(self) -> POPOApplicationRecorder:
        return POPOApplicationRecorder()


class TestPOPOProcessRecorder(ProcessRecorderTestCase):
    def create_recorder(self) -> POPOProcessRecorder:
        return POPOProcessRecorder()


class TestPOPOEventStore(EventStoreTestCase):
    def create_recorder(self) -> POPOApplicationRecorder:
        return POPOApplicationRecorder()

    def test_create_event_store(self) -> None:
        event_store = self.create_event_store()
        self.assertIsInstance(event_store, EventStore)
        self.assertIsInstance(event_store.mapper, Mapper)
        self.assertIsInstance(event_store.mapper.transcoder, JSONTranscoder)


class TestPOPOFactory(InfrastructureFactoryTestCase):
    expected_factory_class = Factory
    expected_aggregate_recorder_class = POPOAggregateRecorder
    expected_application_recorder_class = POPOApplicationRecorder
    expected_process_recorder_class = POPOProcessRecorder
    expected_tracking_recorder_class = POPOTrackingRecorder

    def env(self) -> dict[str, str]:
        return {"INFRASTRUCTURE_FACTORY": "popo"}


class TestPOPOFactoryByTopic(TestPOPOFactory):
    def env(self) -> dict[str, str]:
        return {"INFRASTRUCTURE_FACTORY": "eventsourcing.popo:Factory"}


class TestPOPOFactoryByDefault(TestPOPOFactory):
    def env(self) -> dict[str, str]:
        return {}
