"""Recorders write stored events to a datastore and read them back; each backend
implements these abstract base classes.

The write contract is defined once, here: :meth:`AggregateRecorder.insert_events`
checks its arguments, returns at once for an empty batch without a tracking
record, and refuses a tracking record where it cannot be stored; a backend
implements the one write method :meth:`AggregateRecorder._insert_events`.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import _coordination
from eventsourcing.persistence._records import StoredEvent, Tracking

if TYPE_CHECKING:
    from uuid import UUID

    from eventsourcing.persistence._records import Notification

__all__ = ["AggregateRecorder", "ApplicationRecorder", "ProcessRecorder", "Recorder"]


class Recorder(ABC):  # noqa: B024 (an abstract marker base, as documented)
    """Abstract base class for stored event recorders."""

    legacy_layout: bool = False
    """True for a recorder on a store laid out by eventsourcing 9.1, into which
    records are written in 9.1's formats so that 9.1 can still read the store."""

    def wakeup_key(self) -> Hashable:
        """What identifies the log this recorder writes, for waking its readers in
        this process: the same for every recorder of one log (a backend whose
        recorders share a database says which table), by default this recorder.

        .. versionadded:: 9.1.0
        """
        return ("recorder", id(self))


class AggregateRecorder(Recorder):
    """Abstract base class for recorders that record and retrieve stored events for
    domain model aggregates."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        legacy = cls.__dict__.get("insert_events")
        if legacy is not None and "_insert_events" not in cls.__dict__:
            # A recorder written for 9.1 overrides insert_events(events, **kwargs):
            # keep it as the backend's write method, behind the checked contract.
            def _insert_events(
                self: Any, stored_events: list[StoredEvent], tracking: Tracking | None
            ) -> Sequence[int] | None:
                if tracking is None:
                    result: Sequence[int] | None = legacy(self, stored_events)
                else:
                    result = legacy(self, stored_events, tracking=tracking)
                return result

            cls._insert_events = _insert_events  # type: ignore[method-assign]  # adapts a 9.1 recorder
            cls.insert_events = AggregateRecorder.insert_events  # type: ignore[method-assign]  # the checked contract

    def insert_events(
        self, stored_events: Sequence[StoredEvent], *, tracking: Tracking | None = None
    ) -> Sequence[int] | None:
        """Writes stored events into database, with the ``tracking`` record if
        given (only a :class:`ProcessRecorder` stores one).

        All or nothing: if any event has the originator ID and version of an
        event already recorded (or of another event in the batch), or the
        tracking record was already recorded, nothing is written and
        :class:`RecordConflictError` is raised. Returns the notification IDs of
        the new events when the recorder gives them (application recorders do),
        else ``None``.
        """
        events = stored_events if type(stored_events) is list else list(stored_events)
        for stored_event in events:
            if not isinstance(stored_event, StoredEvent):
                msg = (
                    f"insert_events() takes StoredEvent objects, not "
                    f"{stored_event!r:.100}: map domain events with a Mapper first "
                    "(EventStore.put() does)"
                )
                raise TypeError(msg)
        if tracking is None:
            if not events:
                return [] if isinstance(self, ApplicationRecorder) else None
        elif not isinstance(self, ProcessRecorder):
            msg = (
                f"{type(self).__name__} cannot record a tracking record: only a "
                "process recorder (InfrastructureFactory.process_recorder()) stores "
                "the position of a processed notification"
            )
            raise TypeError(msg)
        elif not isinstance(tracking, Tracking):
            msg = f"tracking must be a Tracking object, not {tracking!r:.100}"
            raise TypeError(msg)
        ids = self._insert_events(events, tracking)
        if ids and _coordination._conditions:
            _coordination.signal_commit(self.wakeup_key())
        return ids

    @abstractmethod
    def _insert_events(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        """The backend's write: records the events, and the tracking record if not
        ``None``, atomically, raising :class:`RecordConflictError` (having written
        nothing) on any conflict; returns the new notification IDs where there
        are any.

        Called by :meth:`insert_events` with checked arguments: never an empty
        batch without a tracking record, and a tracking record only for a
        :class:`ProcessRecorder`.
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
    notifications. Notification IDs start at 1 and increase with each event;
    :meth:`~AggregateRecorder.insert_events` returns the IDs of the events it
    recorded.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        select = cls.__dict__.get("select_notifications")
        if select is not None and not _takes_topics(select):
            # A recorder written before topic filters: filter what it selects.
            cls.select_notifications = _filtering(select)  # type: ignore[method-assign]  # adapts a recorder without topics

    @abstractmethod
    def select_notifications(
        self, start: int, limit: int, *, topics: Sequence[str] = ()
    ) -> list[Notification]:
        """Returns a list of event notifications from 'start', limited by 'limit'.

        The notifications have IDs greater than or equal to ``start``, in ascending
        order of ID. With ``topics``, only notifications of those topics are
        selected (and counted against ``limit``), filtered by the database where
        the backend can, so that the state of other events is never read.

        A recorder whose ``select_notifications()`` takes no ``topics`` still
        answers correctly: what it selects is filtered after reading.

        .. versionchanged:: 9.1.0
           The ``topics`` filter.
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


def _takes_topics(select: Any) -> bool:
    parameters = inspect.signature(select).parameters.values()
    return any(
        p.name == "topics" or p.kind is inspect.Parameter.VAR_KEYWORD
        for p in parameters
    )


def _filtering(
    select: Callable[[Any, int, int], list[Notification]],
) -> Callable[..., list[Notification]]:
    """Wrap a ``select_notifications(start, limit)`` that cannot filter by topic:
    read pages until ``limit`` notifications of the topics are found or the log
    ends, so that the answer is the same as a filtering backend's."""

    def select_notifications(
        self: Any, start: int, limit: int, *, topics: Sequence[str] = ()
    ) -> list[Notification]:
        if not topics:
            return select(self, start, limit)
        wanted = set(topics)
        selected: list[Notification] = []
        while len(selected) < limit:
            page = select(self, start, limit)
            selected.extend(n for n in page if n.topic in wanted)
            if len(page) < limit:
                break
            start = page[-1].id + 1
        return selected[:limit]

    select_notifications.__doc__ = select.__doc__
    return select_notifications
