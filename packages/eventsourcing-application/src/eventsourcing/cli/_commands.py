"""The commands the application distribution contributes: ``log``, ``show`` and
``verify``."""

from __future__ import annotations

import argparse
import time
from typing import Any

from eventsourcing.cli._app import (
    add_application_arguments,
    event_fields,
    notifications,
    open_application,
    parse_id,
)
from eventsourcing.cli._command import Command, CommandError, Output
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.utils import get_topic

__all__ = ["LogCommand", "ShowCommand", "VerifyCommand"]


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


class LogCommand(Command):
    """``eventsourcing log``: an application's notification log, decoded."""

    help = "print (or follow) an application's notification log, decoded"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_application_arguments(parser)
        parser.add_argument("--start", type=int, default=1, help="first ID (1)")
        parser.add_argument("--limit", type=int, help="at most this many")
        parser.add_argument(
            "--topic",
            action="append",
            default=[],
            help="only events of this topic, or ending with it (repeatable)",
        )
        parser.add_argument("--originator", help="only events of this aggregate ID")
        parser.add_argument(
            "--follow", action="store_true", help="then wait for new ones (Ctrl-C)"
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=0.5,
            help="seconds between looks for new events when following (0.5)",
        )

    def run(self, args: argparse.Namespace, output: Output) -> int:
        with open_application(args) as app:
            originator = parse_id(args.originator) if args.originator else None
            shown = 0
            start = args.start
            while True:
                for notification in notifications(app, start):
                    start = notification.id + 1
                    if not self._wanted(notification, args, originator):
                        continue
                    self._write(app, notification, output)
                    shown += 1
                    if args.limit is not None and shown >= args.limit:
                        return 0
                if not args.follow:
                    output.message(f"({shown} shown)")
                    return 0
                time.sleep(args.interval)

    @staticmethod
    def _wanted(
        notification: Notification, args: argparse.Namespace, originator: Any
    ) -> bool:
        if originator is not None and notification.originator_id != originator:
            return False
        return not args.topic or any(
            notification.topic == topic or notification.topic.endswith(topic)
            for topic in args.topic
        )

    @staticmethod
    def _write(app: Any, notification: Notification, output: Output) -> None:
        record: dict[str, Any] = {
            "id": notification.id,
            "originator_id": str(notification.originator_id),
            "originator_version": notification.originator_version,
            "topic": notification.topic,
        }
        try:
            fields = event_fields(app.mapper.to_domain_event(notification))
        except ValueError as error:
            record["error"] = str(error)
            text = f"<unreadable: {error}>"
        else:
            record["state"] = fields
            text = ", ".join(f"{k}={_short(v)}" for k, v in fields.items())
        output.record(
            record,
            f"#{notification.id} {notification.originator_id} "
            f"v{notification.originator_version} {notification.topic}  {text}",
        )


class ShowCommand(Command):
    """``eventsourcing show``: an aggregate's events, and its state at a version."""

    help = "print an aggregate's events and its state at a version"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_application_arguments(parser)
        parser.add_argument("id", help="the aggregate's ID")
        parser.add_argument("--version", type=int, help="its state at this version")

    def run(self, args: argparse.Namespace, output: Output) -> int:
        aggregate_id = parse_id(args.id)
        with open_application(args) as app:
            events = list(app.events.get(aggregate_id, lte=args.version))
            if not events:
                at = f" at version {args.version}" if args.version else ""
                msg = f"no events of aggregate {aggregate_id}{at} in {app.name}"
                raise CommandError(msg)
            programs = output.json_lines
            output.table(
                f"Events of {aggregate_id}",
                ["version", "topic" if programs else "event", "state"],
                (
                    [
                        e.originator_version,
                        get_topic(type(e)) if programs else type(e).__qualname__,
                        event_fields(e) if programs else _fields_text(e),
                    ]
                    for e in events
                ),
            )
            aggregate = app.repository.get(aggregate_id, version=args.version)
            state = {
                name.lstrip("_"): value
                for name, value in vars(aggregate).items()
                if name != "_pending_events"
            }
            output.record(
                {"aggregate": state, "topic": type(aggregate).__qualname__},
                f"{type(aggregate).__qualname__} at version {aggregate.version}: "
                + ", ".join(f"{k}={_short(v)}" for k, v in state.items()),
            )
        return 0


def _fields_text(domain_event: Any) -> str:
    return ", ".join(
        f"{k}={_short(v, 40)}" for k, v in event_fields(domain_event).items()
    )


class VerifyCommand(Command):
    """``eventsourcing verify``: read every record of a store, changing nothing."""

    help = (
        "check that every event and snapshot of an application decrypts, "
        "decompresses, verifies and decodes (changes nothing)"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_application_arguments(parser)

    def run(self, args: argparse.Namespace, output: Output) -> int:
        with open_application(args) as app:
            checked = bad = 0
            first_bad: dict[str, Any] | None = None
            originators: set[Any] = set()
            last_id = 0
            for notification in notifications(app):
                if notification.id <= last_id:
                    msg = (
                        f"the notification log is out of order: {notification.id} "
                        f"after {last_id}"
                    )
                    raise CommandError(msg)
                last_id = notification.id
                originators.add(notification.originator_id)
                checked, bad, first_bad = self._check(
                    app, ("event", notification), checked, bad, first_bad
                )
            if app.snapshots is not None:
                for originator_id in sorted(originators, key=str):
                    for stored in app.snapshots.recorder.select_events(originator_id):
                        checked, bad, first_bad = self._check(
                            app, ("snapshot", stored), checked, bad, first_bad
                        )
            summary = {"application": app.name, "checked": checked, "bad": bad}
            if first_bad is not None:
                summary["first_bad"] = first_bad
            output.record(
                summary,
                f"{app.name}: {checked} records checked, {bad} bad"
                + (
                    f"; the first: {first_bad['kind']} {first_bad['originator_id']} "
                    f"v{first_bad['originator_version']}: {first_bad['error']}"
                    if first_bad
                    else ""
                ),
            )
            return 1 if bad else 0

    @staticmethod
    def _check(
        app: Any,
        record: tuple[str, StoredEvent],
        checked: int,
        bad: int,
        first_bad: dict[str, Any] | None,
    ) -> tuple[int, int, dict[str, Any] | None]:
        kind, stored = record
        try:
            app.mapper.to_domain_event(stored)
        except ValueError as error:
            bad += 1
            if first_bad is None:
                first_bad = {
                    "kind": kind,
                    "originator_id": str(stored.originator_id),
                    "originator_version": stored.originator_version,
                    "topic": stored.topic,
                    "error": str(error),
                }
        return checked + 1, bad, first_bad
