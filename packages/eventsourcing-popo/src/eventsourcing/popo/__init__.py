"""Persistence in "plain old Python objects": recorders that keep stored events in
memory, the fastest backend for development and tests (entry point ``popo``)."""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from itertools import islice
from typing import TYPE_CHECKING

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    Notification,
    ProcessRecorder,
    RecordConflictError,
    StoredEvent,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.popo._tracking import POPOTrackingRecorder
from eventsourcing.utils import publish, version_getter

if TYPE_CHECKING:
    from collections.abc import Sequence
    from uuid import UUID

__all__ = [
    "Factory",
    "POPOAggregateRecorder",
    "POPOApplicationRecorder",
    "POPOProcessRecorder",
    "POPOTrackingRecorder",
]


_NO_ID = object()  # matches no originator ID, not even None
_new = object.__new__


class POPOAggregateRecorder(AggregateRecorder):
    """Records stored events in memory, in aggregate sequences.

    One lock serialises writers and readers, and a batch is checked completely
    before anything is written, so a conflicting batch leaves the store unchanged.
    """

    def __init__(self) -> None:
        self._database_lock = threading.Lock()
        # originator ID (as an int: a UUID's __hash__() is a call of Python code,
        # an int's is not) -> (sorted versions, events in the same order)
        self._sequences: dict[int, tuple[list[int], list[StoredEvent]]] = {}

    def _insert_events(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        """Writes stored events into database."""
        with self._database_lock:
            self._assert_uniqueness(stored_events, tracking)
            return self._update_table(stored_events, tracking)

    def _assert_uniqueness(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> None:
        sequences = self._sequences
        # The keys of the batch so far, to find a key repeated in the batch; not
        # needed when the batch is one aggregate's events in ascending order
        # (one ID object, as when an aggregate is saved), the usual case.
        new_keys: set[tuple[UUID, int]] | None = None
        if len(stored_events) > 1:
            originator_id = stored_events[0].originator_id
            version = stored_events[0].originator_version
            for stored_event in stored_events[1:]:
                if (
                    stored_event.originator_id is not originator_id
                    or stored_event.originator_version <= version
                ):
                    new_keys = set()
                    break
                version = stored_event.originator_version
        # The sequence of the previous event's ID object (looking a UUID up in a
        # dict costs a call of UUID.__hash__).
        last_id: object = _NO_ID
        sequence: tuple[list[int], list[StoredEvent]] | None = None
        for stored_event in stored_events:
            originator_id = stored_event.originator_id
            version = stored_event.originator_version
            if new_keys is not None:
                key = (originator_id, version)
                if key in new_keys:
                    msg = (
                        f"The batch records version {version} of {originator_id} "
                        "twice; nothing was recorded."
                    )
                    raise RecordConflictError(msg)
                new_keys.add(key)
            if originator_id is not last_id:
                last_id = originator_id
                sequence = sequences.get(originator_id.int)
            if sequence is not None:
                versions = sequence[0]
                # Usually the next version: greater than all, so no search.
                if version > versions[-1]:
                    continue
                index = bisect_left(versions, version)
                if versions[index] == version:
                    msg = (
                        f"Version {version} of {originator_id} is already recorded; "
                        "nothing was recorded."
                    )
                    raise RecordConflictError(msg)

    def _update_table(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        sequences = self._sequences
        for stored_event in stored_events:
            version = stored_event.originator_version
            key = stored_event.originator_id.int
            sequence = sequences.get(key)
            if sequence is None:
                sequences[key] = ([version], [stored_event])
                continue
            versions, events = sequence
            if version > versions[-1]:
                versions.append(version)
                events.append(stored_event)
            else:
                # Out-of-order versions (say, a snapshot of an earlier version).
                index = bisect_left(versions, version)
                versions.insert(index, version)
                events.insert(index, stored_event)
        return None

    def select_events(
        self,
        originator_id: UUID,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """Reads stored events from database."""
        with self._database_lock:
            sequence = self._sequences.get(originator_id.int)
            if sequence is None:
                return []
            versions, events = sequence
            start = 0 if gt is None else bisect_right(versions, gt)
            stop = len(versions) if lte is None else bisect_right(versions, lte)
            selected = events[start:stop]
        if desc:
            selected.reverse()
        if limit is not None:
            del selected[limit:]
        return selected


class POPOApplicationRecorder(ApplicationRecorder, POPOAggregateRecorder):
    """Records stored events in memory with notification IDs 1, 2, 3... in the order
    they were recorded."""

    def __init__(self) -> None:
        super().__init__()
        self._notifications: list[Notification] = []

    def _update_table(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        # Notifications are immutable, so each is made once, when it is recorded,
        # and reading the log is a slice. The aggregate sequences are updated in
        # the same loop (as in POPOAggregateRecorder._update_table), since this
        # is the hot path of every write.
        sequences = self._sequences
        notifications = self._notifications
        notification_id = first_id = len(notifications)
        # The sequence of the previous event's ID object (see _assert_uniqueness).
        last_id: object = _NO_ID
        sequence: tuple[list[int], list[StoredEvent]] | None = None
        for stored_event in stored_events:
            notification_id += 1
            version = stored_event.originator_version
            originator_id = stored_event.originator_id
            # Notification(...) without the call of its __init__().
            notification = _new(Notification)
            fields = notification.__dict__
            fields["originator_id"] = originator_id
            fields["originator_version"] = version
            fields["topic"] = stored_event.topic
            fields["state"] = stored_event.state
            fields["id"] = notification_id
            notifications.append(notification)
            if originator_id is not last_id:
                last_id = originator_id
                sequence = sequences.get(originator_id.int)
            if sequence is None:
                sequence = sequences[originator_id.int] = ([version], [stored_event])
                continue
            versions, events = sequence
            if version > versions[-1]:
                versions.append(version)
                events.append(stored_event)
            else:
                # Out-of-order versions (say, a snapshot of an earlier version).
                index = bisect_left(versions, version)
                versions.insert(index, version)
                events.insert(index, stored_event)
        return range(first_id + 1, notification_id + 1)

    def select_notifications(
        self, start: int, limit: int, *, topics: Sequence[str] = ()
    ) -> list[Notification]:
        """Returns a list of event notifications from 'start', limited by 'limit'
        (only those of ``topics``, if given)."""
        first = max(start, 1)
        with self._database_lock:
            if not topics:
                return self._notifications[first - 1 : first - 1 + max(limit, 0)]
            wanted = frozenset(topics)
            selected: list[Notification] = []
            for notification in islice(self._notifications, first - 1, None):
                if len(selected) >= limit:
                    break
                if notification.topic in wanted:
                    selected.append(notification)
            return selected

    def max_notification_id(self) -> int:
        """Returns the maximum notification ID."""
        return len(self._notifications)


class POPOProcessRecorder(ProcessRecorder, POPOApplicationRecorder):
    """Records stored events in memory atomically with tracking records."""

    def __init__(self) -> None:
        super().__init__()
        self._tracking: dict[str, set[int]] = {}
        self._max_tracking_ids: dict[str, int] = {}

    def _assert_uniqueness(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> None:
        super()._assert_uniqueness(stored_events, tracking)
        if tracking is not None and tracking.notification_id in self._tracking.get(
            tracking.application_name, ()
        ):
            msg = (
                f"Notification {tracking.notification_id} of "
                f"{tracking.application_name!r} is already tracked (it was processed "
                "before); nothing was recorded."
            )
            raise RecordConflictError(msg)

    def _update_table(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        ids = super()._update_table(stored_events, tracking)
        if tracking is not None:
            name = tracking.application_name
            self._tracking.setdefault(name, set()).add(tracking.notification_id)
            if tracking.notification_id > self._max_tracking_ids.get(name, 0):
                self._max_tracking_ids[name] = tracking.notification_id
        return ids

    def max_tracking_id(self, application_name: str) -> int:
        """Returns the last recorded notification ID from given application."""
        return self._max_tracking_ids.get(application_name, 0)


class Factory(InfrastructureFactory):
    """Infrastructure factory for the in-memory recorders (``popo``, the default)."""

    tracking_recorder_base: type[TrackingRecorder] | None = POPOTrackingRecorder

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        """Constructs an aggregate recorder."""
        return POPOAggregateRecorder()

    def application_recorder(self) -> ApplicationRecorder:
        """Constructs an application recorder."""
        return POPOApplicationRecorder()

    def process_recorder(self) -> ProcessRecorder:
        """Constructs a process recorder."""
        return POPOProcessRecorder()


publish(__name__, globals())
if TYPE_CHECKING:
    __version__: str
else:
    __getattr__ = version_getter("eventsourcing-popo")
