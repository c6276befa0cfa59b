"""Subscriptions: an application's domain events from a position onwards, each as
soon as it is committed, optionally only those of some topics."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Self

from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import ConfigurationError, Tracking
from eventsourcing.utils import get_topic

__all__ = ["DEFAULT_POLL_INTERVAL", "ApplicationSubscription", "topic_names"]

DEFAULT_POLL_INTERVAL = 0.1
SUBSCRIPTION_POLL_INTERVAL = "SUBSCRIPTION_POLL_INTERVAL"
DEFAULT_PAGE_SIZE = 100

Item = tuple[DomainEvent[Any], Tracking]


class ApplicationSubscription:
    """Iterates over the domain events of an application from a position onwards,
    each with its :class:`~eventsourcing.persistence.Tracking` (the application's
    name and the notification ID), blocking for the next one as soon as it is
    committed.

    ``gt`` is the notification ID to start after (``None``: from the start).
    ``topics``, event classes or their topics, selects the events of those
    classes only, filtered by the database, so that the state of other events is
    never read. Commits are seen at once through the wake-ups of the
    application's infrastructure factory (commits in this process by default,
    others where the backend notifies), and at the latest after
    ``poll_interval`` seconds (by default "SUBSCRIPTION_POLL_INTERVAL", else 0.1).

    Iteration ends after :meth:`stop` is called, from any thread; use the
    subscription as a context manager, whose end stops it and releases its
    wake-up.

    .. versionadded:: 9.1.0
    """

    def __init__(
        self,
        app: Application[Any],
        gt: int | None = None,
        topics: Iterable[str | type] = (),
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        poll_interval: float | None = None,
    ) -> None:
        if gt is not None and (type(gt) is not int or gt < 0):
            msg = (
                f"Invalid position gt={gt!r}: give the notification ID to start "
                "after (an integer from 0), or None to start from the beginning"
            )
            raise ValueError(msg)
        if type(page_size) is not int or page_size < 1:
            msg = f"Invalid page size {page_size!r}: it must be an integer from 1"
            raise ValueError(msg)
        self.app = app
        self.topics = topic_names(topics)
        self.page_size = page_size
        self.poll_interval = (
            _poll_interval(app) if poll_interval is None else poll_interval
        )
        if not (math.isfinite(self.poll_interval) and self.poll_interval > 0):
            msg = (
                f"Invalid poll interval {poll_interval!r}: give a positive number "
                "of seconds, such as 0.1"
            )
            raise ValueError(msg)
        self._name = app.name
        self._recorder = app.recorder
        self._to_domain_event = app.mapper.to_domain_event
        # Made before the first reading, so that no commit after it is missed.
        self._wakeup = app.factory.wakeup(app.recorder)
        self._position = gt or 0
        self._items: deque[Item] = deque()
        self._stopping = threading.Event()

    def __repr__(self) -> str:
        topics = f", topics={list(self.topics)!r}" if self.topics else ""
        return f"{type(self).__name__}({self._name!r}, gt={self._position}{topics})"

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Item:
        """Returns the next domain event and its tracking, waiting until one is
        committed; raises :class:`StopIteration` once stopped."""
        items = self._items
        while not items:
            if self._stopping.is_set():
                raise StopIteration
            page, _, caught_up = self.read_page()
            items.extend(page)
            if caught_up and not items:
                self.wait()
        return items.popleft()

    def stop(self) -> None:
        """Ends the iteration (from any thread): a waiting ``next()`` returns at
        once (or, with a backend's own wake-ups, within the poll interval)."""
        self._stopping.set()
        self._wakeup.interrupt()

    @property
    def is_stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopping.is_set()

    def close(self) -> None:
        """Stops the subscription and releases its wake-up."""
        self.stop()
        self._wakeup.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # Reading by pages, for projections.

    @property
    def position(self) -> int:
        """The notification ID up to which the log has been read (every event of
        the subscription's topics up to it has been returned by
        :meth:`read_page`, or buffered for iteration)."""
        return self._position

    def seek(self, position: int) -> None:
        """Reads on after the notification ID ``position`` (forgetting anything
        read but not yet returned by the iteration)."""
        self._items.clear()
        self._position = position

    def read_page(self) -> tuple[list[Item], int, bool]:
        """Reads the next page of events without waiting: returns them, the
        position it read up to (past the last event when events of other topics
        come after it), and whether the log has nothing more for now.

        The position can pass notifications that were not read, of other topics,
        so that a projection can record that it has seen them.
        """
        recorder = self._recorder
        topics = self.topics
        if topics:
            # Read first: every notification up to it is then committed and
            # visible, so a short page below has seen all of theirs.
            last_id = recorder.max_notification_id()
        notifications = recorder.select_notifications(
            self._position + 1, self.page_size, topics=topics
        )
        caught_up = len(notifications) < self.page_size
        name = self._name
        to_domain_event = self._to_domain_event
        page = [(to_domain_event(n), Tracking(name, n.id)) for n in notifications]
        position = notifications[-1].id if notifications else self._position
        if caught_up and topics:
            position = max(position, last_id)
        self._position = position
        return page, position, caught_up

    def wait(self, timeout: float | None = None) -> bool:
        """Waits until new notifications may have been committed (``True``), or
        for ``timeout`` seconds (by default the poll interval; ``False``), or
        until :meth:`stop` is called."""
        if self._stopping.is_set():
            return False
        return self._wakeup.wait(self.poll_interval if timeout is None else timeout)


def topic_names(topics: Iterable[str | type]) -> tuple[str, ...]:
    """The topics of the given event classes, or the given topics, in order and
    without repetitions."""
    if isinstance(topics, (str, type)):
        topics = [topics]
    names: dict[str, None] = {}
    for topic in topics:
        if isinstance(topic, type):
            names[get_topic(topic)] = None
        elif isinstance(topic, str) and ":" in topic:
            names[topic] = None
        else:
            msg = (
                f"Invalid topic {topic!r}: give domain event classes, or their "
                "topics ('module:QualifiedName')"
            )
            raise TypeError(msg)
    return tuple(names)


def _poll_interval(app: Application[Any]) -> float:
    value = app.factory.getenv(SUBSCRIPTION_POLL_INTERVAL)
    if not value:
        return DEFAULT_POLL_INTERVAL
    try:
        interval = float(value)
    except ValueError:
        interval = math.nan
    if not (math.isfinite(interval) and interval > 0):
        msg = (
            f"{SUBSCRIPTION_POLL_INTERVAL}={value!r} is not a positive number of "
            "seconds: set it to how often subscriptions look for notifications "
            f"committed by other processes, such as '0.5', or unset it for "
            f"{DEFAULT_POLL_INTERVAL}"
        )
        raise ConfigurationError(msg)
    return interval
