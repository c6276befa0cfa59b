"""Event-sourced domain models: aggregates, domain events and snapshots.

``TZINFO`` is the time zone of new event timestamps: UTC, unless the environment
variable ``TZINFO_TOPIC`` gives the topic of another ``datetime.tzinfo`` object
when this module is imported. It can also be assigned at any time.
"""

import os
from datetime import tzinfo

from eventsourcing.domain._aggregate import Aggregate, MetaAggregate, aggregate
from eventsourcing.domain._decorators import (
    BoundCommandMethodDecorator,
    CommandMethodDecorator,
    DecoratedEvent,
    UnboundCommandMethodDecorator,
    event,
    triggers,
)
from eventsourcing.domain._events import (
    AggregateCreated,
    AggregateEvent,
    DomainEvent,
    MetaDomainEvent,
    TAggregate,
    VersionError,
    tzinfo_from_env,
)
from eventsourcing.domain._snapshot import Snapshot
from eventsourcing.domain._versioning import upcast_state

TZINFO: tzinfo = tzinfo_from_env(os.environ)

__all__ = [
    "TZINFO",
    "Aggregate",
    "AggregateCreated",
    "AggregateEvent",
    "BoundCommandMethodDecorator",
    "CommandMethodDecorator",
    "DecoratedEvent",
    "DomainEvent",
    "MetaAggregate",
    "MetaDomainEvent",
    "Snapshot",
    "TAggregate",
    "UnboundCommandMethodDecorator",
    "VersionError",
    "aggregate",
    "event",
    "triggers",
    "tzinfo_from_env",
    "upcast_state",
]
