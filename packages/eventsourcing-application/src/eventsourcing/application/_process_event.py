"""What an application records at once: new domain events, and the position of the
notification that caused them."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import DomainEvent

_new = object.__new__

if TYPE_CHECKING:
    from eventsourcing.persistence import Tracking


class ProcessEvent:
    """Keeps together a :class:`~eventsourcing.persistence.Tracking` object, the
    position of a notification in a leader's log, and the new domain events that
    result from processing that notification (or from a command, without tracking).
    """

    def __init__(self, tracking: Tracking | None = None) -> None:
        """Initialises the process event with the given tracking object."""
        self.tracking = tracking
        self.events: list[Any] = []
        self.aggregates: list[Any] = []
        self.is_recorded = False
        """Set once the events are recorded (so a failure after that is not a
        failure to record them)."""
        self._collected: list[tuple[Any, list[Any]]] = []

    @classmethod
    def _of(cls, objs: tuple[Any, ...], tracking: Tracking | None) -> ProcessEvent:
        """A new process event that has saved ``objs``: what ``Application.save()``
        does, in one call rather than two, since it is the path of every save."""
        self = _new(cls)
        self.tracking = tracking
        self.is_recorded = False
        if len(objs) == 1:
            # The usual save, of one aggregate, as save() does it: calling save()
            # here instead costs 3% of an app.save() (hatch run instructions).
            obj = objs[0]
            collect = getattr(obj, "collect_events", None)
            if collect is not None and callable(collect):
                new_events = collect()
                self.aggregates = [obj]
                self._collected = [(obj, new_events)]
                self.events = list(new_events)
                return self
        self.events = []
        self.aggregates = []
        self._collected = []
        self.save(*objs)
        return self

    def save(self, *objs: Any) -> None:
        """Collects the pending domain events of the given aggregates (and the
        given domain events; ``None`` is skipped, as in 9.1).

        ``events`` keeps the order in which the events were triggered across all
        aggregates saved so far (by timestamp), and each aggregate's own events
        always stay in version order.
        """
        if len(objs) == 1 and not self.aggregates and not self.events:
            # The usual save, of one aggregate, without the general case's work.
            obj = objs[0]
            collect = getattr(obj, "collect_events", None)
            if collect is not None and callable(collect):
                new_events = collect()
                self.aggregates.append(obj)
                self._collected.append((obj, new_events))
                self.events = list(new_events)
                return
        # All are checked before any is collected from, so that a bad argument
        # leaves every aggregate's pending events where they were.
        sources: list[tuple[Any, Any]] = []
        for obj in objs:
            if obj is None:
                continue
            # Aggregates first: isinstance() of an abstract class is the slow case.
            collect = getattr(obj, "collect_events", None)
            if collect is not None and callable(collect):
                sources.append((obj, collect))
            elif isinstance(obj, DomainEvent):
                sources.append((obj, None))
            else:
                msg = (
                    f"Cannot save {obj!r:.100}: give aggregates (objects with "
                    "collect_events()) or domain events"
                )
                raise TypeError(msg)
        collected: list[list[Any]] = []
        for obj, collect in sources:
            if collect is None:
                collected.append([obj])
                continue
            aggregates = self.aggregates
            if not aggregates or all(saved is not obj for saved in aggregates):
                aggregates.append(obj)
            new_events = collect()
            self._collected.append((obj, new_events))
            collected.append(new_events)
        if not self.events and len(collected) == 1:
            # One aggregate's events (the usual save): already in order.
            self.events = list(collected[0])
            return
        by_originator: dict[Any, list[Any]] = {}
        for events in (self.events, *collected):
            for event in events:
                by_originator.setdefault(event.originator_id, []).append(event)
        # heapq.merge consumes each list in its own order, so a clock that steps
        # backwards can never reorder the versions of one aggregate.
        self.events = list(
            heapq.merge(*by_originator.values(), key=lambda e: e.timestamp)
        )

    collect_events = save
    """An alias of :meth:`save` (the name later releases use)."""

    def restore_pending_events(self) -> None:
        """Gives the aggregates back the events collected from them, after a
        failure to record them, so that saving them again is possible (and
        fails again in the same way, rather than silently saving nothing)."""
        for aggregate, events in reversed(self._collected):
            pending = getattr(aggregate, "_pending_events", None)
            if isinstance(pending, list):
                pending[:0] = events
        self._collected = []
