"""Contract test case for tracking recorders: what every backend's positions must
do, whatever else its views store."""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from typing import ClassVar

from eventsourcing.persistence import (
    NestedTransactionError,
    RecordConflictError,
    Tracking,
    TrackingRecorder,
    WaitInterruptedError,
)
from eventsourcing.testing._base import ContractTestCase

__all__ = ["TrackingRecorderTestCase"]


class TrackingRecorderTestCase(ContractTestCase):
    """Contract of :class:`~eventsourcing.persistence.TrackingRecorder`, including
    concurrent writers of the same positions and
    :meth:`~eventsourcing.persistence.TrackingRecorder.wait`."""

    __test__ = False

    concurrent_writers: ClassVar[int] = 4
    """Number of threads in ``test_concurrent_writers_record_each_position_once``."""
    positions_per_writer: ClassVar[int] = 20
    """Number of positions each of those threads tries to record."""

    @abstractmethod
    def create_recorder(self) -> TrackingRecorder:
        """Returns a new, empty tracking recorder of the backend under test."""

    def test_max_tracking_id_is_zero_before_any_position(self) -> None:
        recorder = self.create_recorder()
        self.assertEqual(recorder.max_tracking_id("upstream"), 0)
        self.assertFalse(recorder.has_tracking_id("upstream", 1))

    def test_insert_tracking_moves_the_position_forward(self) -> None:
        recorder = self.create_recorder()
        recorder.insert_tracking(Tracking("upstream", 3))
        self.assertEqual(recorder.max_tracking_id("upstream"), 3)
        recorder.insert_tracking(Tracking("upstream", 9))
        self.assertEqual(recorder.max_tracking_id("upstream"), 9)
        self.assertTrue(recorder.has_tracking_id("upstream", 9))
        self.assertTrue(recorder.has_tracking_id("upstream", 4))
        self.assertFalse(recorder.has_tracking_id("upstream", 10))

    def test_a_processed_notification_conflicts_and_records_nothing(self) -> None:
        recorder = self.create_recorder()
        recorder.insert_tracking(Tracking("upstream", 5))
        for notification_id in (5, 4, 1):
            with self.assertRaises(RecordConflictError):
                recorder.insert_tracking(Tracking("upstream", notification_id))
        self.assertEqual(recorder.max_tracking_id("upstream"), 5)

    def test_applications_are_tracked_apart(self) -> None:
        recorder = self.create_recorder()
        recorder.insert_tracking(Tracking("upstream1", 3))
        recorder.insert_tracking(Tracking("upstream2", 2))
        self.assertEqual(recorder.max_tracking_id("upstream1"), 3)
        self.assertEqual(recorder.max_tracking_id("upstream2"), 2)
        self.assertEqual(recorder.max_tracking_id("upstream3"), 0)

    def test_a_transaction_records_the_last_and_guards_the_first(self) -> None:
        recorder = self.create_recorder()
        with recorder.transaction(Tracking("upstream", 2), Tracking("upstream", 6)):
            pass
        self.assertEqual(recorder.max_tracking_id("upstream"), 6)
        # Notifications 5 to 8 overlap what was processed: none is recorded.
        with (
            self.assertRaises(RecordConflictError),
            recorder.transaction(Tracking("upstream", 5), Tracking("upstream", 8)),
        ):
            pass
        self.assertEqual(recorder.max_tracking_id("upstream"), 6)
        with recorder.transaction(
            Tracking("upstream", 7), Tracking("upstream", 8), Tracking("other", 1)
        ):
            pass
        self.assertEqual(recorder.max_tracking_id("upstream"), 8)
        self.assertEqual(recorder.max_tracking_id("other"), 1)

    def test_a_conflict_of_one_application_records_none_of_the_others(self) -> None:
        recorder = self.create_recorder()
        recorder.insert_tracking(Tracking("upstream", 4))
        with (
            self.assertRaises(RecordConflictError),
            recorder.transaction(Tracking("other", 1), Tracking("upstream", 4)),
        ):
            pass
        self.assertEqual(recorder.max_tracking_id("other"), 0)

    def test_a_block_that_raises_records_nothing(self) -> None:
        recorder = self.create_recorder()
        with (
            self.assertRaises(ZeroDivisionError),
            recorder.transaction(Tracking("upstream", 1)),
        ):
            _ = 1 / 0
        self.assertEqual(recorder.max_tracking_id("upstream"), 0)
        recorder.insert_tracking(Tracking("upstream", 1))
        self.assertEqual(recorder.max_tracking_id("upstream"), 1)

    def test_nested_transactions_commit_with_the_outer_one(self) -> None:
        recorder = self.create_recorder()
        with recorder.transaction(Tracking("upstream", 1)):
            with recorder.transaction(Tracking("upstream", 2)):
                pass
            with (
                self.assertRaises(ZeroDivisionError),
                recorder.transaction(Tracking("upstream", 9)),
            ):
                _ = 1 / 0
        self.assertEqual(recorder.max_tracking_id("upstream"), 2)
        # A nested transaction is not committed before the outer one.
        with (
            self.assertRaises(ZeroDivisionError),
            recorder.transaction(Tracking("upstream", 3)),
        ):
            with recorder.transaction(Tracking("upstream", 4)):
                pass
            _ = 1 / 0
        self.assertEqual(recorder.max_tracking_id("upstream"), 2)

    def test_without_savepoints_a_caught_nested_error_rolls_everything_back(
        self,
    ) -> None:
        recorder = self.create_recorder()

        def catch_a_nested_error() -> None:
            with recorder.transaction(Tracking("upstream", 1), savepoints=False):
                with recorder.transaction(Tracking("upstream", 2)):
                    pass
                try:
                    with recorder.transaction():
                        _ = 1 / 0
                except ZeroDivisionError:
                    pass

        with self.assertRaisesRegex(NestedTransactionError, "ZeroDivisionError"):
            catch_a_nested_error()
        self.assertEqual(recorder.max_tracking_id("upstream"), 0)
        with recorder.transaction(Tracking("upstream", 1), savepoints=False):
            with recorder.transaction(Tracking("upstream", 2)):
                pass
            with recorder.transaction():
                pass
        self.assertEqual(recorder.max_tracking_id("upstream"), 2)

    def test_bad_trackings_are_refused_with_clear_errors(self) -> None:
        recorder = self.create_recorder()
        with self.assertRaisesRegex(TypeError, "Tracking objects"):
            recorder.transaction("upstream 1")  # type: ignore[arg-type]  # not a Tracking
        for bad in (0, -1, 1.5):
            with self.assertRaisesRegex(ValueError, "notification ID"):
                recorder.insert_tracking(Tracking("upstream", bad))  # type: ignore[arg-type]  # not a positive int
        self.assertEqual(recorder.max_tracking_id("upstream"), 0)

    def test_concurrent_writers_record_each_position_once(self) -> None:
        recorder = self.create_recorder()
        recorded: list[int] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def write() -> None:
            try:
                for notification_id in range(1, self.positions_per_writer + 1):
                    try:
                        recorder.insert_tracking(Tracking("upstream", notification_id))
                    except RecordConflictError:
                        continue
                    with lock:
                        recorded.append(notification_id)
            except BaseException as e:  # pragma: no cover (only on failure)
                errors.append(e)

        threads = [
            threading.Thread(target=write) for _ in range(self.concurrent_writers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertEqual(
            sorted(recorded), list(range(1, self.positions_per_writer + 1))
        )
        self.assertEqual(
            recorder.max_tracking_id("upstream"), self.positions_per_writer
        )

    def test_wait_returns_as_soon_as_the_notification_is_processed(self) -> None:
        recorder = self.create_recorder()
        recorder.insert_tracking(Tracking("upstream", 1))
        recorder.wait("upstream", 1, timeout=0.0)  # processed already
        timer = threading.Timer(
            0.05, lambda: recorder.insert_tracking(Tracking("upstream", 2))
        )
        started = time.monotonic()
        timer.start()
        recorder.wait("upstream", 2, timeout=5.0)
        waited = time.monotonic() - started
        timer.join()
        self.assertGreaterEqual(waited, 0.04)
        self.assertLess(waited, 0.05 + 2 * recorder.wait_interval + 0.5)

    def test_wait_times_out_with_an_error_naming_the_application_and_ids(
        self,
    ) -> None:
        recorder = self.create_recorder()
        recorder.insert_tracking(Tracking("upstream", 3))
        started = time.monotonic()
        with self.assertRaises(TimeoutError) as raised:
            recorder.wait("upstream", 4, timeout=0.05)
        self.assertGreaterEqual(time.monotonic() - started, 0.05)
        message = str(raised.exception)
        self.assertIn("'upstream'", message)
        self.assertIn("notification 4", message)
        self.assertIn("up to notification 3", message)

    def test_wait_stops_when_interrupted(self) -> None:
        recorder = self.create_recorder()
        interrupt = threading.Event()
        threading.Timer(0.02, interrupt.set).start()
        with self.assertRaisesRegex(WaitInterruptedError, "notification 1 of"):
            recorder.wait("upstream", 1, timeout=5.0, interrupt=interrupt)
