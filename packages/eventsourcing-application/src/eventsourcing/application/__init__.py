"""Event-sourced applications: an application object with a repository of
aggregates, a notification log, and optional snapshotting."""

from typing import TYPE_CHECKING

from eventsourcing.utils import publish, version_getter

from ._application import Application
from ._log import (
    DEFAULT_SECTION_SIZE,
    LocalNotificationLog,
    NotificationLog,
    Section,
    format_section_id,
    parse_section_id,
)
from ._process_event import ProcessEvent
from ._repository import AggregateNotFound, Repository

__all__ = [
    "DEFAULT_SECTION_SIZE",
    "AggregateNotFound",
    "Application",
    "LocalNotificationLog",
    "NotificationLog",
    "ProcessEvent",
    "Repository",
    "Section",
    "format_section_id",
    "parse_section_id",
]

publish(__name__, globals())
if TYPE_CHECKING:
    __version__: str
else:
    __getattr__ = version_getter("eventsourcing-application")
