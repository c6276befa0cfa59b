"""A tracking recorder in memory, whose subclasses are views with tables in memory:
read models for tests, and for data that need not outlive the process."""

from __future__ import annotations

import threading
from collections.abc import Iterator, MutableMapping
from typing import Any

from eventsourcing.persistence import RecordConflictError, TrackingRecorder

__all__ = ["POPOTrackingRecorder"]

_MISSING = object()


class POPOTrackingRecorder(TrackingRecorder):
    """Records positions in memory; a view derived from it keeps its data in
    :meth:`table` mappings, in memory too.

    A transaction holds the recorder's lock from beginning to end, and reading a
    table waits for it, so no reader sees a change before its position. Changes
    made to tables in a transaction whose block raises are undone, and so are
    those of a nested transaction that raises. Replace stored values rather than
    changing them in place: a change made in place cannot be undone.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._positions: dict[str, int] = {}
        self._tables: dict[str, dict[Any, Any]] = {}
        # The open transaction's undo logs, one for each level of nesting: only
        # the thread that holds the lock uses them.
        self._undo: list[list[tuple[Any, ...]]] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def table(self, name: str) -> MutableMapping[Any, Any]:
        """The table ``name`` of the view: a mapping that can be read at any time
        and changed inside
        :meth:`~eventsourcing.persistence.TrackingRecorder.transaction`."""
        return _Table(self, name)

    def max_tracking_id(self, application_name: str) -> int:
        """Returns the position of the named application (0 before any)."""
        with self._lock:
            return self._positions.get(application_name, 0)

    def reset(self) -> None:
        """Empties the tables and forgets the positions, so that a projection
        replays every notification into the view."""
        with self._lock:
            for data in self._tables.values():
                data.clear()
            self._positions.clear()

    def _begin(self) -> tuple[Any, Any]:
        self._lock.acquire()
        self._undo = [[]]
        return None, self

    def _commit(self, state: Any, positions: dict[str, tuple[int, int]]) -> None:
        try:
            recorded = self._positions
            for name, (first, _) in positions.items():
                if recorded.get(name, 0) >= first:
                    self._undo_changes(self._undo[0])
                    msg = (
                        f"Notification {first} of {name!r} was already processed "
                        f"into {self!r}, which is at {recorded[name]}; nothing was "
                        "recorded"
                    )
                    raise RecordConflictError(msg)
            for name, (_, last) in positions.items():
                recorded[name] = last
        finally:
            self._undo = []
            self._lock.release()

    def _rollback(self, state: Any, error: BaseException) -> None:
        try:
            self._undo_changes(self._undo[0])
        finally:
            self._undo = []
            self._lock.release()

    def _savepoint(self, state: Any, depth: int) -> None:
        self._undo.append([])

    def _release(self, state: Any, depth: int) -> None:
        changes = self._undo.pop()
        self._undo[-1].extend(changes)

    def _rollback_to(self, state: Any, depth: int, error: BaseException) -> None:
        self._undo_changes(self._undo.pop())

    def _undo_changes(self, changes: list[tuple[Any, ...]]) -> None:
        for data, key, old in reversed(changes):
            if old is _MISSING:
                del data[key]
            else:
                data[key] = old

    def _changes(self, table: str) -> list[tuple[Any, ...]]:
        """The undo log of the innermost transaction of this thread."""
        if getattr(self._open(), "transaction", None) is None:
            msg = (
                f"Table {table!r} of {self!r} can be changed only inside a "
                "transaction (with view.transaction(...):), so that the change "
                "commits with the positions"
            )
            raise TypeError(msg)
        return self._undo[-1]


class _Table(MutableMapping[Any, Any]):
    """One table of a :class:`POPOTrackingRecorder`."""

    __slots__ = ("_data", "_name", "_recorder")

    def __init__(self, recorder: POPOTrackingRecorder, name: str) -> None:
        self._recorder = recorder
        self._name = name
        with recorder._lock:
            self._data = recorder._tables.setdefault(name, {})

    def __repr__(self) -> str:
        return f"<table {self._name!r} of {self._recorder!r}>"

    def __getitem__(self, key: Any) -> Any:
        with self._recorder._lock:
            return self._data[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        with self._recorder._lock:
            changes = self._recorder._changes(self._name)
            data = self._data
            changes.append((data, key, data.get(key, _MISSING)))
            data[key] = value

    def __delitem__(self, key: Any) -> None:
        with self._recorder._lock:
            changes = self._recorder._changes(self._name)
            data = self._data
            old = data[key]
            changes.append((data, key, old))
            del data[key]

    def __iter__(self) -> Iterator[Any]:
        with self._recorder._lock:
            return iter(list(self._data))

    def __len__(self) -> int:
        with self._recorder._lock:
            return len(self._data)

    def __contains__(self, key: object) -> bool:
        with self._recorder._lock:
            return key in self._data
