"""Where a worker reads a leader's notification log: straight from the leader's
database, configured as the leader is, or over HTTP when a setting gives the
log's URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import ConfigurationError

if TYPE_CHECKING:
    from eventsourcing.application import Application, NotificationLog
    from eventsourcing.persistence import Wakeup

    from ._definition import System

__all__ = ["LeaderSource", "log_token_setting", "log_url_setting", "open_leader"]


def log_url_setting(leader_name: str) -> str:
    """The variable that gives the URL of a leader's notification log."""
    return f"{leader_name.upper()}_NOTIFICATION_LOG_URL"


def log_token_setting(leader_name: str) -> str:
    """The variable that gives the token of a leader's notification log."""
    return f"{leader_name.upper()}_NOTIFICATION_LOG_TOKEN"


@dataclass
class LeaderSource:
    """A leader's notification log, and the leader application when the log is
    read from its database (``None`` over HTTP)."""

    name: str
    log: NotificationLog
    app: Application[Any] | None = None
    url: str | None = None

    def wakeup(self) -> Wakeup | None:
        """A wake-up for new notifications, made before the first read (none over
        HTTP, which is polled)."""
        if self.app is None:
            return None
        return self.app.factory.wakeup(self.app.recorder)

    def last_notification_id(self) -> int | None:
        """The leader's last notification ID (``None`` over HTTP: unknown)."""
        if self.app is None:
            return None
        return self.app.recorder.max_notification_id()

    def describe(self) -> str:
        return f"{self.name} at {self.url}" if self.url else f"{self.name}"

    def close(self) -> None:
        if self.app is not None:
            self.app.close()


def open_leader(
    system: System,
    name: str,
    env: Mapping[str, str] | None,
    settings: Mapping[str, str],
) -> LeaderSource:
    """The leader's log: over HTTP when ``settings`` (the follower's environment)
    give its URL, else from the leader application constructed with ``env``."""
    url = settings.get(log_url_setting(name))
    if not url:
        app = system.get_app_cls(name)(env=env)
        return LeaderSource(name, app.log, app=app)
    try:
        from eventsourcing.interface import (
            HTTPNotificationLogInterface,
            NotificationLogJSONClient,
        )
    except ImportError as error:  # pragma: no cover (installed with the tests)
        msg = (
            f"{log_url_setting(name)} is set, but following a log over HTTP needs "
            "eventsourcing-interface: install it (pip install "
            "'eventsourcing-system[http]'), or unset the variable to read the "
            "leader's database."
        )
        raise ConfigurationError(msg) from error
    token = settings.get(log_token_setting(name)) or None
    interface = HTTPNotificationLogInterface(url, token=token)
    return LeaderSource(name, NotificationLogJSONClient(interface), url=url)
