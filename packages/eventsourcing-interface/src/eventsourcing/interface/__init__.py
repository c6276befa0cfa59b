"""Interfaces to notification logs: JSON services and clients, and an HTTP
transport, so that followers can process the events of applications in other
processes.

Exceptions: :class:`HTTPNotificationLogError` (a failed request: an error status,
no server, a response later than the timeout or larger than the cap, a redirect
to another origin); malformed section IDs, parameters, settings or JSON raise
:class:`ValueError`. Warnings about tokens and exposed servers go to the
``eventsourcing.interface`` logger.
"""

from typing import TYPE_CHECKING

from eventsourcing.utils import publish, version_getter

from ._client import HTTPNotificationLogError, HTTPNotificationLogInterface
from ._json import (
    NotificationLogInterface,
    NotificationLogJSONClient,
    NotificationLogJSONService,
    notification_from_dict,
    notification_to_dict,
)
from ._server import ThreadingWSGIServer, make_notification_log_server
from ._wsgi import NotificationLogWSGIApp

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
