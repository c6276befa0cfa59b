"""Aggregate, application and process recorders that keep stored events in an
append-only file of JSON lines."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    Notification,
    ProcessRecorder,
    StoredEvent,
    Tracking,
)
from eventsourcing_jsonlines._store import BatchFile

if TYPE_CHECKING:
    from pathlib import Path
    from uuid import UUID

__all__ = [
    "JSONLinesAggregateRecorder",
    "JSONLinesApplicationRecorder",
    "JSONLinesProcessRecorder",
]


class JSONLinesAggregateRecorder(AggregateRecorder):
    """Records stored events in an append-only JSON-lines file, one line per batch.

    ``path`` is the file (created, with its directory, when missing); with
    ``fsync`` every write is flushed to the disk before ``insert_events`` returns.
    Recorders in several threads or processes may share one file.
    """

    def __init__(self, path: str | os.PathLike[str], fsync: bool = False) -> None:
        self._store = BatchFile(path, fsync=fsync)

    @property
    def path(self) -> Path:
        """The file of JSON lines."""
        return self._store.path

    def close(self) -> None:
        """Closes the file (also done when the recorder is garbage collected)."""
        self._store.close()

    def _insert_events(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        """Writes stored events into database (one line: all or nothing)."""
        self._store.append(stored_events, None)
        return None

    def select_events(
        self,
        originator_id: UUID,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        """Reads stored events from database."""
        selected = self._store.select_events(originator_id, gt, lte)
        if desc:
            selected.reverse()
        if limit is not None:
            del selected[limit:]
        return selected


class JSONLinesApplicationRecorder(ApplicationRecorder, JSONLinesAggregateRecorder):
    """Records stored events in a JSON-lines file with notification IDs 1, 2, 3...
    in the order the batches were appended, across every process sharing the file."""

    def _insert_events(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        """Writes stored events into database (one line: all or nothing); returns
        their notification IDs."""
        return self._store.append(stored_events, tracking)

    def select_notifications(
        self, start: int, limit: int, *, topics: Sequence[str] = ()
    ) -> list[Notification]:
        """Returns a list of event notifications from 'start', limited by 'limit'
        (only those of ``topics``, if given)."""
        return self._store.select_notifications(start, limit, frozenset(topics))

    def max_notification_id(self) -> int:
        """Returns the maximum notification ID."""
        return self._store.max_notification_id()


class JSONLinesProcessRecorder(ProcessRecorder, JSONLinesApplicationRecorder):
    """Records stored events in a JSON-lines file with the tracking record in the
    same line, so events and tracking record are written atomically."""

    def _insert_events(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        """Writes stored events and the ``tracking`` record (if given) into database:
        one line, all or nothing. A tracking record already recorded raises
        :class:`~eventsourcing.persistence.RecordConflictError` (an
        ``IntegrityError``) and writes nothing."""
        return self._store.append(stored_events, tracking)

    def max_tracking_id(self, application_name: str) -> int:
        """Returns the last recorded notification ID from given application."""
        return self._store.max_tracking_id(application_name)
