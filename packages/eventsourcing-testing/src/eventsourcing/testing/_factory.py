"""Contract test cases for infrastructure factories and event stores: what a backend
must do when it is chosen by its entry-point name."""

from __future__ import annotations

from abc import abstractmethod
from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    ChecksumError,
    DatetimeAsISO,
    EventStore,
    InfrastructureFactory,
    JSONTranscoder,
    Mapper,
    ProcessRecorder,
    RecordConflictError,
    StoredEvent,
    Tracking,
    TrackingRecorder,
    UUIDAsHex,
)
from eventsourcing.testing._base import ContractTestCase

__all__ = ["EventStoreTestCase", "InfrastructureFactoryTestCase"]


def new_transcoder() -> JSONTranscoder:
    """Returns a transcoder for domain events (UUIDs and datetimes)."""
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    return transcoder


def new_event(originator_id: UUID, version: int) -> DomainEvent:
    """Returns a domain event of the given originator and version."""
    return DomainEvent(
        originator_id=originator_id,
        originator_version=version,
        timestamp=datetime.now(tz=UTC),
    )


class EventStoreTestCase(ContractTestCase):
    """Contract of :class:`~eventsourcing.persistence.EventStore` over the backend's
    recorder."""

    __test__ = False

    @abstractmethod
    def create_recorder(self) -> AggregateRecorder:
        """Returns a new, empty recorder of the backend under test."""

    def create_event_store(self) -> EventStore:
        """Returns an event store with a plain JSON mapper and a new recorder."""
        return EventStore(
            mapper=Mapper(transcoder=new_transcoder()), recorder=self.create_recorder()
        )

    def test_put_and_get(self) -> None:
        event_store = self.create_event_store()
        originator_id = uuid4()
        self.assertEqual(list(event_store.get(originator_id)), [])

        events = [new_event(originator_id, v) for v in (1, 2, 3)]
        event_store.put(events[:1])
        event_store.put(events[1:])

        got = event_store.get(originator_id)
        self.assertIs(iter(got), got)
        self.assertEqual(list(got), events)
        self.assertEqual(list(event_store.get(originator_id, gt=1)), events[1:])
        self.assertEqual(list(event_store.get(originator_id, lte=2)), events[:2])
        self.assertEqual(
            list(event_store.get(originator_id, desc=True, limit=2)), events[:0:-1]
        )

    def test_corrupted_state_is_detected_and_names_the_record(self) -> None:
        event_store = self.create_event_store()
        event = new_event(uuid4(), 1)
        stored = event_store.mapper.from_domain_event(event)
        flipped = bytearray(stored.state)
        flipped[len(flipped) // 2] ^= 0x01
        event_store.recorder.insert_events(
            [StoredEvent(stored.originator_id, 1, stored.topic, bytes(flipped))]
        )
        with self.assertRaises(ChecksumError) as raised:
            list(event_store.get(event.originator_id))
        self.assertEqual(raised.exception.originator_id, event.originator_id)
        self.assertEqual(raised.exception.originator_version, 1)

    def test_state_stored_without_a_checksum_still_reads(self) -> None:
        event_store = self.create_event_store()
        legacy = Mapper(transcoder=new_transcoder())
        legacy.legacy_format = True  # as eventsourcing 9.1 wrote it
        event = new_event(uuid4(), 1)
        event_store.recorder.insert_events([legacy.from_domain_event(event)])
        self.assertEqual(list(event_store.get(event.originator_id)), [event])

    def test_conflicting_put_stores_nothing(self) -> None:
        event_store = self.create_event_store()
        originator_id = uuid4()
        event1 = new_event(originator_id, 1)
        event_store.put([event1])
        with self.assertRaises(RecordConflictError):
            event_store.put([new_event(originator_id, 2), new_event(originator_id, 1)])
        self.assertEqual(list(event_store.get(originator_id)), [event1])


class InfrastructureFactoryTestCase(ContractTestCase):
    """Contract of a backend's :class:`~eventsourcing.persistence.InfrastructureFactory`
    subclass, constructed by
    :meth:`~eventsourcing.persistence.InfrastructureFactory.construct` from :meth:`env`.

    Subclasses implement :meth:`env` and set the ``expected_*`` class attributes.
    """

    __test__ = False

    expected_factory_class: ClassVar[type[InfrastructureFactory]]
    expected_aggregate_recorder_class: ClassVar[type[AggregateRecorder]]
    expected_application_recorder_class: ClassVar[type[ApplicationRecorder]]
    expected_process_recorder_class: ClassVar[type[ProcessRecorder]]
    expected_tracking_recorder_class: ClassVar[type[TrackingRecorder] | None] = None
    """The backend's tracking recorder class; ``None`` (the default) for a backend
    without, whose ``tracking_recorder()`` must then say so."""

    application_name: ClassVar[str] = "TestApp"
    other_application_name: ClassVar[str] = "OtherApp"

    @abstractmethod
    def env(self) -> dict[str, str]:
        """Returns the environment that selects and configures the backend, such as
        ``{"INFRASTRUCTURE_FACTORY": "sqlite", "SQLITE_DBNAME": path}``."""

    def construct_factory(
        self, application_name: str | None = None, **env: str
    ) -> InfrastructureFactory:
        """Constructs the factory from :meth:`env` updated with ``env``."""
        if application_name is None:
            application_name = self.application_name
        return InfrastructureFactory.construct(application_name, {**self.env(), **env})

    def test_construct_selects_the_backend(self) -> None:
        factory = self.construct_factory()
        self.assertIsInstance(factory, self.expected_factory_class)
        self.assertEqual(factory.application_name, self.application_name)

    def test_recorder_types(self) -> None:
        factory = self.construct_factory()
        self.assertIsInstance(
            factory.aggregate_recorder(), self.expected_aggregate_recorder_class
        )
        self.assertIsInstance(
            factory.aggregate_recorder("snapshots"),
            self.expected_aggregate_recorder_class,
        )
        self.assertIsInstance(
            factory.application_recorder(), self.expected_application_recorder_class
        )
        self.assertIsInstance(
            factory.process_recorder(), self.expected_process_recorder_class
        )

    def test_tracking_recorder_type(self) -> None:
        factory = self.construct_factory()
        expected = self.expected_tracking_recorder_class
        if expected is None:
            with self.assertRaisesRegex(NotImplementedError, "no tracking recorders"):
                factory.tracking_recorder()
            return
        recorder = factory.tracking_recorder()
        self.assertIsInstance(recorder, expected)
        other = self.construct_factory(self.other_application_name)
        recorder.insert_tracking(Tracking("upstream", 1))
        self.assertEqual(recorder.max_tracking_id("upstream"), 1)
        self.assertEqual(other.tracking_recorder().max_tracking_id("upstream"), 0)

    def test_event_store_round_trip(self) -> None:
        factory = self.construct_factory()
        event_store = factory.event_store(
            mapper=factory.mapper(transcoder=new_transcoder()),
            recorder=factory.application_recorder(),
        )
        originator_id = uuid4()
        events = [new_event(originator_id, 1), new_event(originator_id, 2)]
        event_store.put(events)
        self.assertEqual(list(event_store.get(originator_id)), events)

    def test_compressed_event_store_round_trip(self) -> None:
        factory = self.construct_factory(COMPRESSOR_TOPIC="zlib")
        mapper = factory.mapper(transcoder=new_transcoder())
        self.assertIsNotNone(mapper.compressor)
        event_store = factory.event_store(
            mapper=mapper, recorder=factory.application_recorder()
        )
        event = new_event(uuid4(), 1)
        event_store.put([event])
        self.assertEqual(list(event_store.get(event.originator_id)), [event])

    def test_events_and_snapshots_are_kept_apart(self) -> None:
        factory = self.construct_factory()
        events = factory.aggregate_recorder("events")
        snapshots = factory.aggregate_recorder("snapshots")
        snapshot = StoredEvent(uuid4(), 1, "tests:Snapshot", b"{}")
        snapshots.insert_events([snapshot])
        self.assertEqual(snapshots.select_events(snapshot.originator_id), [snapshot])
        self.assertEqual(events.select_events(snapshot.originator_id), [])

    def test_applications_are_kept_apart(self) -> None:
        recorder1 = self.construct_factory().application_recorder()
        recorder2 = self.construct_factory(
            self.other_application_name
        ).application_recorder()
        event = StoredEvent(uuid4(), 1, "tests:Event", b"{}")
        recorder1.insert_events([event])
        self.assertEqual(recorder1.select_events(event.originator_id), [event])
        self.assertEqual(recorder2.select_events(event.originator_id), [])
        self.assertEqual(recorder2.max_notification_id(), 0)

    def test_snapshotting_is_enabled_by_environment(self) -> None:
        self.assertFalse(self.construct_factory().is_snapshotting_enabled())
        factory = self.construct_factory(IS_SNAPSHOTTING_ENABLED="y")
        self.assertTrue(factory.is_snapshotting_enabled())

    def test_application_prefixed_variable_wins(self) -> None:
        prefixed = f"{self.application_name.upper()}_SOME_SETTING"
        factory = self.construct_factory(SOME_SETTING="plain", **{prefixed: "prefixed"})
        self.assertEqual(factory.getenv("SOME_SETTING"), "prefixed")
        self.assertEqual(factory.getenv("OTHER_SETTING", "default"), "default")
