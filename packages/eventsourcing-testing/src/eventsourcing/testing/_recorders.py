"""Contract test cases for recorders: what every backend's aggregate, application and
process recorders must do."""

from __future__ import annotations

import threading
from abc import abstractmethod
from typing import ClassVar
from unittest import mock
from uuid import UUID, uuid4

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    IntegrityError,
    ProcessRecorder,
    RecordConflictError,
    StoredEvent,
    Tracking,
)
from eventsourcing.testing._base import ContractTestCase

__all__ = [
    "AggregateRecorderTestCase",
    "ApplicationRecorderTestCase",
    "ProcessRecorderTestCase",
]


def stored_event(
    originator_id: UUID, version: int, state: bytes = b"", topic: str = "tests:Event"
) -> StoredEvent:
    """Returns a stored event with a recognisable topic and state."""
    return StoredEvent(
        originator_id=originator_id,
        originator_version=version,
        topic=topic,
        state=state or f'{{"v": {version}}}'.encode(),
    )


class AggregateRecorderTestCase(ContractTestCase):
    """Contract of :class:`~eventsourcing.persistence.AggregateRecorder`."""

    __test__ = False

    @abstractmethod
    def create_recorder(self) -> AggregateRecorder:
        """Returns a new, empty recorder of the backend under test."""

    def test_select_events_of_unknown_originator_returns_empty_list(self) -> None:
        recorder = self.create_recorder()
        self.assertEqual(recorder.select_events(uuid4()), [])

    def test_insert_and_select_events(self) -> None:
        recorder = self.create_recorder()
        originator_id = uuid4()
        event1 = stored_event(originator_id, 1)
        recorder.insert_events([event1])
        self.assertEqual(recorder.select_events(originator_id), [event1])

        event2 = stored_event(originator_id, 2)
        event3 = stored_event(originator_id, 3)
        recorder.insert_events([event2, event3])
        self.assertEqual(
            recorder.select_events(originator_id), [event1, event2, event3]
        )

    def test_select_events_with_gt_lte_desc_and_limit(self) -> None:
        recorder = self.create_recorder()
        originator_id = uuid4()
        events = [stored_event(originator_id, v) for v in range(1, 6)]
        recorder.insert_events(events)
        e1, e2, e3, e4, e5 = events

        self.assertEqual(recorder.select_events(originator_id, gt=2), [e3, e4, e5])
        self.assertEqual(recorder.select_events(originator_id, lte=2), [e1, e2])
        self.assertEqual(recorder.select_events(originator_id, gt=1, lte=3), [e2, e3])
        self.assertEqual(
            recorder.select_events(originator_id, desc=True), [e5, e4, e3, e2, e1]
        )
        self.assertEqual(recorder.select_events(originator_id, limit=2), [e1, e2])
        self.assertEqual(
            recorder.select_events(originator_id, desc=True, limit=2), [e5, e4]
        )
        self.assertEqual(
            recorder.select_events(originator_id, gt=1, lte=4, desc=True, limit=2),
            [e4, e3],
        )
        self.assertEqual(recorder.select_events(originator_id, gt=5), [])
        self.assertEqual(recorder.select_events(originator_id, lte=0), [])

    def test_select_events_orders_by_version_whatever_the_insertion_order(self) -> None:
        recorder = self.create_recorder()
        originator_id = uuid4()
        event5 = stored_event(originator_id, 5)
        event2 = stored_event(originator_id, 2)
        event3 = stored_event(originator_id, 3)
        recorder.insert_events([event5])
        recorder.insert_events([event2])
        recorder.insert_events([event3])
        self.assertEqual(
            recorder.select_events(originator_id), [event2, event3, event5]
        )

    def test_originators_are_kept_apart(self) -> None:
        recorder = self.create_recorder()
        id1, id2 = uuid4(), uuid4()
        event1 = stored_event(id1, 1)
        event2 = stored_event(id2, 1)
        recorder.insert_events([event1, event2])
        self.assertEqual(recorder.select_events(id1), [event1])
        self.assertEqual(recorder.select_events(id2), [event2])

    def test_state_bytes_are_kept_exactly(self) -> None:
        recorder = self.create_recorder()
        originator_id = uuid4()
        state = bytes(range(256))
        recorder.insert_events([stored_event(originator_id, 1, state)])
        (selected,) = recorder.select_events(originator_id)
        self.assertEqual(selected.state, state)
        self.assertIsInstance(selected.state, bytes)
        self.assertEqual(selected.topic, "tests:Event")
        self.assertEqual(selected.originator_id, originator_id)
        self.assertEqual(selected.originator_version, 1)

    def test_inserting_no_events_does_nothing(self) -> None:
        recorder = self.create_recorder()
        recorder.insert_events([])
        self.assertEqual(recorder.select_events(uuid4()), [])

    def test_an_empty_batch_never_reaches_the_backend(self) -> None:
        # The contract's short-circuit (no transaction, no lock) holds for every
        # backend: its write method is not called at all.
        recorder = self.create_recorder()
        spy = mock.Mock(wraps=recorder._insert_events)
        recorder._insert_events = spy  # type: ignore[method-assign]  # a spy
        result = recorder.insert_events([])
        self.assertEqual(spy.call_count, 0)
        if isinstance(recorder, ApplicationRecorder):
            self.assertEqual(list(result or []), [])
        else:
            self.assertIsNone(result)

    def test_insert_events_refuses_what_is_not_a_stored_event(self) -> None:
        recorder = self.create_recorder()
        originator_id = uuid4()
        with self.assertRaises(TypeError):
            recorder.insert_events(
                [stored_event(originator_id, 1), "not a stored event"]  # type: ignore[list-item]  # the point
            )
        self.assertEqual(recorder.select_events(originator_id), [])

    def test_a_tracking_record_needs_a_process_recorder(self) -> None:
        recorder = self.create_recorder()
        originator_id = uuid4()
        if isinstance(recorder, ProcessRecorder):
            recorder.insert_events(
                [stored_event(originator_id, 1)], tracking=Tracking("upstream", 1)
            )
            self.assertEqual(recorder.max_tracking_id("upstream"), 1)
            return
        with self.assertRaises(TypeError):
            recorder.insert_events(
                [stored_event(originator_id, 1)], tracking=Tracking("upstream", 1)
            )
        self.assertEqual(recorder.select_events(originator_id), [])

    def test_conflicting_batch_writes_nothing(self) -> None:
        recorder = self.create_recorder()
        originator_id, other_id = uuid4(), uuid4()
        event1 = stored_event(originator_id, 1)
        recorder.insert_events([event1])

        batch = [
            stored_event(other_id, 1),
            stored_event(originator_id, 2),
            stored_event(originator_id, 1, b"conflict"),
        ]
        with self.assertRaises(RecordConflictError):
            recorder.insert_events(batch)

        self.assertEqual(recorder.select_events(originator_id), [event1])
        self.assertEqual(recorder.select_events(other_id), [])

    def test_record_conflict_error_is_an_integrity_error(self) -> None:
        recorder = self.create_recorder()
        event1 = stored_event(uuid4(), 1)
        recorder.insert_events([event1])
        with self.assertRaises(IntegrityError):
            recorder.insert_events([event1])

    def test_batch_with_duplicate_versions_writes_nothing(self) -> None:
        recorder = self.create_recorder()
        originator_id = uuid4()
        batch = [
            stored_event(originator_id, 1),
            stored_event(originator_id, 2),
            stored_event(originator_id, 2, b"again"),
        ]
        with self.assertRaises(RecordConflictError):
            recorder.insert_events(batch)
        self.assertEqual(recorder.select_events(originator_id), [])


