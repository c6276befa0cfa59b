"""``eventsourcing upgrade``: a store written by eventsourcing 9.1 (or before
checksums and bound ciphertexts) brought to the current formats and layout, under
the current cipher key, and verified."""

from __future__ import annotations

import argparse
from typing import Any

from eventsourcing.application import Application
from eventsourcing.cli._app import (
    add_application_arguments,
    event_fields,
    notifications,
    open_application,
)
from eventsourcing.cli._command import Command, CommandError, Output

__all__ = ["UpgradeCommand", "store_summary"]


def store_summary(app: Application[Any]) -> dict[str, Any]:
    """Every event (by notification ID) and snapshot of the application, decoded:
    what an upgrade must leave as it was."""
    events: dict[int, Any] = {}
    originators: set[Any] = set()
    for notification in notifications(app):
        domain_event = app.mapper.to_domain_event(notification)
        events[notification.id] = (
            notification.originator_id,
            notification.originator_version,
            notification.topic,
            event_fields(domain_event),
        )
        originators.add(notification.originator_id)
    snapshots: dict[Any, Any] = {}
    if app.snapshots is not None:
        for originator_id in originators:
            for stored in app.snapshots.recorder.select_events(originator_id):
                snapshot = app.mapper.to_domain_event(stored)
                snapshots[originator_id, stored.originator_version] = (
                    stored.topic,
                    event_fields(snapshot),
                )
    return {"events": events, "snapshots": snapshots}


class UpgradeCommand(Command):
    """``eventsourcing upgrade``."""

    help = (
        "write every event and snapshot of an application again in the current "
        "formats (checksums, bound ciphertexts) under the current cipher key "
        "(CIPHER_KEY; old keys in CIPHER_OLD_KEYS), converting a store laid out by "
        "eventsourcing 9.1, in one transaction, then verify it"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_application_arguments(parser)
        parser.add_argument(
            "--into",
            metavar="PATH",
            help="write the upgraded store here (a new SQLite file) and leave the "
            "original as it is; by default the store is upgraded in place, after a "
            "backup copy (SQLite) or in one transaction (PostgreSQL)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="only check that every record can be read and written again",
        )

    def run(self, args: argparse.Namespace, output: Output) -> int:
        with open_application(args) as app:
            before = store_summary(app)
            if args.dry_run:
                self._reseal_all(app)
                output.record(
                    {"application": app.name, "dry_run": True, **_counts(before)},
                    f"{app.name}: {_describe(before)} can be upgraded (nothing was "
                    "changed)",
                )
                return 0
            upgrade = app.factory.upgrade(app.mapper.reseal, into=args.into)
        with type(app)(env={**app.env, **upgrade.env}) as upgraded:
            after = store_summary(upgraded)
            legacy = upgraded.mapper.legacy_format
        if after != before or legacy:
            where = (
                f" The store as it was is in {upgrade.backup}."
                if upgrade.backup
                else ""
            )
            msg = (
                "The upgraded store does not read back as the store did before: "
                f"do not use it.{where}"
            )
            raise CommandError(msg)
        output.record(
            {
                "application": app.name,
                "events": upgrade.events,
                "snapshots": upgrade.snapshots,
                "tracking": upgrade.tracking,
                "changes": list(upgrade.changes),
                "backup": upgrade.backup,
                "into": args.into,
                "verified": True,
            },
            "\n".join(
                [
                    (
                        f"{app.name}: upgraded {upgrade.events} events and "
                        f"{upgrade.snapshots} snapshots ({upgrade.tracking} tracking "
                        "records kept); verified: same events, IDs and positions"
                    ),
                    *(f"  {change}" for change in upgrade.changes),
                    *(
                        [f"  the store as it was: {upgrade.backup}"]
                        if upgrade.backup
                        else []
                    ),
                    *([f"  the upgraded store: {args.into}"] if args.into else []),
                ]
            ),
        )
        return 0

    @staticmethod
    def _reseal_all(app: Application[Any]) -> None:
        for notification in notifications(app):
            app.mapper.reseal(notification)
        if app.snapshots is not None:
            for originator_id in {n.originator_id for n in notifications(app)}:
                for stored in app.snapshots.recorder.select_events(originator_id):
                    app.mapper.reseal(stored)


def _counts(summary: dict[str, Any]) -> dict[str, int]:
    return {"events": len(summary["events"]), "snapshots": len(summary["snapshots"])}


def _describe(summary: dict[str, Any]) -> str:
    counts = _counts(summary)
    return f"{counts['events']} events and {counts['snapshots']} snapshots"
