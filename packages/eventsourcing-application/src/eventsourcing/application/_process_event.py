"""What an application records at once: new domain events, and the position of the
notification that caused them."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import DomainEvent

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

    def save(self, *objs: Any) -> None:
        """Collects the pending domain events of the given aggregates (and the
        given domain events; ``None`` is skipped, as in 9.1).

        ``events`` keeps the order in which the events were triggered across all
        aggregates saved so far (by timestamp), and each aggregate's own events
        always stay in version order.
        """
        by_originator: dict[Any, list[Any]] = {}
        for event in self.events:
            by_originator.setdefault(event.originator_id, []).append(event)
        for obj in objs:
            if obj is None:
                continue
            if isinstance(obj, DomainEvent):
                new_events = [obj]
            elif callable(getattr(obj, "collect_events", None)):
                if not any(saved is obj for saved in self.aggregates):
                    self.aggregates.append(obj)
                new_events = obj.collect_events()
                self._collected.append((obj, new_events))
            else:
                msg = (
                    f"Cannot save {obj!r:.100}: give aggregates (objects with "
                    "collect_events()) or domain events"
                )
                raise TypeError(msg)
            for event in new_events:
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
