"""Opening the application a command is about, from the command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.cli._command import CommandError
from eventsourcing.persistence import Notification
from eventsourcing.utils import allow_topic_modules, resolve_topic

__all__ = [
    "add_application_arguments",
    "event_fields",
    "notifications",
    "open_application",
]


def add_application_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that say which application's store to open, and how."""
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--app",
        metavar="TOPIC",
        help="the application class, as a topic such as 'bank.application:Bank' "
        "(its module is imported, from the current folder too)",
    )
    which.add_argument(
        "--name",
        help="the application's name, to open its store without its class (then "
        "--allow-module says where the event classes are)",
    )
    parser.add_argument(
        "--env",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="a setting, as in the environment (repeatable), such as "
        "INFRASTRUCTURE_FACTORY=sqlite; the environment is read as well",
    )
    parser.add_argument(
        "--allow-module",
        metavar="MODULE",
        action="append",
        default=[],
        help="a module (or package) whose classes stored topics may name and load "
        "(repeatable; see ALLOWED_TOPIC_MODULES)",
    )


def open_application(args: argparse.Namespace) -> Application[Any]:
    """Construct the application that ``--app`` or ``--name`` names, with the
    settings of the environment and of ``--env``."""
    env: dict[str, str] = {}
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            msg = f"--env takes NAME=VALUE, not {item!r}"
            raise CommandError(msg, status=2)
        env[name] = value
    if args.allow_module:
        allow_topic_modules(*args.allow_module)
    if args.app:
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        app_class = resolve_topic(args.app)
        if not (isinstance(app_class, type) and issubclass(app_class, Application)):
            msg = f"--app {args.app!r} is {app_class!r}, not an application class"
            raise CommandError(msg, status=2)
    else:
        app_class = type(args.name, (Application,), {"name": args.name})
    app: Application[Any] = app_class(env=env)
    return app


def notifications(
    app: Application[Any], start: int = 1, batch_size: int = 500
) -> Iterator[Notification]:
    """The application's notifications from ``start`` onwards, in order."""
    while True:
        batch = app.recorder.select_notifications(start, batch_size)
        yield from batch
        if len(batch) < batch_size:
            return
        start = batch[-1].id + 1


def event_fields(domain_event: Any) -> dict[str, Any]:
    """The attributes of a domain event, without its originator ID and version."""
    return {
        name: value
        for name, value in vars(domain_event).items()
        if name not in ("originator_id", "originator_version")
    }


def parse_id(text: str) -> UUID:
    """An aggregate ID given on the command line."""
    try:
        return UUID(text)
    except ValueError:
        msg = f"{text!r} is not an aggregate ID (a UUID)"
        raise CommandError(msg, status=2) from None
