"""The event store puts domain events in a recorder and gets them back, through a
mapper."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, overload

from eventsourcing.domain import DomainEvent
from eventsourcing.persistence._recorders import ApplicationRecorder
from eventsourcing.persistence._records import Notification, Recording

if TYPE_CHECKING:
    from collections.abc import Iterator
    from uuid import UUID

    from eventsourcing.persistence._mapper import Mapper
    from eventsourcing.persistence._recorders import AggregateRecorder
    from eventsourcing.persistence._records import StoredEvent, Tracking

__all__ = ["EventStore"]

_new = object.__new__

if TYPE_CHECKING:
    from typing_extensions import TypeVar

    # With a default, a bare ``EventStore`` is ``EventStore[DomainEvent]``.
    TDomainEvent = TypeVar(
        "TDomainEvent", bound=DomainEvent[Any], default=DomainEvent[Any]
    )
else:
    from typing import TypeVar

    TDomainEvent = TypeVar("TDomainEvent")


class EventStore(Generic[TDomainEvent]):
    """Stores and retrieves domain events.

    The first event store made with a mapper decides the formats that mapper
    writes: those of eventsourcing 9.1 when its recorder's store already holds
    records in 9.1's formats (so that 9.1 can still read it), otherwise the
    current ones (see the "Migrating from eventsourcing 9.1" page).
    """

    def __init__(self, mapper: Mapper, recorder: AggregateRecorder) -> None:
        self.mapper = mapper
        self.recorder = recorder
        if mapper.legacy_format is None:
            mapper.legacy_format = store_holds_legacy_format(mapper, recorder)

    def put(
        self, events: Sequence[TDomainEvent], *, tracking: Tracking | None = None
    ) -> Sequence[Recording]:
        """Stores domain events in aggregate sequence, with the ``tracking`` record
        if given (a process recorder stores it atomically with the events).

        All or nothing: if any event conflicts with a recorded one, none is stored
        and :class:`RecordConflictError` is raised. Returns the recordings of the
        events, with their notification IDs, when the recorder gives them.
        """
        from_domain_event = self.mapper.from_domain_event
        stored_events = [from_domain_event(e) for e in events]
        ids = self.recorder.insert_events(stored_events, tracking=tracking)
        if not ids:
            return []
        if len(ids) != len(stored_events):
            msg = (
                f"{type(self.recorder).__name__} returned {len(ids)} notification "
                f"IDs for {len(stored_events)} events"
            )
            raise ValueError(msg)
        # Built without __init__(): on the path of every save. A copy of events,
        # which the caller may reuse.
        recordings = _new(_Recordings)
        recordings._put = (tuple(events), stored_events, ids)
        recordings._made = None
        return recordings

    def get(
        self,
        originator_id: UUID,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[TDomainEvent]:
        """Retrieves domain events from aggregate sequence."""
        stored_events = self.recorder.select_events(
            originator_id, gt=gt, lte=lte, desc=desc, limit=limit
        )
        return map(self.mapper.to_domain_event, stored_events)  # type: ignore[arg-type]  # the store's events are TDomainEvent


def store_holds_legacy_format(mapper: Mapper, recorder: AggregateRecorder) -> bool:
    """Tell whether the recorder's store holds eventsourcing 9.1's formats: laid
    out by 9.1, or its newest record not in the current formats."""
    if getattr(recorder, "legacy_layout", False):
        return True
    if not isinstance(recorder, ApplicationRecorder):
        return False
    last = recorder.max_notification_id()
    if not last:
        return False
    newest = recorder.select_notifications(last, 1)
    return bool(newest) and not mapper.writes_current_format_for(newest[0].state)


class _Recordings(Sequence[Recording]):
    """The recordings of a put, made when first looked at: on the path of every
    save, and most callers never look (making them costs a tenth of a save)."""

    __slots__ = ("_made", "_put")

    _put: tuple[tuple[DomainEvent[Any], ...], list[StoredEvent], Sequence[int]]
    _made: list[Recording] | None

    def _list(self) -> list[Recording]:
        made = self._made
        if made is None:
            events, stored_events, ids = self._put
            made = self._made = [
                Recording(
                    event,
                    Notification(
                        stored.originator_id,
                        stored.originator_version,
                        stored.topic,
                        stored.state,
                        notification_id,
                    ),
                )
                for event, stored, notification_id in zip(
                    events, stored_events, ids, strict=True
                )
            ]
        return made

    def __len__(self) -> int:
        return len(self._put[2])

    @overload
    def __getitem__(self, index: int) -> Recording: ...

    @overload
    def __getitem__(self, index: slice) -> list[Recording]: ...

    def __getitem__(self, index: int | slice) -> Recording | list[Recording]:
        return self._list()[index]

    def __iter__(self) -> Iterator[Recording]:
        return iter(self._list())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Recordings):
            other = other._list()
        return self._list() == other

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, as a list

    def __repr__(self) -> str:
        return repr(self._list())
