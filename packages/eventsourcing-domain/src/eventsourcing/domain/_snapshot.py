"""Snapshots: an aggregate's state at a version, to avoid replaying all its events."""

from __future__ import annotations

from copy import deepcopy
from typing import Any, Self

from eventsourcing.domain._aggregate import Aggregate
from eventsourcing.domain._events import DomainEvent, TAggregate
from eventsourcing.domain._versioning import upcast_state
from eventsourcing.utils import get_topic, resolve_stored_topic

_NOT_STATE = ("_id", "_version", "_pending_events")


class Snapshot(DomainEvent[TAggregate]):
    """The state of an aggregate at a particular version.

    :param topic: topic of the aggregate class.
    :param state: the aggregate's attributes, without ID, version and pending events.
    """

    topic: str
    state: dict[str, Any]

    @classmethod
    def take(cls, aggregate: Aggregate) -> Self:
        """Create a snapshot of the given aggregate."""
        state = deepcopy(
            {k: v for k, v in aggregate.__dict__.items() if k not in _NOT_STATE}
        )
        aggregate_class = type(aggregate)
        class_version = getattr(aggregate_class, "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=cls.create_timestamp(),
            topic=get_topic(aggregate_class),
            state=state,
        )

    def mutate(self, _: None = None) -> TAggregate:
        """Reconstruct the snapshotted aggregate (upcasting old state first)."""
        aggregate_class: Any = resolve_stored_topic(self.topic, Aggregate)
        state = deepcopy(self.state)
        upcast_state(aggregate_class, state)
        aggregate: TAggregate = object.__new__(aggregate_class)
        aggregate.__dict__.update(state)
        aggregate.__dict__.update(
            _id=self.originator_id, _version=self.originator_version, _pending_events=[]
        )
        return aggregate
