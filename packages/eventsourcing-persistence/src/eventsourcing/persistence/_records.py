"""The records that recorders write and read: stored events, notifications and
tracking records.

They are frozen dataclasses with hand-written ``__init__`` methods: the
generated one sets each field through ``object.__setattr__()``, which made
building records more than twice as slow, and recorders build one for every
row they read. Writing the instance ``__dict__`` directly gives objects equal
and identical in every way to those the generated method would make.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from eventsourcing.domain import DomainEvent

__all__ = ["Notification", "Recording", "StoredEvent", "Tracking"]


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

    def __init__(
        self, originator_id: UUID, originator_version: int, topic: str, state: bytes
    ) -> None:
        fields = self.__dict__
        fields["originator_id"] = originator_id
        fields["originator_version"] = originator_version
        fields["topic"] = topic
        fields["state"] = state


@dataclass(frozen=True)
class Notification(StoredEvent):
    """Frozen dataclass that represents domain event notifications: a stored event
    with its position ``id`` in the application's total order."""

    id: int

    def __init__(
        self,
        originator_id: UUID,
        originator_version: int,
        topic: str,
        state: bytes,
        id: int,
    ) -> None:
        fields = self.__dict__
        fields["originator_id"] = originator_id
        fields["originator_version"] = originator_version
        fields["topic"] = topic
        fields["state"] = state
        fields["id"] = id


@dataclass(frozen=True)
class Tracking:
    """Frozen dataclass representing the position of a domain event
    :class:`Notification` in an application's notification log."""

    application_name: str
    notification_id: int

    def __init__(self, application_name: str, notification_id: int) -> None:
        fields = self.__dict__
        fields["application_name"] = application_name
        fields["notification_id"] = notification_id


@dataclass(frozen=True)
class Recording:
    """A domain event as it was recorded: the event and its notification, whose
    ``id`` is its position in the application's notification log.

    :meth:`~eventsourcing.persistence.EventStore.put` returns one for each event
    an application recorder records, so that a caller can wait for a read model
    to catch up with what it just saved.

    .. versionadded:: 9.1.0
    """

    domain_event: DomainEvent[Any]
    notification: Notification

    def __init__(
        self, domain_event: DomainEvent[Any], notification: Notification
    ) -> None:
        fields = self.__dict__
        fields["domain_event"] = domain_event
        fields["notification"] = notification
