"""Persistence in "plain old Python objects": recorders that keep stored events in
memory, the fastest backend for development and tests (entry point ``popo``)."""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    Notification,
    ProcessRecorder,
    RecordConflictError,
    StoredEvent,
    Tracking,
)

if TYPE_CHECKING:
    from uuid import UUID

__all__ = [
    "Factory",
    "POPOAggregateRecorder",
    "POPOApplicationRecorder",
    "POPOProcessRecorder",
]


def _notification(notification_id: int, stored_event: StoredEvent) -> Notification:
    notification: Notification = object.__new__(Notification)
    notification.__dict__.update(
        originator_id=stored_event.originator_id,
        originator_version=stored_event.originator_version,
        topic=stored_event.topic,
        state=stored_event.state,
        id=notification_id,
    )
    return notification


class POPOAggregateRecorder(AggregateRecorder):
    """Records stored events in memory, in aggregate sequences.

    One lock serialises writers and readers, and a batch is checked completely
    before anything is written, so a conflicting batch leaves the store unchanged.
    """

    def __init__(self) -> None:
        self._database_lock = threading.Lock()
        # originator ID -> (sorted versions, events in the same order)
        self._sequences: dict[UUID, tuple[list[int], list[StoredEvent]]] = {}

    def insert_events(self, stored_events: list[StoredEvent], **kwargs: Any) -> None:
        """Writes stored events into database."""
        with self._database_lock:
            self._assert_uniqueness(stored_events, **kwargs)
            self._update_table(stored_events, **kwargs)

    def _assert_uniqueness(self, stored_events: list[StoredEvent], **_: Any) -> None:
        sequences = self._sequences
        new_keys: set[tuple[UUID, int]] = set()
        for stored_event in stored_events:
            key = (stored_event.originator_id, stored_event.originator_version)
            if key in new_keys:
                msg = (
                    f"The batch records version {key[1]} of {key[0]} twice; "
                    "nothing was recorded."
                )
                raise RecordConflictError(msg)
            new_keys.add(key)
            sequence = sequences.get(key[0])
            if sequence is not None:
                versions = sequence[0]
                index = bisect_left(versions, key[1])
                if index < len(versions) and versions[index] == key[1]:
                    msg = (
                        f"Version {key[1]} of {key[0]} is already recorded; nothing "
                        "was recorded. Get the aggregate again and retry the command."
                    )
                    raise RecordConflictError(msg)

    def _update_table(self, stored_events: list[StoredEvent], **_: Any) -> None:
        sequences = self._sequences
        for stored_event in stored_events:
            version = stored_event.originator_version
            sequence = sequences.get(stored_event.originator_id)
            if sequence is None:
                sequences[stored_event.originator_id] = ([version], [stored_event])
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
            sequence = self._sequences.get(originator_id)
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

    def _update_table(self, stored_events: list[StoredEvent], **kwargs: Any) -> None:
        super()._update_table(stored_events, **kwargs)
        # Notifications are immutable, so each is made once, when it is recorded,
        # and reading the log is a slice. They are made without the frozen
        # dataclass __init__ (three times slower) since their fields are known.
        first_id = len(self._notifications) + 1
        self._notifications.extend(
            _notification(notification_id, s)
            for notification_id, s in enumerate(stored_events, first_id)
        )

    def select_notifications(self, start: int, limit: int) -> list[Notification]:
        """Returns a list of event notifications from 'start', limited by 'limit'."""
        first = max(start, 1)
        with self._database_lock:
            return self._notifications[first - 1 : first - 1 + max(limit, 0)]

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
        self, stored_events: list[StoredEvent], **kwargs: Any
    ) -> None:
        super()._assert_uniqueness(stored_events, **kwargs)
        tracking: Tracking | None = kwargs.get("tracking")
        if tracking is not None and tracking.notification_id in self._tracking.get(
            tracking.application_name, ()
        ):
            msg = (
                f"Notification {tracking.notification_id} of "
                f"{tracking.application_name!r} is already tracked (it was processed "
                "before); nothing was recorded."
            )
            raise RecordConflictError(msg)

    def _update_table(self, stored_events: list[StoredEvent], **kwargs: Any) -> None:
        super()._update_table(stored_events, **kwargs)
        tracking: Tracking | None = kwargs.get("tracking")
        if tracking is not None:
            name = tracking.application_name
            self._tracking.setdefault(name, set()).add(tracking.notification_id)
            if tracking.notification_id > self._max_tracking_ids.get(name, 0):
                self._max_tracking_ids[name] = tracking.notification_id

    def max_tracking_id(self, application_name: str) -> int:
        """Returns the last recorded notification ID from given application."""
        return self._max_tracking_ids.get(application_name, 0)


class Factory(InfrastructureFactory):
    """Infrastructure factory for the in-memory recorders (``popo``, the default)."""

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        """Constructs an aggregate recorder."""
        return POPOAggregateRecorder()

    def application_recorder(self) -> ApplicationRecorder:
        """Constructs an application recorder."""
        return POPOApplicationRecorder()

    def process_recorder(self) -> ProcessRecorder:
        """Constructs a process recorder."""
        return POPOProcessRecorder()
