"""The repository: reconstructs aggregates from a snapshot and the events after it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import DataError, EventStore

if TYPE_CHECKING:
    from typing_extensions import TypeVar

    from eventsourcing.domain import Aggregate

    TAggregate = TypeVar("TAggregate", bound=Aggregate, default=Any)
else:
    from typing import TypeVar

    TAggregate = TypeVar("TAggregate")


class AggregateNotFound(Exception):
    """Raised when a repository has no recorded events for the requested aggregate."""


class Repository(Generic[TAggregate]):
    """Reconstructs aggregates from the events in an :class:`EventStore`.

    When a snapshot store is given, the latest snapshot at or below the requested
    version is used as the starting point, so only the events after it are replayed.
    ``Repository[MyAggregate]`` tells type checkers what :meth:`get` returns.
    """

    def __init__(
        self,
        event_store: EventStore[Any],
        snapshot_store: EventStore[Any] | None = None,
    ) -> None:
        self.event_store = event_store
        self.snapshot_store = snapshot_store

    def get(self, aggregate_id: UUID, version: int | None = None) -> TAggregate:
        """Returns the aggregate with the given ID, optionally at the given version.

        A version beyond the last recorded one gives the last recorded version.
        Raises :class:`AggregateNotFound` when nothing is recorded for the ID (or
        nothing at or below the given version).
        """
        aggregate: Any = None
        gt: int | None = None
        if self.snapshot_store is not None:
            snapshot: Any
            for snapshot in self.snapshot_store.get(
                aggregate_id, lte=version, desc=True, limit=1
            ):
                if not isinstance(snapshot, Snapshot):
                    msg = (
                        f"The snapshot store holds a {type(snapshot).__qualname__} "
                        f"for aggregate {aggregate_id}, which is not a Snapshot: "
                        "refused (snapshot records must be snapshots)"
                    )
                    raise DataError(msg)
                aggregate = snapshot.mutate(None)
                gt = snapshot.originator_version
        domain_event: Any
        for domain_event in self.event_store.get(aggregate_id, gt=gt, lte=version):
            aggregate = domain_event.mutate(aggregate)
        if aggregate is None:
            msg = f"Aggregate {aggregate_id} not found"
            if version is not None:
                msg += f" at version {version}"
            msg += (
                ": no event of it is recorded in this event store. Check the ID, "
                "and that the application uses the storage the aggregate was "
                "saved in: the same backend and database settings, and the same "
                "application name (which names its tables)."
            )
            raise AggregateNotFound(msg)
        result: TAggregate = aggregate
        return result

    def __contains__(self, aggregate_id: object) -> bool:
        """Tells whether any event has been recorded for the given aggregate ID."""
        if not isinstance(aggregate_id, UUID):
            return False
        return any(True for _ in self.event_store.get(aggregate_id, limit=1))
