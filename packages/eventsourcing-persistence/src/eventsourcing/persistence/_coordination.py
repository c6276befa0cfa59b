"""What readers of notification logs that run apart need from the infrastructure:
wake-ups when new notifications are committed, and leases that say which of
several workers does a piece of work.

The factory supplies both (:meth:`InfrastructureFactory.wakeup`,
:meth:`InfrastructureFactory.leases`). The defaults work with any backend within
one process: a write wakes the readers of the same log in this process, and
leases are held in this process. Polling, at the reader's interval, is always the
guarantee: a reader that is not woken looks again when its wait times out. A
backend can do better (PostgreSQL notifies on commit, and its leases are the
database's own locks) by overriding those factory methods.
"""

from __future__ import annotations

import os
import socket
import threading
from abc import ABC, abstractmethod
from collections.abc import Hashable

__all__ = [
    "InProcessLeases",
    "InProcessWakeup",
    "Leases",
    "Wakeup",
    "holder_identity",
    "signal_commit",
]

_guard = threading.Lock()
# A log's wake-up key -> the condition its readers in this process wait on.
_conditions: dict[Hashable, threading.Condition] = {}
# A log's wake-up key -> a count of its commits, so a commit between two reads
# is not missed by a reader that waits after the second.
_commits: dict[Hashable, int] = {}


def signal_commit(key: Hashable) -> None:
    """Wake the readers in this process of the log ``key`` (a recorder calls it
    after each commit of new notifications)."""
    condition = _conditions.get(key)
    if condition is None:
        return
    with condition:
        _commits[key] = _commits.get(key, 0) + 1
        condition.notify_all()


class Wakeup(ABC):
    """Wakes a reader of one notification log when new notifications may have
    been committed to it.

    A reader reads what is new, then calls :meth:`wait`; whatever :meth:`wait`
    returns, it reads again afterwards, so a lost wake-up delays it by at most
    the timeout and never stops it.
    """

    @abstractmethod
    def wait(self, timeout: float) -> bool:
        """Block until new notifications may have been committed since the last
        call (``True``), or until ``timeout`` seconds have passed (``False``)."""

    def interrupt(self) -> None:  # noqa: B027 (optional: waits end at their timeout)
        """Make a :meth:`wait` in another thread return now, so that a reader told
        to stop need not wait for its timeout (by default it does).

        .. versionadded:: 9.1.0
        """

    def close(self) -> None:  # noqa: B027 (optional: a wake-up may hold nothing)
        """Stop listening: release what the wake-up holds."""


class InProcessWakeup(Wakeup):
    """Woken by commits to the log made in this process (by any recorder of the
    same log); commits made by other processes are seen when the wait times out."""

    def __init__(self, key: Hashable) -> None:
        self.key = key
        with _guard:
            self._condition = _conditions.setdefault(key, threading.Condition())
        with self._condition:
            self._seen = _commits.get(key, 0)
        self._interrupted = False

    def wait(self, timeout: float) -> bool:
        with self._condition:
            woken = self._condition.wait_for(
                lambda: self._interrupted or _commits.get(self.key, 0) != self._seen,
                timeout,
            )
            self._seen = _commits.get(self.key, 0)
            self._interrupted = False
        return woken

    def interrupt(self) -> None:
        with self._condition:
            self._interrupted = True
            self._condition.notify_all()


class Leases(ABC):
    """Exclusive, named leases: at any moment at most one holder (a worker) holds
    a lease of a name, across every process that uses the same leases.

    A holder that stops (or loses its connection) loses its leases, so that
    others can take them.
    """

    @abstractmethod
    def try_acquire(self, name: str) -> bool:
        """Take the lease of ``name`` if no one holds it; tell whether it is held
        by this holder now (taking one already held is a success)."""

    @abstractmethod
    def release(self, name: str) -> None:
        """Give up the lease of ``name`` (nothing if it is not held)."""

    @abstractmethod
    def held(self) -> set[str]:
        """The names of the leases this holder still holds (a lease lost with its
        connection is not among them)."""

    def holder(self, name: str) -> str | None:
        """Who holds the lease of ``name``, as ``"host:pid"``, where the backend
        can tell (``None``: no one, or the backend cannot tell).

        .. versionadded:: 9.1.0
        """
        return None

    def close(self) -> None:
        """Give up every lease."""
        for name in self.held():
            self.release(name)


def holder_identity() -> str:
    """This process as a lease holder: ``"host:pid"``."""
    return f"{socket.gethostname()}:{os.getpid()}"


# Leases held in this process: (scope, name) -> the holder.
_held: dict[tuple[Hashable, str], InProcessLeases] = {}


class InProcessLeases(Leases):
    """Leases held in this process only: holders in other processes do not see
    them (fine for the in-memory backend, whose data is in one process anyway)."""

    def __init__(self, scope: Hashable = None) -> None:
        self.scope = scope

    def try_acquire(self, name: str) -> bool:
        with _guard:
            holder = _held.setdefault((self.scope, name), self)
        return holder is self

    def release(self, name: str) -> None:
        with _guard:
            if _held.get((self.scope, name)) is self:
                del _held[self.scope, name]

    def held(self) -> set[str]:
        with _guard:
            return {
                name
                for (scope, name), holder in _held.items()
                if holder is self and scope == self.scope
            }

    def holder(self, name: str) -> str | None:
        with _guard:
            held = (self.scope, name) in _held
        return holder_identity() if held else None
