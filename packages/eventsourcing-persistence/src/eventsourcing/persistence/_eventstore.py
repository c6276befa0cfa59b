"""The event store puts domain events in a recorder and gets them back, through a
mapper."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from uuid import UUID

    from eventsourcing.domain import DomainEvent
    from eventsourcing.persistence._mapper import Mapper
    from eventsourcing.persistence._recorders import AggregateRecorder

__all__ = ["EventStore"]


class EventStore:
    """Stores and retrieves domain events."""

    def __init__(self, mapper: Mapper, recorder: AggregateRecorder) -> None:
        self.mapper = mapper
        self.recorder = recorder

    def put(self, events: Sequence[DomainEvent], **kwargs: Any) -> None:
        """Stores domain events in aggregate sequence.

        All or nothing: if any event conflicts with a recorded one, none is stored
        and :class:`RecordConflictError` is raised. Keyword arguments (such as
        ``tracking``) are passed to the recorder.
        """
        from_domain_event = self.mapper.from_domain_event
        self.recorder.insert_events([from_domain_event(e) for e in events], **kwargs)

    def get(
        self,
        originator_id: UUID,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[DomainEvent]:
        """Retrieves domain events from aggregate sequence."""
        stored_events = self.recorder.select_events(
            originator_id, gt=gt, lte=lte, desc=desc, limit=limit
        )
        return map(self.mapper.to_domain_event, stored_events)
