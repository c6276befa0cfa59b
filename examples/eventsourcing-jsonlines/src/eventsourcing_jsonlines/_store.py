"""One append-only file of JSON lines, one line per recorded batch, and the in-memory
index of what it holds, kept up to date with lines that other processes append."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import threading
import weakref
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from itertools import islice
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    DataError,
    InterfaceError,
    Notification,
    OperationalError,
    RecordConflictError,
    StoredEvent,
    Tracking,
)

__all__ = ["BatchFile"]

Batch = tuple[list[Notification], Tracking | None]


class BatchFile:
    """An append-only file of JSON lines, each line one batch recorded atomically.

    A line holds the events of one ``insert_events`` call with their notification
    IDs, and the tracking record if there is one::

        {"events": [{"id": 1, "originator_id": "...", "originator_version": 1,
                     "topic": "...", "state": "<base64>"}],
         "tracking": {"application_name": "...", "notification_id": 5}}

    The index (events by originator, notifications by ID, tracking records) is read
    from the file when it is opened, and before each read or write it takes in the
    lines appended since its last known offset, so recorders in other processes
    sharing the file see each other's writes. A thread lock serialises the threads
    of this process; an exclusive ``flock`` on the file serialises writers across
    processes. Only complete lines (ending in a newline) are read: a trailing
    partial line is a write in progress or the remains of a writer that crashed, and
    the next writer, holding the lock, cuts it off before appending.
    """

    def __init__(self, path: str | os.PathLike[str], fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._lock = threading.Lock()
        self._offset = 0  # bytes of complete lines taken into the index
        self._sequences: dict[UUID, tuple[list[int], list[StoredEvent]]] = {}
        self._ids: list[int] = []
        self._notifications: list[Notification] = []
        self._tracking: dict[str, set[int]] = {}
        self._max_tracking_ids: dict[str, int] = {}
        self._closed = False
        self._fd = self._open()
        self._pid = os.getpid()
        self._finalizer = weakref.finalize(self, os.close, self._fd)
        with self._lock:
            self._catch_up()

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as e:
            msg = (
                f"Cannot open the JSON-lines file {str(self.path)!r}: {e}. Make "
                "JSONLINES_PATH a directory that this process can create and write."
            )
            raise OperationalError(msg) from e

    def _file(self) -> int:
        """The file descriptor, reopened in a forked child so that its ``flock``
        is not the parent's."""
        if self._closed:
            msg = f"The recorder of {str(self.path)!r} is closed; construct a new one."
            raise InterfaceError(msg)
        if self._pid != os.getpid():
            self._finalizer.detach()
            os.close(self._fd)
            self._fd = self._open()
            self._pid = os.getpid()
            self._finalizer = weakref.finalize(self, os.close, self._fd)
        return self._fd

    def close(self) -> None:
        """Closes the file; the index is no longer read or written."""
        with self._lock:
            self._closed = True
            self._finalizer()

    # Reading the file into the index.

    def _catch_up(self) -> None:
        """Takes complete lines appended since the last known offset into the index
        (call with the thread lock held)."""
        fd = self._file()
        try:
            size = os.fstat(fd).st_size
            if size < self._offset:
                msg = (
                    f"{str(self.path)!r} is shorter ({size} bytes) than the "
                    f"{self._offset} bytes already read from it: it was truncated or "
                    "replaced. Restore the file; it must only ever be appended to."
                )
                raise DataError(msg)
            data = os.pread(fd, size - self._offset, self._offset)
        except OSError as e:
            msg = f"Cannot read {str(self.path)!r}: {e}"
            raise OperationalError(msg) from e
        start = 0
        end = data.find(b"\n")
        while end >= 0:
            self._apply(self._decode(data[start:end], self._offset))
            self._offset += end + 1 - start
            start = end + 1
            end = data.find(b"\n", start)

    def _decode(self, line: bytes, offset: int) -> Batch:
        try:
            record: dict[str, Any] = json.loads(line)
            events = [
                Notification(
                    id=int(e["id"]),
                    originator_id=UUID(e["originator_id"]),
                    originator_version=int(e["originator_version"]),
                    topic=str(e["topic"]),
                    state=base64.b64decode(e["state"], validate=True),
                )
                for e in record["events"]
            ]
            t = record.get("tracking")
            tracking = (
                None
                if t is None
                else Tracking(str(t["application_name"]), int(t["notification_id"]))
            )
        except (ValueError, KeyError, TypeError) as e:
            msg = (
                f"The line at byte {offset} of {str(self.path)!r} is not a batch "
                f"record ({e!r}): the file is corrupt. Restore it from a backup."
            )
            raise DataError(msg) from e
        return events, tracking

    def _apply(self, batch: Batch) -> None:
        notifications, tracking = batch
        for n in notifications:
            stored = StoredEvent(
                n.originator_id, n.originator_version, n.topic, n.state
            )
            sequence = self._sequences.get(n.originator_id)
            if sequence is None:
                self._sequences[n.originator_id] = ([n.originator_version], [stored])
            else:
                # Versions usually arrive in order; a snapshot may arrive late.
                versions, events = sequence
                index = bisect_left(versions, n.originator_version)
                versions.insert(index, n.originator_version)
                events.insert(index, stored)
            self._ids.append(n.id)
            self._notifications.append(n)
        if tracking is not None:
            name = tracking.application_name
            self._tracking.setdefault(name, set()).add(tracking.notification_id)
            if tracking.notification_id > self._max_tracking_ids.get(name, 0):
                self._max_tracking_ids[name] = tracking.notification_id

    # Writing.

    @contextmanager
    def _file_lock(self) -> Iterator[int]:
        """Holds the thread lock and the exclusive lock on the file."""
        with self._lock:
            fd = self._file()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as e:
                msg = f"Cannot lock {str(self.path)!r}: {e}"
                raise OperationalError(msg) from e
            try:
                yield fd
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def append(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> list[int]:
        """Appends one line recording the events and the tracking record, all or
        nothing: a conflict raises :class:`RecordConflictError` and writes nothing.
        Returns the notification IDs of the events."""
        with self._file_lock() as fd:
            self._catch_up()
            self._check(stored_events, tracking)
            first_id = (self._ids[-1] if self._ids else 0) + 1
            batch: Batch = (
                [
                    Notification(
                        id=notification_id,
                        originator_id=s.originator_id,
                        originator_version=s.originator_version,
                        topic=s.topic,
                        state=s.state,
                    )
                    for notification_id, s in enumerate(stored_events, first_id)
                ],
                tracking,
            )
            line = _encode(batch)
            try:
                # A partial line left by a writer that crashed was never recorded.
                os.ftruncate(fd, self._offset)
                written = os.write(fd, line)
                if written != len(line):
                    msg = f"wrote {written} of {len(line)} bytes"
                    raise OSError(msg)
                if self.fsync:
                    os.fsync(fd)
            except OSError as e:
                self._discard(fd)
                msg = f"Cannot write to {str(self.path)!r}: {e}; nothing was recorded."
                raise OperationalError(msg) from e
            self._offset += len(line)
            self._apply(batch)
            return [notification.id for notification in batch[0]]

    def _discard(self, fd: int) -> None:
        """Cuts off what a failed write left, so the file ends with a whole line."""
        # If that fails too, the next writer cuts it off, and readers ignore it.
        with suppress(OSError):
            os.ftruncate(fd, self._offset)

    def _check(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> None:
        keys: set[tuple[UUID, int]] = set()
        for s in stored_events:
            key = (s.originator_id, s.originator_version)
            if key in keys:
                msg = (
                    f"The batch records version {key[1]} of {key[0]} twice; "
                    "nothing was recorded."
                )
                raise RecordConflictError(msg)
            keys.add(key)
            sequence = self._sequences.get(key[0])
            if sequence is not None:
                versions = sequence[0]
                index = bisect_left(versions, key[1])
                if index < len(versions) and versions[index] == key[1]:
                    msg = (
                        f"Version {key[1]} of {key[0]} is already recorded; nothing "
                        "was recorded."
                    )
                    raise RecordConflictError(msg)
        if tracking is not None and tracking.notification_id in self._tracking.get(
            tracking.application_name, ()
        ):
            msg = (
                f"Notification {tracking.notification_id} of "
                f"{tracking.application_name!r} is already tracked (it was processed "
                "before); nothing was recorded."
            )
            raise RecordConflictError(msg)

    # Queries: each first takes in what other processes appended.

    def select_events(
        self, originator_id: UUID, gt: int | None, lte: int | None
    ) -> list[StoredEvent]:
        with self._lock:
            self._catch_up()
            sequence = self._sequences.get(originator_id)
            if sequence is None:
                return []
            versions, events = sequence
            start = 0 if gt is None else bisect_right(versions, gt)
            stop = len(versions) if lte is None else bisect_right(versions, lte)
            return events[start:stop]

    def select_notifications(
        self, start: int, limit: int, topics: frozenset[str] = frozenset()
    ) -> list[Notification]:
        with self._lock:
            self._catch_up()
            index = bisect_left(self._ids, start)
            if not topics:
                return self._notifications[index : index + max(limit, 0)]
            selected: list[Notification] = []
            for notification in islice(self._notifications, index, None):
                if len(selected) >= limit:
                    break
                if notification.topic in topics:
                    selected.append(notification)
            return selected

    def max_notification_id(self) -> int:
        with self._lock:
            self._catch_up()
            return self._ids[-1] if self._ids else 0

    def max_tracking_id(self, application_name: str) -> int:
        with self._lock:
            self._catch_up()
            return self._max_tracking_ids.get(application_name, 0)


def _encode(batch: Batch) -> bytes:
    notifications, tracking = batch
    record: dict[str, Any] = {
        "events": [
            {
                "id": n.id,
                "originator_id": str(n.originator_id),
                "originator_version": n.originator_version,
                "topic": n.topic,
                "state": base64.b64encode(n.state).decode("ascii"),
            }
            for n in notifications
        ]
    }
    if tracking is not None:
        record["tracking"] = {
            "application_name": tracking.application_name,
            "notification_id": tracking.notification_id,
        }
    # Compact and ASCII-only: no newline can occur inside the line.
    return json.dumps(record, separators=(",", ":")).encode("ascii") + b"\n"
