"""Utilities shared by the library: topics, retrying, and parsing settings."""

from random import random

from eventsourcing.utils._retry import retry
from eventsourcing.utils._strtobool import strtobool
from eventsourcing.utils._topics import TopicError, get_topic, resolve_topic

__all__ = [
    "TopicError",
    "get_topic",
    "random",
    "resolve_topic",
    "retry",
    "strtobool",
]
