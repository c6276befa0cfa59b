"""Notification logs serialised as JSON, so that a follower can read the log of an
application in another process through any transport that carries text."""

from __future__ import annotations

import json
import reprlib
from abc import ABC, abstractmethod
from base64 import b64decode, b64encode
from binascii import Error as BinasciiError
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.application import Application, NotificationLog, Section
from eventsourcing.persistence import Notification

TApplication = TypeVar("TApplication", bound=Application)

# Excerpts of bad input in messages stay short, and never recurse deeply into
# nested input (which repr() would).
_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxdict = _REPR.maxlist = 8
_REPR.maxstring = _REPR.maxother = 80


def _excerpt(value: Any) -> str:
    return _REPR.repr(value)[:200]


class NotificationLogInterface(ABC):
    """Abstract base class for obtaining serialised sections of a notification log."""

    @abstractmethod
    def get_log_section(self, section_id: str) -> str:
        """Returns a serialised :class:`~eventsourcing.application.Section` of a
        notification log."""

    @abstractmethod
    def get_notifications(self, start: int, limit: int) -> str:
        """Returns a serialised list of
        :class:`~eventsourcing.persistence.Notification` objects."""


def notification_to_dict(notification: Notification) -> dict[str, Any]:
    """Returns a JSON-ready dict for a notification; the state is base64-encoded
    exactly as stored (so still compressed and encrypted if the app does that)."""
    return {
        "id": notification.id,
        "originator_id": str(notification.originator_id),
        "originator_version": notification.originator_version,
        "topic": notification.topic,
        "state": b64encode(notification.state).decode("ascii"),
    }


def notification_from_dict(data: Any) -> Notification:
    """Returns the notification described by a dict made by
    :func:`notification_to_dict`, or raises :class:`ValueError`."""
    try:
        notification = Notification(
            id=_int(data["id"]),
            originator_id=UUID(data["originator_id"]),
            originator_version=_int(data["originator_version"]),
            topic=_str(data["topic"]),
            state=b64decode(data["state"], validate=True),
        )
    except (KeyError, TypeError, ValueError, AttributeError, BinasciiError) as error:
        msg = (
            f"Invalid notification in notification log JSON: {_excerpt(data)} "
            f"({type(error).__name__}: {error}). Expected an object with id, "
            "originator_id, originator_version, topic and base64 state"
        )
        raise ValueError(msg) from error
    return notification


def _int(value: Any) -> int:
    if type(value) is not int:
        msg = f"expected an integer, got {_excerpt(value)}"
        raise TypeError(msg)
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        msg = f"expected a string, got {_excerpt(value)}"
        raise TypeError(msg)
    return value


def _optional_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError as error:
        msg = (
            f"Invalid notification log JSON: {text[:100]!r}... is nested too "
            "deeply to be a notification log"
        )
        raise ValueError(msg) from error
    except ValueError as error:
        msg = f"Invalid notification log JSON: {text[:200]!r} ({error})"
        raise ValueError(msg) from error


class NotificationLogJSONService(NotificationLogInterface, Generic[TApplication]):
    """Presents the sections and selections of an application's notification log
    as JSON."""

    def __init__(self, app: TApplication) -> None:
        """Initialises the service with the given application."""
        self.app = app

    def get_log_section(self, section_id: str) -> str:
        """Returns the JSON of the requested section of the application's log.

        Raises :class:`ValueError` for a malformed section ID.
        """
        section = self.app.log[section_id]
        return json.dumps(
            {
                "id": section.id,
                "items": [notification_to_dict(n) for n in section.items],
                "next_id": section.next_id,
            }
        )

    def get_notifications(self, start: int, limit: int) -> str:
        """Returns the JSON list of up to ``limit`` notifications from ID ``start``.

        Raises :class:`ValueError` unless ``start`` and ``limit`` are at least 1.
        """
        for name, value in (("start", start), ("limit", limit)):
            if type(value) is not int or value < 1:
                msg = f"Invalid {name} {value!r}: it must be an integer of at least 1"
                raise ValueError(msg)
        notifications = self.app.log.select(start, limit)
        return json.dumps([notification_to_dict(n) for n in notifications])


class NotificationLogJSONClient(NotificationLog):
    """A notification log that presents the deserialised sections and selections
    obtained from a :class:`NotificationLogInterface`; a follower can follow it."""

    def __init__(self, interface: NotificationLogInterface) -> None:
        """Initialises the log with the given interface."""
        self.interface = interface

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.interface!r})"

    def __getitem__(self, section_id: str) -> Section:
        """Returns a :class:`~eventsourcing.application.Section` of the log."""
        data = _loads(self.interface.get_log_section(section_id))
        try:
            return Section(
                id=_optional_str(data["id"]),
                items=[notification_from_dict(item) for item in data["items"]],
                next_id=_optional_str(data["next_id"]),
            )
        except (KeyError, TypeError) as error:
            msg = (
                f"Invalid notification log section JSON: {_excerpt(data)}. Expected "
                "an object with id, items and next_id"
            )
            raise ValueError(msg) from error

    def select(self, start: int, limit: int) -> list[Notification]:
        """Returns up to ``limit`` notifications with IDs from ``start``."""
        data = _loads(self.interface.get_notifications(start, limit))
        if not isinstance(data, list):
            msg = f"Invalid notifications JSON: {_excerpt(data)}. Expected a list"
            raise ValueError(msg)
        return [notification_from_dict(item) for item in data]
