"""Utilities shared by the library: topics, retrying, and parsing settings.

The library logs under the logger ``eventsourcing`` (``eventsourcing.sqlite`` and
so on), which has a ``logging.NullHandler``, so nothing is printed unless the
application configures logging.
"""

import logging
from random import random
from typing import TYPE_CHECKING

from eventsourcing.utils._public import publish, version_getter
from eventsourcing.utils._retry import retry
from eventsourcing.utils._strtobool import strtobool
from eventsourcing.utils._topics import (
    ALLOWED_TOPIC_MODULES,
    TopicError,
    allow_topic_modules,
    get_topic,
    register_topic,
    resolve_stored_topic,
    resolve_topic,
)

__all__ = [
    "ALLOWED_TOPIC_MODULES",
    "TopicError",
    "allow_topic_modules",
    "get_topic",
    "publish",
    "random",
    "register_topic",
    "resolve_stored_topic",
    "resolve_topic",
    "retry",
    "strtobool",
    "version_getter",
]

logging.getLogger("eventsourcing").addHandler(logging.NullHandler())
publish(__name__, globals())
if TYPE_CHECKING:
    __version__: str
else:
    __getattr__ = version_getter("eventsourcing-domain")