class ApplicationRecorderTestCase(AggregateRecorderTestCase):
    """Contract of :class:`~eventsourcing.persistence.ApplicationRecorder`, including
    concurrent writers."""

    __test__ = False

    concurrent_writers: ClassVar[int] = 4
    """Number of writer threads in ``test_concurrent_writers_lose_nothing``."""
    batches_per_writer: ClassVar[int] = 25
    """Number of batches (of three events) each writer thread inserts."""

    @abstractmethod
    def create_recorder(self) -> ApplicationRecorder:
        """Returns a new, empty recorder of the backend under test."""

    def test_max_notification_id_is_zero_when_empty(self) -> None:
        recorder = self.create_recorder()
        self.assertEqual(recorder.max_notification_id(), 0)
        self.assertEqual(recorder.select_notifications(1, 10), [])

    def test_select_notifications_in_recording_order(self) -> None:
        recorder = self.create_recorder()
        id1, id2 = uuid4(), uuid4()
        event1 = stored_event(id1, 1)
        event2 = stored_event(id1, 2)
        event3 = stored_event(id2, 1)
        recorder.insert_events([event1, event2])
        recorder.insert_events([event3])

        notifications = recorder.select_notifications(1, 10)
        self.assertEqual(len(notifications), 3)
        for notification, event in zip(
            notifications, [event1, event2, event3], strict=True
        ):
            self.assertEqual(notification.originator_id, event.originator_id)
            self.assertEqual(notification.originator_version, event.originator_version)
            self.assertEqual(notification.topic, event.topic)
            self.assertEqual(notification.state, event.state)
        ids = [n.id for n in notifications]
        self.assertEqual(ids, sorted(set(ids)))
        self.assertGreaterEqual(ids[0], 1)
        self.assertEqual(recorder.max_notification_id(), ids[-1])

        self.assertEqual(recorder.select_notifications(ids[1], 10), notifications[1:])
        self.assertEqual(recorder.select_notifications(ids[0], 2), notifications[:2])
        self.assertEqual(recorder.select_notifications(ids[2] + 1, 10), [])

    def test_select_notifications_of_given_topics_only(self) -> None:
        recorder = self.create_recorder()
        originator_id = uuid4()
        topics = ["tests:A", "tests:B", "tests:A", "tests:C", "tests:B", "tests:A"]
        recorder.insert_events(
            [
                stored_event(originator_id, version, topic=topic)
                for version, topic in enumerate(topics, 1)
            ]
        )
        everything = recorder.select_notifications(1, 10)
        ids = [n.id for n in everything]

        def versions(start: int, limit: int, *topics: str) -> list[int]:
            selected = recorder.select_notifications(start, limit, topics=topics)
            for notification in selected:
                self.assertIn(notification, everything)
            return [n.originator_version for n in selected]

        self.assertEqual(versions(1, 10, "tests:A"), [1, 3, 6])
        self.assertEqual(versions(1, 10, "tests:A", "tests:B"), [1, 2, 3, 5, 6])
        # The limit counts the selected notifications only.
        self.assertEqual(versions(1, 2, "tests:B", "tests:C"), [2, 4])
        self.assertEqual(versions(ids[3], 2, "tests:A", "tests:B"), [5, 6])
        self.assertEqual(versions(ids[5] + 1, 10, "tests:A"), [])
        self.assertEqual(versions(1, 10, "tests:Z"), [])
        self.assertEqual(versions(1, 10), [1, 2, 3, 4, 5, 6])
        self.assertEqual(recorder.select_notifications(1, 10, topics=[]), everything)

    def test_insert_events_returns_the_notification_ids(self) -> None:
        recorder = self.create_recorder()
        first = list(recorder.insert_events([stored_event(uuid4(), 1)]) or [])
        batch = [stored_event(uuid4(), 1), stored_event(uuid4(), 1)]
        second = list(recorder.insert_events(batch) or [])
        ids = [n.id for n in recorder.select_notifications(1, 10)]
        self.assertEqual(first + second, ids)
        self.assertEqual(len(ids), 3)

    def test_conflicting_batch_takes_no_notification(self) -> None:
        recorder = self.create_recorder()
        originator_id = uuid4()
        recorder.insert_events([stored_event(originator_id, 1)])
        max_id = recorder.max_notification_id()
        with self.assertRaises(RecordConflictError):
            recorder.insert_events(
                [stored_event(uuid4(), 1), stored_event(originator_id, 1)]
            )
        self.assertEqual(recorder.max_notification_id(), max_id)
        self.assertEqual(len(recorder.select_notifications(1, 10)), 1)

    def test_concurrent_writers_lose_nothing(self) -> None:
        recorder = self.create_recorder()
        errors: list[BaseException] = []
        written: list[StoredEvent] = []
        written_lock = threading.Lock()

        def write() -> None:
            try:
                for _ in range(self.batches_per_writer):
                    originator_id = uuid4()
                    batch = [stored_event(originator_id, v) for v in (1, 2, 3)]
                    recorder.insert_events(batch)
                    with written_lock:
                        written.extend(batch)
            except BaseException as e:  # pragma: no cover (only on failure)
                errors.append(e)

        writing = threading.Event()
        writing.set()
        seen: list[int] = []

        def read() -> None:
            # A reader tailing the log from the last ID it saw, as a follower does:
            # if an ID became visible after a greater one, it would be missed.
            try:
                position = 0
                while True:
                    done = not writing.is_set()
                    ids = [
                        n.id for n in recorder.select_notifications(position + 1, 1000)
                    ]
                    assert ids == sorted(set(ids)), ids
                    seen.extend(ids)
                    position = ids[-1] if ids else position
                    if done and not ids:
                        return
            except BaseException as e:  # pragma: no cover (only on failure)
                errors.append(e)

        reader = threading.Thread(target=read)
        reader.start()
        writers = [
            threading.Thread(target=write) for _ in range(self.concurrent_writers)
        ]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
        writing.clear()
        reader.join()

        self.assertEqual(errors, [])
        expected = self.concurrent_writers * self.batches_per_writer * 3
        notifications = recorder.select_notifications(1, expected + 10)
        self.assertEqual(len(notifications), expected)
        ids = [n.id for n in notifications]
        self.assertEqual(ids, sorted(set(ids)))
        self.assertEqual(recorder.max_notification_id(), ids[-1])
        self.assertEqual(seen, ids)  # the tailing reader missed nothing
        recorded = {(n.originator_id, n.originator_version) for n in notifications}
        self.assertEqual(
            recorded, {(e.originator_id, e.originator_version) for e in written}
        )
        # The events of one batch are recorded next to each other, in order.
        for i in range(0, expected, 3):
            batch = notifications[i : i + 3]
            self.assertEqual({n.originator_id for n in batch}, {batch[0].originator_id})
            self.assertEqual([n.originator_version for n in batch], [1, 2, 3])


