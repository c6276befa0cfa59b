"""The records that recorders write and read: stored events, notifications and
tracking records."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

__all__ = ["Notification", "StoredEvent", "Tracking"]


@dataclass(frozen=True)
class StoredEvent:
    """Frozen dataclass that represents :class:`~eventsourcing.domain.DomainEvent`
    objects, such as aggregate ``Event`` objects and ``Snapshot`` objects.

    :param originator_id: ID of the originating aggregate
    :param originator_version: version of the originating aggregate
    :param topic: topic of the domain event object class
    :param state: serialised state of the domain event object
    """

    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class Notification(StoredEvent):
    """Frozen dataclass that represents domain event notifications: a stored event
    with its position ``id`` in the application's total order."""

    id: int


@dataclass(frozen=True)
class Tracking:
    """Frozen dataclass representing the position of a domain event
    :class:`Notification` in an application's notification log."""

    application_name: str
    notification_id: int
