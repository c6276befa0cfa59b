"""Event-sourced domain models: aggregates, domain events and snapshots.

``TZINFO`` is the time zone of new event timestamps: UTC, unless the environment
variable ``TZINFO_TOPIC`` gives the topic of another ``datetime.tzinfo`` object
when this module is imported. It can also be assigned at any time.

Exceptions: :class:`VersionError` (and its subclass
:class:`OriginatorVersionError`) for an event out of sequence,
:class:`OriginatorIDError` for an event applied to another aggregate.
"""

import os
from datetime import tzinfo
from typing import TYPE_CHECKING

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
    OriginatorIDError,
    OriginatorVersionError,
    TAggregate,
    VersionError,
    tzinfo_from_env,
)
from eventsourcing.domain._snapshot import Snapshot
from eventsourcing.domain._versioning import upcast_state
from eventsourcing.utils import publish, version_getter

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
    "OriginatorIDError",
    "OriginatorVersionError",
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

publish(__name__, globals())
if TYPE_CHECKING:
    __version__: str
else:
    __getattr__ = version_getter("eventsourcing-domain")
