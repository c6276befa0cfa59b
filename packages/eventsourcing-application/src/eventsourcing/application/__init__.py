"""Event-sourced applications: an application object with a repository of
aggregates, a notification log, and optional snapshotting."""

from ._application import Application
from ._log import (
    DEFAULT_SECTION_SIZE,
    LocalNotificationLog,
    NotificationLog,
    Section,
    format_section_id,
    parse_section_id,
)
from ._repository import AggregateNotFound, Repository

__all__ = [
    "DEFAULT_SECTION_SIZE",
    "AggregateNotFound",
    "Application",
    "LocalNotificationLog",
    "NotificationLog",
    "Repository",
    "Section",
    "format_section_id",
    "parse_section_id",
]
