"""Reads a notification log in order, whether it is local or remote."""

from __future__ import annotations

from collections.abc import Iterator

from eventsourcing.application import NotificationLog
from eventsourcing.persistence import Notification


class NotificationLogReader:
    """Reads domain event notifications from a notification log.

    ``section_size`` is the number of notifications requested at a time.
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
        while section_id is not None:
            section = self.notification_log[section_id]
            for notification in section.items:
                # A log may hand back a section that begins before the request.
                if notification.id >= start:
                    yield notification
            section_id = section.next_id

    def select(self, *, start: int) -> Iterator[Notification]:
        """Yields the notifications from ID ``start`` onwards by selecting lists of
        at most ``section_size`` notifications until a list comes back short."""
        while True:
            notifications = self.notification_log.select(start, self.section_size)
            yield from notifications
            if len(notifications) < self.section_size:
                return
            start = notifications[-1].id + 1
