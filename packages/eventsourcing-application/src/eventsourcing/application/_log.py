"""Notification logs: an application's events in total order, in linked sections."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from eventsourcing.persistence import ApplicationRecorder, Notification

DEFAULT_SECTION_SIZE = 10


@dataclass(frozen=True)
class Section:
    """A section of a :class:`NotificationLog`.

    ``id`` is ``"first,last"``, the IDs of the first and last notifications in
    ``items`` (``None`` when there are none); ``next_id`` is the ID of the following
    section, set only when this section holds as many notifications as were requested.
    """

    id: str | None
    items: list[Notification]
    next_id: str | None

    def __init__(
        self, id: str | None, items: list[Notification], next_id: str | None
    ) -> None:
        # Written to __dict__ directly: the generated __init__ of a frozen
        # dataclass sets each field through object.__setattr__(), which is
        # slow, and reading a log is the hot path of every follower.
        fields = self.__dict__
        fields["id"] = id
        fields["items"] = items
        fields["next_id"] = next_id

    @property
    def section_id(self) -> str | None:
        """The section ID, ``id`` (the documentation uses both names)."""
        return self.id


class NotificationLog(ABC):
    """Abstract base class for notification logs."""

    @abstractmethod
    def __getitem__(self, section_id: str) -> Section:
        """Returns a :class:`Section` of the notification log."""

    @abstractmethod
    def select(self, start: int, limit: int) -> list[Notification]:
        """Returns up to ``limit`` notifications with IDs from ``start``, ascending."""


def format_section_id(first_id: int, last_id: int) -> str:
    """Returns the section ID for the given first and last notification IDs."""
    return f"{first_id},{last_id}"


def parse_section_id(section_id: str) -> tuple[int, int]:
    """Returns the first and last notification IDs named by a section ID."""
    parts = section_id.split(",") if isinstance(section_id, str) else []
    try:
        first_part, last_part = parts
        first, last = int(first_part), int(last_part)
    except ValueError:
        msg = (
            f"Invalid section ID {section_id!r}: expected two integers separated "
            'by a comma, such as "1,10"'
        )
        raise ValueError(msg) from None
    if last < first:
        msg = (
            f"Invalid section ID {section_id!r}: the last notification ID is lower "
            'than the first; use "first,last" with first <= last, such as "1,10"'
        )
        raise ValueError(msg)
    return first, last


class LocalNotificationLog(NotificationLog):
    """Presents the event notifications of an :class:`ApplicationRecorder` in sections.

    Sections are never larger than requested nor than ``section_size``.
    """

    DEFAULT_SECTION_SIZE = DEFAULT_SECTION_SIZE

    def __init__(
        self,
        recorder: ApplicationRecorder,
        section_size: int = DEFAULT_SECTION_SIZE,
    ) -> None:
        if section_size < 1:
            msg = f"Invalid section size {section_size!r}: it must be at least 1"
            raise ValueError(msg)
        self.recorder = recorder
        self.section_size = section_size

    def __getitem__(self, requested_section_id: str) -> Section:
        """Returns the section for the requested ``"first,last"`` section ID.

        The returned section's ID describes the notifications it actually holds,
        which can differ from the requested ID when fewer notifications exist, or
        when there are gaps in the sequence of notification IDs.
        """
        first, last = parse_section_id(requested_section_id)
        start = max(first, 1)
        limit = min(last - start + 1, self.section_size)
        if limit < 1:
            return Section(id=None, items=[], next_id=None)
        notifications = self.recorder.select_notifications(start, limit)
        if not notifications:
            return Section(id=None, items=[], next_id=None)
        last_id = notifications[-1].id
        next_id = None
        if len(notifications) == limit:
            next_id = f"{last_id + 1},{last_id + limit}"
        return Section(f"{notifications[0].id},{last_id}", notifications, next_id)

    def select(self, start: int, limit: int) -> list[Notification]:
        """Returns up to ``limit`` notifications with IDs from ``start``, ascending."""
        return self.recorder.select_notifications(start, limit)
