"""Reads a notification log in order, whether it is local or remote, and refuses
notification IDs that would move a follower past notifications it never saw."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from operator import lt

from eventsourcing.application import NotificationLog
from eventsourcing.persistence import Notification

MAX_NOTIFICATION_ID = 2**63 - 1


class NotificationLogError(ValueError):
    """Raised by :class:`NotificationLogReader` when a log returns notification IDs
    that do not strictly increase, that are lower than asked for, or that are larger
    than any notification ID can be: a follower that took them would skip the
    notifications it did not see, forever."""


class NotificationLogReader:
    """Reads domain event notifications from a notification log.

    ``section_size`` is the number of notifications requested at a time. Each
    section or selection is checked before any of its notifications is yielded,
    and refused with :class:`NotificationLogError` if its IDs are out of order.
    """

    def __init__(
        self, notification_log: NotificationLog, section_size: int = 10
    ) -> None:
        if section_size < 1:
            msg = f"Invalid section size {section_size!r}: it must be at least 1"
            raise ValueError(msg)
        self.notification_log = notification_log
        self.section_size = section_size

    def read(self, *, start: int) -> Iterator[Notification]:
        """Yields the notifications from ID ``start`` onwards by following the
        linked sections of the log (each section's ``next_id``)."""
        section_id: str | None = f"{start},{start + self.section_size - 1}"
        last: int | None = None
        while section_id is not None:
            section = self.notification_log[section_id]
            items = section.items
            request = f"section {section_id!r} (start {start})"
            if last is None:
                # A log may hand back a section that begins before the request:
                # until something is read, those notifications are skipped.
                self._check(items, None, "", request)
            else:
                self._check(items, last + 1, f"the ID after {last}, read last", request)
            for notification in items:
                if notification.id >= start:
                    yield notification
            if items and items[-1].id >= start:
                last = items[-1].id
            section_id = section.next_id

    def select(self, *, start: int) -> Iterator[Notification]:
        """Yields the notifications from ID ``start`` onwards by selecting lists of
        at most ``section_size`` notifications until a list comes back short."""
        while True:
            notifications = self.notification_log.select(start, self.section_size)
            self._check(notifications, start, "the start asked for", f"start {start}")
            yield from notifications
            if len(notifications) < self.section_size:
                return
            start = notifications[-1].id + 1

    def _check(
        self,
        notifications: Sequence[Notification],
        lowest: int | None,
        lowest_is: str,
        request: str,
    ) -> None:
        # The common case costs a few passes in C, so that reading stays fast.
        ids = [notification.id for notification in notifications]
        if ids and (
            ids[-1] > MAX_NOTIFICATION_ID
            or (lowest is not None and ids[0] < lowest)
            or not all(map(lt, ids, islice(ids, 1, None)))
        ):
            problem = _problem(ids, lowest, lowest_is)
            msg = (
                f"Notification log {self.notification_log!r} returned notification "
                f"IDs {_excerpt(ids)} for {request}: {problem}. None of them was "
                "processed, so that no position moves past a notification that was "
                "not processed; is the log's server genuine, and working?"
            )
            raise NotificationLogError(msg)


def _problem(ids: list[int], lowest: int | None, lowest_is: str) -> str:
    for previous, current in zip(ids, islice(ids, 1, None), strict=False):
        if current <= previous:
            return f"ID {current} comes after ID {previous}, but IDs must increase"
    if ids[-1] > MAX_NOTIFICATION_ID:
        return (
            f"ID {ids[-1]} is larger than any notification ID can be "
            f"({MAX_NOTIFICATION_ID})"
        )
    return f"ID {ids[0]} is lower than {lowest}, {lowest_is}"


def _excerpt(ids: list[int]) -> str:
    if len(ids) <= 12:
        return str(ids)
    return f"[{', '.join(map(str, ids[:6]))}, ..., {', '.join(map(str, ids[-3:]))}]"
