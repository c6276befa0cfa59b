"""Tracking recorders: how far a reader has processed the notification logs of
applications, recorded in the same transactions as what the reader made of them.

A *position* is, for one application, the ID of the last notification of its log
that was processed (0 before any). A view (a read model that a projection keeps)
is a tracking recorder whose transactions also change tables of its own, so that
a view is never ahead of nor behind its positions.
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from contextlib import AbstractContextManager
from time import monotonic
from types import TracebackType
from typing import Any, ClassVar

from eventsourcing.persistence import _coordination
from eventsourcing.persistence._coordination import InProcessWakeup
from eventsourcing.persistence._errors import InternalError
from eventsourcing.persistence._recorders import Recorder
from eventsourcing.persistence._records import Tracking

__all__ = ["NestedTransactionError", "TrackingRecorder", "WaitInterruptedError"]

# Application name -> the first and the last notification ID that a transaction
# processed from its log.
_Positions = dict[str, tuple[int, int]]


class NestedTransactionError(InternalError):
    """Raised at the end of a tracking recorder's transaction opened without
    savepoints when a nested transaction raised and its error was caught: the
    whole transaction was rolled back, since the nested one's changes could not
    be undone alone.

    .. versionadded:: 9.1.0
    """


class WaitInterruptedError(Exception):
    """Raised by :meth:`TrackingRecorder.wait` when its ``interrupt`` event is set
    before the notification was processed.

    .. versionadded:: 9.1.0
    """


class TrackingRecorder(Recorder):
    """Abstract base class of tracking recorders, which record positions in the
    notification logs of applications.

    :meth:`transaction` records positions atomically with what its block does;
    :meth:`wait` blocks until a notification has been processed, so that a caller
    can read its own writes from a view. A backend implements
    :meth:`max_tracking_id` and the transaction hooks (``_begin``, ``_commit``,
    ``_rollback`` and, where nested blocks can be undone, the savepoint hooks).

    .. versionadded:: 9.1.0
    """

    wait_interval: ClassVar[float] = 0.1
    """The longest pause, in seconds, of :meth:`wait` between two readings of a
    position (a commit by a recorder of the same positions in this process ends a
    pause at once; commits of other processes are seen at the next reading)."""

    @abstractmethod
    def max_tracking_id(self, application_name: str) -> int:
        """Returns the position of the named application: the ID of the last of
        its notifications that was processed (0 when none was)."""

    def has_tracking_id(self, application_name: str, notification_id: int) -> bool:
        """Tells whether the notification of the named application has been
        processed (or passed over, being of no interest)."""
        return self.max_tracking_id(application_name) >= notification_id

    def insert_tracking(self, tracking: Tracking) -> None:
        """Records that the notification ``tracking`` names was processed.

        Raises :class:`~eventsourcing.persistence.RecordConflictError`, recording
        nothing, when the position of its application is already there or later.
        """
        with self.transaction(tracking):
            pass

    def transaction(
        self, *trackings: Tracking, savepoints: bool = True
    ) -> AbstractContextManager[Any]:
        """Returns a context manager for a transaction that records the positions
        of ``trackings`` with whatever its block does; the block gets what the
        backend gives to run statements with (a cursor, or nothing).

        The positions move to the last notification of each application, and the
        transaction fails with
        :class:`~eventsourcing.persistence.RecordConflictError` (rolled back) if
        any of them was processed before: a position already at or after the
        first of them. A block that raises rolls everything back. A transaction
        opened inside another, in the same thread, joins it: what it records
        commits with the outer one, and if its block raises, a savepoint undoes
        its own changes only (where the backend can undo them). Without
        ``savepoints`` (faster) nested blocks make none, and if one raises, the
        whole transaction is rolled back: at its end, if the error was caught,
        with :class:`NestedTransactionError`.
        """
        if not trackings:
            local = self.__dict__.get("_open_transaction")
            transaction: _Open | None = getattr(local, "transaction", None)
            if transaction is not None and not transaction.savepoints:
                # Nothing to record and nothing to undo alone: it simply joins.
                return transaction
        positions: _Positions = {}
        for tracking in trackings:
            _add(positions, tracking)
        return _Transaction(self, positions, savepoints)

    def wait(
        self,
        application_name: str,
        notification_id: int,
        timeout: float = 1.0,
        interrupt: threading.Event | None = None,
    ) -> None:
        """Blocks until the notification of the named application has been
        processed: returns as soon as the position reaches ``notification_id``.

        Raises :class:`TimeoutError` when it has not within ``timeout`` seconds,
        and :class:`WaitInterruptedError` when ``interrupt`` is set first. Read
        your own writes from a view by waiting for the notification ID of what was
        saved (``app.save(...)[-1].notification.id``).
        """
        # Made before the first reading, so that a commit after it is not missed.
        wakeup = InProcessWakeup(self.wakeup_key())
        deadline = monotonic() + timeout
        pause = 0.001
        while True:
            position = self.max_tracking_id(application_name)
            if position >= notification_id:
                return
            if interrupt is not None and interrupt.is_set():
                msg = (
                    f"Stopped waiting for {self!r} to process notification "
                    f"{notification_id} of {application_name!r} (it has processed "
                    f"up to {position}): interrupted"
                )
                raise WaitInterruptedError(msg)
            remaining = deadline - monotonic()
            if remaining <= 0:
                msg = (
                    f"Timed out after {timeout} s waiting for {self!r} to process "
                    f"notification {notification_id} of {application_name!r}: it has "
                    f"processed up to notification {position}. Is its projection "
                    f"running, and does it read the log of {application_name!r}?"
                )
                raise TimeoutError(msg)
            wakeup.wait(min(pause, remaining))
            # Quick to see a commit of another process at first, then polling less.
            pause = min(pause * 2, self.wait_interval)

    # The backend's transactions.

    @abstractmethod
    def _begin(self) -> tuple[Any, Any]:
        """Starts a transaction; returns its state (given to the other hooks) and
        what the block of :meth:`transaction` gets."""

    @abstractmethod
    def _commit(self, state: Any, positions: _Positions) -> None:
        """Records the positions (each application's moves to its last ID) and
        commits; if a recorded position is at or after the first ID, rolls back
        and raises :class:`~eventsourcing.persistence.RecordConflictError`."""

    @abstractmethod
    def _rollback(self, state: Any, error: BaseException) -> None:
        """Rolls the transaction back after its block raised ``error`` (a backend
        may raise the persistence error that stands for a driver's error)."""

    def _savepoint(self, state: Any, depth: int) -> None:
        """Marks where a nested block begins (``depth`` 1 for the first level), so
        that its changes can be undone alone. Nothing by default: a backend whose
        transactions hold nothing but positions has nothing to undo."""

    def _release(self, state: Any, depth: int) -> None:
        """Keeps the changes of a nested block that ended well."""

    def _rollback_to(self, state: Any, depth: int, error: BaseException) -> None:
        """Undoes the changes of a nested block that raised ``error`` (a backend
        may raise the persistence error that stands for a driver's error)."""

    def _open(self) -> threading.local:
        """The transaction this thread has open on this recorder, if any."""
        local: threading.local | None = self.__dict__.get("_open_transaction")
        if local is None:
            local = self.__dict__.setdefault("_open_transaction", threading.local())
        return local


class _Open:
    """The transaction a thread has open on a recorder."""

    __slots__ = ("cursor", "failed", "frames", "savepoints", "state")

    def __init__(self, state: Any, cursor: Any, frame: _Positions, savepoints: bool):
        self.state = state
        self.cursor = cursor
        # The positions of each level of nesting (the outermost first).
        self.frames = [frame]
        self.savepoints = savepoints
        # The first error of a nested block, when there are no savepoints.
        self.failed: BaseException | None = None

    # A nested block that records nothing, without savepoints, joins the open
    # transaction as this, the cheapest of context managers.

    def __enter__(self) -> Any:
        return self.cursor

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and self.failed is None:
            self.failed = exc


class _Transaction:
    """The context manager of :meth:`TrackingRecorder.transaction`.

    A class rather than a ``@contextmanager`` generator, which costs more: a
    projection opens one for each page of notifications it processes, and a
    view for each change it makes.
    """

    __slots__ = ("_positions", "_recorder", "_savepoints")

    def __init__(
        self, recorder: TrackingRecorder, positions: _Positions, savepoints: bool
    ) -> None:
        self._recorder = recorder
        self._positions = positions
        self._savepoints = savepoints

    def __enter__(self) -> Any:
        recorder = self._recorder
        local = recorder._open()
        transaction: _Open | None = getattr(local, "transaction", None)
        if transaction is not None:
            if transaction.savepoints:
                recorder._savepoint(transaction.state, len(transaction.frames))
            transaction.frames.append(self._positions)
            return transaction.cursor
        state, cursor = recorder._begin()
        local.transaction = _Open(state, cursor, self._positions, self._savepoints)
        return cursor

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        recorder = self._recorder
        local = recorder._open()
        transaction: _Open = local.transaction
        frames = transaction.frames
        positions = frames.pop()
        if frames:
            if exc is None:
                if transaction.savepoints:
                    recorder._release(transaction.state, len(frames))
                for name, (first, last) in positions.items():
                    _add(frames[-1], Tracking(name, first))
                    _add(frames[-1], Tracking(name, last))
            elif transaction.savepoints:
                recorder._rollback_to(transaction.state, len(frames), exc)
            else:
                transaction.__exit__(exc_type, exc, tb)  # keeps the first error
            return
        local.transaction = None
        state = transaction.state
        if exc is not None:
            recorder._rollback(state, exc)
            return
        if transaction.failed is not None:
            msg = (
                f"A nested transaction of {recorder!r} raised "
                f"{transaction.failed!r}, which was caught; without savepoints its "
                "changes cannot be undone alone, so the whole transaction was "
                "rolled back (open it with savepoints=True)"
            )
            error = NestedTransactionError(msg)
            recorder._rollback(state, error)
            raise error from transaction.failed
        recorder._commit(state, positions)
        if positions:
            _coordination.signal_commit(recorder.wakeup_key())


def _add(positions: _Positions, tracking: Tracking) -> None:
    if not isinstance(tracking, Tracking):
        msg = (
            f"A tracking recorder records Tracking objects, not {tracking!r:.100}: "
            "give Tracking(application_name, notification_id)"
        )
        raise TypeError(msg)
    name, notification_id = tracking.application_name, tracking.notification_id
    if type(notification_id) is not int or notification_id < 1:
        msg = (
            f"Invalid notification ID {notification_id!r} of {name!r}: notification "
            "IDs are integers from 1"
        )
        raise ValueError(msg)
    known = positions.get(name)
    if known is None:
        positions[name] = (notification_id, notification_id)
    else:
        first, last = known
        positions[name] = (min(first, notification_id), max(last, notification_id))