class ProcessRecorderTestCase(ApplicationRecorderTestCase):
    """Contract of :class:`~eventsourcing.persistence.ProcessRecorder`."""

    __test__ = False

    @abstractmethod
    def create_recorder(self) -> ProcessRecorder:
        """Returns a new, empty recorder of the backend under test."""

    def test_max_tracking_id(self) -> None:
        recorder = self.create_recorder()
        self.assertEqual(recorder.max_tracking_id("upstream"), 0)

        recorder.insert_events(
            [stored_event(uuid4(), 1)], tracking=Tracking("upstream", 1)
        )
        self.assertEqual(recorder.max_tracking_id("upstream"), 1)

        recorder.insert_events(
            [stored_event(uuid4(), 1)], tracking=Tracking("upstream", 2)
        )
        self.assertEqual(recorder.max_tracking_id("upstream"), 2)
        self.assertEqual(recorder.max_tracking_id("other"), 0)

    def test_tracking_record_without_events(self) -> None:
        recorder = self.create_recorder()
        recorder.insert_events([], tracking=Tracking("upstream", 5))
        self.assertEqual(recorder.max_tracking_id("upstream"), 5)
        self.assertEqual(recorder.max_notification_id(), 0)

    def test_upstream_applications_are_tracked_apart(self) -> None:
        recorder = self.create_recorder()
        recorder.insert_events([], tracking=Tracking("upstream1", 3))
        recorder.insert_events([], tracking=Tracking("upstream2", 3))
        self.assertEqual(recorder.max_tracking_id("upstream1"), 3)
        self.assertEqual(recorder.max_tracking_id("upstream2"), 3)

    def test_insert_events_without_tracking(self) -> None:
        recorder = self.create_recorder()
        originator_id = uuid4()
        event1 = stored_event(originator_id, 1)
        recorder.insert_events([event1])
        self.assertEqual(recorder.select_events(originator_id), [event1])
        self.assertEqual(recorder.max_tracking_id("upstream"), 0)

    def test_tracking_record_conflict_writes_nothing(self) -> None:
        recorder = self.create_recorder()
        tracking = Tracking("upstream", 1)
        event1 = stored_event(uuid4(), 1)
        recorder.insert_events([event1], tracking=tracking)
        max_id = recorder.max_notification_id()

        event2 = stored_event(uuid4(), 1)
        with self.assertRaises(IntegrityError):
            recorder.insert_events([event2], tracking=tracking)

        self.assertEqual(recorder.select_events(event2.originator_id), [])
        self.assertEqual(recorder.max_notification_id(), max_id)
        self.assertEqual(recorder.max_tracking_id("upstream"), 1)

    def test_event_conflict_writes_no_tracking_record(self) -> None:
        recorder = self.create_recorder()
        event1 = stored_event(uuid4(), 1)
        recorder.insert_events([event1])
        with self.assertRaises(RecordConflictError):
            recorder.insert_events([event1], tracking=Tracking("upstream", 1))
        self.assertEqual(recorder.max_tracking_id("upstream"), 0)
        # The tracking record can still be written after the failure.
        recorder.insert_events([], tracking=Tracking("upstream", 1))
        self.assertEqual(recorder.max_tracking_id("upstream"), 1)
