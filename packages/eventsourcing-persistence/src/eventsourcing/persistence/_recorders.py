"""Recorders write stored events to a datastore and read them back; each backend
implements these abstract base classes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uuid import UUID

    from eventsourcing.persistence._records import Notification, StoredEvent

__all__ = ["AggregateRecorder", "ApplicationRecorder", "ProcessRecorder", "Recorder"]


class Recorder(ABC):  # noqa: B024 (an abstract marker base, as documented)
    """Abstract base class for stored event recorders."""


class AggregateRecorder(Recorder):
    """Abstract base class for recorders that record and retrieve stored events for
    domain model aggregates."""

    @abstractmethod
    def insert_events(self, stored_events: list[StoredEvent], **kwargs: Any) -> None:
        """Writes stored events into database.

        All or nothing: if any event has the originator ID and version of an
        event already recorded (or of another event in the batch), no event is
        written and :class:`RecordConflictError` is raised.
        """

    @abstractmethod
    def select_events(
        self,
        originator_id: UUID,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """Reads stored events from database.

        Selects the events of ``originator_id`` with versions greater than ``gt``
        and less than or equal to ``lte``, in ascending order of version (descending
        when ``desc``), at most ``limit`` of them (taken after ordering).
        """


class ApplicationRecorder(AggregateRecorder):
    """Abstract base class for recorders that record and retrieve stored events for
    domain model aggregates.

    Extends the behaviour of aggregate recorders by recording aggregate events in a
    total order that allows the stored events also to be retrieved as event
    notifications. Notification IDs start at 1 and increase with each event.
    """

    @abstractmethod
    def select_notifications(self, start: int, limit: int) -> list[Notification]:
        """Returns a list of event notifications from 'start', limited by 'limit'.

        The notifications have IDs greater than or equal to ``start``, in ascending
        order of ID.
        """

    @abstractmethod
    def max_notification_id(self) -> int:
        """Returns the maximum notification ID (0 when there are no notifications)."""


class ProcessRecorder(ApplicationRecorder):
    """Abstract base class for recorders that record and retrieve stored events for
    domain model aggregates.

    Extends the behaviour of applications recorders by recording aggregate events
    with tracking information that records the position of a processed event
    notification in a notification log. ``insert_events(stored_events,
    tracking=Tracking(...))`` writes the events and the tracking record atomically,
    and raises :class:`RecordConflictError` (writing nothing) when that tracking
    record was already recorded.
    """

    @abstractmethod
    def max_tracking_id(self, application_name: str) -> int:
        """Returns the last recorded notification ID from given application
        (0 when none was recorded)."""
