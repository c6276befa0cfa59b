"""Interfaces to notification logs: JSON services and clients, and an HTTP
transport, so that followers can process the events of applications in other
processes.

Exceptions: :class:`HTTPNotificationLogError` (a failed request); malformed
section IDs, parameters or JSON raise :class:`ValueError`.
"""

from typing import TYPE_CHECKING

from eventsourcing.utils import publish, version_getter

from ._http import (
    HTTPNotificationLogError,
    HTTPNotificationLogInterface,
    NotificationLogWSGIApp,
    ThreadingWSGIServer,
    make_notification_log_server,
)
from ._json import (
    NotificationLogInterface,
    NotificationLogJSONClient,
    NotificationLogJSONService,
    notification_from_dict,
    notification_to_dict,
)

__all__ = [
    "HTTPNotificationLogError",
    "HTTPNotificationLogInterface",
    "NotificationLogInterface",
    "NotificationLogJSONClient",
    "NotificationLogJSONService",
    "NotificationLogWSGIApp",
    "ThreadingWSGIServer",
    "make_notification_log_server",
    "notification_from_dict",
    "notification_to_dict",
]

publish(__name__, globals())
if TYPE_CHECKING:
    __version__: str
else:
    __getattr__ = version_getter("eventsourcing-interface")
